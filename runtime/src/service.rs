//! The contract between a generated router and whatever serves it (the
//! server, the test client, the tower adapter).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::body::Body;
use crate::context::{Answered, ConnInfo, RequestHead};
use crate::response::Response;
use crate::routing::RouteInfo;

/// A request as Mambo handles it.
pub type Request = http::Request<Body>;

/// A complete application: what `router!` generates.
///
/// `handle` returns one concrete future type for the whole router: serving a
/// request boxes nothing. (Except in debug builds, where
/// [`Listening::serve`](crate::server::Listening::serve) boxes it so that the
/// server is compiled once, with this crate, rather than once per
/// application; see BENCHMARKS.md, "Compile time".)
pub trait Router: Send + Sync + 'static {
    /// Every route of the router.
    fn routes(&self) -> &'static [RouteInfo];

    /// Answers one request.
    fn handle(
        &self,
        request: Request,
        conn: ConnInfo,
    ) -> impl Future<Output = Response> + Send + '_;

    /// Answers one request whose head the server already pooled (see
    /// [`RequestHead`]), with the response in the same box ([`Answered`]):
    /// what the server calls. `router!` implements it and `handle` through
    /// it; other routers keep this default, which calls `handle`.
    #[doc(hidden)]
    fn __handle_head(
        &self,
        mut head: RequestHead,
        body: Body,
    ) -> impl Future<Output = Answered> + Send + '_ {
        let (request, conn) = head.take_request(body);
        InHead { future: self.handle(request, conn), head: Some(head) }
    }
}

impl<R: Router> Router for std::sync::Arc<R> {
    fn routes(&self) -> &'static [RouteInfo] {
        (**self).routes()
    }

    fn handle(
        &self,
        request: Request,
        conn: ConnInfo,
    ) -> impl Future<Output = Response> + Send + '_ {
        (**self).handle(request, conn)
    }

    fn __handle_head(
        &self,
        head: RequestHead,
        body: Body,
    ) -> impl Future<Output = Answered> + Send + '_ {
        (**self).__handle_head(head, body)
    }
}

pin_project_lite::pin_project! {
    /// `handle`'s future, its response put into the request's box: a struct
    /// rather than an `async` block, which would keep the future twice (as
    /// its capture and as what it awaits).
    struct InHead<F> {
        #[pin]
        future: F,
        head: Option<RequestHead>,
    }
}

impl<F: Future<Output = Response>> Future for InHead<F> {
    type Output = Answered;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Answered> {
        let this = self.project();
        let response = std::task::ready!(this.future.poll(cx));
        let head = this.head.take().expect("a future is not polled after it is ready");
        Poll::Ready(head.answer(response))
    }
}
