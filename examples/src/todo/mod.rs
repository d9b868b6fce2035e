//! The todo service: a small REST API over SQLite.
//!
//! | route | answer |
//! |---|---|
//! | `GET /health` | `{"status":"ok","todos":N}` |
//! | `GET /healthz`, `GET /readyz` | liveness; readiness (the database answers a ping; 503 from the start of shutdown) |
//! | `GET /todos?done=&limit=&offset=` | the todos, by id |
//! | `POST /todos` `{"title":"..","done":false}` | 201 + `location` + the todo |
//! | `GET /todos/:id` | the todo |
//! | `PATCH /todos/:id` `{"title":"..","done":true}` (each optional) | the changed todo |
//! | `DELETE /todos/:id` | 204 |
//! | `GET /internal/metrics` | Prometheus / OpenMetrics metrics (bearer token, see [`admin`]) |
//! | `GET /debug/pprof/profile`, `GET /debug/pprof/heap` | CPU and heap profiles with `--features profiling` (bearer token, see [`profiles`]) |
//!
//! Errors are `{"code": …, "message": …}`: see [`TodoError`] for the
//! service's own codes, and Mambo's rejection table for the framework's
//! (400 bad JSON or query, 415 wrong `content-type`, 413 body too large).
//!
//! Every response carries `x-request-id` (the client's, when it sent a valid
//! one), every request is logged on target `mambo::access`, and CORS is open
//! to any origin (no credentials), as befits a public API without cookies.
//!
//! `src/bin/todo.rs` serves it; `tests/tests/todo.rs` tests it over a socket.
//!
//! # Examples
//!
//! ```
//! use mambo::test::TestClient;
//! use mambo_examples::todo::{Db, TodoApi};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let client = TestClient::new(TodoApi::with_db(Db::open_in_memory().unwrap()));
//! let created = client.post("/todos").json(&serde_json::json!({"title": "buy milk"})).send().await;
//! assert_eq!(created.status(), 201);
//! assert_eq!(created.header("location"), Some("/todos/1"));
//! # }
//! ```

pub mod admin;
pub mod db;
pub mod error;
pub mod handlers;
pub mod model;
pub mod profiles;

use std::time::Duration;

use mambo::FromRef;
use mambo::middleware::{AccessLog, Cors, RequestId};
use mambo::observe::health::Health;

use self::admin::RequireAdmin;

pub use self::db::Db;
pub use self::error::TodoError;
pub use self::model::{NewTodo, Todo, TodoPatch};

/// What every handler can reach with `State<..>`.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The todo store.
    pub db: Db,
    /// The bearer token of the operator routes (`/internal/..`); `None`
    /// closes them.
    pub admin_token: Option<String>,
    /// Liveness and readiness; readiness pings the database. Link it to the
    /// server with [`Server::health`](mambo::Server::health).
    pub health: Health,
}

impl AppState {
    /// The state over `db`, operator routes closed.
    pub fn new(db: Db) -> AppState {
        let health = Health::new().check("database", Duration::from_secs(1), {
            let db = db.clone();
            move || {
                let db = db.clone();
                async move { db.count().await.map(drop) }
            }
        });
        AppState { db, admin_token: None, health }
    }

    /// Opens the operator routes to `authorization: Bearer <token>`.
    pub fn with_admin_token(mut self, token: Option<String>) -> AppState {
        self.admin_token = token;
        self
    }
}

/// Lets the probes take `State<Health>`.
impl FromRef<AppState> for Health {
    fn from_ref(state: &AppState) -> Health {
        state.health.clone()
    }
}

/// Lets handlers take `State<Db>` instead of the whole [`AppState`].
impl FromRef<AppState> for Db {
    fn from_ref(state: &AppState) -> Db {
        state.db.clone()
    }
}

mambo::router! {
    /// The todo service; build it with [`TodoApi::with_db`].
    pub struct TodoApi {
        state: AppState,
        middleware: [RequestId, AccessLog, Cors = mambo::middleware::Cors::permissive()],
        routes: [
            handlers::health,
            handlers::healthz,
            handlers::readyz,
            handlers::list_todos,
            handlers::create_todo,
            handlers::get_todo,
            handlers::update_todo,
            handlers::delete_todo,
        ],
        scope "/internal" {
            middleware: [RequireAdmin = RequireAdmin::new(state.admin_token.as_deref())],
            metrics: "/metrics",
        },
        scope "/debug/pprof" {
            middleware: [RequireAdmin = RequireAdmin::new(state.admin_token.as_deref())],
            routes: [profiles::cpu, profiles::heap],
        },
    }
}

impl TodoApi {
    /// The service over `db`, its operator routes closed.
    pub fn with_db(db: Db) -> TodoApi {
        TodoApi::new(AppState::new(db))
    }

    /// The service over `db`, its operator routes open to `admin_token`.
    pub fn with_admin(db: Db, admin_token: Option<String>) -> TodoApi {
        TodoApi::new(AppState::new(db).with_admin_token(admin_token))
    }
}
