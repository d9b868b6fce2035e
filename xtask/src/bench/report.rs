//! Markdown tables, number formatting, and `BENCHMARKS.md` assembled from
//! the sections the suites leave in `bench-results/`.

use super::Options;
use crate::util;

/// A markdown table built row by row.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    /// The first right-aligned (numeric) column.
    numeric_from: usize,
}

impl Table {
    /// A table with these column titles.
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
            numeric_from: 2,
        }
    }

    /// Every column left-aligned (a table of text, not numbers).
    pub fn left_aligned(mut self) -> Table {
        self.numeric_from = usize::MAX;
        self
    }

    /// Appends a row (as many cells as columns).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// GitHub-flavoured markdown, numbers right-aligned (every column but the
    /// first two, unless [`left_aligned`](Table::left_aligned)).
    pub fn render(&self) -> String {
        let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
        let mut out = line(&self.header);
        let align: Vec<String> = (0..self.header.len())
            .map(|i| if i < self.numeric_from { "---".into() } else { "---:".into() })
            .collect();
        out.push_str(&line(&align));
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }
}

/// `123456.7` → `123 457`.
pub fn rate(v: f64) -> String {
    let s = format!("{:.0}", v);
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// `a / b` as `1.23×`, or `—` when `b` is zero.
pub fn ratio(a: f64, b: f64) -> String {
    if b == 0.0 { "—".into() } else { format!("{:.2}×", a / b) }
}

/// The machine: date, cores, CPU, memory, kernel, rustc.
pub fn machine() -> Vec<(String, String)> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")?.split_once(':').map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or("unknown".into(), |k| format!("{:.1} GiB", k / 1024.0 / 1024.0));
    vec![
        ("date (UTC)".into(), util::version_of("date", &["-u", "+%Y-%m-%d %H:%M"])),
        ("nproc".into(), util::version_of("nproc", &[])),
        ("CPU".into(), cpu),
        ("memory".into(), mem),
        ("kernel".into(), util::version_of("uname", &["-sr"])),
        ("rustc".into(), util::version_of("rustc", &["--version"])),
    ]
}

/// [`machine`] and the load tools' versions.
fn machine_and_tools() -> Vec<(String, String)> {
    let mut rows = machine();
    rows.extend([
        ("wrk".into(), util::version_of("wrk", &["-v"])),
        ("h2load".into(), util::version_of("h2load", &["--version"])),
        ("hyperfine".into(), util::version_of("hyperfine", &["--version"])),
    ]);
    rows
}

/// `name version` of the crates that matter, from the peers' `Cargo.lock`.
fn crate_versions() -> Vec<(String, String)> {
    let lock = std::fs::read_to_string(util::peers_dir().join("Cargo.lock")).unwrap_or_default();
    let wanted = [
        "hyper",
        "hyper-util",
        "tokio",
        "axum",
        "actix-web",
        "xitca-web",
        "xitca-http",
        "matchit",
        "path-tree",
        "route-recognizer",
        "actix-router",
        "criterion",
    ];
    let mut out = Vec::new();
    let mut name = None;
    for line in lock.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"').to_owned());
        } else if let (Some(v), Some(n)) = (line.strip_prefix("version = "), name.take())
            && wanted.contains(&n.as_str())
        {
            out.push((n, v.trim_matches('"').to_owned()));
        }
    }
    out.sort_by_key(|(n, _)| wanted.iter().position(|w| *w == n).unwrap_or(usize::MAX));
    out
}

/// Each suite's heading in `BENCHMARKS.md`.
const HEADINGS: [(&str, &str); 8] = [
    ("router", "## Router lookup"),
    ("http", "## HTTP throughput"),
    ("pinned", "## Server-bound: one core per server"),
    ("cpu", "## Instructions per request"),
    ("alloc", "## Allocations per request"),
    ("conn", "## Memory per idle connection"),
    ("compile", "## Compile time"),
    ("ws", "## WebSocket echo"),
];

/// The section of `suite` in `previous` (a `BENCHMARKS.md`), for a suite
/// that has no fresh result in `bench-results/`: carried over under a note
/// that says so and gives the date of the run it came from.
fn carried_over(previous: &str, suite: &str) -> Option<String> {
    let (_, heading) = HEADINGS.iter().find(|(name, _)| *name == suite)?;
    let start = previous.find(&format!("{heading}\n"))?;
    let body = &previous[start + heading.len() + 1..];
    let end = [body.find("\n## "), body.find(KEPT_BEGIN)].into_iter().flatten().min();
    let body = body[..end.unwrap_or(body.len())].trim();
    // A section carried over before says where it came from already.
    if body.starts_with(CARRIED) {
        return Some(format!("{heading}\n\n{body}\n"));
    }
    let date = previous_date(previous).unwrap_or_else(|| "an earlier run".to_owned());
    Some(format!(
        "{heading}\n\n{CARRIED} from the run of {date}: not rerun with the suites above (`cargo xtask bench {suite}` rewrites it).**\n\n{body}\n"
    ))
}

/// How a carried-over section begins.
const CARRIED: &str = "**Carried over";

/// The date of the run that wrote `previous`, from its machine table.
fn previous_date(previous: &str) -> Option<String> {
    let line = previous.lines().find(|line| line.starts_with("| date (UTC) |"))?;
    Some(line.trim_end_matches('|').rsplit('|').next()?.trim().to_owned())
}

