//! Server-sent events: a response that streams [`Event`]s to the browser's
//! `EventSource` (or any client of the
//! [event-stream format](https://html.spec.whatwg.org/multipage/server-sent-events.html)).
//!
//! - [`Sse`] turns a `Stream` of `Result<Event, E>` into the response.
//! - [`Event`] builds one message: `data`, `event`, `id`, `retry`, comments.
//! - [`KeepAlive`] sends a comment when the stream has been idle.
//! - [`LastEventId`] reads the `Last-Event-ID` header a reconnecting client
//!   sends, as `Option<Header<LastEventId>>`.
//!
//! It works the same over HTTP/1.1 (a chunked body) and HTTP/2 (DATA
//! frames): each event is handed to hyper as its own chunk, as soon as the
//! stream yields it.
//!
//! # Examples
//!
//! A handler that resumes after the last event the client saw:
//!
//! ```
//! use std::convert::Infallible;
//! use std::pin::Pin;
//! use std::task::{Context, Poll};
//! use std::time::Duration;
//!
//! use mambo::prelude::*;
//! use mambo::sse::{Event, KeepAlive, LastEventId, Sse};
//!
//! /// Any iterator as a stream (a channel receiver or a database change
//! /// feed would be the real thing).
//! struct Iter<I>(I);
//!
//! impl<I: Iterator + Unpin> futures_core::Stream for Iter<I> {
//!     type Item = I::Item;
//!
//!     fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<I::Item>> {
//!         Poll::Ready(self.0.next())
//!     }
//! }
//!
//! #[route(GET "/events")]
//! async fn events(last: Option<Header<LastEventId>>) -> impl IntoResponse {
//!     let after = last.and_then(|Header(LastEventId(id))| id.parse().ok()).unwrap_or(0);
//!     let events = (after + 1..=3).map(|n: u32| {
//!         Ok::<_, Infallible>(Event::default().id(n.to_string()).data(format!("tick {n}")))
//!     });
//!     Sse::new(Iter(events)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
//! }
//!
//! mambo::router! {
//!     struct App {
//!         routes: [events],
//!     }
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let client = mambo::test::TestClient::new(App::new());
//! let response = client.get("/events").header("last-event-id", "1").send().await;
//! assert_eq!(response.headers()["content-type"], "text/event-stream");
//! assert_eq!(response.text(), "id: 2\ndata: tick 2\n\nid: 3\ndata: tick 3\n\n");
//! # });
//! ```

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderName, HeaderValue};
use pin_project_lite::pin_project;

use crate::body::{BoxError, ResponseBody};
use crate::extract::TypedHeader;
use crate::response::{IntoResponse, Response};

mod event;
mod keep_alive;

pub use event::Event;
pub use keep_alive::KeepAlive;

use keep_alive::Timer;

/// A server-sent events response over a stream of events.
///
/// The response is `200` with
///
/// - `content-type: text/event-stream`;
/// - `cache-control: no-cache`, so no cache holds the stream back;
/// - `x-accel-buffering: no`, so nginx passes each event on at once
///   instead of buffering the response.
///
/// Compression: none is applied by Mambo, and tower-http's
/// `CompressionLayer` leaves the stream alone with its default predicate
/// (`DefaultPredicate` excludes `text/event-stream`). A layer built with a
/// custom predicate must keep `NotForContentType::SSE` in it: a compressor
/// buffers, which would hold events back.
///
/// Each `Ok` event is encoded and handed to hyper as one chunk as soon as
/// the stream yields it; Mambo never gathers several events. The response
/// ends when the stream does (the client's `EventSource` then reconnects
/// after its `retry` delay, sending [`LastEventId`]).
///
/// # Errors in the stream
///
/// An `Err` item ends the response abnormally: the error aborts the body,
/// so it is not a clean end (as for
/// [`StreamBody`](crate::response::StreamBody)), and the stream is not
/// polled again. Over HTTP/1.1 the connection is closed without the final
/// empty chunk (`curl` reports "transfer closed with outstanding read data
/// remaining", exit code 18); over HTTP/2 the stream is reset
/// (`RST_STREAM`, curl's exit code 92) and the connection lives on. The
/// events written out before the error have reached the client; events
/// the stream yielded just before it, in the same burst, may still sit in
/// hyper's write buffer and be dropped with the connection or the HTTP/2
/// stream. An `EventSource` treats both as a network error and reconnects,
/// sending the id of the last event it did receive as `Last-Event-ID`, so
/// a handler that resumes from it loses nothing. The error itself never
/// reaches the client. To end the response cleanly instead, end the
/// stream (`None`).
///
/// Handler deadlines (`timeout = ".."`) bound the handler that builds the
/// `Sse`, not the stream it returns; a graceful shutdown waits for open
/// streams up to the server's `shutdown_timeout`.
///
/// See [the module](self) for a whole program.
#[must_use = "an `Sse` does nothing until it is returned from a handler"]
#[derive(Debug)]
pub struct Sse<S> {
    stream: S,
    keep_alive: Option<KeepAlive>,
}

