//! A route's deadline over a real socket: a client that stalls its request
//! body is answered 408 (40800), a handler that is slow 504 (50400).

use std::time::{Duration, Instant};

use bytes::Bytes;
use mambo::prelude::*;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::support::{TestServer, bounded, exchange, read_response};

#[route(POST "/upload", timeout = "1s")]
async fn upload(body: Bytes) -> String {
    format!("{} bytes", body.len())
}

#[route(POST "/read-then-sleep", timeout = "1s")]
async fn read_then_sleep(body: Bytes) -> String {
    tokio::time::sleep(Duration::from_secs(3)).await;
    format!("{} bytes", body.len())
}

#[route(GET "/sleep", timeout = "1s")]
async fn sleep() -> &'static str {
    tokio::time::sleep(Duration::from_secs(3)).await;
    "woke"
}

mambo::router! {
    struct App {
        routes: [upload, read_then_sleep, sleep],
    }
}

/// The body read timeout far past the route's deadline, so that only the
/// deadline can fire.
fn server() -> TestServer {
    TestServer::start(|server| server.body_read_timeout(Duration::from_secs(30)), App::new())
}

fn error_code(body: &[u8]) -> u64 {
    let body: serde_json::Value = serde_json::from_slice(body).expect("a JSON error body");
    body["code"].as_u64().expect("a code")
}

#[tokio::test]
async fn a_stalled_body_is_a_408_not_a_504() {
    let server = server();
    let mut stream = bounded(TcpStream::connect(server.addr)).await.unwrap();
    let head = "POST /upload HTTP/1.1\r\nhost: localhost\r\ncontent-length: 100\r\n\r\n";
    bounded(stream.write_all(head.as_bytes())).await.unwrap();
    bounded(stream.write_all(&[b'x'; 50])).await.unwrap();
    let started = Instant::now();
    let response = read_response(&mut stream).await;
    assert_eq!(response.status(), 408, "{}", response.head);
    assert_eq!(error_code(&response.body), 40800);
    assert!(started.elapsed() >= Duration::from_millis(900), "answered before the deadline");
}

#[tokio::test]
async fn a_slow_handler_is_a_504() {
    let server = server();
    let request = "GET /sleep HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n";
    let response = exchange(server.addr, request.as_bytes()).await;
    assert_eq!(response.status(), 504, "{}", response.head);
    assert_eq!(error_code(&response.body), 50400);
}

#[tokio::test]
async fn a_handler_slow_after_reading_the_whole_body_is_a_504() {
    let server = server();
    let request = "POST /read-then-sleep HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\
                   content-length: 5\r\n\r\nhello";
    let response = exchange(server.addr, request.as_bytes()).await;
    assert_eq!(response.status(), 504, "{}", response.head);
    assert_eq!(error_code(&response.body), 50400);
}

#[tokio::test]
async fn a_body_that_arrives_in_time_is_read() {
    let server = server();
    let mut stream = bounded(TcpStream::connect(server.addr)).await.unwrap();
    let head = "POST /upload HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\ncontent-length: 10\r\n\r\n";
    bounded(stream.write_all(head.as_bytes())).await.unwrap();
    bounded(stream.write_all(b"hello")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    bounded(stream.write_all(b"world")).await.unwrap();
    let response = read_response(&mut stream).await;
    assert_eq!((response.status(), &response.body[..]), (200, &b"10 bytes"[..]));
}