/// Marks a hand-written section of `BENCHMARKS.md` (measurements no suite
/// makes, such as a comparison with an older commit) that `all` carries over.
const KEPT_BEGIN: &str = "<!-- kept:begin -->";
/// Ends a [`KEPT_BEGIN`] section.
const KEPT_END: &str = "<!-- kept:end -->";

/// The kept sections of `previous`, markers included, each followed by a
/// blank line.
fn kept_sections(previous: &str) -> String {
    let mut out = String::new();
    let mut rest = previous;
    while let Some(start) = rest.find(KEPT_BEGIN) {
        let Some(len) = rest[start..].find(KEPT_END) else { break };
        let end = start + len + KEPT_END.len();
        out.push_str(&rest[start..end]);
        out.push_str("\n\n");
        rest = &rest[end..];
    }
    out
}

/// Rewrites `BENCHMARKS.md` at the workspace root from `bench-results/*.md`,
/// and copies the chart beside it.
pub fn write_benchmarks_md(opts: &Options) -> Result<(), String> {
    let dir = util::results_dir();
    let mut md = format!(
        "# Benchmarks\n\n\
         Generated by `cargo xtask bench {command}`; do not edit by hand. Each suite can be run on its own\n\
         (`cargo xtask bench <{}>`); the peers (raw hyper, axum, actix-web,\n\
         xitca-web, the other routers) live in `xtask/bench-peers/`, a workspace of their own.\n\n",
        super::names().collect::<Vec<_>>().join("|"),
        command = if opts.suite == "report" { "report" } else { "all" },
    );
    if opts.quick {
        md.push_str("**Quick run (`--quick`): short durations, few runs; numbers are indicative only.**\n\n");
    }
    md.push_str("## Machine and versions\n\n");
    let mut t = Table::new(&["what", "value"]);
    for (k, v) in machine_and_tools() {
        t.row(vec![k, v]);
    }
    for (k, v) in crate_versions() {
        t.row(vec![format!("crate `{k}`"), v]);
    }
    md.push_str(&t.render());
    md.push_str(&format!(
        "\nCommand: `cargo xtask bench {}{}`\n\n",
        if opts.suite == "report" { "report" } else { "all" },
        if opts.quick { " --quick" } else { "" }
    ));
    let root = util::root();
    let previous = std::fs::read_to_string(root.join("BENCHMARKS.md")).unwrap_or_default();
    for section in super::names() {
        match std::fs::read_to_string(dir.join(format!("{section}.md"))) {
            Ok(text) => md.push_str(&text),
            Err(_) => match carried_over(&previous, section) {
                Some(text) => md.push_str(&text),
                None => md.push_str(&format!(
                    "## {section}\n\nNot run (see the log of `cargo xtask bench {section}`).\n"
                )),
            },
        }
        md.push('\n');
    }
    md.push_str(&kept_sections(&previous));
    if dir.join("http.png").exists() {
        std::fs::copy(dir.join("http.png"), root.join("benchmarks-http.png"))
            .map_err(|e| e.to_string())?;
    }
    std::fs::write(root.join("BENCHMARKS.md"), md).map_err(|e| e.to_string())?;
    eprintln!("wrote {}", root.join("BENCHMARKS.md").display());
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn kept_sections_are_carried_over_and_the_rest_is_not() {
        let previous = "# B\n\n## generated\nold\n<!-- kept:begin -->\n## by hand\nx\n<!-- kept:end -->\ntail\n";
        assert_eq!(
            super::kept_sections(previous),
            "<!-- kept:begin -->\n## by hand\nx\n<!-- kept:end -->\n\n"
        );
        assert_eq!(super::kept_sections("nothing kept"), "");
    }

    #[test]
    fn a_suite_not_rerun_keeps_its_section_marked_as_carried_over() {
        let previous = "# B\n\n| date (UTC) | 2026-11-22 10:59 |\n\n## Router lookup\n\nold table\n\n\
                        ## HTTP throughput\n\nhttp\n\n## WebSocket echo\n\nws\n<!-- kept:begin -->\nx\n";
        let router = super::carried_over(previous, "router").unwrap();
        assert!(
            router
                .starts_with("## Router lookup\n\n**Carried over from the run of 2026-11-22 10:59")
        );
        assert!(router.ends_with("\n\nold table\n"), "{router}");
        assert!(super::carried_over(previous, "ws").unwrap().ends_with("\n\nws\n"));
        assert!(super::carried_over(previous, "compile").is_none());
        // Carried over twice: one note, with the first run's date.
        let twice = format!("| date (UTC) | 2026-12-02 |\n{router}");
        assert_eq!(super::carried_over(&twice, "router").unwrap(), router);
    }

    use super::*;

    #[test]
    fn table_renders_markdown() {
        let mut t = Table::new(&["a", "b", "n"]);
        t.row(vec!["x".into(), "y".into(), "1".into()]);
        assert_eq!(t.render(), "| a | b | n |\n| --- | --- | ---: |\n| x | y | 1 |\n");
        let t = Table::new(&["a", "b", "c"]).left_aligned();
        assert_eq!(t.render(), "| a | b | c |\n| --- | --- | --- |\n");
    }

    #[test]
    fn numbers() {
        assert_eq!(rate(1234567.4), "1 234 567");
        assert_eq!(rate(999.0), "999");
        assert_eq!(ratio(3.0, 2.0), "1.50×");
        assert_eq!(ratio(1.0, 0.0), "—");
    }
}
