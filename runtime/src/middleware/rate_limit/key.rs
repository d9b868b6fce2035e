//! What a [`RateLimit`](super::RateLimit) counts requests by: the
//! [`KeyExtractor`] trait, a header's value ([`HeaderKey`]) and a function
//! of the request ([`KeyFn`]). The client IP is in `client_ip.rs`.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hash};

use http::HeaderValue;
use http::header::HeaderName;

use crate::context::RequestContext;

/// Picks the key a request is counted under; `None` leaves it unlimited.
///
/// Built in: [`ClientIp`](super::ClientIp), [`HeaderKey`] and [`KeyFn`]
/// (a closure, through [`RateLimit::per_key`](super::RateLimit::per_key)).
/// Implement it on a type of your own to name it in `router!` without a box.
///
/// Keys are stored as a 64-bit hash, so any `Hash` type will do and a long
/// key costs no more memory than a short one.
///
/// # Examples
///
/// ```
/// use mambo::middleware::{KeyExtractor, Quota, RateLimit, nonzero};
/// use mambo::RequestContext;
///
/// /// One quota per tenant, from the `/tenants/:tenant/..` path.
/// struct Tenant;
///
/// impl<S> KeyExtractor<S> for Tenant {
///     type Key = String;
///
///     fn extract(&self, cx: &RequestContext<'_, S>) -> Option<String> {
///         cx.raw_param_named("tenant").map(str::to_owned)
///     }
/// }
///
/// // In `router!`: `middleware: [RateLimit<Tenant> = RateLimit::new(..)]`.
/// let limit = RateLimit::new(Quota::per_second(nonzero!(100u32)), Tenant);
/// # let _ = limit;
/// ```
pub trait KeyExtractor<S>: Send + Sync + 'static {
    /// The key; hashed, never stored.
    type Key: Hash;

    /// The request's key, or `None` to let it through uncounted.
    fn extract(&self, cx: &RequestContext<'_, S>) -> Option<Self::Key>;
}

/// Keys requests by the value of a request header (an API key, a tenant
/// id); requests without it are not limited.
///
/// A client that may leave the header out, or send a new value each time,
/// escapes this limit: check the value (authenticate it) in a middleware
/// listed before, or list a [`ClientIp`](super::ClientIp) limiter as well.
///
/// # Examples
///
/// ```
/// use mambo::middleware::{Quota, RateLimit, nonzero};
///
/// // In `router!`: `middleware: [RateLimit<HeaderKey> = RateLimit::per_header(..)]`.
/// let limit = RateLimit::per_header(Quota::per_minute(nonzero!(600u32)), "x-api-key");
/// # let _ = limit;
/// ```
#[derive(Debug, Clone)]
pub struct HeaderKey {
    name: HeaderName,
}

impl HeaderKey {
    /// Keys by header `name`.
    pub fn new(name: HeaderName) -> Self {
        HeaderKey { name }
    }
}

impl<S> KeyExtractor<S> for HeaderKey {
    /// The value; cloning it is a reference-count increment.
    type Key = HeaderValue;

    fn extract(&self, cx: &RequestContext<'_, S>) -> Option<HeaderValue> {
        cx.headers().get(&self.name).cloned()
    }
}

/// Keys requests with a function of the request; made by
/// [`RateLimit::per_key`](super::RateLimit::per_key).
///
/// `S` is the router's state type, so the function can read it
/// (`cx.state()`); leave it out for a router without state. Each request
/// costs one call through a pointer.
pub struct KeyFn<S = ()> {
    key: HashedKeyFn<S>,
}

/// The user's function with its key hashed inside, so that `KeyFn` names no
/// key type.
type HashedKeyFn<S> = Box<dyn Fn(&RequestContext<'_, S>) -> Option<u64> + Send + Sync>;

impl<S> KeyFn<S> {
    pub(super) fn new<K, F>(key: F) -> Self
    where
        F: Fn(&RequestContext<'_, S>) -> Option<K> + Send + Sync + 'static,
        K: Hash,
    {
        let hasher = RandomState::new();
        KeyFn { key: Box::new(move |cx| key(cx).map(|key| hasher.hash_one(key))) }
    }
}

impl<S> fmt::Debug for KeyFn<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyFn")
    }
}

impl<S: 'static> KeyExtractor<S> for KeyFn<S> {
    type Key = u64;

    fn extract(&self, cx: &RequestContext<'_, S>) -> Option<u64> {
        (self.key)(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ConnInfo;

    fn context(headers: &[(&str, &str)]) -> RequestContext<'static, u32> {
        static STATE: u32 = 7;
        let mut builder = http::Request::builder().uri("/");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let (parts, ()) = builder.body(()).unwrap().into_parts();
        RequestContext::new(parts, &STATE, ConnInfo::default(), None)
    }

    #[test]
    fn a_header_key_is_the_value() {
        let key = HeaderKey::new(HeaderName::from_static("x-api-key"));
        let cx = context(&[("x-api-key", "k1")]);
        assert_eq!(KeyExtractor::<u32>::extract(&key, &cx).unwrap(), "k1");
        assert_eq!(KeyExtractor::<u32>::extract(&key, &context(&[])), None);
    }

    #[test]
    fn a_key_fn_sees_the_request_and_the_state() {
        let key = KeyFn::new(|cx: &RequestContext<'_, u32>| {
            let user = cx.headers().get("x-user")?.to_str().ok()?;
            Some(format!("{}:{user}", cx.state()))
        });
        let a = key.extract(&context(&[("x-user", "ann")]));
        let a_again = key.extract(&context(&[("x-user", "ann")]));
        let b = key.extract(&context(&[("x-user", "bob")]));
        assert!(a.is_some());
        assert_eq!(a, a_again);
        assert_ne!(a, b);
        assert_eq!(key.extract(&context(&[])), None);
    }
}
