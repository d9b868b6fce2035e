//! Cookies (feature `cookie`): [`CookieJar`], [`SignedCookieJar`] and
//! [`PrivateCookieJar`], on the [`cookie`](https://docs.rs/cookie/0.18) crate.
//!
//! Each jar is an extractor that reads every `Cookie` header of the request
//! (HTTP/2 sends one header per cookie), and a response part that writes one
//! `Set-Cookie` header per cookie added or removed in the handler, and none
//! for the cookies it left alone. Return it beside the body, `(jar, body)` or
//! `(StatusCode, jar, body)`, or alone.
//!
//! | jar | the client can read it | the client can forge or alter it | key |
//! |---|---|---|---|
//! | [`CookieJar`] | yes | yes | none |
//! | [`SignedCookieJar`] | yes | no (HMAC-SHA256) | [`Key`] from the state |
//! | [`PrivateCookieJar`] | no (AES-256-GCM) | no | [`Key`] from the state |
//!
//! The signed and private jars take their [`Key`] from the router state
//! through [`FromRef`](crate::FromRef): a state that *is* a `Key` works as
//! is; otherwise implement `FromRef<AppState> for Key`. Keep the key secret
//! and stable across restarts and instances: 64 random bytes from
//! configuration, with [`Key::from`]; [`Key::generate`] suits tests.
//!
//! # Nothing a client sends is an error
//!
//! Extraction never fails (its rejection is
//! [`Infallible`](std::convert::Infallible)). A malformed cookie is skipped;
//! a signed cookie whose signature does not match, or a private cookie that
//! does not decrypt (altered, or made with another key), is simply absent:
//! `get` returns `None`, as though the client had not sent it. The handler
//! decides what a missing cookie means (usually: not logged in).
//!
//! # Secure defaults
//!
//! The `cookie` crate sets no attribute unless asked. For a cookie that
//! carries a session or any credential, set:
//!
//! - `HttpOnly`: scripts in the page cannot read it, so an XSS hole cannot
//!   steal it;
//! - `Secure`: the browser sends it over HTTPS only (browsers let
//!   `http://localhost` through for development);
//! - `SameSite=Lax`: the browser leaves it off cross-site subrequests and
//!   cross-site `POST`s, the bulk of CSRF (`Strict` also leaves it off
//!   top-level links from other sites);
//! - `Path=/`: one cookie for the whole site, and the same path again to
//!   remove it (a removal only matches a cookie of the same name, path and
//!   domain).
//!
//! [`secure_cookie`] starts a cookie with all four; add `max_age` for a
//! persistent one. Removing a cookie sends it back empty, with `Max-Age=0`
//! and an expiry in the past.
//!
//! # Examples
//!
//! A login and logout flow with a signed session cookie:
//!
//! ```
//! use mambo::cookie::{Cookie, Key, SignedCookieJar, secure_cookie};
//! use mambo::prelude::*;
//! use mambo::test::TestClient;
//!
//! #[route(POST "/login")]
//! async fn login(jar: SignedCookieJar) -> (SignedCookieJar, &'static str) {
//!     // ...check the credentials...
//!     (jar.add(secure_cookie("session", "user-42")), "welcome")
//! }
//!
//! #[route(GET "/me")]
//! async fn me(jar: SignedCookieJar) -> Result<String, Error> {
//!     match jar.get("session") {
//!         Some(session) => Ok(format!("you are {}", session.value())),
//!         None => Err(Error::new(StatusCode::UNAUTHORIZED, "log in first")),
//!     }
//! }
//!
//! #[route(POST "/logout")]
//! async fn logout(jar: SignedCookieJar) -> (SignedCookieJar, &'static str) {
//!     // The same path as when it was set.
//!     (jar.remove(Cookie::build("session").path("/")), "bye")
//! }
//!
//! mambo::router! {
//!     struct App {
//!         state: Key,
//!         routes: [login, me, logout],
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let client = TestClient::new(App::new(Key::generate()));
//!
//! let response = client.post("/login").send().await;
//! let set_cookie = response.header("set-cookie").unwrap();
//! assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("Secure"));
//! assert!(set_cookie.contains("SameSite=Lax") && set_cookie.contains("Path=/"));
//! let session = set_cookie.split(';').next().unwrap().to_owned();
//!
//! let response = client.get("/me").header("cookie", session.as_str()).send().await;
//! assert_eq!(response.text(), "you are user-42");
//!
//! // A forged session is no session.
//! let response = client.get("/me").header("cookie", "session=user-1").send().await;
//! assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
//!
//! let response = client.post("/logout").header("cookie", session.as_str()).send().await;
//! assert!(response.header("set-cookie").unwrap().contains("Max-Age=0"));
//! # }
//! ```

