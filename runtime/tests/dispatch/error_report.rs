//! Every 5xx rendered from an error reaches the `mambo::error` event and the
//! `OnServerError` hook, with its source chain, route and request id; 4xx
//! responses reach neither.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mambo::error::{ERROR_LOG_TARGET, ErrorReport};
use mambo::middleware::{AccessLog, OnServerError, RequestId};
use mambo::prelude::*;
use mambo::test::TestClient;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Why the database failed, two levels deep.
#[derive(Debug)]
struct PoolError(std::io::Error);

impl std::fmt::Display for PoolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no connection in the pool")
    }
}

impl std::error::Error for PoolError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[derive(Debug, ApiError)]
enum AppError {
    #[api(code = 50320, message = "the database is unavailable")]
    Database(#[source] PoolError),
    #[api(code = 40420, message = "no user {0}")]
    NoUser(u64),
}

#[route(GET "/users/:id")]
async fn user(id: u64) -> Result<String, AppError> {
    match id {
        0 => Err(AppError::Database(PoolError(std::io::Error::other("connection refused")))),
        _ => Err(AppError::NoUser(id)),
    }
}

#[route(GET "/gateway")]
async fn gateway() -> Result<String, Error> {
    Err(Error::with_code(StatusCode::BAD_GATEWAY, 50220, "the upstream answered nonsense"))
}

#[route(GET "/panic")]
async fn panics() -> &'static str {
    panic!("the invariant broke")
}

#[route(GET "/slow", timeout = "20ms")]
async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(5)).await;
    "late"
}

#[route(GET "/bare")]
async fn bare() -> StatusCode {
    StatusCode::INTERNAL_SERVER_ERROR
}

/// What the hook saw: one line per report.
static HOOKED: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn hook(report: &ErrorReport, cx: &RequestContext<'_, ()>) {
    HOOKED.lock().unwrap().push(format!(
        "{} {} {} | {} | {:?} {:?} {}",
        report.status().as_u16(),
        report.code(),
        report.message(),
        report.sources().join(" / "),
        report.route(),
        report.request_id(),
        cx.path(),
    ));
}

mambo::router! {
    struct App {
        middleware: [RequestId, AccessLog, OnServerError = OnServerError::new(hook)],
        routes: [user, gateway, panics, slow, bare],
    }
}

mambo::router! {
    /// Without `OnServerError`: the event still has the route and the id.
    struct IdOnly {
        middleware: [RequestId],
        routes: [user],
    }
}

mambo::router! {
    /// Without any middleware: the event has the route, and `-` for the id.
    struct Bare {
        routes: [user],
    }
}

/// The fields of each `mambo::error` event, in order.
type Events = Arc<Mutex<Vec<Vec<(String, String)>>>>;

struct Capture(Events);

struct Fields(Vec<(String, String)>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.push((field.name().to_owned(), value.to_string()));
    }
}

impl Subscriber for Capture {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::sometimes()
    }
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target() == ERROR_LOG_TARGET
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields(vec![("level".to_owned(), event.metadata().level().to_string())]);
        event.record(&mut fields);
        self.0.lock().unwrap().push(fields.0);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

fn field<'e>(event: &'e [(String, String)], name: &str) -> &'e str {
    event.iter().find(|(key, _)| key == name).map_or("<none>", |(_, value)| value)
}

/// One test, so that the hook's list and the subscriber (per thread, on the
/// current-thread runtime) see only these requests.
#[tokio::test]
async fn every_5xx_from_an_error_is_logged_and_hooked_once() {
    let events = Events::default();
    let _guard = tracing::subscriber::set_default(Capture(events.clone()));
    tracing::callsite::rebuild_interest_cache();
    let client = TestClient::new(App::new());

    let rows = [
        (
            "/users/0",
            503,
            "503 50320 the database is unavailable | no connection in the pool / connection refused | Some(\"/users/:id\") Some(\"req-/users/0\") /users/0",
        ),
        (
            "/gateway",
            502,
            "502 50220 the upstream answered nonsense |  | Some(\"/gateway\") Some(\"req-/gateway\") /gateway",
        ),
        (
            "/panic",
            500,
            "500 50000 internal server error | panicked: the invariant broke | Some(\"/panic\") Some(\"req-/panic\") /panic",
        ),
        (
            "/slow",
            504,
            "504 50400 the handler did not answer in time |  | Some(\"/slow\") Some(\"req-/slow\") /slow",
        ),
    ];
    for (path, status, hooked) in rows {
        HOOKED.lock().unwrap().clear();
        events.lock().unwrap().clear();
        let response = client.get(path).header("x-request-id", format!("req-{path}")).send().await;
        assert_eq!(response.status().as_u16(), status, "{path}");
        assert_eq!(*HOOKED.lock().unwrap(), [hooked], "{path}");

        let events = events.lock().unwrap();
        assert_eq!(events.len(), 1, "{path}: {events:?}");
        let event = &events[0];
        let (code, message_and_sources) = hooked[4..].split_once(' ').unwrap();
        let (message, rest) = message_and_sources.split_once(" | ").unwrap();
        let sources = rest.split(" | ").next().unwrap().replace(" / ", ": ");
        let sources = if sources.is_empty() { "-".to_owned() } else { sources };
        assert_eq!(field(event, "level"), "ERROR", "{path}");
        assert_eq!(field(event, "status"), status.to_string(), "{path}");
        assert_eq!(field(event, "code"), code, "{path}");
        assert_eq!(field(event, "message"), message, "{path}");
        assert_eq!(field(event, "sources"), sources, "{path}");
        assert_eq!(field(event, "route"), response_route(path), "{path}");
        assert_eq!(field(event, "request_id"), format!("req-{path}"), "{path}");
    }

    for path in ["/users/7", "/bare", "/nowhere"] {
        HOOKED.lock().unwrap().clear();
        events.lock().unwrap().clear();
        let response = client.get(path).send().await;
        assert!(response.status() != StatusCode::OK, "{path}");
        assert!(HOOKED.lock().unwrap().is_empty(), "{path}: no report, no hook");
        assert!(events.lock().unwrap().is_empty(), "{path}: no report, no event");
    }
}

#[tokio::test]
async fn the_event_needs_no_hook() {
    let events = Events::default();
    let _guard = tracing::subscriber::set_default(Capture(events.clone()));
    tracing::callsite::rebuild_interest_cache();

    let response =
        TestClient::new(IdOnly::new()).get("/users/0").header("x-request-id", "abc").send().await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let response = TestClient::new(Bare::new()).get("/users/0").send().await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);

    let events = events.lock().unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    for (event, id) in events.iter().zip(["abc", "-"]) {
        assert_eq!(field(event, "route"), "/users/:id");
        assert_eq!(field(event, "request_id"), id);
        assert_eq!(field(event, "sources"), "no connection in the pool: connection refused");
    }
}

fn response_route(path: &str) -> &str {
    if path.starts_with("/users/") { "/users/:id" } else { path }
}
