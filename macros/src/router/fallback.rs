//! `fallback: handler`: what answers a request no route matches, instead of
//! the JSON 404, for the whole router or under a scope.
//!
//! The handler is declared with `#[fallback]` (its carrier appends
//! `{ fallback { payload } }`, a route payload without methods or
//! pattern), so that its arguments reach `router!` like a route's: every
//! one is an extractor. A miss is answered by the fallback of the innermost
//! scope whose prefix the path starts with (a parameter matches any
//! non-empty segment), else by the router's own; a path that matches a
//! route but not its method stays a 405, and a trailing-slash redirect stays
//! a redirect. A fallback runs inside the middleware of its scope, like a
//! route of that scope. A mounted router's fallbacks answer under the
//! prefix it is mounted at, inside its own middleware.

use syn::{LitStr, Path};

use super::model::Router;
use crate::pattern::{Pattern, Segment};
use crate::payload::Payload;

/// A fallback of the router.
pub struct Fallback {
    /// Position in the router's fallbacks (`__MAMBO_FALLBACKS`).
    pub index: usize,
    /// The full prefix it answers under; empty for the router's own.
    pub prefix: Pattern,
    /// The handler path as written (for a mounted router's, as read from
    /// this router), for messages and comments.
    pub handler: Path,
    /// Indices into `Router::middleware` of the scope middleware around it.
    pub scope_middleware: Vec<usize>,
    pub kind: Kind,
}

/// Whose fallback it is.
pub enum Kind {
    /// This router's: the `fallback:` path as written and the handler's
    /// `#[fallback]` data.
    Own { path: Path, payload: Payload },
    /// A mounted router's.
    Mounted { mount: usize, child_index: usize },
}

/// One fallback of a mounted router, as its carrier hands it on.
pub struct MountedFallback {
    /// Position in the mounted router's fallbacks.
    pub index: usize,
    /// Its prefix within the mounted router.
    pub prefix: LitStr,
    /// Its handler path as the mounted router lists it.
    pub handler: LitStr,
}

impl Fallback {
    /// `/admin → admin::not_found`, the comment on generated code.
    pub fn summary(&self) -> String {
        let prefix = self.prefix.to_text();
        let prefix = if prefix.is_empty() { "/".to_owned() } else { prefix };
        format!("{prefix} → {}", super::tree::path_text(&self.handler))
    }
}

/// Adds this router's fallback of a scope with prefix `prefix` (`None`
/// when the prefix did not parse; that error is already reported).
pub fn add_own(
    router: &mut Router,
    path: &Path,
    payload: Payload,
    prefix: Option<&Pattern>,
    scope_middleware: &[usize],
) {
    let Some(prefix) = prefix else { return };
    router.fallbacks.push(Fallback {
        index: router.fallbacks.len(),
        prefix: prefix.clone(),
        handler: path.clone(),
        scope_middleware: scope_middleware.to_vec(),
        kind: Kind::Own { path: path.clone(), payload },
    });
}

/// The order in which a miss tries the fallbacks: innermost first, that is
/// the longest prefix, static segments before parameters at one position,
/// and among equal prefixes the one declared later in the walk (a mounted
/// router's before the scope it is mounted in). Indices into
/// `Router::fallbacks`.
pub fn order(router: &Router) -> Vec<usize> {
    let mut order: Vec<usize> = (0..router.fallbacks.len()).rev().collect();
    order.sort_by_key(|&i| {
        let segments = &router.fallbacks[i].prefix.segments;
        let shape: Vec<bool> = segments.iter().map(|s| !matches!(s, Segment::Static(_))).collect();
        (std::cmp::Reverse(segments.len()), shape)
    });
    order
}

/// Runs the checks on the router's fallbacks.
pub fn check(router: &Router, errors: &mut Vec<syn::Error>) {
    one_per_prefix(router, errors);
    no_scope_layer_around(router, errors);
}

/// Behind a layer the request is looked up again and goes to the routes
/// behind it; a miss there does not find its way back to a fallback, so a
/// fallback may not sit inside a scope's `layer(..)` (the router's own
/// layers are fine: the whole dispatch, misses included, is behind them).
fn no_scope_layer_around(router: &Router, errors: &mut Vec<syn::Error>) {
    for fallback in &router.fallbacks {
        let layer =
            fallback.scope_middleware.iter().find_map(|&i| router.middleware[i].def.layer.as_ref());
        if let Some(keyword) = layer {
            let mut err = syn::Error::new(
                keyword.span(),
                "a scope with a `layer(..)` cannot have a fallback inside it yet: move the layer to the router's own `middleware:` (it then wraps misses too), or the fallback out of this scope",
            );
            if let Kind::Own { path, .. } = &fallback.kind {
                err.combine(syn::Error::new_spanned(path, "note: the fallback under that layer"));
            }
            errors.push(err);
        }
    }
}

/// Two fallbacks of one router under the same prefix could not be told
/// apart; only one would ever answer.
fn one_per_prefix(router: &Router, errors: &mut Vec<syn::Error>) {
    let own: Vec<(&Fallback, &Path)> = router
        .fallbacks
        .iter()
        .filter_map(|f| match &f.kind {
            Kind::Own { path, .. } => Some((f, path)),
            Kind::Mounted { .. } => None,
        })
        .collect();
    for (i, (fallback, path)) in own.iter().enumerate() {
        let this = shape(&fallback.prefix);
        let Some((first, first_path)) = own[..i].iter().find(|(f, _)| shape(&f.prefix) == this)
        else {
            continue;
        };
        let prefix = fallback.prefix.to_text();
        let prefix = if prefix.is_empty() { "/".to_owned() } else { prefix };
        let mut err = syn::Error::new_spanned(
            path,
            format!(
                "a second fallback for `{prefix}`: `{}` already answers misses there; keep one",
                super::tree::path_text(&first.handler)
            ),
        );
        err.combine(syn::Error::new_spanned(
            first_path,
            format!("note: the fallback for `{prefix}` is first given here"),
        ));
        errors.push(err);
    }
}

/// A prefix up to parameter names.
fn shape(prefix: &Pattern) -> Vec<Option<&str>> {
    prefix
        .segments
        .iter()
        .map(|segment| match segment {
            Segment::Static(text) => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

/// The prefix as the runtime's `under_prefix` takes it: static segments as
/// they are, a parameter as `:` (which no static segment contains).
pub fn prefix_segments(prefix: &Pattern) -> Vec<String> {
    prefix
        .segments
        .iter()
        .map(|segment| match segment {
            Segment::Static(text) => text.clone(),
            _ => ":".to_owned(),
        })
        .collect()
}
