//! Limits: in-flight and connection shedding, slow and silent clients.

use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::support::{App, H1, H2, TestServer, bounded, entered, raw, read_until_closed};

#[tokio::test]
async fn over_the_in_flight_limit_is_a_503_with_retry_after() {
    let app = App::default();
    let (entered_signal, release) = (app.entered.clone(), app.release.clone());
    let server =
        TestServer::start(|s| s.max_in_flight(1).retry_after(Duration::from_millis(1500)), app);

    let mut busy = H1::connect(server.addr).await;
    let waiting = tokio::spawn(async move { busy.get("/wait").await });
    entered(&entered_signal).await;

    let mut other = H1::connect(server.addr).await;
    let shed = other.get("/hello").await;
    assert_eq!(shed.status, 503);
    assert_eq!(shed.headers["retry-after"], "2");
    assert_eq!(shed.headers["content-type"], "application/json");
    assert_eq!(shed.body, r#"{"code":50301,"message":"the server is overloaded, retry later"}"#);
    // HTTP/2 streams count too.
    assert_eq!(H2::connect(server.addr).await.get("/hello").await.status, 503);

    release.notify_one();
    let answer = bounded(waiting).await.unwrap();
    assert_eq!(answer.body, "released");
    // The slot is free again, and the shed connection still works.
    assert_eq!(other.get("/hello").await.body, "hello");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn over_the_connection_limit_is_a_503_then_close() {
    let server = TestServer::start(|s| s.max_connections(1), App::default());
    let mut first = H1::connect(server.addr).await;
    assert_eq!(first.get("/hello").await.body, "hello");

    let text = raw(server.addr, b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(text.starts_with("HTTP/1.1 503 Service Unavailable\r\n"), "{text}");
    assert!(text.contains("retry-after: 1\r\n"), "{text}");
    assert!(
        text.ends_with(r#"{"code":50302,"message":"too many connections, retry later"}"#),
        "{text}"
    );

    drop(first);
    // Once the first connection is gone there is room again.
    until_ok(server.addr, "the closed connection was never released").await;
    server.stop().await.unwrap();
}

/// An HTTP/1.1 connection to `server` from the local address `from` (any
/// 127.0.0.0/8 address is loopback on Linux).
async fn connect_from(from: [u8; 4], server: std::net::SocketAddr) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind((from, 0).into()).expect("bind the client socket");
    bounded(socket.connect(server)).await.expect("connect")
}

/// Retries a `Connection: close` GET of `/hello` until it is answered 200,
/// for at most 5 s.
async fn until_ok(server: std::net::SocketAddr, why: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text =
            raw(server, b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
        if text.starts_with("HTTP/1.1 200") {
            return;
        }
        assert!(Instant::now() < deadline, "{why}: {text}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// Other loopback addresses than 127.0.0.1 need configuring elsewhere.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn over_the_per_client_limit_is_a_503_then_close_for_that_client_only() {
    let server = TestServer::start(|s| s.max_connections_per_client(2), App::default());
    let mut first = H1::connect(server.addr).await;
    assert_eq!(first.get("/hello").await.body, "hello");
    let mut second = H1::connect(server.addr).await;
    assert_eq!(second.get("/hello").await.body, "hello");

    let text = raw(server.addr, b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(text.starts_with("HTTP/1.1 503 Service Unavailable\r\n"), "{text}");
    assert!(text.contains("retry-after: 1\r\n"), "{text}");
    assert!(
        text.ends_with(
            r#"{"code":50303,"message":"too many connections from this client, retry later"}"#
        ),
        "{text}"
    );

    // Another client is served, on a third connection.
    let mut other = H1::over(connect_from([127, 0, 0, 2], server.addr).await).await;
    assert_eq!(other.get("/hello").await.body, "hello");
    // Both first connections still work.
    assert_eq!(first.get("/hello").await.body, "hello");
    assert_eq!(second.get("/hello").await.body, "hello");

    drop(first);
    until_ok(server.addr, "the closed connection was never released").await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn no_per_client_limit_lets_one_client_open_any_number() {
    let server = TestServer::start(
        |s| s.max_connections_per_client(1).max_connections_per_client(None),
        App::default(),
    );
    let mut open = Vec::new();
    for _ in 0..3 {
        let mut h1 = H1::connect(server.addr).await;
        assert_eq!(h1.get("/hello").await.body, "hello");
        open.push(h1);
    }
    server.stop().await.unwrap();
}

/// Sends one more header byte every 50 ms (which must not move the
/// deadline) until the server closes the connection or 5 s have passed,
/// then returns everything the server wrote.
async fn trickle_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let trickle = async {
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if stream.write_all(b"X").await.is_err() {
                break;
            }
        }
    };
    bounded(trickle).await;
    bounded(read_until_closed(stream)).await
}

/// A server with a 300 ms header read timeout (and no keep-alive timeout),
/// and a connection to it.
async fn connect_with_a_300ms_header_timeout() -> (TestServer, TcpStream) {
    let server = TestServer::start(
        |s| s.header_read_timeout(Duration::from_millis(300)).keep_alive_timeout(None),
        App::default(),
    );
    let stream = TcpStream::connect(server.addr).await.unwrap();
    (server, stream)
}

#[tokio::test]
async fn a_slowloris_head_is_cut_off_by_the_header_read_timeout() {
    let (server, mut stream) = connect_with_a_300ms_header_timeout().await;
    let start = Instant::now();
    stream.write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let rest = trickle_until_closed(&mut stream).await;
    let elapsed = start.elapsed();
    assert!(!String::from_utf8_lossy(&rest).contains("200 OK"));
    assert!(elapsed >= Duration::from_millis(250), "closed too early: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "closed too late: {elapsed:?}");
    // A prompt client is unaffected.
    assert_eq!(H1::connect(server.addr).await.get("/hello").await.body, "hello");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_keep_alive_connection_waits_for_its_next_head_only_the_header_read_timeout() {
    let (server, mut stream) = connect_with_a_300ms_header_timeout().await;
    stream.write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let start = Instant::now();
    // The answer, then the next head trickling in, which never completes.
    stream.write_all(b"GET /hello HTTP/1.1\r\n").await.unwrap();
    let rest = trickle_until_closed(&mut stream).await;
    let elapsed = start.elapsed();
    let text = String::from_utf8_lossy(&rest);
    assert_eq!(text.matches("200 OK").count(), 1, "only the first request is answered: {text}");
    assert!(elapsed >= Duration::from_millis(250), "closed too early: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "closed too late: {elapsed:?}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_response_streaming_past_the_timeouts_is_not_cut() {
    let server = TestServer::start(
        |s| {
            s.header_read_timeout(Duration::from_millis(200))
                .keep_alive_timeout(Duration::from_millis(200))
        },
        App::default(),
    );
    // 10 chunks 100 ms apart: the body takes 1 s, five timeouts.
    let mut h1 = H1::connect(server.addr).await;
    assert_eq!(h1.get("/trickle?ms=100").await.body, "..........");
    let mut h2 = H2::connect(server.addr).await;
    assert_eq!(h2.get("/trickle?ms=100").await.body, "..........");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_silent_connection_is_closed_by_the_keep_alive_timeout() {
    let server = TestServer::start(
        |s| s.keep_alive_timeout(Duration::from_millis(300)).header_read_timeout(None),
        App::default(),
    );
    let start = Instant::now();
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    let read = bounded(read_until_closed(&mut silent)).await;
    let elapsed = start.elapsed();
    assert!(read.is_empty());
    assert!(elapsed >= Duration::from_millis(250), "closed too early: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "closed too late: {elapsed:?}");

    // An idle HTTP/2 connection is closed the same way (GOAWAY).
    let mut h2 = H2::connect(server.addr).await;
    assert_eq!(h2.get("/hello").await.body, "hello");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(h2.is_closed().await, "the idle HTTP/2 connection is still open");

    // A busy connection is not idle: a request longer than the timeout completes.
    let mut busy = H1::connect(server.addr).await;
    assert_eq!(busy.get("/slow?ms=900").await.body, "slow done");
    server.stop().await.unwrap();
}
