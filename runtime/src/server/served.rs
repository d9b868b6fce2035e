//! The response body as the server hands it to hyper: the router's
//! [`ResponseBody`], followed to its end where the connection needs to know.
//!
//! Two things need a response's end:
//!
//! - the idle watch (see `idle`): writes count as activity only while some
//!   response is unfinished, so that a stream quiet between chunks (server
//!   events) keeps its connection, while the server's own writes (HTTP/2
//!   PING acknowledgements) do not;
//! - HTTP/2's output budget (see `budget`): the bytes of responses its
//!   client has not read yet.
//!
//! So streaming bodies (any protocol) and every non-empty HTTP/2 body are
//! *followed*: counted as unfinished until dropped, and on HTTP/2 counted in
//! bytes, a buffered body being handed to hyper [`CHUNK`] bytes at a time
//! (hyper hands a frame to the HTTP/2 layer whole, which then holds it until
//! the client's window lets it out; in chunks, the rest of the body stays
//! counted here). hyper polls a body again only once its last frame went
//! out, so a chunk stops counting at the next poll.
//!
//! An HTTP/1.1 response in one buffer (the common case) is not followed: it
//! costs one branch, and a large one draining to a slow reader shows as
//! writes that leave bytes behind. Following costs no allocation: the
//! request's own handle on its connection moves into the body.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::Version;
use http_body::{Body as HttpBody, Frame, SizeHint};

use super::conn::ConnState;
use crate::body::{BoxError, ResponseBody};
use crate::response::Response;

/// The largest piece of a buffered HTTP/2 body handed to hyper at once: the
/// default HTTP/2 stream window.
pub(crate) const CHUNK: usize = 64 * 1024;

/// A response body on its way to hyper.
pub(crate) struct ServedBody<R: Send + Sync + 'static> {
    body: ResponseBody,
    follow: Option<Follow<R>>,
}

/// What a followed body holds: its connection, and on HTTP/2 the bytes it
/// counts there as unsent. Kept to 16 bytes: hyper moves the response, body
/// included, several times per request.
struct Follow<R: Send + Sync + 'static> {
    conn: Arc<ConnState<R>>,
    /// Bytes of this body counted in the connection's output budget
    /// (bodies are in memory: 4 GiB is out of reach, and counts saturate).
    unsent: u32,
    /// The size of the frame hyper took last, still counted until the next
    /// poll; [`UNCOUNTED`] on HTTP/1.1, where nothing is counted.
    last: u32,
}

/// [`Follow::last`] of a body followed but not counted (HTTP/1.1).
const UNCOUNTED: u32 = u32::MAX;

/// Wraps the router's response for hyper, following it when the
/// connection needs to (see the module docs).
#[inline]
pub(crate) fn serve<R: Send + Sync + 'static>(
    response: Response,
    conn: &Arc<ConnState<R>>,
    version: Version,
) -> http::Response<ServedBody<R>> {
    let http2 = version == Version::HTTP_2;
    let followed = match response.body() {
        ResponseBody::Stream(_) | ResponseBody::Boxed(_) => true,
        ResponseBody::Full(bytes) => http2 && !bytes.is_empty(),
        ResponseBody::Empty => false,
    };
    if !followed {
        if http2 {
            // The handler stopped running: its estimate is free.
            conn.output.wake_waiting();
        }
        return response.map(|body| ServedBody { body, follow: None });
    }
    response
        .map(|body| ServedBody { follow: Some(Follow::start(conn.clone(), http2, &body)), body })
}

/// `bytes` as a count that fits [`Follow`], short of [`UNCOUNTED`].
fn count(bytes: usize) -> u32 {
    u32::try_from(bytes).unwrap_or(UNCOUNTED - 1).min(UNCOUNTED - 1)
}

impl<R: Send + Sync + 'static> Follow<R> {
    #[cold]
    fn start(conn: Arc<ConnState<R>>, http2: bool, body: &ResponseBody) -> Self {
        conn.activity.open_response();
        if !http2 {
            return Follow { conn, unsent: 0, last: UNCOUNTED };
        }
        let unsent = match body {
            ResponseBody::Full(bytes) => count(bytes.len()),
            _ => 0,
        };
        conn.output.add(u64::from(unsent));
        // The handler stopped running: its estimate is free, its response
        // counted instead.
        conn.output.wake_waiting();
        Follow { conn, unsent, last: 0 }
    }

    /// Whether this body counts its bytes (HTTP/2).
    fn counts(&self) -> bool {
        self.last != UNCOUNTED
    }

    /// hyper asks for the next frame: the last one went out.
    fn next_frame(&mut self) {
        if !self.counts() {
            return;
        }
        let sent = std::mem::take(&mut self.last);
        self.unsent -= sent;
        self.conn.output.remove(u64::from(sent));
    }

    /// hyper takes a frame of `len` bytes, counted until the next poll;
    /// `counted` when it was counted already (a buffered body's).
    fn took(&mut self, len: usize, counted: bool) {
        if !self.counts() {
            return;
        }
        let len = count(len);
        let len = if counted {
            len.min(self.unsent)
        } else {
            let len = len.min(UNCOUNTED - 1 - self.unsent);
            self.unsent += len;
            self.conn.output.add(u64::from(len));
            len
        };
        self.last = len;
    }
}

