//! One request, from hyper's `Request<Incoming>` to the router's response.
//!
//! Allocation-free: the future is one concrete type per router, the body is
//! moved into [`Body::Incoming`], and the only shared-state traffic is the
//! in-flight counter and the connection's activity counter.
//!
//! Its size matters: hyper keeps one request future per HTTP/1.1 connection
//! in a box (so it is part of every idle connection's memory) and moves one
//! into a task per HTTP/2 stream. The `async` block below holds only the
//! connection, the request's head (in the box its context will use, see
//! [`RequestHead`]: filled where hyper hands the request over, so the
//! 224-byte head is not moved from future to future) and its body, and
//! awaits the router's future through [`Answer`], a struct, rather than
//! through nested `async` blocks and `Instrument`, which each kept their
//! own copy of the request and the connection info (for the 203-route
//! GitHub router: 2 952 bytes before, 896 then; 1 040 in the benchmark
//! server with the `tower` and `metrics` features while the block held
//! hyper's request, 864 since, 880 once the response stays in the
//! context's box).
//!
//! Each future layer that receives a response and returns it moves its 144
//! bytes once more, so the response does not travel through the futures:
//! the route puts it into the request context's pooled box (see
//! `ResponseSlot`), the router's future answers with that box
//! ([`Answered`], 8 bytes), and [`Answer`]'s poll takes the response out
//! where it makes it hyper's (marked for a draining server, wrapped in the
//! body hyper gets); the `async` block ends with that `await`.

use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Version;
use hyper::body::Incoming;

use super::conn::ConnState;
use super::count::CountGuard;
use super::served::{self, ServedBody};
use super::trace::{RequestTrace, TARGET};
use super::{host, shed};
use crate::__private::panic_message;
use crate::body::{Body, IncomingBody, ReadGate};
#[cfg(test)]
use crate::context::ConnInfo;
use crate::context::{Answered, RequestHead};
use crate::error::Error;
use crate::response::{IntoResponse, Response};
use crate::service::Router;

/// Answers one request on the connection `conn`.
///
/// On HTTP/2 it first waits for room in the connection's output budget
/// (see `budget`). Past the in-flight limit the answer is a 503 without
/// calling the router.
/// A panic anywhere in the router's future (middleware included; handlers'
/// own panics are already caught by the generated dispatch) becomes a 500,
/// and the connection carries on.
pub(crate) fn handle<R: Router>(
    conn: &Arc<ConnState<R>>,
    request: http::Request<Incoming>,
) -> impl Future<Output = Result<http::Response<ServedBody<R>>, Infallible>> + Send + use<R> {
    // The head goes into the box its context will use, and the body is
    // wrapped, here where hyper hands the request over: the future holds a
    // pointer and the body, and the head is not moved again.
    let (parts, body) = request.into_parts();
    let head = RequestHead::new(parts, conn.info);
    let body = Body::Incoming(IncomingBody::watched(body, || conn.clone() as Arc<dyn ReadGate>));
    let conn = conn.clone();
    async move {
        let version = head.parts().version;
        conn.activity.started(version);
        let shared = &*conn.shared;
        let http2 = version == Version::HTTP_2;
        if http2 {
            let budget = shared.config.http2_response_budget;
            if let Some(wait) = conn.output.admit(budget, || conn.activity.working()) {
                wait.await;
            }
        }
        let running = conn.activity.answer();
        if shared.config.strict_host && !host::is_valid(head.parts()) {
            drop(running);
            return Ok(respond(host::rejection(), &conn, version));
        }
        let Some(slot) = shared.in_flight.try_acquire(shared.config.max_in_flight) else {
            drop(running);
            return Ok(respond(shed::overloaded(shared.config.retry_after), &conn, version));
        };
        // The tail `await`: the response is made hyper's where the router's
        // future answers it (see `Answer`), not moved through this block.
        start(&conn, head, body, version, [running, slot]).await
    }
}

/// The router's response as hyper takes it: marked as the connection's
/// last when the server drains, and followed to its end where the
/// connection needs to (see `served`).
#[inline]
fn respond<R: Router>(
    mut response: Response,
    conn: &Arc<ConnState<R>>,
    version: Version,
) -> http::Response<ServedBody<R>> {
    // A 101 keeps its `connection: upgrade`: the upgraded protocol
    // hears the drain itself (a WebSocket closes with 1001 at once).
    if version != Version::HTTP_2
        && conn.shared.shutdown.is_draining()
        && response.status() != http::StatusCode::SWITCHING_PROTOCOLS
    {
        close_after(&mut response);
    }
    served::serve(response, conn, version)
}

/// Calls the router inside the request's span.
///
/// A function rather than part of the `async` block: locals borrowed there
/// (the request, to open the span) would keep their space in the block's
/// future for its whole life. It returns the future to await whatever
/// happens (no `Result` to unpack), which lets the compiler build it in
/// place instead of copying it on its way.
fn start<'c, R: Router>(
    conn: &'c Arc<ConnState<R>>,
    #[cfg_attr(not(feature = "ws"), allow(unused_mut))] mut head: RequestHead,
    body: Body,
    version: Version,
    running: [CountGuard<'c>; 2],
) -> Answer<'c, R, impl Future<Output = Answered> + Send + 'c> {
    let router = &conn.shared.router;
    #[cfg(feature = "ws")]
    super::upgrade::link(head.parts_mut(), &conn.shared.shutdown);
    let trace = RequestTrace::start(head.parts(), &conn.info);
    let started = {
        let _in_span = trace.span().enter();
        std::panic::catch_unwind(AssertUnwindSafe(|| router.__handle_head(head, body)))
    };
    let router = match started {
        Ok(future) => Started::Running { future },
        Err(panic) => Started::Panicked { panic: Some(panic) },
    };
    Answer { router, trace, conn, version, running: Some(running) }
}

