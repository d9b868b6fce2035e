//! `cargo bench -p router-bench --bench router`: the GitHub set (203 lookups,
//! all hits) and the miss-heavy mix (812 lookups, 3/4 misses) through every
//! router.
//!
//! Before anything is timed every router is verified against the expected
//! route and params of every request (the process exits non-zero otherwise),
//! and allocations per lookup are counted. With `ROUTER_BENCH_OUT=<file>` those
//! counts are written there as TSV (`router suite lookups allocs bytes`).

use std::hint::black_box;
use std::io::Write;

use criterion::{Criterion, Throughput};
use router_bench::{Bench, alloc, hits, miss_mix, routers, run_set, verify};

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

fn count_allocs(
    router: &dyn Bench,
    set: &[(peer_common::Line, router_bench::Outcome)],
) -> (u64, u64) {
    // One warm-up pass so lazily built state is not charged to the lookups.
    black_box(run_set(router, set));
    let before = alloc::snapshot();
    black_box(run_set(router, set));
    let after = alloc::snapshot();
    (after.0 - before.0, after.1 - before.1)
}

fn main() {
    let suites = [("github", hits()), ("miss-mix", miss_mix())];
    let routers = routers();
    let mut report = String::new();
    for router in &routers {
        let errors = verify(router.as_ref(), &suites[0].1);
        if !errors.is_empty() {
            eprintln!(
                "{} is wrong on {} requests:\n{}",
                router.name(),
                errors.len(),
                errors.join("\n")
            );
            std::process::exit(1);
        }
        let misses = verify(router.as_ref(), &suites[1].1);
        if !misses.is_empty() {
            eprintln!(
                "note: {} disagrees on {} miss-mix requests, e.g. {}",
                router.name(),
                misses.len(),
                misses[0]
            );
        }
        for (suite, set) in &suites {
            let (allocs, bytes) = count_allocs(router.as_ref(), set);
            report.push_str(&format!(
                "{}\t{suite}\t{}\t{allocs}\t{bytes}\n",
                router.name(),
                set.len()
            ));
        }
    }
    eprintln!("verified {} routers on {} requests", routers.len(), suites[0].1.len());
    print!("{report}");
    if let Ok(path) = std::env::var("ROUTER_BENCH_OUT") {
        let mut f = std::fs::File::create(&path).expect("ROUTER_BENCH_OUT is writable");
        f.write_all(report.as_bytes()).expect("write alloc report");
    }

    let mut c = Criterion::default().configure_from_args();
    for (suite, set) in &suites {
        let mut group = c.benchmark_group(*suite);
        group.throughput(Throughput::Elements(set.len() as u64));
        for router in &routers {
            group.bench_function(router.name(), |b| {
                b.iter(|| run_set(router.as_ref(), black_box(set)))
            });
        }
        group.finish();
    }
    c.final_summary();
}
