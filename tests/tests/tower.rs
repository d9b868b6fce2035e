//! Tower layers and services inside Mambo routers, served by
//! `mambo::Server` on 127.0.0.1 and called with hyper-util's client: each
//! tower-http layer the issue names, tower's own `ConcurrencyLimitLayer`,
//! `ServeDir` as a route, and the order and hand-over rules between layers
//! and Mambo middleware.

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::header::{
    ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG,
    IF_NONE_MATCH, LAST_MODIFIED, ORIGIN, RANGE,
};
use http::{HeaderMap, HeaderName, HeaderValue, Request};
use http_body_util::Full;
use mambo::middleware::{RequestId, RequestIdValue};
use mambo::prelude::*;
use mambo_tests::served::serve;
use tower::limit::ConcurrencyLimitLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::CorsLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::normalize_path::NormalizePathLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

#[route(GET "/text")]
async fn text() -> String {
    "mambo ".repeat(200)
}

#[route(GET "/small")]
async fn small() -> &'static str {
    "tiny"
}

#[route(POST "/echo")]
async fn echo(body: Bytes) -> Bytes {
    body
}

#[route(GET "/slow")]
async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(5)).await;
    "late"
}

#[route(GET "/id")]
async fn request_id(id: Option<RequestIdValue>, headers: HeaderMap) -> String {
    let seen = headers.get("x-request-id").map(|v| v.to_str().unwrap().to_owned());
    format!("{:?} {:?}", id.map(|id| id.as_str().to_owned()), seen)
}

mambo::router! {
    struct Compressed {
        middleware: [layer(CompressionLayer::new())],
        routes: [text, small],
    }
}

#[tokio::test]
async fn compression_layer_encodes_by_accept_encoding() {
    let server = serve(Compressed::new());
    let plain = server.get("/text").await;
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.body.len(), 1200);

    let gzip =
        server.send(Request::get("/text").header(ACCEPT_ENCODING, "gzip"), Bytes::new()).await;
    assert_eq!(gzip.header("content-encoding"), Some("gzip"));
    assert!(gzip.body.len() < 100, "{} bytes", gzip.body.len());
    let mut decoded = String::new();
    flate2::read::GzDecoder::new(&gzip.body[..]).read_to_string(&mut decoded).unwrap();
    assert_eq!(decoded, plain.text());

    for encoding in ["br", "zstd"] {
        let reply = server
            .send(Request::get("/text").header(ACCEPT_ENCODING, encoding), Bytes::new())
            .await;
        assert_eq!(reply.header("content-encoding"), Some(encoding));
        assert!(reply.body.len() < 100);
    }
    // Below the default 32-byte threshold: sent as it is.
    let tiny =
        server.send(Request::get("/small").header(ACCEPT_ENCODING, "gzip"), Bytes::new()).await;
    assert_eq!((tiny.header("content-encoding"), tiny.text()), (None, "tiny"));
}

mambo::router! {
    struct Traced {
        state: Arc<Mutex<Vec<String>>>,
        middleware: [layer({
            let log = Arc::clone(&state);
            TraceLayer::new_for_http().on_response(
                move |response: &http::Response<_>, _latency: Duration, _span: &tracing::Span| {
                    log.lock().unwrap().push(response.status().to_string());
                },
            )
        })],
        routes: [small],
    }
}

#[tokio::test]
async fn trace_layer_sees_every_response() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let server = serve(Traced::new(Arc::clone(&log)));
    assert_eq!(server.get("/small").await.status, StatusCode::OK);
    assert_eq!(server.get("/missing").await.status, StatusCode::NOT_FOUND);
    assert_eq!(*log.lock().unwrap(), ["200 OK", "404 Not Found"]);
}

mambo::router! {
    struct TimedOut {
        middleware: [layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_millis(200)))],
        routes: [slow, small],
    }
}

#[tokio::test]
async fn timeout_layer_answers_for_a_slow_handler() {
    let server = serve(TimedOut::new());
    let started = std::time::Instant::now();
    assert_eq!(server.get("/slow").await.status, StatusCode::REQUEST_TIMEOUT);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(server.get("/small").await.text(), "tiny");
}

static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

