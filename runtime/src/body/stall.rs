//! Whether the future being polled is waiting for the client's request
//! body: how the route guard tells a client that stalled its upload (408)
//! from a handler that is slow (504) when the handler's deadline passes.
//!
//! A thread-local flag rather than state on the request: the guard sees
//! only the future it wraps, not the body, and the body is read inside
//! that future's poll, on the same thread. The guard clears the flag, polls
//! the future, and reads the flag back; in between, an [`IncomingBody`]
//! read that has to wait for the client sets it. Nothing else runs on the
//! thread in between, so no other request can set or clear it.
//!
//! Cost: the body sets it only on a read that has to wait (its cold path);
//! the guard touches it only once the handler is still pending after its
//! first poll (when it has already started the deadline timer).
//!
//! [`IncomingBody`]: super::IncomingBody

use std::cell::Cell;

thread_local! {
    static WAITING: Cell<bool> = const { Cell::new(false) };
}

/// A body read is waiting for the client.
#[inline]
pub(crate) fn mark_waiting() {
    WAITING.set(true);
}

/// Forgets earlier marks, before a poll whose body reads are to be watched.
#[inline]
pub(crate) fn clear() {
    WAITING.set(false);
}

/// Whether a body read was left waiting for the client since [`clear`].
#[inline]
pub(crate) fn take() -> bool {
    WAITING.replace(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_is_seen_once_and_per_thread() {
        clear();
        assert!(!take());
        mark_waiting();
        std::thread::spawn(|| assert!(!take(), "another thread's mark")).join().unwrap();
        assert!(take());
        assert!(!take());
    }
}
