//! Where a router's metrics live: one [`RouteSlot`] per route, in a
//! `static` array that `router!` generates, indexed by route id.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// The most latency buckets a router may configure (`+Inf` not counted).
pub const MAX_BUCKETS: usize = 16;

/// The default latency bucket bounds, in seconds: from 100 µs (a Mambo
/// handler that answers from memory) to 10 s (past the default deadline).
pub const DEFAULT_BUCKETS: &[f64] = &[
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// The status classes a slot counts: index 0 is a request cancelled before
/// it was answered (the client went away, an HTTP/2 stream was reset),
/// 1 to 5 are `1xx` to `5xx`.
pub(crate) const STATUS_LABELS: [&str; 6] = ["cancelled", "1xx", "2xx", "3xx", "4xx", "5xx"];

/// A router's latency histogram bounds, checked and converted to
/// nanoseconds when the router is compiled.
#[derive(Debug)]
pub struct Buckets {
    seconds: &'static [f64],
    nanos: [u64; MAX_BUCKETS],
}

impl Buckets {
    /// Bounds in seconds, strictly increasing, positive and finite, at most
    /// [`MAX_BUCKETS`] of them.
    ///
    /// # Panics
    ///
    /// If the bounds break a rule above. `router!` calls this in a `const`,
    /// so the panic is a compile error at the `metrics_buckets:` list.
    pub const fn new(seconds: &'static [f64]) -> Self {
        assert!(!seconds.is_empty(), "`metrics_buckets` needs at least one bound");
        assert!(seconds.len() <= MAX_BUCKETS, "`metrics_buckets` takes at most 16 bounds");
        let mut nanos = [u64::MAX; MAX_BUCKETS];
        let mut i = 0;
        while i < seconds.len() {
            let bound = seconds[i];
            assert!(
                bound > 0.0 && bound < 1.0e9,
                "`metrics_buckets` bounds are seconds, positive and finite"
            );
            assert!(
                i == 0 || bound > seconds[i - 1],
                "`metrics_buckets` bounds must be strictly increasing"
            );
            nanos[i] = (bound * 1.0e9) as u64;
            i += 1;
        }
        Buckets { seconds, nanos }
    }

    /// The bounds in seconds, as configured.
    pub fn seconds(&self) -> &'static [f64] {
        self.seconds
    }

    /// The bucket a latency falls in: the first bound it does not exceed,
    /// or `len()` for `+Inf`.
    #[inline]
    fn index(&self, nanos: u64) -> usize {
        // Unused bounds are `u64::MAX`, so the scan needs no length check
        // (and `+Inf` is where a latency past every real bound lands).
        let len = self.seconds.len();
        let mut i = 0;
        while i < len && nanos > self.nanos[i] {
            i += 1;
        }
        i
    }
}

/// One route's counters. Aligned to a cache line so two routes answered
/// on two cores never share one.
#[derive(Debug)]
#[repr(align(64))]
pub struct RouteSlot {
    pub(crate) in_flight: AtomicI64,
    /// By status class, see [`STATUS_LABELS`].
    pub(crate) status: [AtomicU64; 6],
    pub(crate) request_bytes: AtomicU64,
    pub(crate) response_bytes: AtomicU64,
    pub(crate) duration_nanos: AtomicU64,
    /// Per bucket (not cumulative); the last is `+Inf`.
    pub(crate) buckets: [AtomicU64; MAX_BUCKETS + 1],
}

impl RouteSlot {
    /// An empty slot, for the generated `static` array.
    #[allow(clippy::declare_interior_mutable_const)]
    pub const EMPTY: RouteSlot = RouteSlot {
        in_flight: AtomicI64::new(0),
        status: [const { AtomicU64::new(0) }; 6],
        request_bytes: AtomicU64::new(0),
        response_bytes: AtomicU64::new(0),
        duration_nanos: AtomicU64::new(0),
        buckets: [const { AtomicU64::new(0) }; MAX_BUCKETS + 1],
    };

    /// Records an answered request.
    #[inline]
    pub(crate) fn answered(&self, buckets: &Buckets, status: u16, nanos: u64) {
        let class = usize::from(status / 100).min(5);
        self.status[class].fetch_add(1, Ordering::Relaxed);
        self.duration_nanos.fetch_add(nanos, Ordering::Relaxed);
        self.buckets[buckets.index(nanos)].fetch_add(1, Ordering::Relaxed);
    }

    /// Whether the route has seen a request: a route that has not is left
    /// out of the exposition (as a labelled metric appears once used).
    pub(crate) fn is_used(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) != 0
            || self.status.iter().any(|count| count.load(Ordering::Relaxed) != 0)
    }
}

/// A router's metrics: its slots (one per route, then one for requests no
/// route took) and its latency buckets. `router!` generates one `static`
/// of it for a router with a `metrics:` entry.
#[derive(Debug)]
pub struct RouterMetrics {
    slots: &'static [RouteSlot],
    buckets: Buckets,
}

impl RouterMetrics {
    /// Metrics over `slots`: one per route of the router, in `ROUTES`
    /// order, and one more for requests that matched no route.
    pub const fn new(slots: &'static [RouteSlot], buckets: Buckets) -> Self {
        assert!(!slots.is_empty(), "a router's metrics need the slot for unmatched requests");
        RouterMetrics { slots, buckets }
    }

    /// The slot of route `index`, or the unmatched slot for `None`.
    #[inline]
    pub(crate) fn slot(&'static self, index: Option<usize>) -> &'static RouteSlot {
        let unmatched = self.slots.len() - 1;
        &self.slots[index.map_or(unmatched, |index| index.min(unmatched))]
    }

    /// Every slot: the routes', then the unmatched one.
    pub(crate) fn slots(&self) -> &[RouteSlot] {
        self.slots
    }

    /// The latency buckets.
    pub fn buckets(&self) -> &Buckets {
        &self.buckets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_latency_lands_in_the_first_bucket_it_does_not_exceed() {
        let buckets = Buckets::new(&[0.001, 0.01, 0.1]);
        assert_eq!(buckets.index(0), 0);
        assert_eq!(buckets.index(1_000_000), 0, "the bound itself is in (`le`)");
        assert_eq!(buckets.index(1_000_001), 1);
        assert_eq!(buckets.index(50_000_000), 2);
        assert_eq!(buckets.index(100_000_001), 3, "+Inf");
        assert_eq!(buckets.index(u64::MAX), 3);
    }

    #[test]
    fn the_default_buckets_are_valid() {
        let buckets = Buckets::new(DEFAULT_BUCKETS);
        assert_eq!(buckets.seconds().len(), MAX_BUCKETS);
        assert_eq!(buckets.index(u64::MAX), MAX_BUCKETS);
    }

    #[test]
    #[should_panic(expected = "strictly increasing")]
    fn unsorted_buckets_are_refused() {
        let _ = Buckets::new(&[0.1, 0.01]);
    }

    #[test]
    fn a_slot_is_one_or_more_whole_cache_lines() {
        assert_eq!(std::mem::align_of::<RouteSlot>(), 64);
        assert_eq!(std::mem::size_of::<RouteSlot>() % 64, 0);
    }
}