impl<S> Sse<S> {
    /// The response for `stream`, without keep-alive comments.
    pub fn new(stream: S) -> Self {
        Sse { stream, keep_alive: None }
    }

    /// Sends a comment when no event was sent for the keep-alive's interval.
    pub fn keep_alive(mut self, keep_alive: KeepAlive) -> Self {
        self.keep_alive = Some(keep_alive);
        self
    }
}

const TEXT_EVENT_STREAM: HeaderValue = HeaderValue::from_static("text/event-stream");
const NO_CACHE: HeaderValue = HeaderValue::from_static("no-cache");
const X_ACCEL_BUFFERING: HeaderName = HeaderName::from_static("x-accel-buffering");
const NO: HeaderValue = HeaderValue::from_static("no");

impl<S, E> IntoResponse for Sse<S>
where
    S: Stream<Item = Result<Event, E>> + Send + 'static,
    E: Into<BoxError> + 'static,
{
    fn into_response(self) -> Response {
        let body = SseBody { stream: self.stream, timer: Timer::new(self.keep_alive), done: false };
        let mut response = Response::new(ResponseBody::Stream(Box::pin(body)));
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, TEXT_EVENT_STREAM);
        headers.insert(CACHE_CONTROL, NO_CACHE);
        headers.insert(X_ACCEL_BUFFERING, NO);
        response
    }
}

pin_project! {
    /// The encoded events, with keep-alive comments between them.
    struct SseBody<S> {
        #[pin]
        stream: S,
        #[pin]
        timer: Timer,
        // Set after the stream ended or failed: it is not polled again.
        done: bool,
    }
}

impl<S, E> Stream for SseBody<S>
where
    S: Stream<Item = Result<Event, E>>,
    E: Into<BoxError>,
{
    type Item = Result<Bytes, BoxError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        match this.stream.poll_next(cx) {
            Poll::Ready(Some(Ok(event))) => {
                this.timer.reset();
                Poll::Ready(Some(Ok(event.encode())))
            }
            Poll::Ready(Some(Err(err))) => {
                *this.done = true;
                Poll::Ready(Some(Err(err.into())))
            }
            Poll::Ready(None) => {
                *this.done = true;
                Poll::Ready(None)
            }
            Poll::Pending => this.timer.as_mut().poll_comment(cx).map(|comment| Some(Ok(comment))),
        }
    }
}

/// The `Last-Event-ID` request header: the `id` of the last event a
/// reconnecting `EventSource` received, so the handler can resume after
/// it. Take it as `Option<Header<LastEventId>>` (a first connection has
/// none); any UTF-8 value is accepted, the empty one included, and a value
/// that is not UTF-8 is a 400 (code `40009`), as for any [`Header`].
///
/// [`Header`]: crate::extract::Header
///
/// # Examples
///
/// ```
/// use mambo::prelude::*;
/// use mambo::sse::LastEventId;
///
/// #[route(GET "/resume")]
/// async fn resume(last: Option<Header<LastEventId>>) -> String {
///     match last {
///         Some(Header(LastEventId(id))) => format!("after {id}"),
///         None => "from the start".to_owned(),
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastEventId(pub String);

impl TypedHeader for LastEventId {
    const NAME: HeaderName = HeaderName::from_static("last-event-id");

