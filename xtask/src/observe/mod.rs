//! `cargo xtask observe`: the todo example's metrics read back by a real
//! Prometheus, and its profiles by Go's own `go tool pprof`.
//!
//! 1. Installs `prometheus` and `go` with apt-get when they are missing.
//! 2. Builds the `todo` example (release; with [`PROFILING_FEATURE`] when
//!    `mambo-examples` declares it) and starts it on a free 127.0.0.1 port
//!    with an operator token.
//! 3. Starts Prometheus on another, scraping `/internal/metrics` every
//!    second with that token, and waits for `up{job="todo"} == 1`.
//! 4. Sends traffic it records request by request ([`traffic`]).
//! 5. Waits for two more scrapes, then asks Prometheus's HTTP API for
//!    counts, rates and quantiles and checks each answer ([`checks`]).
//! 6. Probes `/healthz` and `/readyz`, and takes a CPU profile under load
//!    and a heap profile, each read by `go tool pprof -top` ([`pprof`]);
//!    a route the build does not serve yet (404) is reported as skipped.
//! 7. Writes `bench-results/observe.md` (and on a full run the observe
//!    section of `BENCHMARKS.md`), prints it, and fails if a check failed.
//!
//! Only 127.0.0.1; every wait has a deadline; the children (todo,
//! Prometheus, go) are stopped on every way out, Ctrl-C included, and get
//! SIGTERM from the kernel if the xtask itself is killed.

mod checks;
mod http;
mod pprof;
mod prom;
mod report;
mod traffic;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::bench::probe;
use crate::restart::child::{self, Guarded};
use crate::util;
use checks::{Check, Verdict};
use prom::Prometheus;
use traffic::Plan;

/// `mambo-examples`' cargo feature that makes the todo binary's allocator
/// jemalloc with its heap profiler on (what `/debug/pprof/heap` needs).
pub const PROFILING_FEATURE: &str = "profiling";

/// The todo service's metrics route.
const METRICS_PATH: &str = "/internal/metrics";

/// Liveness and readiness routes.
const HEALTH_PATHS: [&str; 2] = ["/healthz", "/readyz"];

/// Seconds of CPU profile.
const CPU_SECONDS: u64 = 5;

/// How long the todo service may take to answer, Prometheus to see it up,
/// and the scrapes after the traffic to arrive.
const TODO_READY_WITHIN: Duration = Duration::from_secs(15);
const UP_WITHIN: Duration = Duration::from_secs(20);
const SCRAPES_WITHIN: Duration = Duration::from_secs(10);

/// Options of `cargo xtask observe`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// 10 s of traffic instead of 24 s; `BENCHMARKS.md` is left alone.
    pub quick: bool,
}

impl Options {
    /// Parses `[--quick]`.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        Ok(Options { quick: util::quick_flag(args)? })
    }

    fn command(&self) -> &'static str {
        if self.quick { "cargo xtask observe --quick" } else { "cargo xtask observe" }
    }
}

/// Runs `cargo xtask observe`.
pub fn run(opts: &Options) -> Result<(), String> {
    let started = Instant::now();
    child::catch_interrupts();
    install("prometheus", "prometheus")?;
    install("go", "golang-go")?;
    let (binary, heap_note) = build()?;
    let dir = TempDir::new()?;
    let ports = crate::restart::free_ports(2)?;
    let (todo_port, prometheus_port) = (ports[0], ports[1]);
    let token = token()?;

    let mut commands = Vec::new();
    let todo = start_todo(&binary, todo_port, &token, &mut commands)?;
    let config = prom::config(todo_port, METRICS_PATH, &token);
    let mut prometheus = Prometheus::start(&dir.0, prometheus_port, &config)?;
    commands.push(prometheus.command.replace(&dir.0.display().to_string(), "$DIR"));
    prometheus.wait_up(UP_WITHIN)?;

    let plan = if opts.quick { Plan::QUICK } else { Plan::FULL };
    eprintln!(
        "sending: {} todos, {} unmatched, then {} s of GET /todos/:id at {}/s",
        plan.todos, plan.unmatched, plan.secs, plan.rate
    );
    let traffic = traffic::drive(todo_port, &plan)?;
    let last_scrape = prometheus.wait_scrapes_after(traffic.paced.1, SCRAPES_WITHIN)?;
    let mut checks = checks::metrics(&mut prometheus, &plan, &traffic, last_scrape)?;
    drop(prometheus);
    checks.extend(health(todo_port, &token)?);
    let profiles = pprof::run(&pprof::Setup {
        port: todo_port,
        token: &token,
        binary: &binary,
        dir: &dir.0,
        seconds: CPU_SECONDS,
        ids: &traffic.ids,
        heap_note,
    })?;
    checks.extend(profiles.checks);
    drop(todo);

    let section = report::section(&report::Inputs {
        command: opts.command(),
        plan: &plan,
        traffic: &traffic,
        checks: &checks,
        excerpts: &profiles.excerpts,
        commands: &commands,
    });
    println!("{section}");
    report::write(&section, !opts.quick)?;
    eprintln!("observe took {:.0} s", started.elapsed().as_secs_f64());
    let failed: Vec<&str> =
        checks.iter().filter(|c| c.verdict == Verdict::Fail).map(|c| c.what.as_str()).collect();
    if failed.is_empty() { Ok(()) } else { Err(format!("failed: {}", failed.join("; "))) }
}

/// Installs Debian package `package` when `program` is missing, without
/// its recommendations: Debian's `prometheus` recommends
/// `prometheus-node-exporter`, a daemon of its own on every interface.
fn install(program: &str, package: &str) -> Result<(), String> {
    if util::has(program) {
        return Ok(());
    }
    eprintln!("`{program}` is missing: installing the Debian package `{package}` with apt-get");
    util::run(Command::new("apt-get").args(["update", "-qq"]))?;
    util::run(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends", package])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    if package == "prometheus" {
        stop_packaged_service();
    }
    util::has(program)
        .then_some(())
        .ok_or_else(|| format!("`{program}` still missing after installing `{package}`"))
}

