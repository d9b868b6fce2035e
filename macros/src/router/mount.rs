//! `mount: users::UsersApi`: the routes of one `router!` inside another.
//!
//! One dispatcher for the whole tree: the parent's `router!` gathers the
//! child's routes at compile time, as it gathers its handlers' routes, and
//! checks, looks up and dispatches them as its own. At run time a mounted
//! route calls into the child (its middleware, extractors and handler)
//! through a hidden method of the child's struct (`expand::mount`).
//!
//! How the routes travel:
//!
//! - A router without mounts leaves, beside its struct, a hidden
//!   `macro_rules!` re-exported in the macro namespace under the struct's
//!   own name (`pub(crate) use __mambo_router_UsersApi_1a2b3c4d as
//!   UsersApi;`). Called as a link of a parent's chain, it appends a
//!   [`MountPayload`]: the child's routes with their patterns (the child's
//!   scopes included), their positions in the child's `ROUTES` and the
//!   `#[route]` tokens they came from, whose spans conflict errors point at.
//! - A router with mounts runs its chain inside two nested blocks
//!   ([`emit_chain`]): the outer one imports [`not_a_router`] under each
//!   mount's alias, the inner one the mount's path. A path that names a
//!   router resolves to its carrier (the inner scope wins); one that names
//!   something else, a plain struct, resolves to the fallback, which
//!   appends "not a router", so the error can say what to write instead of
//!   rustc's "cannot find `Plain` in `users`"; a path that names nothing is
//!   rustc's unresolved import, with its "a similar name exists" hint.
//!   (Lexical scopes are the only place where such a fallback resolves
//!   without an ambiguity error: inside one module, a macro-expanded import
//!   may not shadow a glob.)
//! - That block is why a router that mounts others cannot itself be
//!   mounted: it finishes inside the block, where a carrier would be out of
//!   the other modules' reach. Such a router leaves a carrier that says so.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Ident, LitInt, LitStr, Path, Token, braced, bracketed};

use super::fallback::{self, Fallback, MountedFallback};
use super::gather::{Link, links};
use super::model::{ANY_METHOD, Route, Router};
use super::parse::{RouterDef, ScopeDef};
use super::tree::path_text;
use crate::pattern::{self, Pattern};
use crate::payload::Payload;

/// `mount: a::A` or `mount: [a::A, b::B]`, after the colon.
pub fn parse_entry(input: ParseStream<'_>) -> syn::Result<Vec<Path>> {
    if input.peek(syn::token::Bracket) {
        let content;
        bracketed!(content in input);
        let paths = Punctuated::<Path, Token![,]>::parse_terminated(&content)?;
        return Ok(paths.into_iter().collect());
    }
    Ok(vec![input.parse()?])
}

/// A router's struct cannot hold itself; caught here, where the path still
/// reads as the router's own name, before rustc reports a type of infinite
/// size.
pub fn not_itself(def: &RouterDef) -> syn::Result<()> {
    let name = def.name.to_string();
    for path in mount_paths(def) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let names_itself = path.leading_colon.is_none()
            && matches!(segments.as_slice(), [only] if *only == name)
            || matches!(segments.as_slice(), [this, only] if this == "self" && *only == name);
        if names_itself {
            return Err(syn::Error::new_spanned(
                path,
                format!(
                    "`{name}` cannot mount itself (its struct would contain itself): list the routes in `routes: [..]`, or mount another router"
                ),
            ));
        }
    }
    Ok(())
}

/// Whether the router mounts any other.
pub fn has_mounts(def: &RouterDef) -> bool {
    !mount_paths(def).is_empty()
}

/// Every mount, scopes flattened depth-first: the order of `Router::mounts`
/// and of the struct's mount fields.
pub fn mount_paths(def: &RouterDef) -> Vec<&Path> {
    fn walk<'a>(scope: &'a ScopeDef, out: &mut Vec<&'a Path>) {
        out.extend(scope.mounts.iter());
        for inner in &scope.scopes {
            walk(inner, out);
        }
    }
    let mut out = Vec::new();
    walk(&def.body, &mut out);
    out
}

