//! `RateLimit` through real `router!` dispatch: bursts, 429 + `Retry-After`,
//! recovery, independent keys, scopes, proxies; and once over a socket.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mambo::middleware::{HeaderKey, KeyFn, Quota, RateLimit, nonzero};
use mambo::prelude::*;
use mambo::test::{TestClient, TestResponse};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How many times `hit` ran, to show a 429 never reached it; only one test
/// calls it.
static HITS: AtomicUsize = AtomicUsize::new(0);

#[route(GET "/hit")]
fn hit() -> &'static str {
    HITS.fetch_add(1, Ordering::SeqCst);
    "hit"
}

#[route(GET "/open")]
fn open() -> &'static str {
    "open"
}

#[route(GET "/")]
fn index() -> &'static str {
    "index"
}

/// Burst 3, one more every 20 s: a fourth request waits 20 s.
fn three_then_every_20s() -> Quota {
    Quota::with_period(Duration::from_secs(20)).unwrap().allow_burst(nonzero!(3u32))
}

/// Burst 2, one more every 200 ms: short enough to wait for, long enough
/// that a loaded machine does not refill a second one by accident.
fn two_then_every_200ms() -> Quota {
    Quota::with_period(Duration::from_millis(200)).unwrap().allow_burst(nonzero!(2u32))
}

mambo::router! {
    struct Counted {
        middleware: [RateLimit = RateLimit::per_client_ip(three_then_every_20s())],
        routes: [hit],
    }
}

mambo::router! {
    struct PerIp {
        middleware: [RateLimit = RateLimit::per_client_ip(three_then_every_20s())],
        routes: [open],
    }
}

mambo::router! {
    struct Fast {
        middleware: [RateLimit = RateLimit::per_client_ip(two_then_every_200ms())],
        routes: [open],
    }
}

mambo::router! {
    struct Scoped {
        routes: [open],
        scope "/limited" {
            middleware: [RateLimit = RateLimit::per_client_ip(three_then_every_20s())],
            routes: [index],
        },
    }
}

mambo::router! {
    struct BehindProxy {
        middleware: [
            RateLimit = RateLimit::per_client_ip(three_then_every_20s())
                .trust_forwarded_from(["10.0.0.0/8"]),
        ],
        routes: [open],
    }
}

mambo::router! {
    struct PerApiKey {
        middleware: [RateLimit<HeaderKey> = RateLimit::per_header(three_then_every_20s(), "x-api-key")],
        routes: [open],
    }
}

/// Accounts listed in the state are limited; the rest are not.
struct Accounts {
    limited: &'static [&'static str],
}

mambo::router! {
    struct PerAccount {
        state: Accounts,
        middleware: [
            RateLimit<KeyFn<Accounts>> = RateLimit::per_key(three_then_every_20s(), |cx: &RequestContext<'_, Accounts>| {
                let account = cx.headers().get("x-account")?.to_str().ok()?;
                cx.state().limited.contains(&account).then(|| account.to_owned())
            }),
        ],
        routes: [open],
    }
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

async fn get_from<R: Router>(client: &TestClient<R>, path: &str, from: &str) -> TestResponse {
    client.get(path).remote_addr(addr(from)).send().await
}

fn assert_limited(response: &TestResponse, retry_after: &str) {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "{}", response.text());
    assert_eq!(response.header("retry-after"), Some(retry_after));
    let body: serde_json::Value = response.json();
    assert_eq!(body["code"], 42900);
    assert_eq!(body["message"], format!("too many requests: retry in {retry_after} s"));
}

#[tokio::test]
async fn a_burst_passes_then_429_with_retry_after_and_the_json_body() {
    let client = TestClient::new(Counted::new());
    let before = HITS.load(Ordering::SeqCst);
    for i in 0..3 {
        let response = get_from(&client, "/hit", "203.0.113.1:1000").await;
        assert_eq!(response.status(), StatusCode::OK, "request {i} of the burst");
    }
    // 20 s minus the few microseconds since the burst, rounded up.
    assert_limited(&get_from(&client, "/hit", "203.0.113.1:1000").await, "20");
    assert_limited(&get_from(&client, "/hit", "203.0.113.1:2000").await, "20");
    assert_eq!(HITS.load(Ordering::SeqCst) - before, 3, "429s never reach the handler");
}

#[tokio::test]
async fn a_limited_client_recovers_once_the_wait_is_over() {
    let client = TestClient::new(Fast::new());
    let from = "203.0.113.2:1000";
    assert_eq!(get_from(&client, "/open", from).await.status(), StatusCode::OK);
    assert_eq!(get_from(&client, "/open", from).await.status(), StatusCode::OK);
    assert_limited(&get_from(&client, "/open", from).await, "1");
    // One request is back after 200 ms, the second one after 400 ms.
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(get_from(&client, "/open", from).await.status(), StatusCode::OK, "recovered");
    assert_eq!(
        get_from(&client, "/open", from).await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "one request came back, not the whole burst"
    );
}

