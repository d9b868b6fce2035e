//! When a connection has waited too long for a request: the header read and
//! keep-alive timeouts, decided at the ticks of one sleep per connection.
//!
//! hyper has its own HTTP/1.1 header read timeout, but it restarts a timer
//! before every request head and, while one is set, loops once more over the
//! connection after each response to start it, with an extra read attempt
//! (about 800 instructions per request in callgrind, `cargo xtask bench cpu`:
//! 8 % of a whole `/plaintext` request). Here a request only counts itself
//! in the connection's [`Activity`] and a write sets a flag there; the
//! connection's task reads them at each tick.
//!
//! # What counts as activity
//!
//! Idle means the client asks nothing of the server: a connection is *busy*
//! over a tick when a request started, a handler was running, or response
//! bytes moved — and writes count only while a response is unfinished
//! ([`Activity::open_response`]) or a write had to wait for room in the
//! socket (a large response draining to a slow reader). What the server writes on its own
//! (HTTP/2 PING and SETTINGS acknowledgements, WINDOW_UPDATE, GOAWAY) never
//! keeps a connection open, so a client that only pings is closed like a
//! silent one.
//!
//! # Closing
//!
//! Quiet for the whole timeout, a connection is closed: gracefully first
//! (hyper closes an HTTP/1.1 connection between requests at once; HTTP/2
//! sends GOAWAY) and dropped at the next tick whatever it does meanwhile
//! (half the timeout, at most [`MAX_TICK`]): it was quiet, so nothing under way deserves
//! more time, and a client that never reads its responses cannot hold it
//! open. A connection that never started a request (silent, pinging, or a
//! first head trickling in) has nothing to finish and is dropped at once.
//! During the server's shutdown (see `conn::serve`) a busy connection is
//! kept until the shutdown timeout instead.
//!
//! # Draining
//!
//! When the server starts shutting down, an HTTP/2 connection is closed
//! gracefully at once (`GOAWAY` names the last stream served, so the client
//! knows what to retry). An HTTP/1.1 connection has no such signal: closed
//! between two requests, it resets the next one if the client already sent
//! it. So it lingers for [`DRAIN_LINGER`] first: a request that comes in
//! meanwhile is answered with `connection: close`, which ends the
//! connection cleanly, and only a connection still quiet after that is
//! closed (and dropped at the tick after, like any draining one).
//!
//! Ticks come every half timeout, at most every [`MAX_TICK`], so a
//! connection closes within `min(timeout / 2, 1 s)` after its timeout.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::time::Duration;

use http::Version;

use super::count::CountGuard;

/// The longest time between two ticks, so that a connection closes at most
/// this long after its timeout.
pub(crate) const MAX_TICK: Duration = Duration::from_secs(1);

/// How long an HTTP/1.1 connection between two requests is left, once the
/// server starts shutting down, to send its next request (answered with
/// `connection: close`) before it is closed. A program on the other end
/// (a proxy's pool, a service client, a load tester) sends its next
/// request within milliseconds; a person's browser idles for seconds, and
/// is then closed with the same small chance of a crossing request as at
/// any keep-alive timeout. It delays the shutdown only while such
/// connections are open.
pub(crate) const DRAIN_LINGER: Duration = Duration::from_millis(500);

/// What the request path and the connection's I/O record for the ticks.
#[derive(Debug, Default)]
pub(crate) struct Activity {
    /// Requests whose handler is running.
    answering: AtomicUsize,
    /// Of those, the ones waiting for request body bytes.
    waiting_for_body: AtomicUsize,
    /// Responses whose body hyper is still sending (streams, and large
    /// HTTP/2 bodies; see `server::unfinished`).
    open_responses: AtomicUsize,
    /// The protocol of a request started since the last tick, if any.
    started: AtomicU8,
    /// Whether bytes were written since the last tick.
    wrote: AtomicBool,
    /// Whether a write since the last tick had to wait for room in the
    /// socket: the output is backed up behind a slow reader.
    backlog: AtomicBool,
}

const NONE: u8 = 0;
const HTTP1: u8 = 1;
const HTTP2: u8 = 2;

