//! hyper's HTTP/1.1 header read timeout without an allocation per request.
//!
//! hyper asks its [`Timer`] for a fresh `Pin<Box<dyn Sleep>>` each time it
//! starts waiting for a request head, and drops it once the head is in. With
//! hyper-util's `TokioTimer` that is one 112-byte box per request: the one
//! allocation Mambo's hot path made that raw hyper (without a header
//! timeout) does not (`tests/tests/alloc.rs`).
//!
//! [`HeadTimer`] hands hyper a zero-sized [`HeadSleep`] instead (boxing a
//! zero-sized value allocates nothing). The state lives in a [`HeadSlot`]
//! inside the connection's future, [`HeadTimed`]: one `tokio::time::Sleep`,
//! created once per connection, and each head's deadline, which the sleep
//! catches up with lazily (see [`HeadSlot`]). While
//! `HeadTimed` polls hyper's connection, a thread-local points at its slot;
//! hyper only touches the header timer from inside that poll
//! (`Conn::poll_read_head`), so the sleep it holds finds its slot there.
//!
//! Semantics are hyper's own: the deadline is set when hyper starts waiting
//! for a head, polled with the connection's waker while the head is
//! incomplete, and cancelled when the head is complete; on expiry hyper ends
//! the connection with its header-timeout error. (After the head is in, the
//! slot's tokio sleep stays registered; when it expires, at most once per
//! timeout period, it wakes the connection once and nothing polls it.)

use std::cell::{Cell, UnsafeCell};
use std::future::Future;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::ptr;
use std::task::{Context, Poll};
use std::time::Instant;

use hyper::rt::{Sleep, Timer};
use hyper_util::rt::TokioTimer;

thread_local! {
    /// The slot of the connection being polled on this thread, or null.
    static CURRENT: Cell<*const HeadSlot> = const { Cell::new(ptr::null()) };
}

/// The HTTP/1.1 header read timer of one connection.
///
/// The tokio sleep is moved lazily: a new head only records its deadline
/// (`deadline`), and the sleep, armed no later than that, is pushed to the
/// recorded deadline when it fires early. Heads start later and later, so
/// the timer wheel is touched about once per timeout period rather than once
/// per request.
pub(crate) struct HeadSlot {
    /// Registered with tokio's timer only once polled; its deadline is never
    /// later than `deadline` while a head is awaited.
    sleep: UnsafeCell<tokio::time::Sleep>,
    /// The deadline of the head being read.
    deadline: Cell<tokio::time::Instant>,
}

impl HeadSlot {
    fn new() -> Self {
        let now = tokio::time::Instant::now();
        HeadSlot { sleep: UnsafeCell::new(tokio::time::sleep_until(now)), deadline: Cell::new(now) }
    }

    /// Runs `f` on the slot of the connection being polled on this thread,
    /// if any.
    fn with_current<T>(f: impl FnOnce(&HeadSlot, Pin<&mut tokio::time::Sleep>) -> T) -> Option<T> {
        let slot = CURRENT.with(Cell::get);
        if slot.is_null() {
            return None;
        }
        // SAFETY: `CURRENT` is non-null only inside `HeadTimed::poll`, which
        // points it at its own slot, pinned (never moved while pointed at),
        // and resets it before returning; we are inside that poll, on its
        // thread. The sleep is reached only here, and the `&mut` does not
        // outlive `f`, so it is unique.
        let (slot, sleep) = unsafe { (&*slot, Pin::new_unchecked(&mut *(*slot).sleep.get())) };
        Some(f(slot, sleep))
    }

    /// Ready once the recorded deadline has passed.
    fn poll_deadline(
        &self,
        mut sleep: Pin<&mut tokio::time::Sleep>,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        let deadline = self.deadline.get();
        if sleep.deadline() > deadline {
            sleep.as_mut().reset(deadline);
        }
        while sleep.as_mut().poll(cx).is_ready() {
            if sleep.deadline() >= deadline {
                return Poll::Ready(());
            }
            // Armed for an earlier head: move on to this one's deadline.
            sleep.as_mut().reset(deadline);
        }
        Poll::Pending
    }
}

/// hyper's HTTP/1.1 timer: [`HeadSleep`]s bound to the polled connection.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct HeadTimer;

impl Timer for HeadTimer {
    fn sleep(&self, duration: std::time::Duration) -> Pin<Box<dyn Sleep>> {
        self.sleep_until(self.now() + duration)
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Sleep>> {
        match HeadSlot::with_current(|slot, _| slot.deadline.set(deadline.into())) {
            // A zero-sized box: no allocation.
            Some(()) => Box::pin(HeadSleep(())),
            // Not called from a connection's poll (hyper does not do that
            // today): an ordinary, boxed sleep.
            None => TokioTimer::new().sleep_until(deadline),
        }
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn Sleep>>, new_deadline: Instant) {
        let reset = sleep.is::<HeadSleep>()
            && HeadSlot::with_current(|slot, _| slot.deadline.set(new_deadline.into())).is_some();
        if !reset {
            *sleep = self.sleep_until(new_deadline);
        }
    }

    fn now(&self) -> Instant {
        // Like `TokioTimer`: follows tokio's clock, also when paused in tests.
        tokio::time::Instant::now().into_std()
    }
}

/// The header timeout hyper holds: a handle on the polled connection's slot.
#[derive(Debug)]
pub(crate) struct HeadSleep(());

impl Future for HeadSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Polled outside its connection's poll, which hyper does not do:
        // never fires rather than touching another connection.
        HeadSlot::with_current(|slot, sleep| slot.poll_deadline(sleep, cx)).unwrap_or(Poll::Pending)
    }
}

