//! Routers generated from route tables, for the differential tests and the
//! router benchmark: [`github::GithubApi`] (the GitHub REST API set, 203
//! routes) and [`overlap::OverlapApi`] (static, parameter and catch-all
//! routes that overlap and fall back to one another).

/// The GitHub REST API route set.
pub mod github {
    include!(concat!(env!("OUT_DIR"), "/GithubApi.rs"));
}

/// Overlapping static, parameter and catch-all routes.
pub mod overlap {
    include!(concat!(env!("OUT_DIR"), "/OverlapApi.rs"));
}
