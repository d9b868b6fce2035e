//! `cargo xtask bench <suite>`: one module per suite, plus the pieces they
//! share (servers, load generators, reports).
//!
//! Every suite leaves its data and a markdown section in `bench-results/`;
//! `all` runs them in turn and assembles `BENCHMARKS.md` from the sections.
//! Load generators target 127.0.0.1 only, run for a fixed duration, and every
//! server a suite starts is killed when the suite ends (also on error).

mod alloc;
mod chart;
mod compile;
mod conn;
mod cpu;
mod h2load;
mod http;
mod pinned;
pub(crate) mod probe;
mod proc_time;
pub(crate) mod report;
mod router;
pub(crate) mod rss;
pub(crate) mod server;
pub(crate) mod wrk;
pub(crate) mod ws;

use std::path::PathBuf;

/// Options shared by the suites.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Which suite: `router`, `http`, `pinned`, `cpu`, `alloc`, `conn`, `compile`, `ws` or `all`;
    /// or `report`, which only assembles `BENCHMARKS.md` from the suites' latest results.
    pub suite: String,
    /// Verify only, time nothing (router suite; what CI may run).
    pub smoke: bool,
    /// Short durations and fewer runs.
    pub quick: bool,
    /// A prebuilt Mambo hello binary (otherwise `examples`' `hello` is built).
    pub mambo_bin: Option<PathBuf>,
}

impl Options {
    /// Parses `<suite> [--smoke] [--quick] [--mambo-bin PATH]`.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut opts = Options::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--smoke" => opts.smoke = true,
                "--quick" => opts.quick = true,
                "--mambo-bin" => {
                    opts.mambo_bin = Some(it.next().ok_or("--mambo-bin needs a path")?.into());
                }
                suite
                    if opts.suite.is_empty()
                        && (suite == "all" || suite == "report" || find(suite).is_some()) =>
                {
                    opts.suite = suite.to_owned();
                }
                other => return Err(format!("unexpected `{other}`; see `cargo xtask help`")),
            }
        }
        if opts.suite.is_empty() {
            return Err(format!("which suite? {} or all", names().collect::<Vec<_>>().join(", ")));
        }
        if opts.smoke && opts.suite != "router" {
            return Err("--smoke applies to the router suite only".into());
        }
        Ok(opts)
    }
}

/// A suite's entry point.
type Suite = fn(&Options) -> Result<(), String>;

/// Every suite, in the order `all` runs them and `BENCHMARKS.md` shows them.
const SUITES: [(&str, Suite); 8] = [
    ("router", router::run),
    ("http", http::run),
    ("pinned", pinned::run),
    ("cpu", cpu::run),
    ("alloc", alloc::run),
    ("conn", conn::run),
    ("compile", compile::run),
    ("ws", ws::run),
];

/// The suites' names, in order.
fn names() -> impl Iterator<Item = &'static str> {
    SUITES.iter().map(|(name, _)| *name)
}

/// The suite called `name`.
fn find(name: &str) -> Option<Suite> {
    SUITES.iter().find(|(n, _)| *n == name).map(|(_, suite)| *suite)
}

/// Runs the suite named in `opts`.
pub fn run(opts: &Options) -> Result<(), String> {
    match opts.suite.as_str() {
        "all" => {
            let mut failed = Vec::new();
            for (name, suite) in SUITES {
                eprintln!("\n=== bench {name} ===");
                if let Err(e) = suite(opts) {
                    eprintln!("bench {name} failed: {e}");
                    failed.push(name);
                }
            }
            report::write_benchmarks_md(opts)?;
            if failed.is_empty() {
                Ok(())
            } else {
                Err(format!("suites failed: {}", failed.join(", ")))
            }
        }
        "report" => report::write_benchmarks_md(opts),
        name => match find(name) {
            Some(suite) => suite(opts),
            None => Err(format!("unknown suite `{name}`")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn options() {
        let o = parse(&["http", "--quick", "--mambo-bin", "/x/hello"]).unwrap();
        assert_eq!((o.suite.as_str(), o.quick, o.smoke), ("http", true, false));
        assert_eq!(o.mambo_bin, Some(PathBuf::from("/x/hello")));
        assert!(parse(&["router", "--smoke"]).unwrap().smoke);
        assert!(parse(&["http", "--smoke"]).is_err());
        assert!(parse(&[]).is_err());
        assert!(parse(&["bogus"]).is_err());
    }

    #[test]
    fn every_suite_is_a_suite_name() {
        for name in names() {
            assert_eq!(parse(&[name]).unwrap().suite, name);
        }
        assert_eq!(parse(&["all"]).unwrap().suite, "all");
        assert_eq!(
            parse(&[]).unwrap_err(),
            "which suite? router, http, pinned, cpu, alloc, conn, compile, ws or all"
        );
    }
}
