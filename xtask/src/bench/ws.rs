//! `bench ws`: WebSocket echo, messages per second and server allocations
//! per message, for Mambo's `ws` (`mambo-bench-ws`), the protocol crates it
//! could build on (tokio-tungstenite 0.30, fastwebsockets 0.10) and axum
//! 0.8's `ws`, all driven by one client (`ws-echo-client`,
//! tokio-tungstenite 0.30).
//!
//! The servers are a table, [`SERVERS`]: a row names a binary in the peers'
//! or the main workspace's `target/release`; both are built first. Every
//! server meets the contract of `xtask/bench-peers/README.md` (WebSocket
//! echo): `--port N --threads N`, `GET /ping` answers 200, `GET /ws` upgrades
//! and echoes every text and binary message, the text `__allocs` is answered
//! with the process's allocation count.
//!
//! Writes `bench-results/ws.md` (which `bench all` puts into
//! `BENCHMARKS.md`, like every suite's section).

use std::path::PathBuf;
use std::process::Command;

use super::report::{self, Table};
use super::server::{Running, Spec};
use super::{Options, proc_time};
use crate::util;

/// Where a server's binary is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Workspace {
    /// `xtask/bench-peers/target/release`, built by this suite.
    Peers,
    /// The main workspace's `target/release`, not built here.
    Main,
}

/// One row of the comparison.
struct Server {
    /// Name in the table.
    name: &'static str,
    /// Binary name.
    binary: &'static str,
    /// Where it is built.
    from: Workspace,
}

/// The servers, in table order; the first row is the ratios' base.
const SERVERS: &[Server] = &[
    Server { name: "tokio-tungstenite", binary: "ws-echo-tungstenite", from: Workspace::Peers },
    Server { name: "fastwebsockets", binary: "ws-echo-fastwebsockets", from: Workspace::Peers },
    Server { name: "axum", binary: "ws-echo-axum", from: Workspace::Peers },
    // Mambo's echo route (`tests/src/bin/bench_ws.rs`), built by `run`.
    Server { name: "mambo", binary: "mambo-bench-ws", from: Workspace::Main },
];

/// Worker threads of every server (and of the client): one core each on a
/// two-core machine.
const THREADS: usize = 1;

/// One client setting, run against every server.
struct Case {
    /// Label in the table.
    label: &'static str,
    connections: usize,
    /// Messages per connection (full run; `--quick` divides by 10).
    messages: usize,
    size: usize,
    binary: bool,
    /// Messages in flight per connection (1: ping-pong).
    window: usize,
}

const CASES: &[Case] = &[
    Case {
        label: "1 conn × 20 000, 32 B text",
        connections: 1,
        messages: 20_000,
        size: 32,
        binary: false,
        window: 1,
    },
    Case {
        label: "64 conns × 2 000, 32 B text",
        connections: 64,
        messages: 2_000,
        size: 32,
        binary: false,
        window: 1,
    },
    Case {
        label: "1 conn × 2 000, 64 KiB binary",
        connections: 1,
        messages: 2_000,
        size: 64 * 1024,
        binary: true,
        window: 1,
    },
    Case {
        label: "1 conn × 100 000, 32 B text, 16 in flight",
        connections: 1,
        messages: 100_000,
        size: 32,
        binary: false,
        window: 16,
    },
];

/// One client run's figures.
#[derive(Debug, Clone, Copy)]
struct Sample {
    msgs_per_sec: f64,
    p50_us: f64,
    p99_us: f64,
    /// `None` when the server does not answer `__allocs`.
    allocs_per_msg: Option<f64>,
    /// Server CPU time (user + system, `/proc`, 10 ms ticks) over the whole
    /// client run, warm-up included, per message sent.
    cpu_us_per_msg: Option<f64>,
}

impl Case {
    fn messages(&self, quick: bool) -> usize {
        if quick { (self.messages / 10).max(100) } else { self.messages }
    }

    fn client_args(&self, port: &str, quick: bool) -> Vec<String> {
        let mut args = vec![
            "--url".to_owned(),
            format!("ws://127.0.0.1:{port}/ws"),
            "--connections".to_owned(),
            self.connections.to_string(),
            "--messages".to_owned(),
            self.messages(quick).to_string(),
            "--size".to_owned(),
            self.size.to_string(),
            "--window".to_owned(),
            self.window.to_string(),
            "--threads".to_owned(),
            THREADS.to_string(),
        ];
        if self.binary {
            args.push("--binary".to_owned());
        }
        args
    }
}

