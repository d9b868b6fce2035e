//! Hostile clients: each test is one way a single client tried to take the
//! server from everyone else (issue #10), in small numbers, with the rule
//! that stops it. `cargo xtask attack` runs the same attacks at full size.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use mambo::body::MinRate;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{App, H1, TestServer, bounded, raw, read_until_closed};

/// The HTTP/2 connection preface and an empty SETTINGS frame.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

/// A PING frame with an 8-byte payload.
const H2_PING: &[u8] = b"\x00\x00\x08\x06\x00\x00\x00\x00\x00pingpong";

/// Whether the server closed `stream` (EOF or reset), draining what it
/// wrote; `false` when it is still open at `deadline`.
async fn closed_by(stream: &mut TcpStream, deadline: Instant) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
            Err(_) => return false,
        }
    }
}

/// A normal client's share of 200s while `attack` runs, asking every 20 ms.
async fn normal_client_during<F: std::future::Future>(
    addr: std::net::SocketAddr,
    attack: F,
) -> (F::Output, f64) {
    let mut client = H1::connect(addr).await;
    let attack = std::pin::pin!(attack);
    let mut attack = attack;
    let (mut asked, mut ok) = (0u32, 0u32);
    loop {
        tokio::select! {
            out = &mut attack => return (out, f64::from(ok) / f64::from(asked.max(1))),
            answer = client.try_get("/hello") => {
                asked += 1;
                match answer {
                    Ok(answer) if answer.status == 200 => ok += 1,
                    Ok(_) => {}
                    Err(_) => client = H1::connect(addr).await,
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

#[tokio::test]
async fn http2_connections_that_only_ping_are_closed_by_the_keep_alive_timeout() {
    let keep_alive = Duration::from_millis(500);
    let server = TestServer::start(|s| s.keep_alive_timeout(keep_alive), App::default());
    let attack = async {
        let mut pingers = Vec::new();
        for _ in 0..50 {
            let mut stream = TcpStream::connect(server.addr).await.unwrap();
            stream.write_all(H2_PREFACE).await.unwrap();
            pingers.push(stream);
        }
        // One more that made a request first, then only pings.
        let mut served = TcpStream::connect(server.addr).await.unwrap();
        served.write_all(H2_PREFACE).await.unwrap();
        served.write_all(HEADERS_GET_HELLO).await.unwrap();
        pingers.push(served);

        let started = Instant::now();
        let deadline = started + keep_alive + Duration::from_secs(1);
        let ping_every = Duration::from_millis(100);
        let mut open = pingers.len();
        let mut closed = vec![false; pingers.len()];
        while open > 0 && Instant::now() < deadline {
            for (stream, closed) in pingers.iter_mut().zip(&mut closed) {
                if *closed {
                    continue;
                }
                let gone = stream.write_all(H2_PING).await.is_err()
                    || closed_by(stream, Instant::now() + Duration::from_millis(1)).await;
                if gone {
                    *closed = true;
                    open -= 1;
                }
            }
            tokio::time::sleep(ping_every).await;
        }
        (open, started.elapsed())
    };
    let ((open, took), ok) = normal_client_during(server.addr, attack).await;
    assert_eq!(open, 0, "{open} pinging connections still open after {took:?}");
    assert!(ok >= 0.99, "the normal client got {:.1} % 200s", ok * 100.0);
    server.stop().await.unwrap();
}

/// HEADERS for `GET /hello` on stream 1, end of stream, with literal
/// HPACK fields (no Huffman, no indexing): `:method GET` (static index 2),
/// `:scheme http` (6), `:path /hello`, `:authority x`.
const HEADERS_GET_HELLO: &[u8] = &[
    0, 0, 13, 1, 5, 0, 0, 0, 1, // length 13, HEADERS, END_STREAM|END_HEADERS, stream 1
    0x82, 0x86, // :method GET, :scheme http
    0x04, 6, b'/', b'h', b'e', b'l', b'l', b'o', // :path (index 4, literal value)
    0x01, 1, b'x', // :authority (index 1, literal value)
];

#[tokio::test]
async fn a_stalled_upload_is_answered_408_and_frees_its_in_flight_slot() {
    let server = TestServer::start(
        |s| s.max_in_flight(1).body_read_timeout(Duration::from_millis(300)).min_body_rate(None),
        App::default(),
    );
    let mut stalled = TcpStream::connect(server.addr).await.unwrap();
    stalled
        .write_all(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
        .await
        .unwrap();
    let started = Instant::now();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The upload waits for the client: it takes no in-flight slot.
    let mut other = H1::connect(server.addr).await;
    assert_eq!(other.get("/hello").await.status, 200);

    let answer = String::from_utf8(bounded(read_until_closed(&mut stalled)).await).unwrap();
    let took = started.elapsed();
    assert!(answer.starts_with("HTTP/1.1 408 Request Timeout\r\n"), "{answer}");
    assert!(
        answer.ends_with(r#"{"code":40800,"message":"the request body arrived too slowly"}"#),
        "{answer}"
    );
    assert!(took < Duration::from_millis(1000), "answered after {took:?}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn stalled_http2_uploads_do_not_starve_other_clients() {
    let server = TestServer::start(
        |s| {
            s.max_in_flight(4)
                .body_read_timeout(Duration::from_millis(400))
                .http2_response_budget(64 * 1024)
        },
        App::default(),
    );
    // 20 streams that send HEADERS of a POST and no DATA: far more than
    // the in-flight limit or the connection's output budget would let run,
    // and all answered 408 at the same time.
    let (mut stalled, _) = h2_client::<Never>(server.addr, |b| b).await;
    let mut uploads = Vec::new();
    for _ in 0..20 {
        let request = http::Request::post("http://x/upload")
            .header("content-length", "100")
            .body(Never)
            .unwrap();
        bounded(stalled.ready()).await.unwrap();
        let response = stalled.send_request(request);
        uploads.push(tokio::spawn(async move { response.await.unwrap().status() }));
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    for _ in 0..10 {
        assert_eq!(H1::connect(server.addr).await.get("/hello").await.status, 200);
    }
    let started = Instant::now();
    for upload in uploads {
        assert_eq!(bounded(upload).await.unwrap(), 408);
    }
    assert!(
        started.elapsed() < Duration::from_millis(800),
        "answered after {:?}",
        started.elapsed()
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_body_trickling_below_the_minimum_rate_is_answered_408() {
    let server = TestServer::start(
        |s| {
            s.body_read_timeout(None)
                .min_body_rate(MinRate::bytes_per_second(100).after(Duration::from_millis(200)))
        },
        App::default(),
    );
    let (mut read, mut write) = TcpStream::connect(server.addr).await.unwrap().into_split();
    write
        .write_all(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
        .await
        .unwrap();
    // 20 bytes/s: every byte resets any idle timer, but the rate is too low.
    let started = Instant::now();
    let trickle = async {
        for _ in 0..60 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if write.write_all(b"x").await.is_err() {
                break;
            }
        }
    };
    let read_all = async {
        let mut answer = Vec::new();
        let _ = read.read_to_end(&mut answer).await;
        answer
    };
    let (_, answer) = tokio::join!(trickle, bounded(read_all));
    let answer = String::from_utf8(answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(2), "cut after {:?}", started.elapsed());
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_body_at_a_decent_rate_is_read_whole() {
    let server = TestServer::start(
        |s| {
            s.body_read_timeout(Duration::from_millis(300))
                .min_body_rate(MinRate::bytes_per_second(100).after(Duration::from_millis(200)))
        },
        App::default(),
    );
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    // 2 000 bytes/s in 100-byte pieces, for a second.
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        stream.write_all(&[b'x'; 100]).await.unwrap();
    }
    let answer = String::from_utf8(bounded(read_until_closed(&mut stream)).await).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("2000 bytes"), "{answer}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn http11_requests_need_exactly_one_host() {
    let server = TestServer::start(|s| s, App::default());
    for request in [
        &b"GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n"[..],
        b"GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n",
    ] {
        let answer = raw(server.addr, request).await;
        assert!(answer.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{answer}");
        assert!(answer.contains(r#""code":40010"#), "{answer}");
    }
    // HTTP/1.0 needs none.
    let answer = raw(server.addr, b"GET /hello HTTP/1.0\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.0 200 OK\r\n"), "{answer}");
    server.stop().await.unwrap();

    let lenient = TestServer::start(|s| s.strict_host(false), App::default());
    let answer = raw(lenient.addr, b"GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    lenient.stop().await.unwrap();
}

#[tokio::test]
async fn an_http2_client_that_never_reads_is_dropped_after_the_keep_alive_timeout() {
    // Ticks come every half timeout: the requests are seen at the first,
    // the connection is quiet for the whole timeout by the third and gets
    // a GOAWAY, and is dropped at the fourth although its responses are
    // unfinished and the GOAWAY was a write (two seconds; 2.5 s when the
    // GOAWAY kept it a tick longer, 30 s and more before issue #10).
    let keep_alive = Duration::from_millis(1000);
    let server = TestServer::start(|s| s.keep_alive_timeout(keep_alive), App::default());
    let (mut client, connection) = h2_client(server.addr, |b| {
        b.initial_stream_window_size(0).initial_connection_window_size(0)
    })
    .await;
    // Their responses stay unsent; most never start (the output budget).
    let mut responses = Vec::new();
    for _ in 0..20 {
        bounded(client.ready()).await.unwrap();
        responses.push(tokio::spawn(client.send_request(get("/big?kb=200"))));
    }
    let started = Instant::now();
    let deadline = 2 * keep_alive + Duration::from_millis(250);
    tokio::time::timeout(deadline, connection)
        .await
        .expect("the connection is still open")
        .unwrap();
    assert!(started.elapsed() >= keep_alive, "closed before its timeout: {:?}", started.elapsed());
    drop(responses);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_large_http2_response_to_a_slow_reader_is_not_cut() {
    // The client's window opens a little at a time: the response moves
    // for several keep-alive timeouts, and must arrive whole.
    let keep_alive = Duration::from_millis(300);
    let server = TestServer::start(|s| s.keep_alive_timeout(keep_alive), App::default());
    let window = 64 * 1024;
    let (mut client, _) = h2_client(server.addr, |b| {
        b.initial_stream_window_size(window).initial_connection_window_size(window)
    })
    .await;
    bounded(client.ready()).await.unwrap();
    let response = bounded(client.send_request(get("/big?kb=1024"))).await.unwrap();
    // About 64 frames of 16 KiB, 25 ms apart: 1.6 s, five timeouts.
    let mut body = response.into_body();
    let mut received = 0;
    while let Some(frame) = bounded(body.frame()).await {
        received += frame.expect("the response was cut").into_data().map_or(0, |d| d.len());
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(received, 1024 * 1024);
    server.stop().await.unwrap();
}

/// A request body that never sends a byte.
struct Never;

impl http_body::Body for Never {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        Poll::Pending
    }
}

/// An HTTP/2 client on one connection, configured by `configure`; the
/// second value ends when the connection does.
async fn h2_client<B>(
    addr: std::net::SocketAddr,
    configure: impl FnOnce(
        &mut hyper::client::conn::http2::Builder<TokioExecutor>,
    ) -> &mut hyper::client::conn::http2::Builder<TokioExecutor>,
) -> (hyper::client::conn::http2::SendRequest<B>, tokio::task::JoinHandle<()>)
where
    B: http_body::Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let stream = bounded(TcpStream::connect(addr)).await.unwrap();
    let mut builder = hyper::client::conn::http2::Builder::new(TokioExecutor::new());
    let (sender, conn) =
        bounded(configure(&mut builder).handshake(TokioIo::new(stream))).await.unwrap();
    (
        sender,
        tokio::spawn(async move {
            let _ = conn.await;
        }),
    )
}

fn get(path: &str) -> http::Request<Empty<Bytes>> {
    http::Request::get(format!("http://x{path}")).body(Empty::new()).unwrap()
}

#[tokio::test]
async fn an_http2_client_that_never_reads_gets_few_handlers_run() {
    let app = App::default();
    let served = app.big_served.clone();
    let server = TestServer::start(|s| s, app);
    let (mut client, _) = h2_client(server.addr, |b| {
        b.initial_stream_window_size(0).initial_connection_window_size(0)
    })
    .await;
    let mut responses = Vec::new();
    for _ in 0..200 {
        bounded(client.ready()).await.unwrap();
        responses.push(tokio::spawn(client.send_request(get("/big?kb=86"))));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    // 256 KiB of budget at 16 KiB per running handler: 16 at once, and no
    // more once their 86 KiB responses sit unread.
    let ran = served.load(std::sync::atomic::Ordering::Relaxed);
    assert!((1..=17).contains(&ran), "{ran} of 200 handlers ran for a client that reads nothing");
    for response in &responses {
        response.abort();
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn an_http2_client_that_reads_gets_all_its_responses() {
    let server = TestServer::start(|s| s, App::default());
    let (mut client, _) = h2_client(server.addr, |b| b).await;
    let mut responses = Vec::new();
    for _ in 0..100 {
        bounded(client.ready()).await.unwrap();
        let response = client.send_request(get("/big?kb=100"));
        responses.push(tokio::spawn(async move {
            let body = response.await.unwrap().into_body().collect().await.unwrap();
            body.to_bytes().len()
        }));
    }
    for response in responses {
        assert_eq!(bounded(response).await.unwrap(), 100 * 1024);
    }
    server.stop().await.unwrap();
}
