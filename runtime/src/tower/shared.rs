//! A tower service kept by a router: the stack a `layer(..)` entry builds,
//! or a `service` route.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use http::StatusCode;
use tower::ServiceExt;
use tower_service::Service;

use crate::body::{Body, BoxError, ResponseBody};
use crate::error::Error;
use crate::response::{IntoResponse, Response};

/// The future a [`SharedService`] answers with.
pub type ResponseFuture = Pin<Box<dyn Future<Output = Response> + Send + 'static>>;

/// Code of the 500 answered when a tower service fails with an error it did
/// not turn into a response itself.
pub const SERVICE_FAILED_CODE: u32 = 50005;

/// A tower service as a router keeps it: shared by every request, type
/// erased, and answering Mambo's [`Response`].
///
/// `router!` builds one for each `layer(..)` entry (the layer wrapped around
/// the rest of the chain) and each `service` route. Each request clones the
/// service (tower services are called through `&mut self`; their clones
/// share whatever state they have, such as a concurrency limit's semaphore),
/// waits until it is ready, calls it, and boxes its future.
///
/// Errors the service returns become responses: tower's timeout `Elapsed` a
/// 504 (code 50400), load shedding's `Overloaded` a 503 (50301), anything
/// else a 500 with code [`SERVICE_FAILED_CODE`] whose message is the
/// error's.
pub struct SharedService(pub(super) Box<dyn Erased>);

impl std::fmt::Debug for SharedService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedService")
    }
}

impl SharedService {
    /// Keeps `service`.
    ///
    /// # Examples
    ///
    /// ```
    /// use mambo::tower::SharedService;
    /// use mambo::{Body, IntoResponse, StatusCode};
    ///
    /// let service = tower::service_fn(|_: http::Request<Body>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Full::new(
    ///         bytes::Bytes::from_static(b"hi"),
    ///     )))
    /// });
    /// let shared = SharedService::new(service);
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let response = shared.call(http::Request::new(Body::Empty)).await;
    /// assert_eq!(response.status(), StatusCode::OK);
    /// # });
    /// ```
    pub fn new(service: impl super::RouterService) -> Self {
        service.share()
    }

    /// Calls the service with `request`.
    pub fn call(&self, request: http::Request<Body>) -> ResponseFuture {
        self.0.call(request)
    }
}

/// [`SharedService`]'s object-safe side.
pub(super) trait Erased: Send + Sync + 'static {
    fn call(&self, request: http::Request<Body>) -> ResponseFuture;
}

impl<S, B> Erased for S
where
    S: Service<http::Request<Body>, Response = http::Response<B>> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Into<Bytes>,
    B::Error: Into<BoxError>,
{
    fn call(&self, request: http::Request<Body>) -> ResponseFuture {
        let service = self.clone();
        Box::pin(async move {
            match service.oneshot(request).await {
                Ok(response) => response.map(ResponseBody::boxed),
                Err(err) => error_response(err.into()),
            }
        })
    }
}

/// The response for an error a tower service failed with.
#[cold]
fn error_response(err: BoxError) -> Response {
    if err.is::<tower::timeout::error::Elapsed>() {
        return Error::with_code(
            StatusCode::GATEWAY_TIMEOUT,
            50400,
            "the request did not complete within its timeout",
        )
        .into_response();
    }
    if err.is::<tower::load_shed::error::Overloaded>() {
        return Error::with_code(
            StatusCode::SERVICE_UNAVAILABLE,
            50301,
            "the service is overloaded; retry later",
        )
        .into_response();
    }
    tracing::error!(target: "mambo::tower", error = %err, "a tower service failed");
    Error::with_code(
        StatusCode::INTERNAL_SERVER_ERROR,
        SERVICE_FAILED_CODE,
        format!("a tower service failed: {err}"),
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::time::Duration;

    use super::*;

    fn ok_service() -> impl Service<
        http::Request<Body>,
        Response = http::Response<http_body_util::Full<Bytes>>,
        Error = BoxError,
        Future = impl Send,
    > + Clone
    + Send
    + Sync
    + 'static {
        tower::service_fn(|request: http::Request<Body>| async move {
            Ok(http::Response::new(http_body_util::Full::new(Bytes::from(
                request.uri().path().to_owned(),
            ))))
        })
    }

    #[tokio::test]
    async fn answers_with_the_services_response_and_its_size() {
        let shared = SharedService::new(ok_service());
        let response = shared.call(http::Request::get("/a/b").body(Body::Empty).unwrap()).await;
        assert_eq!(http_body::Body::size_hint(response.body()).exact(), Some(4));
        let body = http_body_util::BodyExt::collect(response.into_body()).await.unwrap();
        assert_eq!(body.to_bytes(), "/a/b");
    }

    #[tokio::test]
    async fn errors_become_json_responses() {
        let timeout = tower::timeout::Timeout::new(
            tower::service_fn(|_: http::Request<Body>| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok::<_, Infallible>(http::Response::new(Body::Empty))
            }),
            Duration::from_millis(10),
        );
        let response = SharedService::new(timeout).call(http::Request::new(Body::Empty)).await;
        assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);

        let failing = tower::service_fn(|_: http::Request<Body>| async {
            Err::<http::Response<Body>, _>(std::io::Error::other("disk on fire"))
        });
        let response = SharedService::new(failing).call(http::Request::new(Body::Empty)).await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = http_body_util::BodyExt::collect(response.into_body()).await.unwrap();
        let text = String::from_utf8(body.to_bytes().to_vec()).unwrap();
        assert!(text.contains("50005") && text.contains("disk on fire"), "{text}");
    }
}
