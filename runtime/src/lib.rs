//! Mambo: a web framework whose router is written by the compiler.
//!
//! Annotate handler functions with [`route`], list them in [`router!`], and
//! the build generates one static `match`-based dispatcher: no route maps,
//! no per-request boxing, and route mistakes are compile errors.
//!
//! ```no_run
//! use mambo::prelude::*;
//!
//! #[route(GET "/hello/:name")]
//! async fn hello(name: &str) -> String {
//!     format!("Hello, {name}!")
//! }
//!
//! mambo::router! {
//!     pub struct App {
//!         routes: [hello],
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     mambo::Server::bind("127.0.0.1:8080").serve(App::new()).await
//! }
//! ```
#![deny(missing_docs)]
#![warn(rust_2018_idioms)]

pub mod body;
pub mod buffer;
mod context;
#[cfg(feature = "cookie")]
pub mod cookie;
pub mod error;
pub mod extract;
mod fallback;
mod guard;
pub mod middleware;
#[cfg(feature = "multipart")]
pub mod multipart;
pub mod observe;
pub mod response;
mod routing;
pub mod server;
mod service;
pub mod sse;
pub mod test;
#[cfg(feature = "tower")]
pub mod tower;
#[cfg(feature = "ws")]
pub mod ws;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use body::{Body, ResponseBody};
pub use bytes::Bytes;
pub use context::{ConnInfo, DEFAULT_BODY_LIMIT, DEFAULT_TIMEOUT, RequestContext};
pub use error::{ApiError, Error};
pub use extract::{ClientAddr, Extension, Form, FromRef, Header, Json, Query, State};
pub use http::{self, HeaderMap, Method, StatusCode, Uri, header};
/// Derives [`ApiError`](trait@ApiError), `Display`, `std::error::Error`,
/// [`IntoResponse`] and, for `#[from]` fields, `From`, for an enum (one
/// error per variant) or a struct (one error).
///
/// # Attributes
///
/// - `#[api(code = .., message = "..", status = ..)]` on each variant (or
///   on the struct), required:
///   - `code`: the number in the JSON body. A 3-digit status (`404`) or the
///     status followed by two digits (`40420`); the HTTP status is its first
///     three digits, computed at compile time. A code that maps to no 4xx or
///     5xx status is a compile error, unless `status` is given. Keep clear
///     of Mambo's own codes: see [the rule](extract::rejection#your-codes).
///   - `message`: what the client reads, and the `Display` text. A format
///     string over the fields: `{0}` (or `{}`, in order) for tuple fields,
///     `{name}` for named ones, any format spec (`{name:?}`, `{0:>8}`),
///     `{{` for a brace. A field that does not exist is a compile error. A
///     message without fields is returned borrowed, without allocating.
///   - `status = 503`: the HTTP status (400 to 599), when it is not the
///     code's first three digits.
/// - `#[source]` on one field: `Error::source` returns it (any
///   `std::error::Error + 'static`, `Box<dyn Error + Send + Sync>`
///   included). The client never sees it; the 5xx's
///   [`ErrorReport`](error::ErrorReport) and the `mambo::error` log event
///   carry its whole chain.
/// - `#[from]` on the only field of a variant (or struct): generates
///   `impl From<FieldType>`, so `?` converts that error, and makes the field
///   the source as `#[source]` does. Two variants cannot both be
///   `#[from]` one type (which `From` would `?` pick?): mark the second
///   `#[source]` and build it with `.map_err(AppError::Variant)`.
///
/// The type must be `Debug` (for `std::error::Error`). Every mistake in the
/// attributes is reported in one build, at the tokens at fault, and the
/// impls are still generated, so the uses of the type do not add errors of
/// their own.
///
/// # Examples
///
/// ```
/// use std::error::Error as _;
///
/// use mambo::error::ErrorReport;
/// use mambo::prelude::*;
///
/// #[derive(Debug, ApiError)]
/// enum AppError {
///     /// 404, from the code.
///     #[api(code = 40420, message = "user {0} not found")]
///     UserNotFound(u64),
///     /// Named fields by name, with a format spec.
///     #[api(code = 409, message = "name {name:?} is taken")]
///     NameTaken { name: String },
///     /// `?` on an `io::Error` lands here; the client sees only the message.
///     #[api(code = 50320, message = "storage unavailable")]
///     Storage(#[from] std::io::Error),
///     /// A source without `From`: built by hand where it happens.
///     #[api(code = 40020, message = "`{text}` is not a number")]
///     NotANumber {
///         text: String,
///         #[source]
///         cause: std::num::ParseIntError,
///     },
///     /// A status of its own.
///     #[api(code = 1001, message = "legacy error", status = 422)]
///     Legacy,
/// }
///
/// fn quota(path: &str) -> Result<u64, AppError> {
///     let text = std::fs::read_to_string(path)?; // `From<io::Error>`
///     text.trim().parse().map_err(|cause| AppError::NotANumber { text, cause })
/// }
///
/// let error = quota("/no/such/file").unwrap_err();
/// assert!(matches!(error, AppError::Storage(_)));
/// assert_eq!((error.code(), error.status()), (50320, StatusCode::SERVICE_UNAVAILABLE));
/// assert_eq!(error.to_string(), "storage unavailable");
/// assert!(error.source().is_some());
///
/// let response = error.into_response(); // {"code":50320,"message":"storage unavailable"}
/// let report = ErrorReport::of(&response).unwrap();
/// assert_eq!(report.sources().len(), 1, "the io::Error, for the logs");
///
/// assert_eq!(AppError::UserNotFound(7).status(), StatusCode::NOT_FOUND);
/// assert_eq!(AppError::Legacy.status(), StatusCode::UNPROCESSABLE_ENTITY);
/// ```
pub use mambo_macros::ApiError;

