//! The segment tree the lookup is generated from, and the conflicts found
//! while building it.
//!
//! Priority follows matchit: at each position a static segment is tried
//! first, then the parameter, then the catch-all; when a branch fails deeper
//! down, the next one is tried. A position may hold any number of static
//! segments but only one parameter name, and not both a parameter and a
//! catch-all (matchit rejects that set as ambiguous).

use std::collections::BTreeMap;

use super::model::Route;
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
                node = node.statics.entry(text.clone()).or_insert_with(|| Node { params_above, ..Node::default() });
            }
            Segment::Param(name) => {
                if let Some((other, leaf)) = &node.catch_all {
                    return Err(conflict(route, position, &format!("*{other}"), leaf[0], routes));
                }
                let (existing, child) = node
                    .param
                    .get_or_insert_with(|| (name.clone(), Box::new(Node { params_above: params_above + 1, ..Node::default() })));
                if existing != name {
                    let existing = existing.clone();
                    return Err(param_name_conflict(route, name, &existing, child, routes));
                }
                node = child;
            }
            Segment::CatchAll(name) => {
                if let Some((other, child)) = &node.param {
                    let other_route = first_route(child);
                    return Err(conflict(route, position, &format!(":{other}"), other_route, routes));
                }
                let (existing, leaf) = node.catch_all.get_or_insert_with(|| (name.clone(), Vec::new()));
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
        if let Some(method) = route.methods.iter().find(|m| other.methods.contains(m)) {
            let mut err = syn::Error::new(
                route.path_lit().span(),
                format!(
                    "duplicate route `{method} {}`: `{}` already answers it; change the method or the path, or remove one",
                    route.pattern.to_text(),
                    path_text(&other.handler),
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

fn param_name_conflict(route: &Route, name: &str, existing: &str, child: &Node, routes: &[Route]) -> syn::Error {
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

fn conflict(route: &Route, position: usize, existing: &str, other: usize, routes: &[Route]) -> syn::Error {
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
    err.combine(syn::Error::new(other.path_lit().span(), format!("note: `{existing}` is declared here")));
    err
}

/// A path as text, `users::get_user`.
pub fn path_text(path: &syn::Path) -> String {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let lead = if path.leading_colon.is_some() { "::" } else { "" };
    format!("{lead}{}", segments.join("::"))
}
