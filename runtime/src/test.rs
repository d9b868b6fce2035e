//! An in-process client for testing a router without a socket.
//!
//! [`TestClient`] hands requests to the router's [`Router::handle`], the same
//! dispatch the server calls, so routing, extractors, middleware and error
//! rendering all run as in production; only the connection is missing
//! ([`ConnInfo::remote_addr`] is `None` unless a request sets it). Routes
//! without a `body_limit` or `timeout` get the [`Server`]'s defaults, or,
//! with [`TestClient::with_server_limits`], the limits of the server `main`
//! builds.
//!
//! # Examples
//!
//! ```
//! use mambo::test::TestClient;
//! use mambo::{ConnInfo, IntoResponse, Request, Response, RouteInfo, Router, StatusCode};
//!
//! /// A router written by hand; `router!` generates these.
//! struct Echo;
//!
//! impl Router for Echo {
//!     fn routes(&self) -> &'static [RouteInfo] {
//!         &[]
//!     }
//!
//!     async fn handle(&self, request: Request, _conn: ConnInfo) -> Response {
//!         match request.uri().path() {
//!             "/hello" => "hello".into_response(),
//!             _ => StatusCode::NOT_FOUND.into_response(),
//!         }
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let client = TestClient::new(Echo);
//! let response = client.get("/hello").header("accept", "text/plain").send().await;
//! assert_eq!(response.status(), StatusCode::OK);
//! assert_eq!(response.text(), "hello");
//! # }
//! ```

use std::fmt;
use std::net::SocketAddr;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, HeaderName, HeaderValue};
use http::{HeaderMap, Method, StatusCode, Uri, Version};
use http_body_util::BodyExt;

use crate::body::{Body, ResponseBody};
use crate::context::ConnInfo;
use crate::response::Response;
use crate::server::Server;
use crate::service::Router;

/// Sends requests straight to a router, in process.
///
/// See the [module docs](self) for an example.
#[derive(Debug)]
pub struct TestClient<R> {
    router: R,
    conn: ConnInfo,
}

impl<R: Router> TestClient<R> {
    /// A client for `router`, with the default [`ConnInfo`]: no addresses,
    /// not TLS, and the limits a [`Server`] has when none are set (a body
    /// limit of [`DEFAULT_BODY_LIMIT`](crate::DEFAULT_BODY_LIMIT), a handler
    /// deadline of [`DEFAULT_TIMEOUT`](crate::DEFAULT_TIMEOUT)). A server
    /// built with other limits: see [`with_server_limits`](Self::with_server_limits).
    pub fn new(router: R) -> Self {
        TestClient { router, conn: ConnInfo::default() }
    }

    /// Gives the routes that set no `body_limit` or `timeout` of their own
    /// the ones `server` gives them ([`Server::body_limit`],
    /// [`Server::request_timeout`]), so a test sees the 413 or the 504
    /// production would.
    ///
    /// Build the server the way `main` does, without serving it: nothing
    /// is bound until [`Server::listen`] or [`Server::serve`]. The limits on
    /// the connection itself (header and body read timeouts, minimum body
    /// rate, connection and in-flight limits) do not apply in process: the
    /// test client has no connection, and its bodies are already in memory.
    ///
    /// # Examples
    ///
    /// ```
    /// use mambo::prelude::*;
    /// use mambo::test::TestClient;
    ///
    /// #[route(POST "/notes")]
    /// async fn create(body: String) -> String {
    ///     body
    /// }
    ///
    /// mambo::router! {
    ///     struct Api {
    ///         routes: [create],
    ///     }
    /// }
    ///
    /// /// What `main` serves with.
    /// fn server() -> mambo::Server {
    ///     mambo::Server::bind("0.0.0.0:8080").body_limit(16)
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let client = TestClient::new(Api::new()).with_server_limits(&server());
    /// let response = client.post("/notes").body("far more than sixteen bytes").send().await;
    /// assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    /// # });
    /// ```
    #[must_use]
    pub fn with_server_limits(mut self, server: &Server) -> Self {
        let (body_limit, timeout) = server.route_defaults();
        self.conn.default_body_limit = body_limit;
        self.conn.default_timeout = timeout;
        self
    }

    /// A client whose requests carry `conn`, to test server-wide limits or
    /// address-based middleware.
    pub fn with_conn(router: R, conn: ConnInfo) -> Self {
        TestClient { router, conn }
    }

    /// The router under test.
    pub fn router(&self) -> &R {
        &self.router
    }

