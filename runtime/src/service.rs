//! The contract between a generated router and whatever serves it (the
//! server, the test client, the tower adapter).

use std::future::Future;

use crate::body::Body;
use crate::context::{ConnInfo, RequestHead};
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
    /// [`RequestHead`]): what the server calls. `router!` implements it and
    /// `handle` through it; other routers keep this default, which calls
    /// `handle`.
    #[doc(hidden)]
    fn __handle_head(
        &self,
        head: RequestHead,
        body: Body,
    ) -> impl Future<Output = Response> + Send + '_ {
        let (request, conn) = head.into_request(body);
        self.handle(request, conn)
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
    ) -> impl Future<Output = Response> + Send + '_ {
        (**self).__handle_head(head, body)
    }
}
