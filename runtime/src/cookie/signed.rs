//! `SignedCookieJar`: cookies the client can read but not forge.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;

use http::HeaderMap;

use super::{Cookie, Key};
use crate::context::RequestContext;
use crate::extract::{FromRef, FromRequestParts};

/// Signed cookies: the value is readable by the client, and carries an
/// HMAC-SHA256 signature made with the [`Key`] from the router state
/// (`Key: FromRef<S>`).
///
/// A cookie whose value or signature was altered, or that was signed with
/// another key, is absent from the jar: [`get`](Self::get) returns `None`.
/// Extraction never fails. In a response the jar writes one `Set-Cookie`
/// per cookie [`add`](Self::add)ed (signed) or [`remove`](Self::remove)d.
///
/// # Examples
///
/// See [the module docs](super#examples) for a whole login flow.
///
/// ```
/// use mambo::cookie::{Key, SignedCookieJar, secure_cookie};
///
/// let key = Key::generate();
/// let jar = SignedCookieJar::new(key.clone()).add(secure_cookie("user", "42"));
/// assert_eq!(jar.get("user").unwrap().value(), "42");
/// ```
#[derive(Clone)]
pub struct SignedCookieJar {
    pub(super) jar: ::cookie::CookieJar,
    key: Key,
}

impl fmt::Debug for SignedCookieJar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keeps the key out of logs.
        f.debug_struct("SignedCookieJar").field("jar", &self.jar).finish_non_exhaustive()
    }
}

impl SignedCookieJar {
    /// An empty jar signing with `key`.
    pub fn new(key: Key) -> Self {
        Self { jar: ::cookie::CookieJar::new(), key }
    }

    /// The cookies of every `Cookie` header in `headers`, checked with
    /// `key` when read.
    pub fn from_headers(headers: &HeaderMap, key: Key) -> Self {
        Self { jar: super::read_cookies(headers), key }
    }

    /// The cookie named `name`, if its signature is valid, with the
    /// signature taken off its value.
    pub fn get(&self, name: &str) -> Option<Cookie<'static>> {
        self.jar.signed(&self.key).get(name)
    }

    /// Signs and adds a cookie (replacing one of the same name): a
    /// `Set-Cookie` in the response.
    // `add`, as the `cookie` crate and axum-extra name it; not `ops::Add`.
    #[allow(clippy::should_implement_trait)]
    #[must_use = "the jar must be returned in the response for the cookie to be set"]
    pub fn add<C: Into<Cookie<'static>>>(mut self, cookie: C) -> Self {
        self.jar.signed_mut(&self.key).add(cookie);
        self
    }

    /// Removes a cookie the client sent (see
    /// [`CookieJar::remove`](super::CookieJar::remove): give its path).
    #[must_use = "the jar must be returned in the response for the cookie to be removed"]
    pub fn remove<C: Into<Cookie<'static>>>(mut self, cookie: C) -> Self {
        self.jar.signed_mut(&self.key).remove(cookie);
        self
    }

    /// Every cookie whose signature is valid, with the signature taken off.
    pub fn iter(&self) -> impl Iterator<Item = Cookie<'static>> + '_ {
        let signed = self.jar.signed(&self.key);
        self.jar.iter().filter_map(move |cookie| signed.verify(cookie.clone()))
    }
}

impl<S> FromRequestParts<S> for SignedCookieJar
where
    Key: FromRef<S>,
{
    type Rejection = Infallible;

    fn from_request_parts(
        cx: &RequestContext<'_, S>,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        std::future::ready(Ok(Self::from_headers(cx.headers(), Key::from_ref(cx.state()))))
    }
}

impl_response!(SignedCookieJar);
