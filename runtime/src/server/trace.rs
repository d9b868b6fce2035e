//! Per-request tracing that costs one level check when nobody listens.
//!
//! With a subscriber interested in `mambo::server` at `DEBUG`, every request
//! runs inside a `request` span (method, path) and ends with an event
//! carrying the status and the latency. Without one, `start` is a relaxed
//! load and a compare, and the span is [`Span::none`].
//!
//! With the `otel` feature and a subscriber interested in `mambo::otel` at
//! `INFO`, the span is the OpenTelemetry server span instead
//! ([`crate::observe::otel`]); the `DEBUG` event still goes out when its
//! target is enabled.

use std::time::Instant;

use tracing::{Level, Span};

use crate::context::ConnInfo;
use crate::response::Response;

/// The `tracing` target of everything the server logs.
pub(crate) const TARGET: &str = "mambo::server";

/// The tracing state of one request.
#[derive(Debug)]
pub(crate) struct RequestTrace {
    span: Span,
    start: Option<Instant>,
    /// The method part of the server span's name, when the span is one.
    #[cfg(feature = "otel")]
    otel: Option<&'static str>,
}

impl RequestTrace {
    /// Opens the request's span if anyone listens.
    #[inline]
    pub(crate) fn start(request: &http::request::Parts, conn: &ConnInfo) -> Self {
        #[cfg(feature = "otel")]
        if crate::observe::otel::enabled()
            && let Some((span, name)) = crate::observe::otel::open(request, conn)
        {
            let start = tracing::enabled!(target: TARGET, Level::DEBUG).then(Instant::now);
            return RequestTrace { span, start, otel: Some(name) };
        }
        let _ = conn;
        if tracing::enabled!(target: TARGET, Level::DEBUG) {
            Self::start_enabled(request)
        } else {
            Self::none()
        }
    }

    fn none() -> Self {
        RequestTrace {
            span: Span::none(),
            start: None,
            #[cfg(feature = "otel")]
            otel: None,
        }
    }

    #[cold]
    fn start_enabled(request: &http::request::Parts) -> Self {
        let span = tracing::debug_span!(
            target: TARGET,
            "request",
            method = %request.method,
            path = request.uri.path(),
        );
        RequestTrace {
            span,
            start: Some(Instant::now()),
            #[cfg(feature = "otel")]
            otel: None,
        }
    }

    /// The span the request runs in.
    pub(crate) fn span(&self) -> &Span {
        &self.span
    }

    /// Marks the server span active on this thread, while the router's
    /// future is polled, so that the router can name it after the route.
    #[cfg(feature = "otel")]
    #[inline]
    pub(crate) fn activate(&self) -> Option<crate::observe::otel::Active> {
        self.otel.map(crate::observe::otel::activate)
    }

    /// Records the response.
    #[inline]
    pub(crate) fn finish(&self, response: &Response) {
        #[cfg(feature = "otel")]
        if self.otel.is_some() {
            crate::observe::otel::finish(&self.span, response);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// With no subscriber, a request opens nothing, reads no clock and
    /// parses no header, whatever it carries, with or without `otel`.
    #[test]
    fn nobody_listening_opens_nothing() {
        let request = http::Request::get("/todos/7")
            .header("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        let trace = RequestTrace::start(&request, &ConnInfo::default());
        assert!(trace.span().is_none());
        assert!(trace.start.is_none());
        #[cfg(feature = "otel")]
        assert!(trace.otel.is_none() && trace.activate().is_none());
    }
}
