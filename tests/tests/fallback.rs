//! Fallbacks (`#[fallback]`, `fallback:`): what answers the requests no
//! route matches, per router and per scope, innermost first, inside the
//! scope's middleware; 405s and trailing-slash redirects stay as they are.

use mambo::middleware::{Flow, Middleware};
use mambo::prelude::*;
use mambo::test::TestClient;
use mambo::{Method, Uri};
use mambo_tests::trace::Trace;

/// The order middleware runs in, per test (by `x-trace` value).
static TRACE: Trace = Trace::new();

fn trace<S>(cx: &RequestContext<'_, S>, event: String) {
    TRACE.record(cx, event);
}

fn traced(test: &str) -> Vec<String> {
    TRACE.of(test)
}

macro_rules! tracing_middleware {
    ($($name:ident),*) => {$(
        #[derive(Default)]
        struct $name;

        impl<S: Sync> Middleware<S> for $name {
            type Local = ();

            async fn before(&self, cx: &mut RequestContext<'_, S>, _: &mut ()) -> Flow {
                let route = cx.route().map_or("no route", |route| route.pattern);
                trace(cx, format!("{} before ({route})", stringify!($name)));
                Flow::Continue
            }

            async fn after(&self, cx: &RequestContext<'_, S>, _: &mut (), _: &mut Response) {
                trace(cx, format!("{} after", stringify!($name)));
            }
        }
    )*};
}

tracing_middleware!(Global, Api, V2, Users, UsersChild);

#[derive(Clone)]
struct AppState {
    name: &'static str,
}

#[route(GET "/")]
fn home() -> &'static str {
    "home"
}

#[route(GET "/users")]
fn users() -> &'static str {
    "users"
}

#[route(GET "/things/:id")]
fn thing(id: u64) -> String {
    format!("thing {id}")
}

#[route(GET "/docs/")]
fn docs() -> &'static str {
    "docs"
}

/// The single-page app's page, for every path nothing else takes.
#[fallback]
fn spa(uri: Uri, State(state): State<AppState>) -> Html<String> {
    Html(format!("<app name={} path={}>", state.name, uri.path()))
}

#[fallback]
async fn api_not_found(method: Method, uri: Uri) -> (StatusCode, String) {
    (StatusCode::NOT_FOUND, format!("api: no {method} {}", uri.path()))
}

/// Takes the body, as the last extractor of a route would.
#[fallback]
async fn v2_not_found(uri: Uri, body: String) -> (StatusCode, String) {
    (StatusCode::NOT_FOUND, format!("v2: no {} ({body})", uri.path()))
}

#[fallback]
fn org_not_found(uri: Uri) -> String {
    format!("org: {}", uri.path())
}

#[fallback]
async fn exploding() -> &'static str {
    panic!("fallback exploded")
}

mod accounts {
    use mambo::prelude::*;

    #[route(GET "/:id")]
    fn account(id: u64) -> String {
        format!("account {id}")
    }

    #[fallback]
    fn missing(uri: mambo::Uri) -> (StatusCode, String) {
        (StatusCode::NOT_FOUND, format!("accounts: no {}", uri.path()))
    }

    mambo::router! {
        pub struct Accounts {
            middleware: [super::UsersChild],
            routes: [account],
            fallback: missing,
        }
    }
}

mambo::router! {
    struct App {
        state: AppState,
        middleware: [Global],
        routes: [home],
        fallback: spa,
        scope "/api" {
            middleware: [Api],
            routes: [users, thing],
            fallback: api_not_found,
            scope "/v2" {
                middleware: [V2],
                routes: [docs],
                fallback: v2_not_found,
            },
        },
        scope "/orgs/:org" {
            fallback: org_not_found,
        },
        scope "/boom" {
            fallback: exploding,
        },
        scope "/accounts" {
            middleware: [Users],
            mount: accounts::Accounts,
            // The mounted router's own fallback answers under its prefix first.
            fallback: api_not_found,
        },
    }
}

mambo::router! {
    struct Redirecting {
        trailing_slash: redirect,
        routes: [users, docs],
        fallback: org_not_found,
    }
}

// A router of nothing but a fallback.
mambo::router! {
    struct OnlyFallback {
        fallback: org_not_found,
    }
}

// A mounted router's fallback under a prefix with a parameter.
mambo::router! {
    struct OrgAccounts {
        scope "/orgs/:org/accounts" {
            mount: accounts::Accounts,
        },
    }
}

fn client() -> TestClient<App> {
    TestClient::new(App::new(AppState { name: "demo" }))
}

