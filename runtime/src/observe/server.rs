//! Server-wide counters: process-wide, like Prometheus's own process
//! metrics, whatever number of servers the process runs.
//!
//! Always kept (no feature): each is a relaxed atomic touched on a rare
//! event (a shed request, a timeout, a panic, an accept error) or once per
//! connection, never on the per-request fast path. [`snapshot`] reads them
//! all; the `metrics` feature exposes them.
//!
//! # What is counted where
//!
//! | counter | counted when |
//! |---|---|
//! | open connections, by protocol | a connection served by a [`Server`](crate::Server) (or [`serve_connection`](crate::server::serve_connection)) is counted under its protocol once its first bytes tell it: the HTTP/2 preface means HTTP/2 (h2c, or h2 after ALPN: the client then sends the preface too), anything else HTTP/1; it is counted closed when the connection ends, whatever ends it. A connection that closes before its protocol is known (a TCP health check, a port scan, a TLS handshake that failed, a partial preface) is in neither count, and neither is one turned away by a connection limit (that is `shed`). |
//! | `in_flight` | read when asked: the sum of every live server's own in-flight count (the requests that got an in-flight slot: past the `host` check and the in-flight limit, until their response is handed to hyper) |
//! | `shed` | a request over [`max_in_flight`](crate::Server::max_in_flight), a connection over [`max_connections`](crate::Server::max_connections) or [`max_connections_per_client`](crate::Server::max_connections_per_client) (answered 503, or closed with TLS), and a connection turned away because the process is out of file descriptors |
//! | `rate_limited` | a 429 of the `RateLimit` middleware |
//! | `timeouts_408` | a request body cut off by the body read limits ([`body_read_timeout`](crate::Server::body_read_timeout), [`min_body_rate`](crate::Server::min_body_rate); the body extractors answer it 408), or a route whose deadline passed while it waited for its body |
//! | `timeouts_504` | a route whose deadline passed otherwise |
//! | `panics` | a panic in a handler, a middleware or the router, answered 500 |
//! | `accept_errors` | an `accept` that failed for the listener (out of file descriptors, out of memory), not for one connection (reset, aborted) |
//!
//! The timeouts, panics and 429s are counted where the router answers
//! them, so a router driven without a server (by [`TestClient`](crate::test::TestClient),
//! or as a tower service) counts them too.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError, Weak};

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
///
/// Each server keeps its own in-flight count (its limit needs it, on a
/// cache line of its own); this sums them over the servers alive, so
/// counting costs the request path nothing more.
fn in_flight() -> u64 {
    let servers = LIVE_SERVERS.lock().unwrap_or_else(PoisonError::into_inner);
    servers.iter().filter_map(Weak::upgrade).map(|server| server.in_flight() as u64).sum()
}

/// A server whose requests in flight [`snapshot`] adds up.
pub(crate) trait LiveServer: Send + Sync {
    /// Requests it is answering now.
    fn in_flight(&self) -> usize;
}

/// The servers alive in the process: added when one starts, removed when
/// its state drops. Weak, so that a server that is gone never lingers here
/// with its router. A lock taken once per server start and end, and by
/// each [`snapshot`]: never by a request.
static LIVE_SERVERS: Mutex<Vec<Weak<dyn LiveServer>>> = Mutex::new(Vec::new());

/// Adds a server to the ones [`snapshot`] sums up.
pub(crate) fn register(server: Weak<dyn LiveServer>) {
    let mut servers = LIVE_SERVERS.lock().unwrap_or_else(PoisonError::into_inner);
    // A server removes itself when it drops; this only guards against one
    // that never did (its drop did not run).
    servers.retain(|server| server.strong_count() > 0);
    servers.push(server);
}

/// Removes the server at `address` (the address of its state), from that
/// state's `Drop`.
pub(crate) fn deregister(address: *const ()) {
    let mut servers = LIVE_SERVERS.lock().unwrap_or_else(PoisonError::into_inner);
    servers.retain(|server| !std::ptr::eq(server.as_ptr() as *const (), address));
}

/// The first bytes of an HTTP/2 connection (RFC 9113 §3.4): hyper-util's
/// automatic builder serves HTTP/2 when a connection starts with them and
/// HTTP/1 otherwise, and so does this count.
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// One connection's place in the open-connection counts: learns its
/// protocol from the first bytes read, the way hyper-util picks it, counts
/// it opened then, and closed when dropped with the connection's I/O.
#[derive(Debug)]
pub(crate) struct ConnectionCount {
    /// While under [`SNIFFED`]: the preface bytes matched so far.
    state: u8,
}

/// The protocol is known (or will never be): reads go straight through.
const SNIFFED: u8 = H2_PREFACE.len() as u8 + 1;
/// Counted as HTTP/1 (index 0 of the counters).
const COUNTED_HTTP1: u8 = SNIFFED + 1;
/// Counted as HTTP/2 (index 1).
const COUNTED_HTTP2: u8 = SNIFFED + 2;

impl ConnectionCount {
    /// A connection whose first bytes have not been read.
    pub(crate) const fn new() -> Self {
        ConnectionCount { state: 0 }
    }

