//! The todo example over real sockets: `mambo::Server` on 127.0.0.1:0,
//! hyper-util's client, SQLite in memory or in a file.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mambo_examples::todo::{Db, Todo, TodoApi};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long a test waits for the server to stop before failing.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// A todo server on a free port, stopped by [`TestServer::stop`].
struct TestServer {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// A response, read whole.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|err| panic!("{err}: {:?}", String::from_utf8_lossy(&self.body)))
    }

    fn todo(&self) -> Todo {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|err| panic!("{err}: {:?}", String::from_utf8_lossy(&self.body)))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|value| value.to_str().unwrap())
    }

    /// Checks the JSON error shape and returns the message.
    fn error(&self, status: StatusCode, code: u64) -> String {
        assert_eq!(self.status, status, "{:?}", String::from_utf8_lossy(&self.body));
        assert_eq!(self.header("content-type"), Some("application/json"));
        let body = self.json();
        assert_eq!(body["code"], code, "{body}");
        body["message"].as_str().unwrap().to_owned()
    }
}

impl TestServer {
    fn start(db: Db) -> TestServer {
        TestServer::start_with(TodoApi::with_db(db))
    }

    fn start_with(api: TodoApi) -> TestServer {
        let (stop, stopped) = oneshot::channel::<()>();
        let listening = mambo::Server::bind("127.0.0.1:0")
            .with_graceful_shutdown(async {
                stopped.await.ok();
            })
            .listen()
            .unwrap();
        let addr = listening.local_addr();
        let task = tokio::spawn(listening.serve(api));
        let client = Client::builder(TokioExecutor::new()).build_http();
        TestServer { addr, stop, task, client }
    }

    fn in_memory() -> TestServer {
        TestServer::start(Db::open_in_memory().unwrap())
    }

