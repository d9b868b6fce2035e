//! Recording one request into its route's slot: what the generated
//! `handle` of a router with metrics calls. No allocation, no lock, no
//! label lookup: a handful of relaxed atomic adds on the route's own slot.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};

use super::slots::{RouteSlot, RouterMetrics};
use crate::Body;
use crate::body::{BoxError, ResponseBody};
use crate::response::Response;

/// One request being measured: it holds its route's in-flight count until
/// it is answered; a request dropped before [`RequestMeter::answered`] (the
/// client went away) counts as `cancelled`.
///
/// 16 bytes, held across the router's `await`: it is part of every
/// request's future, so it keeps only the slot and the clock reading.
#[derive(Debug)]
#[must_use = "a meter counts the request in flight until it is answered or dropped"]
pub struct RequestMeter {
    slot: &'static RouteSlot,
    /// [`monotonic_nanos`] when the request started.
    started: u64,
}

impl RequestMeter {
    /// Starts measuring a request that route `route` takes (`None`: no
    /// route did), counting the bytes read from `body`.
    #[inline]
    pub fn start(metrics: &'static RouterMetrics, route: Option<usize>, body: &mut Body) -> Self {
        let slot = metrics.slot(route);
        slot.in_flight.fetch_add(1, Ordering::Relaxed);
        body.meter(&slot.request_bytes);
        RequestMeter { slot, started: monotonic_nanos() }
    }

    /// Records the response: its status class, the latency until now (the
    /// response's head is ready; a streamed body's time is not included)
    /// and its body's size. A body whose size is not known yet is counted
    /// as it is sent, at the cost of one allocation to wrap it.
    #[inline]
    pub fn answered(self, metrics: &'static RouterMetrics, response: &mut Response) {
        let slot = self.slot;
        let latency = monotonic_nanos().saturating_sub(self.started);
        slot.answered(metrics.buckets(), response.status().as_u16(), latency);
        slot.in_flight.fetch_sub(1, Ordering::Relaxed);
        // Answered: what `drop` does for a cancelled request is done.
        std::mem::forget(self);
        let known = match response.body() {
            ResponseBody::Empty => Some(0),
            ResponseBody::Full(bytes) => Some(bytes.len() as u64),
            ResponseBody::Boxed(boxed) => HttpBody::size_hint(boxed).exact(),
            ResponseBody::Stream(_) => None,
        };
        match known {
            Some(length) => {
                slot.response_bytes.fetch_add(length, Ordering::Relaxed);
            }
            None => meter_stream(response, &slot.response_bytes),
        }
    }
}

impl Drop for RequestMeter {
    /// The request was dropped before its answer: cancelled.
    fn drop(&mut self) {
        self.slot.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.slot.status[0].fetch_add(1, Ordering::Relaxed);
    }
}

/// The monotonic clock, in nanoseconds from an arbitrary start.
///
/// `clock_gettime(CLOCK_MONOTONIC)`, the clock `Instant` reads on Unix,
/// read directly: `Instant::now` plus `elapsed` cost 68 more instructions
/// per request than this (callgrind, `bench-server` `/json`), mostly in
/// `Timespec::sub_timespec`'s checks, and a `u64` keeps the meter at 16
/// bytes.
#[cfg(unix)]
#[inline]
fn monotonic_nanos() -> u64 {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid, writable `timespec`; CLOCK_MONOTONIC is
    // always supported on the Unix systems Rust targets.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    (now.tv_sec as u64).wrapping_mul(1_000_000_000).wrapping_add(now.tv_nsec as u64)
}

/// The monotonic clock, in nanoseconds from the first reading.
#[cfg(not(unix))]
#[inline]
fn monotonic_nanos() -> u64 {
    static START: std::sync::LazyLock<std::time::Instant> =
        std::sync::LazyLock::new(std::time::Instant::now);
    u64::try_from(START.elapsed().as_nanos()).unwrap_or(u64::MAX)
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
