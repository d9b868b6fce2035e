//! Tower both ways (feature `tower`): tower layers and services inside a
//! Mambo router, and a Mambo router as a tower service.
//!
//! # Layers and services inside a router
//!
//! `router!` takes any [`tower::Layer`](tower_layer::Layer) in a
//! `middleware:` list, written `layer(expr)`, in order with Mambo middleware,
//! at the router's level or a scope's; and any tower
//! [`Service`](tower_service::Service) as a route, written
//! `service "/pattern" => expr` (every method) or
//! `service GET | HEAD "/pattern" => expr`:
//!
//! ```text
//! use tower_http::compression::CompressionLayer;
//! use tower_http::services::ServeDir;
//!
//! mambo::router! {
//!     pub struct Api {
//!         middleware: [RequestId, layer(CompressionLayer::new()), AccessLog],
//!         routes: [health],
//!         service "/static/*path" => ServeDir::new("static"),
//!         scope "/api" {
//!             middleware: [layer(tower::limit::ConcurrencyLimitLayer::new(64))],
//!             routes: [users::list],
//!         },
//!     }
//! }
//! ```
//!
//! - A layer's service takes `http::Request<mambo::Body>` and answers
//!   `http::Response<B>` for any body `B` whose data is [`Bytes`] or converts
//!   into it; its errors become responses (see [`SharedService`]). The layer
//!   wraps everything listed after it, down to the handler (or the 404, 405
//!   and redirect answers, for a router-level layer). Each layer is built
//!   once, when the router is, so layers with shared state (a concurrency
//!   limit, a rate limit) count across requests.
//! - The middleware listed before a layer see, in `after`, the request head
//!   as it was when it went into the layer; the request's extensions travel
//!   on with it to the handler.
//! - A layer may rewrite the request's path (tower-http's
//!   `NormalizePathLayer`): the route is looked up again behind it.
//! - A router that lists a layer cannot be mounted in another (list the
//!   layer in the mounting scope instead), and a `fallback:` cannot sit
//!   inside a scope that has a layer: both are compile errors that say so.
//! - A service route answers through the service, under its scope's
//!   middleware, and takes part in the compile-time conflict checks like any
//!   route; `ROUTES` lists it with the method `*` when it answers every
//!   method. When its pattern ends in a catch-all, the service sees the path
//!   from the catch-all on (`/static/*path` hands `/css/site.css` to
//!   `ServeDir`), with the query; otherwise the whole path.
//!
//! ## Cost
//!
//! A router that lists no layer and no service runs none of this code. Per
//! request through a layer: the service is cloned, its future and the rest
//! of the chain's future are boxed, the request head is cloned for the
//! middleware listed before the layer, and the connection's [`ConnInfo`] is
//! put into the request's extensions. Measured with one router-level
//! tower-http layer (`SetResponseHeaderLayer`), that is 4 900–5 900 more
//! instructions per request (×1.45–1.54 over HTTP/1.1, ×1.19–1.21 over h2c)
//! and exactly 7 more allocations (2 580 bytes: 2 for the copy of the
//! headers, 3 for the extensions holding the `ConnInfo`, 2 for the boxed
//! futures), while a router with no layer allocates exactly what it did
//! before layers existed and executes 0–1.6% more instructions than then;
//! BENCHMARKS.md ("Cost of a tower layer") has the tables and commands.
//!
//! # A router as a tower service
//!
//! [`TowerService`] runs a Mambo router under tower layers, in a
//! hand-written hyper loop, or inside an axum app. This is the interop path,
//! and it pays for it: each call boxes the router's future (tower's
//! `Service::Future` must be nameable, and the router's future type is
//! not), and a request body of any type other than [`Body`] or hyper's
//! `Incoming` is boxed too. Prefer layers inside the router, served by
//! Mambo's own server, which keeps its limits, shedding and drain.
//!
//! Serving a router with hyper directly:
//!
//! ```no_run
//! use hyper::service::service_fn;
//! use hyper_util::rt::{TokioExecutor, TokioIo};
//! use hyper_util::server::conn::auto;
//! use mambo::tower::TowerService;
//! use mambo::{ConnInfo, IntoResponse, Request, Response, RouteInfo, Router};
//!
//! struct Hello;
//!
//! impl Router for Hello {
//!     fn routes(&self) -> &'static [RouteInfo] {
//!         &[]
//!     }
//!
//!     async fn handle(&self, _request: Request, _conn: ConnInfo) -> Response {
//!         "hello".into_response()
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let service = TowerService::new(Hello);
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//!     loop {
//!         let (stream, remote_addr) = listener.accept().await?;
//!         // Per connection: tell the router who is calling.
//!         let service = service.clone().with_conn(ConnInfo {
//!             remote_addr: Some(remote_addr),
//!             ..ConnInfo::default()
//!         });
//!         // hyper's services take `&self`; tower's take `&mut self`.
//!         let hyper_service = service_fn(move |request| {
//!             tower_service::Service::call(&mut service.clone(), request)
//!         });
//!         tokio::spawn(async move {
//!             let _ = auto::Builder::new(TokioExecutor::new())
//!                 .serve_connection(TokioIo::new(stream), hyper_service)
//!                 .await;
//!         });
//!     }
//! }
//! ```
//!
//! In axum, the same service is a fallback or a nested service:
//! `axum::Router::new().fallback_service(TowerService::new(api))`.

