//! The segment tree the lookup is generated from, and the conflicts found
//! while building it.
//!
//! Priority follows matchit: at each position a static segment is tried
//! first, then the parameter, then the catch-all; when a branch fails deeper
//! down, the next one is tried. A position may hold any number of static
//! segments but only one parameter name, and not both a parameter and a
//! catch-all (matchit rejects that set as ambiguous).

use std::collections::BTreeMap;

use super::model::{ANY_METHOD, Route};
use crate::pattern::Segment;

/// A position in the path, after some segments have matched.
#[derive(Default)]
pub struct Node {
    /// Routes whose pattern ends here.
    pub leaf: Vec<usize>,
    /// Static children, by segment text (sorted: the generated code is stable).
    pub statics: BTreeMap<String, Node>,
    /// The parameter child: its name and subtree.
    pub param: Option<(String, Box<Node>)>,
    /// The catch-all child: its name and the routes ending in it.
    pub catch_all: Option<(String, Vec<usize>)>,
    /// Parameters matched above this node: the slot a parameter here fills.
    pub params_above: usize,
}

impl Node {
    /// Whether any segment may follow this node.
    pub fn has_children(&self) -> bool {
        !self.statics.is_empty() || self.param.is_some() || self.catch_all.is_some()
    }
}

/// Builds the tree, reporting conflicting and duplicate routes.
pub fn build(routes: &[Route], errors: &mut Vec<syn::Error>) -> Node {
    let mut root = Node::default();
    for route in routes {
        if let Err(err) = insert(&mut root, route, routes) {
            errors.push(err);
        }
    }
    root
}

fn insert(root: &mut Node, route: &Route, routes: &[Route]) -> syn::Result<()> {
    let mut node = root;
    for (position, segment) in route.pattern.segments.iter().enumerate() {
        let params_above = node.params_above;
        match segment {
            Segment::Static(text) => {
                node = node
                    .statics
                    .entry(text.clone())
                    .or_insert_with(|| Node { params_above, ..Node::default() });
            }
            Segment::Param(name) => {
                if let Some((other, leaf)) = &node.catch_all {
                    return Err(conflict(route, position, &format!("*{other}"), leaf[0], routes));
                }
                let (existing, child) = node.param.get_or_insert_with(|| {
                    (
                        name.clone(),
                        Box::new(Node { params_above: params_above + 1, ..Node::default() }),
                    )
                });
                if existing != name {
                    let existing = existing.clone();
                    return Err(param_name_conflict(route, name, &existing, child, routes));
                }
                node = child;
            }
            Segment::CatchAll(name) => {
                if let Some((other, child)) = &node.param {
                    let other_route = first_route(child);
                    return Err(conflict(
                        route,
                        position,
                        &format!(":{other}"),
                        other_route,
                        routes,
                    ));
                }
                let (existing, leaf) =
                    node.catch_all.get_or_insert_with(|| (name.clone(), Vec::new()));
                if existing != name {
                    let first = leaf[0];
                    return Err(conflict(route, position, &format!("*{existing}"), first, routes));
                }
                check_duplicate(route, leaf, routes)?;
                leaf.push(route.index);
                return Ok(());
            }
        }
    }
    check_duplicate(route, &node.leaf, routes)?;
    node.leaf.push(route.index);
    Ok(())
}

/// Some route in a subtree, for messages.
fn first_route(node: &Node) -> usize {
    node.leaf
        .first()
        .copied()
        .or_else(|| node.catch_all.as_ref().map(|(_, leaf)| leaf[0]))
        .or_else(|| node.statics.values().map(first_route).next())
        .or_else(|| node.param.as_ref().map(|(_, child)| first_route(child)))
        .expect("a tree node always leads to a route")
}

/// Same pattern (up to parameter names, which must agree anyway) and a
/// shared method: a request could not tell the two routes apart.
fn check_duplicate(route: &Route, leaf: &[usize], routes: &[Route]) -> syn::Result<()> {
    for &other in leaf {
        let other = &routes[other];
        let any = |methods: &[String]| methods.iter().any(|m| m == ANY_METHOD);
        let shared = if any(&route.methods) {
            other.methods.first()
        } else if any(&other.methods) {
            route.methods.first()
        } else {
            route.methods.iter().find(|m| other.methods.contains(m))
        };
        if let Some(method) = shared {
            let mut err = syn::Error::new(
                route.path_lit().span(),
                format!(
                    "duplicate route `{method} {}`: `{}` already answers it; change the method or the path, or remove one",
                    route.pattern.to_text(),
                    other.handler_text(),
                ),
            );
            err.combine(syn::Error::new(
                other.path_lit().span(),
                format!("note: `{method} {}` is first declared here", other.pattern.to_text()),
            ));
            return Err(err);
        }
    }
    Ok(())
}

fn param_name_conflict(
    route: &Route,
    name: &str,
    existing: &str,
    child: &Node,
    routes: &[Route],
) -> syn::Error {
    let other = &routes[first_route(child)];
    let mut err = syn::Error::new(
        route.path_lit().span(),
        format!(
            "route parameter `:{name}` conflicts with `:{existing}` at the same position in `{}`: routes sharing a prefix must name the parameter alike; write `:{existing}`",
            other.describe()
        ),
    );
    err.combine(syn::Error::new(
        other.path_lit().span(),
        format!("note: `:{existing}` is declared here"),
    ));
    err
}

