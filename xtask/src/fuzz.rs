//! `cargo xtask fuzz --minutes N [--target NAME]`: runs the libFuzzer
//! targets of `fuzz/` (cargo-fuzz) and records what they did in
//! `fuzz/RESULTS.md`.
//!
//! cargo-fuzz needs `-Zsanitizer`; the stable toolchain allows it under
//! `RUSTC_BOOTSTRAP=1`, so no nightly is needed. cargo-fuzz itself is
//! installed with `cargo install --locked` when it is missing.
//!
//! Each target starts from its committed seeds (`fuzz/corpus/<target>/`,
//! read only) and grows a working corpus in `fuzz/work/<target>/`
//! (git-ignored, kept between runs, so later runs start further on).
//! Crashes land in `fuzz/artifacts/<target>/` (git-ignored); a run with a
//! crash still writes its row, then fails and names the reproducer.

mod results;
mod stats;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::util;

pub use stats::Stats;

/// The fuzz targets, in the order a full run takes them.
pub const TARGETS: [&str; 3] = ["lookup", "param_decode", "extractors"];

/// Options of `cargo xtask fuzz`.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// How long each target runs.
    pub minutes: f64,
    /// One target, or all of [`TARGETS`].
    pub target: Option<String>,
}

impl Options {
    /// Parses `--minutes N [--target NAME]`; `N` may be a fraction (`0.5`).
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut minutes = None;
        let mut target = None;
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--minutes" => {
                    let value = it.next().ok_or("--minutes needs a number")?;
                    let value: f64 = value
                        .parse()
                        .ok()
                        .filter(|m: &f64| m.is_finite() && *m * 60.0 >= 1.0)
                        .ok_or_else(|| {
                            format!("--minutes {value}: not a number of at least 1/60")
                        })?;
                    minutes = Some(value);
                }
                "--target" => {
                    let name = it.next().ok_or("--target needs a name")?;
                    if !TARGETS.contains(&name.as_str()) {
                        return Err(format!(
                            "no fuzz target `{name}`; targets: {}",
                            TARGETS.join(", ")
                        ));
                    }
                    target = Some(name.clone());
                }
                other => return Err(format!("unexpected `{other}`; see `cargo xtask help`")),
            }
        }
        let minutes = minutes.ok_or("how long? --minutes N (per target)")?;
        Ok(Options { minutes, target })
    }

    fn targets(&self) -> Vec<&str> {
        match &self.target {
            Some(target) => vec![target.as_str()],
            None => TARGETS.to_vec(),
        }
    }
}

/// Builds and runs the targets, then rewrites `fuzz/RESULTS.md`.
pub fn run(opts: &Options) -> Result<(), String> {
    ensure_cargo_fuzz()?;
    let targets = opts.targets();
    let mut build = fuzz_cargo();
    build.args(["fuzz", "build"]);
    if let [one] = targets.as_slice() {
        build.arg(one);
    }
    util::run(&mut build)?;
    let mut rows = Vec::new();
    for target in targets {
        rows.push(run_target(target, opts.minutes)?);
    }
    let path = fuzz_dir().join("RESULTS.md");
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    std::fs::write(&path, results::render(&old, &rows, &results::Run::now()))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("wrote {}", path.display());
    let crashes: Vec<String> = rows
        .iter()
        .flat_map(|row| row.crashes.iter().map(move |c| (row.target.as_str(), c)))
        .map(|(target, crash)| format!("  cargo fuzz run {target} {}", crash.display()))
        .collect();
    if crashes.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{} crash(es); reproduce with (RUSTC_BOOTSTRAP=1):\n{}",
        crashes.len(),
        crashes.join("\n")
    ))
}

/// Runs one target for `minutes` and reads libFuzzer's figures.
fn run_target(target: &str, minutes: f64) -> Result<Stats, String> {
    let work = fuzz_dir().join("work").join(target);
    let seeds = fuzz_dir().join("corpus").join(target);
    let artifacts = fuzz_dir().join("artifacts").join(target);
    // libFuzzer adds new inputs to the first corpus directory only (the
    // working one, which must exist), so the committed seeds stay as they are.
    for dir in [&work, &artifacts] {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let before = listing(&artifacts);
    let seconds = (minutes * 60.0).round() as u64;
    let mut cmd = fuzz_cargo();
    cmd.args(["fuzz", "run", target])
        .arg(&work)
        .arg(&seeds)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg("-print_final_stats=1")
        // A hang is a finding too; libFuzzer's default waits 20 minutes.
        .arg("-timeout=10")
        .stderr(Stdio::piped());
    eprintln!("$ {}", util::show(&cmd));
    let log_path = fuzz_dir().join("work").join(format!("{target}.log"));
    let mut log =
        std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let started = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("{}: {e}", util::show(&cmd)))?;
    let mut stats = Stats::new(target);
    for line in BufReader::new(child.stderr.take().expect("piped")).lines() {
        let line = line.map_err(|e| format!("reading libFuzzer's output: {e}"))?;
        let _ = writeln!(log, "{line}");
        if stats::worth_echoing(&line) {
            eprintln!("{line}");
        }
        stats.read_line(&line);
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    stats.seconds = started.elapsed().as_secs_f64();
    stats.crashes = listing(&artifacts).into_iter().filter(|a| !before.contains(a)).collect();
    if !status.success() && stats.crashes.is_empty() {
        return Err(format!(
            "`cargo fuzz run {target}` failed ({status}) without a crash artifact; see {}",
            log_path.display()
        ));
    }
    eprintln!("{target}: {}", stats.summary());
    Ok(stats)
}

/// The files of `dir`, sorted.
fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// `fuzz/`, the fuzz crate.
fn fuzz_dir() -> PathBuf {
    util::root().join("fuzz")
}

/// `cargo` at the repository root with what cargo-fuzz needs: nightly
/// flags allowed, and the fuzz crate's own `target/`.
fn fuzz_cargo() -> Command {
    let mut cmd = util::main_cargo();
    cmd.env("RUSTC_BOOTSTRAP", "1").env_remove("CARGO_TARGET_DIR");
    cmd
}

/// Installs cargo-fuzz (`cargo install cargo-fuzz --locked`) when
/// `cargo fuzz` is missing.
fn ensure_cargo_fuzz() -> Result<(), String> {
    if util::has("cargo-fuzz") {
        return Ok(());
    }
    eprintln!("`cargo-fuzz` is missing: installing it with cargo install");
    util::run(util::main_cargo().args(["install", "cargo-fuzz", "--locked"]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_options() {
        assert_eq!(
            Options::parse(&args("--minutes 3")).unwrap(),
            Options { minutes: 3.0, target: None }
        );
        let one = Options::parse(&args("--target lookup --minutes 0.5")).unwrap();
        assert_eq!(one.targets(), ["lookup"]);
        assert!(Options::parse(&args("--target nope --minutes 1")).is_err());
        assert!(Options::parse(&args("--minutes 0")).is_err());
        assert!(Options::parse(&args("--target lookup")).is_err());
    }

    #[test]
    fn every_target_has_a_binary_and_seeds() {
        let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
        for target in TARGETS {
            assert!(manifest.contains(&format!("name = \"{target}\"")), "{target}: no [[bin]]");
            assert!(!listing(&fuzz_dir().join("corpus").join(target)).is_empty(), "{target}");
        }
    }
}