mambo::router! {
    struct WithRequestIds {
        middleware: [
            layer(SetRequestIdLayer::new(X_REQUEST_ID.clone(), MakeRequestUuid)),
            layer(PropagateRequestIdLayer::new(X_REQUEST_ID.clone())),
        ],
        routes: [request_id],
    }
}

#[tokio::test]
async fn request_id_layers_set_and_propagate_the_id() {
    let server = serve(WithRequestIds::new());
    let reply = server.get("/id").await;
    let id = reply.header("x-request-id").expect("propagated").to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    // `RequestIdValue` falls back to the header the layer set.
    assert_eq!(reply.text(), format!("Some({id:?}) Some({id:?})"));

    let reply =
        server.send(Request::get("/id").header("x-request-id", "given-1"), Bytes::new()).await;
    assert_eq!(reply.header("x-request-id"), Some("given-1"));
}

mambo::router! {
    struct Cors {
        middleware: [layer(CorsLayer::new()
            .allow_origin(HeaderValue::from_static("https://app.example"))
            .allow_methods([Method::GET, Method::POST]))],
        routes: [small, echo],
    }
}

#[tokio::test]
async fn cors_layer_answers_preflights_and_marks_responses() {
    let server = serve(Cors::new());
    let preflight = server
        .send(
            Request::options("/echo")
                .header(ORIGIN, "https://app.example")
                .header("access-control-request-method", "POST"),
            Bytes::new(),
        )
        .await;
    assert_eq!(preflight.status, StatusCode::OK);
    assert_eq!(preflight.header("access-control-allow-origin"), Some("https://app.example"));
    assert_eq!(preflight.header("access-control-allow-methods"), Some("GET,POST"));

    let simple = server
        .send(Request::get("/small").header(ORIGIN, "https://app.example"), Bytes::new())
        .await;
    assert_eq!(simple.text(), "tiny");
    assert_eq!(simple.header("access-control-allow-origin"), Some("https://app.example"));
}

mambo::router! {
    struct Limited {
        middleware: [layer(RequestBodyLimitLayer::new(16))],
        routes: [echo],
    }
}

#[tokio::test]
async fn request_body_limit_layer_refuses_large_bodies() {
    let server = serve(Limited::new());
    let reply = server.send(Request::post("/echo"), &b"short"[..]).await;
    assert_eq!((reply.status, reply.text()), (StatusCode::OK, "short"));
    let reply = server.send(Request::post("/echo"), &b"far longer than sixteen bytes"[..]).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
}

mambo::router! {
    struct Headers {
        middleware: [layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-frame-options"),
            HeaderValue::from_static("DENY"),
        ))],
        routes: [small],
    }
}

#[tokio::test]
async fn set_response_header_layer_adds_its_header() {
    let server = serve(Headers::new());
    let reply = server.get("/small").await;
    assert_eq!(reply.header("x-frame-options"), Some("DENY"));
    assert_eq!(server.get("/elsewhere").await.header("x-frame-options"), Some("DENY"));
}

/// Handlers of [`OneAtATime`] in progress, and the most seen at once.
static RUNNING: AtomicUsize = AtomicUsize::new(0);
static MOST: AtomicUsize = AtomicUsize::new(0);

#[route(GET "/work")]
async fn work() -> &'static str {
    let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
    MOST.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(50)).await;
    RUNNING.fetch_sub(1, Ordering::SeqCst);
    "done"
}

mambo::router! {
    struct OneAtATime {
        routes: [small],
        scope "/limited" {
            middleware: [layer(ConcurrencyLimitLayer::new(1))],
            routes: [work],
        },
    }
}

#[tokio::test]
async fn a_concurrency_limit_in_a_scope_is_shared_by_its_requests() {
    let server = Arc::new(serve(OneAtATime::new()));
    let calls = (0..4).map(|_| {
        let server = Arc::clone(&server);
        tokio::spawn(async move { server.get("/limited/work").await.text().to_owned() })
    });
    for call in calls.collect::<Vec<_>>() {
        assert_eq!(call.await.unwrap(), "done");
    }
    assert_eq!(MOST.load(Ordering::SeqCst), 1, "the limit holds across requests");
    assert_eq!(server.get("/small").await.text(), "tiny");
}

