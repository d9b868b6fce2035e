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
