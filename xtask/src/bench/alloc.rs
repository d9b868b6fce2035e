//! `bench alloc`: allocations and bytes per request on the server side of a
//! real hyper connection (`xtask/bench-peers/alloc-bench`, a counting global
//! allocator), Mambo vs raw hyper, per endpoint.

use super::Options;
use super::report::Table;
use crate::util;

/// Runs the suite and writes `bench-results/alloc.md`.
pub fn run(opts: &Options) -> Result<(), String> {
    let manifest = std::fs::read_to_string(util::peers_dir().join("alloc-bench/Cargo.toml"))
        .unwrap_or_default();
    let mut cmd = util::peers_cargo();
    cmd.args(["run", "--release", "--quiet", "-p", "alloc-bench"]);
    if manifest.lines().any(|l| l.trim_start().starts_with("mambo-bench-app")) {
        cmd.args(["--features", "mambo"]);
    } else {
        eprintln!(
            "note: no Mambo rows: alloc-bench does not depend on `mambo-bench-app` yet (see xtask/bench-peers/README.md)"
        );
    }
    let requests = if opts.quick { "2000" } else { "20000" };
    cmd.args(["--", "--requests", requests]);
    let command = util::show(&cmd);
    let out = util::output(&mut cmd)?;
    let mut t = Table::new(&["endpoint", "server", "allocs / request", "bytes / request"]);
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
    for row in rows {
        t.row(row);
    }
    let md = format!(
        "## Allocations per request\n\n\
         Server side of one keep-alive HTTP/1.1 connection on 127.0.0.1, through hyper's real \
         connection code; only allocations made on the server's thread are counted (counting \
         global allocator), after a warm-up, averaged over {requests} requests. The GitHub row \
         cycles through all 203 requests.\n\n{}\nCommand:\n\n```sh\n(cd xtask/bench-peers && {command})\n```\n",
        t.render()
    );
    std::fs::write(util::results_dir().join("alloc.md"), &md).map_err(|e| e.to_string())?;
    println!("{md}");
    Ok(())
}
