//! Per-request tracing that costs one level check when nobody listens.
//!
//! With a subscriber interested in `mambo::server` at `DEBUG`, every request
//! runs inside a `request` span (method, path) and ends with an event
//! carrying the status and the latency. Without one, `start` is a relaxed
//! load and a compare, and the span is [`Span::none`].

use std::time::Instant;

use tracing::{Level, Span};

use crate::response::Response;

/// The `tracing` target of everything the server logs.
pub(crate) const TARGET: &str = "mambo::server";

/// The tracing state of one request.
#[derive(Debug)]
pub(crate) struct RequestTrace {
    span: Span,
    start: Option<Instant>,
}

impl RequestTrace {
    /// Opens the request's span if anyone listens.
    #[inline]
    pub(crate) fn start<B>(request: &http::Request<B>) -> Self {
        if tracing::enabled!(target: TARGET, Level::DEBUG) {
            Self::start_enabled(request)
        } else {
            RequestTrace { span: Span::none(), start: None }
        }
    }

    #[cold]
    fn start_enabled<B>(request: &http::Request<B>) -> Self {
        let span = tracing::debug_span!(
            target: TARGET,
            "request",
            method = %request.method(),
            path = request.uri().path(),
        );
        RequestTrace { span, start: Some(Instant::now()) }
    }

    /// The span the request runs in.
    pub(crate) fn span(&self) -> &Span {
        &self.span
    }

    /// Records the response.
    #[inline]
    pub(crate) fn finish(&self, response: &Response) {
        if let Some(start) = self.start {
            let latency = start.elapsed();
            tracing::debug!(
                target: TARGET,
                parent: &self.span,
                status = response.status().as_u16(),
                latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
                "response",
            );
        }
    }
}
