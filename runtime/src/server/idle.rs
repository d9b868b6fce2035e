//! When a connection has waited too long for a request: the header read and
//! keep-alive timeouts, decided at the ticks of one sleep per connection.
//!
//! hyper has its own HTTP/1.1 header read timeout, but it restarts a timer
//! before every request head and, while one is set, loops once more over the
//! connection after each response to start it, with an extra read attempt
//! (about 800 instructions per request in callgrind, `cargo xtask bench cpu`:
//! 8 % of a whole `/plaintext` request). Here a request only counts itself
//! in the connection's [`Activity`] and a write sets a flag there; the
//! connection's task reads them every half timeout.
//!
//! A connection is *quiet* over a tick when no request started, none was
//! being answered and no response byte was written. Quiet for a whole
//! timeout (two ticks), it is closed: gracefully first (hyper closes an
//! HTTP/1.1 connection between requests at once; HTTP/2 sends GOAWAY), and
//! dropped if it is still open and quiet a tick later. A connection that
//! never started a request (silent, or a first head trickling in) has
//! nothing to finish and is dropped at once.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::time::Duration;

use http::Version;

use super::count::CountGuard;

/// What the request path and the connection's I/O record for the ticks.
#[derive(Debug, Default)]
pub(crate) struct Activity {
    /// Requests being answered.
    active: AtomicUsize,
    /// The protocol of a request started since the last tick, if any.
    started: AtomicU8,
    /// Whether response bytes were written since the last tick.
    wrote: AtomicBool,
}

const NONE: u8 = 0;
const HTTP1: u8 = 1;
const HTTP2: u8 = 2;

impl Activity {
    /// Marks a request as started, and being answered until the guard drops.
    #[inline]
    pub(crate) fn start_request(&self, version: Version) -> CountGuard<'_> {
        let (active, _) = CountGuard::add(&self.active);
        let protocol = if version == Version::HTTP_2 { HTTP2 } else { HTTP1 };
        self.started.store(protocol, Ordering::Relaxed);
        active
    }

    /// Records that response bytes went out.
    #[inline]
    pub(crate) fn wrote(&self) {
        self.wrote.store(true, Ordering::Relaxed);
    }

    /// What happened since the last call.
    fn take(&self) -> Seen {
        let started = match self.started.swap(NONE, Ordering::Relaxed) {
            NONE => None,
            HTTP2 => Some(Served::Http2),
            _ => Some(Served::Http1),
        };
        let wrote = self.wrote.swap(false, Ordering::Relaxed);
        let active = self.active.load(Ordering::Relaxed) > 0;
        Seen { started, busy: started.is_some() || wrote || active }
    }
}

/// One tick's worth of [`Activity`].
#[derive(Debug, Clone, Copy)]
struct Seen {
    /// The protocol of a request that started, if one did.
    started: Option<Served>,
    busy: bool,
}

/// What to do with the connection after a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Keep,
    /// hyper's graceful shutdown: finish what is under way, then close.
    CloseGracefully,
    /// Close now: nothing is under way.
    Drop,
}

/// The tick-by-tick decision for one connection.
#[derive(Debug)]
pub(crate) struct IdleWatch {
    header_read: Option<Duration>,
    keep_alive: Option<Duration>,
    /// Whether a request ever started, and on which protocol.
    served: Option<Served>,
    quiet_ticks: u8,
    closing: bool,
}

/// The protocol a connection's requests came in on; HTTP/2 wins (ordered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Served {
    Http1,
    Http2,
}

impl IdleWatch {
    pub(crate) fn new(header_read: Option<Duration>, keep_alive: Option<Duration>) -> Self {
        IdleWatch { header_read, keep_alive, served: None, quiet_ticks: 0, closing: false }
    }

    /// How long the connection may stay quiet: the keep-alive timeout on
    /// HTTP/2 once it has sent a request; before that, and on HTTP/1.1
    /// (where a quiet connection is one waiting for a request head), also
    /// the header read timeout, whichever is shorter.
    fn limit(&self) -> Option<Duration> {
        match self.served {
            Some(Served::Http2) => self.keep_alive,
            _ => match (self.header_read, self.keep_alive) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
        }
    }

    /// The time to the next tick, or `None` when no timeout applies.
    pub(crate) fn tick(&self) -> Option<Duration> {
        self.limit().map(|limit| (limit / 2).max(Duration::from_millis(1)))
    }

    /// The connection started closing for another reason (the server's
    /// shutdown): from now on a quiet tick drops it.
    pub(crate) fn start_closing(&mut self) {
        self.closing = true;
    }

