//! Graceful shutdown: in-flight requests finish, idle connections close,
//! the deadline holds, and `serve` returns `Ok(())`.

use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use crate::support::{App, H1, H2, TestServer, bounded, entered};

#[tokio::test]
async fn shutdown_drains_an_in_flight_request_and_returns_ok() {
    let app = App::default();
    let started = app.entered.clone();
    let mut server = TestServer::start(|s| s.shutdown_timeout(Duration::from_secs(10)), app);

    let mut idle = H1::connect(server.addr).await;
    assert_eq!(idle.get("/hello").await.body, "hello");
    let mut idle_h2 = H2::connect(server.addr).await;
    assert_eq!(idle_h2.get("/hello").await.body, "hello");

    let mut busy = H1::connect(server.addr).await;
    let slow = tokio::spawn(async move { busy.get("/slow?ms=600").await });
    entered(&started).await;

    let begun = Instant::now();
    server.trigger_stop();
    // No new connections once shutdown started.
    let refused = async {
        loop {
            match TcpStream::connect(server.addr).await {
                Err(_) => return,
                Ok(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    };
    bounded(refused).await;
    assert!(!server.is_finished(), "serve returned with a request in flight");

    let answer = bounded(slow).await.unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, "slow done");
    server.join().await.unwrap();
    let took = begun.elapsed();
    // The idle connections did not hold the shutdown up to its deadline.
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
    assert!(idle.try_get("/hello").await.is_err() || idle.is_closed());
    assert!(idle_h2.is_closed().await);
}

#[tokio::test]
async fn shutdown_gives_up_on_requests_at_the_deadline() {
    let app = App::default();
    let started = app.entered.clone();
    let mut server = TestServer::start(|s| s.shutdown_timeout(Duration::from_millis(200)), app);
    let mut stuck = H1::connect(server.addr).await;
    let request = tokio::spawn(async move { stuck.try_get("/wait").await });
    entered(&started).await;

    let begun = Instant::now();
    server.trigger_stop();
    server.join().await.unwrap();
    let took = begun.elapsed();
    assert!(took >= Duration::from_millis(150), "returned before the deadline: {took:?}");
    assert!(took < Duration::from_secs(3), "shutdown took {took:?}");
    assert!(
        bounded(request).await.unwrap().is_err(),
        "the stuck request cannot have been answered"
    );
}

#[tokio::test]
async fn dropping_serve_stops_the_server() {
    let listening = mambo::Server::bind("127.0.0.1:0")
        .with_graceful_shutdown(std::future::pending())
        .listen()
        .unwrap();
    let addr = listening.local_addr();
    let task = tokio::spawn(listening.serve(App::default()));
    let mut client = H1::connect(addr).await;
    assert_eq!(client.get("/hello").await.body, "hello");
    task.abort();
    let _ = task.await;
    let closed = async {
        while client.try_get("/hello").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    bounded(closed).await;
}

/// Waits until the server at `addr` refuses connections: its listener is
/// closed, so the shutdown has begun.
async fn until_refused(addr: std::net::SocketAddr) {
    bounded(async {
        while TcpStream::connect(addr).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_keep_alive_client_between_two_requests_gets_its_next_answer_with_connection_close() {
    // Closing this connection the moment the shutdown starts would reset
    // the request the client sends next; instead it is answered, and the
    // answer says the connection ends.
    let mut server = TestServer::start(|s| s, App::default());
    let mut client = H1::connect(server.addr).await;
    assert!(!client.get("/hello").await.headers.contains_key("connection"));
    server.trigger_stop();
    until_refused(server.addr).await;
    let answer = client.get("/hello").await;
    assert_eq!((answer.status.as_u16(), answer.body.as_str()), (200, "hello"));
    assert_eq!(answer.headers["connection"], "close");
    server.join().await.unwrap();
    assert!(client.is_closed());
}

#[tokio::test]
async fn a_quiet_keep_alive_connection_is_closed_soon_after_the_shutdown_starts() {
    let mut server = TestServer::start(|s| s, App::default());
    let mut quiet = H1::connect(server.addr).await;
    assert_eq!(quiet.get("/hello").await.body, "hello");
    let begun = Instant::now();
    server.trigger_stop();
    server.join().await.unwrap();
    // Left half a second for a last request, closed at that tick, gone at
    // the next one (at most a second later with the default timeouts).
    let took = begun.elapsed();
    assert!(took >= Duration::from_millis(400), "no linger: {took:?}");
    assert!(took < Duration::from_secs(3), "shutdown took {took:?}");
    assert!(quiet.is_closed() || quiet.try_get("/hello").await.is_err());
}

#[tokio::test]
async fn connections_still_in_the_accept_queue_when_the_shutdown_starts_are_answered() {
    use std::io::{Read, Write};

    let mut server = TestServer::start(|s| s, App::default());
    // Once this is answered, `serve` is waiting for connections.
    assert_eq!(H1::connect(server.addr).await.get("/hello").await.body, "hello");
    // Connected and sent without yielding to the runtime: the server has not
    // accepted them (it has not run since) when it is told to stop.
    let waiting: Vec<std::net::TcpStream> = (0..8)
        .map(|_| {
            let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
            stream.write_all(b"GET /hello HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
            stream.set_read_timeout(Some(crate::support::STEP)).unwrap();
            stream
        })
        .collect();
    server.trigger_stop();
    server.join().await.unwrap();
    for mut stream in waiting {
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("a queued connection was reset");
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        assert!(answer.contains("connection: close"), "{answer}");
    }
}