impl Sleep for HeadSleep {}

/// A connection future polled with its [`HeadSlot`] current.
pub(crate) struct HeadTimed<F> {
    slot: HeadSlot,
    inner: F,
    /// `CURRENT` points into this value while it is polled.
    _pinned: PhantomPinned,
}

impl<F> HeadTimed<F> {
    pub(crate) fn new(inner: F) -> Self {
        HeadTimed { slot: HeadSlot::new(), inner, _pinned: PhantomPinned }
    }

    /// The wrapped future (for hyper's `graceful_shutdown`).
    pub(crate) fn inner(self: Pin<&mut Self>) -> Pin<&mut F> {
        // SAFETY: structural pinning; `inner` is never moved out.
        unsafe { self.map_unchecked_mut(|this| &mut this.inner) }
    }
}

/// Restores `CURRENT` when a poll ends (also on unwind).
struct Current(*const HeadSlot);

impl Drop for Current {
    fn drop(&mut self) {
        CURRENT.with(|current| current.set(self.0));
    }
}

impl<F: Future> Future for HeadTimed<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: structural pinning: neither field is moved out of `this`.
        let this = unsafe { self.get_unchecked_mut() };
        let _restore = Current(CURRENT.with(|current| current.replace(&this.slot)));
        // SAFETY: as above, `inner` stays where it is.
        let inner = unsafe { Pin::new_unchecked(&mut this.inner) };
        inner.poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::server::config::Config;
    use crate::server::shared::Shared;
    use crate::{ConnInfo, IntoResponse, Request, Response, RouteInfo, Router};

    #[tokio::test]
    async fn a_head_sleep_fires_at_its_deadline_and_is_zero_sized() {
        let mut sleep: Option<Pin<Box<dyn Sleep>>> = None;
        let start = Instant::now();
        let deadline = HeadTimer.now() + Duration::from_millis(50);
        let conn = std::future::poll_fn(move |cx| {
            let sleep = sleep.get_or_insert_with(|| HeadTimer.sleep_until(deadline));
            assert!(sleep.is::<HeadSleep>());
            assert_eq!(std::mem::size_of_val(&**sleep), 0);
            sleep.as_mut().poll(cx)
        });
        HeadTimed::new(conn).await;
        assert!(start.elapsed() >= Duration::from_millis(50));
    }

    #[tokio::test]
    async fn outside_a_connection_it_is_an_ordinary_sleep() {
        let sleep = HeadTimer.sleep(Duration::from_millis(1));
        assert!(!sleep.is::<HeadSleep>());
        sleep.await;
    }

    struct Hi;

    impl Router for Hi {
        fn routes(&self) -> &'static [RouteInfo] {
            &[]
        }

        async fn handle(&self, _: Request, _: ConnInfo) -> Response {
            "hi".into_response()
        }
    }

    /// Through hyper: the timer is armed again for the second head of a
    /// keep-alive connection, and a head that stalls there is cut off.
    #[tokio::test]
    async fn the_second_head_of_a_keep_alive_connection_is_timed_too() {
        let config = Config {
            header_read_timeout: Some(Duration::from_millis(200)),
            keep_alive_timeout: None,
            ..Config::default()
        };
        let shared = Arc::new(Shared::new(Hi, config));
        let (mut client, io) = tokio::io::duplex(4096);
        let server = tokio::spawn(crate::server::conn::serve(
            crate::server::conn::ConnState::new(shared, ConnInfo::default(), None),
            io,
        ));

        let mut buf = [0u8; 1024];
        let mut start = Instant::now();
        for _ in 0..2 {
            // Idle less than the timeout before a request: fine.
            tokio::time::sleep(Duration::from_millis(100)).await;
            client.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
            let n = client.read(&mut buf).await.unwrap();
            assert!(buf[..n].starts_with(b"HTTP/1.1 200 OK"));
            assert!(buf[..n].ends_with(b"hi"));
            // hyper starts the clock when it starts waiting for the next head.
            start = Instant::now();
        }
        client.write_all(b"GET / HTTP/1.1\r\nhost:").await.unwrap();
        let read = tokio::time::timeout(Duration::from_secs(3), client.read(&mut buf)).await;
        assert_eq!(read.expect("the stalled head was not cut off").unwrap(), 0);
        assert!(start.elapsed() >= Duration::from_millis(150), "{:?}", start.elapsed());
        server.await.unwrap();
    }
}
