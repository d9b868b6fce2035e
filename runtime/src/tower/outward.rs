//! A Mambo router as a tower service: see the [module docs](super).

use std::any::Any;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;

use crate::body::{Body, BoxError, ResponseBody};
use crate::context::ConnInfo;
use crate::response::Response;
use crate::service::Router;

/// A router as a `tower_service::Service<http::Request<B>>`.
///
/// Cloning is cheap (the router is behind an [`Arc`]); it is always ready and
/// never fails: every error is already a response.
///
/// The [`ConnInfo`] the router sees is the one set with
/// [`with_conn`](Self::with_conn), unless the request's extensions carry a
/// `ConnInfo` of their own (put there by a serving loop that knows the
/// connection).
///
/// # Examples
///
/// ```
/// use mambo::tower::TowerService;
/// use mambo::{ConnInfo, IntoResponse, Request, Response, RouteInfo, Router};
/// use tower_service::Service;
///
/// struct Hello;
///
/// impl Router for Hello {
///     fn routes(&self) -> &'static [RouteInfo] {
///         &[]
///     }
///
///     async fn handle(&self, _request: Request, _conn: ConnInfo) -> Response {
///         "hello".into_response()
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut service = TowerService::new(Hello);
/// let request = http::Request::new(http_body_util::Empty::<bytes::Bytes>::new());
/// let response = service.call(request).await.unwrap();
/// assert_eq!(response.body().as_bytes(), Some(&b"hello"[..]));
/// # }
/// ```
#[derive(Debug)]
pub struct TowerService<R> {
    router: Arc<R>,
    conn: ConnInfo,
}

impl<R> Clone for TowerService<R> {
    fn clone(&self) -> Self {
        TowerService { router: Arc::clone(&self.router), conn: self.conn }
    }
}

impl<R: Router> TowerService<R> {
    /// Wraps `router`, with the default [`ConnInfo`].
    pub fn new(router: R) -> Self {
        Self::from_arc(Arc::new(router))
    }

    /// Wraps a router that is already shared.
    pub fn from_arc(router: Arc<R>) -> Self {
        TowerService { router, conn: ConnInfo::default() }
    }

    /// Sets the [`ConnInfo`] the router sees (addresses, TLS, default body
    /// limit and timeout).
    #[must_use]
    pub fn with_conn(mut self, conn: ConnInfo) -> Self {
        self.conn = conn;
        self
    }

    /// The router.
    pub fn router(&self) -> &Arc<R> {
        &self.router
    }
}

/// Wraps `router` as a [`TowerService`].
pub fn into_tower_service<R: Router>(router: R) -> TowerService<R> {
    TowerService::new(router)
}

/// The future of [`TowerService`]'s `Service::call`: the router's future, boxed.
pub type TowerFuture = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send + 'static>>;

impl<R, B> tower_service::Service<http::Request<B>> for TowerService<R>
where
    R: Router,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = http::Response<ResponseBody>;
    type Error = Infallible;
    type Future = TowerFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> TowerFuture {
        let (parts, body) = request.into_parts();
        let conn = parts.extensions.get::<ConnInfo>().copied().unwrap_or(self.conn);
        let request = http::Request::from_parts(parts, into_body(body));
        let router = Arc::clone(&self.router);
        Box::pin(async move { Ok(router.handle(request, conn).await) })
    }
}

/// Converts any body into Mambo's, boxing only what has no variant of its own.
pub(super) fn into_body<B>(body: B) -> Body
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    // `B` is `'static`, so a downcast tells whether it already is a body
    // Mambo knows (under hyper it is `Incoming`, under Mambo's own stack
    // `Body`); those need no box.
    let mut slot = Some(body);
    let any: &mut dyn Any = &mut slot;
    if let Some(body) = any.downcast_mut::<Option<Body>>() {
        return body.take().expect("the slot is full");
    }
    if let Some(body) = any.downcast_mut::<Option<hyper::body::Incoming>>() {
        return Body::from(body.take().expect("the slot is full"));
    }
    Body::boxed(slot.expect("the slot is full"))
}