#[route(GET "/users/:id")]
async fn user(id: u32) -> String {
    format!("user {id}")
}

mambo::router! {
    struct Normalized {
        middleware: [layer(NormalizePathLayer::trim_trailing_slash())],
        routes: [user],
    }
}

#[tokio::test]
async fn the_route_is_looked_up_again_behind_a_layer_that_rewrites_the_path() {
    let server = serve(Normalized::new());
    assert_eq!(server.get("/users/7/").await.text(), "user 7");
    assert_eq!(server.get("/users/7").await.text(), "user 7");
}

/// Appends its name to `x-order` on the way in (request header) and on the
/// way out (response header), and copies the path it sees in `after`.
struct Mark<const N: u8>;

impl<const N: u8> Default for Mark<N> {
    fn default() -> Self {
        Mark
    }
}

impl<S: Sync, const N: u8> mambo::middleware::Middleware<S> for Mark<N> {
    type Local = ();

    async fn before(&self, cx: &mut RequestContext<'_, S>, _: &mut ()) -> mambo::middleware::Flow {
        let order = cx.headers().get("x-order").map(|v| v.to_str().unwrap().to_owned());
        let order = format!("{}m{N}", order.map(|o| o + ",").unwrap_or_default());
        cx.headers_mut().insert("x-order", order.parse().unwrap());
        cx.extensions_mut().insert(Marked(N));
        mambo::middleware::Flow::Continue
    }

    async fn after(&self, cx: &RequestContext<'_, S>, _: &mut (), response: &mut Response) {
        let path = HeaderValue::from_str(cx.path()).unwrap();
        let name = HeaderName::try_from(format!("x-after-{N}")).unwrap();
        response.headers_mut().append(name, path);
    }
}

#[derive(Clone, Copy, Debug)]
struct Marked(u8);

#[route(GET "/order")]
async fn order(headers: HeaderMap, cx_marks: Marks) -> String {
    format!("{} {:?}", headers.get("x-order").unwrap().to_str().unwrap(), cx_marks.0)
}

/// The last `Marked` extension the handler's context has.
struct Marks(Option<u8>);

impl<S: Sync> FromRequestParts<S> for Marks {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(cx: &RequestContext<'_, S>) -> Result<Self, Self::Rejection> {
        Ok(Marks(cx.extensions().get::<Marked>().map(|m| m.0)))
    }
}

mambo::router! {
    struct Ordered {
        middleware: [
            Mark<1>,
            layer(SetResponseHeaderLayer::appending(
                HeaderName::from_static("x-layer"),
                HeaderValue::from_static("outer"),
            )),
            Mark<2>,
        ],
        scope "/s" {
            middleware: [
                Mark<3>,
                layer(tower::util::MapRequestLayer::new(|mut request: http::Request<mambo::Body>| {
                    let order = request.headers()["x-order"].to_str().unwrap().to_owned();
                    request.headers_mut().insert("x-order", format!("{order},layer").parse().unwrap());
                    request
                })),
                Mark<4>,
            ],
            routes: [order],
        },
    }
}

#[tokio::test]
async fn layers_run_in_order_with_mambo_middleware() {
    let server = serve(Ordered::new());
    let reply = server.get("/s/order").await;
    assert_eq!(reply.text(), "m1,m2,m3,layer,m4 Some(4)");
    assert_eq!(reply.header("x-layer"), Some("outer"));
    for n in 1..=4 {
        assert_eq!(reply.header(&format!("x-after-{n}")), Some("/s/order"), "after of m{n}");
    }
}

fn static_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("site.css"), "body { color: teal }\n".repeat(50)).unwrap();
    std::fs::create_dir(dir.path().join("docs")).unwrap();
    std::fs::write(dir.path().join("docs/index.html"), "<h1>docs</h1>").unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, b"pre-compressed").unwrap();
    std::fs::write(dir.path().join("big.txt"), "plain").unwrap();
    std::fs::write(dir.path().join("big.txt.gz"), gz.finish().unwrap()).unwrap();
    std::fs::write(dir.path().parent().unwrap().join("mambo-secret.txt"), "secret").ok();
    dir
}

