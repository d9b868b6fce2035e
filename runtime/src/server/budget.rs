//! How much an HTTP/2 connection may hold in responses its client has not
//! read, so that a client that never opens its flow-control window cannot
//! make the server buffer without bound.
//!
//! HTTP/2 lets a client ask for up to `http2_max_concurrent_streams`
//! responses at once and then read none of them (a window of zero): each
//! handler's whole response stays in memory. Each connection therefore
//! counts the bytes of its responses that have not gone out yet (their
//! bodies report them, see `served`), and a new request on it waits
//! (holding no in-flight slot, and not keeping the connection busy) until
//!
//! ```text
//! unsent bytes + (running handlers + 1) × RUNNING_HANDLER_ESTIMATE ≤ budget
//! ```
//!
//! or nothing is unsent or running. A running handler counts as
//! [`RUNNING_HANDLER_ESTIMATE`] because its response is not known until it
//! returns: without that, a burst of requests would all start before the
//! first response is counted. With the default budget, 16 handlers run at
//! once on one connection while its client keeps up; a client that reads
//! nothing holds at most the budget plus the responses of 16 handlers until
//! the keep-alive timeout closes the connection. HTTP/1.1 needs none of
//! this: it answers one request at a time and hyper stops reading while a
//! response is unwritten.
//!
//! A handler waiting for its request body does not count as running (as it
//! does not count against the in-flight limit): stalled uploads are bounded
//! by the body read timeout, and must not keep the other streams of their
//! connection from starting. The price: a client that sends many request
//! bodies slowly, then all at once, gets that many handlers running at once
//! (at most `http2_max_concurrent_streams`); the budget holds again for the
//! requests after them.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::sync::Notify;

/// What a handler still running is assumed to produce.
pub(crate) const RUNNING_HANDLER_ESTIMATE: u64 = 16 * 1024;

/// One connection's unsent response bytes, and the requests waiting for
/// them to go out.
#[derive(Debug, Default)]
pub(crate) struct OutputBudget {
    unsent: AtomicU64,
    /// Requests waiting for room.
    waiting: AtomicUsize,
    room: Notify,
}

impl OutputBudget {
    /// Counts `bytes` more as unsent.
    #[inline]
    pub(crate) fn add(&self, bytes: u64) {
        if bytes > 0 {
            self.unsent.fetch_add(bytes, Ordering::Relaxed);
        }
    }

    /// `bytes` counted by [`add`](Self::add) went out (or were dropped).
    #[inline]
    pub(crate) fn remove(&self, bytes: u64) {
        if bytes > 0 {
            self.unsent.fetch_sub(bytes, Ordering::Relaxed);
            self.wake_waiting();
        }
    }

    /// Wakes the requests waiting for room, if any, to look again: call it
    /// when unsent bytes went out or a handler stopped running.
    #[inline]
    pub(crate) fn wake_waiting(&self) {
        if self.waiting.load(Ordering::Relaxed) > 0 {
            self.room.notify_waiters();
        }
    }

    /// Response bytes not gone out yet.
    pub(crate) fn unsent(&self) -> u64 {
        self.unsent.load(Ordering::Relaxed)
    }

    fn fits(&self, budget: u64, running: usize) -> bool {
        let unsent = self.unsent();
        let handlers = running as u64 + 1;
        (unsent == 0 && running == 0) || unsent + handlers * RUNNING_HANDLER_ESTIMATE <= budget
    }

    /// `None` when a new handler fits in `budget` beside the `running` ones
    /// (always when nothing is unsent or running);
    /// otherwise the wait for room (`running` is read again at every
    /// wake-up), boxed so that the request future of every request does not
    /// carry its space.
    #[inline]
    pub(crate) fn admit<'a>(
        &'a self,
        budget: u64,
        running: impl Fn() -> usize + Send + 'a,
    ) -> Option<Pin<Box<dyn Future<Output = ()> + Send + 'a>>> {
        if self.fits(budget, running()) {
            return None;
        }
        Some(Box::pin(self.wait_for_room(budget, running)))
    }

    #[cold]
    async fn wait_for_room(&self, budget: u64, running: impl Fn() -> usize) {
        let _waiting = Waiting::add(&self.waiting);
        loop {
            let mut notified = pin!(self.room.notified());
            notified.as_mut().enable();
            if self.fits(budget, running()) {
                return;
            }
            notified.await;
        }
    }
}

/// Counts a request as waiting for room while it lives (also when the
/// stream is reset and its future dropped).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn add(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Waiting(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    const BUDGET: u64 = 4 * RUNNING_HANDLER_ESTIMATE;

    #[tokio::test]
    async fn running_handlers_and_unsent_bytes_share_the_budget() {
        let budget = Arc::new(OutputBudget::default());
        // Four running handlers and the new one's estimate go over: it waits.
        let running = Arc::new(AtomicUsize::new(4));
        let waiter = {
            let (budget, running) = (budget.clone(), running.clone());
            tokio::spawn(async move {
                let wait = budget.admit(BUDGET, move || running.load(Ordering::Relaxed));
                wait.expect("the budget is full").await;
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        // One finishes with a response its client has not read: still full.
        budget.add(2 * RUNNING_HANDLER_ESTIMATE);
        running.store(3, Ordering::Relaxed);
        budget.wake_waiting();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        // The client reads it: room for one more.
        budget.remove(2 * RUNNING_HANDLER_ESTIMATE);
        tokio::time::timeout(Duration::from_secs(5), waiter).await.unwrap().unwrap();
        assert_eq!(budget.waiting.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn unsent_bytes_alone_hold_new_handlers_back() {
        let budget = OutputBudget::default();
        assert!(budget.admit(BUDGET, || 0).is_none(), "an idle connection always has room");
        budget.add(BUDGET + 1);
        assert!(budget.admit(BUDGET, || 0).is_some(), "handlers that ran at once left it full");
        budget.remove(BUDGET + 1);
        assert!(budget.admit(BUDGET, || 0).is_none());
    }

    #[test]
    fn one_handler_runs_even_when_the_budget_is_smaller_than_its_estimate() {
        let budget = OutputBudget::default();
        assert!(budget.admit(1, || 0).is_none());
        assert!(budget.admit(1, || 1).is_some());
    }
}
