//! The keyed GCRA state behind [`RateLimit`](super::RateLimit): governor's
//! limiter over a map with a cap on keys, swept from the request path.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;
use governor::clock::{Clock, MonotonicClock};
use governor::nanos::Nanos;
use governor::state::keyed::ShrinkableKeyedStateStore;
use governor::state::{InMemoryState, NotKeyed, StateStore};
use governor::{Quota, RateLimiter};

/// How often a request sweeps the keys that have fully recovered.
pub(super) const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// One GCRA state per key, at most `max_keys` of them.
pub(super) struct Limiter {
    governor: RateLimiter<u64, KeyStore, MonotonicClock>,
    /// Keys are stored as their hash under this random seed; see [`Limiter::check`].
    hasher: RandomState,
    max_keys: usize,
    started: Instant,
    /// Nanoseconds after `started` at which the next request sweeps.
    next_sweep: AtomicU64,
    sweep_every: Duration,
}

impl Limiter {
    pub(super) fn new(quota: Quota, max_keys: usize) -> Self {
        let store = KeyStore {
            map: DashMap::with_hasher(BuildHasherDefault::default()),
            len: AtomicUsize::new(0),
            max_keys,
        };
        Limiter {
            governor: RateLimiter::new(quota, store, MonotonicClock),
            hasher: RandomState::new(),
            max_keys,
            started: Instant::now(),
            next_sweep: AtomicU64::new(duration_nanos(SWEEP_EVERY)),
            sweep_every: SWEEP_EVERY,
        }
    }

    /// Counts one request for `key`: `Err` with the time to wait when it is
    /// over the quota.
    ///
    /// The map holds a 64-bit keyed hash of the key, not the key: every
    /// entry has the same small size whatever the key (a long header value
    /// costs no more than an IP address), inserting one allocates nothing
    /// beyond the table, and no key keeps a connection's read buffer alive.
    /// Two keys share a state only if their hashes collide, which a client
    /// cannot aim for without the per-process seed.
    pub(super) fn check(&self, key: &impl Hash) -> Result<(), Duration> {
        self.sweep_if_due();
        let key = self.hasher.hash_one(key);
        self.governor
            .check_key(&key)
            .map_err(|not_until| not_until.wait_time_from(self.governor.clock().now()))
    }

    /// How many keys are tracked (exact after a sweep; between sweeps
    /// concurrent inserts may be miscounted by a few).
    pub(super) fn len(&self) -> usize {
        self.governor.len()
    }

    pub(super) fn max_keys(&self) -> usize {
        self.max_keys
    }

    /// Sweeps when [`SWEEP_EVERY`] has passed since the last sweep; the
    /// request that notices first does it, the others go on.
    fn sweep_if_due(&self) {
        let now = duration_nanos(self.started.elapsed());
        let due = self.next_sweep.load(Ordering::Relaxed);
        if now < due {
            return;
        }
        let next = now.saturating_add(duration_nanos(self.sweep_every));
        if self.next_sweep.compare_exchange(due, next, Ordering::Relaxed, Ordering::Relaxed).is_ok()
        {
            self.sweep();
        }
    }

    /// Drops the keys whose state is the same as a new key's (they have
    /// recovered their whole burst), and gives memory back after a flood.
    pub(super) fn sweep(&self) {
        self.governor.retain_recent();
        let len = self.governor.len();
        if len >= self.max_keys {
            tracing::warn!(
                target: super::RATE_LIMIT_LOG_TARGET,
                keys = len,
                max_keys = self.max_keys,
                "rate limiter is full: new clients are not limited until keys expire",
            );
        }
    }

    #[cfg(test)]
    pub(super) fn with_sweep_every(mut self, every: Duration) -> Self {
        self.sweep_every = every;
        self.next_sweep = AtomicU64::new(duration_nanos(every));
        self
    }
}

fn duration_nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// Governor's state store: a concurrent map from key hash to GCRA state,
/// counting its keys so that the cap costs one atomic load per new key.
struct KeyStore {
    map: DashMap<u64, InMemoryState, BuildHasherDefault<PreHashed>>,
    len: AtomicUsize,
    max_keys: usize,
}

impl StateStore for KeyStore {
    type Key = u64;

    fn measure_and_replace<T, F, E>(&self, key: &u64, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        if let Some(state) = self.map.get(key) {
            return state.measure_and_replace(&NotKeyed::NonKey, f);
        }
        if self.len.load(Ordering::Relaxed) >= self.max_keys {
            // Full: judge the request as a new key's and forget it. Refusing
            // instead would let anyone with enough addresses lock every new
            // client out; the cap is there to bound memory.
            return f(None).map(|(outcome, _)| outcome);
        }
        match self.map.entry(*key) {
            Entry::Occupied(entry) => entry.get().measure_and_replace(&NotKeyed::NonKey, f),
            Entry::Vacant(entry) => {
                self.len.fetch_add(1, Ordering::Relaxed);
                entry.insert(InMemoryState::default()).measure_and_replace(&NotKeyed::NonKey, f)
            }
        }
    }
}

