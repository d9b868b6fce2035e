//! Recording one request into its route's slot: what the generated
//! `handle` of a router with metrics calls. No allocation, no lock, no
//! label lookup: a handful of relaxed atomic adds on the route's own slot.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};

use super::slots::{RouteSlot, RouterMetrics};
use crate::Body;
use crate::body::{BoxError, ResponseBody};
use crate::response::Response;

/// One request being measured: it holds its route's in-flight count until
/// it drops, and a request dropped before [`RequestMeter::answered`] (the
/// client went away) counts as `cancelled`.
#[derive(Debug)]
#[must_use = "a meter counts the request in flight until it drops"]
pub struct RequestMeter {
    metrics: &'static RouterMetrics,
    slot: &'static RouteSlot,
    started: Instant,
    answered: bool,
}

impl RequestMeter {
    /// Starts measuring a request that route `route` takes (`None`: no
    /// route did), counting the bytes read from `body`.
    #[inline]
    pub fn start(metrics: &'static RouterMetrics, route: Option<usize>, body: &mut Body) -> Self {
        let slot = metrics.slot(route);
        slot.in_flight.fetch_add(1, Ordering::Relaxed);
        body.meter(&slot.request_bytes);
        RequestMeter { metrics, slot, started: Instant::now(), answered: false }
    }

    /// Records the response: its status class, the latency until now (the
    /// response's head is ready; a streamed body's time is not included)
    /// and its body's size. A body whose size is not known yet is counted
    /// as it is sent, at the cost of one allocation to wrap it.
    #[inline]
    pub fn answered(mut self, response: &mut Response) {
        self.answered = true;
        self.slot.answered(
            self.metrics.buckets(),
            response.status().as_u16(),
            self.started.elapsed(),
        );
        let known = match response.body() {
            ResponseBody::Empty => Some(0),
            ResponseBody::Full(bytes) => Some(bytes.len() as u64),
            ResponseBody::Boxed(boxed) => HttpBody::size_hint(boxed).exact(),
            ResponseBody::Stream(_) => None,
        };
        match known {
            Some(length) => {
                self.slot.response_bytes.fetch_add(length, Ordering::Relaxed);
            }
            None => meter_stream(response, &self.slot.response_bytes),
        }
    }
}

impl Drop for RequestMeter {
    #[inline]
    fn drop(&mut self) {
        self.slot.in_flight.fetch_sub(1, Ordering::Relaxed);
        if !self.answered {
            self.slot.status[0].fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Wraps a body of unknown size so its bytes are counted as they go out.
#[cold]
fn meter_stream(response: &mut Response, counter: &'static AtomicU64) {
    let body = std::mem::take(response.body_mut());
    *response.body_mut() = ResponseBody::boxed(Metered { body, counter });
}

/// A response body that adds the bytes it yields to a counter.
struct Metered {
    body: ResponseBody,
    counter: &'static AtomicU64,
}

impl HttpBody for Metered {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        let frame = std::task::ready!(Pin::new(&mut this.body).poll_frame(cx));
        if let Some(Ok(data)) = frame.as_ref().map(|f| f.as_ref().map(Frame::data_ref))
            && let Some(data) = data
        {
            this.counter.fetch_add(data.len() as u64, Ordering::Relaxed);
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