    /// Whether the first bytes are still to be looked at; the one check a
    /// read makes once the protocol is known.
    #[inline(always)]
    pub(crate) fn sniffing(&self) -> bool {
        self.state < SNIFFED
    }

    /// Bytes read from the connection while [`sniffing`](Self::sniffing);
    /// empty at the end of the stream.
    #[cold]
    pub(crate) fn read(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            // Closed before its protocol was known: counted nowhere.
            self.state = SNIFFED;
            return;
        }
        let matched = usize::from(self.state);
        let expected = &H2_PREFACE[matched..];
        let len = bytes.len().min(expected.len());
        if bytes[..len] != expected[..len] {
            self.open(Protocol::Http1);
        } else if matched + len == H2_PREFACE.len() {
            self.open(Protocol::Http2);
        } else {
            self.state = (matched + len) as u8;
        }
    }

    fn open(&mut self, protocol: Protocol) {
        let (index, state) = match protocol {
            Protocol::Http1 => (0, COUNTED_HTTP1),
            Protocol::Http2 => (1, COUNTED_HTTP2),
        };
        count(&STATS.connections_opened[index]);
        self.state = state;
    }

    /// Whether the connection was counted as HTTP/2.
    pub(crate) fn http2(&self) -> bool {
        self.state == COUNTED_HTTP2
    }

    /// The protocol the connection was counted under, if it was.
    #[cfg(test)]
    fn protocol(&self) -> Option<Protocol> {
        match self.state {
            COUNTED_HTTP1 => Some(Protocol::Http1),
            COUNTED_HTTP2 => Some(Protocol::Http2),
            _ => None,
        }
    }
}

impl Drop for ConnectionCount {
    fn drop(&mut self) {
        match self.state {
            COUNTED_HTTP1 => count(&STATS.connections_closed[0]),
            COUNTED_HTTP2 => count(&STATS.connections_closed[1]),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `reads` fed one by one to a fresh count: the protocol it was
    /// counted under.
    fn sniff(reads: &[&[u8]]) -> Option<Protocol> {
        let mut count = ConnectionCount::new();
        for read in reads {
            if count.sniffing() {
                count.read(read);
            }
        }
        count.protocol()
    }

    #[test]
    fn the_protocol_comes_from_the_first_bytes_table() {
        let h2 = &H2_PREFACE[..];
        /// The reads, the protocol counted, why.
        type Row<'a> = (&'a [&'a [u8]], Option<Protocol>, &'a str);
        let rows: &[Row<'_>] = &[
            (&[b"GET / HTTP/1.1\r\n"], Some(Protocol::Http1), "a request line"),
            (&[b"P", b"OST / HTTP/1.1\r\n"], Some(Protocol::Http1), "one byte like the preface"),
            (&[h2], Some(Protocol::Http2), "the preface in one read"),
            (&[&h2[..3], &h2[3..10], &h2[10..]], Some(Protocol::Http2), "the preface in pieces"),
            (
                &[b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\x12\x04"],
                Some(Protocol::Http2),
                "the preface then a frame",
            ),
            (&[b"PRI * HTTP/1.1\r\n"], Some(Protocol::Http1), "a PRI that is not the preface"),
            (&[b""], None, "closed before a byte"),
            (&[&h2[..5], b""], None, "closed within the preface"),
            (&[&h2[..5]], None, "still within the preface"),
            (
                &[b"\x16\x03\x01"],
                Some(Protocol::Http1),
                "anything else is HTTP/1, as for hyper-util",
            ),
        ];
        for (reads, expected, why) in rows {
            assert_eq!(sniff(reads), *expected, "{why}");
        }
    }

    #[test]
    fn a_connection_counts_open_then_closed_under_its_protocol() {
        let before = |i: usize| {
            (
                STATS.connections_opened[i].load(Ordering::Relaxed),
                STATS.connections_closed[i].load(Ordering::Relaxed),
            )
        };
        let (opened, closed) = before(1);
        let mut count = ConnectionCount::new();
        count.read(H2_PREFACE);
        assert!(!count.sniffing());
        // Other tests of the crate may serve connections meanwhile.
        assert!(STATS.connections_opened[1].load(Ordering::Relaxed) > opened);
        drop(count);
        assert!(STATS.connections_closed[1].load(Ordering::Relaxed) > closed);
    }

    struct Fixed(usize);

    impl LiveServer for Fixed {
        fn in_flight(&self) -> usize {
            self.0
        }
    }

    #[test]
    fn in_flight_sums_the_live_servers_and_forgets_the_others() {
        let first = std::sync::Arc::new(Fixed(1_000_000));
        let second = std::sync::Arc::new(Fixed(2_000_000));
        register(std::sync::Arc::downgrade(&first) as Weak<dyn LiveServer>);
        register(std::sync::Arc::downgrade(&second) as Weak<dyn LiveServer>);
        // Other tests' servers hold far fewer requests than these.
        assert!(in_flight() >= 3_000_000);
        deregister(std::sync::Arc::as_ptr(&first) as *const ());
        let now = in_flight();
        assert!((2_000_000..3_000_000).contains(&now), "{now}");
        // Dropped without deregistering: skipped, then pruned.
        drop(second);
        assert!(in_flight() < 1_000_000);
    }
}