/// Marks an HTTP/1.x response of a draining server as the connection's
/// last: hyper closes the connection once it is written, and the client
/// knows not to send another request on it (see `shutdown`).
#[cold]
fn close_after(response: &mut Response) {
    response
        .headers_mut()
        .insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
}

/// The 500 that replaces a panic in the router.
#[cold]
fn panicked(panic: &(dyn std::any::Any + Send), trace: &RequestTrace) -> Response {
    crate::observe::server::count(&crate::observe::server::STATS.panics);
    let message = panic_message(panic);
    tracing::error!(target: TARGET, parent: trace.span(), panic = message, "request panicked, answering 500");
    #[cfg_attr(not(feature = "otel"), allow(unused_mut))]
    let mut response = Error::internal().into_response();
    #[cfg(feature = "otel")]
    crate::observe::otel::mark_panic(&mut response);
    response
}

pin_project_lite::pin_project! {
    /// The router's future, polled inside the request's span, with a panic
    /// turned into a 500 and the response recorded and made hyper's when
    /// it is ready.
    struct Answer<'c, R: Router, F> {
        #[pin]
        router: Started<F>,
        trace: RequestTrace,
        conn: &'c Arc<ConnState<R>>,
        version: Version,
        // The request's places among the handlers running and in flight,
        // left before the response is handed over (which may wake a
        // request waiting for them).
        running: Option<[CountGuard<'c>; 2]>,
    }
}

pin_project_lite::pin_project! {
    /// The router's future, or the panic of the call that was to make it.
    #[project = StartedProj]
    enum Started<F> {
        Running { #[pin] future: F },
        Panicked { panic: Option<Box<dyn std::any::Any + Send>> },
    }
}

impl<R: Router, F: Future<Output = Answered>> Future for Answer<'_, R, F> {
    /// hyper's service output, so that the response is not moved again to
    /// wrap it.
    type Output = Result<http::Response<ServedBody<R>>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let trace = &*this.trace;
        let _in_span = trace.span().enter();
        #[cfg(feature = "otel")]
        let _active = trace.activate();
        let (conn, version, running) = (*this.conn, *this.version, this.running);
        let mut answered = |response: Response| {
            trace.finish(&response);
            running.take();
            Poll::Ready(Ok(respond(response, conn, version)))
        };
        match this.router.project() {
            StartedProj::Running { future } => {
                // The router's future answers with the box its response is
                // in (8 bytes through `catch_unwind`, not 144); the response
                // is taken out where it is made hyper's.
                match std::panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
                    Ok(Poll::Pending) => Poll::Pending,
                    Ok(Poll::Ready(mut done)) => answered(done.take_response()),
                    Err(panic) => answered(panicked(&*panic, trace)),
                }
            }
            StartedProj::Panicked { panic } => {
                let panic = panic.take().expect("an answer is not polled after it is ready");
                answered(panicked(&*panic, trace))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::config::Config;
    use crate::server::shared::Shared;
    use crate::{RouteInfo, Router};

    /// A router whose future holds a kilobyte across its `await`, like a
    /// generated router's context and route futures.
    struct Big;

    impl Router for Big {
        fn routes(&self) -> &'static [RouteInfo] {
            &[]
        }

        async fn handle(&self, request: crate::Request, _: ConnInfo) -> Response {
            let held = [request.uri().path().len() as u8; 1024];
            tokio::task::yield_now().await;
            held.len().to_string().into_response()
        }
    }

    /// The request future adds a fixed, small amount to the router's
    /// future: it holds the router's future once, not copies per nested
    /// `async` level, and of the request only the pointer to its pooled
    /// head and its body, not the request (the head goes into its context's
    /// box when hyper hands it over). The rest is the span, the connection,
    /// the request's version and its places among the running and in-flight
    /// requests. With every feature in a debug build: 400 bytes when the
    /// future held hyper's request, 224 since. (Sizes are read off the
    /// closures' return types; nothing is called.)
    #[test]
    fn the_request_future_is_the_router_future_plus_a_little() {
        fn size_of_return<F, A, T>(_: &F) -> usize
        where
            F: Fn(A) -> T,
        {
            std::mem::size_of::<T>()
        }
        let conn = ConnState::new(
            Arc::new(Shared::new(Big, Config::default())),
            ConnInfo::default(),
            None,
        );
        let router_future =
            size_of_return(&|request: crate::Request| Big.handle(request, ConnInfo::default()));
        let request_future = size_of_return(&|request| handle(&conn, request));
        let overhead = request_future - router_future;
        assert!(
            overhead < size_of::<http::Request<Incoming>>(),
            "request future {request_future} B, router future {router_future} B",
        );
    }
}
