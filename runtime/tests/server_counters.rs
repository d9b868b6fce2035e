//! The server-wide counters (`mambo::observe::server`) over real sockets:
//! each test does one thing a counter is for and checks the counter moved
//! by exactly that much.
//!
//! The counters are process-wide, so the tests of this binary take turns
//! (`LOCK`), and each waits for its own connections to close before it
//! gives the turn away.

#[allow(dead_code)]
#[path = "dispatch/support.rs"]
mod support;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use mambo::observe::server::{ServerSnapshot, snapshot};
use mambo::prelude::*;
use mambo::{ConnInfo, Request, RouteInfo};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::Notify;

use crate::support::{TestServer, bounded, exchange, read_response};

static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

static RELEASE: Notify = Notify::const_new();
static ENTERED: Notify = Notify::const_new();

#[route(GET "/hello")]
async fn hello() -> &'static str {
    "hello"
}

#[route(GET "/wait")]
async fn wait() -> &'static str {
    ENTERED.notify_one();
    RELEASE.notified().await;
    "released"
}

#[route(GET "/sleep", timeout = "200ms")]
async fn sleep() -> &'static str {
    tokio::time::sleep(Duration::from_secs(5)).await;
    "woke"
}

#[route(POST "/upload", timeout = "300ms")]
async fn upload(body: Bytes) -> String {
    format!("{} bytes", body.len())
}

#[route(POST "/upload-patiently")]
async fn upload_patiently(body: Bytes) -> String {
    format!("{} bytes", body.len())
}

#[route(GET "/panic")]
async fn panics() -> &'static str {
    panic!("a handler panicked on purpose")
}

mambo::router! {
    struct App {
        routes: [hello, wait, sleep, upload, upload_patiently, panics],
    }
}

/// A router that panics before it has a future: the server's own panic
/// isolation answers, not the generated dispatch's.
struct PanicsInHandle;

impl mambo::Router for PanicsInHandle {
    fn routes(&self) -> &'static [RouteInfo] {
        &[]
    }

    #[allow(unreachable_code)]
    fn handle(&self, _: Request, _: ConnInfo) -> impl Future<Output = Response> + Send + '_ {
        panic!("a router panicked on purpose");
        async { "unreachable".into_response() }
    }
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
}

/// Waits until `done` holds of a fresh snapshot (the counters of
/// connections closing are written by their tasks, a moment later).
async fn eventually(what: &str, done: impl Fn(&ServerSnapshot) -> bool) -> ServerSnapshot {
    for _ in 0..500 {
        let now = snapshot();
        if done(&now) {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never: {what}; counters now {:?}", snapshot());
}

/// The connections of earlier tests are gone: no open connection, nothing
/// in flight.
async fn quiet() -> ServerSnapshot {
    eventually("no connection open, no request in flight", |now| {
        now.open_connections_http1 == 0 && now.open_connections_http2 == 0 && now.in_flight == 0
    })
    .await
}

async fn h1(addr: SocketAddr) -> hyper::client::conn::http1::SendRequest<Empty<Bytes>> {
    let stream = bounded(TcpStream::connect(addr)).await.unwrap();
    let (sender, conn) =
        bounded(hyper::client::conn::http1::handshake(TokioIo::new(stream))).await.unwrap();
    tokio::spawn(conn);
    sender
}

async fn h2(addr: SocketAddr) -> hyper::client::conn::http2::SendRequest<Empty<Bytes>> {
    let stream = bounded(TcpStream::connect(addr)).await.unwrap();
    let (sender, conn) =
        bounded(hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream)))
            .await
            .unwrap();
    tokio::spawn(conn);
    sender
}

fn request(path: &str) -> http::Request<Empty<Bytes>> {
    http::Request::get(format!("http://localhost{path}"))
        .header(http::header::HOST, "localhost")
        .body(Empty::new())
        .unwrap()
}

#[tokio::test]
async fn connections_count_under_their_protocol_while_open() {
    let _turn = LOCK.lock().await;
    let server = TestServer::start(|s| s, App::new());
    let before = quiet().await;

    let mut http1 = h1(server.addr).await;
    let response = bounded(http1.send_request(request("/hello"))).await.unwrap();
    assert_eq!(response.status(), 200);
    bounded(response.into_body().collect()).await.unwrap();
    let mut http2 = h2(server.addr).await;
    let response = bounded(http2.send_request(request("/hello"))).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), http::Version::HTTP_2);
    // Read whole: a body left unread would hold its stream, and the
    // connection, open.
    bounded(response.into_body().collect()).await.unwrap();
    let open = snapshot();
    assert_eq!((open.open_connections_http1, open.open_connections_http2), (1, 1), "{open:?}");

    // Connected, and not a byte sent: no protocol, not counted.
    let silent = bounded(TcpStream::connect(server.addr)).await.unwrap();
    // Half the preface: not known yet either.
    let mut partial = bounded(TcpStream::connect(server.addr)).await.unwrap();
    bounded(partial.write_all(b"PRI * HTTP/2")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let still = snapshot();
    assert_eq!((still.open_connections_http1, still.open_connections_http2), (1, 1), "{still:?}");
    drop((silent, partial));

    drop(http1);
    eventually("the HTTP/1 connection closed", |now| now.open_connections_http1 == 0).await;
    assert_eq!(snapshot().open_connections_http2, 1);
    drop(http2);
    let after = quiet().await;
    assert_eq!(after.shed, before.shed);
}

