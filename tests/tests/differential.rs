//! Differential test: the generated `lookup` against matchit 0.9 used at run
//! time as the oracle, on the GitHub route set and a set of overlapping
//! static / parameter / catch-all routes, over more than 100 000 request
//! paths (the concrete requests and mutations of them).
//!
//! The oracle (matchit, with methods resolved after the match as axum does)
//! lives in `mambo_github_router::oracle`, shared with the `lookup` fuzz
//! target (`fuzz/`), which feeds it arbitrary methods and paths.

use mambo::{Lookup, Method};
use mambo_github_router::oracle::{Answer, Oracle};
use mambo_github_router::{github, overlap};

const METHODS: [&str; 8] = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "PURGE"];

/// Paths derived from `base` by the mutations a real client (or attacker)
/// produces: extra, missing, duplicated or emptied segments, trailing
/// slashes, percent-encodings, and segments swapped for route words.
fn mutations(base: &[String], vocabulary: &[String], count: usize, seed: u64) -> Vec<String> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let path = &base[rng.usize(..base.len())];
        let mut segments: Vec<String> = path[1..].split('/').map(str::to_owned).collect();
        for _ in 0..rng.usize(1..=3) {
            let at = rng.usize(..segments.len());
            match rng.u8(..10) {
                0 => segments.truncate(at.max(1)),
                1 => segments.insert(at, vocabulary[rng.usize(..vocabulary.len())].clone()),
                2 => segments.push(vocabulary[rng.usize(..vocabulary.len())].clone()),
                3 => segments[at] = vocabulary[rng.usize(..vocabulary.len())].clone(),
                4 => segments.push(String::new()),
                5 => segments[at] = String::new(),
                6 => {
                    let doubled = segments[at].clone();
                    segments.insert(at, doubled);
                }
                7 => segments[at] = format!("{}%2F{}", segments[at], rng.u16(..)),
                8 => segments[at] = segments[at].replacen('o', "%6F", 1).replacen('e', "é", 1),
                _ => {
                    if segments.len() > 1 {
                        segments.pop();
                    }
                }
            }
        }
        out.push(format!("/{}", segments.join("/")));
    }
    out
}

fn vocabulary(table: &[(&str, &str)]) -> Vec<String> {
    let mut words: Vec<String> = table
        .iter()
        .flat_map(|(_, pattern)| pattern.split('/'))
        .filter(|s| !s.is_empty() && !s.starts_with(':') && !s.starts_with('*'))
        .map(str::to_owned)
        .collect();
    words.extend(["1337", "x", "new", "rust-lang", "a.b", "-", "~"].map(String::from));
    words.sort();
    words.dedup();
    words
}

/// Runs every (method, path) through both and returns how many were compared.
fn compare<const N: usize>(
    table: &[(&str, &str)],
    paths: &[String],
    lookup: impl for<'p> Fn(&Method, &'p str) -> Lookup<'p, N>,
) -> usize {
    let oracle = Oracle::new(table);
    let mut compared = 0;
    let mut mismatches = 0;
    let mut failures = Vec::new();
    for path in paths {
        for method in METHODS {
            let expected = oracle.answer(method, path);
            let got = Answer::of(lookup(&Method::from_bytes(method.as_bytes()).unwrap(), path));
            if got != expected {
                mismatches += 1;
                if failures.len() < 20 {
                    failures.push(format!(
                        "{method} {path}\n    mambo:   {got:?}\n    matchit: {expected:?}"
                    ));
                }
            }
            compared += 1;
        }
    }
    assert_eq!(mismatches, 0, "mismatches, first ones:\n{}", failures.join("\n"));
    compared
}

#[test]
fn github_routes_match_matchit() {
    let requests: Vec<String> = include_str!("../data/github_requests.txt")
        .lines()
        .filter_map(|line| line.split_once(' ').map(|(_, path)| path.to_owned()))
        .collect();
    assert_eq!(requests.len(), 203);
    let mut paths = requests.clone();
    paths.extend(mutations(&requests, &vocabulary(github::TABLE), 14_000, 0x6d61_6d62));
    let api = github::GithubApi::new();
    let compared = compare(github::TABLE, &paths, |m, p| api.lookup(m, p));
    assert!(compared >= 100_000, "only {compared} comparisons");
}

#[test]
fn overlapping_routes_match_matchit() {
    let base: Vec<String> = [
        "/",
        "/x",
        "/top",
        "/top/b/e",
        "/top/b",
        "/files/new",
        "/files/7",
        "/files/7/raw",
        "/files/new/raw",
        "/files/7/history/3",
        "/static/app.js",
        "/static/index.html",
        "/static/css/site.css",
        "/static/css/other.css",
        "/static/a/b/c",
        "/a/b/c",
        "/a/b/d",
        "/a/z/d",
        "/a/b/d/e/f",
        "/docs",
        "/docs/",
        "/docs/intro",
        "/x/y",
        "/x/y/z",
        "/x/q/r",
        "/users/new",
        "/users/7/posts",
        "/users/7/posts/new",
        "/users/new/posts/new",
        "/users/7/posts/9",
        "/deep/a/b/c/d/e/f",
        "/deep/1/b/3/d/5/f",
        "/deep/a/b/c/d/e/g",
        "/deep/a/b/c/d/e/f/g",
        "/files/a%2Fb/raw",
    ]
    .map(String::from)
    .to_vec();
    let mut paths = base.clone();
    paths.extend(mutations(&base, &vocabulary(overlap::TABLE), 8_000, 0x6f76_6572));
    let api = overlap::OverlapApi::new();
    let compared = compare(overlap::TABLE, &paths, |m, p| api.lookup(m, p));
    assert!(compared >= 60_000, "only {compared} comparisons");
}

#[test]
fn the_oracle_is_not_trivial() {
    // Guards the test itself: the mutated paths must hit, miss and 405.
    let api = overlap::OverlapApi::new();
    let oracle = Oracle::new(overlap::TABLE);
    let paths = mutations(
        &["/files/7/raw".to_owned(), "/docs/intro".to_owned()],
        &vocabulary(overlap::TABLE),
        2_000,
        1,
    );
    let (mut found, mut missed, mut not_allowed) = (0, 0, 0);
    for path in &paths {
        match oracle.answer("DELETE", path) {
            Answer::Found(..) => found += 1,
            Answer::NotFound => missed += 1,
            Answer::MethodNotAllowed(_) => not_allowed += 1,
            Answer::Redirect(_) => unreachable!("the oracle never redirects"),
        }
        let _ = api.lookup(&Method::DELETE, path);
    }
    assert!(found > 50 && missed > 50 && not_allowed > 50, "{found} {missed} {not_allowed}");
}