#[cfg(test)]
mod tests {
    use http::{Method, StatusCode};
    use http_body_util::{BodyExt, Full};
    use tower_service::Service;

    use super::*;
    use crate::response::IntoResponse;
    use crate::routing::RouteInfo;
    use crate::service::Request;

    /// Answers with the request's method, path, body, body kind and remote
    /// address.
    struct Echo;

    impl Router for Echo {
        fn routes(&self) -> &'static [RouteInfo] {
            &[]
        }

        async fn handle(&self, request: Request, conn: ConnInfo) -> Response {
            let (parts, body) = request.into_parts();
            let kind = match &body {
                Body::Empty => "empty",
                Body::Full(_) => "full",
                Body::Incoming(_) => "incoming",
                Body::Boxed(_) => "boxed",
            };
            let bytes = match body.collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(err) => return (StatusCode::BAD_REQUEST, err.to_string()).into_response(),
            };
            let text = format!(
                "{} {} {kind} {:?} {}",
                parts.method,
                parts.uri.path(),
                conn.remote_addr,
                String::from_utf8_lossy(&bytes)
            );
            (StatusCode::CREATED, text).into_response()
        }
    }

    async fn call<B>(
        service: &mut TowerService<Echo>,
        request: http::Request<B>,
    ) -> (StatusCode, String)
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        std::future::poll_fn(|cx| Service::<http::Request<B>>::poll_ready(service, cx))
            .await
            .unwrap();
        let response = service.call(request).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn foreign_bodies_are_boxed() {
        let mut service = TowerService::new(Echo);
        let request = http::Request::builder()
            .method(Method::POST)
            .uri("/items?x=1")
            .body(Full::new(Bytes::from_static(b"payload")))
            .unwrap();
        assert_eq!(
            call(&mut service, request).await,
            (StatusCode::CREATED, "POST /items boxed None payload".into())
        );
    }

    #[tokio::test]
    async fn mambo_bodies_are_not_boxed_again() {
        let mut service = TowerService::new(Echo);
        let request = http::Request::builder().uri("/a").body(Body::from("full")).unwrap();
        assert_eq!(call(&mut service, request).await.1, "GET /a full None full");
    }

    #[tokio::test]
    async fn body_errors_reach_the_router() {
        #[derive(Debug)]
        struct Failing;
        impl http_body::Body for Failing {
            type Data = Bytes;
            type Error = std::io::Error;
            fn poll_frame(
                self: Pin<&mut Self>,
                _: &mut Context<'_>,
            ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
                Poll::Ready(Some(Err(std::io::Error::other("connection reset"))))
            }
        }
        let mut service = TowerService::new(Echo);
        let (status, body) = call(&mut service, http::Request::new(Failing)).await;
        assert_eq!((status, body.as_str()), (StatusCode::BAD_REQUEST, "connection reset"));
    }

    #[tokio::test]
    async fn conn_info_comes_from_the_service_or_the_request() {
        let addr = "192.0.2.1:4000".parse().unwrap();
        let mut service = into_tower_service(Echo)
            .with_conn(ConnInfo { remote_addr: Some(addr), ..ConnInfo::default() });
        let request = http::Request::new(http_body_util::Empty::<Bytes>::new());
        assert_eq!(call(&mut service, request).await.1, "GET / boxed Some(192.0.2.1:4000) ");

        let other = "198.51.100.2:5000".parse().unwrap();
        let mut request = http::Request::new(http_body_util::Empty::<Bytes>::new());
        request
            .extensions_mut()
            .insert(ConnInfo { remote_addr: Some(other), ..ConnInfo::default() });
        assert_eq!(call(&mut service, request).await.1, "GET / boxed Some(198.51.100.2:5000) ");
    }

    #[tokio::test]
    async fn clones_share_the_router() {
        let service = TowerService::new(Echo);
        let clone = service.clone();
        assert!(Arc::ptr_eq(service.router(), clone.router()));
        fn assert_send<T: Send + Sync + Clone + 'static>(_: &T) {}
        assert_send(&service);
    }
}
