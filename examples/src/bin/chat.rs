//! The chat room: WebSockets for the messages, server-sent events for who
//! is online (see `mambo_examples::chat`).
//!
//! ```text
//! cargo run --release -p mambo-examples --bin chat     # http://127.0.0.1:8081
//! CHAT_ADDR=127.0.0.1:9000 cargo run --release -p mambo-examples --bin chat
//! curl -N localhost:8081/events                        # the room's events
//! ```
//!
//! Open the address in two browser windows. The address comes from
//! `CHAT_ADDR` (default `127.0.0.1:8081`), the log level from `RUST_LOG`
//! (default `info`); the `MAMBO_*` timeouts of `mambo_examples::server_env`
//! apply. On Ctrl-C or SIGTERM the sockets are closed with 1001 and open
//! event streams get at most five seconds.

use std::time::Duration;

use mambo_examples::chat::{Chat, Room};
use tracing_subscriber::EnvFilter;

/// The system allocator, mimalloc or jemalloc, by cargo feature (see
/// `mambo_examples::alloc`).
#[global_allocator]
static ALLOCATOR: mambo_examples::alloc::Chosen = mambo_examples::alloc::CHOSEN;

/// Where the chat listens unless `CHAT_ADDR` says otherwise.
const DEFAULT_ADDR: &str = "127.0.0.1:8081";

/// How long open event streams may stay once shutdown starts.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

#[tokio::main]
async fn main() -> std::io::Result<()> {
    if std::env::args().len() > 1 {
        eprintln!("usage: chat (the address comes from CHAT_ADDR, default {DEFAULT_ADDR})");
        std::process::exit(2);
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let addr = std::env::var("CHAT_ADDR").unwrap_or_else(|_| DEFAULT_ADDR.to_owned());
    let listening = mambo_examples::server_env::server(&addr, false)
        .shutdown_timeout(SHUTDOWN_TIMEOUT)
        .listen()?;
    mambo_examples::alloc::start_trimming();
    println!("chat listening on http://{}", listening.local_addr());
    listening.serve(Chat::new(Room::new())).await
}
