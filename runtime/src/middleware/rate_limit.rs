//! `RateLimit`: at most so many requests per client, then 429 with
//! `Retry-After` (the `rate-limit` feature).

mod client_ip;
mod key;
mod store;

use std::fmt;
use std::future::Future;
use std::time::Duration;

use http::StatusCode;
use http::header::{HeaderName, HeaderValue, RETRY_AFTER};

pub use self::client_ip::{ClientIp, ProxyHeader};
pub use self::key::{HeaderKey, KeyExtractor, KeyFn};
use self::store::Limiter;
use crate::context::RequestContext;
use crate::error::render_parts;
use crate::middleware::{Flow, Middleware};
use crate::response::Response;

/// governor's quota: how many requests at once (the burst) and how fast
/// they come back. `Quota::per_second(nonzero!(10u32))` allows a burst of
/// 10, and one more every 100 ms.
pub use governor::Quota;
/// `nonzero!(10u32)`: a `NonZeroU32` checked at compile time, for [`Quota`].
pub use nonzero_ext::nonzero;

/// The `tracing` target of rate limiter diagnostics (requests turned away at
/// `DEBUG`, a full key table at `WARN`).
pub const RATE_LIMIT_LOG_TARGET: &str = "mambo::rate_limit";

/// Code of the 429 in its JSON body.
pub const RATE_LIMITED_CODE: u32 = 42900;

/// How many keys a [`RateLimit`] tracks unless told otherwise; see
/// [Memory](RateLimit#memory).
pub const DEFAULT_MAX_KEYS: usize = 100_000;

/// Limits how often each client (IP address, header value, or any key) may
/// call the routes it covers, with the GCRA of the `governor` crate.
///
/// List it in `router!` like any middleware: for the whole router, or in a
/// `scope` for the routes there only. Each entry is a limiter of its own;
/// two entries never share counts.
///
/// ```
/// use mambo::middleware::{HeaderKey, Quota, RateLimit, nonzero};
/// use mambo::prelude::*;
///
/// #[route(GET "/items")]
/// async fn items() -> &'static str { "items" }
///
/// #[route(POST "/login")]
/// async fn login() -> &'static str { "welcome" }
///
/// mambo::router! {
///     pub struct Api {
///         // Every route: 100 at once per client IP, refilled at 50 a second.
///         middleware: [
///             RateLimit = RateLimit::per_client_ip(Quota::per_second(nonzero!(50u32)).allow_burst(nonzero!(100u32)))
///                 .trust_forwarded_from(["10.0.0.0/8"]),
///         ],
///         routes: [items],
///         scope "/auth" {
///             // And here, 5 a minute per client as well.
///             middleware: [RateLimit = RateLimit::per_client_ip(Quota::per_minute(nonzero!(5u32)))],
///             routes: [login],
///         },
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let client = mambo::test::TestClient::new(Api::new());
/// let from = "203.0.113.7:5000".parse().unwrap();
/// for _ in 0..5 {
///     assert_eq!(client.post("/auth/login").remote_addr(from).send().await.status(), StatusCode::OK);
/// }
/// let response = client.post("/auth/login").remote_addr(from).send().await;
/// assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
/// assert_eq!(response.header("retry-after"), Some("12"));
/// assert_eq!(client.get("/items").remote_addr(from).send().await.status(), StatusCode::OK);
/// # });
/// ```
///
/// # Keys
///
/// - [`per_client_ip`](Self::per_client_ip): the peer's address, or behind
///   proxies you name, the client's address they forward. Read
///   [`ClientIp`] before trusting a proxy: it is what decides whether a
///   client can choose its own key.
/// - [`per_header`](Self::per_header): a header's value (an API key).
/// - [`per_key`](Self::per_key): any function of the request and the
///   router state, or [`new`](Self::new) with a [`KeyExtractor`] of your
///   own.
///
/// A request without a key (no peer address, no such header, `None` from
/// the function) is not limited.
///
/// # Over the quota
///
/// The request is answered in `before`, without reaching the handler or
/// the middleware listed after this one: `429 Too Many Requests`, the JSON
/// error body with code [`RATE_LIMITED_CODE`] (42900), and `Retry-After`
/// with the seconds until the request would be allowed, rounded up. A
/// turned-away request is not counted, so a client that waits that long
/// gets through. Requests the limiter lets through count whatever the
/// handler answers.
///
/// # Memory
///
/// Each tracked key costs a few dozen bytes (a 64-bit hash and a 64-bit
/// state, whatever the key). A key whose quota has fully come back is the
/// same as a new one and is dropped: about once a second, the request that
/// finds a sweep due walks the table first and gives memory back after a
/// flood. No background task runs. A sweep is O(keys): under a millisecond
/// for 100 000 keys, tens of milliseconds for a million (the table no
/// longer fits in the CPU caches), paid by that one request.
///
/// At most [`max_keys`](Self::max_keys) keys are tracked (default
/// [`DEFAULT_MAX_KEYS`], 100 000, a few MiB). When the table is full, a key
/// not already in it is let through and not recorded, until a sweep frees
/// room; keys already tracked stay limited, and a warning is logged on
/// [`RATE_LIMIT_LOG_TARGET`]. Refusing new keys instead would let anyone
/// with enough addresses lock every new client out; the cap protects
/// memory, and the server's connection and in-flight limits (503) protect
/// capacity. Size it for the distinct clients you expect within the time a
/// quota takes to refill.
///
/// # Cost
///
/// Only where listed. Per request: the key (for an IP, a header lookup only
/// behind trusted proxies), one keyed hash, a read-locked shard lookup and
/// an atomic compare-and-swap; a new key takes the shard's write lock. No
/// allocation, except a 429 response and a new key's table growth.
///
/// # Panics
///
/// [`max_keys(0)`](Self::max_keys), and the [`ClientIp`] settings, panic:
/// the router builds its middleware at startup, so the mistake shows there.
pub struct RateLimit<E = ClientIp> {
    key: E,
    quota: Quota,
    limiter: Limiter,
}