#[tokio::test]
async fn a_request_in_flight_counts_and_one_over_the_limit_is_shed() {
    let _turn = LOCK.lock().await;
    let server = TestServer::start(|s| s.max_in_flight(1), App::new());
    let before = quiet().await;

    let addr = server.addr;
    let waiting = tokio::spawn(async move { exchange(addr, get("/wait").as_bytes()).await });
    bounded(ENTERED.notified()).await;
    assert_eq!(snapshot().in_flight, 1);

    let shed = exchange(server.addr, get("/hello").as_bytes()).await;
    assert_eq!(shed.status(), 503, "{}", shed.head);
    assert_eq!(snapshot().shed, before.shed + 1);

    RELEASE.notify_one();
    assert_eq!(bounded(waiting).await.unwrap().status(), 200);
    let after = quiet().await;
    assert_eq!(after.in_flight, 0);
    assert_eq!(after.shed, before.shed + 1);
}

#[tokio::test]
async fn connections_over_a_limit_are_shed() {
    let _turn = LOCK.lock().await;
    let before = quiet().await;
    for (limit, configure) in [
        ("max_connections", (|s: mambo::Server| s.max_connections(1)) as fn(_) -> _),
        ("max_connections_per_client", |s: mambo::Server| s.max_connections_per_client(1)),
    ] {
        let server = TestServer::start(configure, App::new());
        let held = h1(server.addr).await;
        let turned_away = exchange(server.addr, get("/hello").as_bytes()).await;
        assert_eq!(turned_away.status(), 503, "{limit}: {}", turned_away.head);
        drop(held);
    }
    let after = quiet().await;
    assert_eq!(after.shed, before.shed + 2);
    // A connection turned away is not an open one, even for a moment.
    assert_eq!((after.open_connections_http1, after.open_connections_http2), (0, 0));
}

#[tokio::test]
async fn a_slow_handler_counts_as_a_504() {
    let _turn = LOCK.lock().await;
    let server = TestServer::start(|s| s, App::new());
    let before = quiet().await;
    let response = exchange(server.addr, get("/sleep").as_bytes()).await;
    assert_eq!(response.status(), 504, "{}", response.head);
    let after = snapshot();
    assert_eq!(after.timeouts_504, before.timeouts_504 + 1);
    assert_eq!(after.timeouts_408, before.timeouts_408);
}

/// Sends the head of a 100-byte upload to `path` and half its body, then
/// waits for the answer.
async fn stalled_upload(addr: SocketAddr, path: &str) -> support::Raw {
    let mut stream = bounded(TcpStream::connect(addr)).await.unwrap();
    let head = format!("POST {path} HTTP/1.1\r\nhost: localhost\r\ncontent-length: 100\r\n\r\n");
    bounded(stream.write_all(head.as_bytes())).await.unwrap();
    bounded(stream.write_all(&[b'x'; 50])).await.unwrap();
    read_response(&mut stream).await
}

#[tokio::test]
async fn a_body_stalled_past_the_route_deadline_counts_as_a_408() {
    let _turn = LOCK.lock().await;
    let server = TestServer::start(|s| s.body_read_timeout(Duration::from_secs(30)), App::new());
    let before = quiet().await;
    let response = stalled_upload(server.addr, "/upload").await;
    assert_eq!(response.status(), 408, "{}", response.head);
    let after = snapshot();
    assert_eq!(after.timeouts_408, before.timeouts_408 + 1);
    assert_eq!(after.timeouts_504, before.timeouts_504);
}

#[tokio::test]
async fn a_body_past_the_body_read_timeout_counts_as_a_408() {
    let _turn = LOCK.lock().await;
    let server = TestServer::start(|s| s.body_read_timeout(Duration::from_millis(200)), App::new());
    let before = quiet().await;
    let response = stalled_upload(server.addr, "/upload-patiently").await;
    assert_eq!(response.status(), 408, "{}", response.head);
    let after = snapshot();
    assert_eq!(after.timeouts_408, before.timeouts_408 + 1);
    assert_eq!(after.timeouts_504, before.timeouts_504);
}

#[tokio::test]
async fn panics_count_in_a_handler_and_in_the_router() {
    let _turn = LOCK.lock().await;
    let app = TestServer::start(|s| s, App::new());
    let router = TestServer::start(|s| s, PanicsInHandle);
    let before = quiet().await;
    assert_eq!(exchange(app.addr, get("/panic").as_bytes()).await.status(), 500);
    assert_eq!(snapshot().panics, before.panics + 1);
    assert_eq!(exchange(router.addr, get("/").as_bytes()).await.status(), 500);
    assert_eq!(snapshot().panics, before.panics + 2);
}

#[cfg(feature = "rate-limit")]
#[tokio::test]
async fn a_429_counts_as_rate_limited() {
    use mambo::middleware::{Quota, RateLimit, nonzero};

    #[route(GET "/limited")]
    async fn limited() -> &'static str {
        "ok"
    }

    mambo::router! {
        struct Limited {
            middleware: [RateLimit = RateLimit::per_client_ip(Quota::per_minute(nonzero!(1u32)))],
            routes: [limited],
        }
    }

    let _turn = LOCK.lock().await;
    let server = TestServer::start(|s| s, Limited::new());
    let before = quiet().await;
    assert_eq!(exchange(server.addr, get("/limited").as_bytes()).await.status(), 200);
    assert_eq!(exchange(server.addr, get("/limited").as_bytes()).await.status(), 429);
    assert_eq!(snapshot().rate_limited, before.rate_limited + 1);
}
