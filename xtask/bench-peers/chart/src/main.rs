//! `chart <results.tsv> <out.png>`: a grouped bar chart of req/s per endpoint
//! per server.
//!
//! Input lines: `endpoint<TAB>server<TAB>req_per_s`. Text is drawn with
//! ab_glyph from DejaVu Sans (`fonts-dejavu-core`), or from the TTF named by
//! `CHART_FONT`.

use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

const DEFAULT_FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
const PALETTE: [RGBColor; 8] = [
    RGBColor(230, 97, 1),
    RGBColor(94, 60, 153),
    RGBColor(27, 158, 119),
    RGBColor(55, 126, 184),
    RGBColor(228, 26, 28),
    RGBColor(152, 78, 163),
    RGBColor(102, 102, 102),
    RGBColor(166, 118, 29),
];

fn first_seen(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = args.as_slice() else {
        return Err("usage: chart <results.tsv> <out.png>".into());
    };
    let font_path = std::env::var("CHART_FONT").unwrap_or_else(|_| DEFAULT_FONT.to_owned());
    let font = std::fs::read(&font_path).map_err(|e| {
        format!("{font_path}: {e} (apt-get install -y fonts-dejavu-core, or set CHART_FONT)")
    })?;
    register_font("sans-serif", FontStyle::Normal, Box::leak(font.into_boxed_slice()))
        .map_err(|_| "not a usable TTF font")?;

    let rows: Vec<(String, String, f64)> = std::fs::read_to_string(input)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Ok((
                f[0].to_owned(),
                f[1].to_owned(),
                f.get(2).ok_or("missing column")?.parse::<f64>()?,
            ))
        })
        .collect::<Result<_, Box<dyn std::error::Error>>>()?;
    let endpoints = first_seen(rows.iter().map(|r| r.0.clone()));
    let servers = first_seen(rows.iter().map(|r| r.1.clone()));
    let max = rows.iter().map(|r| r.2).fold(1.0, f64::max) * 1.15;
    let slot = servers.len() + 1;

    let root = BitMapBackend::new(output, (1200, 640)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Requests per second (median of runs, higher is better)", ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(90)
        .build_cartesian_2d(0f64..(endpoints.len() * slot) as f64, 0f64..max)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc("req/s")
        .y_label_formatter(&|v| format!("{:.0}k", v / 1000.0))
        .label_style(("sans-serif", 14))
        .draw()?;
    for (e, endpoint) in endpoints.iter().enumerate() {
        let x0 = (e * slot) as f64 + 0.5;
        chart.draw_series(std::iter::once(Text::new(
            endpoint.clone(),
            (x0, -max * 0.02),
            ("sans-serif", 15).into_font().color(&BLACK),
        )))?;
    }
    for (s, server) in servers.iter().enumerate() {
        let color = PALETTE[s % PALETTE.len()];
        let bars = rows.iter().filter(|r| &r.1 == server).map(|r| {
            let e = endpoints.iter().position(|x| *x == r.0).unwrap_or(0);
            let x = (e * slot + s) as f64 + 0.5;
            Rectangle::new([(x, 0.0), (x + 0.9, r.2)], color.filled())
        });
        chart
            .draw_series(bars)?
            .label(server.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 12, y + 6)], color.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()?;
    root.present()?;
    println!("wrote {output}");
    Ok(())
}
