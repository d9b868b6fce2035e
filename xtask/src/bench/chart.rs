//! The req/s chart: drawn by the `chart` binary of the peers workspace
//! (plotters, bitmap backend, ab_glyph text), so xtask itself stays free of
//! dependencies.

use std::path::Path;

use crate::util;

/// Draws `tsv` (`endpoint server req_per_s`) into the PNG `out`.
pub fn draw(tsv: &Path, out: &Path) -> Result<(), String> {
    if std::env::var_os("CHART_FONT").is_none()
        && !Path::new("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf").exists()
    {
        eprintln!("the chart needs a TTF font: installing `fonts-dejavu-core` with apt-get");
        util::run(std::process::Command::new("apt-get").args(["update", "-qq"]))?;
        util::run(std::process::Command::new("apt-get").args([
            "install",
            "-y",
            "-qq",
            "fonts-dejavu-core",
        ]))?;
    }
    util::run(
        util::peers_cargo()
            .args(["run", "--quiet", "--release", "-p", "chart", "--"])
            .arg(tsv)
            .arg(out),
    )
}
