//! `cargo xtask <command>`: benchmarks and developer helpers for Mambo.
//!
//! ```text
//! cargo xtask bench <router|http|pinned|cpu|alloc|conn|compile|ws|all|report> [--smoke] [--quick] [--mambo-bin PATH]
//! cargo xtask attack [--quick] [--case NAME] [--list] [--allocator system|system-trim|mimalloc|jemalloc]
//! cargo xtask fuzz --minutes N [--target NAME]
//! cargo xtask restart [--quick] [--app hello|todo] [--only rolling|swap]
//! cargo xtask observe [--quick]
//! cargo xtask autobahn [--quick]
//! cargo xtask e2e        # the chat example in headless Chromium (playwright-core)
//! cargo xtask expand     # the example routers after macro expansion
//! cargo xtask routes     # the hello example's ROUTES table
//! ```

mod attack;
mod autobahn;
mod bench;
mod e2e;
mod fuzz;
mod observe;
mod restart;
mod util;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  bench <suite> [options]   run a benchmark suite; suites:
      router    generated lookup vs matchit, path-tree, route-recognizer, actix-router (criterion)
      http      wrk / h2load against Mambo hello, raw hyper, axum, actix-web, xitca-web
      pinned    HTTP/1.1 with the server alone on one core and wrk on the other (pipelined, then not)
      cpu       instructions per request under callgrind (HTTP/1.1, h2c), same servers
      alloc     allocations and bytes per request, Mambo vs raw hyper
      conn      memory per idle keep-alive connection, Mambo vs raw hyper
      compile   clean / incremental build times, 200- and 1000-route apps, Mambo vs axum
      ws        WebSocket echo: messages/s, allocations and server CPU per message, Mambo
                vs tokio-tungstenite, fastwebsockets and axum
      all       every suite, then rewrite BENCHMARKS.md (tables, commands, machine, chart)
      report    only rewrite BENCHMARKS.md from the suites' latest results in bench-results/
                (a suite with none keeps its previous section, marked as carried over)
    options:
      --smoke           router only: verify every router's answers, time nothing (CI-safe)
      --quick           short durations and fewer runs, to check the pipeline end to end
      --mambo-bin PATH  use this Mambo server instead of building `mambo-bench-server`
  attack [options]          hostile clients against release builds of the hello and todo
                            examples (127.0.0.1, each case at most 60 s); rewrites RELIABILITY.md
    options:
      --quick           small counts, ~10 s a case: checks the harness itself
      --case NAME       run one case and print its row (RELIABILITY.md is left alone)
      --list            list the cases
      --allocator NAME  build the examples with system, system-trim (glibc, trimmed every
                        second: the default), mimalloc or jemalloc (examples/src/alloc.rs)
  fuzz --minutes N [--target NAME]
                            run the cargo-fuzz targets of fuzz/ (lookup, param_decode, extractors)
                            N minutes each (installs cargo-fuzz if missing; RUSTC_BOOTSTRAP=1),
                            then rewrite fuzz/RESULTS.md
  restart [options]         zero-downtime restarts of a release example under wrk, on 127.0.0.1:
                            (a) rolling restart of three instances behind nginx, (b) binary swap
                            on one port with SO_REUSEPORT; installs nginx and wrk with apt-get if
                            missing; rewrites the restart section of RELIABILITY.md
    options:
      --quick           15 s of load per check instead of 60 s
      --app NAME        hello (default) or todo
      --only CHECK      rolling or swap: run one check, print its figures, leave RELIABILITY.md
      --write-nginx-conf  regenerate examples/deploy/nginx.conf from the configuration the check runs
  observe [--quick]         the todo example (release) scraped by a real Prometheus and profiled:
                            sends known traffic, then checks Prometheus's answers (counts, rate,
                            histogram_quantile for /todos/:id) and reads the CPU and heap profiles
                            with `go tool pprof -top`; installs prometheus and golang-go with
                            apt-get if missing; 127.0.0.1 only, about a minute; writes
                            bench-results/observe.md and the observe section of BENCHMARKS.md
    options:
      --quick           10 s of traffic instead of 24 s; BENCHMARKS.md is left alone
  autobahn [--quick]        Mambo's WebSocket echo route (release) against the Autobahn TestSuite
                            (wstest fuzzingclient, every case; 127.0.0.1 only); needs Python 2.7
                            (pyenv's is found), installs autobahntestsuite from PyPI into
                            target/autobahn; writes docs/autobahn/summary.md and index.json; fails
                            if a case FAILED
    options:
      --quick           sections 1 to 7 only; docs/autobahn/ is left alone
  e2e                       the chat example (release, 127.0.0.1) in a real browser: headless
                            Chromium driven by playwright-core (xtask/e2e/chat.mjs), two pages,
                            messages over the WebSocket, presence over SSE; installs chromium
                            (apt-get) and playwright-core (npm, into target/e2e) if missing;
                            screenshots in target/e2e/; rewrites docs/e2e/chat.md
  expand [PACKAGE]          print a crate's library after macro expansion (default mambo-examples:
                            the hello and todo routers; mambo-github-router for the GitHub set)
  routes                    print the hello example's route table
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("bench") => bench::Options::parse(&args[1..]).and_then(|opts| bench::run(&opts)),
        Some("attack") => attack::Options::parse(&args[1..]).and_then(|opts| attack::run(&opts)),
        Some("fuzz") => fuzz::Options::parse(&args[1..]).and_then(|opts| fuzz::run(&opts)),
        Some("restart") => restart::Options::parse(&args[1..]).and_then(|opts| restart::run(&opts)),
        Some("autobahn") => {
            autobahn::Options::parse(&args[1..]).and_then(|opts| autobahn::run(&opts))
        }
        Some("observe") => observe::Options::parse(&args[1..]).and_then(|opts| observe::run(&opts)),
        Some("e2e") => e2e::Options::parse(&args[1..]).and_then(|opts| e2e::run(&opts)),
        Some("expand") => util::expand(args.get(1).map(String::as_str)),
        Some("routes") => util::routes(),
        Some("help" | "--help" | "-h") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
