//! The routers of the `router` benchmark, each fed the GitHub route set, plus
//! the request mixes and the correctness check every router passes before it
//! is timed.
//!
//! Every router answers with the index of the route in `github_routes.txt`.
//! Path-only routers store a per-path method table (`[(method, route)]`) and
//! read it after the path matched, as axum does with matchit: that read is part
//! of the timed lookup.

#![deny(missing_docs)]

pub mod alloc;
#[cfg(feature = "mambo")]
mod mambo;

use peer_common::{
    Line, expected_params, github_requests, github_routes, github_routes_by_path, to_braces,
};

/// Method table of one path: `(method, index of the route)`.
pub type Methods = Vec<(&'static str, usize)>;

/// What a router says about one request, in a shape every router can give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Route index and param values in path order.
    Found(usize, Vec<String>),
    /// The path matched, the method did not.
    MethodNotAllowed,
    /// Nothing matched.
    NotFound,
}

/// One router under test.
pub trait Bench {
    /// Name in reports.
    fn name(&self) -> &'static str;
    /// The timed lookup: the route index, with the params computed and
    /// handed to `sink` so nothing can be optimised away.
    fn find(&self, method: &str, path: &str, sink: &mut usize) -> Option<usize>;
    /// The full answer, for verification (may allocate; never timed).
    fn outcome(&self, method: &str, path: &str) -> Outcome;
}

fn table(methods: &[(&'static str, usize)], method: &str) -> Option<usize> {
    methods.iter().find(|(m, _)| *m == method).map(|(_, r)| *r)
}

fn route_tables() -> Vec<(&'static str, Methods)> {
    let routes = github_routes();
    github_routes_by_path()
        .into_iter()
        .map(|(pattern, methods)| {
            let table = methods
                .into_iter()
                .map(|m| {
                    (
                        m,
                        routes
                            .iter()
                            .position(|r| r.method == m && r.path == pattern)
                            .expect("route"),
                    )
                })
                .collect();
            (pattern, table)
        })
        .collect()
}

fn method_outcome(methods: &Methods, method: &str, params: Vec<String>) -> Outcome {
    match table(methods, method) {
        Some(route) => Outcome::Found(route, params),
        None => Outcome::MethodNotAllowed,
    }
}

/// matchit 0.9 (the router inside axum).
pub struct Matchit(matchit::Router<Methods>);

impl Matchit {
    /// Builds the router over the GitHub set.
    pub fn new() -> Self {
        let mut router = matchit::Router::new();
        for (pattern, methods) in route_tables() {
            router.insert(to_braces(pattern), methods).expect("no conflicts");
        }
        Matchit(router)
    }
}

impl Default for Matchit {
    fn default() -> Self {
        Self::new()
    }
}

impl Bench for Matchit {
    fn name(&self) -> &'static str {
        "matchit"
    }
    #[inline]
    fn find(&self, method: &str, path: &str, sink: &mut usize) -> Option<usize> {
        let m = self.0.at(path).ok()?;
        for (_, v) in m.params.iter() {
            *sink += v.len();
        }
        table(m.value, method)
    }
    fn outcome(&self, method: &str, path: &str) -> Outcome {
        match self.0.at(path) {
            Ok(m) => method_outcome(
                m.value,
                method,
                m.params.iter().map(|(_, v)| v.to_owned()).collect(),
            ),
            Err(_) => Outcome::NotFound,
        }
    }
}

/// path-tree 0.8.
pub struct PathTree(path_tree::PathTree<Methods>);

impl PathTree {
    /// Builds the router over the GitHub set.
    pub fn new() -> Self {
        let mut tree = path_tree::PathTree::new();
        for (pattern, methods) in route_tables() {
            let _ = tree.insert(pattern, methods);
        }
        PathTree(tree)
    }
}

impl Default for PathTree {
    fn default() -> Self {
        Self::new()
    }
}

impl Bench for PathTree {
    fn name(&self) -> &'static str {
        "path-tree"
    }
    #[inline]
    fn find(&self, method: &str, path: &str, sink: &mut usize) -> Option<usize> {
        let (methods, p) = self.0.find(path)?;
        for (_, v) in p.params_iter() {
            *sink += v.len();
        }
        table(methods, method)
    }
    fn outcome(&self, method: &str, path: &str) -> Outcome {
        match self.0.find(path) {
            Some((m, p)) => {
                method_outcome(m, method, p.params_iter().map(|(_, v)| v.to_owned()).collect())
            }
            None => Outcome::NotFound,
        }
    }
}

