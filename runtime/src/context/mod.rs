//! The per-request context that middleware and extractors read.
//!
//! A `RequestContext` owns the request head, borrows the router state and
//! knows which route matched. Its data lives in a box taken from a
//! per-thread pool ([`pool`]) and given back on drop, so the router's future
//! holds a pointer, and building one allocates nothing once the thread's
//! pool has a free box.

mod mounted;
mod pool;

use std::net::SocketAddr;
use std::time::Duration;

use http::request::Parts;
use http::{Extensions, HeaderMap, Method, Uri, Version};

pub use self::mounted::Mounted;
use self::pool::Pooled;
use crate::routing::{ParamSlots, RouteInfo};

/// Default request body limit: 2 MiB, like axum's.
pub const DEFAULT_BODY_LIMIT: u64 = 2 * 1024 * 1024;

/// Default handler deadline: 30 s. A handler that hangs holds a connection
/// and an in-flight slot; 30 s matches the default shutdown timeout, so a
/// draining server never waits on a handler longer than it waits at all.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// What the server knows about the connection a request came in on, plus the
/// server-wide defaults that routes may override.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnInfo {
    /// The peer's address; `None` in the in-process test client.
    pub remote_addr: Option<SocketAddr>,
    /// The local address the connection was accepted on.
    pub local_addr: Option<SocketAddr>,
    /// Whether the connection is TLS.
    pub secure: bool,
    /// Body limit for routes without `body_limit = ".."`.
    pub default_body_limit: u64,
    /// Handler deadline for routes without `timeout = ".."`; `None` for none.
    pub default_timeout: Option<Duration>,
}

impl Default for ConnInfo {
    fn default() -> Self {
        ConnInfo {
            remote_addr: None,
            local_addr: None,
            secure: false,
            default_body_limit: DEFAULT_BODY_LIMIT,
            default_timeout: Some(DEFAULT_TIMEOUT),
        }
    }
}

/// A request's head and connection, already in the box its context will
/// use: the server puts them there when hyper hands the request over, so the
/// head (224 bytes) is moved once, not through every future on its way to
/// the router. Made by the server and taken by a router's
/// `Router::__handle_head`.
#[doc(hidden)]
#[derive(Debug)]
pub struct RequestHead(Pooled);

impl RequestHead {
    /// `parts` and `conn` in a pooled box (see [`pool`]).
    #[inline]
    pub fn new(parts: Parts, conn: ConnInfo) -> Self {
        RequestHead(Pooled::new(parts, conn, None))
    }

    /// The request head.
    #[inline]
    pub fn parts(&self) -> &Parts {
        &self.0.parts
    }

    #[cfg(feature = "ws")]
    pub(crate) fn parts_mut(&mut self) -> &mut Parts {
        &mut self.0.parts
    }

    /// The request again, with `body`, and its connection; the box stays,
    /// for the response (see [`RequestHead::answer`]).
    pub fn take_request(&mut self, body: crate::Body) -> (crate::Request, ConnInfo) {
        let conn = self.0.conn;
        (http::Request::from_parts(self.0.take_parts(), body), conn)
    }

    /// The box, with `response` in it.
    pub fn answer(mut self, response: crate::Response) -> Answered {
        self.0.response.put(response);
        Answered(self.0)
    }
}

/// A request's pooled box with its response in it: what a router's
/// `Router::__handle_head` answers. The response stays where the route put
/// it until the server takes it, instead of being returned (144 bytes,
/// copied by each future it passes through).
#[doc(hidden)]
#[derive(Debug)]
pub struct Answered(Pooled);

impl Answered {
    /// The response (the box goes back to its pool when this drops).
    #[inline(always)]
    pub fn take_response(&mut self) -> crate::Response {
        self.0.response.take()
    }
}

/// One request as middleware and extractors see it.
///
/// The body is not here: the dispatcher hands it to the one body extractor of
/// the handler, if any. The method, URI and path parameters are read-only
/// (the router already matched on them); headers and extensions may be changed
/// by middleware.
pub struct RequestContext<'a, S> {
    data: Pooled,
    state: &'a S,
}

impl<S: std::fmt::Debug> std::fmt::Debug for RequestContext<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestContext")
            .field("parts", &self.data.parts)
            .field("state", self.state)
            .field("conn", &self.data.conn)
            .field("route", &self.data.route)
            .field("params", &self.data.params)
            .finish()
    }
}

impl<'a, S> RequestContext<'a, S> {
    /// Builds a context. The router does this; tests and adapters may too.
    pub fn new(
        parts: Parts,
        state: &'a S,
        conn: ConnInfo,
        route: Option<&'static RouteInfo>,
    ) -> Self {
        let data = Pooled::new(parts, conn, route);
        RequestContext { data, state }
    }

    /// A context of the head the server pooled (see [`RequestHead`]).
    #[doc(hidden)]
    #[inline]
    pub fn from_head(head: RequestHead, state: &'a S, route: Option<&'static RouteInfo>) -> Self {
        let mut data = head.0;
        data.route = route;
        RequestContext { data, state }
    }

