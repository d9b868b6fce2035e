//! The per-client connection limit: how many connections each client
//! address has open, so that one address cannot take every connection slot.
//!
//! A client is an IPv4 address, or an IPv6 /64 prefix: one host is usually
//! given a whole /64, so counting single IPv6 addresses would let it open
//! 2^64 "clients". IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, what a
//! dual-stack listener on `[::]` sees for IPv4 clients) count as the IPv4
//! address; otherwise every IPv4 client would share `::/64`.
//!
//! The counts live in [`SHARDS`] small maps, each behind its own mutex and
//! on its own cache line, picked by a keyed hash of the client: accept loops
//! and closing connections on different threads rarely meet on one lock,
//! and the lock is held for one map lookup. A client's entry is removed when
//! its count drops to 0, so the maps hold at most one entry per open
//! connection (bounded by the connection limit).

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::shed::Padded;

/// Number of shards; a power of two. Several per core, so two threads seldom
/// want the same lock at once; 64 padded mutexes cost 8 KiB per server.
pub(crate) const SHARDS: usize = 64;

/// A map shard keeps at least this much room when it shrinks.
const MIN_SHRUNK_CAPACITY: usize = 64;

/// What connections are counted by: an IPv4 address or an IPv6 /64 prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ClientKey {
    /// An IPv4 client, also when seen as an IPv4-mapped IPv6 address.
    V4(u32),
    /// The first 64 bits of an IPv6 client's address.
    V6(u64),
}

impl ClientKey {
    /// The key `ip` is counted under.
    pub(crate) fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => ClientKey::V4(v4.to_bits()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientKey::V4(v4.to_bits()),
                None => ClientKey::V6((v6.to_bits() >> 64) as u64),
            },
        }
    }
}

/// Open connections per client, for one server.
#[derive(Debug)]
pub(crate) struct PerClient {
    /// The most connections one client may have open.
    max: u32,
    /// Picks the shard; keyed per server so that a client cannot choose
    /// addresses that all land on one lock.
    hasher: RandomState,
    shards: Box<[Shard]>,
}

/// Open connections per client, for the clients that hash to one shard.
type Shard = Padded<Mutex<HashMap<ClientKey, u32>>>;

impl PerClient {
    /// A table allowing each client `max` connections.
    pub(crate) fn new(max: usize) -> Self {
        PerClient {
            max: u32::try_from(max).unwrap_or(u32::MAX),
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| Padded(Mutex::default())).collect(),
        }
    }

    /// Counts a new connection from `ip` unless that client already has the
    /// maximum open; the count goes down when the guard drops.
    pub(crate) fn try_open(self: &Arc<Self>, ip: IpAddr) -> Option<ClientGuard> {
        let key = ClientKey::of(ip);
        let shard = self.shard_of(key);
        let mut counts = self.lock(shard);
        match counts.get_mut(&key) {
            Some(open) if *open >= self.max => return None,
            Some(open) => *open += 1,
            None if self.max == 0 => return None,
            None => {
                counts.insert(key, 1);
            }
        }
        Some(ClientGuard { table: self.clone(), key, shard })
    }

    fn close(&self, key: ClientKey, shard: usize) {
        let mut counts = self.lock(shard);
        let Some(open) = counts.get_mut(&key) else { return };
        *open -= 1;
        if *open > 0 {
            return;
        }
        counts.remove(&key);
        // After a flood from many addresses, give the memory back, with
        // slack so that a map near the threshold does not resize each time.
        let (len, capacity) = (counts.len(), counts.capacity());
        if capacity > MIN_SHRUNK_CAPACITY && len * 4 < capacity {
            counts.shrink_to((len * 2).max(MIN_SHRUNK_CAPACITY));
        }
    }

    fn shard_of(&self, key: ClientKey) -> usize {
        self.hasher.hash_one(key) as usize % SHARDS
    }

    fn lock(&self, shard: usize) -> MutexGuard<'_, HashMap<ClientKey, u32>> {
        // Nothing panics while holding the lock, and the counts stay valid if
        // something did, so a poisoned lock is used as it is.
        self.shards[shard].0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Connections `ip`'s client has open now.
    #[cfg(test)]
    pub(crate) fn open(&self, ip: IpAddr) -> u32 {
        let key = ClientKey::of(ip);
        self.lock(self.shard_of(key)).get(&key).copied().unwrap_or(0)
    }

    /// Clients with at least one connection open.
    #[cfg(test)]
    pub(crate) fn clients(&self) -> usize {
        (0..SHARDS).map(|shard| self.lock(shard).len()).sum()
    }
}

/// One connection counted for its client; closes it in the count on drop.
#[derive(Debug)]
pub(crate) struct ClientGuard {
    table: Arc<PerClient>,
    key: ClientKey,
    shard: usize,
}

impl Drop for ClientGuard {
    fn drop(&mut self) {
        self.table.close(self.key, self.shard);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn each_client_gets_max_connections_and_no_more() {
        let table = Arc::new(PerClient::new(2));
        let first = table.try_open(ip("10.0.0.1")).unwrap();
        let _second = table.try_open(ip("10.0.0.1")).unwrap();
        assert!(table.try_open(ip("10.0.0.1")).is_none());
        assert_eq!(table.open(ip("10.0.0.1")), 2);
        // Another client is not affected.
        let _other = table.try_open(ip("10.0.0.2")).unwrap();
        drop(first);
        assert_eq!(table.open(ip("10.0.0.1")), 1);
        assert!(table.try_open(ip("10.0.0.1")).is_some());
    }

    #[test]
    fn a_client_whose_connections_all_closed_leaves_no_entry() {
        let table = Arc::new(PerClient::new(3));
        let guards: Vec<_> =
            (0..1000u32).map(|n| table.try_open(IpAddr::from(n.to_be_bytes())).unwrap()).collect();
        assert_eq!(table.clients(), 1000);
        drop(guards);
        assert_eq!(table.clients(), 0);
        // The maps shrank back too.
        let capacity: usize = (0..SHARDS).map(|shard| table.lock(shard).capacity()).sum();
        assert!(capacity <= SHARDS * MIN_SHRUNK_CAPACITY * 2, "{capacity}");
    }

    #[test]
    fn an_ipv6_client_is_its_slash_64() {
        let table = Arc::new(PerClient::new(1));
        let _held = table.try_open(ip("2001:db8:1:2::1")).unwrap();
        assert!(table.try_open(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")).is_none());
        assert!(table.try_open(ip("2001:db8:1:3::1")).is_some());
    }

    #[test]
    fn an_ipv4_mapped_address_counts_as_the_ipv4_address() {
        assert_eq!(ClientKey::of(ip("::ffff:192.0.2.7")), ClientKey::of(ip("192.0.2.7")));
        assert_ne!(ClientKey::of(ip("::ffff:192.0.2.7")), ClientKey::of(ip("::ffff:192.0.2.8")));
    }

    #[test]
    fn a_limit_of_zero_refuses_everyone_and_stores_nothing() {
        let table = Arc::new(PerClient::new(0));
        assert!(table.try_open(ip("10.0.0.1")).is_none());
        assert_eq!(table.clients(), 0);
    }

    #[test]
    fn threads_opening_and_closing_the_same_clients_lose_no_count() {
        let table = Arc::new(PerClient::new(usize::MAX));
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for n in 0..2000u16 {
                        let client = IpAddr::from([10, 0, 0, (n % 8) as u8]);
                        let held = table.try_open(client).unwrap();
                        let _also = table.try_open(client).unwrap();
                        drop(held);
                    }
                });
            }
        });
        assert_eq!(table.clients(), 0);
    }
}