mambo::router! {
    struct Files {
        state: std::path::PathBuf,
        routes: [small],
        service GET | HEAD "/static/*path" => ServeDir::new(&state).precompressed_gzip(),
        scope "/any" {
            middleware: [Mark<1>],
            service "/*rest" => tower::service_fn(|request: http::Request<mambo::Body>| async move {
                let text = format!("{} {}", request.method(), request.uri());
                Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::from(text))))
            }),
        },
        service "/exact" => tower::service_fn(|request: http::Request<mambo::Body>| async move {
            Ok::<_, std::convert::Infallible>(http::Response::new(request.uri().to_string()))
        }),
    }
}

#[tokio::test]
async fn serve_dir_as_a_route_serves_files_with_validators_ranges_and_variants() {
    let dir = static_dir();
    let server = serve(Files::new(dir.path().to_owned()));
    let css = server.get("/static/site.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.header("content-type"), Some("text/css"));
    assert_eq!(css.header("content-length"), Some("1050"), "the size reaches hyper");
    assert!(css.header("last-modified").is_some());
    let etag = css.headers.get(ETAG).or(css.headers.get(LAST_MODIFIED)).unwrap().clone();

    let validator = if css.headers.contains_key(ETAG) {
        IF_NONE_MATCH
    } else {
        http::header::IF_MODIFIED_SINCE
    };
    let again =
        server.send(Request::get("/static/site.css").header(validator, etag), Bytes::new()).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);

    let part = server
        .send(Request::get("/static/site.css").header(RANGE, "bytes=0-3"), Bytes::new())
        .await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!((part.text(), part.header("content-range")), ("body", Some("bytes 0-3/1050")));

    let index = server.get("/static/docs/").await;
    assert_eq!(index.text(), "<h1>docs</h1>");

    let gz = server
        .send(Request::get("/static/big.txt").header(ACCEPT_ENCODING, "gzip"), Bytes::new())
        .await;
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert_eq!(server.get("/static/big.txt").await.text(), "plain");

    for sneaky in [
        "/static/../mambo-secret.txt",
        "/static/%2e%2e/mambo-secret.txt",
        "/static/docs/..%2f..%2fmambo-secret.txt",
    ] {
        let reply = server.get(sneaky).await;
        assert_ne!(reply.text(), "secret", "{sneaky}");
        assert!(reply.status.is_client_error(), "{sneaky}: {}", reply.status);
    }
    assert_eq!(
        server.send(Request::post("/static/site.css"), Bytes::new()).await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    let _ = (CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE);
}

#[tokio::test]
async fn a_service_route_sees_the_path_from_its_catch_all_and_the_scope_middleware() {
    let server = serve(Files::new(std::env::temp_dir()));
    let reply = server.send(Request::delete("/any/a/b%20c?x=1"), Bytes::new()).await;
    assert_eq!(reply.text(), "DELETE /a/b%20c?x=1");
    assert_eq!(reply.header("x-after-1"), Some("/any/a/b%20c"));
    let reply = server.send(Request::builder().method("PURGE").uri("/any/z"), Bytes::new()).await;
    assert_eq!(reply.text(), "PURGE /z");
    assert_eq!(server.get("/exact?q").await.text(), "/exact?q");
    // HEAD: the body is dropped, the length its size hint announced kept.
    let head = server.send(Request::head("/exact?q"), Bytes::new()).await;
    assert_eq!((head.header("content-length"), head.body.len()), (Some("8"), 0));
    let routes: Vec<(&[&str], &str)> =
        Files::ROUTES.iter().map(|r| (r.methods, r.pattern)).collect();
    assert_eq!(
        routes,
        [
            (&["GET"][..], "/small"),
            (&["GET", "HEAD"][..], "/static/*path"),
            (&["*"][..], "/exact"),
            (&["*"][..], "/any/*rest"),
        ]
    );
}

mambo::router! {
    struct WithRequestIdMiddleware {
        middleware: [RequestId, layer(CompressionLayer::new())],
        routes: [request_id],
    }
}

#[tokio::test]
async fn extensions_set_before_a_layer_reach_the_handler() {
    let server = serve(WithRequestIdMiddleware::new());
    let reply = server.get("/id").await;
    let id = reply.header("x-request-id").unwrap().to_owned();
    assert!(reply.text().starts_with(&format!("Some({id:?})")), "{}", reply.text());
}
