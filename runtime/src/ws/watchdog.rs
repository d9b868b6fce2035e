//! The task around a WebSocket handler: what cuts a socket off when its
//! client stops answering, stops reading, or the server shuts down.
//!
//! The handler owns the socket, so the watchdog cannot write to it. It
//! shares a [`Watch`] with the socket instead:
//!
//! - the socket counts the frames it reads and the writes that complete,
//!   and marks a write that waits for the client;
//! - on each tick (the shortest timeout of the config) the watchdog reads
//!   those counts, and asks the socket to ping (`PING`) or to close with
//!   1001 (`AWAY`, when the server drains) through flags, waking the task
//!   that reads the socket;
//! - when a timeout has passed, or the server's shutdown timeout, it drops
//!   the handler's future, and with it the socket and the connection.
//!
//! Per message the socket pays relaxed loads and stores on its own cache
//! line; nothing is allocated after the socket is set up.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, Ordering};
use std::task::Waker;
use std::time::Duration;

use futures_util::task::AtomicWaker;

use super::config::WebSocketConfig;
use crate::server::upgrade::ServerShutdown;

const TARGET: &str = "mambo::ws";

/// Ask the socket to send a ping.
pub(super) const PING: u8 = 1;
/// Ask the socket to close with 1001: the server is shutting down.
pub(super) const AWAY: u8 = 2;

/// What a socket and its watchdog share.
#[derive(Debug, Default)]
pub(super) struct Watch {
    /// Frames read, any kind. Written only by the reading side.
    received: AtomicU32,
    /// Writes (flushes) completed.
    sent: AtomicU32,
    /// Whether a write is waiting for the client to read.
    write_waiting: AtomicBool,
    /// `PING` and `AWAY` requests for the socket.
    requests: AtomicU8,
    /// The task waiting to read from the socket.
    reader: AtomicWaker,
    /// The task waiting to write to it.
    writer: AtomicWaker,
}

impl Watch {
    #[inline]
    pub(super) fn frame_received(&self) {
        let count = self.received.load(Ordering::Relaxed);
        self.received.store(count.wrapping_add(1), Ordering::Relaxed);
    }

    #[inline]
    pub(super) fn write_done(&self) {
        let count = self.sent.load(Ordering::Relaxed);
        self.sent.store(count.wrapping_add(1), Ordering::Relaxed);
        if self.write_waiting.load(Ordering::Relaxed) {
            self.write_waiting.store(false, Ordering::Relaxed);
        }
    }

    /// A write must wait for the client: `waker` is woken when the server
    /// shuts down.
    pub(super) fn write_waits(&self, waker: &Waker) {
        self.writer.register(waker);
        self.write_waiting.store(true, Ordering::Relaxed);
    }

    /// The reading side has nothing to read: `waker` is woken for a request.
    pub(super) fn read_waits(&self, waker: &Waker) {
        self.reader.register(waker);
    }

    /// The pending requests, if any (one load when there are none).
    #[inline]
    pub(super) fn requests(&self) -> u8 {
        self.requests.load(Ordering::Acquire)
    }

    /// Clears `request` once the socket acted on it.
    pub(super) fn done(&self, request: u8) {
        self.requests.fetch_and(!request, Ordering::AcqRel);
    }

    fn request(&self, request: u8) {
        self.requests.fetch_or(request, Ordering::AcqRel);
        self.reader.wake();
        self.writer.wake();
    }
}

/// Runs `handler` (which owns the socket sharing `watch`) until it ends, a
/// timeout of `config` passes, or the server's shutdown timeout does.
pub(super) async fn guard(
    handler: impl Future<Output = ()>,
    watch: &Watch,
    config: &WebSocketConfig,
    shutdown: Option<ServerShutdown>,
) {
    let mut handler = std::pin::pin!(handler);
    let mut timeouts = Timeouts::new(config);
    let tick = config.tick().unwrap_or(Duration::MAX / 4);
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + tick, tick);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (mut draining, mut closed) = match shutdown {
        Some(shutdown) => (Some(shutdown.clone()), Some(shutdown)),
        None => (None, None),
    };
    let mut went_away = false;
    loop {
        tokio::select! {
            // The watchdog's branches first: a handler kept busy (a client
            // that floods) spends the task's cooperative budget, and a
            // timer polled after it in the same poll would never be ready.
            biased;
            () = wait_closed(&mut closed), if went_away => {
                tracing::debug!(target: TARGET, "shutdown timeout: dropping the WebSocket");
                return;
            }
            () = wait(&mut draining), if !went_away => {
                went_away = true;
                tracing::debug!(target: TARGET, "server draining: closing the WebSocket with 1001");
                watch.request(AWAY);
            }
            _ = ticks.tick(), if config.tick().is_some() => {
                if let Some(why) = timeouts.check(watch, tick) {
                    tracing::debug!(target: TARGET, why, "dropping the WebSocket");
                    return;
                }
            }
            () = &mut handler => {
                tracing::trace!(target: TARGET, "WebSocket handler ended");
                return;
            }
        }
    }
}

