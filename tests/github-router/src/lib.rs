//! Routers generated from route tables, for the differential tests and the
//! benchmarks:
//!
//! - [`github::GithubApi`]: the GitHub REST API set (203 routes), each
//!   handler answering its pattern;
//! - [`overlap::OverlapApi`]: static, parameter and catch-all routes that
//!   overlap and fall back to one another;
//! - [`bench::BenchApi`]: the GitHub set plus the hello endpoints, the Mambo
//!   side of `cargo xtask bench http` (served by the `mambo-bench-server`
//!   binary), and [`bench::BenchLayerApi`], the same routes behind one
//!   tower-http layer (`mambo-bench-server-layer`, for measuring what a
//!   layer costs).
#![deny(missing_docs)]

/// The GitHub REST API route set.
pub mod github {
    include!(concat!(env!("OUT_DIR"), "/GithubApi.rs"));
}

/// Overlapping static, parameter and catch-all routes.
pub mod overlap {
    include!(concat!(env!("OUT_DIR"), "/OverlapApi.rs"));
}

/// The benchmark contract: `/plaintext`, `/json`, `/user/:id/post/:slug`,
/// `/ping` and the GitHub set; and the same behind one tower layer.
pub mod bench {
    include!(concat!(env!("OUT_DIR"), "/BenchApi.rs"));
}

pub mod server;

/// matchit routing the same tables: the differential tests' oracle.
#[cfg(feature = "oracle")]
pub mod oracle;

pub use mambo::{Lookup, Method};

/// The GitHub routes, in `github_routes.txt` order.
pub const ROUTES: &[mambo::RouteInfo] = github::GithubApi::ROUTES;
