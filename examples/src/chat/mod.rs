//! A chat room over WebSockets, with the room's events (who is online, who
//! joined, who left) streamed over server-sent events.
//!
//! | route | answer |
//! |---|---|
//! | `GET /` | the page ([`INDEX_HTML`]): a name, the log, an input, the number online |
//! | `GET /ws` | a WebSocket in the room: send `{"name":"..","text":".."}`, receive every message posted |
//! | `GET /events` | `text/event-stream`: `presence` (number online), `joined` and `left` (names) |
//! | `GET /healthz` | `{"status":"ok","online":N}` |
//!
//! On the socket the server sends JSON tagged by `type`
//! ([`protocol::Outgoing`]): `message` (with the room's sequence `id` and
//! the server time `ts` in Unix milliseconds), `error` (to the sender of
//! invalid input only) and `lagged` (to a socket that fell behind the room,
//! with how many messages it `missed`).
//!
//! `src/bin/chat.rs` serves it; `tests/tests/chat.rs` tests it over real
//! sockets and `cargo xtask e2e` in a real browser.
//!
//! # Examples
//!
//! ```
//! use mambo::test::TestClient;
//! use mambo_examples::chat::{Chat, Room};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let client = TestClient::new(Chat::new(Room::new()));
//! assert!(client.get("/").send().await.text().contains("<title>Chat</title>"));
//! assert_eq!(client.get("/healthz").send().await.text(), r#"{"status":"ok","online":0}"#);
//! # }
//! ```

pub mod events;
pub mod protocol;
pub mod room;
pub mod socket;

use mambo::prelude::*;
use mambo::sse::{KeepAlive, Sse};
use mambo::ws::WebSocketUpgrade;
use serde::Serialize;

pub use room::{Room, RoomEvent};

/// The page, from `examples/chat-assets/index.html`.
pub const INDEX_HTML: &str = include_str!("../../chat-assets/index.html");

/// The largest WebSocket message a client may send: a valid one is far
/// smaller (a name and at most 500 characters); a larger one closes the
/// socket with 1009.
pub const MAX_MESSAGE_BYTES: usize = 16 << 10;

/// `GET /`: the page.
#[route(GET "/")]
pub async fn index() -> Html<&'static str> {
    Html(INDEX_HTML)
}

/// `GET /ws`: joins the room.
#[route(GET "/ws")]
pub async fn ws(upgrade: WebSocketUpgrade, State(room): State<Room>) -> Response {
    upgrade.config(room.socket_config()).on_upgrade(move |socket| socket::session(room, socket))
}

/// `GET /events`: the room's events, with keep-alive comments.
#[route(GET "/events")]
pub async fn events(State(room): State<Room>) -> impl IntoResponse {
    Sse::new(events::stream(room)).keep_alive(KeepAlive::new())
}

/// The `/healthz` body.
#[derive(Debug, Serialize)]
pub struct Health {
    /// Always "ok".
    pub status: &'static str,
    /// Sockets open now.
    pub online: usize,
}

/// `GET /healthz`.
#[route(GET "/healthz")]
pub async fn healthz(State(room): State<Room>) -> Json<Health> {
    Json(Health { status: "ok", online: room.online() })
}

mambo::router! {
    /// The chat room; build it with `Chat::new(Room::new())`.
    pub struct Chat {
        state: Room,
        routes: [index, ws, events, healthz],
    }
}
