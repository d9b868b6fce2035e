//! The route's deadline and panic guard, and the slot its response goes to.
//!
//! The generated dispatch guards a whole dispatch group's future (so this
//! code exists once per group of 32 routes, not per route). No future on the
//! way returns the response: the route's function puts it into a
//! [`ResponseSlot`] in the request context's pooled box, the guard answers
//! only with a small [`Guarded`], and the router's future with the box
//! itself ([`Answered`](crate::__private::Answered)). A response is 144
//! bytes and each future layer that returns one copies it (its `Poll` into
//! the caller's slot, out of it, into the next return slot: `memcpy` calls
//! of about 30 instructions each, since copies over 128 bytes are not
//! inlined); through the slot it is written once where the route answers
//! and read once where the server makes it hyper's.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::StatusCode;
use sync_wrapper::SyncWrapper;

use crate::__private::{CatchUnwind, panic_message};
use crate::error::Error;
use crate::response::{IntoResponse, Response};
use crate::routing::RouteInfo;

/// Where a request's response waits between the route that makes it and
/// the router that hands it over.
///
/// In a [`SyncWrapper`], which gives access only through `&mut`: a
/// streamed body is not `Sync`, and the slot is in the request context,
/// which middleware share across `await`s.
#[derive(Debug, Default)]
pub struct ResponseSlot(SyncWrapper<Option<Response>>);

impl ResponseSlot {
    /// An empty slot.
    #[inline(always)]
    pub fn new() -> Self {
        ResponseSlot(SyncWrapper::new(None))
    }

    /// Puts `response` into the slot.
    #[inline(always)]
    pub fn put(&mut self, response: Response) {
        let slot = self.0.get_mut();
        if slot.is_some() {
            *slot = None;
        }
        // Empty now: forgetting the `None` it replaces saves a call of the
        // response's drop glue.
        std::mem::forget(slot.replace(response));
    }

    /// Drops a response left in the slot (by a cancelled request).
    #[inline(always)]
    pub(crate) fn clear(&mut self) {
        let slot = self.0.get_mut();
        if slot.is_some() {
            *slot = None;
        }
    }

    /// Settles the slot once the guard of `route` is done: notes the route
    /// on a 5xx's [`ErrorReport`](crate::error::ErrorReport), or puts the
    /// guard's own answer (a panic's 500, a deadline's 504 or 408) into the
    /// slot if the route did not answer.
    #[inline(always)]
    pub fn settle(&mut self, route: &'static RouteInfo, guarded: Guarded) {
        match guarded {
            Guarded::Answered => {
                if let Some(response) = self.0.get_mut()
                    && response.status().is_server_error()
                {
                    note_route(response, route);
                }
            }
            failed => self.fail(route, failed),
        }
    }

    #[cold]
    #[inline(never)]
    fn fail(&mut self, route: &'static RouteInfo, guarded: Guarded) {
        let mut response = match guarded {
            Guarded::Answered => return,
            Guarded::Panicked(panic) => handler_panicked(route, &*panic),
            Guarded::TimedOut { timeout, body_stalled } => {
                deadline_passed(route, timeout, body_stalled)
            }
        };
        note_route(&mut response, route);
        self.put(response);
    }

    /// The response, leaving the slot empty.
    #[inline(always)]
    pub fn take(&mut self) -> Response {
        match self.0.get_mut().take() {
            Some(response) => response,
            None => unanswered(),
        }
    }

    /// [`finish`](crate::__private::finish)es the response where it lies.
    #[inline(always)]
    pub fn finish(&mut self, is_head: bool) {
        if let Some(response) = self.0.get_mut() {
            crate::__private::finish_in_place(is_head, response);
        }
    }
}

/// How a guarded future ended.
#[must_use = "a guard's failure is answered with `ResponseSlot::settle`"]
pub enum Guarded {
    /// It ran to its end (and filled its slot).
    Answered,
    /// It panicked, with this payload.
    Panicked(Box<dyn std::any::Any + Send>),
    /// Its deadline, `timeout` after its first poll, passed;
    /// `body_stalled` when it was waiting for the request body then.
    TimedOut {
        /// The route's timeout.
        timeout: Duration,
        /// Whether the route was waiting for the client's request body.
        body_stalled: bool,
    },
}