fn conflict(
    route: &Route,
    position: usize,
    existing: &str,
    other: usize,
    routes: &[Route],
) -> syn::Error {
    let other = &routes[other];
    let ours = &route.pattern.segments[position];
    let mut err = syn::Error::new(
        route.path_lit().span(),
        format!(
            "`{ours}` in `{}` conflicts with `{existing}` of `{}`: at one position routes may have either one parameter or one catch-all, not both (as in matchit); put a static segment before one of them",
            route.pattern.to_text(),
            other.describe()
        ),
    );
    err.combine(syn::Error::new(
        other.path_lit().span(),
        format!("note: `{existing}` is declared here"),
    ));
    err
}

/// A path as text, `users::get_user`.
pub fn path_text(path: &syn::Path) -> String {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let lead = if path.leading_colon.is_some() { "::" } else { "" };
    format!("{lead}{}", segments.join("::"))
}

#[cfg(test)]
mod tests {
    use proc_macro2::Span;

    use super::*;
    use crate::pattern;
    use crate::payload::Payload;

    /// Routes from `"METHOD /pattern"` rows, as `router!` would model them.
    fn routes(rows: &[&str]) -> Vec<Route> {
        rows.iter()
            .enumerate()
            .map(|(index, row)| {
                let (methods, path) = row.rsplit_once(' ').unwrap();
                let methods: Vec<String> = methods.split('|').map(str::to_owned).collect();
                let payload = Payload {
                    valid: true,
                    name: syn::Ident::new(&format!("h{index}"), Span::call_site()),
                    is_async: true,
                    methods: methods
                        .iter()
                        .map(|m| syn::Ident::new(m, Span::call_site()))
                        .collect(),
                    path: syn::LitStr::new(path, Span::call_site()),
                    body_limit: None,
                    timeout_ms: None,
                    args: Vec::new(),
                    output: syn::ReturnType::Default,
                };
                Route {
                    index,
                    handler: syn::parse_str(&format!("h{index}")).unwrap(),
                    payload,
                    pattern: pattern::parse(path).unwrap(),
                    methods,
                    scope_middleware: Vec::new(),
                    service: None,
                    mounted: None,
                    metrics: false,
                }
            })
            .collect()
    }

    fn errors(rows: &[&str]) -> Vec<String> {
        let mut errors = Vec::new();
        build(&routes(rows), &mut errors);
        errors.iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn accepted_route_sets() {
        let sets: &[&[&str]] = &[
            &["GET /users/new", "GET /users/:id", "GET /users/:id/posts"],
            &["GET /static/*path", "GET /static/index.html", "GET /static/css/site.css"],
            &["GET /a", "GET /a/", "POST /a"],
            &["GET /users/:id", "DELETE /users/:id", "PUT|PATCH /users/:id"],
            &["GET /", "GET /:top", "GET /:top/b"],
            &["GET /x/*rest", "PURGE /x/*rest"],
        ];
        for set in sets {
            assert_eq!(errors(set), Vec::<String>::new(), "{set:?}");
        }
    }

    #[test]
    fn conflicts_and_duplicates() {
        let rows: &[(&[&str], &str)] = &[
            (&["GET /u/:id", "GET /u/:name/x"], "`:name` conflicts with `:id`"),
            (&["GET /src/:id", "GET /src/*path"], "conflicts with `:id`"),
            (&["GET /src/*path", "GET /src/:id"], "conflicts with `*path`"),
            (&["GET /src/*path", "GET /src/:id/x"], "conflicts with `*path`"),
            (&["GET /f/*a", "POST /f/*b"], "conflicts with `*a`"),
            (&["GET /users", "GET /users"], "duplicate route `GET /users`"),
            (&["GET|POST /users", "PUT|POST /users"], "duplicate route `POST /users`"),
            (&["GET /a/:id", "GET /a/:id"], "duplicate route `GET /a/:id`"),
            (&["GET /f/*rest", "GET /f/*rest"], "duplicate route `GET /f/*rest`"),
        ];
        for (set, expected) in rows {
            let found = errors(set);
            assert_eq!(found.len(), 1, "{set:?}: {found:?}");
            assert!(found[0].contains(expected), "{set:?}: {}", found[0]);
        }
    }

    #[test]
    fn every_bad_route_is_reported_at_once() {
        let found =
            errors(&["GET /a", "GET /a", "GET /b/:x", "GET /b/:y", "GET /c/:x", "GET /c/*y"]);
        assert_eq!(found.len(), 3, "{found:?}");
    }

    #[test]
    fn tree_shape_and_parameter_slots() {
        let mut errors = Vec::new();
        let root = build(
            &routes(&["GET /repos/:owner/:repo/events", "GET /repos/:owner", "GET /files/*path"]),
            &mut errors,
        );
        assert!(errors.is_empty());
        let repos = &root.statics["repos"];
        let (owner, owner_node) = repos.param.as_ref().unwrap();
        assert_eq!(owner, "owner");
        assert_eq!(owner_node.leaf, [1]);
        assert_eq!(owner_node.params_above, 1, "the next parameter fills slot 1");
        let (_, repo_node) = owner_node.param.as_ref().unwrap();
        assert_eq!(repo_node.statics["events"].leaf, [0]);
        let files = &root.statics["files"];
        assert_eq!(
            files.catch_all.as_ref().map(|(name, leaf)| (name.as_str(), leaf.clone())),
            Some(("path", vec![2]))
        );
        assert_eq!(files.params_above, 0);
    }
}
