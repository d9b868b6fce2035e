//! `HEAD` answered by a `GET` route: the `GET`'s headers, `content-length`
//! included, and no body, over a real socket.

use bytes::Bytes;
use mambo::prelude::*;

use crate::support::{TestServer, exchange};

#[route(GET "/text")]
async fn text() -> &'static str {
    "hello, head"
}

#[route(GET "/json")]
async fn answer() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "answer": 42, "list": [1, 2, 3] }))
}

#[route(GET "/stream")]
async fn stream() -> StreamBody<chunks::Chunks> {
    StreamBody(chunks::Chunks(vec![Bytes::from_static(b"one "), Bytes::from_static(b"two")]))
}

mambo::router! {
    struct App {
        routes: [text, answer, stream],
    }
}

/// A stream of fixed chunks, without pulling in a futures crate.
mod chunks {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use bytes::Bytes;

    pub struct Chunks(pub Vec<Bytes>);

    impl futures_core::Stream for Chunks {
        type Item = Result<Bytes, std::io::Error>;

        fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            Poll::Ready((!self.0.is_empty()).then(|| Ok(self.0.remove(0))))
        }
    }
}

fn request(method: &str, path: &str) -> Vec<u8> {
    format!("{method} {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n").into_bytes()
}

#[tokio::test]
async fn head_has_the_gets_content_length_and_no_body() {
    let server = TestServer::start(|server| server, App::new());
    for path in ["/text", "/json", "/nowhere"] {
        let get = exchange(server.addr, &request("GET", path)).await;
        let head = exchange(server.addr, &request("HEAD", path)).await;
        assert_eq!(head.status(), get.status(), "{path}");
        let length = get.header("content-length").expect("GET has a length");
        assert_eq!(length.parse::<usize>().unwrap(), get.body.len(), "{path}");
        assert_eq!(head.header("content-length"), Some(length), "{path}: {}", head.head);
        assert_eq!(head.header("content-type"), get.header("content-type"), "{path}");
        assert!(head.body.is_empty(), "{path}: HEAD sent a body: {:?}", head.body);
    }
}

#[tokio::test]
async fn head_of_a_stream_has_no_length() {
    let server = TestServer::start(|server| server, App::new());
    let get = exchange(server.addr, &request("GET", "/stream")).await;
    assert_eq!(get.header("content-length"), None, "{}", get.head);
    let head = exchange(server.addr, &request("HEAD", "/stream")).await;
    assert_eq!(head.status(), 200);
    assert_eq!(head.header("content-length"), None, "{}", head.head);
    assert!(head.body.is_empty(), "HEAD sent a body: {:?}", head.body);
}

#[tokio::test]
async fn head_over_http2_keeps_the_length_too() {
    use http_body_util::{BodyExt, Empty};
    use hyper_util::rt::{TokioExecutor, TokioIo};

    let server = TestServer::start(|server| server, App::new());
    let stream =
        crate::support::bounded(tokio::net::TcpStream::connect(server.addr)).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .expect("h2c handshake");
    tokio::spawn(conn);
    let mut answers = Vec::new();
    for method in [Method::GET, Method::HEAD] {
        let request = http::Request::builder()
            .method(method)
            .uri("http://localhost/json")
            .body(Empty::<Bytes>::new())
            .unwrap();
        let response = crate::support::bounded(sender.send_request(request)).await.unwrap();
        let length = response.headers().get("content-length").cloned();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        answers.push((length, body));
    }
    let (get_length, get_body) = &answers[0];
    let (head_length, head_body) = &answers[1];
    assert_eq!(get_length.as_ref().unwrap(), &get_body.len().to_string());
    assert_eq!(head_length, get_length);
    assert!(head_body.is_empty());
}
