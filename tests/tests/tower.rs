//! Tower layers and services inside Mambo routers.

use mambo::prelude::*;
use mambo::test::TestClient;
use tower_http::set_header::SetResponseHeaderLayer;

#[route(GET "/hello")]
async fn hello() -> &'static str {
    "hello"
}

mambo::router! {
    struct Layered {
        middleware: [layer(SetResponseHeaderLayer::overriding(
            http::header::HeaderName::from_static("x-layer"),
            http::HeaderValue::from_static("yes"),
        ))],
        routes: [hello],
    }
}

#[tokio::test]
async fn a_router_level_layer_wraps_routes_and_misses() {
    let client = TestClient::new(Layered::new());
    let response = client.get("/hello").send().await;
    assert_eq!(response.text(), "hello");
    assert_eq!(response.header("x-layer"), Some("yes"));
    let response = client.get("/nope").send().await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.header("x-layer"), Some("yes"));
}
