//! `bench router`: the criterion benchmark of `xtask/bench-peers/router-bench`
//! (Mambo's generated lookup when available, matchit, path-tree,
//! route-recognizer, actix-router over the GitHub set and a miss-heavy mix).

use std::path::Path;

use super::Options;
use super::report::{self, Table};
use crate::util;

/// Cargo features for router-bench: `mambo` once its dependency is wired in.
fn features() -> Vec<&'static str> {
    let manifest = std::fs::read_to_string(util::peers_dir().join("router-bench/Cargo.toml"))
        .unwrap_or_default();
    let wired = manifest.lines().any(|l| l.trim_start().starts_with("mambo-github-router"));
    if wired {
        vec!["--features", "mambo"]
    } else {
        eprintln!(
            "note: no Mambo row: router-bench does not depend on `mambo-github-router` yet \
             (see xtask/bench-peers/README.md, \"Hooks\")"
        );
        vec![]
    }
}

/// Runs the suite; with `--smoke` only the correctness checks.
pub fn run(opts: &Options) -> Result<(), String> {
    if opts.smoke {
        return util::run(
            util::peers_cargo()
                .args(["test", "-p", "router-bench", "-p", "peer-common"])
                .args(features()),
        );
    }
    let allocs = util::results_dir().join("router-allocs.tsv");
    let mut cmd = util::peers_cargo();
    cmd.args(["bench", "-p", "router-bench", "--bench", "router"]).args(features()).arg("--");
    if opts.quick {
        cmd.args(["--warm-up-time", "1", "--measurement-time", "2", "--sample-size", "20"]);
    }
    cmd.env("ROUTER_BENCH_OUT", &allocs);
    let command = util::show(&cmd);
    util::run(&mut cmd)?;
    let md = render(&allocs, &util::peers_dir().join("target/criterion"), &command)?;
    std::fs::write(util::results_dir().join("router.md"), &md).map_err(|e| e.to_string())?;
    println!("{md}");
    Ok(())
}

/// The median `point_estimate` (ns) of a criterion `estimates.json`.
fn median_ns(json: &str) -> Option<f64> {
    let rest = &json[json.find("\"median\"")?..];
    let rest = &rest[rest.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
    let end = rest.find([',', '}'])?;
    rest[..end].trim().parse().ok()
}

fn render(allocs: &Path, criterion: &Path, command: &str) -> Result<String, String> {
    let rows = std::fs::read_to_string(allocs).map_err(|e| format!("{}: {e}", allocs.display()))?;
    let mut md = String::from(
        "## Router lookup\n\n\
         The GitHub REST API set (203 routes, one concrete request each) and a miss-heavy mix \
         (each request plus its trailing-slash 404, a `PATCH` 405 and an unknown-prefix 404: 812 \
         lookups, 3/4 misses). Every router is first checked to return the right route and \
         params for every request. Path-only routers read a per-path method table after the \
         match, as axum does with matchit. Criterion median.\n\n",
    );
    for suite in ["github", "miss-mix"] {
        md.push_str(&format!("### {suite}\n\n"));
        let mut t = Table::new(&[
            "router",
            "total for the set",
            "ns / lookup",
            "allocs / lookup",
            "vs matchit",
        ]);
        let mut found = Vec::new();
        for line in rows.lines() {
            let f: Vec<&str> = line.split('\t').collect();
            let [router, s, lookups, n_allocs, _bytes] = f.as_slice() else { continue };
            if *s != suite {
                continue;
            }
            let est = criterion.join(suite).join(router).join("new/estimates.json");
            let ns = std::fs::read_to_string(&est).ok().as_deref().and_then(median_ns);
            let lookups: f64 = lookups.parse().unwrap_or(1.0);
            let n_allocs: f64 = n_allocs.parse().unwrap_or(0.0);
            found.push((router.to_string(), ns, lookups, n_allocs));
        }
        let matchit = found.iter().find(|r| r.0 == "matchit").and_then(|r| r.1);
        for (router, ns, lookups, n_allocs) in found {
            t.row(vec![
                router,
                ns.map_or("—".into(), |ns| format!("{:.2} µs", ns / 1000.0)),
                ns.map_or("—".into(), |ns| format!("{:.1}", ns / lookups)),
                format!("{:.2}", n_allocs / lookups),
                match (ns, matchit) {
                    (Some(a), Some(b)) => report::ratio(a, b),
                    _ => "—".into(),
                },
            ]);
        }
        md.push_str(&t.render());
        md.push('\n');
    }
    md.push_str(&format!("Command:\n\n```sh\n(cd xtask/bench-peers && {command})\n```\n"));
    Ok(md)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_criterion_median() {
        let json = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":2.0},"point_estimate":1.5,"standard_error":0.1},"median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":2.0},"point_estimate":1234.5,"standard_error":0.1}}"#;
        assert_eq!(median_ns(json), Some(1234.5));
    }
}
