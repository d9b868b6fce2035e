//! `TestClient::with_server_limits`: in-process tests see the body limit and
//! the handler deadline the server gives routes that set none.

use std::time::Duration;

use mambo::prelude::*;
use mambo::test::TestClient;

#[route(POST "/default")]
async fn default_limit(body: String) -> String {
    body.len().to_string()
}

#[route(POST "/own", body_limit = "64")]
async fn own_limit(body: String) -> String {
    body.len().to_string()
}

#[route(GET "/sleep")]
async fn sleep() -> &'static str {
    tokio::time::sleep(Duration::from_millis(300)).await;
    "woke"
}

#[route(GET "/patient", timeout = "2s")]
async fn patient() -> &'static str {
    tokio::time::sleep(Duration::from_millis(300)).await;
    "woke"
}

mambo::router! {
    struct App {
        routes: [default_limit, own_limit, sleep, patient],
    }
}

fn server() -> mambo::Server {
    mambo::Server::bind("127.0.0.1:0").body_limit(16).request_timeout(Duration::from_millis(50))
}

#[tokio::test]
async fn routes_without_a_limit_get_the_servers() {
    let body = "x".repeat(32);
    let plain = TestClient::new(App::new());
    assert_eq!(plain.post("/default").body(body.clone()).send().await.text(), "32");

    let client = TestClient::new(App::new()).with_server_limits(&server());
    let response = client.post("/default").body(body.clone()).send().await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let error: serde_json::Value = response.json();
    assert_eq!(error["code"], 41300);
    assert!(error["message"].as_str().unwrap().contains("16 bytes"), "{error}");

    assert_eq!(
        client.post("/own").body(body).send().await.text(),
        "32",
        "the route's own limit wins"
    );
}

#[tokio::test]
async fn routes_without_a_timeout_get_the_servers() {
    let plain = TestClient::new(App::new());
    assert_eq!(plain.get("/sleep").send().await.text(), "woke");

    let client = TestClient::new(App::new()).with_server_limits(&server());
    let response = client.get("/sleep").send().await;
    assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(response.json::<serde_json::Value>()["code"], 50400);

    assert_eq!(client.get("/patient").send().await.text(), "woke", "the route's own timeout wins");

    let unlimited = mambo::Server::bind("127.0.0.1:0").request_timeout(None);
    let client = TestClient::new(App::new()).with_server_limits(&unlimited);
    assert_eq!(client.get("/sleep").send().await.text(), "woke");
}
