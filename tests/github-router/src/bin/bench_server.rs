//! Serves `BenchApi` (the hello endpoints and the GitHub set) for
//! `cargo xtask bench http`, with the flags of the benchmark contract
//! (`xtask/bench-peers/README.md`): `--port N` (127.0.0.1), `--threads N`,
//! `--mode multi|tpc`, and `--routes` to print the route table.

use mambo_github_router::bench::BenchApi;

fn main() -> std::io::Result<()> {
    mambo_github_router::server::main(BenchApi::new())
}
