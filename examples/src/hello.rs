//! The hello service: plaintext, JSON, path parameters. The benchmarks load
//! it; `src/bin/hello.rs` serves it.

use mambo::prelude::*;
use serde::Serialize;

/// `Hello, World!` as plain text.
#[route(GET "/plaintext")]
pub async fn plaintext() -> &'static str {
    "Hello, World!"
}

/// The `/json` body.
#[derive(Serialize)]
pub struct Message {
    /// Always "Hello, World!".
    pub message: &'static str,
}

/// `{"message":"Hello, World!"}`.
#[route(GET "/json")]
pub async fn json() -> Json<Message> {
    Json(Message { message: "Hello, World!" })
}

/// `user {id} post {slug}`.
#[route(GET "/user/:id/post/:slug")]
pub async fn user_post(id: u64, slug: &str) -> String {
    format!("user {id} post {slug}")
}

/// The `/ping` body.
#[derive(Serialize)]
pub struct Status {
    /// Always "ok".
    pub status: &'static str,
}

/// `{"status":"ok"}`, for health checks.
#[route(GET "/ping")]
pub async fn ping() -> Json<Status> {
    Json(Status { status: "ok" })
}

mambo::router! {
    /// The hello service.
    pub struct Hello {
        routes: [plaintext, json, user_post, ping],
    }
}
