//! The router as the checks and the code generator see it: every route with
//! its full pattern, its handler's signature and the middleware around it.

use proc_macro2::Span;
use syn::{Ident, LitStr, Path, Type};

use super::fallback::{self, Fallback};
use super::gather::Sorted;
use super::mount::{self, Mount, Mounted};
use super::parse::{MetricsDef, MiddlewareDef, RouterDef, ScopeDef, ServiceDef, TrailingSlashMode};
use crate::pattern::{self, Pattern};
use crate::payload::{Arg, Payload};

/// A middleware instance of the router, stored in a field of its struct;
/// or a tower layer (`def.layer`), stored as the service it wraps around the
/// rest of the chain.
pub struct Middleware {
    /// The struct field holding it.
    pub field: Ident,
    pub def: MiddlewareDef,
}

impl Middleware {
    /// Whether this is a `layer(..)`.
    pub fn is_layer(&self) -> bool {
        self.def.layer.is_some()
    }
}

/// A `service` route's tower service, stored in a field of the router.
pub struct Service {
    /// The struct field holding it.
    pub field: Ident,
    pub def: ServiceDef,
    /// Whether the pattern ends in a catch-all: the service then sees the
    /// path from there on.
    pub strip: bool,
}

/// One route.
pub struct Route {
    /// Position in `ROUTES`.
    pub index: usize,
    /// The handler path as listed in `routes: [..]`.
    pub handler: Path,
    /// Data from the handler's `#[route]`.
    pub payload: Payload,
    /// Full pattern, scope prefixes included.
    pub pattern: Pattern,
    /// Methods, upper case.
    pub methods: Vec<String>,
    /// Indices into [`Router::middleware`] of the scope middleware around
    /// this route, outermost first (the router's own middleware excluded).
    pub scope_middleware: Vec<usize>,
    /// For a `service` route: its index in [`Router::services`].
    pub service: Option<usize>,
    /// For a route of a mounted router: where it goes in that router.
    pub mounted: Option<Mounted>,
    /// Whether this is the `metrics:` route, which exposes the metrics.
    pub metrics: bool,
}

impl Route {
    /// The pattern literal in the handler's `#[route]`, for error spans.
    pub fn path_lit(&self) -> &LitStr {
        &self.payload.path
    }

    /// `GET | POST /users/:id`, for messages and comments.
    pub fn describe(&self) -> String {
        format!("{} {}", self.methods.join(" | "), self.pattern.to_text())
    }

    /// `GET /users/:id → users::get_user`, the comment on generated code.
    pub fn summary(&self) -> String {
        format!("{} → {}", self.describe(), self.handler_text())
    }

    /// The handler as `ROUTES` and messages name it: its path as listed, or
    /// `service` for a service route.
    pub fn handler_text(&self) -> String {
        super::tree::path_text(&self.handler)
    }

    /// The argument named `name`, if any.
    pub fn arg(&self, name: &str) -> Option<&Arg> {
        self.payload.args.iter().find(|arg| arg.name.as_ref().is_some_and(|n| unraw(n) == name))
    }
}

/// The method a `service` route without methods answers: every one.
pub const ANY_METHOD: &str = "*";

/// An identifier without its `r#`.
pub fn unraw(ident: &Ident) -> String {
    let text = ident.to_string();
    text.strip_prefix("r#").map(str::to_owned).unwrap_or(text)
}

/// The whole router.
pub struct Router {
    pub def: RouterDef,
    pub state: Type,
    pub trailing_slash: TrailingSlashMode,
    pub routes: Vec<Route>,
    /// Every middleware; the first `global` are the router's own.
    pub middleware: Vec<Middleware>,
    pub global: usize,
    /// Every `service` route's service.
    pub services: Vec<Service>,
    /// Routers mounted in this one, scopes flattened depth-first.
    pub mounts: Vec<Mount>,
    /// What answers misses (`fallback:`), this router's and its mounted
    /// routers', scopes flattened depth-first.
    pub fallbacks: Vec<Fallback>,
}

