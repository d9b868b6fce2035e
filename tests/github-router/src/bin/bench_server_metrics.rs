//! Serves `BenchMetricsApi`, the routes of `mambo-bench-server` recording
//! per-route metrics (exposed on `/internal/metrics`), with the same flags:
//! the `mambo+metrics` rows of `cargo xtask bench cpu` and `bench alloc`,
//! what metrics cost per request. A binary of its own for the reason given
//! in `bench_server_layer.rs`.

use mambo_github_router::bench::BenchMetricsApi;

fn main() -> std::io::Result<()> {
    mambo_github_router::server::main(BenchMetricsApi::new())
}
