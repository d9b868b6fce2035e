//! `fuzz/RESULTS.md`: one row per target, each from the latest run that
//! fuzzed it (a run of one target keeps the other rows).

use super::{Stats, TARGETS};
use crate::util;

/// Where and on what a run happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// `YYYY-MM-DD HH:MM` (UTC).
    pub date: String,
    /// The checked-out commit, `+dirty` with uncommitted changes.
    pub commit: String,
    /// CPU, core count, rustc and cargo-fuzz versions.
    pub machine: String,
}

impl Run {
    /// The run happening now, here.
    pub fn now() -> Self {
        let commit = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
        let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
            .is_some_and(|changes| !changes.is_empty());
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .unwrap_or_default()
            .lines()
            .find_map(|l| Some(l.strip_prefix("model name")?.split_once(':')?.1.trim().to_owned()))
            .unwrap_or_else(|| "unknown CPU".into());
        Run {
            date: util::version_of("date", &["-u", "+%Y-%m-%d %H:%M"]),
            commit: if dirty { format!("{commit}+dirty") } else { commit },
            machine: format!(
                "{cpu}, {} cores; {}; {} (RUSTC_BOOTSTRAP=1, AddressSanitizer)",
                util::version_of("nproc", &[]),
                util::version_of("rustc", &["--version"]),
                util::version_of("cargo", &["fuzz", "--version"]),
            ),
        }
    }
}

/// `git args…` in the repository, trimmed; `None` when git fails.
fn git(args: &[&str]) -> Option<String> {
    let out =
        std::process::Command::new("git").args(args).current_dir(util::root()).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

const HEADER: &str = "| target | minutes | executions | exec/s | coverage (cov / ft) | corpus | crashes | run (UTC, commit) |";

/// The whole file: `old`'s rows for targets this run did not fuzz, `rows`
/// for the others.
pub fn render(old: &str, rows: &[Stats], run: &Run) -> String {
    let mut out = String::from(INTRO);
    out.push_str(HEADER);
    out.push_str("\n|---|---:|---:|---:|---:|---:|---:|---|\n");
    for target in TARGETS {
        match rows.iter().find(|row| row.target == target) {
            Some(row) => out.push_str(&row_of(row, run)),
            None => {
                if let Some(line) = old_row(old, target) {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
    }
    out.push_str(&format!("\nLast run: {} on {}; {}.\n", run.date, run.commit, run.machine));
    out
}

const INTRO: &str = "\
# Fuzzing

Written by `cargo xtask fuzz --minutes N [--target NAME]` (cargo-fuzz and
libFuzzer on the stable toolchain with `RUSTC_BOOTSTRAP=1`); each row is the
latest run of its target. What each target checks is in `fuzz/src/<target>.rs`.

- `lookup`: the generated `lookup` of the GitHub router (203 routes) and of a
  router of overlapping routes, against matchit, on arbitrary method and path.
- `param_decode`: path parameter percent-decoding against the
  `percent-encoding` crate and an RFC 3986 decoder; `FromParam` parses of
  integers, floats, `bool` and `char` against `str::parse`.
- `extractors`: `Json`, `Form`, `Query`, path parameters, typed headers and
  `String` bodies through the in-process `TestClient`: never a 5xx, every
  4xx a JSON error body, every 2xx what serde makes of the same bytes.

Coverage is libFuzzer's: `cov` code edges reached, `ft` features (edges with
hit counts, comparisons). A crash leaves its input in `fuzz/artifacts/<target>/`
and becomes a regression test in the crate at fault.

";

fn row_of(row: &Stats, run: &Run) -> String {
    format!(
        "| {} | {:.1} | {} | {} | {} / {} | {} | {} | {}, {} |\n",
        row.target,
        row.seconds / 60.0,
        thousands(row.executions),
        thousands(row.exec_per_sec),
        thousands(row.cov),
        thousands(row.ft),
        thousands(row.corpus),
        row.crashes.len(),
        run.date,
        run.commit,
    )
}

/// The row of `target` in a previous RESULTS.md.
fn old_row<'a>(old: &'a str, target: &str) -> Option<&'a str> {
    old.lines().find(|line| {
        line.strip_prefix("| ").and_then(|rest| rest.split(" |").next()) == Some(target)
    })
}

/// `1234567` → `1 234 567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(commit: &str) -> Run {
        Run { date: "2025-01-01 00:00".into(), commit: commit.into(), machine: "m".into() }
    }

    fn stats(target: &str, executions: u64) -> Stats {
        let mut stats = Stats::new(target);
        stats.executions = executions;
        stats.seconds = 180.0;
        stats
    }

    #[test]
    fn a_run_of_one_target_keeps_the_other_rows() {
        let first = render("", &[stats("lookup", 1), stats("extractors", 2)], &run("aaa"));
        assert!(first.contains("| lookup | 3.0 | 1 |"), "{first}");
        assert!(!first.contains("| param_decode |"));
        let second = render(&first, &[stats("lookup", 1_234_567)], &run("bbb"));
        assert!(second.contains("| lookup | 3.0 | 1 234 567 |"), "{second}");
        assert!(
            second.contains("| extractors | 3.0 | 2 | 0 | 0 / 0 | 0 | 0 | 2025-01-01 00:00, aaa |")
        );
        let rows: Vec<&str> = second.lines().filter(|l| l.starts_with("| ")).collect();
        assert_eq!(rows.len(), 3, "header, lookup, extractors: {rows:#?}");
    }

    #[test]
    fn numbers_in_groups_of_three() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1_000), "1 000");
        assert_eq!(thousands(12_345_678), "12 345 678");
    }
}