#[tokio::test]
async fn the_router_fallback_answers_what_no_route_matches() {
    let client = client();
    assert_eq!(client.get("/").send().await.text(), "home");
    let response = client.get("/settings/profile").send().await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(response.text(), "<app name=demo path=/settings/profile>");
    assert_eq!(client.post("/anything").send().await.text(), "<app name=demo path=/anything>");
    let head = client.head("/settings").send().await;
    assert_eq!((head.status(), head.bytes().len()), (StatusCode::OK, 0), "HEAD drops the body");
}

#[tokio::test]
async fn the_innermost_scope_whose_prefix_matches_wins() {
    let client = client();
    let rows = [
        ("/api/nope", "api: no GET /api/nope"),
        ("/api", "api: no GET /api"),
        ("/api/", "api: no GET /api/"),
        ("/api/users/7", "api: no GET /api/users/7"),
        ("/api/v2/x/y", "v2: no /api/v2/x/y ()"),
        ("/api/v2", "v2: no /api/v2 ()"),
        ("/api/v2x", "api: no GET /api/v2x"),
        ("/apix", "<app name=demo path=/apix>"),
        ("/orgs/rust/nope", "org: /orgs/rust/nope"),
        ("/orgs/rust", "org: /orgs/rust"),
        ("/orgs", "<app name=demo path=/orgs>"),
        ("/orgs/", "<app name=demo path=/orgs/>"),
    ];
    for (path, expected) in rows {
        assert_eq!(client.get(path).send().await.text(), expected, "{path}");
    }
    let response = client.put("/api/v2/upload").body("data").send().await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.text(), "v2: no /api/v2/upload (data)", "a fallback can read the body");
}

#[tokio::test]
async fn a_405_stays_a_405_and_a_redirect_a_redirect() {
    let client = client();
    let response = client.post("/api/users").send().await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.header("allow"), Some("GET, HEAD, OPTIONS"));
    assert_eq!(client.options("/api/users").send().await.status(), StatusCode::NO_CONTENT);
    let response = client.get("/api/things/x").send().await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "a matched route's bad parameter");

    let redirecting = TestClient::new(Redirecting::new());
    let response = redirecting.get("/users/").send().await;
    assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(response.header("location"), Some("/users"));
    assert_eq!(redirecting.get("/docs").send().await.header("location"), Some("/docs/"));
    assert_eq!(redirecting.get("/elsewhere").send().await.text(), "org: /elsewhere");
}

#[tokio::test]
async fn a_fallback_runs_inside_its_scopes_middleware() {
    let client = client();
    client.get("/api/v2/nope").header("x-trace", "scoped").send().await;
    assert_eq!(
        traced("scoped"),
        [
            "Global before (no route)",
            "Api before (no route)",
            "V2 before (no route)",
            "V2 after",
            "Api after",
            "Global after",
        ]
    );
    client.get("/elsewhere").header("x-trace", "root").send().await;
    assert_eq!(traced("root"), ["Global before (no route)", "Global after"]);
}

#[tokio::test]
async fn a_panicking_fallback_is_a_500() {
    let client = client();
    let response = client.get("/boom/x").send().await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(client.get("/boom").send().await.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(client.get("/").send().await.text(), "home", "the router lives on");
}

#[tokio::test]
async fn a_mounted_routers_fallback_answers_under_its_prefix() {
    let client = client();
    assert_eq!(client.get("/accounts/7").send().await.text(), "account 7");
    let response = client.get("/accounts/7/x").header("x-trace", "mounted").send().await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.text(), "accounts: no /accounts/7/x");
    assert_eq!(
        traced("mounted"),
        [
            "Global before (no route)",
            "Users before (no route)",
            "UsersChild before (no route)",
            "UsersChild after",
            "Users after",
            "Global after",
        ]
    );
    assert_eq!(client.get("/accounts").send().await.text(), "accounts: no /accounts");

    let alone = TestClient::new(accounts::Accounts::new());
    assert_eq!(alone.get("/7/x").send().await.text(), "accounts: no /7/x");
}

#[tokio::test]
async fn a_router_may_be_nothing_but_a_fallback() {
    let client = TestClient::new(OnlyFallback::new());
    assert!(OnlyFallback::ROUTES.is_empty());
    assert_eq!(client.get("/").send().await.text(), "org: /");
    assert_eq!(client.delete("/a/b").send().await.text(), "org: /a/b");
}

#[tokio::test]
async fn a_mounted_fallback_under_a_prefix_with_a_parameter() {
    let client = TestClient::new(OrgAccounts::new());
    assert_eq!(client.get("/orgs/rust/accounts/7").send().await.text(), "account 7");
    assert_eq!(
        client.get("/orgs/rust/accounts/7/x").send().await.text(),
        "accounts: no /orgs/rust/accounts/7/x"
    );
    let response = client.get("/orgs/rust/elsewhere").send().await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.header("content-type"), Some("application/json"), "the JSON 404");
}
