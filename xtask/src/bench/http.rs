//! `bench http`: every server × endpoint under wrk (HTTP/1.1) and h2load
//! (h2c), runs interleaved (A B C A B C …), medians reported.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::report::{self, Table};
use super::server::{self, Running, Spec};
use super::{Options, chart, h2load, probe, rss, wrk};
use crate::util;

/// One endpoint under load.
pub(super) struct Endpoint {
    pub(super) name: &'static str,
    /// URL path for wrk (the GitHub script overrides it per request).
    pub(super) path: &'static str,
    /// wrk Lua script, for the GitHub set.
    pub(super) script: Option<PathBuf>,
    /// Paths h2load cycles through (round-robin).
    pub(super) h2_paths: Vec<String>,
}

/// The four endpoints of the contract (`xtask/bench-peers/README.md`).
pub(super) fn endpoints() -> Result<Vec<Endpoint>, String> {
    let script = util::peers_dir().join("wrk/github.lua");
    let lua = std::fs::read_to_string(&script).map_err(|e| format!("{}: {e}", script.display()))?;
    let github: Vec<String> = lua
        .lines()
        .filter_map(|l| Some(l.trim().strip_prefix('"')?.strip_suffix("\",")?.to_owned()))
        .collect();
    let fixed = |name, path: &'static str| Endpoint {
        name,
        path,
        script: None,
        h2_paths: vec![path.to_owned()],
    };
    Ok(vec![
        fixed("plaintext", "/plaintext"),
        fixed("json", "/json"),
        fixed("user-post", "/user/42/post/hello-world"),
        Endpoint { name: "github", path: "/", script: Some(script), h2_paths: github },
    ])
}

/// Durations and repetitions.
struct Plan {
    runs: usize,
    secs: u32,
    warmup_secs: u32,
    conns: u32,
}

impl Plan {
    fn new(opts: &Options) -> Plan {
        if opts.quick {
            Plan { runs: 3, secs: 2, warmup_secs: 1, conns: 50 }
        } else {
            Plan { runs: 3, secs: 8, warmup_secs: 2, conns: 50 }
        }
    }
}

/// Samples of one (server, endpoint, protocol).
#[derive(Default)]
struct Samples {
    rate: Vec<f64>,
    p50: Vec<f64>,
    p99: Vec<f64>,
    non_2xx: u64,
    errors: u64,
}

type Key = (String, &'static str, &'static str);

