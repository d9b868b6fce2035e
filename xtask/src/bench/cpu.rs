//! `bench cpu`: instructions the server executes per request, counted by
//! valgrind's callgrind: Mambo vs raw hyper, axum, actix-web and xitca-web, per
//! endpoint, over HTTP/1.1 and h2c.
//!
//! Why: on a 2-core machine the load generator shares the CPU with the
//! server, and over HTTP/1.1 it saturates first (every server measures about
//! the same req/s). An instruction count does not depend on the load
//! generator, the other core or the machine's noise: the same binary and
//! load give the same count, so small differences are real. It is not a
//! time (cache misses and the kernel's work are not in it), which is why the
//! `http` suite stays the headline.
//!
//! Mambo runs twice: `mambo`, and `mambo+layer`, the same routes behind one
//! tower-http layer (`mambo-bench-server-layer`), so the table shows what a
//! layer costs per request (`mambo+layer / mambo`); and `mambo+metrics`,
//! the same routes recording per-route metrics (`mambo-bench-server-metrics`).
//!
//! Each server runs alone under `valgrind --tool=callgrind` (one worker
//! thread). For each endpoint and protocol, h2load sends a warm-up, then
//! `callgrind_control --zero` resets the counters, h2load sends the measured
//! requests, and `callgrind_control --dump` writes the counts of exactly that
//! window, whose total is divided by the number of requests.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::report::{self, Table};
use super::server::{self, Running};
use super::{Options, http};
use crate::util;

/// Requests measured per (server, endpoint, protocol), and the warm-up.
fn plan(opts: &Options) -> (u32, u32) {
    if opts.quick { (2_000, 500) } else { (20_000, 2_000) }
}

/// The two protocols: h2load's flags for each.
const PROTOCOLS: [(&str, &[&str]); 2] = [
    // Keep-alive, one request at a time per connection, like wrk.
    ("HTTP/1.1", &["--h1", "-c10", "-m1"]),
    ("h2c", &["-c10", "-m10"]),
];

/// Runs the suite and writes `bench-results/cpu.md`.
pub fn run(opts: &Options) -> Result<(), String> {
    util::ensure_tool("valgrind", "valgrind")?;
    util::ensure_tool("h2load", "nghttp2-client")?;
    let (requests, warmup) = plan(opts);
    let mut notes = Vec::new();
    let mut specs = server::single_worker(opts, &mut notes)?;
    if let Some(mambo) = specs.iter().find(|s| s.name == "mambo").cloned() {
        for (suffix, variant) in [
            ("metrics", server::with_metrics as fn(&server::Spec) -> Option<server::Spec>),
            ("layer", server::with_layer),
        ] {
            match variant(&mambo) {
                Some(spec) => specs.insert(1, spec),
                None => notes.push(format!(
                    "mambo+{suffix}: skipped (no {}-{suffix})",
                    mambo.program.display()
                )),
            }
        }
    }
    let endpoints = http::endpoints()?;
    let out_dir = util::results_dir().join("callgrind");
    std::fs::create_dir_all(&out_dir).map_err(|e| e.to_string())?;

    // counts[server][endpoint × protocol]: instructions per request.
    let mut counts: Vec<Vec<Option<f64>>> = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let out_file = out_dir.join(format!("{}.out", spec.name));
        let under_valgrind = spec.run_under(
            "valgrind",
            &[
                "--tool=callgrind".to_owned(),
                format!("--callgrind-out-file={}", out_file.display()),
            ],
        );
        let server = Running::start(&under_valgrind, 18380 + i as u16)?;
        let mut row = Vec::new();
        let mut dumps = 0;
        for ep in &endpoints {
            let paths: Vec<&str> = ep.h2_paths.iter().map(String::as_str).collect();
            for (protocol, flags) in PROTOCOLS {
                eprintln!("[cpu] {} {} {protocol}", spec.name, ep.name);
                let count = measure(&server, &paths, flags, warmup, requests, &out_file, dumps);
                dumps += 1;
                row.push(
                    count.map_err(|e| notes.push(format!("{} {}: {e}", spec.name, ep.name))).ok(),
                );
            }
        }
        counts.push(row);
    }

    let mut header = vec!["endpoint", "protocol"];
    header.extend(specs.iter().map(|s| s.name.as_str()));
    // (numerator, denominator): Mambo against each peer, then the layer
    // against no layer.
    let mut ratios: Vec<(&str, &str)> = specs
        .iter()
        .filter(|s| !s.name.starts_with("mambo"))
        .map(|p| ("mambo", p.name.as_str()))
        .collect();
    ratios.push(("mambo+layer", "mambo"));
    ratios.push(("mambo+metrics", "mambo"));
    let ratio_headers: Vec<String> = ratios.iter().map(|(a, b)| format!("{a} / {b}")).collect();
    header.extend(ratio_headers.iter().map(String::as_str));
    let mut t = Table::new(&header);
    let index = |name: &str| specs.iter().position(|s| s.name == name);
    let mut column = 0;
    for ep in &endpoints {
        for (protocol, _) in PROTOCOLS {
            let mut cells = vec![ep.name.to_owned(), protocol.to_owned()];
            cells.extend(counts.iter().map(|row| row[column].map_or("—".into(), report::rate)));
            for (a, b) in &ratios {
                let cell = match (index(a), index(b)) {
                    (Some(a), Some(b)) => match (counts[a][column], counts[b][column]) {
                        (Some(a), Some(b)) => report::ratio(a, b),
                        _ => "—".into(),
                    },
                    _ => "—".into(),
                };
                cells.push(cell);
            }
            t.row(cells);
            column += 1;
        }
    }
    let mut md = format!(
        "## Instructions per request\n\n\
         User-space instructions the server executes per request (valgrind's callgrind; \
         exact and repeatable, unlike req/s on a machine the load generator shares), \
         {requests} requests after a {warmup}-request warm-up, one worker thread, h2load \
         with 10 connections (HTTP/1.1: one request at a time per connection; h2c: 10 \
         streams each). Lower is better; a ratio below 1 means Mambo does less work. \
         `mambo+layer` is `mambo-bench-server-layer`: the same routes behind one \
         tower-http layer (`SetResponseHeaderLayer::if_not_present`), so `mambo+layer / mambo` \
         is what one layer costs; `mambo+metrics` is `mambo-bench-server-metrics`: the same \
         routes recording per-route metrics (`metrics:` in `router!`), so `mambo+metrics / mambo` \
         is what metrics cost. Not a time: cache misses and the kernel's share are not \
         counted.\n\n{}\n",
        t.render()
    );
    for n in notes {
        md.push_str(&format!("- {n}\n"));
    }
    md.push_str(&format!(
        "\nCommands (per server, then per endpoint and protocol):\n\n```sh\n\
         valgrind --tool=callgrind --callgrind-out-file=OUT SERVER --threads 1 --port PORT\n\
         h2load --h1 -c10 -m1 -n {warmup} URL...   # warm-up (h2c: -c10 -m10)\n\
         callgrind_control --zero PID\n\
         h2load --h1 -c10 -m1 -n {requests} URL...\n\
         callgrind_control --dump PID   # OUT.N: `summary:` / {requests}\n```\n"
    ));
    std::fs::write(util::results_dir().join("cpu.md"), &md).map_err(|e| e.to_string())?;
    println!("{md}");
    Ok(())
}

