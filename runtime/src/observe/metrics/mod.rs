//! Per-route Prometheus / OpenMetrics metrics, recorded without a lock, a
//! label lookup or an allocation (feature `metrics`).
//!
//! A router opts in with a `metrics:` entry naming the route that exposes
//! them; put it in a scope whose middleware protects it:
//!
//! ```
//! use mambo::prelude::*;
//!
//! #[route(GET "/todos/:id")]
//! async fn todo(id: u64) -> String {
//!     format!("todo {id}")
//! }
//!
//! mambo::router! {
//!     pub struct Api {
//!         routes: [todo],
//!         scope "/internal" {
//!             // middleware: [RequireToken],   (your authentication)
//!             metrics: "/metrics",
//!         },
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let client = mambo::test::TestClient::new(Api::new());
//! client.get("/todos/7").send().await;
//! let response = client.get("/internal/metrics").send().await;
//! let text = response.text();
//! println!("{text}");
//! assert!(text.contains(r#"mambo_http_requests_total{route="/todos/:id",method="GET",status="2xx"} 1"#));
//! # }
//! ```
//!
//! # What is recorded
//!
//! Per route, labelled with the route's **pattern** (never the request's
//! path, so the number of series is bounded by the routes) and its
//! declared method(s); requests no route took go under
//! `route="unmatched"`:
//!
//! | metric | type | |
//! |---|---|---|
//! | `mambo_http_requests_total{route,method,status}` | counter | `status` is the class, `1xx`..`5xx`, or `cancelled` (the client left before the answer) |
//! | `mambo_http_request_duration_seconds{route,method}` | histogram | from the router receiving the request to the response's head ([`DEFAULT_BUCKETS`], or `metrics_buckets: [..]` in `router!`) |
//! | `mambo_http_request_body_bytes_total{route,method}` | counter | body bytes the handler read |
//! | `mambo_http_response_body_bytes_total{route,method}` | counter | body bytes answered (a streamed body as it goes out) |
//! | `mambo_http_requests_in_flight{route,method}` | gauge | |
//!
//! A route appears once it has seen a request. Server-wide, whether or not
//! a router records metrics ([`crate::observe::server`]):
//!
//! | metric | type |
//! |---|---|
//! | `mambo_server_connections{protocol="http1"\|"http2"}` | gauge |
//! | `mambo_server_requests_in_flight` | gauge |
//! | `mambo_server_shed_total` (503: a limit was reached) | counter |
//! | `mambo_server_rate_limited_total` (429) | counter |
//! | `mambo_server_timeouts_total{status="408"\|"504"}` | counter |
//! | `mambo_server_panics_total` | counter |
//! | `mambo_server_accept_errors_total` | counter |
//!
//! Your own metrics go into the same exposition: register them in
//! [`registry()`] (a `prometheus-client` [`Registry`]).
//!
//! # Exposition
//!
//! The `metrics:` route answers in the Prometheus text format (0.0.4), or
//! in OpenMetrics 1.0 when the `Accept` header asks for
//! `application/openmetrics-text` (Prometheus does), both written by
//! `prometheus-client`.
//!
//! # Cost
//!
//! `router!` generates one `static` array of [`RouteSlot`]s, one per route
//! (a slot is four cache lines, so two routes never share one) and one for
//! misses, indexed by the route id the lookup found. Per request: two clock
//! reads and six relaxed atomic adds on that route's slot; no allocation
//! (a streamed response body of unknown size is the exception: wrapping it
//! to count its bytes allocates once). A router without `metrics:` has no
//! slots and runs no metrics code. `cargo xtask bench cpu` and `bench
//! alloc` measure both (the `mambo+metrics` rows).
//!
//! The slots belong to the router *type*: two instances of one router in
//! a process add to the same counters, as Prometheus counters are per
//! process. Requests from many cores to one route do share its slot's
//! cache lines.

mod expose;
mod meter;
mod slots;

use std::sync::{LazyLock, Mutex, MutexGuard, PoisonError};

pub use expose::{
    ENCODING_FAILED_CODE, Format, OPENMETRICS_CONTENT_TYPE, UNMATCHED_ROUTE, encode, respond,
};
pub use meter::RequestMeter;
pub use prometheus_client;
pub use prometheus_client::registry::Registry;
pub use slots::{Buckets, DEFAULT_BUCKETS, MAX_BUCKETS, RouteSlot, RouterMetrics};

/// The application's metrics, exposed with the routers' on every
/// `metrics:` route of the process.
static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(|| Mutex::new(Registry::default()));

/// The process's registry for the application's own metrics.
///
/// # Examples
///
/// ```
/// use mambo::observe::metrics::{prometheus_client::metrics::counter::Counter, registry};
///
/// let signups: Counter = Counter::default();
/// registry().register("myapp_signups", "Accounts created", signups.clone());
/// signups.inc();
/// ```
pub fn registry() -> MutexGuard<'static, Registry> {
    // A panic while registering leaves the registry as it was before the
    // call (`register` pushes at most one entry); keep serving it.
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}
