//! One connection: hyper's automatic HTTP/1.1 / HTTP/2 serving, plus what
//! hyper does not do by itself: closing connections that wait too long for
//! a request (`idle`) and reacting to the server's shutdown.
//!
//! The protocol is picked from the first bytes: the HTTP/2 preface means
//! HTTP/2 with prior knowledge (h2c, or h2 after ALPN), anything else
//! HTTP/1.1 with keep-alive and pipelining.
//!
//! Connections are served with upgrades: after a 101 (a WebSocket), hyper
//! hands the I/O to the upgrade and this task ends. The I/O keeps the
//! connection's state, and so its place in the connection counts, alive for
//! as long as the upgraded protocol runs; the upgrade watches the server's
//! shutdown itself (see `upgrade`). Serving with upgrades costs a request
//! nothing measurable (callgrind, per request: 0.99–1.01× before and after).

use std::io;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};

use super::budget::OutputBudget;
use super::coalesce::{Coalesced, HasWriteHold, WriteHold};
use super::idle::{Activity, Drain, IdleWatch, Verdict};
use super::per_client::ClientGuard;
use super::request;
use super::shared::Shared;
use super::shutdown::{ConnectionGuard, Phase};
use super::side_wake::SideWake;
use super::trace::TARGET;
use crate::body::{ReadGate, ReadLimits};
use crate::context::ConnInfo;
use crate::observe::server::ConnectionCount;
use crate::service::Router;

/// The state of one connection that its requests see. Allocated once per
/// connection; each request clones the `Arc`.
pub(crate) struct ConnState<R> {
    pub(crate) shared: Arc<Shared<R>>,
    pub(crate) info: ConnInfo,
    /// Requests started and being answered, and writes, for the idle watch.
    pub(crate) activity: Activity,
    /// Response bytes not gone out yet, for HTTP/2's output budget.
    pub(crate) output: OutputBudget,
    /// Counts the connection as open until the last of its requests is
    /// done (an HTTP/2 stream's task may outlive the connection's).
    _open: Option<Slots>,
    /// Wakes the connection's task for its shutdown and idle watchers.
    watchers: SideWake,
    /// Pipelined responses held for one write (see `coalesce`).
    pub(crate) hold: WriteHold,
}

impl<R> HasWriteHold for Arc<ConnState<R>> {
    #[inline]
    fn write_hold(&self) -> &WriteHold {
        &self.hold
    }
}

impl<R: Router> Wake for ConnState<R> {
    fn wake(self: Arc<Self>) {
        self.watchers.wake();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.watchers.wake();
    }
}

impl<R: Send + Sync + 'static> ReadGate for ConnState<R> {
    fn read_limits(&self) -> ReadLimits {
        let config = &self.shared.config;
        ReadLimits { idle: config.body_read_timeout, min_rate: config.min_body_rate }
    }

    fn waiting_for_body(&self, waiting: bool) {
        self.shared.in_flight.waiting_for_body(waiting);
        self.activity.waiting_for_body(waiting);
        if waiting {
            // It stopped working: room in HTTP/2's output budget.
            self.output.wake_waiting();
        }
    }
}

impl<R> ConnState<R> {
    /// The state of a connection described by `info`; `open` is its place
    /// in the server's connection counts, if it has one.
    pub(crate) fn new(shared: Arc<Shared<R>>, info: ConnInfo, open: Option<Slots>) -> Arc<Self> {
        Arc::new(ConnState {
            shared,
            info,
            activity: Activity::default(),
            output: OutputBudget::default(),
            _open: open,
            watchers: SideWake::new(),
            hold: WriteHold::default(),
        })
    }
}

/// A connection's places in the server's connection counts, held only to
/// be given back when its state drops.
#[derive(Debug)]
pub(crate) struct Slots {
    /// Its place under `max_connections`.
    pub(crate) _server: ConnectionGuard,
    /// Its place under `max_connections_per_client`, when that limit is on.
    pub(crate) _client: Option<ClientGuard>,
}

