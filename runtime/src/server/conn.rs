//! One connection: hyper's automatic HTTP/1.1 / HTTP/2 serving, plus the
//! two things hyper does not do by itself: closing idle connections and
//! reacting to the server's shutdown.
//!
//! The protocol is picked from the first bytes: the HTTP/2 preface means
//! HTTP/2 with prior knowledge (h2c, or h2 after ALPN), anything else
//! HTTP/1.1 with keep-alive and pipelining.

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio::time::Instant;

use super::head_timer::HeadTimed;
use super::request;
use super::shared::Shared;
use super::shutdown::{ConnectionGuard, Phase};
use super::side_wake::SideWake;
use super::trace::TARGET;
use crate::context::ConnInfo;
use crate::service::Router;

/// The state of one connection that its requests see. Allocated once per
/// connection; each request clones the `Arc`.
pub(crate) struct ConnState<R> {
    pub(crate) shared: Arc<Shared<R>>,
    pub(crate) info: ConnInfo,
    /// Requests of this connection being answered.
    active: AtomicUsize,
    /// Whether a request started since the idle check last looked.
    touched: AtomicBool,
    /// Counts the connection as open until the last of its requests is
    /// done (an HTTP/2 stream's task may outlive the connection's).
    _open: Option<ConnectionGuard>,
    /// Wakes the connection's task for its shutdown and idle watchers.
    watchers: SideWake,
}

impl<R: Router> Wake for ConnState<R> {
    fn wake(self: Arc<Self>) {
        self.watchers.wake();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.watchers.wake();
    }
}

impl<R> ConnState<R> {
    /// The state of a connection described by `info`; `open` is its place
    /// in the server's connection count, if it has one.
    pub(crate) fn new(
        shared: Arc<Shared<R>>,
        info: ConnInfo,
        open: Option<ConnectionGuard>,
    ) -> Arc<Self> {
        Arc::new(ConnState {
            shared,
            info,
            active: AtomicUsize::new(0),
            touched: AtomicBool::new(false),
            _open: open,
            watchers: SideWake::new(),
        })
    }

    /// Marks a request as started until the guard drops.
    #[inline]
    pub(crate) fn start_request(&self) -> ActiveGuard<'_> {
        self.active.fetch_add(1, Ordering::Relaxed);
        self.touched.store(true, Ordering::Relaxed);
        ActiveGuard(&self.active)
    }

    /// No request is being answered and none started since the last look.
    fn is_quiet(&self) -> bool {
        let touched = self.touched.swap(false, Ordering::Relaxed);
        !touched && self.active.load(Ordering::Relaxed) == 0
    }
}

/// A request being answered on a connection.
#[derive(Debug)]
pub(crate) struct ActiveGuard<'a>(&'a AtomicUsize);

impl Drop for ActiveGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Serves `io` until the client closes it, it goes idle, or the server shuts
/// down.
///
/// Idle means: no request answered or started for `keep_alive_timeout`. The
/// check runs every half timeout, so an idle connection closes after between
/// one and one and a half timeouts. It also covers connections that never
/// send a byte, which hyper's header timeout does not see (the protocol
/// detection reads first). Closing is hyper's graceful shutdown: a request
/// being answered is finished first.
pub(crate) async fn serve<R, I>(conn: Arc<ConnState<R>>, io: I)
where
    R: Router,
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let shared = &*conn.shared;
    let mut phase = shared.shutdown.subscribe();
    let idle_tick = shared.config.keep_alive_timeout.map(|t| (t / 2).max(Duration::from_millis(1)));
    let service = {
        let conn = conn.clone();
        service_fn(move |req| request::handle(&conn, req))
    };
    // `HeadTimed`: hyper's HTTP/1.1 header read timer (`HeadTimer`) finds
    // this connection's sleep through it, so no request allocates one.
    let mut http = pin!(HeadTimed::new(shared.http.serve_connection(TokioIo::new(io), service)));

    let mut closing = false;
    if *phase.borrow_and_update() != Phase::Running {
        closing = true;
        http.as_mut().inner().graceful_shutdown();
    }
    let mut phase_change = pin!(next_phase(phase));
    let idle = tokio::time::sleep(idle_tick.unwrap_or(Duration::MAX / 4));
    let mut idle = pin!(idle);
    let mut quiet_ticks = 0u8;
    // The watchers (phase, idle tick) are polled with this waker, and only
    // when it fired: see `side_wake`.
    let watchers_waker = Waker::from(conn.clone());
    let mut task_waker = None;
    let ended = std::future::poll_fn(|cx| {
        loop {
            if let Poll::Ready(done) = http.as_mut().poll(cx) {
                return Poll::Ready(Some(done));
            }
            if !conn.watchers.take(cx.waker(), &mut task_waker) {
                return Poll::Pending;
            }
            let mut watchers = Context::from_waker(&watchers_waker);
            let mut shut_down = false;
            while let Poll::Ready((now, phase)) = phase_change.as_mut().poll(&mut watchers) {
                phase_change.set(next_phase(phase));
                match now {
                    Phase::Running => {}
                    Phase::Draining if !closing => {
                        closing = true;
                        shut_down = true;
                        http.as_mut().inner().graceful_shutdown();
                    }
                    Phase::Draining => {}
                    Phase::Closed => return Poll::Ready(None),
                }
            }
            if let Some(tick) = idle_tick.filter(|_| !closing) {
                while idle.as_mut().poll(&mut watchers).is_ready() {
                    quiet_ticks = if conn.is_quiet() { quiet_ticks + 1 } else { 0 };
                    if quiet_ticks >= 2 {
                        tracing::trace!(target: TARGET, remote = ?conn.info.remote_addr, "closing an idle connection");
                        closing = true;
                        shut_down = true;
                        http.as_mut().inner().graceful_shutdown();
                        break;
                    }
                    idle.as_mut().reset(Instant::now() + tick);
                }
            }
            if !shut_down {
                return Poll::Pending;
            }
            // Graceful shutdown may end an idle connection at once: poll it.
        }
    })
    .await;
    if let Some(Err(err)) = ended {
        tracing::debug!(target: TARGET, remote = ?conn.info.remote_addr, %err, "connection ended with an error");
    }
}

/// The server's next phase, with the receiver to wait for the one after.
async fn next_phase(mut phase: watch::Receiver<Phase>) -> (Phase, watch::Receiver<Phase>) {
    let now = match phase.changed().await {
        Ok(()) => *phase.borrow_and_update(),
        // The server is gone.
        Err(_) => Phase::Closed,
    };
    (now, phase)
}
