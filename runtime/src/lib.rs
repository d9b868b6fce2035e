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
pub use context::{ConnInfo, DEFAULT_BODY_LIMIT, RequestContext};
pub use error::{ApiError, Error};
pub use extract::{ClientAddr, Form, FromRef, Header, Json, Query, State};
pub use http::{self, HeaderMap, Method, StatusCode, Uri, header};
pub use mambo_macros::{ApiError, route, router};
pub use response::{Html, IntoResponse, Redirect, Response, StreamBody};
pub use routing::{Lookup, ParamRanges, Params, RouteInfo, TrailingSlash, split_segment};
pub use server::Server;
pub use service::{Request, Router};

/// The names most programs need: `use mambo::prelude::*;`.
pub mod prelude {
    pub use crate::ApiError;
    pub use crate::error::Error;
    pub use crate::extract::{ClientAddr, Form, FromRef, Header, Json, Query, State};
    pub use crate::extract::{FromParam, FromRequest, FromRequestParts};
    pub use crate::middleware::{Flow, Middleware};
    pub use crate::response::{Html, IntoResponse, Redirect, Response, StreamBody};
    pub use crate::{RequestContext, Router, route, router};
    pub use bytes::Bytes;
    pub use http::{HeaderMap, Method, StatusCode};
}