/// One window: warm-up, zero, `requests` requests, dump; instructions per request.
fn measure(
    server: &Running,
    paths: &[&str],
    flags: &[&str],
    warmup: u32,
    requests: u32,
    out_file: &Path,
    dumps_before: usize,
) -> Result<f64, String> {
    let load = |n: u32| -> Result<(), String> {
        let mut cmd = Command::new("h2load");
        cmd.args(["-t1", &format!("-n{n}")]).args(flags);
        cmd.args(paths.iter().map(|p| format!("http://127.0.0.1:{}{p}", server.port)));
        let out = util::output(&mut cmd)?;
        let done = format!("{n} succeeded");
        if out.contains(&done) && out.contains("status codes: ") && non_2xx(&out) == 0 {
            Ok(())
        } else {
            Err(format!("h2load did not get {n} 2xx answers:\n{out}"))
        }
    };
    let control = |arg: &str| {
        util::output(Command::new("callgrind_control").args([arg, &server.pid().to_string()]))
    };
    load(warmup)?;
    control("--zero")?;
    load(requests)?;
    control("--dump")?;
    let dump = PathBuf::from(format!("{}.{}", out_file.display(), dumps_before + 1));
    let text = std::fs::read_to_string(&dump).map_err(|e| format!("{}: {e}", dump.display()))?;
    let total: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("summary:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("no `summary:` line in {}", dump.display()))?;
    Ok(total / f64::from(requests))
}

/// Responses outside 2xx in h2load's `status codes:` line.
fn non_2xx(out: &str) -> u64 {
    out.lines()
        .find_map(|l| l.trim().strip_prefix("status codes: "))
        .map(|codes| {
            codes
                .split(',')
                .filter_map(|c| {
                    let (n, class) = c.trim().split_once(' ')?;
                    (class != "2xx").then(|| n.parse::<u64>().ok()).flatten()
                })
                .sum()
        })
        .unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_2xx_reads_h2load_status_codes() {
        let out = "requests: 10 total\nstatus codes: 8 2xx, 0 3xx, 2 4xx, 0 5xx\n";
        assert_eq!(non_2xx(out), 2);
        assert_eq!(non_2xx("status codes: 10 2xx, 0 3xx, 0 4xx, 0 5xx"), 0);
        assert_eq!(non_2xx("no report"), u64::MAX);
    }
}
