//! Load shedding: past a limit, answer 503 at once instead of queueing.
//!
//! | limit | answer | code |
//! |---|---|---|
//! | in-flight requests | 503 + `Retry-After`, JSON body, the connection lives on | 50301 |
//! | open connections | a canned HTTP/1.1 503 + `Retry-After` written to the socket, then close (TLS: close) | 50302 |
//! | open connections from one client (`per_client`) | the same, with its own code and message | 50303 |
//!
//! Neither path queues: a shed request costs two atomic operations and one
//! small response, a shed connection one short-lived task, and at most
//! [`MAX_REJECTING`] of those exist at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use http::header::{HeaderValue, RETRY_AFTER};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::count::CountGuard;
use crate::response::Response;

/// Code of the 503 for too many requests in flight.
pub(crate) const IN_FLIGHT_CODE: u32 = 50301;
/// Code of the 503 for too many open connections.
pub(crate) const CONNECTIONS_CODE: u32 = 50302;
/// Code of the 503 for too many open connections from one client.
pub(crate) const CLIENT_CONNECTIONS_CODE: u32 = 50303;

/// Which connection limit a connection is turned away by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Over {
    /// The server's [`max_connections`](super::Server::max_connections).
    Connections,
    /// The client's [`max_connections_per_client`](super::Server::max_connections_per_client).
    ClientConnections,
}

impl Over {
    /// What the rejection says: its code and message.
    fn code_and_message(self) -> (u32, &'static str) {
        match self {
            Over::Connections => (CONNECTIONS_CODE, "too many connections, retry later"),
            Over::ClientConnections => {
                (CLIENT_CONNECTIONS_CODE, "too many connections from this client, retry later")
            }
        }
    }
}

/// Connections being turned away at once; past this, new ones are closed
/// without a word so that shedding itself stays bounded.
pub(crate) const MAX_REJECTING: usize = 256;

/// How long a turned-away connection may take to read its 503.
const REJECT_LINGER: Duration = Duration::from_secs(1);

/// A counter on its own cache line: counters written on every request must
/// not share a line with the read-mostly data next to them.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct Padded<T>(pub(crate) T);

/// Counts requests in flight across the whole server, and those of them
/// that are waiting for their body from the client, which the limit leaves
/// out (see [`Server::max_in_flight`](crate::Server::max_in_flight)).
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    count: Padded<AtomicUsize>,
    waiting_for_body: Padded<AtomicUsize>,
}

impl InFlight {
    /// Takes a slot unless `max` requests are being worked on; the slot is
    /// freed when the guard drops.
    #[inline]
    pub(crate) fn try_acquire(&self, max: usize) -> Option<CountGuard<'_>> {
        let (slot, before) = CountGuard::add(&self.count.0);
        // Saturating: a body read by a task that outlives its request stops
        // waiting after the request's slot is gone.
        let working = before.saturating_sub(self.waiting_for_body.0.load(Ordering::Relaxed));
        (working < max).then_some(slot)
    }

    /// A request started (`true`) or stopped waiting for its body.
    #[inline]
    pub(crate) fn waiting_for_body(&self, waiting: bool) {
        if waiting {
            self.waiting_for_body.0.fetch_add(1, Ordering::Relaxed);
        } else {
            self.waiting_for_body.0.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Requests in flight now.
    pub(crate) fn current(&self) -> usize {
        self.count.0.load(Ordering::Relaxed)
    }
}

/// The answer to a request over the in-flight limit.
#[cold]
pub(crate) fn overloaded(retry_after: u32) -> Response {
    crate::observe::server::count(&crate::observe::server::STATS.shed);
    tracing::debug!(target: "mambo::server", "in-flight limit reached, shedding a request");
    // Unreported: shedding is the server protecting itself, not an error,
    // and a report would add allocations to every request shed.
    let mut response = crate::error::render_unreported(
        StatusCode::SERVICE_UNAVAILABLE,
        IN_FLIGHT_CODE,
        "the server is overloaded, retry later",
    );
    response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(retry_after));
    response
}

/// Turns away connections over a connection limit.
#[derive(Debug)]
pub(crate) struct Rejecter {
    /// Rejections under way.
    busy: AtomicUsize,
    /// The raw HTTP/1.1 responses, built once per server.
    over_connections: Bytes,
    over_client_connections: Bytes,
}