    /// Sends a request with `headers` and `body`.
    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Reply {
        let mut request =
            Request::builder().method(method).uri(format!("http://{}{path}", self.addr));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response =
            self.client.request(request.body(Full::new(body.into())).unwrap()).await.unwrap();
        let (parts, body) = response.into_parts();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body: body.collect().await.unwrap().to_bytes(),
        }
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, &[], Bytes::new()).await
    }

    async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, &[], Bytes::new()).await
    }

    /// Sends `body` as `application/json`.
    async fn json(&self, method: Method, path: &str, body: &Value) -> Reply {
        self.send(method, path, &[("content-type", "application/json")], body.to_string()).await
    }

    /// Creates a todo, expecting success.
    async fn create(&self, title: &str) -> Todo {
        let reply = self.json(Method::POST, "/todos", &json!({ "title": title })).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        reply.todo()
    }

    /// Stops the server gracefully and waits until it has.
    async fn stop(self) {
        drop(self.client);
        self.stop.send(()).unwrap();
        tokio::time::timeout(STOP_TIMEOUT, self.task)
            .await
            .expect("the server did not stop in time")
            .unwrap()
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crud_flow() {
    let server = TestServer::in_memory();
    assert_eq!(server.get("/health").await.json(), json!({ "status": "ok", "todos": 0 }));
    assert_eq!(server.get("/todos").await.json(), json!([]));

    // Create: 201, `location`, the stored todo (title trimmed).
    let reply = server.json(Method::POST, "/todos", &json!({ "title": "  buy milk  " })).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let milk = reply.todo();
    assert_eq!(reply.header("location"), Some(format!("/todos/{}", milk.id).as_str()));
    assert_eq!((milk.title.as_str(), milk.done), ("buy milk", false));
    let docs = server
        .json(Method::POST, "/todos", &json!({ "title": "write docs", "done": true }))
        .await
        .todo();
    assert!(docs.done);
    let bread = server.create("bake bread").await;

    // Read one, and the list with its filters.
    assert_eq!(server.get(&format!("/todos/{}", milk.id)).await.todo(), milk);
    let all: Vec<Todo> = serde_json::from_slice(&server.get("/todos").await.body).unwrap();
    assert_eq!(all, [milk.clone(), docs.clone(), bread.clone()]);
    let done: Vec<Todo> =
        serde_json::from_slice(&server.get("/todos?done=true").await.body).unwrap();
    assert_eq!(done, std::slice::from_ref(&docs));
    let open: Vec<Todo> =
        serde_json::from_slice(&server.get("/todos?done=false&limit=1").await.body).unwrap();
    assert_eq!(open, std::slice::from_ref(&milk));
    let page: Vec<Todo> =
        serde_json::from_slice(&server.get("/todos?limit=2&offset=1").await.body).unwrap();
    assert_eq!(page, [docs.clone(), bread.clone()]);

    // Partial updates change only what they name.
    let path = format!("/todos/{}", milk.id);
    let reply = server.json(Method::PATCH, &path, &json!({ "done": true })).await;
    assert_eq!(reply.status, StatusCode::OK);
    let patched = reply.todo();
    assert_eq!((patched.title.as_str(), patched.done, patched.id), ("buy milk", true, milk.id));
    let patched =
        server.json(Method::PATCH, &path, &json!({ "title": "buy oat milk" })).await.todo();
    assert_eq!((patched.title.as_str(), patched.done), ("buy oat milk", true));
    assert_eq!(patched.created_at, milk.created_at);
    assert_eq!(
        server.json(Method::PATCH, &path, &json!({})).await.todo(),
        patched,
        "an empty patch changes nothing"
    );
    assert_eq!(server.get(&path).await.todo(), patched);

    // Delete: 204 without a body, then gone.
    let reply = server.delete(&path).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert!(reply.body.is_empty());
    server.get(&path).await.error(StatusCode::NOT_FOUND, 40401);
    server.delete(&path).await.error(StatusCode::NOT_FOUND, 40401);
    assert_eq!(server.get("/health").await.json(), json!({ "status": "ok", "todos": 2 }));
    // Ids are not reused after a delete.
    assert!(server.create("buy milk").await.id > bread.id);
    server.stop().await;
}

#[tokio::test]
async fn missing_todos_are_json_404s() {
    let server = TestServer::in_memory();
    let message = server.get("/todos/12345").await.error(StatusCode::NOT_FOUND, 40401);
    assert_eq!(message, "todo 12345 not found");
    server
        .json(Method::PATCH, "/todos/12345", &json!({ "done": true }))
        .await
        .error(StatusCode::NOT_FOUND, 40401);
    server.delete("/todos/12345").await.error(StatusCode::NOT_FOUND, 40401);
    // The framework's own errors have the same shape.
    server.get("/nope").await.error(StatusCode::NOT_FOUND, 40400);
    let message = server.get("/todos/abc").await.error(StatusCode::BAD_REQUEST, 40001);
    assert!(message.contains("`id`"), "{message}");
    let reply = server.send(Method::PUT, "/todos/1", &[], Bytes::new()).await;
    reply.error(StatusCode::METHOD_NOT_ALLOWED, 40500);
    assert_eq!(reply.header("allow"), Some("GET, HEAD, PATCH, DELETE, OPTIONS"));
    server.stop().await;
}

#[tokio::test]
async fn invalid_input_is_422_with_the_reason() {
    let server = TestServer::in_memory();
    let empty = server.json(Method::POST, "/todos", &json!({ "title": "" })).await;
    assert_eq!(empty.error(StatusCode::UNPROCESSABLE_ENTITY, 42201), "`title` must not be empty");
    let blank = server.json(Method::POST, "/todos", &json!({ "title": " \t\n" })).await;
    assert_eq!(blank.error(StatusCode::UNPROCESSABLE_ENTITY, 42201), "`title` must not be empty");
    let long = server.json(Method::POST, "/todos", &json!({ "title": "x".repeat(201) })).await;
    assert_eq!(
        long.error(StatusCode::UNPROCESSABLE_ENTITY, 42201),
        "`title` must be at most 200 characters, got 201"
    );
    // The limit counts characters, not bytes.
    let todo = server.create(&"é".repeat(200)).await;

    let path = format!("/todos/{}", todo.id);
    let reply = server.json(Method::PATCH, &path, &json!({ "title": "  " })).await;
    assert_eq!(reply.error(StatusCode::UNPROCESSABLE_ENTITY, 42201), "`title` must not be empty");
    assert_eq!(server.get(&path).await.todo(), todo, "a rejected patch changes nothing");

    let reply = server.get("/todos?limit=0").await;
    assert_eq!(
        reply.error(StatusCode::UNPROCESSABLE_ENTITY, 42201),
        "`limit` must be between 1 and 500, got 0"
    );
    let message = server.get("/todos?done=maybe").await.error(StatusCode::BAD_REQUEST, 40002);
    assert!(message.contains("invalid query string"), "{message}");
    assert_eq!(server.get("/health").await.json()["todos"], 1, "nothing invalid was stored");
    server.stop().await;
}

#[tokio::test]
async fn duplicate_open_titles_are_409() {
    let server = TestServer::in_memory();
    let first = server.create("Call mom").await;
    let reply = server.json(Method::POST, "/todos", &json!({ "title": "call MOM" })).await;
    assert_eq!(
        reply.error(StatusCode::CONFLICT, 40901),
        "an open todo titled \"call MOM\" already exists"
    );
    // Once the first is done, the title is free again.
    server.json(Method::PATCH, &format!("/todos/{}", first.id), &json!({ "done": true })).await;
    let second = server.create("call mom").await;
    // Reopening the first would clash with the second.
    let reply = server
        .json(Method::PATCH, &format!("/todos/{}", first.id), &json!({ "done": false }))
        .await;
    reply.error(StatusCode::CONFLICT, 40901);
    assert_ne!(first.id, second.id);
    server.stop().await;
}

#[tokio::test]
async fn malformed_json_is_400_with_line_and_column() {
    let server = TestServer::in_memory();
    let json = [("content-type", "application/json")];
    let reply = server.send(Method::POST, "/todos", &json, "{\n  \"title\": \n}").await;
    let message = reply.error(StatusCode::BAD_REQUEST, 40003);
    assert!(message.contains("line 3 column 1"), "{message}");

    let reply = server.send(Method::POST, "/todos", &json, r#"{"title": 5}"#).await;
    let message = reply.error(StatusCode::BAD_REQUEST, 40006);
    assert!(message.contains("line 1 column"), "{message}");
    let reply = server.send(Method::POST, "/todos", &json, r#"{"titel": "typo"}"#).await;
    let message = reply.error(StatusCode::BAD_REQUEST, 40006);
    assert!(message.contains("unknown field `titel`"), "{message}");

    let too_big = json!({ "title": "x".repeat(20 * 1024) }).to_string();
    server
        .send(Method::POST, "/todos", &json, too_big)
        .await
        .error(StatusCode::PAYLOAD_TOO_LARGE, 41300);
    assert_eq!(server.get("/health").await.json()["todos"], 0);
    server.stop().await;
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let server = TestServer::in_memory();
    let body = r#"{"title": "buy milk"}"#;
    let reply = server.send(Method::POST, "/todos", &[("content-type", "text/plain")], body).await;
    let message = reply.error(StatusCode::UNSUPPORTED_MEDIA_TYPE, 41500);
    assert!(message.contains("application/json"), "{message}");
    let reply = server.send(Method::POST, "/todos", &[], body).await;
    reply.error(StatusCode::UNSUPPORTED_MEDIA_TYPE, 41500);
    let reply =
        server.send(Method::PATCH, "/todos/1", &[("content-type", "application/xml")], body).await;
    reply.error(StatusCode::UNSUPPORTED_MEDIA_TYPE, 41500);
    // `application/json; charset=utf-8` is JSON.
    let reply = server
        .send(Method::POST, "/todos", &[("content-type", "application/json; charset=utf-8")], body)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    server.stop().await;
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let server = TestServer::in_memory();
    let reply =
        server.send(Method::GET, "/todos", &[("x-request-id", "test-abc-123")], Bytes::new()).await;
    assert_eq!(reply.header("x-request-id"), Some("test-abc-123"));
    // Errors carry it too.
    let reply =
        server.send(Method::GET, "/todos/999", &[("x-request-id", "lost-42")], Bytes::new()).await;
    assert_eq!(
        (reply.status, reply.header("x-request-id")),
        (StatusCode::NOT_FOUND, Some("lost-42"))
    );
    // Without one, or with one that is not safe to log, the server makes one up.
    let first = server.get("/health").await.header("x-request-id").unwrap().to_owned();
    let second =
        server.send(Method::GET, "/health", &[("x-request-id", "two words")], Bytes::new()).await;
    let second = second.header("x-request-id").unwrap();
    assert!(!first.is_empty());
    assert_ne!(first, second);
    assert_ne!(second, "two words");
    server.stop().await;
}

#[tokio::test]
async fn cors_preflights_are_answered() {
    let server = TestServer::in_memory();
    let preflight = [
        ("origin", "https://app.example.com"),
        ("access-control-request-method", "POST"),
        ("access-control-request-headers", "content-type"),
    ];
    let reply = server.send(Method::OPTIONS, "/todos", &preflight, Bytes::new()).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    assert_eq!(reply.header("access-control-allow-methods"), Some("*"));
    assert_eq!(reply.header("access-control-allow-headers"), Some("*"));
    assert!(reply.header("x-request-id").is_some());

    // The actual request gets the origin header, and may read any header.
    let reply = server
        .send(
            Method::POST,
            "/todos",
            &[("origin", "https://app.example.com"), ("content-type", "application/json")],
            r#"{"title": "from the browser"}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    assert_eq!(reply.header("access-control-expose-headers"), Some("*"));
    server.stop().await;
}

/// A database file under the temp dir, removed (with its WAL files) on drop.
struct TempDbFile(PathBuf);

impl TempDbFile {
    fn new() -> TempDbFile {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        TempDbFile(
            std::env::temp_dir()
                .join(format!("mambo-todo-test-{}-{nanos}.sqlite3", std::process::id())),
        )
    }
}

impl Drop for TempDbFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_database_outlives_the_server() {
    let file = TempDbFile::new();
    assert!(!file.0.exists());

    let server = TestServer::start(Db::open(&file.0).unwrap());
    let kept = server.create("survive a restart").await;
    let gone = server.create("deleted before the restart").await;
    assert_eq!(server.delete(&format!("/todos/{}", gone.id)).await.status, StatusCode::NO_CONTENT);
    let kept = server
        .json(Method::PATCH, &format!("/todos/{}", kept.id), &json!({ "done": true }))
        .await
        .todo();
    server.stop().await;
    assert!(file.0.exists());

    let server = TestServer::start(Db::open(&file.0).unwrap());
    assert_eq!(server.get(&format!("/todos/{}", kept.id)).await.todo(), kept);
    server.get(&format!("/todos/{}", gone.id)).await.error(StatusCode::NOT_FOUND, 40401);
    let all: Vec<Todo> = serde_json::from_slice(&server.get("/todos").await.body).unwrap();
    assert_eq!(all, std::slice::from_ref(&kept));
    assert!(server.create("after the restart").await.id > gone.id, "ids go on where they stopped");
    server.stop().await;

    // An in-memory database starts empty every time.
    let server = TestServer::in_memory();
    assert_eq!(server.get("/todos").await.json(), json!([]));
    server.stop().await;
}

/// The operator routes: closed without a token, 401 with a wrong one, and
/// with the right one, the metrics of the requests served over the socket,
/// under the route's pattern.
#[tokio::test]
async fn metrics_are_behind_the_admin_token() {
    let closed = TestServer::in_memory();
    let reply = closed.get("/internal/metrics").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    closed.stop().await;

    let api = TodoApi::with_admin(Db::open_in_memory().unwrap(), Some("s3cret".into()));
    let server = TestServer::start_with(api);
    let todo = server.create("scrape me").await;
    assert_eq!(server.get(&format!("/todos/{}", todo.id)).await.status, StatusCode::OK);
    assert_eq!(server.get("/todos/999").await.status, StatusCode::NOT_FOUND);
    let wrong = server
        .send(Method::GET, "/internal/metrics", &[("authorization", "Bearer nope")], Bytes::new())
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let reply = server
        .send(Method::GET, "/internal/metrics", &[("authorization", "Bearer s3cret")], Bytes::new())
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let text = std::str::from_utf8(&reply.body).unwrap();
    // Other tests of this binary serve the same router type in parallel,
    // and its counters are per type: each series is there, counting at
    // least this test's requests.
    let count = |series: &str| -> u64 {
        let line = text.lines().find(|line| line.starts_with(series));
        let line = line.unwrap_or_else(|| panic!("no `{series}` in\n{text}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert!(
        count(r#"mambo_http_requests_total{route="/todos/:id",method="GET",status="2xx"}"#) >= 1
    );
    assert!(
        count(r#"mambo_http_requests_total{route="/todos/:id",method="GET",status="4xx"}"#) >= 1
    );
    assert!(count(r#"mambo_http_requests_total{route="/todos",method="POST",status="2xx"}"#) >= 1);
    assert!(
        count(r#"mambo_http_requests_total{route="/internal/metrics",method="GET",status="4xx"}"#)
            >= 2
    );
    assert!(!text.contains("/todos/999"), "a raw path became a label:\n{text}");
    server.stop().await;
}

/// Liveness and readiness (the database check) over the socket.
#[tokio::test]
async fn probes_answer_live_and_ready() {
    let server = TestServer::in_memory();
    let live = server.get("/healthz").await;
    assert_eq!(live.status, StatusCode::OK);
    assert_eq!(&live.body[..], br#"{"status":"ok"}"#);
    let ready = server.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK);
    let body: Value = serde_json::from_slice(&ready.body).unwrap();
    assert_eq!(body["checks"]["database"]["status"], "ok", "{body}");
    server.stop().await;
}