impl<R: Send + Sync + 'static> Drop for Follow<R> {
    fn drop(&mut self) {
        self.conn.output.remove(u64::from(self.unsent));
        self.conn.activity.close_response();
    }
}

impl<R: Send + Sync + 'static> HttpBody for ServedBody<R> {
    type Data = Bytes;
    type Error = BoxError;

    #[inline]
    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        let Some(follow) = &mut this.follow else {
            return Pin::new(&mut this.body).poll_frame(cx);
        };
        follow.next_frame();
        match &mut this.body {
            ResponseBody::Full(rest) if follow.counts() => {
                if rest.is_empty() {
                    return Poll::Ready(None);
                }
                let chunk =
                    if rest.len() > CHUNK { rest.split_to(CHUNK) } else { std::mem::take(rest) };
                follow.took(chunk.len(), true);
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
            body => {
                let frame = Pin::new(body).poll_frame(cx);
                if let Poll::Ready(Some(Ok(frame))) = &frame {
                    follow.took(frame.data_ref().map_or(0, Bytes::len), false);
                }
                frame
            }
        }
    }

    #[inline]
    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    #[inline]
    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;
    use crate::context::ConnInfo;
    use crate::response::IntoResponse;
    use crate::server::config::Config;
    use crate::server::shared::Shared;

    fn conn() -> Arc<ConnState<()>> {
        ConnState::new(Arc::new(Shared::new((), Config::default())), ConnInfo::default(), None)
    }

    /// Polls the body frame by frame, recording the frame sizes and what
    /// the connection counts as unsent before each poll.
    async fn frames(body: &mut ServedBody<()>, conn: &ConnState<()>) -> (Vec<usize>, Vec<u64>) {
        let (mut sizes, mut unsent) = (Vec::new(), Vec::new());
        loop {
            unsent.push(conn.output.unsent());
            match body.frame().await {
                Some(frame) => sizes.push(frame.unwrap().into_data().unwrap().len()),
                None => return (sizes, unsent),
            }
        }
    }

    #[tokio::test]
    async fn a_large_http2_body_goes_in_chunks_counted_until_sent() {
        let conn = conn();
        let len = 2 * CHUNK + 10;
        let response = serve(vec![7u8; len].into_response(), &conn, Version::HTTP_2);
        let mut body = response.into_body();
        assert_eq!(body.size_hint().exact(), Some(len as u64));
        assert_eq!(conn.activity.open_responses(), 1);
        let (sizes, unsent) = frames(&mut body, &conn).await;
        assert_eq!(sizes, [CHUNK, CHUNK, 10]);
        let len = len as u64;
        let chunk = CHUNK as u64;
        assert_eq!(unsent, [len, len, len - chunk, 10]);
        drop(body);
        assert_eq!((conn.activity.open_responses(), conn.output.unsent()), (0, 0));
    }

    #[tokio::test]
    async fn a_body_dropped_unsent_gives_its_bytes_back() {
        // A reset stream: hyper drops the body with bytes left.
        let conn = conn();
        let response = serve(vec![7u8; 3 * CHUNK].into_response(), &conn, Version::HTTP_2);
        let mut body = response.into_body();
        body.frame().await.unwrap().unwrap();
        assert_eq!(conn.output.unsent(), 3 * CHUNK as u64);
        drop(body);
        assert_eq!(conn.output.unsent(), 0);
    }

    #[test]
    fn http1_buffers_and_empty_bodies_are_not_followed() {
        let conn = conn();
        for (response, version) in [
            (vec![7u8; 10 * CHUNK].into_response(), Version::HTTP_11),
            (Response::new(ResponseBody::Empty), Version::HTTP_2),
        ] {
            let served = serve(response, &conn, version);
            assert!(served.body().follow.is_none(), "{version:?}");
        }
        assert_eq!(conn.activity.open_responses(), 0);
    }

    #[tokio::test]
    async fn a_stream_is_followed_until_dropped_and_counted_as_it_goes_on_http2() {
        let conn = conn();
        let chunks: Vec<Result<Bytes, BoxError>> =
            vec![Ok(Bytes::from_static(b"abc")), Ok(Bytes::from_static(b"de"))];
        let stream: crate::body::BoxStream = Box::pin(Iter(chunks.into_iter()));
        let response = Response::new(ResponseBody::Stream(stream));
        let mut body = serve(response, &conn, Version::HTTP_2).into_body();
        assert_eq!(conn.activity.open_responses(), 1);
        let (sizes, unsent) = frames(&mut body, &conn).await;
        assert_eq!(sizes, [3, 2]);
        assert_eq!(unsent, [0, 3, 2]);
        drop(body);
        assert_eq!((conn.activity.open_responses(), conn.output.unsent()), (0, 0));
    }

    struct Iter(std::vec::IntoIter<Result<Bytes, BoxError>>);

    impl futures_core::Stream for Iter {
        type Item = Result<Bytes, BoxError>;

        fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            Poll::Ready(self.0.next())
        }
    }
}
