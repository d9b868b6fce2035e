//! `bench alloc`: allocations and bytes per request on the server side of a
//! real hyper HTTP/1.1 connection, Mambo (without and with one tower layer)
//! vs raw hyper, per endpoint: the
//! exact counts of `tests/src/alloc_harness.rs` (the harness behind
//! `tests/tests/alloc.rs`), printed by `mambo-tests`' `alloc_report` binary.

use super::Options;
use super::report::{self, Table};
use crate::util;

/// Runs the suite and writes `bench-results/alloc.md`.
pub fn run(opts: &Options) -> Result<(), String> {
    let requests = if opts.quick { "2000" } else { "20000" };
    let mut cmd = util::main_cargo();
    cmd.args(["run", "--release", "--quiet", "-p", "mambo-tests", "--bin", "alloc_report", "--"]);
    cmd.args(["--requests", requests]);
    let command = util::show(&cmd);
    let out = util::output(&mut cmd)?;
    let mut t = Table::new(&[
        "endpoint",
        "server",
        "allocs / request",
        "bytes / request",
        "allocs / mambo's",
    ]);
    let mut rows: Vec<Vec<String>> = out
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let [server, endpoint, _n, allocs, bytes] = f.as_slice() else { return None };
            Some(vec![
                endpoint.to_string(),
                server.to_string(),
                allocs.to_string(),
                bytes.to_string(),
            ])
        })
        .collect();
    rows.sort();
    let allocs = |row: &[String]| row[2].parse::<f64>().ok();
    let mambo: Vec<(String, Option<f64>)> = rows
        .iter()
        .filter(|row| row[1] == "mambo")
        .map(|row| (row[0].clone(), allocs(row)))
        .collect();
    for mut row in rows {
        let base = mambo.iter().find(|(endpoint, _)| *endpoint == row[0]).and_then(|m| m.1);
        row.push(match (allocs(&row), base) {
            (Some(a), Some(b)) => report::ratio(a, b),
            _ => "—".into(),
        });
        t.row(row);
    }
    let md = format!(
        "## Allocations per request\n\n\
         Server side of one keep-alive HTTP/1.1 connection (an in-memory duplex pipe), through \
         hyper's real connection code: Mambo's `serve_connection` (what the accept loop runs), \
         the same with `mambo+layer` (`mambo-bench-server-layer`'s router: the routes behind \
         one tower-http layer, `SetResponseHeaderLayer::if_not_present`), and a raw hyper \
         `service_fn` with a hand-written `match`. A counting global allocator counts \
         only while the server's connection future is polled; {requests} requests after a \
         warm-up, exact per request (the two requests around each change of the cached `Date` \
         header are left out on every server).\n\n{}\nCommand:\n\n```sh\n{command}\n```\n",
        t.render()
    );
    std::fs::write(util::results_dir().join("alloc.md"), &md).map_err(|e| e.to_string())?;
    println!("{md}");
    Ok(())
}