impl Router {
    /// Whether any `middleware:` list has a `layer(..)`: the router then
    /// keeps its fields in a shared core the layers' inner services reach.
    pub fn has_layers(&self) -> bool {
        self.middleware.iter().any(Middleware::is_layer)
    }

    /// Whether the router records metrics: it has a `metrics:` route.
    pub fn has_metrics(&self) -> bool {
        self.routes.iter().any(|route| route.metrics)
    }
}

/// The router's middleware and services, without any handler route (what
/// `router!` needs to declare the struct before the routes are gathered).
pub fn without_routes(def: &RouterDef) -> Router {
    build(def.clone(), Sorted::default(), &mut Vec::new())
}

/// Builds the model. Scope prefixes that fail to parse are reported; their
/// routes are left out so the remaining checks stay meaningful.
pub fn build(def: RouterDef, mut gathered: Sorted, errors: &mut Vec<syn::Error>) -> Router {
    let mut router = Router {
        state: def.state_type(),
        trailing_slash: def.trailing_slash,
        routes: Vec::new(),
        middleware: Vec::new(),
        global: def.body.middleware.len(),
        services: Vec::new(),
        mounts: Vec::new(),
        fallbacks: Vec::new(),
        def: def.clone(),
    };
    let mut field_names = Vec::new();
    let root = Pattern { segments: Vec::new() };
    walk(&def.body, &root, &[], &mut router, &mut gathered, &mut field_names, errors);
    if let Some((keyword, _)) = &def.metrics_buckets
        && !router.has_metrics()
    {
        errors.push(syn::Error::new(
            keyword.span(),
            "`metrics_buckets` configures the metrics of a `metrics:` route, and this router has none: add `metrics: \"/metrics\"`",
        ));
    }
    router
}

fn walk(
    scope: &ScopeDef,
    prefix: &Pattern,
    outer_middleware: &[usize],
    router: &mut Router,
    gathered: &mut Sorted,
    field_names: &mut Vec<String>,
    errors: &mut Vec<syn::Error>,
) {
    let is_root = scope.prefix.is_none();
    let mut scope_middleware = outer_middleware.to_vec();
    for def in &scope.middleware {
        let field = match &def.layer {
            Some(_) => unique_name("layer".to_owned(), field_names),
            None => field_name(&def.ty, field_names),
        };
        if !is_root {
            scope_middleware.push(router.middleware.len());
        }
        router.middleware.push(Middleware { field, def: def.clone() });
    }
    let prefix = match &scope.prefix {
        None => Some(prefix.clone()),
        Some(lit) => match pattern::parse_prefix(&lit.value()) {
            Ok(own) => Some(Pattern { segments: [prefix.segments.clone(), own.segments].concat() }),
            Err(err) => {
                errors.push(syn::Error::new(lit.span(), err.message));
                None
            }
        },
    };
    for handler in &scope.routes {
        let Some(payload) = gathered.routes.next() else { continue };
        let Some(prefix) = &prefix else { continue };
        let Ok(own) = pattern::parse(&payload.path.value()) else { continue };
        let methods = payload.methods.iter().map(ToString::to_string).collect();
        router.routes.push(Route {
            index: router.routes.len(),
            handler: handler.clone(),
            pattern: own.prefixed(prefix),
            methods,
            payload,
            scope_middleware: scope_middleware.clone(),
            service: None,
            mounted: None,
            metrics: false,
        });
    }
    if let Some(def) = &scope.metrics
        && let Some(prefix) = &prefix
    {
        add_metrics_route(router, def, prefix, &scope_middleware, errors);
    }
    for def in &scope.services {
        let Some(prefix) = &prefix else { continue };
        let own = match pattern::parse(&def.path.value()) {
            Ok(own) => own,
            Err(err) => {
                errors.push(syn::Error::new(def.path.span(), err.message));
                continue;
            }
        };
        let pattern = own.prefixed(prefix);
        let strip = pattern.ends_in_catch_all();
        let methods = if def.methods.is_empty() {
            vec![ANY_METHOD.to_owned()]
        } else {
            def.methods.iter().map(ToString::to_string).collect()
        };
        let service = router.services.len();
        router.services.push(Service {
            field: unique_name("service".to_owned(), field_names),
            def: def.clone(),
            strip,
        });
        router.routes.push(Route {
            index: router.routes.len(),
            handler: syn::parse_quote_spanned!(def.keyword.span()=> service),
            pattern,
            methods,
            payload: service_payload(def),
            scope_middleware: scope_middleware.clone(),
            service: Some(service),
            mounted: None,
            metrics: false,
        });
    }
    if let Some(path) = &scope.fallback
        && let Some(payload) = gathered.fallbacks.next()
    {
        fallback::add_own(router, path, payload, prefix.as_ref(), &scope_middleware);
    }
    for path in &scope.mounts {
        let Some(payload) = gathered.mounts.next() else { continue };
        mount::add(router, path, payload, prefix.as_ref(), &scope_middleware);
    }
    for inner in &scope.scopes {
        let base = prefix.clone().unwrap_or(Pattern { segments: Vec::new() });
        walk(inner, &base, &scope_middleware, router, gathered, field_names, errors);
    }
}

