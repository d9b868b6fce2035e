//! One unit held on a shared counter for as long as a guard lives: an
//! in-flight slot, a request being answered on its connection.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Holds one unit of a counter; gives it back on drop (also when the future
/// holding it is cancelled, e.g. an HTTP/2 stream reset).
#[derive(Debug)]
pub(crate) struct CountGuard<'a>(&'a AtomicUsize);

impl<'a> CountGuard<'a> {
    /// Adds one to `counter` until the guard drops; also returns the count
    /// before the addition.
    #[inline]
    pub(crate) fn add(counter: &'a AtomicUsize) -> (Self, usize) {
        let before = counter.fetch_add(1, Ordering::Relaxed);
        (CountGuard(counter), before)
    }
}

impl Drop for CountGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