#[tokio::test]
async fn two_clients_are_limited_independently() {
    let client = TestClient::new(PerIp::new());
    for _ in 0..3 {
        get_from(&client, "/open", "203.0.113.3:1000").await;
    }
    assert_limited(&get_from(&client, "/open", "203.0.113.3:1000").await, "20");
    for i in 0..3 {
        let response = get_from(&client, "/open", "203.0.113.4:1000").await;
        assert_eq!(response.status(), StatusCode::OK, "request {i} of the second client");
    }
    assert_eq!(
        get_from(&client, "/open", "[2001:db8::3]:1000").await.status(),
        StatusCode::OK,
        "an IPv6 client has its own quota"
    );
    assert_limited(&get_from(&client, "/open", "203.0.113.4:1000").await, "20");
}

#[tokio::test]
async fn a_scope_limiter_leaves_other_routes_alone() {
    let client = TestClient::new(Scoped::new());
    let from = "203.0.113.5:1000";
    for _ in 0..10 {
        assert_eq!(get_from(&client, "/open", from).await.status(), StatusCode::OK);
    }
    for i in 0..3 {
        let response = get_from(&client, "/limited", from).await;
        assert_eq!(response.status(), StatusCode::OK, "request {i}: /open did not count here");
    }
    assert_limited(&get_from(&client, "/limited", from).await, "20");
    assert_eq!(get_from(&client, "/open", from).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn behind_a_trusted_proxy_clients_are_told_apart_by_x_forwarded_for() {
    let client = TestClient::new(BehindProxy::new());
    let via_proxy = |xff: &'static str| {
        client.get("/open").remote_addr(addr("10.0.0.1:1000")).header("x-forwarded-for", xff)
    };
    for _ in 0..3 {
        assert_eq!(via_proxy("203.0.113.6").send().await.status(), StatusCode::OK);
    }
    assert_limited(&via_proxy("203.0.113.6").send().await, "20");
    // The same client's own spoofed entries, left of the proxy's, do not help.
    assert_limited(&via_proxy("1.1.1.1, 203.0.113.6").send().await, "20");
    assert_eq!(via_proxy("203.0.113.7").send().await.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_untrusted_peer_cannot_pick_its_key_with_x_forwarded_for() {
    let client = TestClient::new(BehindProxy::new());
    let spoofed = ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"];
    let mut statuses = Vec::new();
    for fake in spoofed {
        let request = client
            .get("/open")
            .remote_addr(addr("198.51.100.1:1000"))
            .header("x-forwarded-for", fake);
        statuses.push(request.send().await.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
}

#[tokio::test]
async fn a_header_limiter_counts_per_value_and_skips_requests_without_it() {
    let client = TestClient::new(PerApiKey::new());
    let with_key = |key: &'static str| client.get("/open").header("x-api-key", key);
    for _ in 0..3 {
        assert_eq!(with_key("a").send().await.status(), StatusCode::OK);
    }
    assert_limited(&with_key("a").send().await, "20");
    assert_eq!(with_key("b").send().await.status(), StatusCode::OK);
    for _ in 0..5 {
        assert_eq!(client.get("/open").send().await.status(), StatusCode::OK, "no key, no limit");
    }
}

#[tokio::test]
async fn a_key_function_reads_the_request_and_the_state() {
    let client = TestClient::new(PerAccount::new(Accounts { limited: &["free"] }));
    let as_account = |account: &'static str| client.get("/open").header("x-account", account);
    for _ in 0..3 {
        assert_eq!(as_account("free").send().await.status(), StatusCode::OK);
    }
    assert_limited(&as_account("free").send().await, "20");
    for _ in 0..5 {
        assert_eq!(as_account("paid").send().await.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn requests_without_a_peer_address_are_not_limited() {
    let client = TestClient::new(PerIp::new());
    for _ in 0..5 {
        assert_eq!(client.get("/open").send().await.status(), StatusCode::OK);
    }
}

/// One `GET` on a new connection; the status line and headers.
async fn raw_get(server: SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(server).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test]
async fn over_a_socket_the_peer_address_is_the_key() {
    let listening = mambo::Server::bind("127.0.0.1:0").listen().unwrap();
    let server = listening.local_addr();
    let task = tokio::spawn(listening.serve(PerIp::new()));
    let steps = async {
        for _ in 0..3 {
            assert!(raw_get(server, "/open").await.starts_with("HTTP/1.1 200 "));
        }
        let limited = raw_get(server, "/open").await;
        assert!(limited.starts_with("HTTP/1.1 429 "), "{limited}");
        assert!(limited.contains("retry-after: 20\r\n"), "{limited}");
        assert!(limited.contains(r#"{"code":42900,"#), "{limited}");
    };
    tokio::time::timeout(Duration::from_secs(10), steps).await.expect("the test timed out");
    task.abort();
}
