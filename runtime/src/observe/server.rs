//! Server-wide counters: process-wide, like Prometheus's own process
//! metrics, whatever number of servers the process runs.
//!
//! Always kept (no feature): each is a relaxed atomic touched on a rare
//! event (a shed request, a timeout, a panic, an accept error) or once per
//! connection, never on the per-request fast path. [`snapshot`] reads them
//! all; the `metrics` feature exposes them.

use std::sync::atomic::{AtomicU64, Ordering};

/// The protocol a connection speaks, as the server's counters label it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// HTTP/1.1 (or 1.0).
    Http1,
    /// HTTP/2, over TLS or cleartext.
    Http2,
}

/// The process's server counters.
#[derive(Debug)]
pub(crate) struct ServerStats {
    /// Connections accepted and served, per [`Protocol`] (index 0: HTTP/1, 1: HTTP/2).
    pub(crate) connections_opened: [AtomicU64; 2],
    /// Connections closed, per protocol; open = opened - closed.
    pub(crate) connections_closed: [AtomicU64; 2],
    /// Requests answered 503 because the server was over a limit (in-flight
    /// requests, connections, per-client connections).
    pub(crate) shed: AtomicU64,
    /// Requests answered 429 by the `RateLimit` middleware.
    pub(crate) rate_limited: AtomicU64,
    /// Requests answered 408: the client's body came too slowly.
    pub(crate) timeouts_408: AtomicU64,
    /// Requests answered 504: the handler missed its deadline.
    pub(crate) timeouts_504: AtomicU64,
    /// Handler or middleware panics answered 500.
    pub(crate) panics: AtomicU64,
    /// Errors from `accept` (the listener itself, not one connection).
    pub(crate) accept_errors: AtomicU64,
}

/// The one set of server counters in the process.
pub(crate) static STATS: ServerStats = ServerStats {
    connections_opened: [AtomicU64::new(0), AtomicU64::new(0)],
    connections_closed: [AtomicU64::new(0), AtomicU64::new(0)],
    shed: AtomicU64::new(0),
    rate_limited: AtomicU64::new(0),
    timeouts_408: AtomicU64::new(0),
    timeouts_504: AtomicU64::new(0),
    panics: AtomicU64::new(0),
    accept_errors: AtomicU64::new(0),
};

/// Adds one to a server counter.
#[inline]
pub(crate) fn count(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// A reading of every server counter at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerSnapshot {
    /// Open connections speaking HTTP/1.x.
    pub open_connections_http1: u64,
    /// Open connections speaking HTTP/2.
    pub open_connections_http2: u64,
    /// Requests being answered, over every server of the process.
    pub in_flight: u64,
    /// Requests and connections shed with a 503 (over a limit).
    pub shed: u64,
    /// 429 answers of the `RateLimit` middleware.
    pub rate_limited: u64,
    /// 408 answers: request bodies that came too slowly.
    pub timeouts_408: u64,
    /// 504 answers: handlers past their deadline.
    pub timeouts_504: u64,
    /// Panics answered with a 500.
    pub panics: u64,
    /// Errors from `accept`.
    pub accept_errors: u64,
}

/// Reads every server counter.
///
/// # Examples
///
/// ```
/// let now = mambo::observe::server::snapshot();
/// assert!(now.panics <= mambo::observe::server::snapshot().panics);
/// ```
pub fn snapshot() -> ServerSnapshot {
    let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
    let open = |i: usize| {
        // Closed is read first: a connection closing between the reads
        // cannot make open negative.
        let closed = load(&STATS.connections_closed[i]);
        load(&STATS.connections_opened[i]).saturating_sub(closed)
    };
    ServerSnapshot {
        open_connections_http1: open(0),
        open_connections_http2: open(1),
        in_flight: in_flight(),
        shed: load(&STATS.shed),
        rate_limited: load(&STATS.rate_limited),
        timeouts_408: load(&STATS.timeouts_408),
        timeouts_504: load(&STATS.timeouts_504),
        panics: load(&STATS.panics),
        accept_errors: load(&STATS.accept_errors),
    }
}

/// Requests being answered by every server of the process.
fn in_flight() -> u64 {
    // Filled in by the server wiring (each server's own in-flight counter,
    // summed over the servers alive).
    0
}
