//! `bench pinned`: HTTP/1.1 throughput when the server, not the load
//! generator, is the limit.
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
//! server's own code, where servers differ) and kernel (the same syscalls
//! for every hyper-based server: one `writev` per response, a `recvfrom` per
//! batch), read from `/proc/<pid>/stat` around each run. The kernel's share
//! is most of the core and varies run to run; the user share is what a
//! framework adds.
//!
//! Latency is not reported: with pipelining, wrk times batches, not
//! requests.

use std::collections::BTreeMap;
use std::process::Command;

use super::proc_time::{self, CpuTime};
use super::report::{self, Table};
use super::server::{self, Running, Spec};
use super::{Options, http, wrk};
use crate::util;

/// Requests per write.
const DEPTH: u32 = 16;

/// Connections (each with `DEPTH` requests outstanding).
const CONNS: u32 = 50;

/// The CPU the servers run on, and the one wrk runs on.
const SERVER_CPU: &str = "0";
const CLIENT_CPU: &str = "1";

/// Rounds (after a warm-up round) and their length in seconds.
fn plan(opts: &Options) -> (usize, u32, u32) {
    if opts.quick { (3, 2, 1) } else { (3, 8, 2) }
}

/// Runs the suite and writes `bench-results/pinned.md`.
pub fn run(opts: &Options) -> Result<(), String> {
    util::ensure_tool("wrk", "wrk")?;
    util::ensure_tool("taskset", "util-linux")?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 {
        let md = "## HTTP/1.1, server-bound\n\nNot run: needs two cores (one for the server, one for wrk).\n";
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
    let mut samples: BTreeMap<(String, &str), Vec<Sample>> = BTreeMap::new();
    let mut bad = Vec::new();
    let mut commands = Vec::new();
    for round in 0..=runs {
        let duration = if round == 0 { warmup_secs } else { secs };
        for ep in &endpoints {
            for server in &running {
                eprintln!("[pinned round {round}/{runs}] {} {}", server.name, ep.name);
                let mut cmd = command(server.port, &script, &ep.h2_paths, duration);
                if round == 1 && std::ptr::eq(server, &running[0]) {
                    commands.push(util::show(&cmd));
                }
                let before = proc_time::cpu_time(server.pid());
                let out = util::output(&mut cmd)?;
                let used = proc_time::cpu_time(server.pid()).zip(before).map(|(a, b)| a.since(b));
                let stats = wrk::parse(&out)
                    .ok_or_else(|| format!("could not read wrk's report:\n{out}"))?;
                if stats.non_2xx > 0 || stats.socket_errors > 0 {
                    bad.push(format!(
                        "{} {}: {} non-2xx, {} errors",
                        server.name, ep.name, stats.non_2xx, stats.socket_errors
                    ));
                }
                if round > 0 {
                    samples.entry((server.name.clone(), ep.name)).or_default().push(Sample {
                        rate: stats.req_per_sec,
                        per_request: used.map(|cpu| per_request_us(cpu, stats.requests)),
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

/// One measured run of one server on one endpoint.
struct Sample {
    rate: f64,
    /// User and kernel CPU µs per request, when `/proc` could be read.
    per_request: Option<CpuTime>,
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
fn command(port: u16, script: &std::path::Path, paths: &[String], secs: u32) -> Command {
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

fn render(
    names: &[String],
    endpoints: &[http::Endpoint],
    samples: &BTreeMap<(String, &str), Vec<Sample>>,
    (runs, secs, warmup_secs): (usize, u32, u32),
    commands: &[String],
    notes: &[String],
) -> String {
    let mut md = String::from("## HTTP/1.1, server-bound\n\n");
    md.push_str(&format!(
        "Each server alone on CPU {SERVER_CPU} (`taskset`, one worker thread), wrk on CPU \
         {CLIENT_CPU} pipelining {DEPTH} requests per write over {CONNS} connections, so that the \
         server's core is the limit rather than wrk (in the `http` suite one wrk thread caps every \
         server at about the same rate). Median of {runs} interleaved runs of {secs} s (after a \
         {warmup_secs} s warm-up). Higher req/s is better. The server's CPU time per request \
         (`/proc/<pid>/stat` around each run) is split into user space, where the servers' code \
         differs (lower is better: a user ratio above 1 is more CPU than raw hyper), and kernel, \
         which is most of the core: every hyper-based server makes the same syscalls per request \
         (one `writev` per response, a `recvfrom` per batch), yet its kernel time moves by \
         several percent from run to run, and that moves the req/s ratio as much as the user \
         time does.\n\n"
    ));
    let median_of = |name: &String, ep: &str, value: &dyn Fn(&Sample) -> Option<f64>| {
        let values: Vec<f64> = samples.get(&(name.clone(), ep))?.iter().filter_map(value).collect();
        (!values.is_empty()).then(|| util::median(&values))
    };
    let rate = |s: &Sample| Some(s.rate);
    let user = |s: &Sample| s.per_request.map(|cpu| cpu.user);
    let system = |s: &Sample| s.per_request.map(|cpu| cpu.system);
    let median = |name: &String, ep: &str| median_of(name, ep, &rate);
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
    md.push_str(&t.render());
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
    if !notes.is_empty() {
        md.push_str("\nNotes:\n\n");
        for n in notes {
            md.push_str(&format!("- {n}\n"));
        }
    }
    md.push_str("\nCommands (per endpoint, as run against the first server):\n\n```sh\n");
    for c in commands {
        md.push_str(c);
        md.push('\n');
    }
    md.push_str("```\n");
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
        let shown = util::show(&command(18000, std::path::Path::new("p.lua"), &paths, 8));
        assert!(
            shown.ends_with("-s p.lua http://127.0.0.1:18000 -- 16 /a /b"),
            "unexpected command: {shown}"
        );
        assert!(shown.starts_with("taskset -c 1 wrk -t1 -c50 -d8s"), "{shown}");
    }
}