mod next;
mod outward;
mod shared;

use bytes::Bytes;

pub use next::{Next, NextFuture};
pub use outward::{TowerFuture, TowerService, into_tower_service};
pub use shared::{ResponseFuture, SERVICE_FAILED_CODE, SharedService};

use crate::body::{Body, BoxError};
use crate::context::ConnInfo;

/// Wraps the rest of a router's chain (`next`) in `layer`: what `router!`
/// builds for a `layer(..)` entry, once per router.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a layer in `router!`",
    label = "not a tower layer whose service takes `http::Request<mambo::Body>`",
    note = "`layer(..)` takes a `tower::Layer` whose service is `Clone + Send + Sync + 'static`, takes `http::Request<mambo::Body>` and answers `http::Response<B>` with a body whose data converts into `Bytes`"
)]
pub trait RouterLayer<C> {
    /// Builds the layered service.
    fn wrap(self, next: Next<C>) -> SharedService;
}

impl<L, C, B> RouterLayer<C> for L
where
    L: tower_layer::Layer<Next<C>>,
    L::Service: tower_service::Service<http::Request<Body>, Response = http::Response<B>>
        + Clone
        + Send
        + Sync
        + 'static,
    <L::Service as tower_service::Service<http::Request<Body>>>::Future: Send + 'static,
    <L::Service as tower_service::Service<http::Request<Body>>>::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Into<Bytes>,
    B::Error: Into<BoxError>,
{
    fn wrap(self, next: Next<C>) -> SharedService {
        self.layer(next).share()
    }
}

/// A tower service that can be a route in `router!`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a `service` route in `router!`",
    label = "not a tower service that takes `http::Request<mambo::Body>`",
    note = "a `service` route takes a `tower::Service` that is `Clone + Send + Sync + 'static`, takes `http::Request<mambo::Body>` and answers `http::Response<B>` with a body whose data converts into `Bytes`"
)]
pub trait RouterService {
    /// Keeps the service.
    fn share(self) -> SharedService;
}

impl<S, B> RouterService for S
where
    S: tower_service::Service<http::Request<Body>, Response = http::Response<B>>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Into<Bytes>,
    B::Error: Into<BoxError>,
{
    fn share(self) -> SharedService {
        SharedService(Box::new(self))
    }
}

/// The [`ConnInfo`] a request resumed behind a layer came in with.
pub(crate) fn conn_of(parts: &http::request::Parts) -> ConnInfo {
    parts.extensions.get::<ConnInfo>().copied().unwrap_or_default()
}
