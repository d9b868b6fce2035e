//! A request body read from a connection, under the server's body read
//! limits: how long the client may leave the handler waiting for the next
//! bytes, and the lowest data rate it may send at.
//!
//! The limits cost nothing while the body is already in the server's
//! buffers (the usual small body, read in one poll). Only when a read has to
//! wait for the client does the body start a clock: one allocation (the
//! timer) per body, and a clock read at each wait's start and end. Only the
//! time spent waiting for the client counts towards the rate, never the
//! time the handler takes between reads.
//!
//! While it waits, the request does not count against the server's
//! in-flight limit (see [`Server::max_in_flight`](crate::Server::max_in_flight)):
//! a client that stalls its upload holds its own connection, not a slot
//! that running handlers need.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use super::BoxError;

/// The slowest a client may send a request body, once it had a grace
/// period; set with [`Server::min_body_rate`](crate::Server::min_body_rate).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use mambo::body::MinRate;
///
/// // At least 1 KiB/s once the body has made the handler wait 2 s.
/// let rate = MinRate::bytes_per_second(1024).after(Duration::from_secs(2));
/// # let _ = rate;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinRate {
    bytes_per_second: u32,
    grace: Duration,
}

impl MinRate {
    /// At least `bytes_per_second` (0 counts as 1), after the default grace
    /// period of 5 s.
    pub const fn bytes_per_second(bytes_per_second: u32) -> Self {
        let bytes_per_second = if bytes_per_second == 0 { 1 } else { bytes_per_second };
        MinRate { bytes_per_second, grace: Duration::from_secs(5) }
    }

    /// The time spent waiting for the body before the rate applies.
    #[must_use]
    pub const fn after(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// How long the handler may have waited in all once `received` bytes
    /// arrived.
    fn allowed_wait(&self, received: u32) -> Duration {
        let earned =
            Duration::from_secs_f64(f64::from(received) / f64::from(self.bytes_per_second));
        self.grace.saturating_add(earned)
    }
}

/// The body read limits in force on a connection.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ReadLimits {
    /// The longest a read may wait for the next bytes.
    pub(crate) idle: Option<Duration>,
    pub(crate) min_rate: Option<MinRate>,
}

/// What a body asks of the connection it came on: the limits, and where to
/// say that its request is waiting for the client.
pub(crate) trait ReadGate: Send + Sync + 'static {
    fn read_limits(&self) -> ReadLimits;

    /// The request started (`true`) or stopped waiting for body bytes.
    fn waiting_for_body(&self, waiting: bool);
}

/// The error of a body read cut off by the server's body read limits: the
/// body extractors answer it with `408 Request Timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BodyTimedOut;

impl fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the request body arrived too slowly")
    }
}

impl std::error::Error for BodyTimedOut {}

/// A request body read from a connection.
///
/// Served by Mambo's server it carries the server's body read limits
/// ([`Server::body_read_timeout`](crate::Server::body_read_timeout),
/// [`Server::min_body_rate`](crate::Server::min_body_rate)): a read that
/// waits too long fails with [`BodyTimedOut`]. Made from a hyper body by
/// hand (`IncomingBody::from`) it has none.
pub struct IncomingBody {
    inner: hyper::body::Incoming,
    /// The connection's limits, until the first read that has to wait
    /// moves them into `wait`.
    gate: Option<Arc<dyn ReadGate>>,
    /// The clock, from the first read that had to wait.
    wait: Option<Pin<Box<Wait>>>,
    /// Body bytes read so far, for the rate (saturating: 4 GiB at the
    /// slowest rate allowed is hours of waiting).
    received: u32,
    timed_out: bool,
    /// Where the route's metrics count the bytes read (`metrics` feature).
    #[cfg(feature = "metrics")]
    meter: Option<&'static std::sync::atomic::AtomicU64>,
}

pin_project_lite::pin_project! {
    /// The waiting so far, and the deadline of the current wait.
    #[project = WaitProj]
    struct Wait {
        #[pin]
        deadline: Sleep,
        // When the current wait started, if one is under way.
        since: Option<Instant>,
        // Time spent waiting before the current wait.
        waited: Duration,
        gate: Arc<dyn ReadGate>,
    }

    impl PinnedDrop for Wait {
        fn drop(this: Pin<&mut Self>) {
            this.project().stop();
        }
    }
}