use http::HeaderMap;
use http::header::{COOKIE, HeaderValue, SET_COOKIE};

/// `IntoResponse` (alone) and `ResponseHeaders` (in a tuple) for a jar
/// whose `jar` field is a `cookie::CookieJar`.
macro_rules! impl_response {
    ($ty:ty) => {
        impl $crate::response::ResponseHeaders for $ty {
            fn apply(self, headers: &mut ::http::HeaderMap) -> Result<(), ::http::Error> {
                super::write_delta(&self.jar, headers)
            }
        }

        impl $crate::response::IntoResponse for $ty {
            fn into_response(self) -> $crate::response::Response {
                $crate::response::IntoResponse::into_response((self, ()))
            }
        }
    };
}

mod jar;
mod private;
mod signed;

pub use ::cookie::{Cookie, CookieBuilder, Expiration, Key, SameSite, time};
pub use jar::CookieJar;
pub use private::PrivateCookieJar;
pub use signed::SignedCookieJar;

/// A cookie with the secure defaults set: `HttpOnly`, `Secure`,
/// `SameSite=Lax` and `Path=/` (see [the module docs](self#secure-defaults)).
///
/// Returns the builder, to add or change attributes; any jar's `add` takes
/// it as is.
///
/// # Examples
///
/// ```
/// use mambo::cookie::{secure_cookie, time::Duration};
///
/// let cookie = secure_cookie("session", "abc").max_age(Duration::days(7)).build();
/// assert_eq!(
///     cookie.to_string(),
///     "session=abc; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=604800"
/// );
/// ```
pub fn secure_cookie<N, V>(name: N, value: V) -> CookieBuilder<'static>
where
    N: Into<std::borrow::Cow<'static, str>>,
    V: Into<std::borrow::Cow<'static, str>>,
{
    Cookie::build((name, value)).http_only(true).secure(true).same_site(SameSite::Lax).path("/")
}

/// The cookies of every `Cookie` header, as the jar's originals.
///
/// A header that is not UTF-8 and a pair that does not parse are skipped.
/// Values are percent-decoded (and written percent-encoded).
fn read_cookies(headers: &HeaderMap) -> ::cookie::CookieJar {
    let mut jar = ::cookie::CookieJar::new();
    for value in headers.get_all(COOKIE) {
        let Ok(value) = std::str::from_utf8(value.as_bytes()) else {
            continue;
        };
        for pair in value.split(';') {
            let pair = pair.trim();
            if pair.is_empty() {
                continue;
            }
            if let Ok(cookie) = Cookie::parse_encoded(pair.to_owned()) {
                jar.add_original(cookie);
            }
        }
    }
    jar
}

/// One `Set-Cookie` per cookie added or removed since the request.
fn write_delta(jar: &::cookie::CookieJar, headers: &mut HeaderMap) -> Result<(), http::Error> {
    for cookie in jar.delta() {
        let value = HeaderValue::try_from(cookie.encoded().to_string())?;
        headers.append(SET_COOKIE, value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&'static [u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(COOKIE, HeaderValue::from_bytes(value).unwrap());
        }
        headers
    }

    #[test]
    fn reads_every_header_and_skips_what_does_not_parse() {
        let jar = read_cookies(&headers(&[
            b"a=1; b=2",
            b"c=hello%20world",
            b";; =nameless; d=4;",
            b"e=\xff",
            b"noequals",
        ]));
        let mut found: Vec<_> =
            jar.iter().map(|c| (c.name().to_owned(), c.value().to_owned())).collect();
        found.sort();
        let expected = [("a", "1"), ("b", "2"), ("c", "hello world"), ("d", "4")];
        let expected: Vec<_> =
            expected.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        assert_eq!(found, expected);
    }

    #[test]
    fn writes_only_the_delta_percent_encoded() {
        let mut jar = read_cookies(&headers(&[b"kept=1; gone=2"]));
        jar.add(Cookie::new("new", "a b;c"));
        jar.remove("gone");
        let mut out = HeaderMap::new();
        write_delta(&jar, &mut out).unwrap();
        let mut set: Vec<_> = out.get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap()).collect();
        set.sort();
        assert_eq!(set.len(), 2);
        assert!(set[0].starts_with("gone=; ") && set[0].contains("Max-Age=0"), "{set:?}");
        assert_eq!(set[1], "new=a%20b%3Bc");
    }

    #[test]
    fn secure_cookie_sets_the_defaults() {
        let cookie = secure_cookie("s", "v").build();
        assert_eq!(cookie.http_only(), Some(true));
        assert_eq!(cookie.secure(), Some(true));
        assert_eq!(cookie.same_site(), Some(SameSite::Lax));
        assert_eq!(cookie.path(), Some("/"));
    }
}