impl<E: fmt::Debug> fmt::Debug for RateLimit<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimit")
            .field("key", &self.key)
            .field("quota", &self.quota)
            .field("max_keys", &self.limiter.max_keys())
            .field("tracked_keys", &self.limiter.len())
            .finish()
    }
}

impl RateLimit<ClientIp> {
    /// `quota` per client IP address: the TCP peer, until
    /// [`trust_forwarded_from`](Self::trust_forwarded_from) names proxies.
    pub fn per_client_ip(quota: Quota) -> Self {
        RateLimit::new(quota, ClientIp::new())
    }

    /// Trusts these proxies (addresses or CIDR blocks) to report the client
    /// in their forwarding header; see [`ClientIp`].
    ///
    /// # Panics
    ///
    /// As [`ClientIp::trust_forwarded_from`].
    #[must_use]
    pub fn trust_forwarded_from<I>(mut self, proxies: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.key = self.key.trust_forwarded_from(proxies);
        self
    }

    /// Which header the trusted proxies write; see
    /// [`ClientIp::proxy_header`].
    #[must_use]
    pub fn proxy_header(mut self, header: ProxyHeader) -> Self {
        self.key = self.key.proxy_header(header);
        self
    }

    /// Counts IPv6 clients by subnet; see [`ClientIp::ipv6_prefix`].
    ///
    /// # Panics
    ///
    /// As [`ClientIp::ipv6_prefix`].
    #[must_use]
    pub fn ipv6_prefix(mut self, bits: u8) -> Self {
        self.key = self.key.ipv6_prefix(bits);
        self
    }
}

impl RateLimit<HeaderKey> {
    /// `quota` per value of the request header `name`; see [`HeaderKey`].
    ///
    /// # Panics
    ///
    /// When `name` is not a valid header name.
    pub fn per_header<N>(quota: Quota, name: N) -> Self
    where
        N: TryInto<HeaderName>,
        N::Error: fmt::Debug,
    {
        let name = name.try_into().unwrap_or_else(|err| panic!("invalid header name: {err:?}"));
        RateLimit::new(quota, HeaderKey::new(name))
    }
}

