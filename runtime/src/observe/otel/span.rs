//! The server span of one request: opened by the server (`server::trace`),
//! named after the route by the router's guard, tagged with the request id
//! by `RequestId`, finished by the server; and the trace id `AccessLog`
//! prints.
//!
//! The server opens a span only when a subscriber listens to [`TARGET`] at
//! `INFO`; what the router and `RequestId` record is behind a thread-local
//! read that says whether the request being polled has one (`#[inline]`
//! checks in front of `#[cold]` bodies). [`inject`] and the access log's
//! trace id read the current span, whatever it is.

use std::cell::Cell;
use std::fmt;

use http::header::{HeaderValue, USER_AGENT};
use http::{Method, Version};
use opentelemetry::trace::{TraceContextExt, TraceId};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use tracing::field::Empty;
use tracing::{Level, Span};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::context::ConnInfo;
use crate::response::Response;
use crate::routing::RouteInfo;

/// The `tracing` target of the server spans.
///
/// Filter on it to turn them on or off without touching the rest of the
/// application's logs (`RUST_LOG=info,mambo::otel=off`).
pub const TARGET: &str = "mambo::otel";

/// The name of the server span's callsite (what `fmt` prints); the name
/// exported to OpenTelemetry is `otel.name`.
const NAME: &str = "request";

/// Whether a subscriber wants server spans: the cached level check each
/// request pays with the feature on.
#[inline]
pub(crate) fn enabled() -> bool {
    tracing::enabled!(target: TARGET, Level::INFO)
}

/// Opens the server span of `request`, a child of the context its
/// `traceparent` (and `tracestate`) carry, as read by the global propagator.
///
/// Returns the span and the method part of its name (`GET`, or `HTTP` for
/// a method outside RFC 9110's list), or `None` when the subscriber turned
/// the span down after all.
#[cold]
#[inline(never)]
pub(crate) fn open(
    request: &http::request::Parts,
    conn: &ConnInfo,
) -> Option<(Span, &'static str)> {
    let (method, original) = method_of(&request.method);
    let name = if original.is_some() { "HTTP" } else { method };
    let remote = conn.remote_addr;
    let span = tracing::info_span!(
        target: TARGET,
        NAME,
        otel.name = name,
        otel.kind = "server",
        otel.status_code = Empty,
        http.request.method = method,
        http.request.method_original = original,
        http.route = Empty,
        http.response.status_code = Empty,
        url.path = request.uri.path(),
        url.scheme = if conn.secure { "https" } else { "http" },
        client.address = remote.map(|addr| tracing::field::display(addr.ip())),
        client.port = remote.map(|addr| addr.port()),
        network.protocol.version = protocol_version(request.version),
        user_agent.original = request.headers.get(USER_AGENT).and_then(|v| v.to_str().ok()),
        "error.type" = Empty,
        request.id = Empty,
    );
    if span.is_disabled() {
        return None;
    }
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(&request.headers))
    });
    // Fails only without an OpenTelemetry layer (a `fmt`-only subscriber),
    // where there is no trace to join.
    let _ = span.set_parent(parent);
    Some((span, name))
}

/// `http.request.method`: the method when RFC 9110 (or RFC 5789, `PATCH`)
/// defines it, else `_OTHER` with the method as sent beside it, as the
/// semantic conventions ask (a client choosing the method must not choose
/// how many distinct span names there are).
fn method_of(method: &Method) -> (&'static str, Option<&str>) {
    let known = match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::CONNECT => "CONNECT",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::PATCH => "PATCH",
        _ => return ("_OTHER", Some(method.as_str())),
    };
    (known, None)
}

/// `network.protocol.version`.
fn protocol_version(version: Version) -> &'static str {
    if version == Version::HTTP_11 {
        "1.1"
    } else if version == Version::HTTP_2 {
        "2"
    } else if version == Version::HTTP_10 {
        "1.0"
    } else if version == Version::HTTP_3 {
        "3"
    } else {
        "0.9"
    }
}

thread_local! {
    /// The method part of the name of the server span being polled on this
    /// thread, while the server polls a request that has one.
    static ACTIVE: Cell<Option<&'static str>> = const { Cell::new(None) };
}

/// Marks the server span of the request being polled as active on this
/// thread until dropped. The route and the request id are recorded only
/// while one is: a thread-local read is their whole cost otherwise, and
/// the guard and `RequestId` also run under the in-process test client,
/// where no server span exists.
pub(crate) struct Active {
    previous: Option<&'static str>,
}

/// See [`Active`]; `name` is what [`open`] returned beside the span.
#[inline]
pub(crate) fn activate(name: &'static str) -> Active {
    Active { previous: ACTIVE.replace(Some(name)) }
}

impl Drop for Active {
    #[inline]
    fn drop(&mut self) {
        ACTIVE.set(self.previous);
    }
}

/// Whether `span` is a server span (not a span a handler or middleware
/// entered since).
fn is_server_span(span: &Span) -> bool {
    span.metadata().is_some_and(|meta| meta.target() == TARGET && meta.name() == NAME)
}

/// Records the route the router found (`http.route`) and renames the span
/// `{method} {route}`. Called by the dispatch once the route is found
/// (`__private::route_found`), inside the span.
#[inline]
pub(crate) fn record_route(route: &'static RouteInfo) {
    if let Some(method) = ACTIVE.get() {
        name_after(method, route);
    }
}