/// The struct field holding each mounted router, in [`mount_paths`] order:
/// `users::UsersApi` → `mount_users_api`, made unique with a suffix.
pub fn fields(def: &RouterDef) -> Vec<Ident> {
    let mut taken: Vec<String> = Vec::new();
    mount_paths(def)
        .into_iter()
        .map(|path| {
            let last = path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
            let mut snake = String::from("mount_");
            let mut previous_lower = false;
            for c in last.trim_start_matches("r#").chars() {
                if c.is_ascii_uppercase() {
                    if previous_lower {
                        snake.push('_');
                    }
                    snake.push(c.to_ascii_lowercase());
                    previous_lower = false;
                } else {
                    snake.push(c);
                    previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
                }
            }
            let mut name = snake.clone();
            let mut n = 2;
            while taken.contains(&name) {
                name = format!("{snake}_{n}");
                n += 1;
            }
            taken.push(name.clone());
            Ident::new(&name, Span::call_site())
        })
        .collect()
}

/// The name each mount's path is imported under in the chain's blocks,
/// located at the path so that an unresolved import is reported there.
fn alias(position: usize, path: &Path) -> Ident {
    let span = Span::call_site().located_at(path.span());
    Ident::new(&format!("__mambo_mount_{position}"), span)
}

/// The parent's function that builds the `position`-th mounted router.
pub fn helper_name(position: usize) -> Ident {
    format_ident!("__mambo_new_mount_{}", position)
}

/// The chain of a router with mounts: the links of [`super::chain`], inside
/// the blocks that resolve each mount to its carrier or to the fallback.
pub fn emit_chain(def: &RouterDef, input: &TokenStream) -> TokenStream {
    let mut paths: Vec<Path> = Vec::new();
    let mut fallbacks = Vec::new();
    let mut imports = Vec::new();
    for link in links(def) {
        match link {
            Link::Route(path) | Link::Fallback(path) => paths.push(path.clone()),
            Link::Mount(position, path) => {
                let alias = alias(position, path);
                fallbacks.push(quote! {
                    #[allow(unused_imports)]
                    use ::mambo::__private::not_a_router as #alias;
                });
                imports.push(quote! {
                    #[allow(unused_imports)]
                    use #path as #alias;
                });
                paths.push(alias.into());
            }
        }
    }
    let paths: Vec<&Path> = paths.iter().collect();
    let chain = super::chain::emit_links(def, &paths, input, false);
    quote! {
        const _: () = {
            #(#fallbacks)*
            const _: () = {
                #(#imports)*
                #chain
            };
        };
    }
}

/// `__not_a_router! { [ [next] .. ] [ gathered.. ] }`: the link a mount's
/// alias resolves to when its path names no router; appends that news.
pub fn not_a_router(input: TokenStream) -> syn::Result<TokenStream> {
    struct Call {
        next: TokenStream,
        rest: Vec<TokenStream>,
        gathered: TokenStream,
    }
    impl Parse for Call {
        fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
            let links;
            bracketed!(links in input);
            let mut all = Vec::new();
            while !links.is_empty() {
                let link;
                bracketed!(link in links);
                all.push(link.parse::<TokenStream>()?);
            }
            let gathered;
            bracketed!(gathered in input);
            let mut all = all.into_iter();
            let next = all.next().ok_or_else(|| input.error("malformed route chain"))?;
            Ok(Call { next, rest: all.collect(), gathered: gathered.parse()? })
        }
    }
    let Call { next, rest, gathered } = syn::parse2(input)?;
    let payload = MountPayload::NotARouter;
    Ok(quote! {
        #next ! { [ #( [ #rest ] )* ] [ #gathered #payload ] }
    })
}

/// What a router's carrier appends to a parent's chain.
pub enum MountPayload {
    /// The routes of a router that compiled, in its `ROUTES` order, and its
    /// fallbacks.
    Routes { name: Ident, routes: Vec<MountedEntry>, fallbacks: Vec<MountedFallback> },
    /// A router that has errors of its own: the parent stays quiet about it.
    Invalid { name: Ident },
    /// A router that mounts others, which cannot be mounted.
    Nested { name: Ident },
    /// A router with tower layers, which cannot be mounted (behind a layer
    /// the route is looked up again, in the router's own table).
    Layered { name: Ident },
    /// The mount's path names no router (from [`not_a_router`]).
    NotARouter,
    /// A route handler listed under `mount:` (reported by [`sort`]).
    Misplaced,
}

