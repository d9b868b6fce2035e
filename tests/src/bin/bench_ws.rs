//! `mambo-bench-ws [--port N] [--threads N] [--autobahn]`: a Mambo
//! WebSocket echo route, `GET /ws`, and `GET /ping` (200), for the `mambo`
//! row of `cargo xtask bench ws` and the server `cargo xtask autobahn`
//! tests.
//!
//! As the peers of `xtask/bench-peers/ws-echo/` do, it counts the
//! process's allocations and answers the text message `__allocs` with the
//! count instead of echoing it. The sockets have Mambo's default
//! [`WebSocketConfig`]; `--autobahn` raises the message and frame limits to
//! 64 MiB, since the suite's largest cases send 16 MiB messages.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use mambo::prelude::*;
use mambo::ws::{Message, WebSocketConfig, WebSocketUpgrade};

static ALLOCS: AtomicU64 = AtomicU64::new(0);

/// `System`, counting `alloc`, `alloc_zeroed` and `realloc` calls.
struct Counting;

// SAFETY: forwards every call to `System` unchanged; the count is a side effect.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[route(GET "/ws")]
async fn ws(upgrade: WebSocketUpgrade, State(config): State<WebSocketConfig>) -> Response {
    upgrade.config(config).on_upgrade(|mut socket| async move {
        while let Some(Ok(message)) = socket.recv().await {
            let reply = match message {
                Message::Text(text) if text == "__allocs" => {
                    Message::text(ALLOCS.load(Ordering::Relaxed).to_string())
                }
                Message::Text(_) | Message::Binary(_) => message,
                // Pings are answered by the socket; a close ends the loop.
                _ => continue,
            };
            if socket.send(reply).await.is_err() {
                break;
            }
        }
    })
}

#[route(GET "/ping")]
async fn ping() -> StatusCode {
    StatusCode::OK
}

mambo::router! {
    struct EchoApi {
        state: WebSocketConfig,
        routes: [ws, ping],
    }
}

fn main() -> std::io::Result<()> {
    let (mut port, mut threads, mut autobahn) = (8080u16, 1usize, false);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => port = args.next().and_then(|v| v.parse().ok()).unwrap_or_else(usage),
            "--threads" => threads = args.next().and_then(|v| v.parse().ok()).unwrap_or_else(usage),
            "--autobahn" => autobahn = true,
            _ => usage(),
        }
    }
    let config = if autobahn {
        WebSocketConfig::default().max_message_size(64 << 20).max_frame_size(64 << 20)
    } else {
        WebSocketConfig::default()
    };
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build()?;
    let server = mambo::Server::bind(("127.0.0.1", port))
        .max_connections(100_000)
        .max_connections_per_client(None);
    runtime.block_on(server.serve(EchoApi::new(config)))
}

fn usage<T>() -> T {
    eprintln!("usage: mambo-bench-ws [--port N] [--threads N] [--autobahn]");
    std::process::exit(2)
}
