//! `CookieJar`: plain cookies, which the client can read and change.

use std::convert::Infallible;
use std::future::Future;

use http::HeaderMap;

use super::Cookie;
use crate::context::RequestContext;
use crate::extract::FromRequestParts;

/// The request's cookies, as the client sent them; and the cookies to set
/// or remove in the response.
///
/// The client can read and change these cookies: keep nothing in them that
/// the server trusts (use [`SignedCookieJar`](super::SignedCookieJar) or
/// [`PrivateCookieJar`](super::PrivateCookieJar) for that).
///
/// As an extractor it never fails. In a response it writes one `Set-Cookie`
/// per cookie [`add`](Self::add)ed or [`remove`](Self::remove)d.
///
/// # Examples
///
/// ```
/// use mambo::cookie::{Cookie, CookieJar};
/// use mambo::prelude::*;
///
/// #[route(GET "/theme")]
/// async fn theme(jar: CookieJar) -> String {
///     jar.get("theme").map_or("light", |c| c.value()).to_owned()
/// }
///
/// #[route(POST "/theme/dark")]
/// async fn dark(jar: CookieJar) -> (CookieJar, StatusCode) {
///     (jar.add(Cookie::build(("theme", "dark")).path("/")), StatusCode::NO_CONTENT)
/// }
/// ```
#[derive(Debug, Clone, Default)]
pub struct CookieJar {
    pub(super) jar: ::cookie::CookieJar,
}

impl CookieJar {
    /// An empty jar, to set cookies outside a handler that extracts one.
    pub fn new() -> Self {
        Self::default()
    }

    /// The cookies of every `Cookie` header in `headers`; malformed ones
    /// are skipped.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        Self { jar: super::read_cookies(headers) }
    }

    /// The cookie named `name`: as sent, or as added or removed since
    /// (a removed cookie is `None`).
    pub fn get(&self, name: &str) -> Option<&Cookie<'static>> {
        self.jar.get(name)
    }

    /// Adds a cookie (replacing one of the same name): a `Set-Cookie` in
    /// the response.
    // `add`, as the `cookie` crate and axum-extra name it; not `ops::Add`.
    #[allow(clippy::should_implement_trait)]
    #[must_use = "the jar must be returned in the response for the cookie to be set"]
    pub fn add<C: Into<Cookie<'static>>>(mut self, cookie: C) -> Self {
        self.jar.add(cookie);
        self
    }

    /// Removes a cookie the client sent: a `Set-Cookie` with an empty
    /// value, `Max-Age=0` and an expiry in the past. Give the path and
    /// domain it was set with (`Cookie::build("name").path("/")`), or the
    /// browser keeps it.
    #[must_use = "the jar must be returned in the response for the cookie to be removed"]
    pub fn remove<C: Into<Cookie<'static>>>(mut self, cookie: C) -> Self {
        self.jar.remove(cookie);
        self
    }

    /// Every cookie, as sent or as added since (not the removed ones).
    pub fn iter(&self) -> impl Iterator<Item = &Cookie<'static>> {
        self.jar.iter()
    }
}

impl<S> FromRequestParts<S> for CookieJar {
    type Rejection = Infallible;

    fn from_request_parts(
        cx: &RequestContext<'_, S>,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        std::future::ready(Ok(Self::from_headers(cx.headers())))
    }
}

impl_response!(CookieJar);
