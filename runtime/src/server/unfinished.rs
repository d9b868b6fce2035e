//! Responses whose body is still on its way to the client, for the idle
//! watch (see `idle`): their writes keep the connection busy, while the
//! server's own writes (HTTP/2 PING acknowledgements and the like) do not.
//!
//! Most responses need no tracking: a body in one buffer is handed to hyper
//! whole, and on HTTP/1.1 a large one draining to a slow reader shows as
//! writes that leave bytes behind. Two kinds are tracked, at the cost of one
//! box per response:
//!
//! - streaming bodies, which may go quiet between chunks for as long as
//!   they like (server-sent events) while their connection stays open;
//! - on HTTP/2, buffered bodies over [`CHUNK`] bytes: hyper hands a body
//!   frame to the HTTP/2 layer whole, which then sends it as the client's
//!   flow-control window allows, and through writes that all complete. Handed
//!   over in chunks instead, the body stays unfinished until its last chunk.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use http::Version;
use http::header::{CONTENT_LENGTH, HeaderValue};

use super::conn::ConnState;
use crate::body::{BoxError, BoxStream, ResponseBody};
use crate::response::Response;

/// The largest piece of a buffered HTTP/2 body handed to hyper at once: the
/// default HTTP/2 stream window.
pub(crate) const CHUNK: usize = 64 * 1024;

/// Makes `response`'s body count as unfinished on `conn` until it is sent,
/// when it is of a kind that needs it (see the module docs).
#[inline]
pub(crate) fn track<R: Send + Sync + 'static>(
    response: &mut Response,
    conn: &Arc<ConnState<R>>,
    version: Version,
) {
    match response.body() {
        ResponseBody::Stream(_) => {}
        ResponseBody::Full(bytes) if version == Version::HTTP_2 && bytes.len() > CHUNK => {}
        _ => return,
    }
    wrap(response, conn.clone());
}

#[cold]
fn wrap<R: Send + Sync + 'static>(response: &mut Response, conn: Arc<ConnState<R>>) {
    let open = OpenResponse::new(conn);
    let body = match std::mem::take(response.body_mut()) {
        ResponseBody::Stream(stream) => Tracked { source: Source::Stream(stream), _open: open },
        ResponseBody::Full(bytes) => {
            // The chunks lose the body's exact size; the header keeps it.
            response
                .headers_mut()
                .entry(CONTENT_LENGTH)
                .or_insert_with(|| HeaderValue::from(bytes.len()));
            Tracked { source: Source::Chunks(bytes), _open: open }
        }
        ResponseBody::Empty => return,
    };
    *response.body_mut() = ResponseBody::Stream(Box::pin(body));
}

/// One unfinished response on a connection, counted until dropped (sent,
/// or the stream reset, or the connection gone).
struct OpenResponse<R: Send + Sync + 'static>(Arc<ConnState<R>>);

impl<R: Send + Sync + 'static> OpenResponse<R> {
    fn new(conn: Arc<ConnState<R>>) -> Self {
        conn.activity.open_response();
        OpenResponse(conn)
    }
}

impl<R: Send + Sync + 'static> Drop for OpenResponse<R> {
    fn drop(&mut self) {
        self.0.activity.close_response();
    }
}

/// What a tracked body yields.
enum Source {
    Stream(BoxStream),
    /// The rest of a buffered body, handed over [`CHUNK`] bytes at a time.
    Chunks(Bytes),
}

/// A body counted as unfinished while it lives.
struct Tracked<R: Send + Sync + 'static> {
    source: Source,
    _open: OpenResponse<R>,
}

impl<R: Send + Sync + 'static> Stream for Tracked<R> {
    type Item = Result<Bytes, BoxError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match &mut self.get_mut().source {
            Source::Stream(stream) => stream.as_mut().poll_next(cx),
            Source::Chunks(rest) if rest.is_empty() => Poll::Ready(None),
            Source::Chunks(rest) => {
                let take = rest.len().min(CHUNK);
                Poll::Ready(Some(Ok(rest.split_to(take))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ConnInfo;
    use crate::response::IntoResponse;
    use crate::server::config::Config;
    use crate::server::shared::Shared;

    fn conn() -> Arc<ConnState<()>> {
        ConnState::new(Arc::new(Shared::new((), Config::default())), ConnInfo::default(), None)
    }

    async fn collect(response: Response) -> Vec<usize> {
        let ResponseBody::Stream(mut stream) = response.into_body() else {
            panic!("not tracked");
        };
        let mut sizes = Vec::new();
        while let Some(chunk) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
            sizes.push(chunk.unwrap().len());
        }
        sizes
    }

    #[tokio::test]
    async fn a_large_http2_body_goes_in_chunks_and_counts_until_sent() {
        let conn = conn();
        let mut response = vec![7u8; 2 * CHUNK + 10].into_response();
        track(&mut response, &conn, Version::HTTP_2);
        assert_eq!(response.headers()[CONTENT_LENGTH], (2 * CHUNK + 10).to_string());
        assert_eq!(conn.activity.open_responses(), 1);
        assert_eq!(collect(response).await, [CHUNK, CHUNK, 10]);
        assert_eq!(conn.activity.open_responses(), 0);
    }

    #[test]
    fn small_bodies_and_http1_bodies_are_left_alone() {
        let conn = conn();
        for (size, version) in [(CHUNK, Version::HTTP_2), (10 * CHUNK, Version::HTTP_11)] {
            let mut response = vec![7u8; size].into_response();
            track(&mut response, &conn, version);
            assert!(matches!(response.body(), ResponseBody::Full(_)), "{size} {version:?}");
        }
        assert_eq!(conn.activity.open_responses(), 0);
    }

    #[tokio::test]
    async fn a_stream_counts_until_dropped() {
        let conn = conn();
        let chunks: Vec<Result<Bytes, BoxError>> = vec![Ok(Bytes::from_static(b"a"))];
        let stream: BoxStream = Box::pin(Iter(chunks.into_iter()));
        let mut response = Response::new(ResponseBody::Stream(stream));
        track(&mut response, &conn, Version::HTTP_11);
        assert_eq!(conn.activity.open_responses(), 1);
        assert_eq!(collect(response).await, [1]);
        assert_eq!(conn.activity.open_responses(), 0);
    }

    struct Iter(std::vec::IntoIter<Result<Bytes, BoxError>>);

    impl Stream for Iter {
        type Item = Result<Bytes, BoxError>;

        fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            Poll::Ready(self.0.next())
        }
    }
}