impl<S: 'static> RateLimit<KeyFn<S>> {
    /// `quota` per key that `key` returns for the request; `None` lets the
    /// request through uncounted.
    ///
    /// A closure that reads the state needs its argument's type written out
    /// (`|cx: &RequestContext<'_, AppState>| ..`); a named function, as
    /// below, has it already.
    ///
    /// # Examples
    ///
    /// ```
    /// use mambo::middleware::{KeyFn, Quota, RateLimit, nonzero};
    /// use mambo::prelude::*;
    ///
    /// struct AppState {
    ///     free_tier: Vec<String>,
    /// }
    ///
    /// /// Free-tier accounts are limited, each on its own; the others are not.
    /// fn free_account(cx: &RequestContext<'_, AppState>) -> Option<String> {
    ///     let account = cx.headers().get("x-account")?.to_str().ok()?;
    ///     cx.state().free_tier.iter().any(|a| a == account).then(|| account.to_owned())
    /// }
    ///
    /// #[route(GET "/search")]
    /// async fn search() -> &'static str { "results" }
    ///
    /// mambo::router! {
    ///     struct Api {
    ///         state: AppState,
    ///         middleware: [
    ///             RateLimit<KeyFn<AppState>> =
    ///                 RateLimit::per_key(Quota::per_minute(nonzero!(10u32)), free_account),
    ///         ],
    ///         routes: [search],
    ///     }
    /// }
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let client = mambo::test::TestClient::new(Api::new(AppState { free_tier: vec!["ann".into()] }));
    /// for _ in 0..10 {
    ///     client.get("/search").header("x-account", "ann").send().await;
    /// }
    /// let response = client.get("/search").header("x-account", "ann").send().await;
    /// assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    /// let response = client.get("/search").header("x-account", "bob").send().await;
    /// assert_eq!(response.status(), StatusCode::OK);
    /// # });
    /// ```
    pub fn per_key<K, F>(quota: Quota, key: F) -> Self
    where
        F: Fn(&RequestContext<'_, S>) -> Option<K> + Send + Sync + 'static,
        K: std::hash::Hash,
    {
        RateLimit::new(quota, KeyFn::new(key))
    }
}

impl<E> RateLimit<E> {
    /// `quota` per key that `key` extracts.
    pub fn new(quota: Quota, key: E) -> Self {
        RateLimit { key, quota, limiter: Limiter::new(quota, DEFAULT_MAX_KEYS) }
    }

    /// Tracks at most `max_keys` keys (default [`DEFAULT_MAX_KEYS`]); see
    /// [Memory](RateLimit#memory) for what happens past it.
    ///
    /// # Panics
    ///
    /// When `max_keys` is 0.
    #[must_use]
    pub fn max_keys(mut self, max_keys: usize) -> Self {
        assert!(max_keys > 0, "`max_keys(0)` would never limit anyone");
        self.limiter = Limiter::new(self.quota, max_keys);
        self
    }

    /// The quota per key.
    pub fn quota(&self) -> Quota {
        self.quota
    }

    /// How many keys are tracked now.
    pub fn tracked_keys(&self) -> usize {
        self.limiter.len()
    }
}

impl<S: Sync, E: KeyExtractor<S>> Middleware<S> for RateLimit<E> {
    type Local = ();

    fn before(
        &self,
        cx: &mut RequestContext<'_, S>,
        _: &mut (),
    ) -> impl Future<Output = Flow> + Send {
        let flow = match self.key.extract(cx).map(|key| self.limiter.check(&key)) {
            None | Some(Ok(())) => Flow::Continue,
            Some(Err(wait)) => {
                let retry_after = retry_after_secs(wait);
                tracing::debug!(
                    target: RATE_LIMIT_LOG_TARGET,
                    path = cx.path(),
                    retry_after,
                    "too many requests",
                );
                Flow::Respond(too_many_requests(retry_after))
            }
        };
        std::future::ready(flow)
    }
}

/// Whole seconds, rounded up, and at least 1: a client told 0 would retry at
/// once and be turned away again.
fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

fn too_many_requests(retry_after: u64) -> Response {
    crate::observe::server::count(&crate::observe::server::STATS.rate_limited);
    let message = format!("too many requests: retry in {retry_after} s");
    let mut response = render_parts(StatusCode::TOO_MANY_REQUESTS, RATE_LIMITED_CODE, &message);
    response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(retry_after));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_table() {
        let rows = [
            (Duration::ZERO, 1),
            (Duration::from_nanos(1), 1),
            (Duration::from_millis(999), 1),
            (Duration::from_secs(1), 1),
            (Duration::from_millis(1001), 2),
            (Duration::from_secs(30), 30),
            (Duration::new(29, 999_999_999), 30),
        ];
        for (wait, secs) in rows {
            assert_eq!(retry_after_secs(wait), secs, "{wait:?}");
        }
    }

    #[test]
    fn the_429_has_retry_after_and_the_json_body() {
        let response = too_many_requests(3);
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[RETRY_AFTER], "3");
        assert_eq!(
            response.body().as_bytes().unwrap(),
            br#"{"code":42900,"message":"too many requests: retry in 3 s"}"#
        );
    }

    #[test]
    #[should_panic(expected = "`max_keys(0)`")]
    fn max_keys_zero_panics() {
        let _ = RateLimit::per_client_ip(Quota::per_second(nonzero!(1u32))).max_keys(0);
    }
}