impl Rejecter {
    pub(crate) fn new(retry_after: u32) -> Self {
        Rejecter {
            busy: AtomicUsize::new(0),
            over_connections: connection_rejection(Over::Connections, retry_after),
            over_client_connections: connection_rejection(Over::ClientConnections, retry_after),
        }
    }

    /// The raw HTTP/1.1 503 for a connection over `limit`.
    pub(crate) fn response(&self, limit: Over) -> &Bytes {
        match limit {
            Over::Connections => &self.over_connections,
            Over::ClientConnections => &self.over_client_connections,
        }
    }

    /// Writes the 503 to `stream`, closes the write side and reads until the
    /// client closes, so the kernel does not answer the client's unread
    /// request with a reset that would destroy the 503.
    ///
    /// Spawns one task that lives at most [`REJECT_LINGER`]; with
    /// [`MAX_REJECTING`] such tasks under way, the connection is just closed.
    #[cold]
    pub(crate) fn reject(self: &Arc<Self>, mut stream: TcpStream, limit: Over) {
        tracing::debug!(target: "mambo::server", ?limit, "connection limit reached, shedding a connection");
        if self.busy.fetch_add(1, Ordering::Relaxed) >= MAX_REJECTING {
            self.busy.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(REJECT_LINGER, async {
                stream.write_all(this.response(limit)).await?;
                stream.shutdown().await?;
                let mut sink = [0u8; 1024];
                while stream.read(&mut sink).await? != 0 {}
                Ok::<_, std::io::Error>(())
            })
            .await;
            this.busy.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

/// The raw HTTP/1.1 response written to a connection over `limit`.
fn connection_rejection(limit: Over, retry_after: u32) -> Bytes {
    let (code, message) = limit.code_and_message();
    let body = format!(r#"{{"code":{code},"message":"{message}"}}"#);
    Bytes::from(format!(
        "HTTP/1.1 503 Service Unavailable\r\n\
         content-type: application/json\r\n\
         retry-after: {retry_after}\r\n\
         connection: close\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_in_flight_limit_holds_and_frees() {
        let in_flight = InFlight::default();
        let first = in_flight.try_acquire(1).unwrap();
        assert!(in_flight.try_acquire(1).is_none());
        assert_eq!(in_flight.current(), 1);
        drop(first);
        assert_eq!(in_flight.current(), 0);
        assert!(in_flight.try_acquire(1).is_some());
    }

    #[test]
    fn requests_waiting_for_their_body_leave_room_for_others() {
        let in_flight = InFlight::default();
        let uploading = in_flight.try_acquire(1).unwrap();
        assert!(in_flight.try_acquire(1).is_none());
        in_flight.waiting_for_body(true);
        let working = in_flight.try_acquire(1).expect("the waiting upload takes no room");
        in_flight.waiting_for_body(false);
        assert!(in_flight.try_acquire(1).is_none(), "the upload works again");
        drop((uploading, working));
        // A body that stops waiting after its request ended cannot wrap the count.
        in_flight.waiting_for_body(true);
        assert!(in_flight.try_acquire(1).is_some());
        in_flight.waiting_for_body(false);
    }

    #[test]
    fn overloaded_is_a_503_with_retry_after_and_the_json_body() {
        let response = overloaded(3);
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[RETRY_AFTER], "3");
        assert_eq!(
            response.body().as_bytes().unwrap(),
            br#"{"code":50301,"message":"the server is overloaded, retry later"}"#
        );
    }

    #[test]
    fn the_connection_rejections_are_well_formed_http() {
        for (limit, code) in [(Over::Connections, "50302"), (Over::ClientConnections, "50303")] {
            let raw = connection_rejection(limit, 2);
            let text = std::str::from_utf8(&raw).unwrap();
            let (head, body) = text.split_once("\r\n\r\n").unwrap();
            assert!(head.starts_with("HTTP/1.1 503 "));
            assert!(head.contains("retry-after: 2"));
            assert!(head.contains(&format!("content-length: {}", body.len())));
            assert!(body.starts_with(&format!(r#"{{"code":{code},"#)), "{body}");
        }
    }
}
