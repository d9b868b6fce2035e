//! The Mambo row: the `lookup` that `router!` generates for the GitHub set
//! (crate `mambo-github-router`, one `#[route]` per line of
//! `github_routes.txt`, in file order).
//!
//! The method arrives as `&str`, like every other row's, and is parsed into
//! an `http::Method` inside the timed call; in a server hyper has already
//! parsed it, so this row pays a little more than Mambo does in production.

use mambo_github_router::github::GithubApi;
use mambo_github_router::{Lookup, Method, ROUTES};

use crate::{Bench, Outcome};

/// Mambo's generated, match-based lookup.
pub struct Mambo(GithubApi);

impl Mambo {
    /// The GitHub router.
    pub fn new() -> Self {
        Mambo(GithubApi::new())
    }
}

impl Default for Mambo {
    fn default() -> Self {
        Mambo::new()
    }
}

fn method(name: &str) -> Method {
    Method::from_bytes(name.as_bytes()).expect("the request mixes use valid methods")
}

impl Bench for Mambo {
    fn name(&self) -> &'static str {
        "mambo"
    }

    #[inline]
    fn find(&self, method_name: &str, path: &str, sink: &mut usize) -> Option<usize> {
        match self.0.lookup(&method(method_name), path) {
            Lookup::Found { route, params } => {
                for (_, v) in params.iter() {
                    *sink += v.len();
                }
                Some(route)
            }
            _ => None,
        }
    }

    fn outcome(&self, method_name: &str, path: &str) -> Outcome {
        match self.0.lookup(&method(method_name), path) {
            Lookup::Found { route, params } => {
                // The data file's index is the route's position in ROUTES
                // (one `#[route]` per line, same order); verification catches a drift.
                assert_eq!(ROUTES[route].pattern, peer_common::github_routes()[route].path);
                Outcome::Found(route, params.iter().map(|(_, v)| v.to_owned()).collect())
            }
            Lookup::MethodNotAllowed { .. } => Outcome::MethodNotAllowed,
            _ => Outcome::NotFound,
        }
    }
}