impl ShrinkableKeyedStateStore<u64> for KeyStore {
    fn retain_recent(&self, drop_below: Nanos) {
        ShrinkableKeyedStateStore::retain_recent(&self.map, drop_below);
        let len = self.map.len();
        self.len.store(len, Ordering::Relaxed);
        // After a flood the table keeps its size unless told; shrinking
        // rehashes every shard, so only when most of it is empty.
        if self.map.capacity() > 4 * len.max(1024) {
            self.map.shrink_to_fit();
        }
    }

    fn shrink_to_fit(&self) {
        self.map.shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A hasher for keys that are already keyed hashes: the map uses them as
/// they are instead of hashing them a second time.
#[derive(Default)]
struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write_u64(&mut self, hash: u64) {
        self.0 = hash;
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys reach this hasher; folding keeps it correct anyway.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::*;

    fn quota(burst: u32, period: Duration) -> Quota {
        Quota::with_period(period).unwrap().allow_burst(NonZeroU32::new(burst).unwrap())
    }

    #[test]
    fn a_burst_then_a_wait() {
        let limiter = Limiter::new(quota(2, Duration::from_secs(30)), 10);
        assert_eq!(limiter.check(&"a"), Ok(()));
        assert_eq!(limiter.check(&"a"), Ok(()));
        let wait = limiter.check(&"a").unwrap_err();
        assert!(wait > Duration::from_secs(29) && wait <= Duration::from_secs(30), "{wait:?}");
        assert_eq!(limiter.check(&"b"), Ok(()), "another key has its own burst");
        assert_eq!(limiter.len(), 2);
    }

    #[test]
    fn past_the_cap_new_keys_pass_untracked_and_tracked_keys_stay_limited() {
        let limiter = Limiter::new(quota(1, Duration::from_secs(60)), 3);
        for key in 0..3 {
            assert_eq!(limiter.check(&key), Ok(()));
        }
        for _ in 0..5 {
            assert_eq!(limiter.check(&99), Ok(()), "a key past the cap is not limited");
        }
        assert_eq!(limiter.len(), 3, "and not stored");
        assert!(limiter.check(&0).is_err(), "a tracked key is still limited");
    }

    #[test]
    fn a_sweep_drops_recovered_keys_and_frees_room() {
        let limiter = Limiter::new(quota(1, Duration::from_millis(5)), 2);
        assert_eq!(limiter.check(&1), Ok(()));
        assert_eq!(limiter.check(&2), Ok(()));
        std::thread::sleep(Duration::from_millis(20));
        limiter.sweep();
        assert_eq!(limiter.len(), 0);
        assert_eq!(limiter.check(&3), Ok(()));
        assert!(limiter.check(&3).is_err(), "key 3 found room and is tracked now");
    }

    #[test]
    fn a_sweep_keeps_keys_that_have_not_recovered() {
        let limiter = Limiter::new(quota(1, Duration::from_secs(60)), 10);
        assert_eq!(limiter.check(&1), Ok(()));
        limiter.sweep();
        assert_eq!(limiter.len(), 1);
        assert!(limiter.check(&1).is_err());
    }

    #[test]
    fn requests_sweep_once_the_interval_has_passed() {
        let limiter = Limiter::new(quota(1, Duration::from_millis(1)), 1000)
            .with_sweep_every(Duration::from_millis(10));
        for key in 0..100 {
            assert_eq!(limiter.check(&key), Ok(()));
        }
        assert_eq!(limiter.len(), 100);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(limiter.check(&"next"), Ok(()));
        assert_eq!(limiter.len(), 1, "the request swept the 100 recovered keys first");
    }

    #[test]
    fn the_table_shrinks_after_a_flood() {
        let store = KeyStore {
            map: DashMap::with_hasher(BuildHasherDefault::default()),
            len: AtomicUsize::new(0),
            max_keys: usize::MAX,
        };
        let recorded_at = |at: u64| move |_: Option<Nanos>| Ok::<_, ()>(((), Nanos::new(at)));
        for key in 0..50_000 {
            store.measure_and_replace(&key, recorded_at(1)).unwrap();
        }
        store.measure_and_replace(&u64::MAX, recorded_at(100)).unwrap();
        assert_eq!(ShrinkableKeyedStateStore::len(&store), 50_001);
        let flooded = store.map.capacity();
        store.retain_recent(Nanos::new(10));
        assert_eq!(ShrinkableKeyedStateStore::len(&store), 1);
        assert!(store.map.contains_key(&u64::MAX));
        assert!(store.map.capacity() < flooded / 8, "{} of {flooded}", store.map.capacity());
    }

    #[test]
    fn pre_hashed_keys_are_their_own_hash() {
        let build = BuildHasherDefault::<PreHashed>::default();
        assert_eq!(build.hash_one(0xdead_beef_u64), 0xdead_beef);
    }
}
