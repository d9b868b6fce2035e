//! Server-sent events over real sockets, read by `curl -N` over HTTP/1.1
//! and HTTP/2 (h2c prior knowledge). Every step is bounded in time; waits
//! are for bytes to arrive, never fixed sleeps, so a loaded machine only
//! makes the tests slower.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::process::Stdio;
use std::task::{Context, Poll};
use std::time::Duration;

use mambo::prelude::*;
use mambo::sse::{Event, KeepAlive, LastEventId, Sse};
use tokio::io::AsyncReadExt;
use tokio::process::Command;

/// The longest any single step may take.
const STEP: Duration = Duration::from_secs(20);

/// Yields the iterator's items, then ends, or stays pending forever if `hang`.
struct Script<I> {
    items: I,
    hang: bool,
}

impl<I: Iterator + Unpin> futures_core::Stream for Script<I> {
    type Item = I::Item;

    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<I::Item>> {
        match self.items.next() {
            Some(item) => Poll::Ready(Some(item)),
            None if self.hang => Poll::Pending,
            None => Poll::Ready(None),
        }
    }
}

fn ok(event: Event) -> Result<Event, Infallible> {
    Ok(event)
}

#[route(GET "/events")]
async fn events() -> impl IntoResponse {
    let events = vec![
        ok(Event::default().comment("hello").retry(Duration::from_millis(2500))),
        ok(Event::default().id("1").event("update").data("first")),
        ok(Event::default().id("2").data("two\nlines")),
        ok(Event::default().data("")),
    ];
    Sse::new(Script { items: events.into_iter(), hang: false })
}

/// One event, then nothing but keep-alive comments.
#[route(GET "/idle")]
async fn idle() -> impl IntoResponse {
    let events = vec![ok(Event::default().data("hello"))];
    let keep_alive = KeepAlive::new().interval(Duration::from_millis(100)).text("ping");
    Sse::new(Script { items: events.into_iter(), hang: true }).keep_alive(keep_alive)
}

#[route(GET "/resume")]
async fn resume(last: Option<Header<LastEventId>>) -> impl IntoResponse {
    let data = match last {
        Some(Header(LastEventId(id))) => format!("after {id}"),
        None => "from the start".to_owned(),
    };
    let events = vec![ok(Event::default().data(data))];
    Sse::new(Script { items: events.into_iter(), hang: false })
}

/// One event, then (once it has been written) an error.
#[route(GET "/fails")]
async fn fails() -> impl IntoResponse {
    Sse::new(Fails { step: 0, sleep: Box::pin(tokio::time::sleep(Duration::from_millis(50))) })
}

struct Fails {
    step: u8,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl futures_core::Stream for Fails {
    type Item = Result<Event, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.step += 1;
        match self.step {
            1 => Poll::Ready(Some(Ok(Event::default().data("before")))),
            _ => {
                // Pending once first, so the server writes the event out.
                std::task::ready!(self.sleep.as_mut().poll(cx));
                Poll::Ready(Some(Err(std::io::Error::other("feed lost"))))
            }
        }
    }
}

mambo::router! {
    struct App {
        routes: [events, idle, resume, fails],
    }
}