/// route-recognizer 0.3 (the router of tide).
pub struct RouteRecognizer(route_recognizer::Router<(Methods, Vec<&'static str>)>);

impl RouteRecognizer {
    /// Builds the router over the GitHub set.
    pub fn new() -> Self {
        let mut router = route_recognizer::Router::new();
        for (pattern, methods) in route_tables() {
            router.add(pattern, (methods, peer_common::param_names(pattern)));
        }
        RouteRecognizer(router)
    }
}

impl Default for RouteRecognizer {
    fn default() -> Self {
        Self::new()
    }
}

impl Bench for RouteRecognizer {
    fn name(&self) -> &'static str {
        "route-recognizer"
    }
    #[inline]
    fn find(&self, method: &str, path: &str, sink: &mut usize) -> Option<usize> {
        let m = self.0.recognize(path).ok()?;
        for (_, v) in m.params().iter() {
            *sink += v.len();
        }
        table(&m.handler().0, method)
    }
    fn outcome(&self, method: &str, path: &str) -> Outcome {
        match self.0.recognize(path) {
            Ok(m) => {
                let (methods, names) = m.handler();
                // Its params are a name-sorted map: put them back in path order.
                let params = names
                    .iter()
                    .map(|n| m.params().find(n).unwrap_or_default().to_owned())
                    .collect();
                method_outcome(methods, method, params)
            }
            Err(_) => Outcome::NotFound,
        }
    }
}

/// actix-router 0.5 (the router of actix-web).
pub struct ActixRouter(actix_router::Router<Methods>);

impl ActixRouter {
    /// Builds the router over the GitHub set.
    pub fn new() -> Self {
        let mut builder = actix_router::Router::build();
        for (pattern, methods) in route_tables() {
            builder.path(to_braces(pattern), methods);
        }
        ActixRouter(builder.finish())
    }
}

impl Default for ActixRouter {
    fn default() -> Self {
        Self::new()
    }
}

impl Bench for ActixRouter {
    fn name(&self) -> &'static str {
        "actix-router"
    }
    #[inline]
    fn find(&self, method: &str, path: &str, sink: &mut usize) -> Option<usize> {
        let mut p = actix_router::Path::new(path);
        let methods = self.0.recognize(&mut p)?.0;
        for (_, v) in p.iter() {
            *sink += v.len();
        }
        table(methods, method)
    }
    fn outcome(&self, method: &str, path: &str) -> Outcome {
        let mut p = actix_router::Path::new(path);
        match self.0.recognize(&mut p) {
            Some((m, _)) => {
                method_outcome(m, method, p.iter().map(|(_, v)| v.to_owned()).collect())
            }
            None => Outcome::NotFound,
        }
    }
}

/// Every router of the benchmark, Mambo first when the `mambo` feature is on.
// `vec![]` cannot hold the cfg-gated Mambo row.
#[allow(clippy::vec_init_then_push)]
pub fn routers() -> Vec<Box<dyn Bench>> {
    let mut out: Vec<Box<dyn Bench>> = Vec::new();
    #[cfg(feature = "mambo")]
    out.push(Box::new(mambo::Mambo::new()));
    out.push(Box::new(Matchit::new()));
    out.push(Box::new(PathTree::new()));
    out.push(Box::new(RouteRecognizer::new()));
    out.push(Box::new(ActixRouter::new()));
    out
}

/// The hit set: one concrete request per GitHub route, with its expected answer.
pub fn hits() -> Vec<(Line, Outcome)> {
    github_routes()
        .into_iter()
        .zip(github_requests())
        .enumerate()
        .map(|(i, (route, req))| {
            let params =
                expected_params(route.path, req.path).into_iter().map(str::to_owned).collect();
            (req, Outcome::Found(i, params))
        })
        .collect()
}

/// The miss-heavy mix: for every request, the request itself plus three misses
/// (the path with a trailing slash: 404; an unused method, `PATCH`: 405; an
/// unknown first segment: 404). Three quarters of the lookups miss.
pub fn miss_mix() -> Vec<(Line, Outcome)> {
    let mut out = Vec::new();
    for (req, expected) in hits() {
        let slash: &'static str = Box::leak(format!("{}/", req.path).into_boxed_str());
        let unknown: &'static str = Box::leak(format!("/v9{}", req.path).into_boxed_str());
        out.push((Line { method: req.method, path: slash }, Outcome::NotFound));
        out.push((Line { method: "PATCH", path: req.path }, Outcome::MethodNotAllowed));
        out.push((Line { method: req.method, path: unknown }, Outcome::NotFound));
        out.push((req, expected));
    }
    out
}

/// Every disagreement of `router` with the expected answers of `set`, as
/// readable lines (empty when the router is right everywhere).
pub fn verify(router: &dyn Bench, set: &[(Line, Outcome)]) -> Vec<String> {
    let mut errors = Vec::new();
    for (req, expected) in set {
        let got = router.outcome(req.method, req.path);
        let mut sink = 0;
        let fast = router.find(req.method, req.path, &mut sink);
        let fast_expected = match expected {
            Outcome::Found(route, _) => Some(*route),
            _ => None,
        };
        if &got != expected || fast != fast_expected {
            errors.push(format!(
                "{}: {} {}: expected {expected:?}, got {got:?} (find: {fast:?})",
                router.name(),
                req.method,
                req.path
            ));
        }
    }
    errors
}

/// Runs the whole set through `find` once; what the benchmark times.
#[inline]
pub fn run_set(router: &dyn Bench, set: &[(Line, Outcome)]) -> usize {
    let mut sink = 0;
    for (req, _) in set {
        if let Some(route) = router.find(req.method, req.path, &mut sink) {
            sink += route;
        }
    }
    sink
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_router_answers_every_hit() {
        let set = hits();
        for router in routers() {
            let errors = verify(router.as_ref(), &set);
            assert!(errors.is_empty(), "{}", errors.join("\n"));
        }
    }

    #[test]
    fn misses_are_reported_per_router() {
        let set = miss_mix();
        assert_eq!(set.len(), 4 * 203);
        for router in routers() {
            // Misses are checked too; a router that answers a trailing-slash
            // path is listed, not hidden.
            let errors = verify(router.as_ref(), &set);
            if !errors.is_empty() {
                eprintln!(
                    "{} disagrees on {} misses, e.g. {}",
                    router.name(),
                    errors.len(),
                    errors[0]
                );
            }
        }
    }
}
