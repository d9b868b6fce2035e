//! Items the generated code calls. Not public API: names and signatures may
//! change in any release.

// The `Err` of these helpers is the response the generated code returns at
// once; boxing it would allocate on every rejection to shrink a value that
// only moves one frame up.
#![allow(clippy::result_large_err)]

use std::borrow::Cow;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::header::{ALLOW, CONTENT_LENGTH, HeaderValue, LOCATION};
use http::{Method, StatusCode};
use percent_encoding::{CONTROLS, percent_encode};

// Public items are reached by the generated code through their public
// paths (`::mambo::Lookup`); only what has no public path is here.
pub use crate::context::{Answered, RequestHead};
pub use crate::guard::{Guard, Guarded, ResponseSlot, guard};
pub use crate::routing::word8;
pub use mambo_macros::__router_impl as router_impl;
pub use mambo_macros::__stash_chunk as stash_chunk;

// Mounted routers (`mount:` in `router!`).
pub use crate::context::Mounted;
pub use mambo_macros::__not_a_router as not_a_router;

// Fallbacks (`fallback:` in `router!`).
pub use crate::fallback::under_prefix;

// `jemalloc_heap_profiling!` (feature `pprof-heap`): the program's global
// allocator, without a dependency of its own on tikv-jemallocator.
#[cfg(feature = "pprof-heap")]
pub use tikv_jemallocator::Jemalloc;

use crate::body::Body;
use crate::context::RequestContext;
use crate::error::Error;
use crate::extract::{FromParam, FromRequest, FromRequestParts, PathParamRejection, decode_param};
use crate::response::{IntoResponse, Response};
use crate::routing::{Lookup, RouteInfo, TrailingSlash};

/// Why the router did not find a route: a [`Lookup`] without its borrowed
/// parameters, small and `'static`, so the dispatcher can keep it until it
/// builds the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    /// 404.
    NotFound,
    /// 405, or 204 for `OPTIONS`, with this `Allow`.
    MethodNotAllowed(&'static str),
    /// 308 to the path with the slash added or removed.
    Redirect(TrailingSlash),
}

impl Miss {
    /// The miss a lookup answered; `NotFound` for `Found` (never asked).
    pub fn of<const N: usize>(lookup: &Lookup<'_, N>) -> Self {
        match *lookup {
            Lookup::MethodNotAllowed { allow } => Miss::MethodNotAllowed(allow),
            Lookup::Redirect(direction) => Miss::Redirect(direction),
            Lookup::NotFound | Lookup::Found { .. } => Miss::NotFound,
        }
    }
}

/// Percent-decodes the `index`-th path parameter.
#[inline]
pub fn decode<'c, S>(
    cx: &'c RequestContext<'_, S>,
    index: usize,
    name: &'static str,
) -> Result<Cow<'c, str>, Response> {
    let raw = cx.raw_param(index).unwrap_or_default();
    decode_param(raw).map_err(|err| {
        PathParamRejection { name, expected: err.expected().to_owned().into() }.into_response()
    })
}

/// Parses a decoded path parameter into the handler argument's type.
#[inline]
pub fn parse<'a, T: FromParam<'a>>(value: &'a str, name: &'static str) -> Result<T, Response> {
    T::from_param(value).map_err(|err| crate::extract::reject_param(name, err))
}

/// Runs a head extractor.
#[inline]
pub async fn extract_parts<S, T: FromRequestParts<S>>(
    cx: &RequestContext<'_, S>,
) -> Result<T, Response> {
    T::from_request_parts(cx).await.map_err(IntoResponse::into_response)
}

/// Runs the last extractor, which may consume the body.
#[inline]
pub async fn extract_body<S, M, T: FromRequest<S, M>>(
    cx: &RequestContext<'_, S>,
    body: Body,
) -> Result<T, Response> {
    T::from_request(cx, body).await.map_err(IntoResponse::into_response)
}

/// Turns a handler's return value into a response.
#[inline(always)]
pub fn respond<T: IntoResponse>(value: T) -> Response {
    value.into_response()
}

