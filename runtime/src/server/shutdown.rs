//! Graceful shutdown: what triggers it, how it reaches every accept loop and
//! connection, and how the server waits for connections to drain.
//!
//! The sequence, run by `serve` once the trigger fires:
//!
//! 0. A linked [`Health`](crate::observe::health::Health)'s readiness
//!    answers 503 from now on, and the server accepts and serves as usual
//!    for the shutdown delay, if one is set, so that load balancers have
//!    stopped sending before the listeners close (see [`announced`]).
//! 1. [`Phase::Draining`]: accept loops drop their listeners. HTTP/2
//!    connections send `GOAWAY` and finish their open streams. Every
//!    HTTP/1.1 response from now on carries `connection: close`, and hyper
//!    closes the connection after it; a connection between two requests is
//!    left [`DRAIN_LINGER`](super::idle::DRAIN_LINGER) to send the next one
//!    before it is closed (see `idle`), since closing it at once would
//!    reset a request already on its way, which the client could not tell
//!    from one that failed.
//! 2. Wait until no connection is left, at most the shutdown timeout.
//! 3. [`Phase::Closed`]: whatever is still open is dropped.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, watch};

use super::config::Config;

/// Where the server is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Accepting and serving.
    Running,
    /// Not accepting; connections finish what they are doing.
    Draining,
    /// The deadline passed (or everything drained): drop what is left.
    Closed,
}

/// A future that starts the shutdown when it completes.
pub(crate) type Trigger = Pin<Box<dyn Future<Output = ()> + Send>>;

/// `trigger`, followed by what comes before the drain: the linked
/// [`Health`](crate::observe::health::Health) is told (its readiness
/// answers 503), then the server serves on for the shutdown delay. Returns
/// `trigger` itself when neither is set.
pub(crate) fn announced(trigger: Trigger, config: &Config) -> Trigger {
    let (health, delay) = (config.health.clone(), config.shutdown_delay);
    if health.is_none() && delay.is_zero() {
        return trigger;
    }
    Box::pin(async move {
        trigger.await;
        if let Some(health) = &health {
            health.start_shutdown();
        }
        if !delay.is_zero() {
            tracing::info!(
                target: "mambo::server",
                ?delay,
                "shutdown requested: serving on for the shutdown delay before draining"
            );
            tokio::time::sleep(delay).await;
        }
    })
}

/// Shared by the accept loops and connections of one server.
#[derive(Debug)]
pub(crate) struct Shutdown {
    phase: watch::Sender<Phase>,
    /// Whether the phase is past [`Phase::Running`]: what the request path
    /// reads, once per HTTP/1.1 response, for the price of a plain load.
    draining: AtomicBool,
    /// Open connections (TLS handshakes included). Also the connection limit's
    /// counter; padded since every accept and close writes it.
    connections: super::shed::Padded<AtomicUsize>,
    all_closed: Notify,
}

impl Shutdown {
    pub(crate) fn new() -> Self {
        Shutdown {
            phase: watch::Sender::new(Phase::Running),
            draining: AtomicBool::new(false),
            connections: super::shed::Padded(AtomicUsize::new(0)),
            all_closed: Notify::new(),
        }
    }

    /// A receiver for an accept loop or a connection.
    pub(crate) fn subscribe(&self) -> watch::Receiver<Phase> {
        self.phase.subscribe()
    }

    /// Moves every subscriber to `phase`.
    pub(crate) fn set(&self, phase: Phase) {
        self.draining.store(phase != Phase::Running, Ordering::Relaxed);
        self.phase.send_replace(phase);
    }

    /// Whether the server is shutting down: HTTP/1.1 responses then carry
    /// `connection: close`, so that a client between two requests learns it
    /// from its next answer instead of from a connection closed under the
    /// request it just sent.
    #[inline]
    pub(crate) fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// Counts a new connection unless `max` are already open.
    pub(crate) fn try_open(self: &Arc<Self>, max: usize) -> Option<ConnectionGuard> {
        let open = self.connections.0.fetch_add(1, Ordering::AcqRel);
        if open >= max {
            self.close_one();
            return None;
        }
        Some(ConnectionGuard(self.clone()))
    }

    /// Open connections now.
    pub(crate) fn open_connections(&self) -> usize {
        self.connections.0.load(Ordering::Acquire)
    }

    fn close_one(&self) {
        if self.connections.0.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.all_closed.notify_waiters();
        }
    }

    /// Waits until no connection is open, at most `deadline`. Returns whether
    /// everything closed in time.
    pub(crate) async fn drained(&self, deadline: Duration) -> bool {
        tokio::time::timeout(deadline, async {
            loop {
                let notified = self.all_closed.notified();
                let mut notified = std::pin::pin!(notified);
                // Registers before the check so a close between the two is not missed.
                notified.as_mut().enable();
                if self.open_connections() == 0 {
                    return;
                }
                notified.await;
            }
        })
        .await
        .is_ok()
    }
}

/// One open connection; closes it in the count on drop.
#[derive(Debug)]
pub(crate) struct ConnectionGuard(Arc<Shutdown>);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.close_one();
    }
}

/// Completes on Ctrl-C (SIGINT) or, on Unix, SIGTERM.
///
/// If a handler cannot be installed the failure is logged and the other
/// signal still works; if none can, this never completes.
pub(crate) async fn signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(target: "mambo::server", %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(err) => {
                tracing::error!(target: "mambo::server", %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!(target: "mambo::server", "Ctrl-C received, shutting down"),
        () = terminate => tracing::info!(target: "mambo::server", "SIGTERM received, shutting down"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_limit_holds_and_frees() {
        let shutdown = Arc::new(Shutdown::new());
        let first = shutdown.try_open(2).unwrap();
        let second = shutdown.try_open(2).unwrap();
        assert!(shutdown.try_open(2).is_none());
        assert_eq!(shutdown.open_connections(), 2);
        drop(first);
        let third = shutdown.try_open(2);
        assert!(third.is_some());
        drop((second, third));
        assert_eq!(shutdown.open_connections(), 0);
    }

    #[tokio::test]
    async fn drained_waits_for_the_last_connection() {
        let shutdown = Arc::new(Shutdown::new());
        let guard_owner = shutdown.clone();
        let closer = tokio::spawn(async move {
            let guard = guard_owner.try_open(1).unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            drop(guard);
        });
        while shutdown.open_connections() == 0 {
            assert!(!closer.is_finished(), "the connection never opened");
            tokio::task::yield_now().await;
        }
        assert!(shutdown.drained(Duration::from_secs(5)).await);
        closer.await.unwrap();
    }

    #[tokio::test]
    async fn drained_gives_up_at_the_deadline() {
        let shutdown = Arc::new(Shutdown::new());
        let _open = shutdown.try_open(1).unwrap();
        assert!(!shutdown.drained(Duration::from_millis(20)).await);
    }
}