#[cold]
#[inline(never)]
fn name_after(method: &'static str, route: &'static RouteInfo) {
    // A fallback answers under a prefix, not a route template.
    if route.methods.is_empty() {
        return;
    }
    let span = Span::current();
    if !is_server_span(&span) {
        return;
    }
    span.record("http.route", route.pattern);
    let name = format!("{method} {}", route.pattern);
    // `otel.name` renames a span the layer has not started yet (and shows
    // in `fmt` output); a started one is renamed through its context.
    span.record("otel.name", name.as_str());
    span.context().span().update_name(name);
}

/// Records the request id on the server span (`request.id`), so a trace
/// leads to the log lines of its request and back.
#[inline]
pub(crate) fn record_request_id(id: &HeaderValue) {
    if ACTIVE.get().is_some() {
        record_request_id_now(id);
    }
}

#[cold]
#[inline(never)]
fn record_request_id_now(id: &HeaderValue) {
    let span = Span::current();
    if is_server_span(&span)
        && let Ok(id) = id.to_str()
    {
        span.record("request.id", id);
    }
}

/// Records the response on the server span: its status code and, for a
/// 5xx, `error.type` (the status code, or `panic`) and an error status.
#[cold]
#[inline(never)]
pub(crate) fn finish(span: &Span, response: &Response) {
    let status = response.status();
    span.record("http.response.status_code", status.as_u16());
    let error = if response.extensions().get::<Panicked>().is_some() {
        "panic"
    } else if status.is_server_error() {
        status.as_str()
    } else {
        return;
    };
    span.record("error.type", error);
    span.record("otel.status_code", "error");
}

/// Marks a response as the 500 that replaced a panic, for `error.type`.
#[derive(Debug, Clone, Copy)]
struct Panicked;

/// Marks `response` (the 500 that replaces a panic) for [`finish`]. The
/// 500 carries an error report, so the extension map is there already.
#[cold]
pub(crate) fn mark_panic(response: &mut Response) {
    response.extensions_mut().insert(Panicked);
}

/// The trace id of the current span for a log line: 32 hex digits, or `-`
/// outside a sampled or unsampled trace.
pub(crate) struct TraceIdField(Option<TraceId>);

impl TraceIdField {
    /// The trace id of the current span's context.
    pub(crate) fn current() -> Self {
        let context = Span::current().context();
        let span = context.span();
        let span_context = span.span_context();
        TraceIdField(span_context.is_valid().then(|| span_context.trace_id()))
    }
}

impl fmt::Display for TraceIdField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(id) => fmt::Display::fmt(&id, f),
            None => f.write_str("-"),
        }
    }
}

/// Writes the current trace context into `headers`, for an outgoing request:
/// the request it serves and the one it makes then belong to one trace.
///
/// The context is the current `tracing` span's (a handler runs inside its
/// request's server span, or inside its own spans under it), written by the
/// global propagator: W3C `traceparent` and `tracestate` once [`init`] has
/// run. Without a span in a trace, nothing is written.
///
/// Works for any client built on `http` 1 (hyper, reqwest, ...).
///
/// [`init`]: super::init
///
/// # Examples
///
/// ```
/// use mambo::observe::otel;
///
/// # fn main() -> Result<(), http::Error> {
/// // Inside a handler, before calling another service:
/// let mut request = http::Request::get("http://inventory.internal/items/7").body(())?;
/// otel::inject(request.headers_mut());
/// // With reqwest: `let mut headers = http::HeaderMap::new(); otel::inject(&mut headers);`
/// // then `client.get(url).headers(headers)`.
/// # Ok(())
/// # }
/// ```
pub fn inject(headers: &mut http::HeaderMap) {
    let mut context = Span::current().context();
    if !context.has_active_span() {
        // Code that uses the OpenTelemetry API directly, not `tracing`.
        context = opentelemetry::Context::current();
    }
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut HeaderInjector(headers));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_the_rfcs_are_other() {
        assert_eq!(method_of(&Method::GET), ("GET", None));
        assert_eq!(method_of(&Method::PATCH), ("PATCH", None));
        let purge = Method::from_bytes(b"PURGE").unwrap();
        assert_eq!(method_of(&purge), ("_OTHER", Some("PURGE")));
    }

    #[test]
    fn protocol_versions() {
        assert_eq!(protocol_version(Version::HTTP_10), "1.0");
        assert_eq!(protocol_version(Version::HTTP_11), "1.1");
        assert_eq!(protocol_version(Version::HTTP_2), "2");
    }

    #[test]
    fn nothing_is_recorded_outside_a_server_span() {
        // No span is active: the route and the id are left alone.
        assert!(ACTIVE.get().is_none());
        static ROUTE: RouteInfo = RouteInfo {
            index: 0,
            methods: &["GET"],
            pattern: "/",
            handler: "index",
            params: &[],
            body_limit: None,
            timeout: None,
        };
        record_route(&ROUTE);
        record_request_id(&HeaderValue::from_static("id"));
        let active = activate("GET");
        assert_eq!(ACTIVE.get(), Some("GET"));
        drop(active);
        assert!(ACTIVE.get().is_none());
    }

    #[test]
    fn trace_id_field_prints_a_dash_outside_a_trace() {
        assert_eq!(TraceIdField::current().to_string(), "-");
        let id = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
        assert_eq!(TraceIdField(Some(id)).to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
    }

    #[test]
    fn inject_without_a_trace_writes_nothing() {
        let mut headers = http::HeaderMap::new();
        inject(&mut headers);
        assert!(headers.is_empty());
    }
}
