//! Extractors for the rest of the request head: `HeaderMap`, `Method`,
//! `Uri`, and the client's address.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;

use http::{HeaderMap, Method, Uri};

use super::rejection::ClientAddrRejection;
use super::{FromRequestParts, OptionalFromRequestParts};
use crate::context::RequestContext;

/// All request headers. Clones the map (one allocation per header name
/// table); prefer [`Header<T>`](super::Header) for a single header.
impl<S> FromRequestParts<S> for HeaderMap {
    type Rejection = Infallible;

    fn from_request_parts(
        cx: &RequestContext<'_, S>,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        std::future::ready(Ok(cx.headers().clone()))
    }
}

/// The request method. Standard methods are copied without allocating.
impl<S> FromRequestParts<S> for Method {
    type Rejection = Infallible;

    fn from_request_parts(
        cx: &RequestContext<'_, S>,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        std::future::ready(Ok(cx.method().clone()))
    }
}

/// The request URI, as received (origin form for HTTP/1.1: path and query).
/// Cloning shares the URI's buffer.
impl<S> FromRequestParts<S> for Uri {
    type Rejection = Infallible;

    fn from_request_parts(
        cx: &RequestContext<'_, S>,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        std::future::ready(Ok(cx.uri().clone()))
    }
}

/// The address of the peer the request came from: the TCP peer, not a
/// client behind a proxy (read `forwarded` / `x-forwarded-for` for that,
/// and only from proxies you trust).
///
/// # Errors
///
/// [`ClientAddrRejection`]: a 500 when the connection has no peer address,
/// which happens only for requests that did not come over a socket (the
/// in-process test client). Take `Option<ClientAddr>` to get `None` instead.
///
/// # Examples
///
/// ```
/// use mambo::extract::ClientAddr;
/// use mambo::prelude::*;
///
/// #[route(GET "/ip")]
/// async fn ip(ClientAddr(addr): ClientAddr) -> String {
///     addr.ip().to_string()
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub SocketAddr);

impl<S> FromRequestParts<S> for ClientAddr {
    type Rejection = ClientAddrRejection;

    fn from_request_parts(
        cx: &RequestContext<'_, S>,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        std::future::ready(
            cx.conn().remote_addr.map(ClientAddr).ok_or(ClientAddrRejection::Unknown),
        )
    }
}

impl<S> OptionalFromRequestParts<S> for ClientAddr {
    type Rejection = Infallible;

    fn from_request_parts(
        cx: &RequestContext<'_, S>,
    ) -> impl Future<Output = Result<Option<Self>, Self::Rejection>> + Send {
        std::future::ready(Ok(cx.conn().remote_addr.map(ClientAddr)))
    }
}

#[cfg(test)]
mod tests {
    use http::{Request, StatusCode};

    use super::*;
    use crate::context::ConnInfo;
    use crate::response::IntoResponse;

    fn cx(remote_addr: Option<SocketAddr>) -> RequestContext<'static, ()> {
        let (parts, ()) =
            Request::put("/a/b?c=d").header("x-one", "1").body(()).unwrap().into_parts();
        let conn = ConnInfo { remote_addr, ..ConnInfo::default() };
        RequestContext::new(parts, &(), conn, None)
    }

    #[tokio::test]
    async fn copies_method_uri_and_headers() {
        let cx = cx(None);
        let Ok(method) = Method::from_request_parts(&cx).await;
        let Ok(uri) = Uri::from_request_parts(&cx).await;
        let Ok(headers) = HeaderMap::from_request_parts(&cx).await;
        assert_eq!(method, Method::PUT);
        assert_eq!(uri, "/a/b?c=d");
        assert_eq!(headers["x-one"], "1");
    }

    #[tokio::test]
    async fn client_addr_from_the_connection() {
        let addr: SocketAddr = "10.0.0.7:5000".parse().unwrap();
        let got = <ClientAddr as FromRequestParts<()>>::from_request_parts(&cx(Some(addr))).await;
        assert_eq!(got.unwrap(), ClientAddr(addr));
        let Ok(got) =
            <Option<ClientAddr> as FromRequestParts<()>>::from_request_parts(&cx(Some(addr))).await;
        assert_eq!(got, Some(ClientAddr(addr)));
    }

    #[tokio::test]
    async fn unknown_client_addr_is_500_or_none() {
        let err =
            <ClientAddr as FromRequestParts<()>>::from_request_parts(&cx(None)).await.unwrap_err();
        let response = err.into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            response.body().as_bytes().unwrap(),
            br#"{"code":50001,"message":"the client address is not known for this connection"}"#
        );
        let Ok(none) =
            <Option<ClientAddr> as FromRequestParts<()>>::from_request_parts(&cx(None)).await;
        assert_eq!(none, None);
    }
}