/// Called by the dispatch once the lookup found `route`, inside the
/// request's span: with the `otel` feature, names the server span after
/// the route. Nothing without it.
///
/// A call of its own rather than part of [`guard`]: a `guard` that does
/// more than build its struct is no longer inlined, and the handler's
/// future (hundreds of bytes) is then copied into it, 216 instructions
/// per request (callgrind).
#[inline(always)]
pub fn route_found(route: &'static RouteInfo) {
    #[cfg(feature = "otel")]
    crate::observe::otel::record_route(route);
    #[cfg(not(feature = "otel"))]
    let _ = route;
}

pin_project_lite::pin_project! {
    /// Polls a future, catching a panic in any poll and answering it with
    /// the output the caller makes of the payload ([`CatchUnwind::poll_or`]).
    ///
    /// A struct rather than an `async fn`, for the reason given on [`Guard`].
    pub struct CatchUnwind<F> {
        #[pin]
        future: F,
    }
}

impl<F: Future> CatchUnwind<F> {
    /// Wraps `future`.
    pub fn new(future: F) -> Self {
        CatchUnwind { future }
    }

    /// Polls the future; if the poll panics, the output is `on_panic` of
    /// the payload.
    ///
    /// The output is written in place by the poll rather than returned
    /// through `catch_unwind` and rewrapped (a `Result<Poll<..>>` and then a
    /// `Poll<Result<..>>`): a response is 152 bytes, and each rewrapping
    /// copies it.
    #[inline]
    pub fn poll_or(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        on_panic: impl FnOnce(Box<dyn std::any::Any + Send>) -> F::Output,
    ) -> Poll<F::Output> {
        let future = self.project().future;
        let mut output = Poll::Pending;
        // One `output`, returned on every path, so that it can be the
        // caller's own slot.
        if let Err(panic) = std::panic::catch_unwind(AssertUnwindSafe(|| {
            // The `Pending` it replaces has nothing to drop: forgetting it
            // saves the drop glue of a response.
            std::mem::forget(std::mem::replace(&mut output, future.poll(cx)));
        })) {
            output = Poll::Ready(on_panic(panic));
        }
        output
    }
}

/// The text of a panic payload.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    if let Some(s) = panic.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s
    } else {
        "non-string panic payload"
    }
}

/// Answers a request no route took: 404, 405 + `Allow`, 204 + `Allow` for
/// `OPTIONS`, or a 308 trailing-slash redirect.
pub fn miss(miss: Miss, method: &Method, uri: &http::Uri) -> Response {
    match miss {
        Miss::MethodNotAllowed(allow) => {
            let mut response = if method == Method::OPTIONS {
                StatusCode::NO_CONTENT.into_response()
            } else {
                Error::method_not_allowed().into_response()
            };
            response.headers_mut().insert(ALLOW, HeaderValue::from_static(allow));
            response
        }
        Miss::Redirect(direction) => redirect_trailing_slash(direction, uri),
        Miss::NotFound => Error::not_found().into_response(),
    }
}

/// The 308 to the path with its trailing slash added or removed, query kept.
///
/// `http::Uri` (like httparse beneath hyper) accepts raw UTF-8 in the path
/// and query; `location` must be a URI, so those bytes are percent-encoded
/// (`%` escapes already there are kept as they are).
fn redirect_trailing_slash(direction: TrailingSlash, uri: &http::Uri) -> Response {
    let path = uri.path();
    let path = match direction {
        TrailingSlash::Add => path,
        TrailingSlash::Remove => &path[..path.len() - 1],
    };
    let mut location =
        String::with_capacity(path.len() + 1 + uri.query().map_or(0, |q| q.len() + 1));
    location.extend(percent_encode(path.as_bytes(), CONTROLS));
    if direction == TrailingSlash::Add {
        location.push('/');
    }
    if let Some(query) = uri.query() {
        location.push('?');
        location.extend(percent_encode(query.as_bytes(), CONTROLS));
    }
    let mut response = StatusCode::PERMANENT_REDIRECT.into_response();
    match HeaderValue::try_from(location) {
        Ok(value) => {
            response.headers_mut().insert(LOCATION, value);
            response
        }
        Err(_) => Error::not_found().into_response(),
    }
}

