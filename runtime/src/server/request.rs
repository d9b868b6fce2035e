//! One request, from hyper's `Request<Incoming>` to the router's response.
//!
//! Allocation-free: the future is one concrete type per router, the body is
//! moved into [`Body::Incoming`], and the only shared-state traffic is the
//! in-flight counter and the connection's activity counter.

use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use hyper::body::Incoming;
use tracing::Instrument;

use super::conn::ConnState;
use super::shed;
use super::trace::{RequestTrace, TARGET};
use crate::body::Body;
use crate::error::Error;
use crate::response::{IntoResponse, Response};
use crate::service::Router;

/// Answers one request on the connection `conn`.
///
/// Past the in-flight limit the answer is a 503 without calling the router.
/// A panic anywhere in the router's future (middleware included; handlers'
/// own panics are already caught by the generated dispatch) becomes a 500,
/// and the connection carries on.
pub(crate) async fn handle<R: Router>(
    conn: Arc<ConnState<R>>,
    request: http::Request<Incoming>,
) -> Result<Response, Infallible> {
    let _active = conn.start_request();
    let shared = &*conn.shared;
    let Some(_slot) = shared.in_flight.try_acquire(shared.config.max_in_flight) else {
        return Ok(shed::overloaded(shared.config.retry_after));
    };
    let request = request.map(Body::Incoming);
    let trace = RequestTrace::start(&request);
    let router = &shared.router;
    let info = conn.info;
    let answer = async {
        // A panic in the call to `handle` itself, or in any poll of its
        // future, becomes a 500. The router's future is wrapped as it is
        // (no `async` block around it), so it is stored once.
        let outcome =
            match std::panic::catch_unwind(AssertUnwindSafe(|| router.handle(request, info))) {
                Ok(future) => crate::__private::CatchUnwind::new(future).await,
                Err(panic) => Err(panic),
            };
        let response = match outcome {
            Ok(response) => response,
            Err(panic) => {
                let message = crate::__private::panic_message(&*panic);
                tracing::error!(target: TARGET, panic = message, "request panicked, answering 500");
                Error::internal().into_response()
            }
        };
        trace.finish(&response);
        response
    };
    let span = trace.span().clone();
    Ok(answer.instrument(span).await)
}