    /// Whether the connection is closing: gracefully shut down, by this
    /// watch or by [`start_closing`](Self::start_closing).
    pub(crate) fn is_closing(&self) -> bool {
        self.closing
    }

    /// Reads the activity since the last tick and decides.
    pub(crate) fn on_tick(&mut self, activity: &Activity) -> Verdict {
        let seen = activity.take();
        if seen.busy {
            // Only a request makes a connection served: HTTP/2 writes its
            // settings before any.
            self.served = self.served.max(seen.started);
            self.quiet_ticks = 0;
            return Verdict::Keep;
        }
        if self.closing {
            return Verdict::Drop;
        }
        self.quiet_ticks += 1;
        if self.quiet_ticks < 2 {
            return Verdict::Keep;
        }
        self.closing = true;
        match self.served {
            None => Verdict::Drop,
            Some(_) => Verdict::CloseGracefully,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn ticks(watch: &mut IdleWatch, activity: &Activity, n: usize) -> Vec<Verdict> {
        (0..n).map(|_| watch.on_tick(activity)).collect()
    }

    #[test]
    fn a_connection_that_never_sends_a_request_is_dropped_after_the_timeout() {
        let mut watch = IdleWatch::new(Some(SECOND), None);
        assert_eq!(watch.tick(), Some(SECOND / 2));
        let activity = Activity::default();
        assert_eq!(ticks(&mut watch, &activity, 2), [Verdict::Keep, Verdict::Drop]);
    }

    #[test]
    fn a_served_connection_closes_gracefully_then_is_dropped_if_still_quiet() {
        let mut watch = IdleWatch::new(Some(SECOND), Some(SECOND));
        let activity = Activity::default();
        drop(activity.start_request(Version::HTTP_11));
        assert_eq!(
            ticks(&mut watch, &activity, 4),
            [Verdict::Keep, Verdict::Keep, Verdict::CloseGracefully, Verdict::Drop],
        );
    }

    #[test]
    fn requests_answers_and_writes_all_keep_a_connection_open() {
        let mut watch = IdleWatch::new(Some(SECOND), None);
        let activity = Activity::default();
        let answering = activity.start_request(Version::HTTP_11);
        assert_eq!(ticks(&mut watch, &activity, 5), [Verdict::Keep; 5]);
        drop(answering);
        for _ in 0..5 {
            activity.wrote();
            assert_eq!(watch.on_tick(&activity), Verdict::Keep);
        }
        assert_eq!(ticks(&mut watch, &activity, 2), [Verdict::Keep, Verdict::CloseGracefully]);
    }

    #[test]
    fn http2_uses_the_keep_alive_timeout_once_it_sent_a_request() {
        let mut watch = IdleWatch::new(Some(SECOND), Some(10 * SECOND));
        assert_eq!(watch.tick(), Some(SECOND / 2), "before a request: the shorter one");
        let activity = Activity::default();
        drop(activity.start_request(Version::HTTP_2));
        watch.on_tick(&activity);
        assert_eq!(watch.tick(), Some(5 * SECOND));

        let mut http1 = IdleWatch::new(Some(SECOND), Some(10 * SECOND));
        drop(activity.start_request(Version::HTTP_11));
        http1.on_tick(&activity);
        assert_eq!(http1.tick(), Some(SECOND / 2));
    }

    #[test]
    fn writes_alone_do_not_make_a_connection_served() {
        // HTTP/2 writes its settings frame before any request.
        let mut watch = IdleWatch::new(Some(SECOND), None);
        let activity = Activity::default();
        activity.wrote();
        assert_eq!(ticks(&mut watch, &activity, 3), [Verdict::Keep, Verdict::Keep, Verdict::Drop]);
    }

    #[test]
    fn without_timeouts_there_are_no_ticks() {
        assert_eq!(IdleWatch::new(None, None).tick(), None);
        assert_eq!(IdleWatch::new(None, Some(SECOND)).tick(), Some(SECOND / 2));
    }

    #[test]
    fn a_quiet_tick_after_the_server_started_closing_drops_the_connection() {
        let mut watch = IdleWatch::new(Some(SECOND), None);
        let activity = Activity::default();
        drop(activity.start_request(Version::HTTP_11));
        assert_eq!(watch.on_tick(&activity), Verdict::Keep);
        watch.start_closing();
        assert_eq!(watch.on_tick(&activity), Verdict::Drop);
    }
}
