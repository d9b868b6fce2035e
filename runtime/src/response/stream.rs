//! `StreamBody<S>`: a response produced chunk by chunk.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use http::header::{CONTENT_TYPE, HeaderValue};

use super::{IntoResponse, Response};
use crate::body::{BoxError, ResponseBody};

/// A streamed response body, for responses too large to hold in memory
/// (files, exports, server-sent events).
///
/// Each `Ok` chunk is written as it comes; an `Err` aborts the response (the
/// connection is closed, since the status is already sent). The stream is
/// boxed once per response. The content type defaults to
/// `application/octet-stream`; set another with a header tuple, e.g.
/// `([(CONTENT_TYPE, "text/csv")], StreamBody(rows))`.
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use mambo::response::StreamBody;
/// use mambo::IntoResponse;
/// use std::pin::Pin;
/// use std::task::{Context, Poll};
///
/// /// Counts from 0 to 9, one line per chunk.
/// struct Count(u8);
///
/// impl futures_core::Stream for Count {
///     type Item = Result<Bytes, std::io::Error>;
///
///     fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
///         let n = self.0;
///         self.0 += 1;
///         Poll::Ready((n < 10).then(|| Ok(Bytes::from(format!("{n}\n")))))
///     }
/// }
///
/// let response = StreamBody(Count(0)).into_response();
/// assert!(response.body().as_bytes().is_none(), "streamed, not buffered");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct StreamBody<S>(pub S);

const OCTET_STREAM: HeaderValue = HeaderValue::from_static("application/octet-stream");

impl<S, E> IntoResponse for StreamBody<S>
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Into<BoxError> + 'static,
{
    fn into_response(self) -> Response {
        let mut response = Response::new(ResponseBody::Stream(Box::pin(ErrInto(self.0))));
        response.headers_mut().insert(CONTENT_TYPE, OCTET_STREAM);
        response
    }
}

/// Converts a stream's errors into [`BoxError`].
struct ErrInto<S>(S);

impl<S, E> Stream for ErrInto<S>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: Into<BoxError>,
{
    type Item = Result<Bytes, BoxError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        // SAFETY: structural pinning of the only field: `ErrInto` never moves
        // `S` out, has no `Drop` impl, and is `Unpin` only when `S` is.
        let inner = unsafe { self.map_unchecked_mut(|this| &mut this.0) };
        inner.poll_next(cx).map(|item| item.map(|chunk| chunk.map_err(Into::into)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    /// Yields its chunks, not `Unpin`, to exercise the pin projection.
    struct Chunks {
        chunks: Vec<Result<Bytes, std::io::Error>>,
        _pinned: std::marker::PhantomPinned,
    }

    impl Stream for Chunks {
        type Item = Result<Bytes, std::io::Error>;

        fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            // SAFETY: `chunks` is not structurally pinned; popping moves no pinned data.
            let this = unsafe { self.get_unchecked_mut() };
            Poll::Ready(this.chunks.pop())
        }
    }

    #[tokio::test]
    async fn streams_chunks_in_order_and_converts_errors() {
        let chunks = vec![
            Err(std::io::Error::other("disk gone")),
            Ok(Bytes::from_static(b"world")),
            Ok(Bytes::from_static(b"hello ")),
        ];
        let response =
            StreamBody(Chunks { chunks, _pinned: std::marker::PhantomPinned }).into_response();
        assert_eq!(response.headers()[CONTENT_TYPE], "application/octet-stream");
        let mut body = response.into_body();
        let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
        let second = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!([&first[..], &second[..]].concat(), b"hello world");
        let err = body.frame().await.unwrap().unwrap_err();
        assert_eq!(err.to_string(), "disk gone");
        assert!(body.frame().await.is_none());
    }
}