    fn decode(value: &HeaderValue) -> Option<Self> {
        std::str::from_utf8(value.as_bytes()).ok().map(|id| LastEventId(id.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::time::Duration;

    use http_body_util::BodyExt;

    use super::*;

    /// Yields its items; `None` in the queue is one `Pending` (woken at
    /// once), and after the last item it ends or, if `hang`, stays pending.
    struct Script {
        items: VecDeque<Option<Result<Event, std::io::Error>>>,
        hang: bool,
    }

    impl Stream for Script {
        type Item = Result<Event, std::io::Error>;

        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            match self.items.pop_front() {
                Some(Some(item)) => Poll::Ready(Some(item)),
                Some(None) => {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
                None if self.hang => Poll::Pending,
                None => Poll::Ready(None),
            }
        }
    }

    fn script(items: Vec<Option<Result<Event, std::io::Error>>>, hang: bool) -> Script {
        Script { items: items.into(), hang }
    }

    async fn next(body: &mut ResponseBody) -> Option<Result<Bytes, BoxError>> {
        body.frame().await.map(|frame| frame.map(|frame| frame.into_data().unwrap()))
    }

    #[tokio::test]
    async fn headers_and_one_chunk_per_event() {
        let events = vec![
            Some(Ok(Event::default().data("a"))),
            Some(Ok(Event::default().event("b").data("b"))),
        ];
        let response = Sse::new(script(events, false)).into_response();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()[CONTENT_TYPE], "text/event-stream");
        assert_eq!(response.headers()[CACHE_CONTROL], "no-cache");
        assert_eq!(response.headers()["x-accel-buffering"], "no");
        let mut body = response.into_body();
        assert_eq!(next(&mut body).await.unwrap().unwrap(), "data: a\n\n");
        assert_eq!(next(&mut body).await.unwrap().unwrap(), "event: b\ndata: b\n\n");
        assert!(next(&mut body).await.is_none());
    }

    #[tokio::test]
    async fn an_error_is_passed_on_and_ends_the_body() {
        let events = vec![
            Some(Ok(Event::default().data("a"))),
            Some(Err(std::io::Error::other("feed lost"))),
            Some(Ok(Event::default().data("never"))),
        ];
        let mut body = Sse::new(script(events, false)).into_response().into_body();
        assert_eq!(next(&mut body).await.unwrap().unwrap(), "data: a\n\n");
        assert_eq!(next(&mut body).await.unwrap().unwrap_err().to_string(), "feed lost");
        assert!(next(&mut body).await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn keep_alive_fires_when_idle_and_resets_on_events() {
        let interval = Duration::from_secs(10);
        let events = vec![Some(Ok(Event::default().data("a"))), None];
        let keep_alive = KeepAlive::new().interval(interval).text("ping");
        let mut body =
            Sse::new(script(events, true)).keep_alive(keep_alive).into_response().into_body();
        let start = tokio::time::Instant::now();
        assert_eq!(next(&mut body).await.unwrap().unwrap(), "data: a\n\n");
        assert_eq!(next(&mut body).await.unwrap().unwrap(), ": ping\n\n");
        assert_eq!(start.elapsed(), interval);
        assert_eq!(next(&mut body).await.unwrap().unwrap(), ": ping\n\n");
        assert_eq!(start.elapsed(), interval * 2);
    }

    #[tokio::test(start_paused = true)]
    async fn an_event_restarts_the_countdown() {
        let interval = Duration::from_secs(10);
        // The stream yields `a` at once, then `b` 6 s later, then hangs.
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        struct Rx(tokio::sync::mpsc::UnboundedReceiver<Result<Event, std::io::Error>>);
        impl Stream for Rx {
            type Item = Result<Event, std::io::Error>;
            fn poll_next(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
            ) -> Poll<Option<Self::Item>> {
                self.0.poll_recv(cx)
            }
        }
        tx.send(Ok(Event::default().data("a"))).unwrap();
        let mut body = Sse::new(Rx(rx))
            .keep_alive(KeepAlive::new().interval(interval))
            .into_response()
            .into_body();
        let start = tokio::time::Instant::now();
        assert_eq!(next(&mut body).await.unwrap().unwrap(), "data: a\n\n");
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(6)).await;
            tx.send(Ok(Event::default().data("b"))).unwrap();
            std::future::pending::<()>().await;
        });
        assert_eq!(next(&mut body).await.unwrap().unwrap(), "data: b\n\n");
        assert_eq!(next(&mut body).await.unwrap().unwrap(), ":\n\n");
        assert_eq!(start.elapsed(), Duration::from_secs(16), "10 s after `b`, not after `a`");
    }

    #[test]
    fn into_response_needs_no_runtime() {
        let keep_alive = KeepAlive::new();
        let _ = Sse::new(script(vec![], false)).keep_alive(keep_alive).into_response();
    }

    #[test]
    fn last_event_id_decodes_any_utf8() {
        let decode = |bytes: &[u8]| LastEventId::decode(&HeaderValue::from_bytes(bytes).unwrap());
        assert_eq!(decode(b"42"), Some(LastEventId("42".into())));
        assert_eq!(decode(b""), Some(LastEventId(String::new())));
        assert_eq!(decode("é".as_bytes()), Some(LastEventId("é".into())));
        assert_eq!(decode(b"\xff"), None);
    }
}