/// Debian's `prometheus` package enables a `prometheus.service` that
/// listens on every interface (`:9090`); on a host where systemd started
/// it, stop and disable it: this command runs its own Prometheus, on
/// 127.0.0.1 only.
fn stop_packaged_service() {
    let active = Command::new("systemctl")
        .args(["is-active", "--quiet", "prometheus"])
        .status()
        .is_ok_and(|status| status.success());
    if active {
        eprintln!("stopping and disabling the packaged prometheus.service (it listens on :9090)");
        if let Err(err) =
            util::run(Command::new("systemctl").args(["disable", "--now", "prometheus"]))
        {
            eprintln!("could not stop prometheus.service: {err}");
        }
    }
}

/// Whether a `Cargo.toml` declares `feature` in its `[features]` table.
fn declares_feature(manifest: &str, feature: &str) -> bool {
    let mut in_features = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_features = line == "[features]";
        } else if in_features
            && line.split_once('=').is_some_and(|(name, _)| name.trim() == feature)
        {
            return true;
        }
    }
    false
}

/// Builds the todo example, with [`PROFILING_FEATURE`] when the examples
/// declare it: the binary, and why a heap profile cannot come if they do
/// not.
fn build() -> Result<(PathBuf, Option<String>), String> {
    let manifest = util::root().join("examples/Cargo.toml");
    let manifest =
        std::fs::read_to_string(&manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let mut cmd = util::main_cargo();
    cmd.args(["build", "--release", "-p", "mambo-examples", "--bin", "todo"]);
    let heap_note = if declares_feature(&manifest, PROFILING_FEATURE) {
        cmd.args(["--features", PROFILING_FEATURE]);
        None
    } else {
        Some(format!(
            "built without heap profiling: examples/Cargo.toml declares no `{PROFILING_FEATURE}` feature"
        ))
    };
    util::run(&mut cmd)?;
    Ok((util::main_target_dir().join("release/todo"), heap_note))
}

/// A fresh operator token: 16 random bytes in hex.
fn token() -> Result<String, String> {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| format!("/dev/urandom: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Starts the todo service on `port` and waits until `GET /health` answers.
fn start_todo(
    binary: &Path,
    port: u16,
    token: &str,
    commands: &mut Vec<String>,
) -> Result<Guarded, String> {
    let mut cmd = Command::new(binary);
    cmd.args(["--port", &port.to_string()])
        .env("TODO_ADMIN_TOKEN", token)
        // The access log would cost a formatted line per request.
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null());
    commands
        .push(format!("TODO_ADMIN_TOKEN=<token> RUST_LOG=warn target/release/todo --port {port}"));
    let mut todo = Guarded::spawn("todo", cmd)?;
    let deadline = Instant::now() + TODO_READY_WITHIN;
    loop {
        if let Some(status) = todo.exited()? {
            return Err(format!("todo exited before serving ({status})"));
        }
        if probe::request(port, "GET", "/health").is_ok_and(|r| r.status == 200) {
            return Ok(todo);
        }
        if Instant::now() > deadline {
            return Err(format!("todo did not answer GET /health within {TODO_READY_WITHIN:?}"));
        }
        child::pause(Duration::from_millis(50))?;
    }
}

/// `GET /healthz` and `GET /readyz`: 200 (without the token, as a probe
/// asks, or with it when the route is an operator's), or skipped on 404.
fn health(port: u16, token: &str) -> Result<Vec<Check>, String> {
    let mut client = http::Client::new(port, Duration::from_secs(5));
    let bearer = format!("Bearer {token}");
    let mut checks = Vec::new();
    for path in HEALTH_PATHS {
        let what = format!("{path} answers 200 while serving");
        let mut answer = client.get(path, &[])?;
        let mut how = "";
        if matches!(answer.status, 401 | 403) {
            answer = client.get(path, &[("Authorization", &bearer)])?;
            how = " (with the token)";
        }
        let query = format!("GET {path}");
        checks.push(match answer.status {
            404 => Check::skipped(
                &what,
                &query,
                format!("{path} answered 404 (this todo build does not serve it)"),
            ),
            status => {
                let body: String = answer.text().chars().take(60).collect();
                Check::new(
                    &what,
                    &query,
                    format!("{status}{how} {body}"),
                    "200".into(),
                    status == 200,
                )
            }
        });
    }
    Ok(checks)
}

/// This run's directory under the system's temporary directory (Prometheus's
/// configuration and storage, the profiles, Go's home), removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir, String> {
        let dir = std::env::temp_dir().join(format!("mambo-observe-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options() {
        let parse =
            |args: &[&str]| Options::parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(parse(&[]).unwrap(), Options { quick: false });
        assert_eq!(parse(&["--quick"]).unwrap().command(), "cargo xtask observe --quick");
        assert!(parse(&["--slow"]).is_err());
    }

    #[test]
    fn finds_features_only_in_the_features_table() {
        let manifest = "[package]\nprofiling = 1\n\n[features]\ndefault = [\"a\"]\nprofiling = [\"dep:x\"]\n\n[dependencies]\n";
        assert!(declares_feature(manifest, "profiling"));
        assert!(declares_feature(manifest, "default"));
        assert!(!declares_feature(manifest, "prof"));
        assert!(!declares_feature("[package]\nprofiling = 1\n", "profiling"));
    }

    #[test]
    fn tokens_are_fresh_hex() {
        let (a, b) = (token().unwrap(), token().unwrap());
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
