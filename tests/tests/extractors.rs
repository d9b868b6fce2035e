//! Extractors and responses through a generated router and the in-process
//! client: what a client really gets, status, headers and JSON error body.

use std::net::SocketAddr;

use mambo::extract::{BearerToken, UserAgent};
use mambo::prelude::*;
use mambo::test::TestClient;
use serde::{Deserialize, Serialize};

#[derive(Clone)]
struct AppState {
    greeting: &'static str,
}

#[derive(Debug, Deserialize, Serialize, PartialEq)]
struct Pet {
    name: String,
    age: u8,
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    offset: u32,
}

#[derive(Debug, ApiError)]
enum PetError {
    #[api(code = 40401, message = "pet {0} not found")]
    NotFound(u64),
}

#[route(POST "/pets", body_limit = "64")]
async fn create_pet(
    State(state): State<AppState>,
    Json(pet): Json<Pet>,
) -> (StatusCode, Json<Pet>) {
    let _ = state.greeting;
    (StatusCode::CREATED, Json(pet))
}

#[route(GET "/pets/:id")]
async fn get_pet(id: u64) -> Result<Json<Pet>, PetError> {
    if id == 1 { Ok(Json(Pet { name: "Rex".into(), age: 3 })) } else { Err(PetError::NotFound(id)) }
}

#[route(GET "/maybe/:id")]
async fn maybe(id: u64) -> Option<String> {
    (id == 1).then(|| "found".to_owned())
}

#[route(GET "/list")]
async fn list(Query(page): Query<Page>, State(state): State<AppState>) -> String {
    format!("{} from {}", state.greeting, page.offset)
}

#[route(POST "/echo", body_limit = "8")]
async fn echo(body: String) -> String {
    body
}

#[route(POST "/sign-in")]
async fn sign_in(Form(pet): Form<Pet>) -> Html<String> {
    Html(format!("<p>{}</p>", pet.name))
}

#[route(GET "/whoami")]
async fn whoami(
    Header(BearerToken(token)): Header<BearerToken>,
    agent: Option<Header<UserAgent>>,
    addr: Option<ClientAddr>,
) -> String {
    let agent = agent.map_or_else(|| "-".to_owned(), |Header(UserAgent(agent))| agent);
    let addr = addr.map_or_else(|| "-".to_owned(), |ClientAddr(addr)| addr.to_string());
    format!("{token} {agent} {addr}")
}

#[route(GET "/old")]
async fn old() -> Redirect {
    Redirect::permanent("/new")
}

#[route(GET "/csv")]
async fn csv(
    method: Method,
    uri: mambo::Uri,
) -> (StatusCode, [(mambo::header::HeaderName, String); 1], String) {
    (
        StatusCode::OK,
        [(mambo::header::CONTENT_TYPE, "text/csv".to_owned())],
        format!("{method},{uri}\n"),
    )
}

mambo::router! {
    pub struct Pets {
        state: AppState,
        routes: [create_pet, get_pet, maybe, list, echo, sign_in, whoami, old, csv],
    }
}

fn client() -> TestClient<Pets> {
    TestClient::new(Pets::new(AppState { greeting: "hi" }))
}

fn error(code: u32, message: &str) -> serde_json::Value {
    serde_json::json!({ "code": code, "message": message })
}

#[tokio::test]
async fn json_in_and_out_with_state() {
    let response = client().post("/pets").json(&Pet { name: "Rex".into(), age: 3 }).send().await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.json::<Pet>(), Pet { name: "Rex".into(), age: 3 });
}

#[tokio::test]
async fn json_rejections_are_json_errors() {
    let client = client();
    let rows = [
        (client.post("/pets").body(r#"{"name":"Rex","age":3}"#), 415, 41500, None),
        (
            client.post("/pets").header("content-type", "application/json").body("{\"name\":\n}"),
            400,
            40003,
            Some("line 2 column 1"),
        ),
        (
            client
                .post("/pets")
                .header("content-type", "application/json")
                .body(r#"{"name":"Rex"}"#),
            400,
            40006,
            Some("missing field `age` at line 1 column 14"),
        ),
        (
            client.post("/pets").json(&Pet { name: "R".repeat(100), age: 3 }),
            413,
            41300,
            Some("limit of 64 bytes"),
        ),
    ];
    for (request, status, code, detail) in rows {
        let response = request.send().await;
        assert_eq!(response.status().as_u16(), status, "{}", response.text());
        assert_eq!(response.header("content-type"), Some("application/json"));
        let body: serde_json::Value = response.json();
        assert_eq!(body["code"], code, "{body}");
        if let Some(detail) = detail {
            assert!(body["message"].as_str().unwrap().contains(detail), "{body}");
        }
    }
}

#[tokio::test]
async fn derived_errors_and_option() {
    let client = client();
    let response = client.get("/pets/2").send().await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.json::<serde_json::Value>(), error(40401, "pet 2 not found"));
    assert_eq!(client.get("/maybe/1").send().await.text(), "found");
    let response = client.get("/maybe/2").send().await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.json::<serde_json::Value>(), error(40400, "not found"));
}

#[tokio::test]
async fn query_and_state() {
    let client = client();
    assert_eq!(client.get("/list?offset=5").send().await.text(), "hi from 5");
    assert_eq!(client.get("/list").send().await.text(), "hi from 0");
    let response = client.get("/list?offset=x").send().await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(response.json::<serde_json::Value>()["code"], 40002);
}

#[tokio::test]
async fn string_body_under_a_route_limit() {
    let client = client();
    assert_eq!(client.post("/echo").body("12345678").send().await.text(), "12345678");
    let response = client.post("/echo").body("123456789").send().await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let response = client.post("/echo").body(vec![0xff, 0xfe]).send().await;
    assert_eq!(response.json::<serde_json::Value>()["code"], 40005);
}

#[tokio::test]
async fn form_and_html() {
    let response = client().post("/sign-in").form(&Pet { name: "Rex".into(), age: 3 }).send().await;
    assert_eq!(response.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(response.text(), "<p>Rex</p>");
}

#[tokio::test]
async fn headers_and_client_addr() {
    let client = client();
    let response = client.get("/whoami").header("authorization", "Bearer t0k").send().await;
    assert_eq!(response.text(), "t0k - -");
    let addr: SocketAddr = "192.0.2.1:4000".parse().unwrap();
    let response = client
        .get("/whoami")
        .header("authorization", "Bearer t0k")
        .header("user-agent", "curl/8")
        .remote_addr(addr)
        .send()
        .await;
    assert_eq!(response.text(), "t0k curl/8 192.0.2.1:4000");
    let response = client.get("/whoami").send().await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.json::<serde_json::Value>(),
        error(40008, "missing request header `authorization`")
    );
}

#[tokio::test]
async fn redirect_and_header_tuples() {
    let client = client();
    let response = client.get("/old").send().await;
    assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(response.header("location"), Some("/new"));
    let response = client.get("/csv?x=1").send().await;
    assert_eq!(response.header("content-type"), Some("text/csv"));
    assert_eq!(response.text(), "GET,/csv?x=1\n");
}
