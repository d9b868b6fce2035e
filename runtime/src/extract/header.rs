//! Typed single headers: `Header<T>` and `Option<Header<T>>`.

use std::future::Future;

use http::header::{AUTHORIZATION, CONTENT_LENGTH, HOST, USER_AGENT};
use http::{HeaderName, HeaderValue};

use super::rejection::HeaderRejection;
use super::{FromRequestParts, OptionalFromRequestParts};
use crate::context::RequestContext;

/// A header that decodes into a type, for [`Header<T>`].
///
/// # Examples
///
/// ```
/// use mambo::extract::TypedHeader;
/// use mambo::http::{HeaderName, HeaderValue};
///
/// /// `x-api-version: 3`
/// struct ApiVersion(u32);
///
/// impl TypedHeader for ApiVersion {
///     const NAME: HeaderName = HeaderName::from_static("x-api-version");
///
///     fn decode(value: &HeaderValue) -> Option<Self> {
///         value.to_str().ok()?.parse().ok().map(ApiVersion)
///     }
/// }
/// ```
pub trait TypedHeader: Sized {
    /// The header's name (lower case, as `HeaderName::from_static` requires).
    const NAME: HeaderName;

    /// Decodes the value; `None` when it is invalid.
    fn decode(value: &HeaderValue) -> Option<Self>;
}

/// One typed header: `Header<T>` for a required one, `Option<Header<T>>` for
/// an optional one. When the header is repeated, the first value is used.
///
/// # Errors
///
/// [`HeaderRejection`]: 400 when the header is missing (not for
/// `Option<Header<T>>`) or its value does not decode (for both).
///
/// # Examples
///
/// ```
/// use mambo::extract::{BearerToken, Header, UserAgent};
/// use mambo::prelude::*;
///
/// #[route(GET "/me")]
/// async fn me(Header(BearerToken(token)): Header<BearerToken>, agent: Option<Header<UserAgent>>) -> String {
///     let agent = agent.map_or("unknown".to_owned(), |Header(UserAgent(agent))| agent);
///     format!("token of {} bytes, from {agent}", token.len())
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Header<T>(pub T);

impl<T> std::ops::Deref for Header<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

fn decode<T: TypedHeader>(
    value: Option<&HeaderValue>,
) -> Result<Option<Header<T>>, HeaderRejection> {
    match value {
        None => Ok(None),
        Some(value) => match T::decode(value) {
            Some(decoded) => Ok(Some(Header(decoded))),
            None => Err(HeaderRejection::Invalid { name: T::NAME }),
        },
    }
}

impl<S, T> FromRequestParts<S> for Header<T>
where
    T: TypedHeader + Send,
{
    type Rejection = HeaderRejection;

    fn from_request_parts(
        cx: &RequestContext<'_, S>,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        let decoded = decode::<T>(cx.headers().get(T::NAME))
            .and_then(|header| header.ok_or(HeaderRejection::Missing { name: T::NAME }));
        std::future::ready(decoded)
    }
}

impl<S, T> OptionalFromRequestParts<S> for Header<T>
where
    T: TypedHeader + Send,
{
    type Rejection = HeaderRejection;

    fn from_request_parts(
        cx: &RequestContext<'_, S>,
    ) -> impl Future<Output = Result<Option<Self>, Self::Rejection>> + Send {
        std::future::ready(decode::<T>(cx.headers().get(T::NAME)))
    }
}

/// `user-agent`, as text (visible ASCII).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAgent(pub String);

impl TypedHeader for UserAgent {
    const NAME: HeaderName = USER_AGENT;

    fn decode(value: &HeaderValue) -> Option<Self> {
        value.to_str().ok().map(|agent| UserAgent(agent.to_owned()))
    }
}

/// `host`, as text (`example.com:8080`). HTTP/2 requests carry the host in
/// the URI instead: see [`Uri::authority`](http::Uri::authority).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host(pub String);

impl TypedHeader for Host {
    const NAME: HeaderName = HOST;

    fn decode(value: &HeaderValue) -> Option<Self> {
        let host = value.to_str().ok()?;
        (!host.is_empty()).then(|| Host(host.to_owned()))
    }
}

/// `content-length`, as a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentLength(pub u64);

impl TypedHeader for ContentLength {
    const NAME: HeaderName = CONTENT_LENGTH;

    fn decode(value: &HeaderValue) -> Option<Self> {
        value.to_str().ok()?.parse().ok().map(ContentLength)
    }
}

/// The token of `authorization: Bearer <token>` (the scheme in any case).
/// Any other scheme is an invalid value.
#[derive(Clone, PartialEq, Eq)]
pub struct BearerToken(pub String);

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keeps credentials out of logs.
        f.write_str("BearerToken(..)")
    }
}

impl TypedHeader for BearerToken {
    const NAME: HeaderName = AUTHORIZATION;

    fn decode(value: &HeaderValue) -> Option<Self> {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        let token = token.trim();
        (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty())
            .then(|| BearerToken(token.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use http::{Request, StatusCode};

    use super::*;
    use crate::extract::body::tests::context;

    async fn header<T: TypedHeader + Send>(
        request: Request<()>,
    ) -> Result<Header<T>, HeaderRejection> {
        let cx = context(request, &(), false);
        <Header<T> as FromRequestParts<()>>::from_request_parts(&cx).await
    }

    async fn optional<T: TypedHeader + Send>(
        request: Request<()>,
    ) -> Result<Option<Header<T>>, HeaderRejection> {
        let cx = context(request, &(), false);
        <Option<Header<T>> as FromRequestParts<()>>::from_request_parts(&cx).await
    }

    fn get() -> http::request::Builder {
        Request::get("/")
    }

    #[tokio::test]
    async fn decodes_present_headers() {
        let request = get().header("authorization", "bearer abc.def").body(()).unwrap();
        let Header(BearerToken(token)) = header(request).await.unwrap();
        assert_eq!(token, "abc.def");
        let request = get().header("content-length", "12").body(()).unwrap();
        assert_eq!(header::<ContentLength>(request).await.unwrap(), Header(ContentLength(12)));
    }

    #[tokio::test]
    async fn missing_is_400_or_none() {
        let err = header::<UserAgent>(get().body(()).unwrap()).await.unwrap_err();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert_eq!(err.code(), 40008);
        assert_eq!(err.message(), "missing request header `user-agent`");
        assert_eq!(optional::<UserAgent>(get().body(()).unwrap()).await.unwrap(), None);
    }

    #[tokio::test]
    async fn invalid_is_400_even_when_optional() {
        let request = || get().header("authorization", "Basic dXNlcg==").body(()).unwrap();
        let err = header::<BearerToken>(request()).await.unwrap_err();
        assert_eq!(err.code(), 40009);
        assert_eq!(err.message(), "request header `authorization` has an invalid value");
        assert!(optional::<BearerToken>(request()).await.is_err());
    }

    #[test]
    fn bearer_token_stays_out_of_debug_output() {
        assert_eq!(format!("{:?}", BearerToken("secret".into())), "BearerToken(..)");
    }
}