/// Serves `io` until the client closes it, it has waited too long for a
/// request (see `idle`), or the server shuts down.
///
/// The connection's task polls hyper's connection and, only when they fire,
/// two watchers: the server's phase and the idle tick.
pub(crate) async fn serve<R, I>(conn: Arc<ConnState<R>>, io: I)
where
    R: Router,
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let shared = &*conn.shared;
    let mut phase = shared.shutdown.subscribe();
    let mut idle_watch =
        IdleWatch::new(shared.config.header_read_timeout, shared.config.keep_alive_timeout);
    let service = {
        let conn = conn.clone();
        service_fn(move |req| request::handle(&conn, req))
    };
    let io = Coalesced::new(io, conn.clone());
    let io = TokioIo::new(NotingWrites { io, conn: conn.clone(), count: ConnectionCount::new() });
    let mut http = pin!(shared.http.serve_connection_with_upgrades(io, service));

    let first_tick = idle_watch.tick();
    let mut idle = pin!(tokio::time::sleep(first_tick.unwrap_or(Duration::MAX / 4)));
    if *phase.borrow_and_update() != Phase::Running
        && begin_drain(&mut idle_watch, &conn.activity, idle.as_mut())
    {
        http.as_mut().graceful_shutdown();
    }
    let mut phase_change = pin!(next_phase(phase));
    // The watchers (phase, idle tick) are polled with this waker, and only
    // when it fired: see `side_wake`.
    let watchers_waker = Waker::from(conn.clone());
    let mut task_waker = None;
    let mut yielded = false;
    let ended = std::future::poll_fn(|cx| {
        // HTTP/2 (the only protocol written through while hyper runs): a
        // woken connection lets its ready streams run first, so that one
        // poll writes all their responses. Without this, tokio's
        // multi-thread scheduler runs the connection right after the first
        // stream that wakes it (its LIFO slot), one `writev` per response or
        // two where a thread-per-core runtime makes one per batch: 1.6x the
        // requests per second for the same instructions (`bench http`).
        if conn.hold.is_through() && !std::mem::replace(&mut yielded, true) {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        yielded = false;
        loop {
            if let Poll::Ready(done) = http.as_mut().poll(cx) {
                // An upgrade may own the I/O now: nothing may wait in it.
                conn.hold.through();
                return Poll::Ready(Some(done));
            }
            if conn.hold.holding() {
                // About to wait with responses held (a handler or a body
                // is not ready, requests are left): one more poll writes
                // them, as hyper ends every poll with a flush.
                conn.hold.flush_now();
                if let Poll::Ready(done) = http.as_mut().poll(cx) {
                    conn.hold.through();
                    return Poll::Ready(Some(done));
                }
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
                    Phase::Draining if !idle_watch.is_closing() => {
                        if begin_drain(&mut idle_watch, &conn.activity, idle.as_mut()) {
                            shut_down = true;
                            http.as_mut().graceful_shutdown();
                        }
                    }
                    Phase::Draining => {}
                    Phase::Closed => return Poll::Ready(None),
                }
            }
            if first_tick.is_some() {
                while idle.as_mut().poll(&mut watchers).is_ready() {
                    match idle_watch.on_tick(&conn.activity) {
                        Verdict::Keep => {}
                        Verdict::CloseGracefully => {
                            tracing::trace!(target: TARGET, remote = ?conn.info.remote_addr, "closing an idle connection");
                            shut_down = true;
                            http.as_mut().graceful_shutdown();
                        }
                        Verdict::Drop => {
                            tracing::trace!(target: TARGET, remote = ?conn.info.remote_addr, "dropping a connection that sent no request in time");
                            return Poll::Ready(None);
                        }
                    }
                    let tick = idle_watch.tick().unwrap_or(Duration::MAX / 4);
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

/// The connection's I/O, recording in its activity that bytes went out, and
/// that a write had to wait for room (see `idle`: a response draining to a
/// slow reader is not idle).
struct NotingWrites<I, R> {
    io: I,
    conn: Arc<ConnState<R>>,
    /// The connection in the server counts: its first bytes tell its
    /// protocol; dropped with the I/O, whatever ends the connection.
    count: ConnectionCount,
}

impl<I: AsyncRead + Unpin, R> AsyncRead for NotingWrites<I, R> {
    #[inline]
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // Past the first bytes, a read costs one predictable branch on a
        // field of its own connection.
        if self.count.sniffing() {
            return self.sniffing_read(cx, buf);
        }
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<I: AsyncRead + Unpin, R> NotingWrites<I, R> {
    /// A read of the connection's first bytes, shown to its count.
    #[cold]
    fn sniffing_read(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let read = Pin::new(&mut self.io).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = read {
            self.count.read(&buf.filled()[before..]);
            if self.count.http2() {
                // The h2 crate batches its frames itself.
                self.conn.hold.through();
            }
        }
        read
    }
}

impl<I: AsyncWrite + Unpin, R> AsyncWrite for NotingWrites<I, R> {
    #[inline]
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write(cx, buf);
        self.noted(written)
    }

    #[inline]
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.noted(written)
    }

    #[inline]
    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    #[inline]
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    #[inline]
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

impl<I, R> NotingWrites<I, R> {
    #[inline]
    fn noted(&self, written: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        match written {
            Poll::Ready(Ok(1..)) => self.conn.activity.wrote(),
            Poll::Pending => self.conn.activity.blocked(),
            Poll::Ready(_) => {}
        }
        written
    }
}

/// The server started shutting down: whether to start hyper's graceful
/// shutdown now, or (an HTTP/1.1 connection that may have a request on its
/// way, see `idle`) at the idle tick, which moves to the end of the linger.
fn begin_drain(idle_watch: &mut IdleWatch, activity: &Activity, idle: Pin<&mut Sleep>) -> bool {
    match idle_watch.start_draining(activity) {
        Drain::Now => true,
        Drain::After(linger) => {
            idle.reset(Instant::now() + linger);
            false
        }
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
