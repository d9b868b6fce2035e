//! `Extension<T>`: data a middleware hands to the handlers after it.

use mambo::extract::Extension;
use mambo::prelude::*;
use mambo::test::TestClient;

/// The tenant a request is for, from `x-tenant`.
#[derive(Clone)]
struct Tenant(String);

/// Inserts a [`Tenant`] when the request names one; never answers early.
#[derive(Default)]
struct ResolveTenant;

impl<S: Sync> Middleware<S> for ResolveTenant {
    type Local = ();

    async fn before(&self, cx: &mut RequestContext<'_, S>, _: &mut ()) -> Flow {
        let tenant = cx.headers().get("x-tenant").and_then(|v| v.to_str().ok()).map(str::to_owned);
        if let Some(tenant) = tenant {
            cx.extensions_mut().insert(Tenant(tenant));
        }
        Flow::Continue
    }
}

#[route(GET "/tenant")]
async fn tenant(Extension(tenant): Extension<Tenant>) -> String {
    tenant.0
}

#[route(GET "/maybe")]
async fn maybe(tenant: Option<Extension<Tenant>>) -> String {
    tenant.map_or_else(|| "none".to_owned(), |Extension(tenant)| tenant.0)
}

#[route(GET "/outside")]
async fn outside(Extension(tenant): Extension<Tenant>) -> String {
    tenant.0
}

mambo::router! {
    struct App {
        routes: [outside],
        scope "/t" {
            middleware: [ResolveTenant],
            routes: [tenant, maybe],
        },
    }
}

#[tokio::test]
async fn the_handler_gets_what_the_middleware_inserted() {
    let client = TestClient::new(App::new());
    let response = client.get("/t/tenant").header("x-tenant", "acme").send().await;
    assert_eq!((response.status(), response.text()), (StatusCode::OK, "acme"));
    assert_eq!(client.get("/t/maybe").header("x-tenant", "acme").send().await.text(), "acme");
    assert_eq!(client.get("/t/maybe").send().await.text(), "none");
}

#[tokio::test]
async fn missing_is_a_500_naming_the_type_and_the_middleware() {
    let client = TestClient::new(App::new());
    for path in ["/t/tenant", "/outside"] {
        let response = client.get(path).send().await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR, "{path}");
        let body: serde_json::Value = response.json();
        assert_eq!(body["code"], 50004, "{body}");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains("Tenant"), "{message}");
        assert!(message.contains("middleware"), "{message}");
    }
}