impl Activity {
    /// Marks a request as started, and being answered until the guard drops.
    #[cfg(test)]
    pub(crate) fn start_request(&self, version: Version) -> CountGuard<'_> {
        self.started(version);
        self.answer()
    }

    /// Marks a request as started: the connection was busy this tick.
    #[inline]
    pub(crate) fn started(&self, version: Version) {
        let protocol = if version == Version::HTTP_2 { HTTP2 } else { HTTP1 };
        self.started.store(protocol, Ordering::Relaxed);
    }

    /// Counts a handler as running until the guard drops.
    #[inline]
    pub(crate) fn answer(&self) -> CountGuard<'_> {
        CountGuard::add(&self.answering).0
    }

    /// Handlers running now and not waiting for their request body.
    #[inline]
    pub(crate) fn working(&self) -> usize {
        let waiting = self.waiting_for_body.load(Ordering::Relaxed);
        self.answering.load(Ordering::Relaxed).saturating_sub(waiting)
    }

    /// A handler started (`true`) or stopped waiting for request body bytes.
    pub(crate) fn waiting_for_body(&self, waiting: bool) {
        if waiting {
            self.waiting_for_body.fetch_add(1, Ordering::Relaxed);
        } else {
            self.waiting_for_body.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Records that bytes were written.
    #[inline]
    pub(crate) fn wrote(&self) {
        self.wrote.store(true, Ordering::Relaxed);
    }

    /// Records that a write had to wait: the socket is full, output is
    /// backed up behind a slow reader.
    #[inline]
    pub(crate) fn blocked(&self) {
        self.backlog.store(true, Ordering::Relaxed);
    }

    /// Counts a response as unfinished until
    /// [`close_response`](Self::close_response): its writes keep the
    /// connection busy.
    pub(crate) fn open_response(&self) {
        self.open_responses.fetch_add(1, Ordering::Relaxed);
    }

    /// The end of a response counted by [`open_response`](Self::open_response).
    pub(crate) fn close_response(&self) {
        self.open_responses.fetch_sub(1, Ordering::Relaxed);
    }

    /// Responses counted by [`open_response`](Self::open_response) and not
    /// closed yet.
    #[cfg(test)]
    pub(crate) fn open_responses(&self) -> usize {
        self.open_responses.load(Ordering::Relaxed)
    }

    /// Whether a request on HTTP/2 started since the last tick (without
    /// taking it, unlike the tick).
    fn http2_started(&self) -> bool {
        self.started.load(Ordering::Relaxed) == HTTP2
    }

    /// What happened since the last call.
    fn take(&self) -> Seen {
        let started = match self.started.swap(NONE, Ordering::Relaxed) {
            NONE => None,
            HTTP2 => Some(Served::Http2),
            _ => Some(Served::Http1),
        };
        let wrote = self.wrote.swap(false, Ordering::Relaxed);
        let backlog = self.backlog.swap(false, Ordering::Relaxed);
        let answering = self.answering.load(Ordering::Relaxed) > 0;
        let responding = self.open_responses.load(Ordering::Relaxed) > 0;
        let sending = wrote && (responding || backlog);
        Seen { started, busy: started.is_some() || answering || sending }
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
    /// Close now.
    Drop,
}

/// Why a connection is closing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Closing {
    /// It was quiet for its whole timeout: dropped at the next tick.
    Idle,
    /// The server is shutting down and this HTTP/1.1 connection may have a
    /// request on its way: closed gracefully at the next tick
    /// ([`DRAIN_LINGER`] away), then draining.
    Lingering,
    /// The server is shutting down: kept while busy.
    Draining,
}

/// How a connection starts draining (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Drain {
    /// Start hyper's graceful shutdown now.
    Now,
    /// Wait this long for a last request first: the next tick is this far
    /// away.
    After(Duration),
}

/// The tick-by-tick decision for one connection.
#[derive(Debug)]
pub(crate) struct IdleWatch {
    header_read: Option<Duration>,
    keep_alive: Option<Duration>,
    /// Whether a request ever started, and on which protocol.
    served: Option<Served>,
    /// How long the connection has been quiet, in whole ticks.
    quiet: Duration,
    closing: Option<Closing>,
}

/// The protocol a connection's requests came in on; HTTP/2 wins (ordered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Served {
    Http1,
    Http2,
}

impl IdleWatch {
    pub(crate) fn new(header_read: Option<Duration>, keep_alive: Option<Duration>) -> Self {
        IdleWatch { header_read, keep_alive, served: None, quiet: Duration::ZERO, closing: None }
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
        self.limit().map(|limit| (limit / 2).clamp(Duration::from_millis(1), MAX_TICK))
    }

