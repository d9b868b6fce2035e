//! The oracle of the differential tests: matchit 0.9 routing the same
//! table at run time, with the methods resolved after the match as axum
//! does (the route with the method, else `HEAD` falls back to `GET`, else
//! 405 with `Allow`).
//!
//! Shared by `tests/tests/differential.rs` (mutated request paths) and the
//! `lookup` fuzz target (arbitrary method and path bytes), so both hold the
//! generated `lookup` to the same answers.
//!
//! # Examples
//!
//! ```
//! use mambo_github_router::oracle::{Answer, Oracle};
//! use mambo_github_router::{Method, overlap};
//!
//! let oracle = Oracle::new(overlap::TABLE);
//! let api = overlap::OverlapApi::new();
//! let path = "/files/7/raw";
//! assert_eq!(Answer::of(api.lookup(&Method::GET, path)), oracle.answer("GET", path));
//! ```

use std::collections::BTreeMap;

use mambo::{Lookup, TrailingSlash};

/// The order of methods in an `Allow` header, as the generated code writes it.
const ALLOW_ORDER: [&str; 9] =
    ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"];

/// A lookup's answer, owned and comparable: the generated one
/// ([`Answer::of`]) or the oracle's ([`Oracle::answer`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The route's index in the table, and its `(name, raw value)` params.
    Found(usize, Vec<(String, String)>),
    /// 405 with this `Allow`.
    MethodNotAllowed(String),
    /// A trailing-slash redirect; the oracle never answers it (the table
    /// routers are strict), so it is always a mismatch.
    Redirect(TrailingSlash),
    /// 404.
    NotFound,
}

impl Answer {
    /// The answer of a generated router's `lookup`.
    pub fn of<const N: usize>(lookup: Lookup<'_, N>) -> Self {
        match lookup {
            Lookup::Found { route, params } => Answer::Found(
                route,
                params.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect(),
            ),
            Lookup::MethodNotAllowed { allow } => Answer::MethodNotAllowed(allow.to_owned()),
            Lookup::Redirect(direction) => Answer::Redirect(direction),
            Lookup::NotFound => Answer::NotFound,
        }
    }
}

/// matchit routing a `(method, pattern)` table, plus a per-pattern method
/// table.
#[derive(Debug)]
pub struct Oracle {
    matcher: matchit::Router<String>,
    methods: BTreeMap<String, Vec<(String, usize)>>,
}

impl Oracle {
    /// Routes `table` (`TABLE` of [`github`](crate::github) or
    /// [`overlap`](crate::overlap)); route indexes are table rows.
    ///
    /// # Panics
    ///
    /// When matchit refuses a pattern (a conflict the table should not have).
    pub fn new(table: &[(&str, &str)]) -> Self {
        let mut matcher = matchit::Router::new();
        let mut methods: BTreeMap<String, Vec<(String, usize)>> = BTreeMap::new();
        for (index, (method, pattern)) in table.iter().enumerate() {
            let entry = methods.entry(pattern.to_string()).or_default();
            if entry.is_empty() {
                matcher.insert(to_matchit(pattern), pattern.to_string()).unwrap();
            }
            entry.push((method.to_string(), index));
        }
        Oracle { matcher, methods }
    }

    /// What the router should answer to `method path`.
    pub fn answer(&self, method: &str, path: &str) -> Answer {
        let Ok(matched) = self.matcher.at(path) else { return Answer::NotFound };
        let table = &self.methods[matched.value];
        let find = |m: &str| table.iter().find(|(method, _)| method == m).map(|(_, i)| *i);
        let route = find(method).or_else(|| if method == "HEAD" { find("GET") } else { None });
        match route {
            Some(route) => Answer::Found(
                route,
                matched.params.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect(),
            ),
            None => {
                let mut allow: Vec<&str> = table.iter().map(|(m, _)| m.as_str()).collect();
                if allow.contains(&"GET") {
                    allow.push("HEAD");
                }
                allow.push("OPTIONS");
                allow.sort_by_key(|m| {
                    (ALLOW_ORDER.iter().position(|o| o == m).unwrap_or(9), m.to_string())
                });
                allow.dedup();
                Answer::MethodNotAllowed(allow.join(", "))
            }
        }
    }
}

/// A Mambo pattern in matchit's syntax: `:name` → `{name}`, `*name` →
/// `{*name}`.
pub fn to_matchit(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|segment| {
            if let Some(name) = segment.strip_prefix(':') {
                format!("{{{name}}}")
            } else if let Some(name) = segment.strip_prefix('*') {
                format!("{{*{name}}}")
            } else {
                segment.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_in_matchit_syntax() {
        assert_eq!(to_matchit("/a/:b/c/*rest"), "/a/{b}/c/{*rest}");
        assert_eq!(to_matchit("/"), "/");
    }
}
