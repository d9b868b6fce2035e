//! The chat example over real sockets: `mambo::Server` on 127.0.0.1:0,
//! tokio-tungstenite's WebSocket client, and `curl -N` reading the event
//! stream. Every wait is bounded by [`STEP`]; none is a fixed sleep.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use mambo_examples::chat::{Chat, Room};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, ChildStdout, Command};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The longest any single step may take.
const STEP: Duration = Duration::from_secs(20);

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The chat on a free port; the server task is aborted on drop.
struct TestServer {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl TestServer {
    fn start() -> Self {
        let listening = mambo::Server::bind("127.0.0.1:0").listen().expect("listen");
        let addr = listening.local_addr();
        TestServer { addr, task: tokio::spawn(listening.serve(Chat::new(Room::new()))) }
    }

    async fn connect(&self) -> Client {
        let url = format!("ws://{}/ws", self.addr);
        let (client, response) = tokio::time::timeout(STEP, tokio_tungstenite::connect_async(url))
            .await
            .expect("handshake in time")
            .expect("handshake");
        assert_eq!(response.status(), 101);
        client
    }

    /// `curl -N` on `/events`, its output read line by line.
    fn events(&self) -> Events {
        let mut child = Command::new("curl")
            .args(["-sN", "--max-time", "60", &format!("http://{}/events", self.addr)])
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("curl is installed");
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Events { _child: child, lines }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The event stream as `curl` prints it.
struct Events {
    _child: Child,
    lines: tokio::io::Lines<BufReader<ChildStdout>>,
}

impl Events {
    /// The next event's name and data, skipping keep-alive comments.
    async fn next(&mut self) -> (String, String) {
        let (mut name, mut data) = (String::new(), String::new());
        loop {
            let line = tokio::time::timeout(STEP, self.lines.next_line())
                .await
                .expect("an event in time")
                .expect("curl's output")
                .expect("the stream stays open");
            if line.is_empty() {
                if !name.is_empty() || !data.is_empty() {
                    return (name, data);
                }
            } else if let Some(value) = line.strip_prefix("event: ") {
                name = value.to_owned();
            } else if let Some(value) = line.strip_prefix("data: ") {
                data = value.to_owned();
            }
        }
    }

    /// The next `presence` event's count, skipping joins and departures.
    async fn presence(&mut self) -> u64 {
        loop {
            let (name, data) = self.next().await;
            if name == "presence" {
                return data.parse().expect("a count");
            }
        }
    }
}

/// The next text message from the server, as JSON.
async fn next_json(client: &mut Client) -> Value {
    loop {
        let message = tokio::time::timeout(STEP, client.next())
            .await
            .expect("a message in time")
            .expect("the socket stays open")
            .expect("a frame");
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).expect("JSON from the server");
        }
    }
}

async fn send(client: &mut Client, value: &Value) {
    client.send(Message::text(value.to_string())).await.expect("send");
}

#[tokio::test]
async fn a_message_reaches_every_socket_and_presence_is_streamed() {
    let server = TestServer::start();
    let mut events = server.events();
    assert_eq!(events.presence().await, 0);

    let mut ada = server.connect().await;
    assert_eq!(events.presence().await, 1);
    let mut bob = server.connect().await;
    assert_eq!(events.presence().await, 2);

    send(&mut ada, &json!({"name": "  ada ", "text": "hello, room "})).await;
    for client in [&mut ada, &mut bob] {
        let message = next_json(client).await;
        assert_eq!(message["type"], "message", "{message}");
        assert_eq!(message["id"], 1);
        assert_eq!(message["name"], "ada");
        assert_eq!(message["text"], "hello, room");
        assert!(message["ts"].as_u64().unwrap() > 1_600_000_000_000, "{message}");
    }
    assert_eq!(events.next().await, ("joined".to_owned(), "ada".to_owned()));

    send(&mut bob, &json!({"name": "bob", "text": "hi ada"})).await;
    assert_eq!(next_json(&mut ada).await["id"], 2);
    assert_eq!(events.next().await, ("joined".to_owned(), "bob".to_owned()));

    bob.close(None).await.expect("close");
    assert_eq!(events.next().await, ("presence".to_owned(), "1".to_owned()));
    assert_eq!(events.next().await, ("left".to_owned(), "bob".to_owned()));
    drop(ada);
    assert_eq!(events.presence().await, 0);
}

#[tokio::test]
async fn invalid_input_is_answered_on_its_socket_only() {
    let server = TestServer::start();
    let mut events = server.events();
    assert_eq!(events.presence().await, 0);
    let mut ada = server.connect().await;
    let mut bob = server.connect().await;
    while events.presence().await < 2 {}

    ada.send(Message::text("not json")).await.unwrap();
    let reply = next_json(&mut ada).await;
    assert_eq!(reply["type"], "error", "{reply}");
    assert!(reply["error"].as_str().unwrap().starts_with("expected"), "{reply}");

    let bad = [
        json!({"name": "ada", "text": "   "}),
        json!({"name": "", "text": "hi"}),
        json!({"name": "a".repeat(33), "text": "hi"}),
        json!({"name": "ada", "text": "x".repeat(501)}),
        json!({"name": 7, "text": "hi"}),
    ];
    for value in &bad {
        send(&mut ada, value).await;
        let reply = next_json(&mut ada).await;
        assert_eq!(reply["type"], "error", "{value} → {reply}");
    }
    ada.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    assert_eq!(next_json(&mut ada).await["type"], "error");

    // Nothing invalid was broadcast: bob's first message is the valid one.
    send(&mut ada, &json!({"name": "ada", "text": "finally"})).await;
    let message = next_json(&mut bob).await;
    assert_eq!(
        (&message["type"], &message["id"], &message["text"]),
        (&json!("message"), &json!(1), &json!("finally"))
    );
    assert_eq!(next_json(&mut ada).await["text"], "finally");
}

#[tokio::test]
async fn an_oversized_message_closes_the_socket_with_1009() {
    let server = TestServer::start();
    let mut ada = server.connect().await;
    let huge = json!({"name": "ada", "text": "x".repeat(64 << 10)});
    send(&mut ada, &huge).await;
    loop {
        let frame = tokio::time::timeout(STEP, ada.next()).await.expect("an answer in time");
        match frame {
            Some(Ok(Message::Close(Some(close)))) => {
                assert_eq!(u16::from(close.code), 1009);
                break;
            }
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_page_and_health() {
    let server = TestServer::start();
    let page = Command::new("curl")
        .args(["-s", &format!("http://{}/", server.addr)])
        .output()
        .await
        .expect("curl");
    let page = String::from_utf8(page.stdout).unwrap();
    assert!(page.contains("new WebSocket("), "{page}");
    assert!(page.contains("new EventSource(\"/events\")"));
    let _ada = server.connect().await;
    let mut events = server.events();
    assert_eq!(events.presence().await, 1);
    let health = Command::new("curl")
        .args(["-s", &format!("http://{}/healthz", server.addr)])
        .output()
        .await
        .expect("curl");
    assert_eq!(String::from_utf8(health.stdout).unwrap(), r#"{"status":"ok","online":1}"#);
}
