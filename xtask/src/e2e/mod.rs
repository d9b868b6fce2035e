//! `cargo xtask e2e`: the chat example driven by a real browser.
//!
//! 1. Installs Debian's `chromium` with apt-get when `/usr/bin/chromium` is
//!    missing, and the npm package `playwright-core` (major version 1) into
//!    `target/e2e/node_modules` when it is not there yet.
//! 2. Builds the `chat` example (release) and starts it on a free
//!    127.0.0.1 port (`CHAT_ADDR`), waiting for `GET /healthz`.
//! 3. Runs `node xtask/e2e/chat.mjs http://127.0.0.1:PORT`: two browser
//!    contexts, messages both ways over the WebSocket, the presence
//!    counter over SSE; screenshots land in `target/e2e/`.
//! 4. Writes `docs/e2e/chat.md` (date, versions, each check with its time)
//!    and fails if the script did.
//!
//! Every wait has a deadline; the server and the script are stopped on
//! every way out (see [`child::Guarded`]).

mod report;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::bench::probe;
use crate::restart::child::{self, Guarded};
use crate::util;

/// The browser the script launches.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// The npm package that drives it, and the versions accepted.
const PLAYWRIGHT: &str = "playwright-core@1";

/// How long the chat server may take to answer `/healthz`.
const SERVER_READY_WITHIN: Duration = Duration::from_secs(15);

/// How long the whole browser script may run (it bounds each step itself).
const SCRIPT_WITHIN: Duration = Duration::from_secs(150);

/// Options of `cargo xtask e2e` (none yet).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options;

impl Options {
    /// Parses the (empty) argument list.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        match args.first() {
            None => Ok(Options),
            Some(other) => Err(format!("unexpected `{other}`; see `cargo xtask help`")),
        }
    }
}

/// Runs `cargo xtask e2e`.
pub fn run(_: &Options) -> Result<(), String> {
    let started = Instant::now();
    child::catch_interrupts();
    let work = util::main_target_dir().join("e2e");
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    install_chromium()?;
    let modules = install_playwright(&work)?;
    let binary = build()?;
    let port = crate::restart::free_ports(1)?[0];
    let server = start_chat(&binary, port)?;
    let outcome = drive(port, &modules, &work);
    drop(server);
    let outcome = outcome?;

    let doc = report::markdown(&report::Inputs {
        outcome: &outcome,
        node: &util::version_of("node", &["--version"]),
        chromium_package: &util::version_of(CHROMIUM, &["--version"]),
        root: &util::root(),
    });
    let path = report::write(&doc)?;
    println!("{doc}");
    eprintln!("wrote {}; e2e took {:.0} s", path.display(), started.elapsed().as_secs_f64());
    match &outcome.error {
        None => Ok(()),
        Some(error) => Err(format!("the browser test failed: {error}")),
    }
}

/// Installs Debian's `chromium` when [`CHROMIUM`] is missing.
fn install_chromium() -> Result<(), String> {
    if Path::new(CHROMIUM).exists() {
        return Ok(());
    }
    eprintln!("{CHROMIUM} is missing: installing the Debian package `chromium` with apt-get");
    util::run(Command::new("apt-get").args(["update", "-qq"]))?;
    util::run(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends", "chromium"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    Path::new(CHROMIUM)
        .exists()
        .then_some(())
        .ok_or_else(|| format!("{CHROMIUM} still missing after installing `chromium`"))
}

/// Installs [`PLAYWRIGHT`] under `work` unless it is there; returns its
/// `node_modules`.
fn install_playwright(work: &Path) -> Result<PathBuf, String> {
    let modules = work.join("node_modules");
    if modules.join("playwright-core/package.json").exists() {
        return Ok(modules);
    }
    for program in ["node", "npm"] {
        if !util::has(program) {
            return Err(format!(
                "`{program}` is not installed (Debian: apt-get install nodejs npm)"
            ));
        }
    }
    eprintln!("playwright-core is missing: installing it into {}", work.display());
    util::run(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(work)
            .arg(PLAYWRIGHT),
    )?;
    modules.join("playwright-core/package.json").exists().then_some(modules).ok_or_else(|| {
        format!("npm install {PLAYWRIGHT} left no playwright-core in {}", work.display())
    })
}

/// Builds the chat example in release; returns the binary.
fn build() -> Result<PathBuf, String> {
    util::run(util::main_cargo().args([
        "build",
        "--release",
        "-p",
        "mambo-examples",
        "--bin",
        "chat",
    ]))?;
    Ok(util::main_target_dir().join("release/chat"))
}

/// Starts the chat on 127.0.0.1:`port` and waits until `/healthz` answers.
fn start_chat(binary: &Path, port: u16) -> Result<Guarded, String> {
    let mut cmd = Command::new(binary);
    cmd.env("CHAT_ADDR", format!("127.0.0.1:{port}")).env("RUST_LOG", "warn").stdout(Stdio::null());
    let mut chat = Guarded::spawn("chat", cmd)?;
    let deadline = Instant::now() + SERVER_READY_WITHIN;
    loop {
        if let Some(status) = chat.exited()? {
            return Err(format!("chat exited before serving ({status})"));
        }
        if probe::request(port, "GET", "/healthz").is_ok_and(|r| r.status == 200) {
            return Ok(chat);
        }
        if Instant::now() > deadline {
            return Err(format!("chat did not answer GET /healthz within {SERVER_READY_WITHIN:?}"));
        }
        child::pause(Duration::from_millis(50))?;
    }
}

/// Runs the browser script against the chat on `port`; its report, which
/// says whether it passed.
fn drive(port: u16, modules: &Path, work: &Path) -> Result<report::Outcome, String> {
    let script = util::root().join("xtask/e2e/chat.mjs");
    let mut cmd = Command::new("node");
    cmd.arg(&script)
        .arg(format!("http://127.0.0.1:{port}"))
        .env("E2E_MODULES", modules)
        .env("E2E_OUT", work)
        .stdout(Stdio::piped());
    let mut node = Guarded::spawn("node chat.mjs", cmd)?;
    // The script's stdout is one JSON line; its progress goes to stderr.
    let status = node
        .wait_exit(SCRIPT_WITHIN)?
        .ok_or_else(|| format!("the browser script still running after {SCRIPT_WITHIN:?}"))?;
    let stdout = node.take_stdout()?;
    let line = stdout.lines().rev().find(|line| line.starts_with('{')).ok_or_else(|| {
        format!("the browser script ({status}) printed no result line:\n{stdout}")
    })?;
    let mut outcome = report::Outcome::parse(line)?;
    if !status.success() && outcome.error.is_none() {
        outcome.error = Some(format!("node exited with {status}"));
    }
    Ok(outcome)
}
