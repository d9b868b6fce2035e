//! Static middleware: `before` each request, `after` each response.
//!
//! `router!` knows every middleware type of a router, so the calls are direct
//! and unrolled in the generated dispatch: the `before` of each middleware in
//! order (any may answer early), the handler, then the `after` of each
//! middleware whose `before` let the request through, in reverse order.
//! Nothing is boxed and nothing is looked up at run time.
//!
//! # Order
//!
//! The order of `middleware: [..]` is the order of the `before` calls.
//! The shipped ones go `[RequestId, AccessLog, ..]`: [`RequestId`] first so
//! every request has an id before anything can answer it, [`AccessLog`]
//! second so its latency covers everything after it (see
//! [`AccessLog`](AccessLog#order)); [`OnServerError`] anywhere after
//! `RequestId`; then the rest ([`Cors`], authentication, `RateLimit`).
//! Scope middleware run after the router's.
//!
//! # Rate limiting
//!
//! With the `rate-limit` feature, `RateLimit` answers `429 Too Many
//! Requests` with `Retry-After` once a client has used its quota (governor's
//! GCRA: a burst, refilled at a steady rate). List it for the whole router or
//! in a scope; each entry counts on its own:
//!
//! ```text
//! use mambo::middleware::{Quota, RateLimit, nonzero};
//!
//! mambo::router! {
//!     pub struct Api {
//!         middleware: [
//!             RateLimit = RateLimit::per_client_ip(Quota::per_second(nonzero!(20u32)))
//!                 .trust_forwarded_from(["10.0.0.0/8"]),
//!         ],
//!         routes: [..],
//!         scope "/auth" {
//!             middleware: [RateLimit = RateLimit::per_client_ip(Quota::per_minute(nonzero!(5u32)))],
//!             routes: [..],
//!         },
//!     }
//! }
//! ```
//!
//! Clients are keyed by IP address (the peer's, or behind proxies you name,
//! the address they forward: see `ClientIp` before trusting one), by a
//! header (`RateLimit::per_header`) or by any function of the request and
//! state (`RateLimit::per_key`). The key table is capped and swept as
//! requests arrive; `RateLimit`'s docs say what happens past the cap. A
//! router that does not list it runs none of its code.

use std::future::Future;

use crate::context::RequestContext;
use crate::response::Response;

/// What `before` decided.
#[derive(Debug)]
pub enum Flow {
    /// Go on to the next middleware, then the handler.
    Continue,
    /// Answer now with this response; the handler does not run.
    Respond(Response),
}

/// A middleware.
///
/// `Local` is per-request scratch space owned by the dispatcher for this
/// middleware alone (a start time, a request id): it lives on the dispatch
/// future's stack, so it costs no allocation. Use `()` when there is none.
///
/// # Examples
///
/// ```
/// use mambo::middleware::{Flow, Middleware};
/// use mambo::{Error, RequestContext, Response, StatusCode, IntoResponse};
///
/// /// Answers 401 unless the request carries `authorization`.
/// #[derive(Default)]
/// struct RequireAuth;
///
/// impl<S: Sync> Middleware<S> for RequireAuth {
///     type Local = ();
///
///     async fn before(&self, cx: &mut RequestContext<'_, S>, _: &mut ()) -> Flow {
///         if cx.headers().contains_key("authorization") {
///             Flow::Continue
///         } else {
///             Flow::Respond(Error::new(StatusCode::UNAUTHORIZED, "sign in first").into_response())
///         }
///     }
/// }
/// ```
pub trait Middleware<S>: Send + Sync + 'static {
    /// Per-request state shared by this middleware's `before` and `after`.
    type Local: Default + Send;

    /// Runs before the handler; may answer early.
    fn before(
        &self,
        cx: &mut RequestContext<'_, S>,
        local: &mut Self::Local,
    ) -> impl Future<Output = Flow> + Send {
        let _ = (cx, local);
        async { Flow::Continue }
    }

    /// Runs after the handler (or a later middleware) produced the response.
    fn after(
        &self,
        cx: &RequestContext<'_, S>,
        local: &mut Self::Local,
        response: &mut Response,
    ) -> impl Future<Output = ()> + Send {
        let _ = (cx, local, response);
        async {}
    }
}

mod access_log;
mod cors;
mod on_server_error;
#[cfg(feature = "rate-limit")]
mod rate_limit;
mod request_id;

pub use access_log::{ACCESS_LOG_TARGET, AccessLog};
pub use cors::{CORS_LOG_TARGET, Cors};
pub use on_server_error::OnServerError;
#[cfg(feature = "rate-limit")]
pub use rate_limit::{
    ClientIp, DEFAULT_MAX_KEYS, HeaderKey, KeyExtractor, KeyFn, ProxyHeader, Quota,
    RATE_LIMIT_LOG_TARGET, RATE_LIMITED_CODE, RateLimit, nonzero,
};
pub use request_id::{MAX_INCOMING_LEN, RequestId, RequestIdValue, X_REQUEST_ID};