    /// Starts a request with any method.
    ///
    /// # Panics
    ///
    /// When `uri` is not a valid request target (`/users/1?full=true`).
    pub fn request(&self, method: Method, uri: &str) -> RequestBuilder<'_, R> {
        let uri = Uri::try_from(uri)
            .unwrap_or_else(|err| panic!("`{uri}` is not a valid request URI: {err}"));
        RequestBuilder {
            client: self,
            method,
            uri,
            version: Version::HTTP_11,
            headers: HeaderMap::new(),
            body: Body::Empty,
            conn: self.conn,
        }
    }

    /// Starts a `GET` request.
    pub fn get(&self, uri: &str) -> RequestBuilder<'_, R> {
        self.request(Method::GET, uri)
    }

    /// Starts a `POST` request.
    pub fn post(&self, uri: &str) -> RequestBuilder<'_, R> {
        self.request(Method::POST, uri)
    }

    /// Starts a `PUT` request.
    pub fn put(&self, uri: &str) -> RequestBuilder<'_, R> {
        self.request(Method::PUT, uri)
    }

    /// Starts a `PATCH` request.
    pub fn patch(&self, uri: &str) -> RequestBuilder<'_, R> {
        self.request(Method::PATCH, uri)
    }

    /// Starts a `DELETE` request.
    pub fn delete(&self, uri: &str) -> RequestBuilder<'_, R> {
        self.request(Method::DELETE, uri)
    }

    /// Starts a `HEAD` request.
    pub fn head(&self, uri: &str) -> RequestBuilder<'_, R> {
        self.request(Method::HEAD, uri)
    }

    /// Starts an `OPTIONS` request.
    pub fn options(&self, uri: &str) -> RequestBuilder<'_, R> {
        self.request(Method::OPTIONS, uri)
    }
}

/// A request being built; [`send`](Self::send) runs it.
///
/// Unless set, `host` is `localhost` and `content-length` is the length of
/// an in-memory body, as a real client would send them.
#[must_use = "a request does nothing until `.send().await`"]
pub struct RequestBuilder<'c, R> {
    client: &'c TestClient<R>,
    method: Method,
    uri: Uri,
    version: Version,
    headers: HeaderMap,
    body: Body,
    conn: ConnInfo,
}

impl<R> fmt::Debug for RequestBuilder<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("method", &self.method)
            .field("uri", &self.uri)
            .field("headers", &self.headers)
            .field("body", &self.body)
            .finish_non_exhaustive()
    }
}