/// Stands for "no deadline": tokio's timer takes deadlines up to about two
/// years away.
const FAR_AWAY: Duration = Duration::from_secs(365 * 24 * 60 * 60);

impl WaitProj<'_> {
    /// Starts a wait, unless one is under way, with the deadline the
    /// limits give after `received` bytes.
    fn start(&mut self, received: u32) {
        if self.since.is_some() {
            return;
        }
        let now = Instant::now();
        *self.since = Some(now);
        self.gate.waiting_for_body(true);
        let limits = self.gate.read_limits();
        let by_rate =
            limits.min_rate.map(|rate| rate.allowed_wait(received).saturating_sub(*self.waited));
        let allowed = match (limits.idle, by_rate) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b).unwrap_or(FAR_AWAY),
        };
        self.deadline.as_mut().reset(now + allowed);
    }

    /// Ends the wait under way, if any.
    fn stop(&mut self) {
        if let Some(since) = self.since.take() {
            *self.waited += since.elapsed();
            self.gate.waiting_for_body(false);
        }
    }
}

impl IncomingBody {
    /// A body under the limits `gate` gives; a body hyper already knows to
    /// be empty needs none (and `gate` is not called).
    pub(crate) fn watched(
        inner: hyper::body::Incoming,
        gate: impl FnOnce() -> Arc<dyn ReadGate>,
    ) -> Self {
        let gate = (!inner.is_end_stream()).then(gate);
        IncomingBody {
            inner,
            gate,
            wait: None,
            received: 0,
            timed_out: false,
            #[cfg(feature = "metrics")]
            meter: None,
        }
    }

    /// Counts the bytes read from now on into `counter`.
    #[cfg(feature = "metrics")]
    pub(crate) fn meter(&mut self, counter: &'static std::sync::atomic::AtomicU64) {
        self.meter = Some(counter);
    }

    /// hyper's body, without the limits.
    pub fn into_inner(self) -> hyper::body::Incoming {
        self.inner
    }

    /// The read is waiting for the client: starts the clock (the first
    /// time, allocating it) or goes on with it; `Ready` when a limit is
    /// passed.
    #[cold]
    fn wait(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let wait = match (&mut self.wait, self.gate.take()) {
            (Some(wait), _) => wait,
            (None, Some(gate)) => self.wait.insert(Box::pin(Wait {
                deadline: tokio::time::sleep(FAR_AWAY),
                since: None,
                waited: Duration::ZERO,
                gate,
            })),
            (None, None) => return Poll::Pending,
        };
        let mut wait = wait.as_mut().project();
        wait.start(self.received);
        wait.deadline.poll(cx)
    }

    /// The read got an answer: ends the current wait, if any.
    #[inline]
    fn stop_waiting(&mut self) {
        if let Some(wait) = &mut self.wait {
            wait.as_mut().project().stop();
        }
    }
}

impl From<hyper::body::Incoming> for IncomingBody {
    fn from(inner: hyper::body::Incoming) -> Self {
        IncomingBody {
            inner,
            gate: None,
            wait: None,
            received: 0,
            timed_out: false,
            #[cfg(feature = "metrics")]
            meter: None,
        }
    }
}

impl fmt::Debug for IncomingBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IncomingBody")
            .field("limited", &(self.gate.is_some() || self.wait.is_some()))
            .field("received", &self.received)
            .finish_non_exhaustive()
    }
}

impl HttpBody for IncomingBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if this.timed_out {
            return Poll::Ready(Some(Err(BodyTimedOut.into())));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.stop_waiting();
                if let Some(Ok(data)) = frame.as_ref().map(|f| f.as_ref().map(Frame::data_ref)) {
                    let len = data.map_or(0, |d| u32::try_from(d.len()).unwrap_or(u32::MAX));
                    this.received = this.received.saturating_add(len);
                    #[cfg(feature = "metrics")]
                    if let Some(meter) = this.meter {
                        meter.fetch_add(u64::from(len), std::sync::atomic::Ordering::Relaxed);
                    }
                }
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => {
                // For the route guard: if the handler's deadline passes now,
                // the client is the one that is late (see `stall`).
                super::stall::mark_waiting();
                ready!(this.wait(cx));
                this.stop_waiting();
                this.timed_out = true;
                crate::observe::server::count(&crate::observe::server::STATS.timeouts_408);
                Poll::Ready(Some(Err(BodyTimedOut.into())))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
