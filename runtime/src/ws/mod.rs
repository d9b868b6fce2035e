//! WebSockets (feature `ws`): the [`WebSocketUpgrade`] extractor answers the
//! handshake, and the handler gets a [`WebSocket`] to [`recv`](WebSocket::recv)
//! and [`send`](WebSocket::send) [`Message`]s on.
//!
//! - HTTP/1.1 `Upgrade: websocket` ([RFC 6455]) and HTTP/2 extended
//!   `CONNECT` ([RFC 8441]) both reach a `#[route(GET ..)]`.
//! - Subprotocols: [`WebSocketUpgrade::protocols`].
//! - Limits and timeouts with production defaults ([`WebSocketConfig`]):
//!   2 MiB messages and frames, `send` waits for a slow client rather than
//!   queueing (backpressure), pings for a silent client, and the connection
//!   is dropped when it stops answering or stops reading.
//! - When the server starts its graceful shutdown, each socket sends a
//!   close frame with 1001 (going away); a socket still open at the
//!   shutdown timeout is dropped.
//! - An upgraded connection still counts under the server's
//!   `max_connections` and `max_connections_per_client`.
//!
//! The protocol is [tokio-tungstenite]'s, which passes the Autobahn
//! TestSuite (`cargo xtask autobahn`); BENCHMARKS.md has the measurement
//! behind the choice, and the echo benchmark against axum.
//!
//! # Examples
//!
//! A chat room: each socket's messages go to every other socket.
//!
//! ```no_run
//! use mambo::prelude::*;
//! use mambo::ws::{Message, WebSocketUpgrade};
//! use tokio::sync::broadcast;
//!
//! #[derive(Clone)]
//! struct Room(broadcast::Sender<String>);
//!
//! #[route(GET "/chat")]
//! async fn chat(upgrade: WebSocketUpgrade, State(room): State<Room>) -> Response {
//!     upgrade.on_upgrade(move |socket| async move {
//!         let (mut sender, mut receiver) = socket.split();
//!         let mut heard = room.0.subscribe();
//!         let forward = async {
//!             while let Ok(line) = heard.recv().await {
//!                 if sender.send(Message::text(line)).await.is_err() {
//!                     break;
//!                 }
//!             }
//!         };
//!         let read = async {
//!             while let Some(Ok(message)) = receiver.recv().await {
//!                 if let Message::Text(line) = message {
//!                     let _ = room.0.send(line.to_string());
//!                 }
//!             }
//!         };
//!         // Both halves in the handler's own task (not a spawned one), so
//!         // that the socket goes when the handler is dropped.
//!         tokio::select! {
//!             () = forward => {}
//!             () = read => {}
//!         }
//!     })
//! }
//!
//! mambo::router! {
//!     struct Chat {
//!         state: Room,
//!         routes: [chat],
//!     }
//! }
//! ```
//!
//! [RFC 6455]: https://www.rfc-editor.org/rfc/rfc6455
//! [RFC 8441]: https://www.rfc-editor.org/rfc/rfc8441
//! [tokio-tungstenite]: https://docs.rs/tokio-tungstenite

mod config;
mod message;
mod rejection;
mod socket;
mod upgrade;
mod watchdog;

pub use config::{DEFAULT_MAX_MESSAGE_SIZE, WebSocketConfig};
pub use message::{CloseFrame, Message, Utf8Bytes, close_code};
pub use rejection::WebSocketRejection;
pub use socket::{Error, WebSocket, WebSocketReceiver, WebSocketSender};
pub use upgrade::WebSocketUpgrade;
