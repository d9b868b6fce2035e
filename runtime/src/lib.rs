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
pub mod error;
pub mod extract;
pub mod middleware;
pub mod response;
mod routing;
pub mod server;
mod service;
pub mod test;
#[cfg(feature = "tower")]
pub mod tower;

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
///         scope "/prefix" { middleware: [..], routes: [..], service .., scope ".." { .. } },
///     }
/// }
/// ```
///
/// Middleware listed as a bare type is built with `Default`; `Type = expr`
/// is built by the expression, which may use `state` (the argument of
/// `new`) by reference, e.g. `Cors = Cors::new().allow_origin(&state.origin)`.
/// With the `tower` feature, `layer(expr)` lists a `tower::Layer` in order
/// with Mambo middleware, and `service [METHODS] "/pattern" => expr` makes a
/// `tower::Service` a route: see [`tower`](crate::tower) for the rules and
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
    pub use crate::{RequestContext, Router, route, router};
    pub use bytes::Bytes;
    pub use http::{HeaderMap, Method, StatusCode};
}
