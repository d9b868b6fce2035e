//! `bench pinned`: HTTP/1.1 and h2c throughput when the server, not the
//! load generator, is the limit.
//!
//! Why: in the `http` suite wrk shares the two cores with the server, and a
//! single wrk thread tops out near every server's rate (125–165 k req/s
//! here), so HTTP/1.1 ratios there say more about wrk than about the
//! servers. Here each server gets core 0 to itself (one worker thread,
//! `taskset -c 0`), wrk runs on core 1, and it pipelines 16 requests per
//! write (as TechEmpower's plaintext test does), which cuts its own cost per
//! request far below the server's. The server's core is then saturated, so
//! req/s measures the server's cost per request, kernel included.
//!
//! The server's CPU time per request is split into user space (the
//! server's own code, where servers differ) and kernel (raw hyper and axum:
//! one `writev` per response, a `recvfrom` per batch; Mambo, actix-web and
//! xitca-web: one write per pipelined batch), read from `/proc/<pid>/stat`
//! around each run. The kernel's share
//! is most of the core and varies run to run; the user share is what a
//! framework adds.
//!
//! A second table drops the pipelining: wrk as in the `http` suite (one
//! request outstanding per connection, the GitHub set through
//! `wrk/github.lua`), still on its own core. Every response then costs the
//! server a read and a write of its own, as a browser's or a proxy's traffic
//! does; req/s may be capped by wrk's core rather than the server's, but the
//! CPU time per request is still the server's alone.
//!
//! A third table is h2c: the `http` suite's h2load command (20 connections,
//! 10 streams each), on its own core, so that its cost does not decide the
//! ratio between servers as it does when it shares the two cores.
//!
//! Latency is not reported: with pipelining, wrk times batches, not
//! requests, and the second table keeps the first one's columns.

use std::collections::BTreeMap;
use std::process::Command;

use super::proc_time::{self, CpuTime};
use super::report::{self, Table};
use super::server::{self, Running, Spec};
use super::{Options, h2load, http, wrk};
use crate::util;

/// Requests per write.
const DEPTH: u32 = 16;

/// Connections (each with `DEPTH` requests outstanding).
const CONNS: u32 = 50;

/// h2c connections (each with h2load's 10 streams), as in the `http` suite.
const H2C_CONNS: u32 = 20;

/// The CPU the servers run on, and the one the load generator runs on.
const SERVER_CPU: &str = "0";
const CLIENT_CPU: &str = "1";

/// How wrk sends its requests: one table each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Load {
    /// `DEPTH` requests per write (`wrk/pipeline.lua`).
    Pipelined,
    /// One request outstanding per connection (plain wrk; `wrk/github.lua`
    /// for the GitHub set).
    OneAtATime,
    /// h2c, prior knowledge (h2load, [`H2C_CONNS`] connections of 10
    /// streams).
    H2c,
}

impl Load {
    /// All, in the order they run and are shown.
    const ALL: [Load; 3] = [Load::Pipelined, Load::OneAtATime, Load::H2c];

    /// Name in the progress lines.
    fn name(self) -> &'static str {
        match self {
            Load::Pipelined => "pipelined",
            Load::OneAtATime => "one at a time",
            Load::H2c => "h2c",
        }
    }
}

/// Rounds (after a warm-up round) and their length in seconds.
fn plan(opts: &Options) -> (usize, u32, u32) {
    if opts.quick { (3, 2, 1) } else { (3, 8, 2) }
}

