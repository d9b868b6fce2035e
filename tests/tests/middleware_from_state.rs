//! Middleware and layers built from the router's state: the expressions in
//! `middleware: [..]` may use `state` (the argument of `new`) by reference.

use mambo::middleware::Cors;
use mambo::prelude::*;
use mambo::test::TestClient;

/// The site's configuration.
struct Config {
    origin: String,
    frame_options: &'static str,
}

#[route(GET "/")]
async fn index(State(config): State<std::sync::Arc<Config>>) -> String {
    config.origin.clone()
}

mambo::router! {
    struct Site {
        state: std::sync::Arc<Config>,
        middleware: [
            Cors = Cors::new().allow_origin(&state.origin),
            layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
                http::header::X_FRAME_OPTIONS,
                http::HeaderValue::from_static(state.frame_options),
            )),
        ],
        routes: [index],
    }
}

#[tokio::test]
async fn middleware_and_layers_read_the_state_they_are_built_with() {
    let config = Config { origin: "https://app.example".into(), frame_options: "DENY" };
    let client = TestClient::new(Site::new(std::sync::Arc::new(config)));
    let allowed = client.get("/").header("origin", "https://app.example").send().await;
    assert_eq!(allowed.header("access-control-allow-origin"), Some("https://app.example"));
    assert_eq!(allowed.header("x-frame-options"), Some("DENY"));
    let other = client.get("/").header("origin", "https://evil.example").send().await;
    assert_eq!(other.header("access-control-allow-origin"), None);
    assert_eq!(other.text(), "https://app.example");
}