/// Declares a route handler: `#[route(METHOD "/pattern", options..)]`.
///
/// - Methods: `GET`, `POST`, `PUT`, `PATCH`, `DELETE`, `HEAD`, `OPTIONS` or
///   any upper-case token method (`PURGE`); several with `GET | POST`.
/// - Pattern: starts with `/`; `:name` is one whole non-empty segment,
///   `*name` the non-empty rest of the path (last segment only; as in matchit
///   it never matches an empty rest, so `/files/*path` does not answer
///   `/files/`). `/a` and `/a/` are different routes.
/// - Options: `body_limit = "64KiB"` (`B`, `KB`, `MB`, `GB`, `KiB`, `MiB`,
///   `GiB`) and `timeout = "2s"` (`ms`, `s`, `m`, `h`).
/// - Arguments named like a path parameter are parsed from it with
///   [`FromParam`](extract::FromParam) after percent-decoding; every other
///   argument is an extractor, and only the last one may read the body.
/// - A `*name` catch-all is percent-decoded like any parameter, so
///   `%2e%2e%2f` arrives as `../` and `%2F` as `/`: never join a `&str`
///   catch-all to a directory. Take [`SafePath`](extract::SafePath) for a
///   parameter that names a file; it refuses `..` segments, absolute paths,
///   NUL bytes, backslashes and drive prefixes with a 400 (code `40011`).
///
/// The function is left as written; the attribute adds a hidden macro beside
/// it that carries the route to [`router!`]. Mistakes that can be seen on one
/// route (bad pattern, unknown method or option, a generic handler) are
/// reported here; the others when the route is listed in a router.
///
/// # Examples
///
/// ```
/// use mambo::prelude::*;
///
/// #[route(GET "/users/:id/files/*path")]
/// async fn user_file(id: u64, path: &str) -> String {
///     format!("user {id}, file {path}")
/// }
///
/// #[route(POST | PUT "/echo", body_limit = "1KiB", timeout = "2s")]
/// fn echo(body: String) -> String {
///     body
/// }
///
/// mambo::router! {
///     struct App {
///         routes: [user_file, echo],
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let client = mambo::test::TestClient::new(App::new());
/// assert_eq!(client.get("/users/7/files/a/b%20c").send().await.text(), "user 7, file a/b c");
/// assert_eq!(client.put("/echo").body("hi").send().await.text(), "hi");
/// assert_eq!(client.get("/users/x/files/a").send().await.status(), StatusCode::BAD_REQUEST);
/// # });
/// ```
pub use mambo_macros::route;

