//! What the chain carried, paired with the entries that asked for it.
//!
//! Each path listed in `router!` is called as a link of the chain and
//! appends one item: a route's payload (`#[route]`), a fallback's
//! (`#[fallback]`) or a router's (`router!`, for `mount:`). They come back
//! in link order; [`sort`] matches them with the entries, so that a path
//! listed under the wrong entry is reported at the path as written, with
//! the entry to move it to.

use std::vec;

use syn::parse::{Parse, ParseStream};
use syn::{Path, braced};

use super::mount::MountPayload;
use super::parse::{RouterDef, ScopeDef};
use super::tree::path_text;
use crate::payload::Payload;
use crate::route::carrier::invalid_payload;

/// One link of the chain.
pub enum Link<'a> {
    Route(&'a Path),
    Fallback(&'a Path),
    /// The mount's position among the router's mounts, and its path.
    Mount(usize, &'a Path),
}

/// The links in the order the model takes the payloads: in each scope its
/// routes, its fallback, its mounts, then its inner scopes.
pub fn links(def: &RouterDef) -> Vec<Link<'_>> {
    fn walk<'a>(scope: &'a ScopeDef, mounts: &mut usize, out: &mut Vec<Link<'a>>) {
        out.extend(scope.routes.iter().map(Link::Route));
        out.extend(scope.fallback.iter().map(Link::Fallback));
        for path in &scope.mounts {
            out.push(Link::Mount(*mounts, path));
            *mounts += 1;
        }
        for inner in &scope.scopes {
            walk(inner, mounts, out);
        }
    }
    let mut out = Vec::new();
    walk(&def.body, &mut 0, &mut out);
    out
}

/// The paths of a router without mounts, whose chain calls each as written
/// (the same as `RouterDef::flattened_routes` for a router without
/// fallbacks).
pub fn link_paths(def: &RouterDef) -> Vec<&Path> {
    links(def)
        .into_iter()
        .map(|link| match link {
            Link::Route(path) | Link::Fallback(path) | Link::Mount(_, path) => path,
        })
        .collect()
}

/// What a link appended.
pub enum Carried {
    Route(Payload),
    /// `{ fallback { payload } }`.
    Fallback(Payload),
    Mount(MountPayload),
}

impl Parse for Carried {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let fork = input.fork();
        let body;
        braced!(body in fork);
        match body.cursor().ident() {
            Some((word, _)) if word == "mount" => input.parse().map(Carried::Mount),
            Some((word, _)) if word == "fallback" => {
                let body;
                braced!(body in input);
                body.parse::<syn::Ident>()?;
                body.parse().map(Carried::Fallback)
            }
            _ => input.parse().map(Carried::Route),
        }
    }
}

/// The payloads by kind, each in its entries' order.
#[derive(Default)]
pub struct Sorted {
    pub routes: vec::IntoIter<Payload>,
    pub fallbacks: vec::IntoIter<Payload>,
    pub mounts: vec::IntoIter<MountPayload>,
    /// Whether every item was valid: `#[route]`, `#[fallback]` and the
    /// mounted routers reported no error of their own, and nothing was
    /// listed under the wrong entry.
    pub valid: bool,
}

/// Pairs each item with its link; see the module docs.
pub fn sort(def: &RouterDef, carried: Vec<Carried>, errors: &mut Vec<syn::Error>) -> Sorted {
    let mut routes = Vec::new();
    let mut fallbacks = Vec::new();
    let mut mounts = Vec::new();
    for (link, item) in links(def).into_iter().zip(carried) {
        match (link, item) {
            (Link::Route(_), Carried::Route(payload)) => routes.push(payload),
            (Link::Fallback(_), Carried::Fallback(payload)) => fallbacks.push(payload),
            (Link::Mount(_, path), Carried::Mount(payload)) => {
                super::mount::check_payload(path, &payload, errors);
                mounts.push(payload);
            }
            (Link::Route(path), other) => {
                let text = path_text(path);
                let fix = match other {
                    Carried::Fallback(_) => format!(
                        "`{text}` is a fallback (`#[fallback]`), not a route: name it in `fallback: {text}`"
                    ),
                    _ => format!(
                        "`{text}` is a router, not a route handler: mount it with `mount: {text}`"
                    ),
                };
                routes.push(misplaced(def, path, fix, errors));
            }
            (Link::Fallback(path), other) => {
                let text = path_text(path);
                let fix = match other {
                    Carried::Route(_) => format!(
                        "`{text}` is a route (`#[route(..)]`), not a fallback: declare the fallback with `#[fallback]` instead of `#[route(..)]`, or list `{text}` in `routes: [..]`"
                    ),
                    _ => format!(
                        "`{text}` is a router, not a fallback: mount it with `mount: {text}`"
                    ),
                };
                fallbacks.push(misplaced(def, path, fix, errors));
            }
            (Link::Mount(_, path), other) => {
                let text = path_text(path);
                let fix = match other {
                    Carried::Route(_) => {
                        format!(
                            "`{text}` is a route handler, not a router: list it in `routes: [..]`"
                        )
                    }
                    _ => format!(
                        "`{text}` is a fallback (`#[fallback]`), not a router: name it in `fallback: {text}`"
                    ),
                };
                errors.push(syn::Error::new_spanned(path, fix));
                mounts.push(MountPayload::Misplaced);
            }
        }
    }
    let valid = routes.iter().chain(&fallbacks).all(|p| p.valid)
        && mounts.iter().all(MountPayload::is_valid)
        && !mounts.iter().any(|m| matches!(m, MountPayload::Misplaced));
    Sorted {
        routes: routes.into_iter(),
        fallbacks: fallbacks.into_iter(),
        mounts: mounts.into_iter(),
        valid,
    }
}

/// Reports a path listed under the wrong entry; the payload that keeps the
/// entry's place, invalid so that nothing more is said about it.
fn misplaced(
    def: &RouterDef,
    path: &Path,
    message: String,
    errors: &mut Vec<syn::Error>,
) -> Payload {
    errors.push(syn::Error::new_spanned(path, message));
    let name = path.segments.last().map_or_else(|| def.name.clone(), |s| s.ident.clone());
    invalid_payload(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_follow_the_model_order() {
        let def: RouterDef = syn::parse_str(
            "struct Api { routes: [a], mount: M, fallback: f, scope \"/s\" { routes: [b], mount: N } }",
        )
        .unwrap();
        let order: Vec<String> = links(&def)
            .iter()
            .map(|link| match link {
                Link::Route(path) => path_text(path),
                Link::Fallback(path) => format!("fallback {}", path_text(path)),
                Link::Mount(position, path) => format!("{position}:{}", path_text(path)),
            })
            .collect();
        assert_eq!(order, ["a", "fallback f", "0:M", "b", "1:N"]);
    }

    #[test]
    fn carried_items_are_told_apart() {
        for text in ["{ mount none }", "{ mount invalid Api }", "{ mount nested Api }"] {
            let carried: Carried = syn::parse_str(text).unwrap();
            assert!(matches!(carried, Carried::Mount(_)), "{text}");
        }
        let route: Carried = syn::parse_str(r#"{ true get async [GET] "/" _ _ () () }"#).unwrap();
        assert!(matches!(route, Carried::Route(_)));
        let fallback: Carried =
            syn::parse_str(r#"{ fallback { true spa sync [] "" _ _ () () } }"#).unwrap();
        assert!(matches!(fallback, Carried::Fallback(p) if p.name == "spa"));
    }
}