/// Runs the suite and writes `bench-results/http.{md,tsv}` and the chart.
pub fn run(opts: &Options) -> Result<(), String> {
    util::ensure_tool("wrk", "wrk")?;
    util::ensure_tool("h2load", "nghttp2-client")?;
    let threads = server::server_threads();
    let mut specs: Vec<Spec> = server::peers(threads)?;
    let mut notes = Vec::new();
    match server::mambo_hello(opts) {
        Some(bin) => specs.splice(0..0, server::mambo(bin, threads)).for_each(drop),
        None => notes.push("Mambo: skipped (could not build `mambo-github-router --bin mambo-bench-server`; or pass --mambo-bin)".into()),
    }

    let mut running: Vec<Running> = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        match Running::start(spec, 18080 + i as u16) {
            Ok(r) => running.push(r),
            Err(e) if spec.name.starts_with("mambo") => {
                eprintln!("skipping {}: {e}", spec.name);
                notes.push(format!("{}: skipped ({e})", spec.name));
            }
            Err(e) => return Err(e),
        }
    }
    for server in &running {
        let errors = probe::check_contract(server.port)?;
        if !errors.is_empty() {
            notes.push(format!(
                "{}: {} contract mismatches, e.g. {}",
                server.name,
                errors.len(),
                errors[0]
            ));
        }
    }

    let plan = Plan::new(opts);
    let endpoints = endpoints()?;
    let mut samples: BTreeMap<Key, Samples> = BTreeMap::new();
    let mut commands = Vec::new();
    for protocol in ["h1", "h2c"] {
        for round in 0..=plan.runs {
            // Round 0 is the warm-up and is thrown away.
            let secs = if round == 0 { plan.warmup_secs } else { plan.secs };
            for ep in &endpoints {
                for server in &running {
                    eprintln!(
                        "[{protocol} round {round}/{}] {} {}",
                        plan.runs, server.name, ep.name
                    );
                    let key = (server.name.clone(), ep.name, protocol);
                    if protocol == "h1" {
                        let s =
                            wrk::run(server.port, ep.path, ep.script.as_deref(), plan.conns, secs)?;
                        if round == 1 && std::ptr::eq(server, &running[0]) {
                            commands.push(util::show(&wrk::command(
                                server.port,
                                ep.path,
                                ep.script.as_deref(),
                                plan.conns,
                                secs,
                            )));
                        }
                        if round > 0 {
                            let e = samples.entry(key).or_default();
                            e.rate.push(s.req_per_sec);
                            e.p50.push(s.p50_ms);
                            e.p99.push(s.p99_ms);
                            e.non_2xx += s.non_2xx;
                            e.errors += s.socket_errors;
                        }
                    } else {
                        let paths: Vec<&str> = ep.h2_paths.iter().map(String::as_str).collect();
                        let s = h2load::run(server.port, &paths, plan.conns.min(20), secs)?;
                        if round == 1 && ep.script.is_none() && commands.len() < endpoints.len() + 1
                        {
                            commands.push(util::show(&h2load::command(
                                server.port,
                                &paths,
                                plan.conns.min(20),
                                secs,
                            )));
                        }
                        if round > 0 {
                            let e = samples.entry(key).or_default();
                            e.rate.push(s.req_per_sec);
                            e.p50.push(s.mean_ms);
                            e.non_2xx += s.non_2xx;
                            e.errors += s.failed;
                        }
                    }
                }
            }
        }
    }
    let peak: Vec<(String, Option<u64>)> =
        running.iter().map(|r| (r.name.clone(), rss::peak_kib(r.pid()))).collect();
    drop(running);

    let names: Vec<String> = peak.iter().map(|(n, _)| n.clone()).collect();
    let md = render(&names, &endpoints, &samples, &peak, &plan, &commands, &notes, threads);
    let dir = util::results_dir();
    std::fs::write(dir.join("http.md"), &md).map_err(|e| e.to_string())?;
    let mut tsv = String::from(
        "server\tendpoint\tprotocol\tmedian_req_per_s\tp50_ms\tp99_ms\tnon_2xx\terrors\n",
    );
    let mut chart_rows = String::new();
    for ((server, endpoint, protocol), s) in &samples {
        tsv.push_str(&format!(
            "{server}\t{endpoint}\t{protocol}\t{:.0}\t{:.3}\t{:.3}\t{}\t{}\n",
            util::median(&s.rate),
            util::median(&s.p50),
            util::median(&s.p99),
            s.non_2xx,
            s.errors
        ));
    }
    for ep in &endpoints {
        for name in &names {
            if let Some(s) = samples.get(&(name.clone(), ep.name, "h1")) {
                chart_rows.push_str(&format!(
                    "{}\t{name}\t{:.0}\n",
                    ep.name,
                    util::median(&s.rate)
                ));
            }
        }
    }
    std::fs::write(dir.join("http.tsv"), tsv).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("http-chart.tsv"), chart_rows).map_err(|e| e.to_string())?;
    if let Err(e) = chart::draw(&dir.join("http-chart.tsv"), &dir.join("http.png")) {
        eprintln!("chart not drawn: {e}");
    }
    println!("{md}");

    let bad: Vec<String> = samples
        .iter()
        .filter(|(_, s)| s.non_2xx > 0 || s.errors > 0)
        .map(|((n, e, p), s)| format!("{n} {e} {p}: {} non-2xx, {} errors", s.non_2xx, s.errors))
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!("responses that must not happen:\n{}", bad.join("\n")))
    }
}

