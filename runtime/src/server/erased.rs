//! The router behind one type, so that a debug build compiles the server
//! once, in this crate, instead of once per application.
//!
//! Everything the server does is generic over the router, because the
//! router's future is one concrete type per router (nothing boxed per
//! request). The price is paid at compile time: an application crate that
//! calls [`Listening::serve`](super::Listening::serve) monomorphizes the
//! whole server for its router (accept loop, hyper's HTTP/1.1 and HTTP/2
//! state machines, h2's codec, the tokio tasks), some 1 400 functions that
//! are generated, type checked and handed to LLVM again on every clean
//! build, and partly again after any edit that changes the router's future
//! (a handler body). For a 10-route app that was two thirds of its build.
//!
//! In debug builds (`debug_assertions`, the dev profile) `Listening::serve`
//! wraps the router in [`Erased`], whose future is a `Box<dyn Future>`: the
//! server is then instantiated once, for `Erased`, when this crate is built,
//! and an application compiles only its own router and handlers. A request
//! then costs one boxed future more, which a debug build can afford.
//! Release builds serve the router's own future, unboxed, as before.
//! [`serve_connection`](super::serve_connection) and the test client stay
//! generic (the allocation-counting tests run in debug builds).

use std::future::Future;
use std::pin::Pin;

use crate::body::Body;
use crate::context::{Answered, ConnInfo, RequestHead};
use crate::response::Response;
use crate::routing::RouteInfo;
use crate::service::{Request, Router};

/// Any router, its future boxed.
pub(crate) struct Erased(Box<dyn AnyRouter>);

impl Erased {
    pub(crate) fn new<R: Router>(router: R) -> Erased {
        Erased(Box::new(router))
    }
}

/// [`Router`] with a boxed future, so that it can be a trait object.
trait AnyRouter: Send + Sync + 'static {
    fn routes(&self) -> &'static [RouteInfo];

    fn handle(
        &self,
        request: Request,
        conn: ConnInfo,
    ) -> Pin<Box<dyn Future<Output = Response> + Send + '_>>;

    fn handle_head(
        &self,
        head: RequestHead,
        body: Body,
    ) -> Pin<Box<dyn Future<Output = Answered> + Send + '_>>;
}

impl<R: Router> AnyRouter for R {
    fn routes(&self) -> &'static [RouteInfo] {
        Router::routes(self)
    }

    fn handle(
        &self,
        request: Request,
        conn: ConnInfo,
    ) -> Pin<Box<dyn Future<Output = Response> + Send + '_>> {
        Box::pin(Router::handle(self, request, conn))
    }

    fn handle_head(
        &self,
        head: RequestHead,
        body: Body,
    ) -> Pin<Box<dyn Future<Output = Answered> + Send + '_>> {
        Box::pin(Router::__handle_head(self, head, body))
    }
}

impl Router for Erased {
    fn routes(&self) -> &'static [RouteInfo] {
        self.0.routes()
    }

    fn handle(
        &self,
        request: Request,
        conn: ConnInfo,
    ) -> impl Future<Output = Response> + Send + '_ {
        self.0.handle(request, conn)
    }

    fn __handle_head(
        &self,
        head: RequestHead,
        body: Body,
    ) -> impl Future<Output = Answered> + Send + '_ {
        self.0.handle_head(head, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::IntoResponse;
    use crate::test::TestClient;

    static ROUTES: [RouteInfo; 1] = [RouteInfo {
        index: 0,
        methods: &["GET"],
        pattern: "/echo",
        handler: "echo",
        params: &[],
        body_limit: None,
        timeout: None,
    }];

    struct Echo;

    impl Router for Echo {
        fn routes(&self) -> &'static [RouteInfo] {
            &ROUTES
        }

        async fn handle(&self, request: Request, _: ConnInfo) -> Response {
            format!("{} {}", request.method(), request.uri().path()).into_response()
        }
    }

    /// The erased router answers what the router answers, and lists its routes.
    #[tokio::test]
    async fn answers_as_the_router_does() {
        let client = TestClient::new(Erased::new(Echo));
        assert_eq!(client.get("/echo").send().await.text(), "GET /echo");
        assert_eq!(Router::routes(&Erased::new(Echo))[0].pattern, "/echo");
    }
}