/// Parses the client's JSON line.
fn parse_sample(line: &str) -> Result<Sample, String> {
    let v: serde_json::Value =
        serde_json::from_str(line.trim()).map_err(|e| format!("not JSON ({e}): {line:.200}"))?;
    let f = |k: &str| v[k].as_f64().ok_or_else(|| format!("no `{k}` in {line:.200}"));
    Ok(Sample {
        msgs_per_sec: f("msgs_per_sec")?,
        p50_us: f("p50_us")?,
        p99_us: f("p99_us")?,
        allocs_per_msg: v["allocs_per_msg"].as_f64(),
        cpu_us_per_msg: None,
    })
}

/// Each figure's median over the runs (latencies: those of the median run
/// by messages per second).
fn median_run(mut samples: Vec<Sample>) -> Option<Sample> {
    samples.sort_by(|a, b| a.msgs_per_sec.total_cmp(&b.msgs_per_sec));
    let mut out = *samples.get(samples.len() / 2)?;
    let median_of = |f: fn(&Sample) -> Option<f64>| {
        let v: Vec<f64> = samples.iter().filter_map(f).collect();
        (!v.is_empty()).then(|| util::median(&v))
    };
    out.allocs_per_msg = median_of(|s| s.allocs_per_msg);
    out.cpu_us_per_msg = median_of(|s| s.cpu_us_per_msg);
    Some(out)
}

fn binary_path(server: &Server) -> PathBuf {
    match server.from {
        Workspace::Peers => util::peers_dir().join("target/release").join(server.binary),
        Workspace::Main => util::main_target_dir().join("release").join(server.binary),
    }
}

/// Builds `mambo-bench-ws` (release) and returns its path: the `mambo` row
/// here, and the server `cargo xtask autobahn` tests.
pub fn build_mambo() -> Result<PathBuf, String> {
    util::run(util::main_cargo().args([
        "build",
        "--release",
        "-p",
        "mambo-tests",
        "--bin",
        "mambo-bench-ws",
    ]))?;
    Ok(util::main_target_dir().join("release/mambo-bench-ws"))
}