/// One route of a mounted router.
pub struct MountedEntry {
    /// Position in the child's `ROUTES`.
    pub index: usize,
    /// The pattern within the child, the child's scopes included.
    pub pattern: LitStr,
    /// The handler path as the child lists it.
    pub handler: LitStr,
    /// The route's `#[route]` data; arguments left out (the child extracts
    /// them).
    pub payload: Payload,
}

impl MountPayload {
    /// The payload of a router that compiled: its routes.
    pub fn of(router: &Router) -> Self {
        let routes = router
            .routes
            .iter()
            // A mounted router's metrics are its parent's: the parent's
            // dispatch records them, on the parent's own `metrics:` route.
            .filter(|route| !route.metrics)
            .map(|route| MountedEntry {
                index: route.index,
                pattern: LitStr::new(&route.pattern.to_text(), Span::call_site()),
                handler: LitStr::new(&path_text(&route.handler), Span::call_site()),
                payload: Payload {
                    args: Vec::new(),
                    output: syn::ReturnType::Default,
                    ..route.payload.clone()
                },
            })
            .collect();
        let fallbacks = router
            .fallbacks
            .iter()
            .map(|fallback| MountedFallback {
                index: fallback.index,
                prefix: LitStr::new(&fallback.prefix.to_text(), Span::call_site()),
                handler: LitStr::new(&path_text(&fallback.handler), Span::call_site()),
            })
            .collect();
        MountPayload::Routes { name: router.def.name.clone(), routes, fallbacks }
    }

    /// Whether the parent can generate its dispatcher with this mount:
    /// `false` for a router with errors of its own.
    pub fn is_valid(&self) -> bool {
        !matches!(self, MountPayload::Invalid { .. })
    }
}

