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
//! `--port N` (127.0.0.1) or `CHAT_ADDR` (default `127.0.0.1:8081`), the log level from `RUST_LOG`
//! (default `info`); the `MAMBO_*` timeouts of `mambo_examples::server_env`
//! apply, `MAMBO_WS_*` to the sockets. On Ctrl-C or SIGTERM the sockets are closed with 1001 and open
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
    let mut addr = std::env::var("CHAT_ADDR").unwrap_or_else(|_| DEFAULT_ADDR.to_owned());
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => {}
        [flag, port] if flag == "--port" && port.parse::<u16>().is_ok() => {
            addr = format!("127.0.0.1:{port}");
        }
        _ => {
            eprintln!("usage: chat [--port N] (or CHAT_ADDR=HOST:PORT; default {DEFAULT_ADDR})");
            std::process::exit(2);
        }
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let listening = mambo_examples::server_env::server(&addr, false)
        .shutdown_timeout(SHUTDOWN_TIMEOUT)
        .listen()?;
    mambo_examples::alloc::start_trimming();
    println!("chat listening on http://{}", listening.local_addr());
    let config = mambo_examples::server_env::socket_config(
        mambo_examples::chat::room::default_socket_config(),
    )
    .unwrap_or_else(|message| {
        eprintln!("{message}");
        std::process::exit(2);
    });
    listening.serve(Chat::new(Room::new().with_socket_config(config))).await
}