#[allow(clippy::too_many_arguments)]
fn render(
    names: &[String],
    endpoints: &[Endpoint],
    samples: &BTreeMap<Key, Samples>,
    peak: &[(String, Option<u64>)],
    plan: &Plan,
    commands: &[String],
    notes: &[String],
    threads: usize,
) -> String {
    let mut md = String::from("## HTTP throughput\n\n");
    md.push_str(&format!(
        "Median of {} interleaved runs of {} s each (after one {} s warm-up per server × endpoint); \
         {} connections, wrk `-t1`; servers run with `--threads {threads}` on 127.0.0.1.\n\
         `raw-hyper` is the limit: hyper 1.x with a hand-written `match` (the GitHub set goes \
         through matchit + a method table, see `xtask/bench-peers/README.md`).\n\n",
        plan.runs, plan.secs, plan.warmup_secs, plan.conns
    ));
    for (protocol, title) in
        [("h1", "HTTP/1.1 (wrk)"), ("h2c", "h2c (h2load, 10 streams per connection)")]
    {
        md.push_str(&format!("### {title}\n\n"));
        let lat = if protocol == "h1" { ["p50 ms", "p99 ms"] } else { ["mean ms", "—"] };
        let mut t = Table::new(&[
            "endpoint",
            "server",
            "req/s",
            lat[0],
            lat[1],
            "non-2xx",
            "errors",
            "vs raw-hyper",
        ]);
        for ep in endpoints {
            let base = samples
                .get(&("raw-hyper".to_owned(), ep.name, protocol))
                .map(|s| util::median(&s.rate));
            for name in names {
                let Some(s) = samples.get(&(name.clone(), ep.name, protocol)) else { continue };
                let rate = util::median(&s.rate);
                t.row(vec![
                    ep.name.to_owned(),
                    name.clone(),
                    report::rate(rate),
                    format!("{:.2}", util::median(&s.p50)),
                    if protocol == "h1" {
                        format!("{:.2}", util::median(&s.p99))
                    } else {
                        "—".into()
                    },
                    s.non_2xx.to_string(),
                    s.errors.to_string(),
                    base.map_or("—".into(), |b| report::ratio(rate, b)),
                ]);
            }
        }
        md.push_str(&t.render());
        md.push('\n');
        if let Some(mambo) = names.iter().find(|n| n.starts_with("mambo")) {
            let peers: Vec<&String> = names.iter().filter(|n| !n.starts_with("mambo")).collect();
            let mut header = vec!["endpoint".to_owned()];
            header.extend(peers.iter().map(|p| format!("{mambo} / {p}")));
            let mut t = Table::new(&header.iter().map(String::as_str).collect::<Vec<_>>());
            for ep in endpoints {
                let get = |n: &String| {
                    samples.get(&(n.clone(), ep.name, protocol)).map(|s| util::median(&s.rate))
                };
                let mut row = vec![ep.name.to_owned()];
                row.extend(peers.iter().map(|p| match (get(mambo), get(p)) {
                    (Some(m), Some(b)) => report::ratio(m, b),
                    _ => "—".into(),
                }));
                t.row(row);
            }
            md.push_str(&format!("Ratios, {mambo} against each peer (req/s, > 1 is faster):\n\n"));
            md.push_str(&t.render());
            md.push('\n');
        }
    }
    md.push_str("### Peak RSS over the whole run\n\n");
    let mut t = Table::new(&["server", "peak RSS (VmHWM)"]);
    for (name, kib) in peak {
        t.row(vec![
            name.clone(),
            kib.map_or("—".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0)),
        ]);
    }
    md.push_str(&t.render());
    md.push_str("\n![req/s per endpoint per server](benchmarks-http.png)\n\n");
    if !notes.is_empty() {
        md.push_str("Notes:\n\n");
        for n in notes {
            md.push_str(&format!("- {n}\n"));
        }
        md.push('\n');
    }
    md.push_str(
        "Commands (one per endpoint and protocol, as run against the first server):\n\n```sh\n",
    );
    for c in commands {
        md.push_str(c);
        md.push('\n');
    }
    md.push_str("```\n");
    md
}