/// Runs the future that answers a route (its scope middleware, extractors
/// and handler) under the route's deadline, catching a panic; its
/// [`Guarded`] goes to [`ResponseSlot::settle`], which turns a panic into a
/// 500 and an expired deadline into a 504, or into a 408 when what the
/// route was waiting for is the client's request body.
///
/// The deadline timer starts only if the handler is still pending after its
/// first poll: most handlers answer at once, and they then cost neither a
/// clock read nor a timer registration.
pub fn guard<F>(timeout: Option<Duration>, handler: F) -> Guard<F>
where
    F: Future<Output = ()>,
{
    Guard { handler: CatchUnwind::new(handler), deadline: None, timeout }
}

pin_project_lite::pin_project! {
    /// The future of [`guard`].
    ///
    /// A struct rather than an `async fn`: an `async fn` keeps its by-value
    /// arguments for its whole life, so the handler future (the largest part
    /// of a request's state) would be stored twice. Request futures are
    /// moved into hyper's per-connection slot or, over HTTP/2, into a task
    /// per stream, so their size is paid on every request.
    pub struct Guard<F> {
        #[pin]
        handler: CatchUnwind<F>,
        #[pin]
        deadline: Option<tokio::time::Sleep>,
        timeout: Option<Duration>,
    }
}

impl<F: Future<Output = ()>> Future for Guard<F> {
    type Output = Guarded;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Guarded> {
        let mut this = self.project();
        // Once the deadline runs (from the second poll on), each poll
        // watches whether the route is left waiting for the request body.
        let watching = this.deadline.is_some();
        if watching {
            crate::body::stall::clear();
        }
        let mut panic = None;
        if this.handler.poll_or(cx, |payload| panic = Some(payload)).is_ready() {
            return Poll::Ready(match panic {
                Some(panic) => Guarded::Panicked(panic),
                None => Guarded::Answered,
            });
        }
        if let Some(timeout) = *this.timeout {
            if this.deadline.is_none() {
                this.deadline.set(Some(tokio::time::sleep(timeout)));
            }
            if let Some(Poll::Ready(())) = this.deadline.as_pin_mut().map(|sleep| sleep.poll(cx)) {
                let body_stalled = watching && crate::body::stall::take();
                return Poll::Ready(Guarded::TimedOut { timeout, body_stalled });
            }
        }
        Poll::Pending
    }
}

/// The answer of a route whose deadline passed: a 408 when the route was
/// waiting for the client's request body (the client is late, as when the
/// server's body read timeout cuts a body off), else a 504 (the handler is).
fn deadline_passed(route: &RouteInfo, timeout: Duration, body_stalled: bool) -> Response {
    use crate::observe::server::{STATS, count};
    if body_stalled {
        count(&STATS.timeouts_408);
        tracing::warn!(route = route.pattern, ?timeout, "request body stalled past the deadline");
        Error::with_code(StatusCode::REQUEST_TIMEOUT, 40800, "the request body arrived too slowly")
            .into_response()
    } else {
        count(&STATS.timeouts_504);
        tracing::warn!(route = route.pattern, ?timeout, "handler timed out");
        Error::new(StatusCode::GATEWAY_TIMEOUT, "the handler did not answer in time")
            .into_response()
    }
}

/// Notes the route on a 5xx response's [`ErrorReport`](crate::error::ErrorReport).
#[cold]
fn note_route(response: &mut Response, route: &RouteInfo) {
    if let Some(report) = crate::error::report_of_mut(response) {
        report.note_route(route.pattern);
    }
}

/// The 500 that replaces a handler's panic; its report carries the panic's
/// message, which the client does not see.
fn handler_panicked(route: &RouteInfo, panic: &(dyn std::any::Any + Send)) -> Response {
    crate::observe::server::count(&crate::observe::server::STATS.panics);
    let message = panic_message(panic);
    tracing::error!(route = route.pattern, panic = message, "handler panicked");
    let mut response = Error::internal().into_response();
    if let Some(report) = crate::error::report_of_mut(&mut response) {
        report.push_source(format!("panicked: {message}"));
    }
    #[cfg(feature = "otel")]
    crate::observe::otel::mark_panic(&mut response);
    response
}

/// What an empty slot answers: a 500. The generated dispatch always fills
/// the slot before it takes the response; this keeps a bug there from
/// becoming a panic in the server.
#[cold]
#[inline(never)]
fn unanswered() -> Response {
    tracing::error!("the dispatch finished without a response");
    Error::internal().into_response()
}
