//! Dispatch through the real generated code, in process: misses, 405 and
//! `Allow`, `HEAD`, `OPTIONS`, trailing slashes, parameters, catch-alls,
//! extractors, middleware order, scopes, panics and deadlines.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use mambo::middleware::{Flow, Middleware};
use mambo::prelude::*;
use mambo::test::TestClient;
use serde::{Deserialize, Serialize};

#[route(GET "/users/:id")]
async fn get_user(id: u64) -> String {
    format!("user {id}")
}

#[route(DELETE "/users/:id")]
async fn delete_user(id: u64) -> StatusCode {
    let _ = id;
    StatusCode::NO_CONTENT
}

#[route(GET "/files/*path")]
async fn file(path: &str) -> String {
    format!("file {path}")
}

#[route(GET "/files/readme")]
fn readme() -> &'static str {
    "readme"
}

#[route(GET "/echo/:word")]
async fn echo(word: String) -> String {
    word
}

#[route(GET "/docs/")]
fn docs() -> &'static str {
    "docs"
}

#[route(GET "/flag/:on")]
fn flag(on: bool) -> String {
    format!("{on}")
}

#[route(PURGE "/cache")]
fn purge() -> &'static str {
    "purged"
}

#[route(OPTIONS "/custom-options")]
fn custom_options() -> &'static str {
    "my options"
}

#[route(GET "/custom-options")]
fn custom_options_get() -> &'static str {
    "get"
}

#[route(GET "/panic")]
async fn panics() -> &'static str {
    panic!("handler exploded")
}

#[route(GET "/slow", timeout = "50ms")]
async fn slow() -> &'static str {
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    "too late"
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct NewNote {
    title: String,
}

#[route(POST "/notes/:id", body_limit = "64B")]
async fn create_note(
    State(state): State<AppState>,
    id: u32,
    Json(note): Json<NewNote>,
) -> (StatusCode, Json<NewNote>) {
    state.created.fetch_add(1, Ordering::SeqCst);
    (StatusCode::CREATED, Json(NewNote { title: format!("{id}: {}", note.title) }))
}

#[derive(Clone, Default)]
struct AppState {
    created: std::sync::Arc<AtomicUsize>,
}

/// Records the order middleware runs in.
static TRACE: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Records `event` for requests that carry `x-trace` (tests run in parallel).
fn trace<S>(cx: &RequestContext<'_, S>, event: String) {
    if cx.headers().contains_key("x-trace") {
        TRACE.lock().unwrap().push(event);
    }
}

#[derive(Default)]
struct Outer;

impl<S: Sync> Middleware<S> for Outer {
    type Local = ();

    async fn before(&self, cx: &mut RequestContext<'_, S>, _: &mut ()) -> Flow {
        trace(cx, format!("outer before {}", cx.path()));
        Flow::Continue
    }

    async fn after(&self, cx: &RequestContext<'_, S>, _: &mut (), response: &mut Response) {
        trace(cx, format!("outer after {}", response.status().as_u16()));
        response.headers_mut().insert("x-outer", "1".parse().unwrap());
    }
}

/// Answers 401 unless `x-admin: yes`.
#[derive(Default)]
struct RequireAdmin;

impl<S: Sync> Middleware<S> for RequireAdmin {
    type Local = ();

    async fn before(&self, cx: &mut RequestContext<'_, S>, _: &mut ()) -> Flow {
        trace(cx, "admin before".to_owned());
        if cx.headers().get("x-admin").is_some_and(|v| v == "yes") {
            Flow::Continue
        } else {
            Flow::Respond(Error::new(StatusCode::UNAUTHORIZED, "admins only").into_response())
        }
    }

    async fn after(&self, cx: &RequestContext<'_, S>, _: &mut (), _: &mut Response) {
        trace(cx, "admin after".to_owned());
    }
}

mod admin {
    use mambo::prelude::*;

    #[route(GET "/stats")]
    pub async fn stats() -> &'static str {
        "stats"
    }

    #[route(GET "/")]
    pub fn index() -> &'static str {
        "admin index"
    }

    #[route(GET "/orgs/:org/members")]
    pub(crate) fn members(org: &str) -> String {
        format!("members of {org}")
    }

    #[route(GET "/users/:id")]
    pub fn user(id: u64) -> String {
        format!("user {id}")
    }
}

mambo::router! {
    struct Api {
        state: AppState,
        middleware: [Outer],
        routes: [
            get_user, delete_user, file, readme, echo, docs, flag, purge,
            custom_options, custom_options_get, panics, slow, create_note,
        ],
        scope "/admin" {
            middleware: [RequireAdmin],
            routes: [admin::stats, admin::index, admin::user],
            scope "/nested" {
                routes: [admin::members],
            },
        },
    }
}

#[route(GET "/a")]
fn redirect_a() -> &'static str {
    "a"
}

#[route(GET "/b/")]
fn redirect_b() -> &'static str {
    "b"
}

mambo::router! {
    struct Redirecting {
        trailing_slash: redirect,
        routes: [redirect_a, redirect_b],
    }
}

fn client() -> TestClient<Api> {
    TestClient::new(Api::new(AppState::default()))
}

fn error_code(response: &mambo::test::TestResponse) -> u64 {
    response.json::<serde_json::Value>()["code"].as_u64().unwrap()
}

#[tokio::test]
async fn routes_and_params() {
    let client = client();
    let response = client.get("/users/42").send().await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text(), "user 42");
    assert_eq!(client.delete("/users/42").send().await.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        client.get("/echo/a%20b%2Fc").send().await.text(),
        "a b/c",
        "params are percent-decoded"
    );
    assert_eq!(client.get("/flag/true").send().await.text(), "true");
    assert_eq!(
        client.request(Method::from_bytes(b"PURGE").unwrap(), "/cache").send().await.text(),
        "purged"
    );
}