/// Declares a fallback handler: what answers the requests no route of a
/// router (or of a scope) matches, instead of the JSON 404. Name it in
/// [`router!`] with `fallback: handler`, in the router's body or in a
/// scope.
///
/// A fallback takes extractors like a route handler (`Uri` or `Method` to
/// see what was asked, `State<T>`, `HeaderMap`, a body extractor last, ...;
/// no path parameters: it has no pattern) and returns anything
/// [`IntoResponse`]; `async fn` or `fn`. It runs with the server's body
/// limit and deadline, under the same panic guard as a route, and inside the
/// middleware of the scope that names it (and the router's). `cx.route()` is
/// `None` in its middleware, as for any miss.
///
/// Which fallback answers: the one of the innermost scope whose prefix the
/// path starts with (`scope "/admin"` takes `/admin`, `/admin/` and
/// `/admin/x`, not `/administrator`; a `:param` in the prefix takes any
/// segment), else the router's own, else the JSON 404. A path that matches a
/// route but not the method is still a 405 with `Allow`, and with
/// `trailing_slash: redirect` a path that exists with or without its final
/// `/` is still redirected. The fallbacks of a mounted router answer under
/// the prefix it is mounted at (before the scope's own), inside its
/// middleware.
///
/// Listing a `#[fallback]` under `routes: [..]`, or a `#[route]` handler
/// under `fallback:`, is a compile error that says which entry to use.
///
/// # Examples
///
/// ```
/// use mambo::prelude::*;
///
/// #[route(GET "/users")]
/// fn users() -> &'static str {
///     "[]"
/// }
///
/// /// The single-page app: every other path gets its `index.html`.
/// #[fallback]
/// fn spa() -> Html<&'static str> {
///     Html("<!doctype html><div id=app></div>")
/// }
///
/// /// Under `/api`, a miss is an API error that names what was asked.
/// #[fallback]
/// async fn api_not_found(uri: mambo::Uri) -> (StatusCode, String) {
///     (StatusCode::NOT_FOUND, format!("no endpoint {}", uri.path()))
/// }
///
/// mambo::router! {
///     struct App {
///         fallback: spa,
///         scope "/api" {
///             fallback: api_not_found,
///             routes: [users],
///         },
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let client = mambo::test::TestClient::new(App::new());
/// assert!(client.get("/settings/profile").send().await.text().contains("id=app"));
/// let response = client.get("/api/orders").send().await;
/// assert_eq!((response.status(), response.text()), (StatusCode::NOT_FOUND, "no endpoint /api/orders"));
/// assert_eq!(client.post("/api/users").send().await.status(), StatusCode::METHOD_NOT_ALLOWED);
/// # });
/// ```
pub use mambo_macros::fallback;

