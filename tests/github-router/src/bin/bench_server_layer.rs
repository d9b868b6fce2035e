//! Serves `BenchLayerApi`, the routes of `mambo-bench-server` behind one
//! tower-http layer (it adds an `x-bench-layer` header, which the contract
//! does not check), with the same flags: the `mambo+layer` row of
//! `cargo xtask bench cpu`, what one layer costs per request.
//!
//! A binary of its own rather than a flag: with both routers in one binary,
//! the connection code they share has two callers, LLVM inlines less of it,
//! and the router without a layer measured 2.7% more instructions per
//! HTTP/1.1 request than in a binary of its own, as an app has.

use mambo_github_router::bench::BenchLayerApi;

fn main() -> std::io::Result<()> {
    mambo_github_router::server::main(BenchLayerApi::new())
}