async fn wait(shutdown: &mut Option<ServerShutdown>) {
    match shutdown {
        Some(shutdown) => shutdown.draining().await,
        None => std::future::pending().await,
    }
}

async fn wait_closed(shutdown: &mut Option<ServerShutdown>) {
    match shutdown {
        Some(shutdown) => shutdown.closed().await,
        None => std::future::pending().await,
    }
}

/// The watchdog's view of the socket at the last tick.
struct Timeouts {
    ping_interval: Option<Duration>,
    idle_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    received: u32,
    sent: u32,
    /// How long no frame has come in.
    silent: Duration,
    /// How long a write has waited without progress.
    stalled: Duration,
    pinged: bool,
}

impl Timeouts {
    fn new(config: &WebSocketConfig) -> Self {
        Timeouts {
            ping_interval: config.get_ping_interval(),
            idle_timeout: config.get_idle_timeout(),
            write_timeout: config.get_write_timeout(),
            received: 0,
            sent: 0,
            silent: Duration::ZERO,
            stalled: Duration::ZERO,
            pinged: false,
        }
    }

    /// One tick `tick` after the last: `Some(why)` when the socket must go.
    fn check(&mut self, watch: &Watch, tick: Duration) -> Option<&'static str> {
        let received = watch.received.load(Ordering::Relaxed);
        if received != self.received {
            (self.received, self.silent, self.pinged) = (received, Duration::ZERO, false);
        } else {
            self.silent += tick;
        }
        let sent = watch.sent.load(Ordering::Relaxed);
        if sent == self.sent && watch.write_waiting.load(Ordering::Relaxed) {
            self.stalled += tick;
        } else {
            (self.sent, self.stalled) = (sent, Duration::ZERO);
        }
        if self.idle_timeout.is_some_and(|timeout| self.silent >= timeout) {
            return Some("idle timeout: no frame from the client");
        }
        if self.write_timeout.is_some_and(|timeout| self.stalled >= timeout) {
            return Some("write timeout: the client does not read");
        }
        if !self.pinged && self.ping_interval.is_some_and(|interval| self.silent >= interval) {
            self.pinged = true;
            watch.request(PING);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> WebSocketConfig {
        WebSocketConfig::default()
            .ping_interval(Some(Duration::from_secs(10)))
            .idle_timeout(Some(Duration::from_secs(30)))
            .write_timeout(Some(Duration::from_secs(20)))
    }

    #[test]
    fn a_silent_client_is_pinged_then_dropped() {
        let (watch, mut timeouts, tick) =
            (Watch::default(), Timeouts::new(&config()), Duration::from_secs(10));
        assert_eq!(timeouts.check(&watch, tick), None);
        assert_eq!(watch.requests(), PING, "pinged after 10 s of silence");
        watch.done(PING);
        assert_eq!(timeouts.check(&watch, tick), None);
        assert_eq!(watch.requests(), 0, "one ping per silence");
        assert!(timeouts.check(&watch, tick).unwrap().starts_with("idle timeout"));
    }

    #[test]
    fn a_frame_resets_the_silence() {
        let (watch, mut timeouts, tick) =
            (Watch::default(), Timeouts::new(&config()), Duration::from_secs(10));
        for _ in 0..10 {
            watch.frame_received();
            assert_eq!(timeouts.check(&watch, tick), None);
        }
        assert_eq!(watch.requests(), 0);
    }

    #[test]
    fn a_write_that_waits_without_progress_times_out() {
        let (watch, mut timeouts, tick) =
            (Watch::default(), Timeouts::new(&config()), Duration::from_secs(10));
        watch.write_waits(&Waker::noop().clone());
        watch.frame_received();
        assert_eq!(timeouts.check(&watch, tick), None);
        watch.write_done();
        watch.write_waits(&Waker::noop().clone());
        watch.frame_received();
        assert_eq!(timeouts.check(&watch, tick), None, "progress resets the stall");
        watch.frame_received();
        assert_eq!(timeouts.check(&watch, tick), None);
        watch.frame_received();
        assert!(timeouts.check(&watch, tick).unwrap().starts_with("write timeout"));
    }
}