/// Runs the suite and writes `bench-results/pinned.md`.
pub fn run(opts: &Options) -> Result<(), String> {
    util::ensure_tool("wrk", "wrk")?;
    util::ensure_tool("h2load", "nghttp2-client")?;
    util::ensure_tool("taskset", "util-linux")?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 {
        let md = "## Server-bound: one core per server\n\nNot run: needs two cores (one for the server, one for wrk).\n";
        std::fs::write(util::results_dir().join("pinned.md"), md).map_err(|e| e.to_string())?;
        return Ok(());
    }
    let (runs, secs, warmup_secs) = plan(opts);
    let mut notes = Vec::new();
    let specs = server::single_worker(opts, &mut notes)?;
    let pinned: Vec<Spec> = specs.iter().map(pin).collect();
    let mut running = Vec::new();
    for (i, spec) in pinned.iter().enumerate() {
        running.push(Running::start(spec, 18280 + i as u16)?);
    }

    let script = util::peers_dir().join("wrk/pipeline.lua");
    let endpoints = http::endpoints()?;
    let mut samples: BTreeMap<Key, Vec<Sample>> = BTreeMap::new();
    let mut bad = Vec::new();
    let mut commands = Vec::new();
    // Each load its own warm-up and interleaved rounds, like the `http`
    // suite's protocols.
    for (load, round) in Load::ALL.into_iter().flat_map(|l| (0..=runs).map(move |r| (l, r))) {
        let duration = if round == 0 { warmup_secs } else { secs };
        for ep in &endpoints {
            for server in &running {
                eprintln!(
                    "[pinned {} round {round}/{runs}] {} {}",
                    load.name(),
                    server.name,
                    ep.name
                );
                let mut cmd = match load {
                    Load::Pipelined => pipelined(server.port, &script, &ep.h2_paths, duration),
                    Load::OneAtATime => one_at_a_time(server.port, ep, duration),
                    Load::H2c => h2c(server.port, &ep.h2_paths, duration),
                };
                if round == 1 && std::ptr::eq(server, &running[0]) {
                    commands.push(util::show(&cmd));
                }
                let before = proc_time::cpu_time(server.pid());
                let out = util::output(&mut cmd)?;
                let used = proc_time::cpu_time(server.pid()).zip(before).map(|(a, b)| a.since(b));
                let stats = measured(load, &out)
                    .ok_or_else(|| format!("could not read the load generator's report:\n{out}"))?;
                if stats.non_2xx > 0 || stats.errors > 0 {
                    bad.push(format!(
                        "{} {} ({}): {} non-2xx, {} errors",
                        server.name,
                        ep.name,
                        load.name(),
                        stats.non_2xx,
                        stats.errors
                    ));
                }
                if round > 0 {
                    samples.entry((load, server.name.clone(), ep.name)).or_default().push(Sample {
                        rate: stats.rate,
                        per_request: stats
                            .requests
                            .and_then(|requests| used.map(|cpu| per_request_us(cpu, requests))),
                    });
                }
            }
        }
    }
    drop(running);

    let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
    let md = render(&names, &endpoints, &samples, (runs, secs, warmup_secs), &commands, &notes);
    std::fs::write(util::results_dir().join("pinned.md"), &md).map_err(|e| e.to_string())?;
    println!("{md}");
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!("responses that must not happen:\n{}", bad.join("\n")))
    }
}