impl ToTokens for MountPayload {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        let body = match self {
            MountPayload::Routes { name, routes, fallbacks } => {
                let routes = routes.iter().map(|entry| {
                    let MountedEntry { index, pattern, handler, payload } = entry;
                    let index = LitInt::new(&index.to_string(), Span::call_site());
                    quote!({ #index #pattern #handler #payload })
                });
                let fallbacks = fallbacks.iter().map(|fallback| {
                    let MountedFallback { index, prefix, handler } = fallback;
                    let index = LitInt::new(&index.to_string(), Span::call_site());
                    quote!({ #index #prefix #handler })
                });
                quote!(mount routes #name [ #(#routes)* ] [ #(#fallbacks)* ])
            }
            MountPayload::Invalid { name } => quote!(mount invalid #name),
            MountPayload::Nested { name } => quote!(mount nested #name),
            MountPayload::Layered { name } => quote!(mount layered #name),
            MountPayload::NotARouter => quote!(mount none),
            MountPayload::Misplaced => quote!(mount misplaced),
        };
        tokens.extend(quote!({ #body }));
    }
}

impl Parse for MountPayload {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let body;
        braced!(body in input);
        let word: Ident = body.parse()?;
        if word != "mount" {
            return Err(syn::Error::new(word.span(), "malformed mount payload"));
        }
        let kind: Ident = body.parse()?;
        Ok(match kind.to_string().as_str() {
            "routes" => {
                let name = body.parse()?;
                let list;
                bracketed!(list in body);
                let mut routes = Vec::new();
                while !list.is_empty() {
                    let entry;
                    braced!(entry in list);
                    routes.push(MountedEntry {
                        index: entry.parse::<LitInt>()?.base10_parse()?,
                        pattern: entry.parse()?,
                        handler: entry.parse()?,
                        payload: entry.parse()?,
                    });
                }
                let list;
                bracketed!(list in body);
                let mut fallbacks = Vec::new();
                while !list.is_empty() {
                    let entry;
                    braced!(entry in list);
                    fallbacks.push(MountedFallback {
                        index: entry.parse::<LitInt>()?.base10_parse()?,
                        prefix: entry.parse()?,
                        handler: entry.parse()?,
                    });
                }
                MountPayload::Routes { name, routes, fallbacks }
            }
            "invalid" => MountPayload::Invalid { name: body.parse()? },
            "nested" => MountPayload::Nested { name: body.parse()? },
            "layered" => MountPayload::Layered { name: body.parse()? },
            "none" => MountPayload::NotARouter,
            "misplaced" => MountPayload::Misplaced,
            _ => return Err(syn::Error::new(kind.span(), "malformed mount payload")),
        })
    }
}

/// Reports a mount whose path names no router, or a router that cannot be
/// mounted.
pub fn check_payload(path: &Path, payload: &MountPayload, errors: &mut Vec<syn::Error>) {
    let text = path_text(path);
    let message = match payload {
        MountPayload::NotARouter => format!(
            "`{text}` is not a `router!` struct: `mount:` takes the path of a struct declared with `mambo::router!` in this crate (not a type alias; routers of other crates cannot be mounted)"
        ),
        MountPayload::Nested { name } => format!(
            "`{text}` mounts routers itself, and a router that mounts others cannot be mounted: mount the routers `{name}` mounts here directly, in a `scope` with its prefix"
        ),
        MountPayload::Layered { name } => format!(
            "`{text}` lists tower layers (`layer(..)`), and a router with layers cannot be mounted yet: list those layers in the `middleware:` of the scope that mounts `{name}` instead"
        ),
        _ => return,
    };
    errors.push(syn::Error::new_spanned(path, message));
}

/// A router mounted in this one.
pub struct Mount {
    /// The path as written after `mount:`.
    pub path: Path,
    /// The struct field holding it.
    pub field: Ident,
    /// Whether the path names a router, so that its constructor can be
    /// called (otherwise an error was reported, and the constructor is a
    /// stub).
    pub is_router: bool,
}

/// Where a mounted route goes in its router.
pub struct Mounted {
    /// Index into `Router::mounts`.
    pub mount: usize,
    /// Position in the mounted router's `ROUTES`.
    pub child_index: usize,
    /// Parameters of the prefix the router is mounted under: the mounted
    /// router's parameters come after them.
    pub skip: usize,
}

/// Adds a mount and its routes (if it has any) under `prefix` (`None` when
/// the scope's prefix did not parse; the error is already reported).
pub fn add(
    router: &mut Router,
    path: &Path,
    payload: MountPayload,
    prefix: Option<&Pattern>,
    scope_middleware: &[usize],
) {
    let position = router.mounts.len();
    let field = fields(&router.def).swap_remove(position);
    let is_router = !matches!(payload, MountPayload::NotARouter | MountPayload::Misplaced);
    router.mounts.push(Mount { path: path.clone(), field, is_router });
    let (Some(prefix), MountPayload::Routes { routes, fallbacks, .. }) = (prefix, payload) else {
        return;
    };
    for fallback in fallbacks {
        let Ok(own) = pattern::parse_prefix(&fallback.prefix.value()) else { continue };
        router.fallbacks.push(Fallback {
            index: router.fallbacks.len(),
            prefix: Pattern { segments: [prefix.segments.clone(), own.segments].concat() },
            handler: handler_path(path, &fallback.handler.value()),
            scope_middleware: scope_middleware.to_vec(),
            kind: fallback::Kind::Mounted { mount: position, child_index: fallback.index },
        });
    }
    for entry in routes {
        let Ok(own) = pattern::parse(&entry.pattern.value()) else { continue };
        let pattern = own.prefixed(prefix);
        let skip = pattern.param_names().count() - own.param_names().count();
        router.routes.push(Route {
            index: router.routes.len(),
            handler: handler_path(path, &entry.handler.value()),
            // A route always names its methods; none is a service route
            // that answers every method.
            methods: if entry.payload.methods.is_empty() {
                vec![ANY_METHOD.to_owned()]
            } else {
                entry.payload.methods.iter().map(ToString::to_string).collect()
            },
            pattern,
            payload: entry.payload,
            scope_middleware: scope_middleware.to_vec(),
            mounted: Some(Mounted { mount: position, child_index: entry.index, skip }),
            service: None,
            metrics: false,
        });
    }
}

/// A mounted route's handler as seen from the parent: the child's handler
/// path under the mount's module (`users::UsersApi` listing `get_user` →
/// `users::get_user`). Only text for `ROUTES` and messages.
fn handler_path(mount: &Path, handler: &str) -> Path {
    let mut module: Vec<String> = mount.segments.iter().map(|s| s.ident.to_string()).collect();
    module.pop();
    if module.first().is_some_and(|first| first == "self") {
        module.remove(0);
    }
    let absolute = handler.starts_with("crate::") || handler.starts_with("::");
    let mut rest = handler;
    // `self::` and `super::` are read from the mount's module.
    loop {
        if absolute {
            break;
        } else if let Some(after) = rest.strip_prefix("self::") {
            rest = after;
        } else if let Some(after) = rest.strip_prefix("super::") {
            match module.last().map(String::as_str) {
                Some("crate" | "super") | None => module.push("super".to_owned()),
                Some(_) => drop(module.pop()),
            }
            rest = after;
        } else {
            break;
        }
    }
    let lead = if mount.leading_colon.is_some() && !module.is_empty() { "::" } else { "" };
    let text = if absolute || module.is_empty() {
        rest.to_owned()
    } else {
        format!("{lead}{}::{rest}", module.join("::"))
    };
    syn::parse_str(&text)
        .unwrap_or_else(|_| syn::parse_str(handler).expect("a listed handler path"))
}

/// The hidden macro that carries a router's routes to the routers that mount
/// it (see the module docs), re-exported under the router's name.
pub fn carrier(def: &RouterDef, payload: &MountPayload) -> TokenStream {
    let name = &def.name;
    let kind = match payload {
        MountPayload::Routes { .. } => "routes",
        MountPayload::Invalid { .. } => "invalid",
        _ => "nested",
    };
    let mut key = format!("{name} {kind}");
    for path in def.flattened_routes().into_iter().chain(mount_paths(def)) {
        key.push(' ');
        key.push_str(&path_text(path));
    }
    crate::route::carrier::emit_appending("__mambo_router", name, &def.vis, &key, &quote!(#payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(text: &str) -> RouterDef {
        syn::parse_str(text).unwrap()
    }

    #[test]
    fn mount_entries_take_a_path_or_a_list() {
        let def = def(
            "struct Api { mount: a::A, scope \"/x\" { mount: [b::B, c::UsersApi,], scope \"/y\" { mount: A } } }",
        );
        let paths: Vec<String> = mount_paths(&def).into_iter().map(path_text).collect();
        assert_eq!(paths, ["a::A", "b::B", "c::UsersApi", "A"]);
        let fields: Vec<String> = fields(&def).iter().map(ToString::to_string).collect();
        assert_eq!(fields, ["mount_a", "mount_b", "mount_users_api", "mount_a_2"]);
    }

    #[test]
    fn a_router_cannot_mount_itself() {
        for text in
            ["struct Api { mount: Api }", "struct Api { scope \"/x\" { mount: self::Api } }"]
        {
            let err = syn::parse_str::<RouterDef>(text).err().expect(text);
            assert!(err.to_string().contains("`Api` cannot mount itself"), "{err}");
        }
        assert!(syn::parse_str::<RouterDef>("struct Api { mount: v1::Api }").is_ok());
    }

    #[test]
    fn handler_paths_are_read_from_the_parent() {
        let rows = [
            ("users::UsersApi", "get_user", "users::get_user"),
            ("users::UsersApi", "admin::stats", "users::admin::stats"),
            ("UsersApi", "get_user", "get_user"),
            ("self::users::UsersApi", "self::get_user", "users::get_user"),
            ("a::b::Api", "super::h", "a::h"),
            ("a::Api", "crate::x::h", "crate::x::h"),
            ("crate::a::Api", "h", "crate::a::h"),
        ];
        for (mount, handler, expected) in rows {
            let mount: Path = syn::parse_str(mount).unwrap();
            assert_eq!(path_text(&handler_path(&mount, handler)), expected, "{handler}");
        }
    }

    #[test]
    fn mount_payloads_round_trip() {
        let text = r#"{ mount routes UsersApi [ { 3 "/admin/:id" "admin::get" { true get async [GET] "/:id" _ 5000 () () } } ] [ { 0 "/admin" "admin::missing" } ] }"#;
        let payload: MountPayload = syn::parse_str(text).unwrap();
        let MountPayload::Routes { routes, fallbacks, .. } = &payload else { panic!("routes") };
        assert_eq!(fallbacks[0].prefix.value(), "/admin");
        assert_eq!((routes[0].index, routes[0].pattern.value()), (3, "/admin/:id".to_owned()));
        assert_eq!(routes[0].payload.timeout_ms, Some(5000));
        let again: MountPayload = syn::parse2(payload.to_token_stream()).unwrap();
        assert_eq!(again.to_token_stream().to_string(), payload.to_token_stream().to_string());
    }
}