/// Serves `App` on 127.0.0.1:0; the server task is aborted on drop.
struct TestServer {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl TestServer {
    fn start() -> Self {
        let listening = mambo::Server::bind("127.0.0.1:0").listen().expect("listen");
        let addr = listening.local_addr();
        TestServer { addr, task: tokio::spawn(listening.serve(App::new())) }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What `curl` wrote and how it exited.
struct Curl {
    status: Option<i32>,
    out: String,
}

/// Runs `curl -N -s -i <args>` to the end, bounded by `--max-time` and [`STEP`].
async fn curl(args: &[&str]) -> Curl {
    let output = Command::new("curl")
        .args(["-N", "-s", "-i", "--max-time", "15"])
        .args(args)
        .kill_on_drop(true)
        .output();
    let output =
        tokio::time::timeout(STEP, output).await.expect("curl timed out").expect("run curl");
    Curl { status: output.status.code(), out: String::from_utf8(output.stdout).unwrap() }
}

/// Runs `curl -N -s -i <args>` and reads its output until `done` says
/// enough arrived (within [`STEP`]), then kills it.
async fn curl_until(args: &[&str], done: impl Fn(&str) -> bool) -> String {
    let mut child = Command::new("curl")
        .args(["-N", "-s", "-i"])
        .args(args)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run curl");
    let mut stdout = child.stdout.take().unwrap();
    let mut out = Vec::new();
    let read = async {
        let mut buf = [0; 1024];
        while !done(&String::from_utf8_lossy(&out)) {
            let n = stdout.read(&mut buf).await.expect("read curl's output");
            assert_ne!(n, 0, "curl ended early: {}", String::from_utf8_lossy(&out));
            out.extend_from_slice(&buf[..n]);
        }
    };
    if tokio::time::timeout(STEP, read).await.is_err() {
        panic!("timed out; curl wrote: {}", String::from_utf8_lossy(&out));
    }
    child.kill().await.expect("kill curl");
    String::from_utf8(out).unwrap()
}

/// The head's lines (status line first) and the body.
fn split(out: &str) -> (Vec<&str>, &str) {
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no head: {out:?}"));
    (head.split("\r\n").collect(), body)
}

fn header<'a>(head: &[&'a str], name: &str) -> Option<&'a str> {
    head.iter().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

const EVENTS: &str = ": hello\nretry: 2500\n\n\
                      event: update\nid: 1\ndata: first\n\n\
                      id: 2\ndata: two\ndata: lines\n\n\
                      data: \n\n";

fn check_events(out: &str, status_line: &str) {
    let (head, body) = split(out);
    assert_eq!(head[0].trim(), status_line, "{out}");
    assert_eq!(header(&head, "content-type"), Some("text/event-stream"), "{out}");
    assert_eq!(header(&head, "cache-control"), Some("no-cache"), "{out}");
    assert_eq!(header(&head, "x-accel-buffering"), Some("no"), "{out}");
    assert_eq!(header(&head, "content-encoding"), None, "{out}");
    assert_eq!(header(&head, "content-length"), None, "{out}");
    assert_eq!(body, EVENTS);
}

#[tokio::test]
async fn curl_reads_the_events_over_http1() {
    let server = TestServer::start();
    let answer = curl(&["--http1.1", "-H", "accept-encoding: gzip", &server.url("/events")]).await;
    assert_eq!(answer.status, Some(0), "{}", answer.out);
    check_events(&answer.out, "HTTP/1.1 200 OK");
    let (head, _) = split(&answer.out);
    assert_eq!(header(&head, "transfer-encoding"), Some("chunked"), "{}", answer.out);
}

#[tokio::test]
async fn curl_reads_the_events_over_h2c() {
    let server = TestServer::start();
    let answer = curl(&["--http2-prior-knowledge", &server.url("/events")]).await;
    assert_eq!(answer.status, Some(0), "{}", answer.out);
    check_events(&answer.out, "HTTP/2 200");
}

/// The first event arrives while the stream is still open (nothing holds
/// it back), then keep-alive comments follow while it is idle.
#[tokio::test]
async fn keep_alive_comments_while_idle() {
    let server = TestServer::start();
    for protocol in ["--http1.1", "--http2-prior-knowledge"] {
        let out = curl_until(&[protocol, &server.url("/idle")], |out| {
            out.matches(": ping\n\n").count() >= 3
        })
        .await;
        let (_, body) = split(&out);
        assert!(
            body.starts_with("data: hello\n\n: ping\n\n: ping\n\n: ping\n\n"),
            "{protocol}: {out:?}"
        );
        assert_eq!(body.replace(": ping\n\n", ""), "data: hello\n\n", "{protocol}: {out:?}");
    }
}

#[tokio::test]
async fn last_event_id_reaches_the_handler() {
    let server = TestServer::start();
    let answer = curl(&["-H", "Last-Event-ID: 41", &server.url("/resume")]).await;
    assert_eq!(split(&answer.out).1, "data: after 41\n\n", "{}", answer.out);
    let answer =
        curl(&["--http2-prior-knowledge", "-H", "Last-Event-ID: 41", &server.url("/resume")]).await;
    assert_eq!(split(&answer.out).1, "data: after 41\n\n", "{}", answer.out);
    let answer = curl(&[&server.url("/resume")]).await;
    assert_eq!(split(&answer.out).1, "data: from the start\n\n", "{}", answer.out);
}

/// An error in the stream aborts the body after the events before it:
/// curl sees an incomplete transfer.
#[tokio::test]
async fn an_error_aborts_the_response() {
    let server = TestServer::start();
    let answer = curl(&["--http1.1", &server.url("/fails")]).await;
    assert_eq!(split(&answer.out).1, "data: before\n\n", "{}", answer.out);
    assert_eq!(answer.status, Some(18), "partial transfer: {}", answer.out);
    // Over HTTP/2 the stream is reset; the reset may overtake the events
    // still queued for it, so only the error is certain.
    let answer = curl(&["--http2-prior-knowledge", &server.url("/fails")]).await;
    assert_eq!(answer.status, Some(92), "HTTP/2 stream error: {:?}", answer.out);
}
