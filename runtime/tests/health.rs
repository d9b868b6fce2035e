//! Liveness and readiness (`mambo::observe::health`) through `#[route]`
//! handlers over real sockets, and readiness during a graceful shutdown
//! with a shutdown delay.

#[allow(dead_code)]
#[path = "dispatch/support.rs"]
mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mambo::observe::health::Health;
use mambo::prelude::*;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::support::{Raw, TestServer, bounded, exchange};

#[route(GET "/healthz")]
async fn healthz(State(health): State<Health>) -> Response {
    health.live()
}

#[route(GET "/readyz")]
async fn readyz(State(health): State<Health>) -> Response {
    health.ready().await
}

#[route(GET "/hello")]
async fn hello() -> &'static str {
    "hello"
}

mambo::router! {
    struct Api {
        state: Health,
        routes: [healthz, readyz, hello],
    }
}

async fn get(addr: SocketAddr, path: &str) -> Raw {
    let request = format!("GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n");
    exchange(addr, request.as_bytes()).await
}

fn body(response: &Raw) -> Value {
    serde_json::from_slice(&response.body)
        .unwrap_or_else(|err| panic!("{err}: {}", String::from_utf8_lossy(&response.body)))
}

fn ok_check() -> impl Fn() -> std::future::Ready<Result<(), String>> + Send + Sync + 'static {
    || std::future::ready(Ok(()))
}

#[tokio::test]
async fn live_and_ready_answer_200_when_every_check_passes() {
    let health = Health::new().check("database", Duration::from_secs(1), ok_check()).check(
        "cache",
        Duration::from_secs(1),
        ok_check(),
    );
    let server = TestServer::start(|s| s, Api::new(health));

    let live = get(server.addr, "/healthz").await;
    assert_eq!(live.status(), 200, "{}", live.head);
    assert_eq!(live.header("content-type"), Some("application/json"));
    assert_eq!(live.header("cache-control"), Some("no-store"));
    assert_eq!(body(&live), json!({"status": "ok"}));

    let ready = get(server.addr, "/readyz").await;
    assert_eq!(ready.status(), 200, "{}", ready.head);
    assert_eq!(ready.header("cache-control"), Some("no-store"));
    let ready = body(&ready);
    assert_eq!(ready["status"], "ok");
    assert_eq!(ready["checks"]["database"]["status"], "ok");
    assert_eq!(ready["checks"]["cache"]["status"], "ok");
    assert!(ready.get("code").is_none(), "{ready}");
}

#[tokio::test]
async fn a_failing_check_is_a_503_naming_it() {
    let health = Health::new().check("database", Duration::from_secs(1), ok_check()).check(
        "queue",
        Duration::from_secs(1),
        || async { Err::<(), _>(std::io::Error::other("connection refused")) },
    );
    let server = TestServer::start(|s| s, Api::new(health));

    let ready = get(server.addr, "/readyz").await;
    assert_eq!(ready.status(), 503, "{}", ready.head);
    let ready = body(&ready);
    assert_eq!(ready["status"], "not_ready");
    assert_eq!(ready["code"], 50304);
    assert_eq!(ready["message"], "not ready: queue failed");
    assert_eq!(ready["checks"]["queue"]["status"], "failed");
    assert_eq!(ready["checks"]["database"]["status"], "ok");
    // The error text is logged, not shown to whoever can reach the probe.
    assert!(!ready.to_string().contains("connection refused"), "{ready}");

    // Liveness does not depend on the checks.
    assert_eq!(get(server.addr, "/healthz").await.status(), 200);
}

#[tokio::test]
async fn a_check_that_hangs_is_a_503_within_its_timeout() {
    let timeout = Duration::from_millis(300);
    let health = Health::new().check("database", Duration::from_secs(1), ok_check()).check(
        "upstream",
        timeout,
        std::future::pending::<Result<(), String>>,
    );
    let server = TestServer::start(|s| s, Api::new(health));

    let started = Instant::now();
    let ready = get(server.addr, "/readyz").await;
    let took = started.elapsed();
    assert_eq!(ready.status(), 503, "{}", ready.head);
    assert!(took >= timeout, "answered before the check's timeout: {took:?}");
    assert!(took < Duration::from_secs(2), "the probe hung: {took:?}");
    let ready = body(&ready);
    assert_eq!(ready["message"], "not ready: upstream timed out");
    assert_eq!(ready["checks"]["upstream"]["status"], "timed_out");
    assert_eq!(ready["checks"]["database"]["status"], "ok");
}

#[tokio::test]
async fn warming_up_is_a_503_until_set_ready() {
    let health = Health::new();
    health.set_ready(false);
    let server = TestServer::start(|s| s, Api::new(health.clone()));
    let ready = get(server.addr, "/readyz").await;
    assert_eq!(ready.status(), 503);
    assert_eq!(body(&ready)["message"], "not ready: warming up");
    health.set_ready(true);
    assert_eq!(get(server.addr, "/readyz").await.status(), 200);
}

#[tokio::test]
async fn readiness_is_503_during_the_shutdown_delay_while_routes_still_answer() {
    let delay = Duration::from_millis(800);
    let health = Health::new().check("database", Duration::from_secs(1), ok_check());
    let (stop, stopped) = oneshot::channel::<()>();
    let listening = mambo::Server::bind("127.0.0.1:0")
        .health(&health)
        .shutdown_delay(delay)
        .shutdown_timeout(Duration::from_secs(5))
        .with_graceful_shutdown(async {
            stopped.await.ok();
        })
        .listen()
        .unwrap();
    let addr = listening.local_addr();
    let serving = tokio::spawn(listening.serve(Api::new(health.clone())));

    assert_eq!(get(addr, "/readyz").await.status(), 200);
    let triggered = Instant::now();
    stop.send(()).unwrap();
    // The trigger reaches the server on its next poll.
    let ready = bounded(async {
        loop {
            let ready = get(addr, "/readyz").await;
            if ready.status() != 200 {
                return ready;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert_eq!(ready.status(), 503, "{}", ready.head);
    assert_eq!(
        body(&ready),
        json!({"status": "shutting_down", "code": 50305, "message": "shutting down", "checks": {}})
    );
    assert!(health.is_shutting_down());

    // Still accepting new connections, and serving them as usual.
    let hello = get(addr, "/hello").await;
    assert!(triggered.elapsed() < delay, "the test was too slow to check within the delay");
    assert_eq!(hello.status(), 200, "{}", hello.head);
    assert_eq!(hello.body, b"hello");
    assert_eq!(get(addr, "/healthz").await.status(), 200);

    // Then the server drains and stops.
    bounded(serving).await.unwrap().unwrap();
    assert!(triggered.elapsed() >= delay, "stopped before the delay: {:?}", triggered.elapsed());
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "still listening");
}

#[tokio::test]
async fn without_a_delay_readiness_turns_503_and_the_server_stops_at_once() {
    let health = Health::new();
    let (stop, stopped) = oneshot::channel::<()>();
    let listening = mambo::Server::bind("127.0.0.1:0")
        .health(&health)
        .with_graceful_shutdown(async {
            stopped.await.ok();
        })
        .listen()
        .unwrap();
    let serving = tokio::spawn(listening.serve(Api::new(health.clone())));
    let triggered = Instant::now();
    stop.send(()).unwrap();
    bounded(serving).await.unwrap().unwrap();
    assert!(triggered.elapsed() < Duration::from_secs(2), "{:?}", triggered.elapsed());
    assert!(health.is_shutting_down());
    assert_eq!(health.ready().await.status(), 503);
}