    /// The context's box, with the response the dispatch put into it.
    #[doc(hidden)]
    #[inline(always)]
    pub fn __answered(self) -> Answered {
        Answered(self.data)
    }

    /// Where the dispatch puts the route's response (see `ResponseSlot`).
    #[doc(hidden)]
    #[inline(always)]
    pub fn __response(&mut self) -> &mut crate::__private::ResponseSlot {
        &mut self.data.response
    }

    /// Sets where the matched route's parameters are in the path.
    pub fn with_params(mut self, params: ParamSlots) -> Self {
        self.data.params = params;
        self
    }

    /// The request method.
    pub fn method(&self) -> &Method {
        &self.data.parts.method
    }

    /// The request URI.
    pub fn uri(&self) -> &Uri {
        &self.data.parts.uri
    }

    /// The request path (no query).
    pub fn path(&self) -> &str {
        self.data.parts.uri.path()
    }

    /// The query string, without `?`.
    pub fn query(&self) -> Option<&str> {
        self.data.parts.uri.query()
    }

    /// The HTTP version.
    pub fn version(&self) -> Version {
        self.data.parts.version
    }

    /// The request headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.data.parts.headers
    }

    /// The request headers, for middleware that rewrites them.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.data.parts.headers
    }

    /// Request extensions.
    pub fn extensions(&self) -> &Extensions {
        &self.data.parts.extensions
    }

    /// Request extensions, for middleware that passes data to handlers.
    /// The first insert allocates the extension map.
    pub fn extensions_mut(&mut self) -> &mut Extensions {
        &mut self.data.parts.extensions
    }

    /// The router state.
    pub fn state(&self) -> &'a S {
        self.state
    }

    /// The connection the request came in on.
    pub fn conn(&self) -> &ConnInfo {
        &self.data.conn
    }

    /// The matched route; `None` when no route matched (404, 405, redirects).
    pub fn route(&self) -> Option<&'static RouteInfo> {
        self.data.route
    }

    /// The raw (percent-encoded) value of the `index`-th path parameter.
    pub fn raw_param(&self, index: usize) -> Option<&str> {
        self.path().get(self.data.params.get(index)?)
    }

    /// The raw (percent-encoded) value of the path parameter called `name`.
    pub fn raw_param_named(&self, name: &str) -> Option<&str> {
        let index = self.data.route?.params.iter().position(|p| *p == name)?;
        self.raw_param(index)
    }

    /// Body limit in force for this request: the route's `body_limit`, or the
    /// server default.
    pub fn body_limit(&self) -> u64 {
        self.data
            .route
            .and_then(|route| route.body_limit)
            .unwrap_or(self.data.conn.default_body_limit)
    }

    /// Handler deadline in force for this request: the route's `timeout`, or
    /// the server default.
    pub fn timeout(&self) -> Option<Duration> {
        self.data.route.and_then(|route| route.timeout).or(self.data.conn.default_timeout)
    }

    /// The request head, for extractors that need all of it.
    pub fn parts(&self) -> &Parts {
        &self.data.parts
    }

    /// Gives the request head back (adapters that leave Mambo's dispatch).
    pub fn into_parts(mut self) -> Parts {
        self.data.take_parts()
    }

    /// The request for a tower service: a copy of the head (this context
    /// keeps its own for the middleware around the service), the
    /// extensions (moved: they travel on to the handler), the connection's
    /// [`ConnInfo`] among them, and `body`. With `rest`, the path is the
    /// `rest`-th parameter's raw value after a `/`, with the query.
    #[cfg(feature = "tower")]
    pub(crate) fn request_for_service(
        &mut self,
        body: crate::Body,
        rest: Option<usize>,
    ) -> http::Request<crate::Body> {
        let uri = match rest.and_then(|index| self.raw_param(index)) {
            Some(raw) => stripped_uri(raw, self.query()).unwrap_or_else(|| self.uri().clone()),
            None => self.uri().clone(),
        };
        let conn = self.data.conn;
        let parts = &mut self.data.parts;
        let mut request = http::Request::new(body);
        *request.method_mut() = parts.method.clone();
        *request.uri_mut() = uri;
        *request.version_mut() = parts.version;
        *request.headers_mut() = parts.headers.clone();
        *request.extensions_mut() = std::mem::take(&mut parts.extensions);
        request.extensions_mut().insert(conn);
        request
    }
}

/// `/{rest}?{query}`.
#[cfg(feature = "tower")]
fn stripped_uri(rest: &str, query: Option<&str>) -> Option<Uri> {
    let mut text = String::with_capacity(1 + rest.len() + query.map_or(0, |q| q.len() + 1));
    text.push('/');
    text.push_str(rest);
    if let Some(query) = query {
        text.push('?');
        text.push_str(query);
    }
    Uri::try_from(text).ok()
}
