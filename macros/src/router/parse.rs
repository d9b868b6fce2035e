//! `router!` input: the router definition as the user wrote it.
//!
//! ```text
//! #[attrs] pub struct Api {
//!     state: AppState,                       // optional, default: no state
//!     trailing_slash: redirect,              // optional: strict (default) | redirect
//!     middleware: [RequestId, Cors = Cors::permissive(), layer(TimeoutLayer::new(..))],
//!     routes: [health, users::get_user],
//!     service "/static/*path" => ServeDir::new("static"),  // any number
//!     service GET | HEAD "/robots.txt" => ServeFile::new("robots.txt"),
//!     mount: users::UsersApi,                // or a list: `mount: [a::A, b::B]`
//!     fallback: not_found,                   // a `#[fallback]` handler for misses
//!     metrics: "/metrics",                   // per-route metrics, exposed here (feature `metrics`)
//!     metrics_buckets: [0.001, 0.01, 0.1],   // optional latency buckets, in seconds
//!     scope "/admin" { middleware: [..], routes: [..], service .., mount: .., fallback: .., scope "/x" { .. } },
//! }
//! ```

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, Ident, LitStr, Path, Token, Type, Visibility, braced, bracketed};

/// What to do with a path that misses only by a trailing slash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrailingSlashMode {
    /// 404, as any other miss (the default).
    Strict,
    /// 308 to the form that exists.
    Redirect,
}

/// One `middleware:` entry: a type, constructed with `Default` or `= expr`;
/// or a tower layer, `layer(expr)`.
#[derive(Clone)]
pub struct MiddlewareDef {
    pub ty: Type,
    pub init: Option<Expr>,
    /// For `layer(expr)`: the `layer` keyword (`ty` is then the runtime's
    /// shared service and `init` the layer expression).
    pub layer: Option<Ident>,
}

/// A `service [METHODS] "/pattern" => expr` entry: a tower service as a route.
#[derive(Clone)]
pub struct ServiceDef {
    /// The `service` keyword, for spans.
    pub keyword: Ident,
    /// Methods as written; empty for every method.
    pub methods: Vec<Ident>,
    pub path: LitStr,
    pub init: Expr,
}

/// A `metrics: "/path"` entry: the router records per-route metrics and
/// exposes them on this route.
#[derive(Clone)]
pub struct MetricsDef {
    /// The `metrics` keyword, for spans.
    pub keyword: Ident,
    pub path: LitStr,
}

/// A `scope "/prefix" { .. }` block, or the router's own body.
#[derive(Clone)]
pub struct ScopeDef {
    /// `None` for the router's body.
    pub prefix: Option<LitStr>,
    pub middleware: Vec<MiddlewareDef>,
    pub routes: Vec<Path>,
    pub services: Vec<ServiceDef>,
    pub scopes: Vec<ScopeDef>,
    /// `mount: ..`: routers whose routes join this scope (see `super::mount`).
    pub mounts: Vec<Path>,
    /// `fallback: ..`: what answers a miss under this scope (see
    /// `super::fallback`).
    pub fallback: Option<Path>,
    /// `metrics: "/path"`.
    pub metrics: Option<MetricsDef>,
}

/// The whole `router!` input.
#[derive(Clone)]
pub struct RouterDef {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub name: Ident,
    pub state: Option<Type>,
    pub trailing_slash: TrailingSlashMode,
    /// `metrics_buckets: [..]`: latency bucket bounds in seconds, with the
    /// keyword for spans.
    pub metrics_buckets: Option<(Ident, Vec<Expr>)>,
    pub body: ScopeDef,
}

impl Parse for MiddlewareDef {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(Ident) && input.peek2(syn::token::Paren) {
            let fork = input.fork();
            let keyword: Ident = fork.parse()?;
            if keyword == "layer" {
                input.parse::<Ident>()?;
                let content;
                syn::parenthesized!(content in input);
                let init: Expr = content.parse()?;
                if !content.is_empty() {
                    return Err(content.error(
                        "`layer(..)` takes one expression: the tower layer, e.g. `layer(TimeoutLayer::new(Duration::from_secs(5)))`",
                    ));
                }
                let ty = syn::parse_quote_spanned!(keyword.span()=> ::mambo::tower::SharedService);
                return Ok(MiddlewareDef { ty, init: Some(init), layer: Some(keyword) });
            }
        }
        let ty = input.parse()?;
        let init = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Some(input.parse()?)
        } else {
            None
        };
        Ok(MiddlewareDef { ty, init, layer: None })
    }
}

impl Parse for ServiceDef {
    /// After the `service` keyword: `[GET | HEAD] "/pattern" => expr`.
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let keyword = Ident::new("service", input.span());
        let mut methods = Vec::new();
        while input.peek(Ident) {
            let method: Ident = input.parse()?;
            crate::method::check(&method)?;
            methods.push(method);
            if input.peek(Token![|]) {
                input.parse::<Token![|]>()?;
            } else {
                break;
            }
        }
        let path: LitStr = input.parse().map_err(|err| {
            syn::Error::new(
                err.span(),
                "expected the service's pattern: write `service \"/static/*path\" => ServeDir::new(\"static\")`, or `service GET | HEAD \"/x\" => ..` for some methods only",
            )
        })?;
        input.parse::<Token![=>]>().map_err(|err| {
            syn::Error::new(
                err.span(),
                "expected `=>` and the tower service: `service \"/static/*path\" => ServeDir::new(\"static\")`",
            )
        })?;
        let init = input.parse()?;
        Ok(ServiceDef { keyword, methods, path, init })
    }
}

fn list<T: Parse>(input: ParseStream<'_>) -> syn::Result<Vec<T>> {
    let content;
    bracketed!(content in input);
    Ok(Punctuated::<T, Token![,]>::parse_terminated(&content)?.into_iter().collect())
}