#[tokio::test]
async fn catch_all_and_static_priority() {
    let client = client();
    assert_eq!(client.get("/files/readme").send().await.text(), "readme");
    assert_eq!(client.get("/files/a/b/c.txt").send().await.text(), "file a/b/c.txt");
    assert_eq!(client.get("/files/readme/more").send().await.text(), "file readme/more");
    assert_eq!(
        client.get("/files/").send().await.status(),
        StatusCode::NOT_FOUND,
        "an empty catch-all does not match"
    );
}

#[tokio::test]
async fn misses_are_json_errors() {
    let client = client();
    let response = client.get("/nope").send().await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(error_code(&response), 40400);

    let response = client.post("/users/1").send().await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.header("allow"), Some("GET, HEAD, DELETE, OPTIONS"));
    assert_eq!(error_code(&response), 40500);
}

#[tokio::test]
async fn bad_params_are_400_with_the_reason() {
    let client = client();
    let response = client.get("/users/abc").send().await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json();
    assert_eq!(
        body["message"],
        "path parameter `id` must be an integer from 0 to 18446744073709551615"
    );
    let response = client.get("/echo/%FF").send().await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().contains("UTF-8"), "{}", response.text());
}

#[tokio::test]
async fn head_uses_get_and_drops_the_body() {
    let response = client().head("/users/7").send().await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.bytes().len(), 0);
}

#[tokio::test]
async fn options_answers_allow_unless_routed() {
    let client = client();
    let response = client.options("/users/7").send().await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(response.header("allow"), Some("GET, HEAD, DELETE, OPTIONS"));
    assert_eq!(client.options("/custom-options").send().await.text(), "my options");
}

#[tokio::test]
async fn trailing_slash_is_strict_by_default() {
    let client = client();
    assert_eq!(client.get("/docs").send().await.status(), StatusCode::NOT_FOUND);
    assert_eq!(client.get("/users/1/").send().await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn trailing_slash_redirect_mode() {
    let client = TestClient::new(Redirecting::new());
    let response = client.get("/a/?x=1").send().await;
    assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(response.header("location"), Some("/a?x=1"));
    let response = client.get("/b").send().await;
    assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(response.header("location"), Some("/b/"));
    assert_eq!(client.get("/c").send().await.status(), StatusCode::NOT_FOUND);
    assert_eq!(client.get("/a").send().await.text(), "a");
}

#[tokio::test]
async fn state_params_and_json_body_together() {
    let state = AppState::default();
    let client = TestClient::new(Api::new(state.clone()));
    let response = client.post("/notes/3").json(&NewNote { title: "hi".into() }).send().await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.json::<NewNote>(), NewNote { title: "3: hi".into() });
    assert_eq!(state.created.load(Ordering::SeqCst), 1);

    let too_big = NewNote { title: "x".repeat(100) };
    let response = client.post("/notes/3").json(&too_big).send().await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "the route's body_limit applies");
    let response =
        client.post("/notes/3").header("content-type", "text/plain").body("{}").send().await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(state.created.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn panics_become_500_and_the_router_lives_on() {
    let client = client();
    let response = client.get("/panic").send().await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(error_code(&response), 50000);
    assert_eq!(response.header("x-outer"), Some("1"), "router middleware sees the 500");
    assert_eq!(client.get("/users/1").send().await.status(), StatusCode::OK);
}

#[tokio::test]
async fn route_timeout_is_504() {
    let response = client().get("/slow").send().await;
    assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
}

#[tokio::test]
async fn middleware_order_scopes_and_early_answers() {
    let client = client();
    let response =
        client.get("/admin/stats").header("x-admin", "yes").header("x-trace", "1").send().await;
    assert_eq!(response.text(), "stats");
    assert_eq!(response.header("x-outer"), Some("1"));
    let denied = client.get("/admin").header("x-trace", "1").send().await;
    assert_eq!(denied.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(denied.header("x-outer"), Some("1"), "outer after sees early answers");
    let nested = client
        .get("/admin/nested/orgs/rust/members")
        .header("x-admin", "yes")
        .header("x-trace", "1")
        .send()
        .await;
    assert_eq!(nested.text(), "members of rust");
    let rejected =
        client.get("/admin/users/x").header("x-admin", "yes").header("x-trace", "1").send().await;
    assert_eq!(rejected.status(), StatusCode::BAD_REQUEST);
    assert_eq!(rejected.header("x-outer"), Some("1"), "outer after sees rejections");
    let trace = TRACE.lock().unwrap().clone();
    assert_eq!(
        trace,
        [
            "outer before /admin/stats",
            "admin before",
            "admin after",
            "outer after 200",
            "outer before /admin",
            "admin before",
            "outer after 401",
            "outer before /admin/nested/orgs/rust/members",
            "admin before",
            "admin after",
            "outer after 200",
            "outer before /admin/users/x",
            "admin before",
            "admin after",
            "outer after 400",
        ]
    );
}

#[test]
fn routes_table_lists_full_patterns() {
    let patterns: Vec<&str> = Api::ROUTES.iter().map(|r| r.pattern).collect();
    assert!(patterns.contains(&"/admin/stats"));
    assert!(patterns.contains(&"/admin"));
    assert!(patterns.contains(&"/admin/nested/orgs/:org/members"));
    let note = Api::ROUTES.iter().find(|r| r.handler == "create_note").unwrap();
    assert_eq!(note.body_limit, Some(64));
    assert_eq!(note.params, ["id"]);
    let slow = Api::ROUTES.iter().find(|r| r.handler == "slow").unwrap();
    assert_eq!(slow.timeout, Some(std::time::Duration::from_millis(50)));
}