impl<R: Router> RequestBuilder<'_, R> {
    /// Appends a header.
    ///
    /// # Panics
    ///
    /// When `name` or `value` is not a valid header name or value.
    pub fn header<K, V>(mut self, name: K, value: V) -> Self
    where
        K: TryInto<HeaderName>,
        K::Error: fmt::Debug,
        V: TryInto<HeaderValue>,
        V::Error: fmt::Debug,
    {
        let name = name.try_into().unwrap_or_else(|err| panic!("invalid header name: {err:?}"));
        let value =
            value.try_into().unwrap_or_else(|err| panic!("invalid value for `{name}`: {err:?}"));
        self.headers.append(name, value);
        self
    }

    /// Sets the body: text, bytes, or any [`Body`] (a stream with
    /// [`Body::boxed`]).
    pub fn body(mut self, body: impl Into<Body>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets a JSON body and `content-type: application/json`.
    ///
    /// # Panics
    ///
    /// When `value` fails to serialize.
    pub fn json<T: serde::Serialize + ?Sized>(mut self, value: &T) -> Self {
        let json = serde_json::to_vec(value)
            .unwrap_or_else(|err| panic!("cannot serialize the JSON body: {err}"));
        self.headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        self.body = Body::from(json);
        self
    }

    /// Sets a URL-encoded form body and
    /// `content-type: application/x-www-form-urlencoded`.
    ///
    /// # Panics
    ///
    /// When `value` fails to serialize as a form (a nested struct).
    pub fn form<T: serde::Serialize + ?Sized>(mut self, value: &T) -> Self {
        let form = serde_urlencoded::to_string(value)
            .unwrap_or_else(|err| panic!("cannot serialize the form: {err}"));
        self.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
        self.body = Body::from(form);
        self
    }

    /// Sets the HTTP version the request claims (default HTTP/1.1).
    pub fn version(mut self, version: Version) -> Self {
        self.version = version;
        self
    }

    /// Sets the peer address the router sees in [`ConnInfo::remote_addr`].
    pub fn remote_addr(mut self, addr: SocketAddr) -> Self {
        self.conn.remote_addr = Some(addr);
        self
    }

    /// Runs the request through the router and collects the response,
    /// streaming bodies included.
    ///
    /// # Panics
    ///
    /// When a streaming response body yields an error: the test sees the
    /// error's message.
    pub async fn send(self) -> TestResponse {
        let RequestBuilder { client, method, uri, version, mut headers, body, conn } = self;
        if !headers.contains_key(HOST) {
            headers.insert(HOST, HeaderValue::from_static("localhost"));
        }
        if let Body::Full(bytes) = &body {
            if !bytes.is_empty() && !headers.contains_key(CONTENT_LENGTH) {
                headers.insert(CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            }
        }
        let mut request = http::Request::new(body);
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        *request.version_mut() = version;
        *request.headers_mut() = headers;
        let response = client.router.handle(request, conn).await;
        TestResponse::collect(response).await
    }
}

/// A response with its body read into memory.
#[derive(Debug, Clone)]
pub struct TestResponse {
    status: StatusCode,
    version: Version,
    headers: HeaderMap,
    body: Bytes,
}

impl TestResponse {
    async fn collect(response: Response) -> Self {
        let (parts, body) = response.into_parts();
        let body = match body {
            ResponseBody::Empty => Bytes::new(),
            ResponseBody::Full(bytes) => bytes,
            stream @ (ResponseBody::Stream(_) | ResponseBody::Boxed(_)) => {
                match stream.collect().await {
                    Ok(collected) => collected.to_bytes(),
                    Err(err) => panic!("the response body stream failed: {err}"),
                }
            }
        };
        TestResponse { status: parts.status, version: parts.version, headers: parts.headers, body }
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The HTTP version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// All headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The first value of header `name`, as text; `None` when absent.
    ///
    /// # Panics
    ///
    /// When the value is not visible ASCII.
    pub fn header(&self, name: impl http::header::AsHeaderName) -> Option<&str> {
        let value = self.headers.get(name)?;
        Some(
            value
                .to_str()
                .unwrap_or_else(|_| panic!("header value {value:?} is not visible ASCII")),
        )
    }

    /// The body.
    pub fn bytes(&self) -> &Bytes {
        &self.body
    }

    /// The body as text.
    ///
    /// # Panics
    ///
    /// When the body is not UTF-8.
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body)
            .unwrap_or_else(|err| panic!("the response body is not UTF-8 ({err}): {:?}", self.body))
    }

    /// The body parsed as JSON.
    ///
    /// # Panics
    ///
    /// When the body does not parse as `T`; the message shows the body.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| {
            panic!(
                "the response body is not the expected JSON ({err}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Turns the collected response back into a [`Response`] with a buffered
    /// body.
    pub fn into_response(self) -> Response {
        let mut response = Response::new(ResponseBody::Full(self.body));
        *response.status_mut() = self.status;
        *response.version_mut() = self.version;
        *response.headers_mut() = self.headers;
        response
    }
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use http::header::ALLOW;
    use serde::{Deserialize, Serialize};

    use super::*;
    use crate::error::Error;
    use crate::middleware::{AccessLog, Cors, Flow, Middleware, RequestId, RequestIdValue};
    use crate::response::IntoResponse;
    use crate::routing::RouteInfo;
    use crate::service::Request;
    use crate::{RequestContext, extract::FromRequestParts};

    static ROUTES: [RouteInfo; 2] = [
        RouteInfo {
            index: 0,
            methods: &["GET", "HEAD"],
            pattern: "/users/:id",
            handler: "get_user",
            params: &["id"],
            body_limit: None,
            timeout: None,
        },
        RouteInfo {
            index: 1,
            methods: &["POST", "PUT", "PATCH", "DELETE"],
            pattern: "/echo",
            handler: "echo",
            params: &[],
            body_limit: None,
            timeout: None,
        },
    ];

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct User {
        id: u64,
        name: String,
    }

    /// A hand-written stand-in for a generated router: two routes, a stream,
    /// and the middleware list `[RequestId, AccessLog, Cors]` called the way
    /// the generated dispatch calls it.
    struct App {
        state: &'static str,
        request_id: RequestId,
        access_log: AccessLog,
        cors: Cors,
    }

    impl App {
        fn new() -> Self {
            App {
                state: "state",
                request_id: RequestId::default(),
                access_log: AccessLog::default(),
                cors: Cors::new().allow_origin("https://app.example"),
            }
        }

        async fn dispatch(&self, cx: &RequestContext<'_, &'static str>, body: Body) -> Response {
            let path = cx.path();
            if let Some(id) = path.strip_prefix("/users/") {
                if cx.method() != Method::GET && cx.method() != Method::HEAD {
                    let mut response = Error::method_not_allowed().into_response();
                    response.headers_mut().insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
                    return response;
                }
                let Ok(id) = id.parse::<u64>() else {
                    return Error::new(StatusCode::BAD_REQUEST, "`id` must be an integer")
                        .into_response();
                };
                let request_id = match RequestIdValue::from_request_parts(cx).await {
                    Ok(id) => id,
                    Err(err) => return err.into_response(),
                };
                let body =
                    serde_json::to_vec(&User { id, name: format!("user {id} via {}", cx.state()) })
                        .unwrap();
                let mut response = Response::new(ResponseBody::Full(body.into()));
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                response.headers_mut().insert("x-seen-id", request_id.header_value().clone());
                return response;
            }
            match path {
                "/echo" => {
                    let content_type = cx.headers().get(CONTENT_TYPE).cloned();
                    let length = cx.headers().get(CONTENT_LENGTH).cloned();
                    let bytes = body.collect().await.unwrap().to_bytes();
                    let mut response = Response::new(ResponseBody::Full(bytes));
                    if let Some(content_type) = content_type {
                        response.headers_mut().insert(CONTENT_TYPE, content_type);
                    }
                    if let Some(length) = length {
                        response.headers_mut().insert("x-request-length", length);
                    }
                    response
                        .headers_mut()
                        .insert("x-method", HeaderValue::from_str(cx.method().as_str()).unwrap());
                    response
                }
                "/stream" => Response::new(ResponseBody::Stream(Box::pin(Chunks(vec![
                    "one ", "two ", "three",
                ])))),
                "/broken" => Response::new(ResponseBody::Stream(Box::pin(Broken))),
                "/peer" => {
                    format!("{:?} {}", cx.conn().remote_addr, cx.headers()[HOST].to_str().unwrap())
                        .into_response()
                }
                _ => Error::not_found().into_response(),
            }
        }
    }

    impl Router for App {
        fn routes(&self) -> &'static [RouteInfo] {
            &ROUTES
        }

        async fn handle(&self, request: Request, conn: ConnInfo) -> Response {
            let (parts, body) = request.into_parts();
            let route = if parts.uri.path().starts_with("/users/") {
                Some(&ROUTES[0])
            } else if parts.uri.path() == "/echo" {
                Some(&ROUTES[1])
            } else {
                None
            };
            let is_head = parts.method == Method::HEAD;
            let mut cx = RequestContext::new(parts, &self.state, conn, route);
            let (mut l0, mut l1, mut l2) = Default::default();
            if let Flow::Respond(response) = self.request_id.before(&mut cx, &mut l0).await {
                return response;
            }
            let mut response = 'chain: {
                if let Flow::Respond(mut response) = self.access_log.before(&mut cx, &mut l1).await
                {
                    self.request_id.after(&cx, &mut l0, &mut response).await;
                    break 'chain response;
                }
                if let Flow::Respond(mut response) = self.cors.before(&mut cx, &mut l2).await {
                    self.access_log.after(&cx, &mut l1, &mut response).await;
                    self.request_id.after(&cx, &mut l0, &mut response).await;
                    break 'chain response;
                }
                let mut response = self.dispatch(&cx, body).await;
                self.cors.after(&cx, &mut l2, &mut response).await;
                self.access_log.after(&cx, &mut l1, &mut response).await;
                self.request_id.after(&cx, &mut l0, &mut response).await;
                response
            };
            if is_head {
                *response.body_mut() = ResponseBody::Empty;
            }
            response
        }
    }

    struct Chunks(Vec<&'static str>);

    impl futures_core::Stream for Chunks {
        type Item = Result<Bytes, crate::body::BoxError>;

        fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            if self.0.is_empty() {
                Poll::Ready(None)
            } else {
                Poll::Ready(Some(Ok(Bytes::from_static(self.0.remove(0).as_bytes()))))
            }
        }
    }

    struct Broken;

    impl futures_core::Stream for Broken {
        type Item = Result<Bytes, crate::body::BoxError>;

        fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            Poll::Ready(Some(Err("disk on fire".into())))
        }
    }

    #[tokio::test]
    async fn get_runs_middleware_and_handler() {
        let client = TestClient::new(App::new());
        let response = client.get("/users/7").send().await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.header(CONTENT_TYPE), Some("application/json"));
        assert_eq!(response.json::<User>(), User { id: 7, name: "user 7 via state".into() });
        let id = response.header("x-request-id").expect("RequestId ran");
        assert_eq!(response.header("x-seen-id"), Some(id), "the handler saw the same id");
        assert_eq!(response.header("vary"), Some("origin"), "Cors ran");
    }

    #[tokio::test]
    async fn headers_reach_the_router() {
        let client = TestClient::new(App::new());
        let response = client.get("/users/7").header("x-request-id", "mine-1").send().await;
        assert_eq!(response.header("x-request-id"), Some("mine-1"));
        assert_eq!(response.header("x-seen-id"), Some("mine-1"));
    }

    #[tokio::test]
    async fn error_responses_come_back_as_json() {
        let client = TestClient::new(App::new());
        let response = client.get("/users/abc").send().await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body: serde_json::Value = response.json();
        assert_eq!(body["code"], 40000);

        let response = client.get("/nowhere").send().await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(response.text().contains("no route matches"));

        let response = client.delete("/users/1").send().await;
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.header(ALLOW), Some("GET, HEAD"));
    }

    #[tokio::test]
    async fn bodies_are_sent_with_their_headers() {
        let client = TestClient::new(App::new());
        let user = User { id: 1, name: "ann".into() };
        let response = client.post("/echo").json(&user).send().await;
        assert_eq!(response.header(CONTENT_TYPE), Some("application/json"));
        assert_eq!(response.header("x-request-length"), Some("21"));
        assert_eq!(response.json::<User>(), user);

        let response = client.put("/echo").body("plain").send().await;
        assert_eq!((response.header("x-method"), response.text()), (Some("PUT"), "plain"));

        let response = client.patch("/echo").body(Bytes::from_static(b"\x00\xff")).send().await;
        assert_eq!(
            (response.header("x-method"), &response.bytes()[..]),
            (Some("PATCH"), &b"\x00\xff"[..])
        );

        let response =
            client.request(Method::DELETE, "/echo").form(&[("a", "1"), ("b", "x y")]).send().await;
        assert_eq!(response.header(CONTENT_TYPE), Some("application/x-www-form-urlencoded"));
        assert_eq!(response.text(), "a=1&b=x+y");

        let streamed = Body::boxed(http_body_util::Full::new(Bytes::from_static(b"boxed")));
        let response = client.post("/echo").body(streamed).send().await;
        assert_eq!(response.text(), "boxed");
        assert_eq!(response.header("x-request-length"), None, "unknown for a stream");
    }

    #[tokio::test]
    async fn streaming_bodies_are_collected() {
        let client = TestClient::new(App::new());
        assert_eq!(client.get("/stream").send().await.text(), "one two three");
    }

    #[tokio::test]
    #[should_panic(expected = "disk on fire")]
    async fn a_failing_stream_panics_with_its_error() {
        let client = TestClient::new(App::new());
        let _ = client.get("/broken").send().await;
    }

    #[tokio::test]
    async fn head_drops_the_body_and_options_preflights() {
        let client = TestClient::new(App::new());
        let response = client.head("/users/3").send().await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.bytes().is_empty());

        let response = client
            .options("/users/3")
            .header("origin", "https://app.example")
            .header("access-control-request-method", "GET")
            .send()
            .await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert_eq!(response.header("access-control-allow-origin"), Some("https://app.example"));
        assert!(response.header("x-request-id").is_some(), "outer middleware saw the early answer");
    }

    #[tokio::test]
    async fn conn_info_and_host() {
        let client = TestClient::new(App::new());
        assert_eq!(client.get("/peer").send().await.text(), "None localhost");
        let addr: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let response =
            client.get("/peer").remote_addr(addr).header(HOST, "api.example").send().await;
        assert_eq!(response.text(), "Some(10.0.0.1:5000) api.example");

        let conn = ConnInfo { remote_addr: Some(addr), ..ConnInfo::default() };
        let client = TestClient::with_conn(App::new(), conn);
        assert_eq!(client.get("/peer").send().await.text(), "Some(10.0.0.1:5000) localhost");
    }

    #[tokio::test]
    async fn into_response_round_trips() {
        let client = TestClient::new(App::new());
        let response = client.get("/users/2").send().await.into_response();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.body().as_bytes().unwrap().starts_with(b"{\"id\":2"));
    }

    #[test]
    #[should_panic(expected = "not a valid request URI")]
    fn an_invalid_uri_panics() {
        let client = TestClient::new(App::new());
        let _ = client.get("/a b");
    }
}
