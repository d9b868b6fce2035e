//! The todo routes. Each handler checks its input, calls [`Db`], and returns
//! the result or a [`TodoError`].

use mambo::header::{HeaderName, LOCATION};
use mambo::prelude::*;
use serde::Serialize;

use super::db::Db;
use super::error::TodoError;
use super::model::{ListQuery, NewTodo, Todo, TodoPatch, validate_title};

/// The `/health` body.
#[derive(Debug, Serialize)]
pub struct Health {
    /// Always `"ok"`: a failing database answers 500 instead.
    pub status: &'static str,
    /// How many todos are stored.
    pub todos: u64,
}

/// `GET /health`: 200 `{"status":"ok","todos":N}` when the database answers.
#[route(GET "/health")]
pub async fn health(State(db): State<Db>) -> Result<Json<Health>, TodoError> {
    let todos = db.count().await?;
    Ok(Json(Health { status: "ok", todos }))
}

/// `GET /healthz`: liveness, 200 while the process can answer at all.
#[route(GET "/healthz")]
pub async fn healthz(State(health): State<mambo::observe::health::Health>) -> Response {
    health.live()
}

/// `GET /readyz`: readiness, 200 when the database answers a ping within a
/// second, 503 while it does not and from the moment shutdown starts.
#[route(GET "/readyz")]
pub async fn readyz(State(health): State<mambo::observe::health::Health>) -> Response {
    health.ready().await
}

/// `GET /todos?done=true&limit=20&offset=0`: the todos, by id.
///
/// 400 (code 40002) when the query does not parse, 422 when `limit` is out
/// of range.
#[route(GET "/todos")]
pub async fn list_todos(
    State(db): State<Db>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<Todo>>, TodoError> {
    let filter = query.validate()?;
    Ok(Json(db.list(filter).await?))
}

/// `POST /todos` with a [`NewTodo`]: 201 with the todo and its `location`.
///
/// 415 without `content-type: application/json`, 400 for malformed JSON,
/// 422 for a bad title, 409 when an open todo has the same title.
#[route(POST "/todos", body_limit = "16KiB")]
pub async fn create_todo(
    State(db): State<Db>,
    Json(new): Json<NewTodo>,
) -> Result<(StatusCode, [(HeaderName, String); 1], Json<Todo>), TodoError> {
    let title = validate_title(&new.title)?;
    let todo = db.insert(title, new.done).await?;
    Ok((StatusCode::CREATED, [(LOCATION, format!("/todos/{}", todo.id))], Json(todo)))
}

/// `GET /todos/:id`: the todo, or 404 (code 40401).
#[route(GET "/todos/:id")]
pub async fn get_todo(State(db): State<Db>, id: i64) -> Result<Json<Todo>, TodoError> {
    Ok(Json(db.get(id).await?))
}

/// `PATCH /todos/:id` with a [`TodoPatch`]: changes the fields given and
/// returns the todo.
///
/// 404, 422 for a bad title, 409 when the result would clash with another
/// open todo's title.
#[route(PATCH "/todos/:id", body_limit = "16KiB")]
pub async fn update_todo(
    State(db): State<Db>,
    id: i64,
    Json(patch): Json<TodoPatch>,
) -> Result<Json<Todo>, TodoError> {
    let title = patch.title.as_deref().map(validate_title).transpose()?;
    Ok(Json(db.update(id, title, patch.done).await?))
}

/// `DELETE /todos/:id`: 204, or 404.
#[route(DELETE "/todos/:id")]
pub async fn delete_todo(State(db): State<Db>, id: i64) -> Result<StatusCode, TodoError> {
    db.delete(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
