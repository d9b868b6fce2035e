//! `PrivateCookieJar`: cookies the client can neither read nor forge.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;

use http::HeaderMap;

use super::{Cookie, Key};
use crate::context::RequestContext;
use crate::extract::{FromRef, FromRequestParts};

/// Private cookies: the value is encrypted and authenticated (AES-256-GCM)
/// with the [`Key`] from the router state (`Key: FromRef<S>`), so the
/// client can neither read nor change it. The cookie's name is bound to
/// the value: a value moved under another name does not decrypt.
///
/// A cookie that does not decrypt (altered, cut, or sealed with another
/// key) is absent from the jar: [`get`](Self::get) returns `None`.
/// Extraction never fails. In a response the jar writes one `Set-Cookie`
/// per cookie [`add`](Self::add)ed (encrypted) or [`remove`](Self::remove)d.
///
/// # Examples
///
/// ```
/// use mambo::cookie::{Key, PrivateCookieJar, secure_cookie};
///
/// let key = Key::generate();
/// let jar = PrivateCookieJar::new(key.clone()).add(secure_cookie("user", "42"));
/// assert_eq!(jar.get("user").unwrap().value(), "42");
/// ```
#[derive(Clone)]
pub struct PrivateCookieJar {
    pub(super) jar: ::cookie::CookieJar,
    key: Key,
}

impl fmt::Debug for PrivateCookieJar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keeps the key out of logs.
        f.debug_struct("PrivateCookieJar").field("jar", &self.jar).finish_non_exhaustive()
    }
}

impl PrivateCookieJar {
    /// An empty jar encrypting with `key`.
    pub fn new(key: Key) -> Self {
        Self { jar: ::cookie::CookieJar::new(), key }
    }

    /// The cookies of every `Cookie` header in `headers`, decrypted with
    /// `key` when read.
    pub fn from_headers(headers: &HeaderMap, key: Key) -> Self {
        Self { jar: super::read_cookies(headers), key }
    }

    /// The cookie named `name`, if it decrypts, with its value in clear.
    pub fn get(&self, name: &str) -> Option<Cookie<'static>> {
        self.jar.private(&self.key).get(name)
    }

    /// Encrypts and adds a cookie (replacing one of the same name): a
    /// `Set-Cookie` in the response.
    // `add`, as the `cookie` crate and axum-extra name it; not `ops::Add`.
    #[allow(clippy::should_implement_trait)]
    #[must_use = "the jar must be returned in the response for the cookie to be set"]
    pub fn add<C: Into<Cookie<'static>>>(mut self, cookie: C) -> Self {
        self.jar.private_mut(&self.key).add(cookie);
        self
    }

    /// Removes a cookie the client sent (see
    /// [`CookieJar::remove`](super::CookieJar::remove): give its path).
    #[must_use = "the jar must be returned in the response for the cookie to be removed"]
    pub fn remove<C: Into<Cookie<'static>>>(mut self, cookie: C) -> Self {
        self.jar.private_mut(&self.key).remove(cookie);
        self
    }

    /// Every cookie that decrypts, with its value in clear.
    pub fn iter(&self) -> impl Iterator<Item = Cookie<'static>> + '_ {
        let private = self.jar.private(&self.key);
        self.jar.iter().filter_map(move |cookie| private.decrypt(cookie.clone()))
    }
}

impl<S> FromRequestParts<S> for PrivateCookieJar
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

impl_response!(PrivateCookieJar);
