//! Protocols: HTTP/1.1 keep-alive and pipelining, HTTP/2 prior knowledge,
//! `ConnInfo`, panics.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{App, H1, H2, TestServer, bounded, raw};

#[tokio::test]
async fn http1_keep_alive_serves_two_requests_on_one_connection() {
    let server = TestServer::start(|s| s, App::default());
    let mut client = H1::connect(server.addr).await;
    let first = client.get("/conn").await;
    let second = client.get("/conn").await;
    assert_eq!(first.status, 200);
    assert_eq!(first.version, http::Version::HTTP_11);
    // Same remote address and port: the same TCP connection.
    assert_eq!(first.body, second.body);
    assert!(first.body.contains(&format!("local={}", server.addr)), "{}", first.body);
    assert!(!client.is_closed());
    server.stop().await.unwrap();
}

#[tokio::test]
async fn conn_info_carries_the_configured_defaults() {
    let server = TestServer::start(
        |s| s.body_limit(1234).request_timeout(Duration::from_millis(4321)),
        App::default(),
    );
    let answer = H1::connect(server.addr).await.get("/conn").await;
    assert!(answer.body.contains("secure=false"), "{}", answer.body);
    assert!(answer.body.contains("body_limit=1234"), "{}", answer.body);
    assert!(answer.body.contains("timeout=Some(4.321s)"), "{}", answer.body);
    server.stop().await.unwrap();

    let server = TestServer::start(|s| s.request_timeout(None), App::default());
    let answer = H1::connect(server.addr).await.get("/conn").await;
    assert!(
        answer.body.contains(&format!("body_limit={}", mambo::DEFAULT_BODY_LIMIT)),
        "{}",
        answer.body
    );
    assert!(answer.body.contains("timeout=None"), "{}", answer.body);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn http1_pipelined_requests_are_answered_in_order() {
    let server = TestServer::start(|s| s, App::default());
    let text = raw(
        server.addr,
        b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /slow?ms=50 HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 3, "{text}");
    let hello = text.find("hello").expect(&text);
    let slow = text.find("slow done").expect(&text);
    assert!(hello < slow, "{text}");
    assert!(text.ends_with("HTTP/1.1"), "the last body is the version: {text}");
    server.stop().await.unwrap();
}

/// The responses to a pipelined batch, which the server writes at once
/// (`server/coalesce.rs`), are byte for byte the responses to the same
/// requests sent one at a time (`date` aside).
#[tokio::test]
async fn a_pipelined_batch_is_answered_as_the_requests_one_at_a_time() {
    let server = TestServer::start(|s| s, App::default());
    let requests: Vec<&[u8]> = vec![
        b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /missing HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
        b"GET /big?kb=20 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /trickle?ms=1 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ];
    let pipelined = raw(server.addr, &requests.concat()).await;
    let mut alone = String::new();
    for (i, request) in requests.iter().enumerate() {
        let last = i == requests.len() - 1;
        // Each on its own connection, closed after its answer.
        let request = String::from_utf8(request.to_vec()).unwrap();
        let request = if last {
            request
        } else {
            request.replacen("\r\n\r\n", "\r\nConnection: close\r\n\r\n", 1)
        };
        let answer = raw(server.addr, request.as_bytes()).await;
        alone.push_str(&if last { answer } else { answer.replace("connection: close\r\n", "") });
    }
    let without_date = |text: &str| {
        text.split("\r\n")
            .filter(|line| !line.starts_with("date: "))
            .collect::<Vec<_>>()
            .join("\r\n")
    };
    assert_eq!(pipelined.matches("HTTP/1.1 ").count(), requests.len(), "{pipelined}");
    assert_eq!(without_date(&pipelined), without_date(&alone));
    server.stop().await.unwrap();
}

/// A response held for its batch goes out before the connection waits: here
/// for the handler of the request pipelined behind it.
#[tokio::test]
async fn a_held_response_goes_out_while_a_later_handler_waits() {
    let app = App::default();
    let release = app.release.clone();
    let server = TestServer::start(|s| s, app);
    let mut stream = bounded(TcpStream::connect(server.addr)).await.unwrap();
    // A request after the waiting one: the connection still has input.
    let hello = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
    let batch = format!("{hello}GET /wait HTTP/1.1\r\nHost: x\r\n\r\n{hello}");
    let batch = batch.as_bytes();
    bounded(stream.write_all(batch)).await.unwrap();
    let mut text = String::new();
    let mut buf = [0u8; 4096];
    while !text.contains("hello") {
        let n = bounded(stream.read(&mut buf)).await.unwrap();
        assert!(n > 0, "closed: {text}");
        text.push_str(std::str::from_utf8(&buf[..n]).unwrap());
    }
    assert!(!text.contains("released"), "{text}");
    release.notify_one();
    while text.matches("hello").count() < 2 {
        let n = bounded(stream.read(&mut buf)).await.unwrap();
        assert!(n > 0, "closed: {text}");
        text.push_str(std::str::from_utf8(&buf[..n]).unwrap());
    }
    server.stop().await.unwrap();
}

/// hyper's own answers to a request it cannot parse (400) or whose head is
/// too large (431) still go out after a pipelined batch, whose responses
/// come first.
#[tokio::test]
async fn hyper_s_own_answers_still_end_a_pipelined_batch() {
    let server = TestServer::start(|s| s.max_header_size(8 * 1024), App::default());
    let hello = b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
    let text = raw(server.addr, &[&hello[..], hello, b"NOT HTTP AT ALL\r\n\r\n"].concat()).await;
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 2, "{text}");
    assert!(text.contains("HTTP/1.1 400 Bad Request"), "{text}");
    assert!(text.find("hello").unwrap() < text.find("400").unwrap(), "{text}");

    let huge =
        format!("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "b".repeat(16 * 1024));
    let text = raw(server.addr, &[&hello[..], huge.as_bytes()].concat()).await;
    assert!(text.starts_with("HTTP/1.1 200 OK"), "{text}");
    assert!(text.contains("HTTP/1.1 431 Request Header Fields Too Large"), "{text}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn http2_prior_knowledge_on_the_same_port() {
    let server = TestServer::start(|s| s, App::default());
    let client = H2::connect(server.addr).await;
    // Two concurrent streams on one connection.
    let (mut a, mut b) = (client.clone(), client.clone());
    let (first, second) = tokio::join!(a.get("/slow?ms=100"), b.get("/version"));
    assert_eq!(first.status, 200);
    assert_eq!(first.body, "slow done");
    assert_eq!(second.version, http::Version::HTTP_2);
    assert_eq!(second.body, "HTTP/2.0");
    // And HTTP/1.1 still works on the same port.
    assert_eq!(H1::connect(server.addr).await.get("/version").await.body, "HTTP/1.1");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_panic_is_a_500_and_the_connection_lives_on() {
    let server = TestServer::start(|s| s, App::default());
    let mut client = H1::connect(server.addr).await;
    for path in ["/panic", "/panic-now"] {
        let answer = client.get(path).await;
        assert_eq!(answer.status, 500, "{path}");
        assert_eq!(answer.headers["content-type"], "application/json");
        assert_eq!(answer.body, r#"{"code":50000,"message":"internal server error"}"#);
        assert_eq!(client.get("/hello").await.body, "hello", "after {path}");
    }
    // The same over HTTP/2, where the request runs on its own task.
    let mut h2 = H2::connect(server.addr).await;
    assert_eq!(h2.get("/panic").await.status, 500);
    assert_eq!(h2.get("/hello").await.body, "hello");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn an_oversized_head_is_refused() {
    let server = TestServer::start(|s| s.max_header_size(8 * 1024), App::default());
    let big = "a".repeat(16 * 1024);
    let text = raw(
        server.addr,
        format!("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n").as_bytes(),
    )
    .await;
    assert!(text.starts_with("HTTP/1.1 431"), "{text}");
    // A normal request still works.
    assert_eq!(H1::connect(server.addr).await.get("/hello").await.body, "hello");
    server.stop().await.unwrap();
}