/// Which table, server and endpoint a sample belongs to.
type Key = (Load, String, &'static str);

/// One measured run of one server on one endpoint.
struct Sample {
    rate: f64,
    /// User and kernel CPU µs per request, when `/proc` could be read.
    per_request: Option<CpuTime>,
}

/// What a run of the load generator reports.
struct Measured {
    rate: f64,
    /// Requests in the window the CPU time was read around (wrk's whole
    /// run; h2load's count leaves out its warm-up, so none).
    requests: Option<u64>,
    non_2xx: u64,
    errors: u64,
}

/// Reads the report of `load`'s load generator.
fn measured(load: Load, out: &str) -> Option<Measured> {
    match load {
        Load::Pipelined | Load::OneAtATime => wrk::parse(out).map(|s| Measured {
            rate: s.req_per_sec,
            requests: Some(s.requests),
            non_2xx: s.non_2xx,
            errors: s.socket_errors,
        }),
        Load::H2c => h2load::parse(out).map(|s| Measured {
            rate: s.req_per_sec,
            requests: None,
            non_2xx: s.non_2xx,
            errors: s.failed,
        }),
    }
}

/// CPU time per request, in µs.
fn per_request_us(used: CpuTime, requests: u64) -> CpuTime {
    let requests = requests.max(1) as f64;
    CpuTime { user: used.user * 1e6 / requests, system: used.system * 1e6 / requests }
}

/// `spec` run under `taskset -c SERVER_CPU`.
fn pin(spec: &Spec) -> Spec {
    spec.run_under("taskset", &["-c".to_owned(), SERVER_CPU.to_owned()])
}

/// wrk on `CLIENT_CPU`, pipelining `DEPTH` requests over `paths`.
fn pipelined(port: u16, script: &std::path::Path, paths: &[String], secs: u32) -> Command {
    let mut cmd = Command::new("taskset");
    cmd.args(["-c", CLIENT_CPU, "wrk", "-t1", &format!("-c{CONNS}"), &format!("-d{secs}s")])
        .args(["--timeout", "5s", "-s"])
        .arg(script)
        .arg(format!("http://127.0.0.1:{port}"))
        .arg("--")
        .arg(DEPTH.to_string())
        .args(paths);
    cmd
}

/// wrk on `CLIENT_CPU`, one request at a time per connection: the `http`
/// suite's command (`wrk/github.lua` for the GitHub set) under `taskset`.
fn one_at_a_time(port: u16, ep: &http::Endpoint, secs: u32) -> Command {
    on_client_cpu(&wrk::command(port, ep.path, ep.script.as_deref(), CONNS, secs))
}

/// h2load on `CLIENT_CPU`: the `http` suite's h2c command under `taskset`.
fn h2c(port: u16, paths: &[String], secs: u32) -> Command {
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    on_client_cpu(&h2load::command(port, &paths, H2C_CONNS, secs))
}

/// `cmd` under `taskset -c CLIENT_CPU`.
fn on_client_cpu(cmd: &Command) -> Command {
    let mut pinned = Command::new("taskset");
    pinned.args(["-c", CLIENT_CPU]).arg(cmd.get_program()).args(cmd.get_args());
    pinned
}

fn render(
    names: &[String],
    endpoints: &[http::Endpoint],
    samples: &BTreeMap<Key, Vec<Sample>>,
    (runs, secs, warmup_secs): (usize, u32, u32),
    commands: &[String],
    notes: &[String],
) -> String {
    let mut md = String::from("## Server-bound: one core per server\n\n");
    md.push_str(&format!(
        "Each server alone on CPU {SERVER_CPU} (`taskset`, one worker thread), wrk on CPU \
         {CLIENT_CPU} with {CONNS} connections, in two ways: pipelining {DEPTH} requests per \
         write, so that the server's core is the limit rather than wrk (in the `http` suite one \
         wrk thread caps every server at about the same rate), then one request at a time per \
         connection, as in the `http` suite; then h2load over h2c on CPU {CLIENT_CPU}, as in \
         the `http` suite. Each way: median of {runs} interleaved runs of \
         {secs} s (after a {warmup_secs} s warm-up). Higher req/s is better. The server's CPU \
         time per request (`/proc/<pid>/stat` around each run) is split into user space, where \
         the servers' code differs (lower is better: a user ratio above 1 is more CPU than raw \
         hyper), and kernel, which is most of the core when a server writes each response with \
         a syscall of its own: raw hyper and axum do (one `writev` per response, a `recvfrom` \
         per batch); Mambo (`server/coalesce.rs`), actix-web and xitca-web write a pipelined \
         batch's responses with one. Kernel time moves by several percent from run to run, \
         and that moves the req/s ratio as much as the user time does.\n\n"
    ));
    for load in Load::ALL {
        match load {
            Load::Pipelined => md.push_str(&format!(
                "### Pipelined ({DEPTH} requests per write)\n\n\
                 The server reads a batch and answers it with few syscalls: req/s measures the \
                 server's cost per request.\n\n"
            )),
            Load::OneAtATime => md.push_str(
                "### One request at a time\n\n\
                 Plain wrk (the GitHub set through `wrk/github.lua`): every response costs the \
                 server a read and a write of its own, so the kernel's share per request grows, \
                 and wrk's core, busy with as many requests, may cap req/s before the server's \
                 does. The µs per request are still the server's own.\n\n",
            ),
            Load::H2c => md.push_str(&format!(
                "### h2c (h2load, {H2C_CONNS} connections of 10 streams)\n\n\
                 The `http` suite's h2c load with h2load on a core of its own. No CPU per \
                 request: h2load's count leaves out its warm-up second, which the CPU time \
                 read around the run includes.\n\n"
            )),
        }
        md.push_str(&tables(load, names, endpoints, samples));
        md.push('\n');
    }
    if !notes.is_empty() {
        md.push_str("Notes:\n\n");
        for n in notes {
            md.push_str(&format!("- {n}\n"));
        }
        md.push('\n');
    }
    md.push_str(
        "Commands (per endpoint, pipelined, one at a time, then h2c, as run against the \
         first server):\n\n```sh\n",
    );
    for c in commands {
        md.push_str(c);
        md.push('\n');
    }
    md.push_str("```\n");
    md
}

/// The table of one load (req/s, CPU per request, ratios to raw hyper), and
/// Mambo's req/s against each peer.
fn tables(
    load: Load,
    names: &[String],
    endpoints: &[http::Endpoint],
    samples: &BTreeMap<Key, Vec<Sample>>,
) -> String {
    let median_of = |name: &String, ep: &'static str, value: &dyn Fn(&Sample) -> Option<f64>| {
        let runs = samples.get(&(load, name.clone(), ep))?;
        let values: Vec<f64> = runs.iter().filter_map(value).collect();
        (!values.is_empty()).then(|| util::median(&values))
    };
    let rate = |s: &Sample| Some(s.rate);
    let user = |s: &Sample| s.per_request.map(|cpu| cpu.user);
    let system = |s: &Sample| s.per_request.map(|cpu| cpu.system);
    let median = |name: &String, ep: &'static str| median_of(name, ep, &rate);
    let micros = |value: Option<f64>| value.map_or("—".into(), |v| format!("{v:.2}"));
    let raw = "raw-hyper".to_owned();
    let mut t = Table::new(&[
        "endpoint",
        "server",
        "req/s",
        "vs raw-hyper",
        "user µs / req",
        "user vs raw-hyper",
        "kernel µs / req",
    ]);
    for ep in endpoints {
        let base = median(&raw, ep.name);
        let base_user = median_of(&raw, ep.name, &user);
        for name in names {
            let Some(rate) = median(name, ep.name) else { continue };
            let name_user = median_of(name, ep.name, &user);
            t.row(vec![
                ep.name.to_owned(),
                name.clone(),
                report::rate(rate),
                base.map_or("—".into(), |b| report::ratio(rate, b)),
                micros(name_user),
                match (name_user, base_user) {
                    (Some(u), Some(b)) => report::ratio(u, b),
                    _ => "—".into(),
                },
                micros(median_of(name, ep.name, &system)),
            ]);
        }
    }
    let mut md = t.render();
    if let Some(mambo) = names.iter().find(|n| n.starts_with("mambo")) {
        let peers: Vec<&String> = names.iter().filter(|n| *n != mambo).collect();
        let mut header = vec!["endpoint".to_owned()];
        header.extend(peers.iter().map(|p| format!("{mambo} / {p}")));
        let mut t = Table::new(&header.iter().map(String::as_str).collect::<Vec<_>>());
        for ep in endpoints {
            let mut row = vec![ep.name.to_owned()];
            row.extend(peers.iter().map(|p| match (median(mambo, ep.name), median(p, ep.name)) {
                (Some(m), Some(b)) => report::ratio(m, b),
                _ => "—".into(),
            }));
            t.row(row);
        }
        md.push_str(&format!("\nRatios, {mambo} against each peer (req/s, > 1 is faster):\n\n"));
        md.push_str(&t.render());
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_are_pinned_with_their_arguments_kept() {
        let spec = Spec {
            name: "raw-hyper".into(),
            program: "/bin/raw-hyper".into(),
            args: vec!["--threads".into(), "1".into()],
        };
        let pinned = pin(&spec);
        assert_eq!(pinned.program, std::path::PathBuf::from("taskset"));
        assert_eq!(pinned.args, ["-c", "0", "/bin/raw-hyper", "--threads", "1"]);
    }

    #[test]
    fn wrk_pipelines_every_path_of_the_endpoint() {
        let paths = vec!["/a".to_owned(), "/b".to_owned()];
        let shown = util::show(&pipelined(18000, std::path::Path::new("p.lua"), &paths, 8));
        assert!(
            shown.ends_with("-s p.lua http://127.0.0.1:18000 -- 16 /a /b"),
            "unexpected command: {shown}"
        );
        assert!(shown.starts_with("taskset -c 1 wrk -t1 -c50 -d8s"), "{shown}");
    }

    #[test]
    fn wrk_one_at_a_time_is_the_http_suites_command_on_the_client_cpu() {
        let ep = http::Endpoint {
            name: "github",
            path: "/",
            script: Some("g.lua".into()),
            h2_paths: Vec::new(),
        };
        assert_eq!(
            util::show(&one_at_a_time(18000, &ep, 8)),
            "taskset -c 1 wrk -t1 -c50 -d8s --timeout 5s --latency -s g.lua http://127.0.0.1:18000/"
        );
    }

    #[test]
    fn h2c_is_the_http_suites_h2load_command_on_the_client_cpu() {
        let paths = vec!["/a".to_owned(), "/b".to_owned()];
        assert_eq!(
            util::show(&h2c(18000, &paths, 8)),
            "taskset -c 1 h2load -t1 -c20 -m10 -D8 --warm-up-time=1 \
             http://127.0.0.1:18000/a http://127.0.0.1:18000/b"
        );
    }

    #[test]
    fn an_h2load_report_gives_no_request_count_for_the_cpu_time() {
        let out = "finished in 9.00s, 250000.00 req/s, 9.00MB/s\n\
                   requests: 2250000 total, 2250000 started, 2250000 done, 2250000 succeeded, 0 failed, 0 errored, 0 timeout\n\
                   status codes: 2250000 2xx, 0 3xx, 0 4xx, 0 5xx\n";
        let m = measured(Load::H2c, out).expect("an h2load report");
        assert_eq!((m.rate, m.requests, m.non_2xx, m.errors), (250000.0, None, 0, 0));
    }
}
