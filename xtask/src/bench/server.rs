//! The servers under load: which binaries, how to build and start them, and a
//! guard that kills each one when it goes out of scope.

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::{Options, probe};
use crate::util;

/// A server binary and its arguments (`--port` is added at start).
#[derive(Debug, Clone)]
pub struct Spec {
    /// Name in reports (`raw-hyper`, `mambo-tpc`, …).
    pub name: String,
    /// Path of the release binary.
    pub program: PathBuf,
    /// Arguments besides `--port`.
    pub args: Vec<String>,
}

impl Spec {
    /// The same server run by `program` (a wrapper that execs it, such as
    /// `taskset` or `valgrind`) with `options` before the server's command line.
    pub fn run_under(&self, program: &str, options: &[String]) -> Spec {
        let args = options
            .iter()
            .cloned()
            .chain([self.program.display().to_string()])
            .chain(self.args.iter().cloned())
            .collect();
        Spec { name: self.name.clone(), program: program.into(), args }
    }
}

/// A started server; killed and reaped on drop.
pub struct Running {
    /// Name in reports.
    pub name: String,
    /// Port on 127.0.0.1.
    pub port: u16,
    child: Child,
}

impl Running {
    /// Starts `spec` on `port` with `ulimit -n` raised to the hard limit, and
    /// waits until `GET /ping` answers (10 s at most).
    pub fn start(spec: &Spec, port: u16) -> Result<Running, String> {
        Running::start_with(spec, port, "/ping", &[])
    }

