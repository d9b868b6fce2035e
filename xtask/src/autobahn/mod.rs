//! `cargo xtask autobahn`: Mambo's WebSocket against the Autobahn
//! TestSuite (`wstest -m fuzzingclient`), the WebSocket conformance suite
//! of crossbar.io, which no one here wrote.
//!
//! 1. Finds Python 2.7 (the suite's `wstest` is Python 2 code, also in its
//!    latest PyPI release): `python2.7` on `PATH`, or pyenv's.
//! 2. Installs `autobahntestsuite` from PyPI into `target/autobahn/py27`
//!    (`pip install --target`) when it is not there yet.
//! 3. Builds `mambo-bench-ws` (release) and starts it on a free 127.0.0.1
//!    port with `--autobahn` (64 MiB message limit: the suite's largest
//!    cases send 16 MiB).
//! 4. Runs every case (`--quick`: sections 1 to 7, the framing, pings,
//!    reserved bits, opcodes, fragmentation, UTF-8 and close cases) and
//!    reads the suite's `index.json`.
//! 5. Prints the summary; a full run also writes it to
//!    `docs/autobahn/summary.md` with the suite's `index.json` beside it.
//!    Fails if any case's behaviour is FAILED (or its closing behaviour).
//!
//! Only 127.0.0.1; the server and the suite are stopped on every way out.

mod report;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::bench::probe;
use crate::restart::child::{self, Guarded};
use crate::util;

/// The longest the suite may run (a full run takes well under a minute
/// here; the 16 MiB cases are the slowest).
const SUITE_WITHIN: Duration = Duration::from_secs(30 * 60);

/// How long the server may take to answer `GET /ping`.
const READY_WITHIN: Duration = Duration::from_secs(15);

/// Options of `cargo xtask autobahn`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Sections 1 to 7 only; `docs/autobahn/` is left alone.
    pub quick: bool,
}

impl Options {
    /// Parses `[--quick]`.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        Ok(Options { quick: util::quick_flag(args)? })
    }

    fn cases(&self) -> &'static [&'static str] {
        if self.quick { &["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*"] } else { &["*"] }
    }
}

/// Runs `cargo xtask autobahn`.
pub fn run(opts: &Options) -> Result<(), String> {
    let started = Instant::now();
    child::catch_interrupts();
    let python = python27()?;
    let site = util::main_target_dir().join("autobahn/py27");
    install_suite(&python, &site)?;
    let binary = crate::bench::ws::build_mambo()?;
    let port = crate::restart::free_ports(1)?[0];
    let mut server_cmd = Command::new(&binary);
    server_cmd.args(["--port", &port.to_string(), "--threads", "1", "--autobahn"]);
    server_cmd.stdout(Stdio::null());
    let _server = Guarded::spawn("mambo-bench-ws", server_cmd)?;
    wait_ready(port)?;

    let dir = util::main_target_dir().join("autobahn/run");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::write(dir.join("spec.json"), spec(port, opts.cases()))
        .map_err(|e| format!("writing spec.json: {e}"))?;
    let mut suite_cmd = Command::new(&python);
    suite_cmd.current_dir(&dir).arg("-c").arg(format!(
        "import site, sys; site.addsitedir({site:?}); \
         sys.argv = ['wstest', '-m', 'fuzzingclient', '-s', 'spec.json']; \
         from autobahntestsuite.wstest import run; run()",
        site = site.display().to_string()
    ));
    suite_cmd.stdout(Stdio::null());
    let mut suite = Guarded::spawn("wstest", suite_cmd)?;
    match suite.wait_exit(SUITE_WITHIN)? {
        Some(status) if status.success() => {}
        Some(status) => return Err(format!("wstest failed: {status}")),
        None => return Err(format!("wstest still running after {SUITE_WITHIN:?}")),
    }
    let index = std::fs::read_to_string(dir.join("reports/index.json"))
        .map_err(|e| format!("the suite wrote no reports/index.json: {e}"))?;
    let results = report::parse(&index)?;
    let summary = report::summary(
        &results,
        &report::Context {
            command: if opts.quick {
                "cargo xtask autobahn --quick"
            } else {
                "cargo xtask autobahn"
            },
            suite_version: suite_version(&site),
            seconds: started.elapsed().as_secs_f64(),
        },
    );
    println!("{summary}");
    if !opts.quick {
        let docs = util::root().join("docs/autobahn");
        std::fs::create_dir_all(&docs).map_err(|e| format!("{}: {e}", docs.display()))?;
        std::fs::write(docs.join("summary.md"), &summary).map_err(|e| e.to_string())?;
        std::fs::write(docs.join("index.json"), &index).map_err(|e| e.to_string())?;
        eprintln!("wrote docs/autobahn/summary.md and docs/autobahn/index.json");
    }
    let failed = report::failed(&results);
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("{} case(s) failed: {}", failed.len(), failed.join(", ")))
    }
}

/// The suite's configuration: one server, the cases, no exclusions.
fn spec(port: u16, cases: &[&str]) -> String {
    serde_json::json!({
        "outdir": "./reports",
        "servers": [{ "agent": "mambo", "url": format!("ws://127.0.0.1:{port}/ws") }],
        "cases": cases,
        "exclude-cases": [],
        "exclude-agent-cases": {},
    })
    .to_string()
}

/// A Python 2.7 interpreter: `python2.7` on `PATH`, or pyenv's newest 2.7.
fn python27() -> Result<PathBuf, String> {
    // pyenv's shim answers to `python2.7` on `PATH` without running one
    // unless a 2.7 is selected: ask it for its version to be sure.
    let on_path = Command::new("python2.7")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if on_path {
        return Ok(PathBuf::from("python2.7"));
    }
    let pyenv = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".pyenv")))
        .map(|root| root.join("versions"));
    let found = pyenv.and_then(|versions| {
        let mut pythons: Vec<PathBuf> = std::fs::read_dir(versions)
            .ok()?
            .filter_map(Result::ok)
            .filter(|entry| entry.file_name().to_string_lossy().starts_with("2.7"))
            .map(|entry| entry.path().join("bin/python2.7"))
            .filter(|python| python.is_file())
            .collect();
        pythons.sort();
        pythons.pop()
    });
    found.ok_or_else(|| {
        "the Autobahn TestSuite's `wstest` needs Python 2.7, and none was found: install one \
         (`pyenv install 2.7.18`, or a distribution's python2.7) and run this again"
            .to_owned()
    })
}

/// `pip install --target site autobahntestsuite`, unless it is there.
fn install_suite(python: &Path, site: &Path) -> Result<(), String> {
    if site.join("autobahntestsuite/wstest.py").is_file() {
        return Ok(());
    }
    eprintln!("installing autobahntestsuite (PyPI) into {}", site.display());
    util::run(Command::new(python).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--target",
        &site.display().to_string(),
        "autobahntestsuite",
    ]))
}

/// The installed suite's version, from pip's metadata directory name.
fn suite_version(site: &Path) -> String {
    std::fs::read_dir(site)
        .ok()
        .and_then(|entries| {
            entries.filter_map(Result::ok).find_map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                name.strip_prefix("autobahntestsuite-")
                    .and_then(|rest| rest.strip_suffix(".dist-info"))
                    .map(str::to_owned)
            })
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

fn wait_ready(port: u16) -> Result<(), String> {
    let deadline = Instant::now() + READY_WITHIN;
    loop {
        if probe::request(port, "GET", "/ping").is_ok_and(|reply| reply.status == 200) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "mambo-bench-ws did not answer on port {port} in {READY_WITHIN:?}"
            ));
        }
        child::pause(Duration::from_millis(50))?;
    }
}
