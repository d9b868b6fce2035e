//! A second waker for a task's background futures, so that the task's
//! main future is not followed, on every wake-up, by polls of futures that
//! almost never complete.
//!
//! A connection's task drives hyper's connection (woken for every request)
//! and two watchers that fire rarely: the server's shutdown phase and the
//! idle tick. Polled side by side, as `select!` does, the watchers are
//! polled on every wake-up too, each re-registering its waker (about 300
//! instructions per request in callgrind, `cargo xtask bench cpu`). Polled
//! with a [`SideWake`] waker instead, they mark the task as side-woken when
//! they fire, and the task polls them only then.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::task::Waker;

/// The shared half: whether a watcher fired, and whom to wake.
#[derive(Debug)]
pub(crate) struct SideWake {
    /// Set by a watcher's wake; starts set, so the first poll registers the
    /// watchers.
    woken: AtomicBool,
    /// The task's own waker.
    task: Mutex<Option<Waker>>,
}

impl SideWake {
    pub(crate) fn new() -> Self {
        SideWake { woken: AtomicBool::new(true), task: Mutex::new(None) }
    }

    /// Called on each poll of the task with its waker: records the waker
    /// (when it is not `known`, the copy the task keeps) and says whether a
    /// watcher fired since the last call.
    #[inline]
    pub(crate) fn take(&self, task: &Waker, known: &mut Option<Waker>) -> bool {
        if !known.as_ref().is_some_and(|known| known.will_wake(task)) {
            *self.task.lock().unwrap_or_else(PoisonError::into_inner) = Some(task.clone());
            *known = Some(task.clone());
        }
        self.woken.swap(false, Ordering::AcqRel)
    }

    /// What the watchers' waker does: mark, then wake the task.
    pub(crate) fn wake(&self) {
        self.woken.store(true, Ordering::Release);
        if let Some(task) = &*self.task.lock().unwrap_or_else(PoisonError::into_inner) {
            task.wake_by_ref();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    use super::*;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_side_wake_marks_and_wakes_the_task_once_it_is_known() {
        let side = SideWake::new();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let task = Waker::from(count.clone());
        let mut known = None;
        assert!(side.take(&task, &mut known), "the first poll registers the watchers");
        assert!(!side.take(&task, &mut known));
        side.wake();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(side.take(&task, &mut known));
        assert!(!side.take(&task, &mut known));
    }
}
