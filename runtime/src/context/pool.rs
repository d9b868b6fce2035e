//! Where request contexts keep their data: boxes recycled through a
//! per-thread free list.
//!
//! A context's data (the request head, the connection info, the matched
//! route and its parameters: about 400 bytes) would otherwise live inline in
//! the router's future, which hyper moves several times per request (into
//! its per-stream task over HTTP/2) and boxes once per HTTP/1.1 connection.
//! In a pooled box the future carries a pointer instead, and in steady state
//! taking and giving back a box allocates nothing.

use std::cell::RefCell;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};

use http::request::Parts;

use super::ConnInfo;
use crate::guard::ResponseSlot;
use crate::routing::{ParamSlots, RouteInfo};

/// Boxes kept per thread at most; more than that (after a burst of
/// concurrent requests) are freed.
const MAX_FREE: usize = 1024;

thread_local! {
    // Boxes, not slots: what is pooled is the allocation a context points to.
    #[allow(clippy::vec_box, reason = "the boxes themselves are what the pool recycles")]
    static FREE: RefCell<Vec<Box<Slot>>> = const { RefCell::new(Vec::new()) };
}

/// A context's data.
#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) parts: Parts,
    pub(crate) conn: ConnInfo,
    pub(crate) route: Option<&'static RouteInfo>,
    pub(crate) params: ParamSlots,
    /// The route's response, between the dispatch that makes it and the
    /// router's future that returns it (see [`ResponseSlot`]).
    pub(crate) response: ResponseSlot,
}

/// A [`Slot`] in a box that goes back to this thread's free list on drop.
#[derive(Debug)]
pub(crate) struct Pooled(ManuallyDrop<Box<Slot>>);

impl Pooled {
    /// A slot holding `parts`, `conn` and `route` (no params yet), recycled
    /// from this thread's pool when it has one.
    #[inline]
    pub(crate) fn new(parts: Parts, conn: ConnInfo, route: Option<&'static RouteInfo>) -> Self {
        let free = FREE.try_with(|free| free.try_borrow_mut().ok()?.pop()).ok().flatten();
        Pooled(ManuallyDrop::new(match free {
            // Field by field: no whole `Slot` is built on the stack and then
            // copied in. A recycled head and response slot are empty (see
            // `drop`), so the head is forgotten rather than dropped.
            Some(mut recycled) => {
                std::mem::forget(std::mem::replace(&mut recycled.parts, parts));
                recycled.conn = conn;
                recycled.route = route;
                recycled.params = ParamSlots::default();
                recycled
            }
            None => Box::new(Slot {
                parts,
                conn,
                route,
                params: ParamSlots::default(),
                response: ResponseSlot::new(),
            }),
        }))
    }

    pub(crate) fn take_parts(&mut self) -> Parts {
        std::mem::replace(&mut self.parts, empty_parts())
    }
}

impl Deref for Pooled {
    type Target = Slot;

    #[inline]
    fn deref(&self) -> &Slot {
        &self.0
    }
}

impl DerefMut for Pooled {
    #[inline]
    fn deref_mut(&mut self) -> &mut Slot {
        &mut self.0
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        // SAFETY: `drop` runs once, and nothing touches `self.0` after this.
        let mut slot = unsafe { ManuallyDrop::take(&mut self.0) };
        // The request head (and a response a cancelled request left) go
        // now, not when the box is next used.
        slot.parts = empty_parts();
        slot.response.clear();
        let _ = FREE.try_with(|free| {
            if let Ok(mut free) = free.try_borrow_mut()
                && free.len() < MAX_FREE
            {
                free.push(slot);
            }
        });
    }
}

/// A request head that owns nothing (`GET /`, no headers): building it
/// allocates nothing.
fn empty_parts() -> Parts {
    http::Request::new(()).into_parts().0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(path: &str) -> Pooled {
        let (parts, ()) = http::Request::get(path).body(()).unwrap().into_parts();
        Pooled::new(parts, ConnInfo::default(), None)
    }

    #[test]
    fn a_dropped_context_box_is_reused_by_the_next_one_on_the_thread() {
        let first = slot("/first");
        let address = std::ptr::from_ref::<Slot>(&first);
        drop(first);
        let second = slot("/second");
        assert_eq!(std::ptr::from_ref::<Slot>(&second), address);
        assert_eq!(second.parts.uri.path(), "/second");
    }

    #[test]
    fn taking_the_parts_leaves_an_empty_head() {
        let mut pooled = slot("/x");
        assert_eq!(pooled.take_parts().uri.path(), "/x");
        assert_eq!(pooled.parts.uri.path(), "/");
        assert!(pooled.parts.headers.is_empty());
    }
}
