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

/// Set in the child process that [`out_of_descriptors_child`] runs in.
#[cfg(unix)]
const OUT_OF_DESCRIPTORS_CHILD: &str = "MAMBO_TEST_OUT_OF_DESCRIPTORS_CHILD";

/// What the child prints once its server is out of descriptors, then its address.
#[cfg(unix)]
const STARVED: &str = "server out of descriptors at ";

/// What the child prints once it has closed the files that starved the server.
#[cfg(unix)]
const FREED: &str = "descriptors freed";

#[cfg(unix)]
#[tokio::test]
async fn a_client_is_answered_at_once_when_the_server_is_out_of_descriptors() {
    use std::process::Stdio;
    use tokio::io::{AsyncBufReadExt, BufReader};

    // This test's binary, running only `out_of_descriptors_child`, so that
    // the descriptor limit of this process stays as it is.
    let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "limits::out_of_descriptors_child", "--nocapture", "--test-threads=1"])
        .env(OUT_OF_DESCRIPTORS_CHILD, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the child process");
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut after = async |marker: &str| loop {
        let line = lines.next_line().await.unwrap().expect("the child process ended early");
        if let Some(at) = line.find(marker) {
            return line[at + marker.len()..].trim().to_owned();
        }
    };
    let addr: std::net::SocketAddr = bounded(after(STARVED)).await.parse().unwrap();

    // Twice: the second shows the reserve descriptor was taken back.
    for _ in 0..2 {
        let start = Instant::now();
        let answer = tokio::time::timeout(Duration::from_secs(3), async {
            let mut stream = TcpStream::connect(addr).await.expect("connect");
            let _ = stream.write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").await;
            read_until_closed(&mut stream).await
        })
        .await
        .expect("a client of a server out of descriptors was left waiting");
        let text = String::from_utf8(answer).unwrap();
        assert!(text.is_empty() || text.starts_with("HTTP/1.1 503 "), "{text}");
        assert!(text.is_empty() || text.contains(r#""code":50302"#), "{text}");
        assert!(start.elapsed() < Duration::from_secs(1), "answered late: {:?}", start.elapsed());
    }

    // With descriptors free again, clients are served again.
    stdin.write_all(b"free\n").await.unwrap();
    bounded(after(FREED)).await;
    until_ok(addr, "the server did not recover once descriptors were free").await;

    drop(stdin);
    let status = bounded(child.wait()).await.unwrap();
    assert!(status.success(), "the child process failed: {status}");
}

/// Runs only as the child process of
/// `a_client_is_answered_at_once_when_the_server_is_out_of_descriptors`
/// (passes at once otherwise): serves on a port, uses up every file
/// descriptor of its process, prints [`STARVED`] and the address, waits
/// for a line on stdin, closes the files, prints [`FREED`], and exits when
/// stdin closes.
#[cfg(unix)]
#[test]
fn out_of_descriptors_child() {
    use std::io::{BufRead, Read, Write};

    if std::env::var_os(OUT_OF_DESCRIPTORS_CHILD).is_none() {
        return;
    }
    let listening = mambo::Server::bind("127.0.0.1:0")
        .with_graceful_shutdown(std::future::pending())
        .listen()
        .unwrap();
    let addr = listening.local_addr();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(listening.serve(App::default()))
    });

    // An answered request shows the accept loop runs (and holds its reserve).
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(stream);

    // A low soft limit makes using up the descriptors quick.
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: `limit` is a valid `rlimit` for both calls.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        limit.rlim_cur = 256;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
    }
    let mut files = Vec::new();
    let mut fill = || loop {
        match std::fs::File::open("/dev/null") {
            Ok(file) => files.push(file),
            Err(err) => break err,
        }
    };
    fill();
    // The server may still have been closing the connection above: take
    // its descriptor too once it is free.
    std::thread::sleep(Duration::from_millis(200));
    let err = fill();
    assert_eq!(err.raw_os_error(), Some(libc::EMFILE), "{err}");
    println!("\n{STARVED}{addr}");

    let mut stdin = std::io::stdin().lock();
    let mut line = String::new();
    stdin.read_line(&mut line).unwrap();
    drop(files);
    println!("\n{FREED}");
    while stdin.read_line(&mut line).unwrap() != 0 {}
}
