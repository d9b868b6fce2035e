//! WebSockets over real sockets, with clients no one here wrote:
//! tokio-tungstenite's client over HTTP/1.1, and hyper's HTTP/2 client
//! (RFC 8441 extended `CONNECT`) under tungstenite's framing. Every wait is
//! bounded by [`STEP`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use mambo::prelude::*;
use mambo::ws::{Message, WebSocketConfig, WebSocketUpgrade, close_code};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest, protocol::Role};

/// The longest any single step may take.
const STEP: Duration = Duration::from_secs(20);

/// Counts the handlers running, for the tests that check a socket was cut off.
#[derive(Clone, Default)]
struct Live(Arc<AtomicUsize>);

struct Running(Arc<AtomicUsize>);

impl Running {
    fn new(live: &Live) -> Self {
        live.0.fetch_add(1, Ordering::SeqCst);
        Running(live.0.clone())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[route(GET "/echo")]
async fn echo(upgrade: WebSocketUpgrade, State(live): State<Live>) -> Response {
    let config = WebSocketConfig::default().max_message_size(64 << 10).max_frame_size(64 << 10);
    upgrade.config(config).protocols(["echo.v2", "echo.v1"]).on_upgrade(
        move |mut socket| async move {
            let _running = Running::new(&live);
            if let Some(protocol) = socket.protocol().cloned() {
                let _ = socket.send(format!("protocol {}", protocol.to_str().unwrap())).await;
            }
            while let Some(Ok(message)) = socket.recv().await {
                if matches!(message, Message::Text(_) | Message::Binary(_))
                    && socket.send(message).await.is_err()
                {
                    break;
                }
            }
        },
    )
}

/// Pings a silent client after 100 ms and drops it after 400 ms.
#[route(GET "/impatient")]
async fn impatient(upgrade: WebSocketUpgrade, State(live): State<Live>) -> Response {
    let config = WebSocketConfig::default()
        .ping_interval(Some(Duration::from_millis(100)))
        .idle_timeout(Some(Duration::from_millis(400)));
    upgrade.config(config).on_upgrade(move |mut socket| async move {
        let _running = Running::new(&live);
        while socket.recv().await.is_some() {}
    })
}

/// Sends 64 KiB messages as fast as the client reads them, forever.
#[route(GET "/firehose")]
async fn firehose(upgrade: WebSocketUpgrade, State(live): State<Live>) -> Response {
    let config = WebSocketConfig::default()
        .write_timeout(Some(Duration::from_millis(300)))
        .ping_interval(None)
        .idle_timeout(None);
    upgrade.config(config).on_upgrade(move |mut socket| async move {
        let _running = Running::new(&live);
        let chunk = Bytes::from(vec![b'x'; 64 << 10]);
        while socket.send(Message::Binary(chunk.clone())).await.is_ok() {}
    })
}

/// Reads everything the client sends while it sends 64 KiB messages, as a
/// chat room does; write timeout 300 ms.
#[route(GET "/flood")]
async fn flood(upgrade: WebSocketUpgrade, State(live): State<Live>) -> Response {
    let config = WebSocketConfig::default()
        .write_timeout(Some(Duration::from_millis(300)))
        .ping_interval(None)
        .idle_timeout(None);
    upgrade.config(config).on_upgrade(move |socket| async move {
        let _running = Running::new(&live);
        let (mut sender, mut receiver) = socket.split();
        let chunk = Bytes::from(vec![b'x'; 64 << 10]);
        tokio::select! {
            () = async { while let Some(Ok(_)) = receiver.recv().await {} } => {}
            () = async { while sender.send(Message::Binary(chunk.clone())).await.is_ok() {} } => {}
        }
    })
}

mambo::router! {
    struct App {
        state: Live,
        routes: [echo, impatient, firehose, flood],
    }
}

struct TestServer {
    addr: SocketAddr,
    live: Live,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl TestServer {
    fn start(server: mambo::Server) -> Self {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let listening = server
            .shutdown_timeout(Duration::from_secs(5))
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .listen()
            .expect("listen");
        let addr = listening.local_addr();
        let live = Live::default();
        let task = tokio::spawn(listening.serve(App::new(live.clone())));
        TestServer { addr, live, stop: Some(stop), task }
    }

    fn url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    async fn connect(
        &self,
        path: &str,
    ) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>> {
        let (socket, response) =
            tokio::time::timeout(STEP, tokio_tungstenite::connect_async(self.url(path)))
                .await
                .expect("connect in time")
                .expect("handshake");
        assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
        socket
    }

    /// Waits until no handler is running.
    async fn until_no_handler(&self) {
        tokio::time::timeout(STEP, async {
            while self.live.0.load(Ordering::SeqCst) != 0 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("every handler ended in time");
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn next<S>(socket: &mut S) -> tungstenite::Message
where
    S: futures_util::Stream<Item = Result<tungstenite::Message, tungstenite::Error>> + Unpin,
{
    tokio::time::timeout(STEP, socket.next())
        .await
        .expect("a message in time")
        .expect("the socket is open")
        .expect("a valid message")
}

#[tokio::test]
async fn echoes_text_and_binary_over_http1() {
    let server = TestServer::start(mambo::Server::bind("127.0.0.1:0"));
    let mut socket = server.connect("/echo").await;
    socket.send(tungstenite::Message::text("hello")).await.unwrap();
    assert_eq!(next(&mut socket).await, tungstenite::Message::text("hello"));
    let binary = vec![0u8, 1, 2, 255];
    socket.send(tungstenite::Message::binary(binary.clone())).await.unwrap();
    assert_eq!(next(&mut socket).await, tungstenite::Message::binary(binary));
    socket.close(None).await.unwrap();
    assert!(matches!(next(&mut socket).await, tungstenite::Message::Close(_)));
    server.until_no_handler().await;
}

#[tokio::test]
async fn agrees_on_the_servers_preferred_subprotocol() {
    let server = TestServer::start(mambo::Server::bind("127.0.0.1:0"));
    let mut request = server.url("/echo").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "other, echo.v1, echo.v2".parse().unwrap());
    let (mut socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "echo.v2");
    assert_eq!(next(&mut socket).await, tungstenite::Message::text("protocol echo.v2"));
}

#[tokio::test]
async fn a_message_over_the_limit_closes_with_1009() {
    let server = TestServer::start(mambo::Server::bind("127.0.0.1:0"));
    let mut socket = server.connect("/echo").await;
    socket.send(tungstenite::Message::binary(vec![7u8; 100 << 10])).await.unwrap();
    match next(&mut socket).await {
        tungstenite::Message::Close(Some(frame)) => {
            assert_eq!(u16::from(frame.code), close_code::SIZE)
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
    server.until_no_handler().await;
}

/// A raw HTTP/1.1 request, and the whole answer (the server closes or
/// answers with `content-length`; read until the JSON body is in).
async fn raw(addr: SocketAddr, head: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(STEP, async {
        loop {
            let n = stream.read(&mut buf).await.unwrap();
            answer.extend_from_slice(&buf[..n]);
            if n == 0 || answer.ends_with(b"}") {
                break;
            }
        }
    })
    .await
    .expect("an answer in time");
    String::from_utf8(answer).unwrap()
}

#[tokio::test]
async fn bad_handshakes_get_json_errors() {
    let server = TestServer::start(mambo::Server::bind("127.0.0.1:0"));
    let plain = raw(server.addr, "GET /echo HTTP/1.1\r\nhost: x\r\n\r\n").await;
    assert!(plain.starts_with("HTTP/1.1 400"), "{plain}");
    assert!(plain.contains(r#""code":40017"#), "{plain}");

    let upgrade = "GET /echo HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: websocket\r\n";
    let no_key = raw(server.addr, &format!("{upgrade}sec-websocket-version: 13\r\n\r\n")).await;
    assert!(no_key.starts_with("HTTP/1.1 400"), "{no_key}");
    assert!(no_key.contains(r#""code":40018"#), "{no_key}");

    let key = "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    let old = raw(server.addr, &format!("{upgrade}{key}sec-websocket-version: 8\r\n\r\n")).await;
    assert!(old.starts_with("HTTP/1.1 426"), "{old}");
    assert!(old.to_ascii_lowercase().contains("sec-websocket-version: 13"), "{old}");
    assert!(old.contains(r#""code":42600"#), "{old}");
}

#[tokio::test]
async fn the_in_process_test_client_gets_a_clear_500() {
    let client = mambo::test::TestClient::new(App::new(Live::default()));
    let response = client
        .get("/echo")
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(response.text().contains(r#""code":50008"#));
}

#[tokio::test]
async fn graceful_shutdown_closes_sockets_with_1001() {
    let mut server = TestServer::start(mambo::Server::bind("127.0.0.1:0"));
    let mut socket = server.connect("/echo").await;
    socket.send(tungstenite::Message::text("before")).await.unwrap();
    assert_eq!(next(&mut socket).await, tungstenite::Message::text("before"));

    server.stop.take().unwrap().send(()).unwrap();
    match next(&mut socket).await {
        tungstenite::Message::Close(Some(frame)) => {
            assert_eq!(u16::from(frame.code), close_code::AWAY);
        }
        other => panic!("expected a 1001 close frame, got {other:?}"),
    }
    // Reading on sends tungstenite's reply, which completes the close: the
    // server closes the connection and ends well before its 5 s timeout.
    let end = tokio::time::timeout(STEP, socket.next()).await.expect("the end in time");
    assert!(end.as_ref().is_none_or(|end| end.is_err()), "nothing after the close: {end:?}");
    let served = tokio::time::timeout(Duration::from_secs(4), &mut server.task).await;
    served.expect("the server drained before its shutdown timeout").unwrap().unwrap();
    server.until_no_handler().await;
}

/// A handshake that reaches a draining server (on a keep-alive connection,
/// in the moment it is left to send its next request) still gets a proper
/// 101 (`connection: upgrade`, not the drain's `connection: close`), then
/// the 1001 at once.
#[tokio::test]
async fn a_handshake_during_the_drain_is_upgraded_then_closed_with_1001() {
    let mut server = TestServer::start(mambo::Server::bind("127.0.0.1:0"));
    let mut kept = TcpStream::connect(server.addr).await.unwrap();
    kept.write_all(b"GET /echo HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while !answer.ends_with(b"}") {
        let n = tokio::time::timeout(STEP, kept.read(&mut buf)).await.unwrap().unwrap();
        assert!(n > 0, "the connection stays open after a 400");
        answer.extend_from_slice(&buf[..n]);
    }

    server.stop.take().unwrap().send(()).unwrap();
    // The drain has begun once the listener is gone.
    tokio::time::timeout(STEP, async {
        while TcpStream::connect(server.addr).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the listener closed");

    let (mut socket, response) =
        tokio::time::timeout(STEP, tokio_tungstenite::client_async(server.url("/echo"), kept))
            .await
            .expect("an answer in time")
            .expect("a valid 101 while draining");
    assert_eq!(response.headers()["connection"], "upgrade");
    match next(&mut socket).await {
        tungstenite::Message::Close(Some(frame)) => {
            assert_eq!(u16::from(frame.code), close_code::AWAY);
        }
        other => panic!("expected a 1001 close frame, got {other:?}"),
    }
}

#[tokio::test]
async fn a_client_that_answers_pings_stays_and_a_silent_one_is_dropped() {
    let server = TestServer::start(mambo::Server::bind("127.0.0.1:0"));
    // tungstenite's client answers pings while it is read.
    let mut answering = server.connect("/impatient").await;
    let mut pings = 0;
    let until = tokio::time::Instant::now() + Duration::from_millis(1200);
    while let Ok(Some(message)) = tokio::time::timeout_at(until, answering.next()).await {
        if matches!(message.unwrap(), tungstenite::Message::Ping(_)) {
            pings += 1;
        }
    }
    assert!(pings >= 2, "pinged while silent: {pings} pings");
    assert_eq!(server.live.0.load(Ordering::SeqCst), 1, "the answering client is still served");

    // A client that never reads never answers: dropped after the idle timeout.
    let _silent = server.connect("/impatient").await;
    drop(answering);
    server.until_no_handler().await;
}

#[tokio::test]
async fn a_client_that_never_reads_is_cut_off_after_the_write_timeout() {
    let server = TestServer::start(mambo::Server::bind("127.0.0.1:0"));
    let _never_reads = server.connect("/firehose").await;
    let started = tokio::time::Instant::now();
    server.until_no_handler().await;
    assert!(started.elapsed() < Duration::from_secs(5), "cut off after {:?}", started.elapsed());
}

/// Regression: a client that floods the socket kept the handler busy
/// enough to starve the watchdog's timer in the same task, so the write
/// timeout never fired (found by `cargo xtask attack --case ws-never-read`).
#[tokio::test]
async fn a_client_that_floods_and_never_reads_is_cut_off_too() {
    let server = TestServer::start(mambo::Server::bind("127.0.0.1:0"));
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let tcp = socket.connect(server.addr).await.unwrap();
    let (mut flooder, _) =
        tokio_tungstenite::client_async(server.url("/flood"), tcp).await.expect("handshake");
    let started = tokio::time::Instant::now();
    let message = tungstenite::Message::text("x".repeat(1000));
    let flood = async { while flooder.feed(message.clone()).await.is_ok() {} };
    tokio::time::timeout(STEP, flood).await.expect("the server cut the flooder off");
    server.until_no_handler().await;
    assert!(started.elapsed() < Duration::from_secs(10), "cut off after {:?}", started.elapsed());
}

#[tokio::test]
async fn sockets_count_toward_max_connections() {
    let server = TestServer::start(mambo::Server::bind("127.0.0.1:0").max_connections(2));
    let first = server.connect("/echo").await;
    let _second = server.connect("/echo").await;
    let refused = tokio_tungstenite::connect_async(server.url("/echo")).await;
    assert!(refused.is_err(), "a third connection past max_connections(2) is refused");
    drop(first);
    server.until_no_handler_below(2).await;
    let mut third = server.connect("/echo").await;
    third.send(tungstenite::Message::text("room again")).await.unwrap();
    assert_eq!(next(&mut third).await, tungstenite::Message::text("room again"));
}

impl TestServer {
    async fn until_no_handler_below(&self, count: usize) {
        tokio::time::timeout(STEP, async {
            while self.live.0.load(Ordering::SeqCst) >= count {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("a handler ended in time");
    }
}

#[tokio::test]
async fn http2_extended_connect_reaches_the_same_get_route() {
    let server = TestServer::start(mambo::Server::bind("127.0.0.1:0"));
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tcp),
    )
    .await
    .expect("h2c handshake");
    tokio::spawn(connection);
    let mut request = http::Request::builder()
        .method(http::Method::CONNECT)
        .uri(format!("http://{}/echo", server.addr))
        .header("sec-websocket-version", "13")
        .header("sec-websocket-protocol", "echo.v1")
        .body(http_body_util::Empty::<Bytes>::new())
        .unwrap();
    request.extensions_mut().insert(hyper::ext::Protocol::from_static("websocket"));
    // hyper waits for the server's SETTINGS_ENABLE_CONNECT_PROTOCOL.
    let response = tokio::time::timeout(STEP, async {
        sender.ready().await.unwrap();
        sender.send_request(request).await
    })
    .await
    .expect("an answer in time")
    .expect("the server allows extended CONNECT");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["sec-websocket-protocol"], "echo.v1");
    let upgraded = hyper::upgrade::on(response).await.expect("an HTTP/2 stream to talk on");
    let mut socket = tokio_tungstenite::WebSocketStream::from_raw_socket(
        hyper_util::rt::TokioIo::new(upgraded),
        Role::Client,
        None,
    )
    .await;
    assert_eq!(next(&mut socket).await, tungstenite::Message::text("protocol echo.v1"));
    socket.send(tungstenite::Message::text("over h2")).await.unwrap();
    assert_eq!(next(&mut socket).await, tungstenite::Message::text("over h2"));
    socket.close(None).await.unwrap();
    assert!(matches!(next(&mut socket).await, tungstenite::Message::Close(_)));
    server.until_no_handler().await;
}