/// Finishes a response: drops the body of an answer to `HEAD`, keeping the
/// length the `GET` would have sent, and logs a 5xx's
/// [`ErrorReport`](crate::error::ErrorReport), once every middleware has
/// added what it knows to it.
#[inline(always)]
pub fn finish(is_head: bool, mut response: Response) -> Response {
    finish_in_place(is_head, &mut response);
    response
}

/// [`finish`], on a response where it lies.
#[inline(always)]
pub fn finish_in_place(is_head: bool, response: &mut Response) {
    if is_head {
        drop_body_for_head(response);
    }
    if response.status().is_server_error() {
        crate::error::emit_report(response);
    }
}

/// Empties the body of an answer to `HEAD`. A buffered body's length goes
/// into `content-length` (unless the handler set one), as RFC 9110 §9.3.2
/// asks: the headers a `GET` would get; so does a boxed body with an exact
/// size. A stream's length is not known without running it, so it gets
/// none, as on a `GET`.
///
/// Out of line: `HEAD` is rare, and `finish` is inlined into every router.
#[inline(never)]
fn drop_body_for_head(response: &mut Response) {
    let body = std::mem::replace(response.body_mut(), crate::body::ResponseBody::Empty);
    let status = response.status();
    // These never carry a length (RFC 9110 §8.6).
    let lengthless = status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    // A buffer's length, or the exact size a boxed body (a tower
    // service's) announces.
    let length = match &body {
        crate::body::ResponseBody::Full(bytes) => Some(bytes.len() as u64),
        crate::body::ResponseBody::Boxed(boxed) => http_body::Body::size_hint(boxed).exact(),
        _ => None,
    };
    if let Some(length) = length
        && !lengthless
        && !response.headers().contains_key(CONTENT_LENGTH)
    {
        response.headers_mut().insert(CONTENT_LENGTH, HeaderValue::from(length));
    }
}

/// Whether a trailing-slash alternative exists: calls `matches` on `path`
/// with one `/` added or removed.
///
/// Adding a slash needs a copy of the path; it is made on the stack for paths
/// up to 1 KiB, and on the heap past that (only on this miss path).
pub fn trailing_slash_alternative(
    path: &str,
    matches: impl Fn(&str) -> bool,
) -> Option<TrailingSlash> {
    if path.len() > 1 && path.ends_with('/') {
        return matches(&path[..path.len() - 1]).then_some(TrailingSlash::Remove);
    }
    let mut stack = [0u8; 1024];
    let with_slash = if path.len() < stack.len() {
        stack[..path.len()].copy_from_slice(path.as_bytes());
        stack[path.len()] = b'/';
        // SAFETY: a `str` followed by the ASCII byte `/` is valid UTF-8.
        Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(&stack[..=path.len()]) })
    } else {
        Cow::Owned(format!("{path}/"))
    };
    matches(&with_slash).then_some(TrailingSlash::Add)
}

/// `router!` calls this once for a router that lists a `layer(..)` or a
/// `service` route: without the `tower` feature, it says what to do.
#[cfg(feature = "tower")]
#[macro_export]
#[doc(hidden)]
macro_rules! __mambo_needs_tower {
    () => {};
}

/// `router!` calls this once for a router that lists a `layer(..)` or a
/// `service` route: without the `tower` feature, it says what to do.
#[cfg(not(feature = "tower"))]
#[macro_export]
#[doc(hidden)]
macro_rules! __mambo_needs_tower {
    () => {
        ::core::compile_error!(
            "`layer(..)` and `service` routes in `router!` need mambo's `tower` feature: write `mambo = { version = \"..\", features = [\"tower\"] }` in Cargo.toml"
        );
    };
}

/// `router!` calls this in a router with a `metrics:` route: without the
/// `metrics` feature, it says what to do.
#[cfg(feature = "metrics")]
#[macro_export]
#[doc(hidden)]
macro_rules! __mambo_needs_metrics {
    () => {};
}