/// Builds a router from [`route`] handlers.
///
/// ```text
/// router! {
///     #[attributes] pub struct Name {
///         state: Type,                       // optional; `Name::new()` takes none without it
///         trailing_slash: strict | redirect, // optional; strict (404) by default
///         middleware: [Type, Type = expr, layer(expr)], // optional; see below
///         routes: [handler, module::handler],
///         service "/pattern" => expr,        // a tower service as a route (feature `tower`)
///         mount: module::OtherRouter,        // optional; or a list `mount: [a::A, b::B]`
///         fallback: handler,                 // optional; a `#[fallback]` for misses
///         scope "/prefix" { middleware: [..], routes: [..], service .., mount: .., fallback: .., scope ".." { .. } },
///     }
/// }
/// ```
///
/// Middleware listed as a bare type is built with `Default`; `Type = expr`
/// is built by the expression, which may use `state` (the argument of
/// `new`) by reference, e.g. `Cors = Cors::new().allow_origin(&state.origin)`.
/// With the `tower` feature, `layer(expr)` lists a `tower::Layer` in order
/// with Mambo middleware, and `service [METHODS] "/pattern" => expr` makes a
/// `tower::Service` a route: see [`tower`] for the rules and
/// the cost.
///
/// Generates the struct with `new` and `state`, `ROUTES` (every route as
/// [`RouteInfo`]), `lookup` (pure, allocation-free; see [`Lookup`]), and an
/// implementation of [`Router`] that [`Server`], [`test::TestClient`] and the
/// tower adapter serve. Every route mistake in the set (duplicates,
/// parameters named differently at one position, a parameter and a
/// catch-all at one position, a parameter with no argument) is a compile
/// error, all reported in one build.
///
/// Declare handlers and routers as module items. Inside a function body two
/// cases do not resolve: a handler named like a standard macro (`file`,
/// `line`, `vec`, ...) and a router of more than 64 routes.
///
/// # Fallbacks
///
/// `fallback: not_found`, in the router's body or in a scope, names a
/// [`fallback`] handler that answers the requests no route matches instead
/// of the JSON 404: the innermost scope whose prefix the path starts with
/// wins, then the router's own. A 405 stays a 405 and a trailing-slash
/// redirect stays a redirect. A fallback runs inside the middleware of its
/// scope; see [`fallback`] for the rest. A router without fallbacks
/// dispatches exactly as before.
///
/// # Mounting routers
///
/// `mount: users::UsersApi` puts the routes of another `router!` struct in
/// this router, under the scope the entry is written in. There is still one
/// dispatcher: `lookup` matches the mounted routes by their full patterns
/// (`/users/:id`), `ROUTES` lists them (handler names read from this
/// router: `users::get_user`), and duplicates and conflicts between this
/// router and the mounted one, or two mounted ones, are compile errors
/// pointing at both routes.
///
/// - A mounted route runs this router's middleware, then the scope
///   middleware around the `mount:`, then the mounted router's own
///   middleware, then its scope middleware, then the handler. Misses (404,
///   405, trailing slashes) are this router's: it answers them, with its
///   `trailing_slash` mode, before the mounted router runs; but the mounted
///   router's fallbacks answer the 404s under the prefix it is mounted at
///   (before a fallback of that scope itself), inside its middleware.
/// - `new` builds each mounted router once, from this router's state: its
///   state type must implement [`FromRef`] of this one (any `Clone` state is
///   `FromRef` of itself); a router without state mounts anywhere.
/// - The mounted router's code sees its own state, its own [`RouteInfo`]
///   (`cx.route()`, patterns without the prefix) and its own parameters; the
///   parameters of the prefix (`scope "/orgs/:org" { mount: .. }`) belong to
///   this router (its middleware can read them). The request path is the
///   whole path. Its `trailing_slash` mode does not apply.
/// - The mounted router still works alone: `UsersApi::new(..)`, its own
///   `ROUTES` and `lookup`.
/// - Limits: mount a router by the path of its `router!` struct (not a type
///   alias) from the same crate (what carries its routes is a `macro_rules!`,
///   re-exported at most crate-wide); a router that mounts others cannot be
///   mounted itself (mount its routers directly); nothing is mounted at run
///   time. Each is a compile error that says so.
///
/// ```
/// use mambo::prelude::*;
///
/// mod users {
///     use mambo::prelude::*;
///
///     #[derive(Clone)]
///     pub struct Users(pub &'static str);
///
///     #[route(GET "/:id")]
///     async fn get_user(id: u64, State(users): State<Users>) -> String {
///         format!("{} {id}", users.0)
///     }
///
///     mambo::router! {
///         pub struct UsersApi {
///             state: Users,
///             routes: [get_user],
///         }
///     }
/// }
///
/// #[derive(Clone)]
/// struct AppState {
///     users: users::Users,
/// }
///
/// impl FromRef<AppState> for users::Users {
///     fn from_ref(state: &AppState) -> users::Users {
///         state.users.clone()
///     }
/// }
///
/// mambo::router! {
///     pub struct Api {
///         state: AppState,
///         scope "/users" {
///             mount: users::UsersApi,
///         },
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// assert_eq!(Api::ROUTES[0].pattern, "/users/:id");
/// assert_eq!(Api::ROUTES[0].handler, "users::get_user");
/// let client = mambo::test::TestClient::new(Api::new(AppState { users: users::Users("user") }));
/// assert_eq!(client.get("/users/7").send().await.text(), "user 7");
/// # });
/// ```
///
/// # Examples
///
/// ```
/// use mambo::prelude::*;
///
/// mod users {
///     use mambo::prelude::*;
///
///     #[route(GET "/:id")]
///     pub async fn get(id: u64, State(prefix): State<String>) -> String {
///         format!("{prefix}{id}")
///     }
/// }
///
/// mambo::router! {
///     pub struct Api {
///         state: String,
///         trailing_slash: redirect,
///         scope "/users" {
///             routes: [users::get],
///         },
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let api = Api::new("user #".to_owned());
/// assert!(matches!(api.lookup(&Method::GET, "/users/7"), mambo::Lookup::Found { .. }));
/// assert_eq!(Api::ROUTES[0].pattern, "/users/:id");
///
/// let client = mambo::test::TestClient::new(api);
/// assert_eq!(client.get("/users/7").send().await.text(), "user #7");
/// assert_eq!(client.get("/users/7/").send().await.status(), StatusCode::PERMANENT_REDIRECT);
/// assert_eq!(client.post("/users/7").send().await.header("allow"), Some("GET, HEAD, OPTIONS"));
/// # });
/// ```
pub use mambo_macros::router;
pub use response::{Html, IntoResponse, Redirect, Response, StreamBody};
pub use routing::{
    Lookup, MAX_PARAMS, ParamSlots, Params, RouteInfo, TrailingSlash, split_segment,
};
pub use server::Server;
pub use service::{Request, Router};

/// The names most programs need: `use mambo::prelude::*;`.
pub mod prelude {
    pub use crate::ApiError;
    pub use crate::error::Error;
    pub use crate::extract::{ClientAddr, Extension, Form, FromRef, Header, Json, Query, State};
    pub use crate::extract::{FromParam, FromRequest, FromRequestParts};
    pub use crate::middleware::{Flow, Middleware};
    pub use crate::response::{Html, IntoResponse, Redirect, Response, StreamBody};
    pub use crate::{RequestContext, Router, fallback, route, router};
    pub use bytes::Bytes;
    pub use http::{HeaderMap, Method, StatusCode};
}
