//! `lookup`: the generated `lookup` of the GitHub router (203 routes) and
//! of the overlapping static / parameter / catch-all router, against matchit
//! ([`mambo_github_router::oracle`]) on arbitrary method and path bytes.
//!
//! Input: `METHOD path` (split at the first space; `GET` without one). The
//! method must be a valid HTTP token and the path UTF-8 (a `&str` is all
//! `lookup` accepts); other inputs are skipped. Both routers must give
//! matchit's answer: the same route with the same raw parameters, the same
//! 405 `Allow`, or the same miss.

use std::sync::LazyLock;

use mambo::Method;
use mambo_github_router::oracle::{Answer, Oracle};
use mambo_github_router::{github, overlap};

static GITHUB: LazyLock<(github::GithubApi, Oracle)> =
    LazyLock::new(|| (github::GithubApi::new(), Oracle::new(github::TABLE)));

static OVERLAP: LazyLock<(overlap::OverlapApi, Oracle)> =
    LazyLock::new(|| (overlap::OverlapApi::new(), Oracle::new(overlap::TABLE)));

/// Panics when either router's answer differs from matchit's.
pub fn check(data: &[u8]) {
    let (method, path) = crate::split_method(data);
    let (Ok(method), Ok(path)) = (Method::from_bytes(method), std::str::from_utf8(path)) else {
        return;
    };
    let (api, oracle) = &*GITHUB;
    same("GithubApi", &method, path, Answer::of(api.lookup(&method, path)), oracle);
    let (api, oracle) = &*OVERLAP;
    same("OverlapApi", &method, path, Answer::of(api.lookup(&method, path)), oracle);
}

fn same(router: &str, method: &Method, path: &str, got: Answer, oracle: &Oracle) {
    let expected = oracle.answer(method.as_str(), path);
    assert_eq!(got, expected, "{router}: {method} {path:?}: mambo (left) != matchit (right)");
}

#[cfg(test)]
mod tests {
    #[test]
    fn seeds_pass() {
        crate::seeds::replay("lookup", super::check);
    }
}