    /// The server started shutting down: from now on a quiet tick drops
    /// the connection (a busy one is kept). An HTTP/1.1 connection lingers
    /// first (see the module docs) when ticks run at all, that is when a
    /// timeout is set; one that is already closing goes on as it was.
    pub(crate) fn start_draining(&mut self, activity: &Activity) -> Drain {
        if self.closing.is_some() {
            return Drain::Now;
        }
        let http2 = self.served == Some(Served::Http2) || activity.http2_started();
        if http2 || self.tick().is_none() {
            self.closing = Some(Closing::Draining);
            return Drain::Now;
        }
        self.closing = Some(Closing::Lingering);
        Drain::After(DRAIN_LINGER)
    }

    /// Whether the connection is closing, for being idle or for the
    /// server's shutdown.
    pub(crate) fn is_closing(&self) -> bool {
        self.closing.is_some()
    }

    /// Reads the activity since the last tick and decides.
    pub(crate) fn on_tick(&mut self, activity: &Activity) -> Verdict {
        let elapsed = self.tick().unwrap_or(Duration::ZERO);
        let seen = activity.take();
        match self.closing {
            Some(Closing::Idle) => return Verdict::Drop,
            Some(Closing::Lingering) => {
                self.closing = Some(Closing::Draining);
                return Verdict::CloseGracefully;
            }
            Some(Closing::Draining) if !seen.busy => return Verdict::Drop,
            Some(Closing::Draining) => return Verdict::Keep,
            None => {}
        }
        if seen.busy {
            // Only a request makes a connection served: HTTP/2 writes its
            // settings before any.
            self.served = self.served.max(seen.started);
            self.quiet = Duration::ZERO;
            return Verdict::Keep;
        }
        self.quiet += elapsed;
        if self.limit().is_some_and(|limit| self.quiet < limit) {
            return Verdict::Keep;
        }
        self.closing = Some(Closing::Idle);
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
    fn a_served_connection_closes_gracefully_then_is_dropped_at_the_next_tick() {
        let mut watch = IdleWatch::new(Some(SECOND), Some(SECOND));
        let activity = Activity::default();
        drop(activity.start_request(Version::HTTP_11));
        assert_eq!(
            ticks(&mut watch, &activity, 4),
            [Verdict::Keep, Verdict::Keep, Verdict::CloseGracefully, Verdict::Drop],
        );
    }

    #[test]
    fn after_an_idle_close_nothing_keeps_the_connection() {
        // A GOAWAY written, a response blocked on a client that does not
        // read: the connection goes anyway.
        let mut watch = IdleWatch::new(Some(SECOND), Some(SECOND));
        let activity = Activity::default();
        drop(activity.start_request(Version::HTTP_2));
        assert_eq!(ticks(&mut watch, &activity, 3)[2], Verdict::CloseGracefully);
        activity.open_response();
        activity.wrote();
        assert_eq!(watch.on_tick(&activity), Verdict::Drop);
    }

    #[test]
    fn handlers_and_unfinished_responses_keep_a_connection_open() {
        let mut watch = IdleWatch::new(Some(SECOND), None);
        let activity = Activity::default();
        let answering = activity.start_request(Version::HTTP_11);
        assert_eq!(ticks(&mut watch, &activity, 5), [Verdict::Keep; 5]);
        drop(answering);
        activity.open_response();
        for _ in 0..5 {
            activity.wrote();
            assert_eq!(watch.on_tick(&activity), Verdict::Keep);
        }
        // A response that stopped moving (the client does not read) is quiet.
        assert_eq!(ticks(&mut watch, &activity, 2), [Verdict::Keep, Verdict::CloseGracefully]);
    }

    #[test]
    fn writes_to_a_full_socket_keep_a_connection_open() {
        // A large buffered response draining to a slow reader: its body is
        // already handed over, but the writes have to wait for room.
        let mut watch = IdleWatch::new(Some(SECOND), None);
        let activity = Activity::default();
        drop(activity.start_request(Version::HTTP_11));
        for _ in 0..5 {
            activity.blocked();
            activity.wrote();
            assert_eq!(watch.on_tick(&activity), Verdict::Keep);
        }
    }

    #[test]
    fn the_servers_own_writes_do_not_keep_a_connection_open() {
        // PING and SETTINGS acknowledgements: whole writes, no response open.
        let mut watch = IdleWatch::new(None, Some(SECOND));
        let activity = Activity::default();
        drop(activity.start_request(Version::HTTP_2));
        assert_eq!(watch.on_tick(&activity), Verdict::Keep);
        let mut verdicts = Vec::new();
        for _ in 0..3 {
            activity.wrote();
            verdicts.push(watch.on_tick(&activity));
        }
        assert_eq!(verdicts, [Verdict::Keep, Verdict::CloseGracefully, Verdict::Drop]);

        let mut never_served = IdleWatch::new(None, Some(SECOND));
        let pinged = Activity::default();
        let verdicts: Vec<_> = (0..2)
            .map(|_| {
                pinged.wrote();
                never_served.on_tick(&pinged)
            })
            .collect();
        assert_eq!(verdicts, [Verdict::Keep, Verdict::Drop]);
    }

    #[test]
    fn http2_uses_the_keep_alive_timeout_once_it_sent_a_request() {
        let mut watch = IdleWatch::new(Some(SECOND), Some(10 * SECOND));
        assert_eq!(watch.tick(), Some(SECOND / 2), "before a request: the shorter one");
        let activity = Activity::default();
        drop(activity.start_request(Version::HTTP_2));
        watch.on_tick(&activity);
        assert_eq!(watch.tick(), Some(MAX_TICK));
        assert_eq!(ticks(&mut watch, &activity, 9), [Verdict::Keep; 9]);
        assert_eq!(watch.on_tick(&activity), Verdict::CloseGracefully);

        let mut http1 = IdleWatch::new(Some(SECOND), Some(10 * SECOND));
        drop(activity.start_request(Version::HTTP_11));
        http1.on_tick(&activity);
        assert_eq!(http1.tick(), Some(SECOND / 2));
    }

    #[test]
    fn long_timeouts_tick_every_second_so_the_close_is_on_time() {
        let watch = IdleWatch::new(Some(30 * SECOND), Some(30 * SECOND));
        assert_eq!(watch.tick(), Some(MAX_TICK));
        let mut watch = watch;
        let activity = Activity::default();
        let verdicts = ticks(&mut watch, &activity, 30);
        assert!(verdicts[..29].iter().all(|v| *v == Verdict::Keep));
        assert_eq!(verdicts[29], Verdict::Drop);
    }

    #[test]
    fn without_timeouts_there_are_no_ticks() {
        assert_eq!(IdleWatch::new(None, None).tick(), None);
        assert_eq!(IdleWatch::new(None, Some(SECOND)).tick(), Some(SECOND / 2));
    }

    #[test]
    fn while_the_server_drains_a_busy_connection_is_kept_a_quiet_one_dropped() {
        let mut watch = IdleWatch::new(Some(SECOND), None);
        let activity = Activity::default();
        drop(activity.start_request(Version::HTTP_11));
        assert_eq!(watch.on_tick(&activity), Verdict::Keep);
        assert_eq!(watch.start_draining(&activity), Drain::After(DRAIN_LINGER));
        assert!(watch.is_closing());
        // The lingering tick closes gracefully whatever happened meanwhile:
        // a request then was answered with `connection: close`.
        assert_eq!(watch.on_tick(&activity), Verdict::CloseGracefully);
        activity.open_response();
        activity.wrote();
        assert_eq!(watch.on_tick(&activity), Verdict::Keep);
        activity.close_response();
        assert_eq!(watch.on_tick(&activity), Verdict::Drop);
    }

    #[test]
    fn http1_lingers_when_the_server_drains_http2_and_untimed_connections_do_not() {
        let activity = Activity::default();
        assert_eq!(
            IdleWatch::new(Some(SECOND), None).start_draining(&activity),
            Drain::After(DRAIN_LINGER),
            "no request yet: one may be on its way"
        );
        drop(activity.start_request(Version::HTTP_2));
        let mut http2 = IdleWatch::new(Some(SECOND), None);
        assert_eq!(http2.start_draining(&activity), Drain::Now, "before the tick saw it");
        http2.on_tick(&activity);
        let mut http2 = IdleWatch::new(Some(SECOND), None);
        http2.on_tick(&{
            let a = Activity::default();
            drop(a.start_request(Version::HTTP_2));
            a
        });
        assert_eq!(http2.start_draining(&Activity::default()), Drain::Now, "after the tick");
        let untimed = &mut IdleWatch::new(None, None);
        assert_eq!(untimed.start_draining(&Activity::default()), Drain::Now);
    }

    #[test]
    fn a_connection_already_closing_for_idleness_does_not_linger() {
        let mut watch = IdleWatch::new(Some(SECOND), None);
        let activity = Activity::default();
        assert_eq!(ticks(&mut watch, &activity, 1), [Verdict::Keep]);
        drop(activity.start_request(Version::HTTP_11));
        watch.on_tick(&activity);
        ticks(&mut watch, &activity, 2);
        assert!(watch.is_closing());
        assert_eq!(watch.start_draining(&activity), Drain::Now);
        assert_eq!(watch.on_tick(&activity), Verdict::Drop);
    }
}