/// Keys allowed at the top level but not inside a scope.
const TOP_LEVEL_ONLY: [&str; 3] = ["state", "trailing_slash", "metrics_buckets"];

fn parse_entries(input: ParseStream<'_>, top: Option<&mut RouterDef>) -> syn::Result<ScopeDef> {
    let mut scope = ScopeDef {
        prefix: None,
        middleware: Vec::new(),
        routes: Vec::new(),
        services: Vec::new(),
        scopes: Vec::new(),
        mounts: Vec::new(),
        fallback: None,
        metrics: None,
    };
    let mut seen: Vec<String> = Vec::new();
    let mut top = top;
    while !input.is_empty() {
        let key: Ident = input.call(syn::ext::IdentExt::parse_any)?;
        let name = key.to_string();
        if name != "scope" && name != "service" {
            if seen.contains(&name) {
                return Err(syn::Error::new(
                    key.span(),
                    format!("`{name}` is given twice: merge the two lists"),
                ));
            }
            seen.push(name.clone());
        }
        match name.as_str() {
            "scope" => {
                let prefix: LitStr = input.parse()?;
                let content;
                braced!(content in input);
                let mut inner = parse_entries(&content, None)?;
                inner.prefix = Some(prefix);
                scope.scopes.push(inner);
            }
            "middleware" => {
                input.parse::<Token![:]>()?;
                scope.middleware = list(input)?;
            }
            "service" => {
                let mut service: ServiceDef = input.parse()?;
                service.keyword = key.clone();
                scope.services.push(service);
            }
            "routes" => {
                input.parse::<Token![:]>()?;
                scope.routes = list(input)?;
            }
            "mount" => {
                input.parse::<Token![:]>()?;
                scope.mounts = super::mount::parse_entry(input)?;
            }
            "fallback" => {
                input.parse::<Token![:]>()?;
                scope.fallback = Some(input.parse()?);
            }
            "metrics" => {
                input.parse::<Token![:]>()?;
                let path: LitStr = input.parse().map_err(|err| {
                    syn::Error::new(
                        err.span(),
                        "expected the path of the route that exposes the metrics: write `metrics: \"/metrics\"`",
                    )
                })?;
                scope.metrics = Some(MetricsDef { keyword: key.clone(), path });
            }
            "metrics_buckets" if top.is_some() => {
                input.parse::<Token![:]>()?;
                let def = top.as_deref_mut().expect("checked above");
                def.metrics_buckets = Some((key.clone(), list(input)?));
            }
            "state" | "trailing_slash" if top.is_some() => {
                input.parse::<Token![:]>()?;
                let def = top.as_deref_mut().expect("checked above");
                if name == "state" {
                    def.state = Some(input.parse()?);
                } else {
                    let mode: Ident = input.parse()?;
                    def.trailing_slash = match mode.to_string().as_str() {
                        "strict" => TrailingSlashMode::Strict,
                        "redirect" => TrailingSlashMode::Redirect,
                        other => {
                            return Err(syn::Error::new(
                                mode.span(),
                                format!(
                                    "unknown trailing-slash mode `{other}`: write `strict` (404, the default) or `redirect` (308 to the form that exists)"
                                ),
                            ));
                        }
                    };
                }
            }
            other if TOP_LEVEL_ONLY.contains(&other) => {
                return Err(syn::Error::new(
                    key.span(),
                    format!(
                        "`{other}` belongs to the router itself, not to a scope: move it to the top of the router"
                    ),
                ));
            }
            other => {
                return Err(syn::Error::new(
                    key.span(),
                    format!(
                        "unknown router entry `{other}`: the entries are `state`, `trailing_slash`, `middleware`, `routes`, `service \"/pattern\" => service`, `mount`, `fallback`, `metrics`, `metrics_buckets` and `scope \"/prefix\" {{ .. }}`"
                    ),
                ));
            }
        }
        if input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
        } else if !input.is_empty() && name != "scope" {
            return Err(input.error("expected `,` between router entries"));
        }
    }
    Ok(scope)
}

impl Parse for RouterDef {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        input.parse::<Token![struct]>().map_err(|err| {
            syn::Error::new(
                err.span(),
                "expected `struct`: write `router! { pub struct Api { routes: [..] } }`",
            )
        })?;
        let name = input.parse()?;
        let content;
        braced!(content in input);
        let mut def = RouterDef {
            attrs,
            vis,
            name,
            state: None,
            trailing_slash: TrailingSlashMode::Strict,
            metrics_buckets: None,
            body: ScopeDef {
                prefix: None,
                middleware: Vec::new(),
                routes: Vec::new(),
                services: Vec::new(),
                scopes: Vec::new(),
                mounts: Vec::new(),
                fallback: None,
                metrics: None,
            },
        };
        let body = parse_entries(&content, Some(&mut def))?;
        def.body = body;
        super::mount::not_itself(&def)?;
        Ok(def)
    }
}

impl RouterDef {
    /// Every listed handler path, scopes flattened depth-first: the order of
    /// `ROUTES` and of the payloads the chain gathers.
    pub fn flattened_routes(&self) -> Vec<&Path> {
        fn walk<'a>(scope: &'a ScopeDef, out: &mut Vec<&'a Path>) {
            out.extend(scope.routes.iter());
            for inner in &scope.scopes {
                walk(inner, out);
            }
        }
        let mut out = Vec::new();
        walk(&self.body, &mut out);
        out
    }

    /// The state type, `()` when the router has none.
    pub fn state_type(&self) -> Type {
        self.state.clone().unwrap_or_else(|| syn::parse_quote_spanned!(Span::call_site()=> ()))
    }
}