/// `router!` calls this in a router with a `metrics:` route: without the
/// `metrics` feature, it says what to do.
#[cfg(not(feature = "metrics"))]
#[macro_export]
#[doc(hidden)]
macro_rules! __mambo_needs_metrics {
    () => {
        ::core::compile_error!(
            "`metrics:` in `router!` needs mambo's `metrics` feature: write `mambo = { version = \"..\", features = [\"metrics\"] }` in Cargo.toml"
        );
    };
}

/// Sends the request through a layer's service: the rest of the chain
/// resumes behind it (see [`crate::tower::Next`]).
#[cfg(feature = "tower")]
pub async fn call_layer<S>(
    service: &crate::tower::SharedService,
    cx: &mut RequestContext<'_, S>,
    body: crate::Body,
) -> Response {
    let request = cx.request_for_service(body, None);
    service.call(request).await
}

/// Calls a `service` route. With `strip`, the service sees the path from
/// the catch-all (the route's last parameter) on.
#[cfg(feature = "tower")]
pub async fn call_service<S>(
    service: &crate::tower::SharedService,
    cx: &mut RequestContext<'_, S>,
    body: crate::Body,
    strip: bool,
) -> Response {
    let rest =
        if strip { cx.route().map(|route| route.params.len().saturating_sub(1)) } else { None };
    let request = cx.request_for_service(body, rest);
    service.call(request).await
}

/// A request resumed behind a layer: its head and the connection it came
/// in on.
#[cfg(feature = "tower")]
pub fn resume(
    request: crate::Request,
) -> (http::request::Parts, crate::Body, crate::context::ConnInfo) {
    let (parts, body) = request.into_parts();
    let conn = crate::tower::conn_of(&parts);
    (parts, body, conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(direction: TrailingSlash, uri: &str) -> Vec<u8> {
        let response = miss(Miss::Redirect(direction), &Method::GET, &uri.parse().unwrap());
        assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
        response.headers()[LOCATION].as_bytes().to_vec()
    }

    #[test]
    fn head_keeps_the_length_of_a_buffered_body() {
        let response = finish(true, "hello".into_response());
        assert_eq!(response.headers()[CONTENT_LENGTH], "5");
        assert_eq!(response.body().as_bytes(), Some(&b""[..]));

        let get = finish(false, "hello".into_response());
        assert!(!get.headers().contains_key(CONTENT_LENGTH), "hyper sets it for GET");

        let mut own = "hello".into_response();
        own.headers_mut().insert(CONTENT_LENGTH, HeaderValue::from_static("5"));
        assert_eq!(finish(true, own).headers().get_all(CONTENT_LENGTH).iter().count(), 1);

        let no_content = finish(true, (StatusCode::NO_CONTENT, "x").into_response());
        assert!(!no_content.headers().contains_key(CONTENT_LENGTH));
    }

    #[test]
    fn redirect_keeps_the_query() {
        assert_eq!(location(TrailingSlash::Add, "/a?x=1&y"), b"/a/?x=1&y");
        assert_eq!(location(TrailingSlash::Remove, "/a/b/"), b"/a/b");
    }

    /// Regression (fuzz target `extractors`, `GET /query/map/?a=%ιٞ`):
    /// hyper and `http::Uri` accept raw UTF-8 in the path and query, and the
    /// redirect copied it into `location`, a header value that is not a URI
    /// (nor visible ASCII). Non-ASCII bytes are percent-encoded; `%`
    /// escapes already there are left as they are.
    #[test]
    fn redirect_percent_encodes_non_ascii() {
        assert_eq!(
            location(TrailingSlash::Remove, "/query/map/?a=%ιٞ"),
            b"/query/map?a=%%CE%B9%D9%9E"
        );
        assert_eq!(
            location(TrailingSlash::Add, "/caf\u{e9}?q=\u{e9}%C3%A9"),
            b"/caf%C3%A9/?q=%C3%A9%C3%A9"
        );
    }
}
