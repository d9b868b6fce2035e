//! What the WebSocket echo servers share: a counting global allocator, the
//! `__allocs` query, and a `GET /ping` readiness answer.
//!
//! Every server binary declares
//! `#[global_allocator] static GLOBAL: ws_echo::Counting = ws_echo::Counting;`
//! and answers the text message [`ALLOCS_QUERY`] with [`allocations`] as
//! decimal text instead of echoing it; `ws-echo-client` asks before and after
//! its measured phase. The client itself does not count.

#![deny(missing_docs)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

/// The text message a server answers with its allocation count.
pub const ALLOCS_QUERY: &str = "__allocs";
/// The WebSocket route every server serves.
pub const WS_PATH: &str = "/ws";

static ALLOCS: AtomicU64 = AtomicU64::new(0);

/// `System`, counting `alloc`, `alloc_zeroed` and `realloc` calls.
pub struct Counting;

// SAFETY: forwards every call to `System` unchanged; the counter is a side effect.
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

/// Allocations (`alloc` + `alloc_zeroed` + `realloc`) since the process started.
pub fn allocations() -> u64 {
    ALLOCS.load(Ordering::Relaxed)
}

/// The answer to [`ALLOCS_QUERY`].
pub fn allocations_text() -> String {
    allocations().to_string()
}

/// A multi-thread tokio runtime with `threads` workers (every server uses
/// the same layout; `cargo xtask bench ws` passes `--threads 1`).
pub fn runtime(threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build()
}

/// Binds 127.0.0.1:`port`.
pub async fn bind(port: u16) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(("127.0.0.1", port)).await
}