    /// [`start`](Running::start) with `env` added to the server's
    /// environment, waiting until `GET ready` answers 200 instead.
    pub fn start_with(
        spec: &Spec,
        port: u16,
        ready: &str,
        env: &[(&str, String)],
    ) -> Result<Running, String> {
        let mut cmd = Command::new("bash");
        cmd.arg("-c")
            .arg(r#"ulimit -n "$(ulimit -Hn)" && exec "$0" "$@""#)
            .arg(&spec.program)
            .args(&spec.args)
            .args(["--port", &port.to_string()])
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        let env_shown: String = env.iter().map(|(k, v)| format!("{k}={v} ")).collect();
        eprintln!(
            "starting {}: {env_shown}{} {} --port {port}",
            spec.name,
            spec.program.display(),
            spec.args.join(" ")
        );
        let child = cmd.spawn().map_err(|e| format!("{}: {e}", spec.program.display()))?;
        let mut running = Running { name: spec.name.clone(), port, child };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = running.child.try_wait() {
                return Err(format!("{} exited before serving ({status})", spec.name));
            }
            if probe::request(port, "GET", ready).is_ok_and(|r| r.status == 200) {
                return Ok(running);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} did not answer GET {ready} on port {port} within 10 s",
                    spec.name
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Process id (the server itself: the shell `exec`s it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM (a graceful shutdown, for servers that handle it).
    pub fn signal_term(&mut self) -> Result<(), String> {
        util::sigterm(&self.child)
    }

    /// Waits up to `within` for the server to exit; its exit status, or
    /// `None` if it is still running (it is killed on drop).
    pub fn wait_exit(&mut self, within: Duration) -> Result<Option<ExitStatus>, String> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Ok(Some(status));
            }
            if Instant::now() > deadline {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Builds the peers (release, fat LTO) and returns their specs.
pub fn peers(threads: usize) -> Result<Vec<Spec>, String> {
    util::run(util::peers_cargo().args([
        "build",
        "--release",
        "-p",
        "raw-hyper",
        "-p",
        "axum-hello",
        "-p",
        "actix-hello",
        "-p",
        "xitca-hello",
    ]))?;
    let bin = |name: &str| util::peers_dir().join("target/release").join(name);
    let threads = threads.to_string();
    let spec = |name: &str, program: &str, mode: Option<&str>| {
        let mut args = vec!["--threads".to_owned(), threads.clone()];
        if let Some(mode) = mode {
            args.extend(["--mode".to_owned(), mode.to_owned()]);
        }
        Spec { name: name.into(), program: bin(program), args }
    };
    Ok(vec![
        spec("raw-hyper", "raw-hyper", Some("multi")),
        spec("raw-hyper-tpc", "raw-hyper", Some("tpc")),
        spec("axum", "axum-hello", None),
        spec("actix-web", "actix-hello", None),
        spec("xitca-web", "xitca-hello", None),
    ])
}

/// The Mambo server of the contract: `--mambo-bin`, else a release build
/// of `mambo-bench-server` (crate `mambo-github-router`: the hello endpoints
/// and the GitHub set in one `router!`; built with
/// `mambo-bench-server-layer`, see [`with_layer`]). `None` (with the reason
/// printed) when neither works.
pub fn mambo_hello(opts: &Options) -> Option<PathBuf> {
    if let Some(path) = &opts.mambo_bin {
        if path.is_file() {
            return Some(path.clone());
        }
        eprintln!("skipping Mambo: --mambo-bin {} is not a file", path.display());
        return None;
    }
    let built = util::run(util::main_cargo().args([
        "build",
        "--release",
        "-p",
        "mambo-github-router",
        "--bin",
        "mambo-bench-server",
        "--bin",
        "mambo-bench-server-layer",
        "--bin",
        "mambo-bench-server-metrics",
    ]));
    match built {
        Ok(()) => Some(util::main_target_dir().join("release/mambo-bench-server")),
        Err(e) => {
            eprintln!("skipping Mambo: could not build mambo-bench-server ({e})");
            None
        }
    }
}

/// The Mambo rows (multi-thread and thread-per-core) for a hello binary.
pub fn mambo(program: PathBuf, threads: usize) -> Vec<Spec> {
    ["multi", "tpc"]
        .into_iter()
        .map(|mode| Spec {
            name: if mode == "multi" { "mambo".into() } else { "mambo-tpc".into() },
            program: program.clone(),
            args: vec!["--threads".into(), threads.to_string(), "--mode".into(), mode.into()],
        })
        .collect()
}

/// `mambo+layer`: `mambo`'s server with the same routes behind one tower
/// layer, `mambo-bench-server-layer` beside `mambo`'s binary (the `cpu`
/// suite's measure of what a layer costs). `None` when there is no such
/// file (a `--mambo-bin` from before it existed).
pub fn with_layer(mambo: &Spec) -> Option<Spec> {
    variant(mambo, "layer")
}

/// `mambo+metrics`: `mambo`'s server with the same routes recording
/// per-route metrics, `mambo-bench-server-metrics` beside `mambo`'s binary.
/// `None` when there is no such file.
pub fn with_metrics(mambo: &Spec) -> Option<Spec> {
    variant(mambo, "metrics")
}

/// `mambo+{suffix}`, the binary `{mambo's}-{suffix}` with `mambo`'s flags.
fn variant(mambo: &Spec, suffix: &str) -> Option<Spec> {
    let mut program = mambo.program.clone().into_os_string();
    program.push(format!("-{suffix}"));
    let program = PathBuf::from(program);
    program.is_file().then(|| Spec {
        name: format!("{}+{suffix}", mambo.name),
        program,
        args: mambo.args.clone(),
    })
}

/// One worker thread each, multi-thread mode only: Mambo first (unless it
/// could not be built, which goes into `notes`), then raw hyper, axum,
/// actix-web and xitca-web. For the suites that give each server one core to itself.
pub fn single_worker(opts: &Options, notes: &mut Vec<String>) -> Result<Vec<Spec>, String> {
    let mut specs: Vec<Spec> =
        peers(1)?.into_iter().filter(|s| !s.name.ends_with("-tpc")).collect();
    match mambo_hello(opts) {
        Some(bin) => specs.insert(0, mambo(bin, 1).swap_remove(0)),
        None => notes.push("Mambo: skipped (no mambo-bench-server binary)".to_owned()),
    }
    Ok(specs)
}

/// Server threads for load tests: half the cores (at least one), leaving the
/// rest to the load generator on the same machine.
pub fn server_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}