/// Runs the suite and writes `bench-results/ws.md`.
pub fn run(opts: &Options) -> Result<(), String> {
    let runs = if opts.quick { 1 } else { 5 };
    util::run(util::peers_cargo().args(["build", "--release", "-p", "ws-echo"]))?;
    build_mambo()?;
    let client = util::peers_dir().join("target/release/ws-echo-client");
    let mut notes = Vec::new();
    let mut specs = Vec::new();
    for server in SERVERS {
        let program = binary_path(server);
        if program.is_file() {
            let args = vec!["--threads".to_owned(), THREADS.to_string()];
            specs.push(Spec { name: server.name.to_owned(), program, args });
        } else {
            let note = format!("{}: skipped, no binary {}", server.name, program.display());
            eprintln!("{note}");
            notes.push(note);
        }
    }
    // Every server is up for the whole suite (idle when not loaded), and the
    // runs go round the servers, so that a change in the machine's load
    // (it may be shared) falls on every row alike.
    let mut running = Vec::new();
    for (s, spec) in specs.iter().enumerate() {
        match Running::start(spec, 19400 + s as u16) {
            Ok(server) => running.push((spec, server)),
            Err(e) => notes.push(format!("{}: skipped ({e})", spec.name)),
        }
    }
    // samples[case][server]
    let mut samples: Vec<Vec<Vec<Sample>>> = vec![vec![Vec::new(); running.len()]; CASES.len()];
    for (c, case) in CASES.iter().enumerate() {
        for _ in 0..runs {
            for (s, (spec, server)) in running.iter().enumerate() {
                let mut cmd = Command::new(&client);
                cmd.args(case.client_args(&server.port.to_string(), opts.quick));
                let cpu_before = proc_time::cpu_time(server.pid());
                let sample = util::output(&mut cmd).and_then(|out| parse_sample(&out));
                let cpu =
                    proc_time::cpu_time(server.pid()).zip(cpu_before).map(|(a, b)| a.since(b));
                match sample {
                    Ok(mut sample) => {
                        let messages = case.connections
                            * (case.messages(opts.quick) + case.messages(opts.quick).min(1000));
                        sample.cpu_us_per_msg =
                            cpu.map(|t| (t.user + t.system) * 1e6 / messages as f64);
                        eprintln!("{} / {}: {sample:?}", spec.name, case.label);
                        samples[c][s].push(sample);
                    }
                    Err(e) => notes.push(format!("{} / {}: {e}", spec.name, case.label)),
                }
            }
        }
    }
    let specs: Vec<&Spec> = running.iter().map(|(spec, _)| *spec).collect();
    let results: Vec<Vec<Option<Sample>>> = samples
        .into_iter()
        .map(|per_server| per_server.into_iter().map(median_run).collect())
        .collect();
    let mut t = Table::new(&[
        "case",
        "server",
        "messages/s",
        "ratio",
        "allocs / message",
        "server CPU µs / message",
        "p50 µs",
        "p99 µs",
    ]);
    for (c, case) in CASES.iter().enumerate() {
        let base = results[c].first().copied().flatten().map(|r| r.msgs_per_sec);
        for (s, spec) in specs.iter().enumerate() {
            let Some(r) = results[c][s] else { continue };
            t.row(vec![
                case.label.to_owned(),
                spec.name.clone(),
                report::rate(r.msgs_per_sec),
                base.map_or("—".into(), |b| report::ratio(r.msgs_per_sec, b)),
                r.allocs_per_msg.map_or("—".into(), |a| format!("{a:.4}")),
                r.cpu_us_per_msg.map_or("—".into(), |c| format!("{c:.2}")),
                format!("{:.1}", r.p50_us),
                format!("{:.1}", r.p99_us),
            ]);
        }
    }
    let example = CASES[0].client_args("PORT", opts.quick);
    let mut md = format!(
        "## WebSocket echo\n\n\
         Each server alone on 127.0.0.1 with {THREADS} tokio worker thread, loaded by one client \
         (`ws-echo-client`: tokio-tungstenite 0.30, {THREADS} worker thread, `TCP_NODELAY`). \
         Per connection: a warm-up of min(M, 1000) messages, then M messages, each sent when \
         the previous echo arrived (or up to 16 in flight), every echo checked byte for byte. \
         Every server is up for the whole suite and the runs take turns (server after server, \
         {runs} rounds), so a change in the machine's load falls on every row alike; each figure is \
         the median of the rounds (latencies: of the median run by messages/s); ratio against the first row. Server CPU: user + system \
         time of the server process over the whole client run (warm-up included, 10 ms ticks) \
         / messages sent. Allocations per \
         message: the server's `alloc`+`realloc` calls during the measured phase (a counting \
         global allocator, read through the `__allocs` text message before and after, the cost \
         of one query subtracted) / messages. Servers: tokio-tungstenite 0.30 and \
         fastwebsockets 0.10 behind hyper 1 (http1, upgrades; default configurations), axum \
         0.8 `ws` (tokio-tungstenite 0.29), Mambo's `ws` (`mambo-bench-ws`: a \
         `WebSocketUpgrade` route, default `WebSocketConfig`).\n\n{}\n",
        t.render()
    );
    for n in notes {
        md.push_str(&format!("- {n}\n"));
    }
    md.push_str(&format!(
        "\nCommand: `cargo xtask bench ws{}`; one client run:\n\n```sh\n{} {}\n```\n",
        if opts.quick { " --quick" } else { "" },
        client.display(),
        example.join(" ")
    ));
    std::fs::write(util::results_dir().join("ws.md"), &md).map_err(|e| e.to_string())?;
    println!("{md}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_client_line() {
        let line = r#"{"url":"ws://127.0.0.1:1/ws","msgs_per_sec":1000.5,"p50_us":10.0,"p99_us":20.0,"allocs_per_msg":null}"#;
        let s = parse_sample(line).unwrap();
        assert_eq!((s.msgs_per_sec, s.allocs_per_msg), (1000.5, None));
        assert!(parse_sample("nope").is_err());
    }

    #[test]
    fn mambo_is_a_row_of_its_own_workspace() {
        let mambo = SERVERS.iter().find(|s| s.name == "mambo").unwrap();
        assert_eq!((mambo.binary, mambo.from), ("mambo-bench-ws", Workspace::Main));
        assert_eq!(SERVERS[0].from, Workspace::Peers);
    }
}