/// The `metrics:` route: `GET` on its path, under its scope's middleware.
/// A router has one.
fn add_metrics_route(
    router: &mut Router,
    def: &MetricsDef,
    prefix: &Pattern,
    scope_middleware: &[usize],
    errors: &mut Vec<syn::Error>,
) {
    if let Some(first) = router.routes.iter().find(|route| route.metrics) {
        let mut err = syn::Error::new(
            def.keyword.span(),
            "a router exposes its metrics on one route: remove this second `metrics:`",
        );
        err.combine(syn::Error::new(first.payload.name.span(), "the first `metrics:` is here"));
        errors.push(err);
        return;
    }
    let own = match pattern::parse(&def.path.value()) {
        Ok(own) => own,
        Err(err) => {
            errors.push(syn::Error::new(def.path.span(), err.message));
            return;
        }
    };
    let pattern = own.prefixed(prefix);
    if pattern.param_names().next().is_some() {
        errors.push(syn::Error::new(
            def.path.span(),
            "the metrics route takes no parameter: write a plain path such as `metrics: \"/metrics\"`",
        ));
        return;
    }
    router.routes.push(Route {
        index: router.routes.len(),
        handler: syn::parse_quote_spanned!(def.keyword.span()=> metrics),
        pattern,
        methods: vec!["GET".to_owned()],
        payload: Payload {
            valid: true,
            name: def.keyword.clone(),
            is_async: true,
            methods: vec![Ident::new("GET", def.keyword.span())],
            path: def.path.clone(),
            body_limit: None,
            timeout_ms: None,
            args: Vec::new(),
            output: syn::ReturnType::Default,
        },
        scope_middleware: scope_middleware.to_vec(),
        service: None,
        mounted: None,
        metrics: true,
    });
}

/// The payload of a `service` route: no handler, no argument; the checks
/// and the tree read its methods and pattern like a handler's.
fn service_payload(def: &ServiceDef) -> Payload {
    Payload {
        valid: true,
        name: Ident::new("service", def.keyword.span()),
        is_async: true,
        methods: def.methods.clone(),
        path: def.path.clone(),
        body_limit: None,
        timeout_ms: None,
        args: Vec::new(),
        output: syn::ReturnType::Default,
    }
}

/// `RequestId` → `mw_request_id`, made unique with a suffix.
fn field_name(ty: &Type, taken: &mut Vec<String>) -> Ident {
    let last = match ty {
        Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
    .unwrap_or_else(|| "middleware".to_owned());
    let mut snake = String::from("mw");
    for (i, c) in last.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 || snake.ends_with(|c: char| c != '_') {
                snake.push('_');
            }
            snake.push(c.to_ascii_lowercase());
        } else {
            if i == 0 {
                snake.push('_');
            }
            snake.push(c);
        }
    }
    unique_name(snake, taken)
}

/// `base`, or `base_2`, `base_3`, .. if taken.
fn unique_name(base: String, taken: &mut Vec<String>) -> Ident {
    let snake = base;
    let mut name = snake.clone();
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{snake}_{n}");
        n += 1;
    }
    taken.push(name.clone());
    Ident::new(&name, Span::call_site())
}
