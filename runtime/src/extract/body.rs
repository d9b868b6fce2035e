//! Reading the request body under the route's limit, and the body extractors
//! that need nothing more: [`Bytes`], [`String`] and the raw [`Body`].

use std::convert::Infallible;
use std::future::Future;

use bytes::Bytes;
use http::HeaderMap;
use http::header::CONTENT_LENGTH;
use http_body::Body as _;
use http_body_util::BodyExt;

use super::FromRequest;
use super::rejection::{BodyError, BytesRejection, StringRejection};
use crate::body::Body;
use crate::context::RequestContext;

/// What a body extractor needs from the request head, copied out so that the
/// body future borrows nothing (and needs no `S: Sync`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyHead {
    /// The body limit in force for the route.
    pub(crate) limit: u64,
    /// The `content-length` header, when it is present and a number.
    pub(crate) content_length: Option<u64>,
}

impl BodyHead {
    pub(crate) fn of<S>(cx: &RequestContext<'_, S>) -> Self {
        BodyHead { limit: cx.body_limit(), content_length: content_length(cx.headers()) }
    }
}

/// The `content-length` header, when it is present and a number.
pub(crate) fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

/// Reads the whole body into memory, holding at most `head.limit` bytes.
///
/// Rejects without reading anything when `content-length` (or the body's own
/// size hint) already says the body is too large, and as soon as the frames
/// read add up to more than the limit otherwise. A body in one frame (the
/// common case) is returned as that frame, without a copy; several frames are
/// gathered into one buffer that grows to at most the limit.
pub(crate) async fn read_body(head: BodyHead, mut body: Body) -> Result<Bytes, BodyError> {
    let limit = head.limit;
    let too_large = BodyError::TooLarge { limit };
    if head.content_length.is_some_and(|len| len > limit) || body.size_hint().lower() > limit {
        return Err(too_large);
    }
    match body {
        Body::Empty => return Ok(Bytes::new()),
        Body::Full(bytes) if bytes.len() as u64 > limit => return Err(too_large),
        Body::Full(bytes) => return Ok(bytes),
        Body::Incoming(_) | Body::Boxed(_) => {}
    }

    let mut first: Option<Bytes> = None;
    let mut gathered: Vec<u8> = Vec::new();
    let mut total: u64 = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(BodyError::read)?;
        // Trailers carry no body bytes.
        let Ok(data) = frame.into_data() else { continue };
        if data.is_empty() {
            continue;
        }
        total += data.len() as u64;
        if total > limit {
            return Err(too_large);
        }
        match first.take() {
            None if gathered.is_empty() => first = Some(data),
            held => {
                let held_len = held.as_ref().map_or(0, Bytes::len);
                grow_within(&mut gathered, held_len + data.len(), limit);
                if let Some(held) = held {
                    gathered.extend_from_slice(&held);
                }
                gathered.extend_from_slice(&data);
            }
        }
    }
    Ok(match first {
        Some(only) => only,
        None => Bytes::from(gathered),
    })
}

/// Makes room for `additional` bytes, doubling as a `Vec` would but never
/// past `limit`, so the buffer holds at most the limit.
fn grow_within(buf: &mut Vec<u8>, additional: usize, limit: u64) {
    let needed = buf.len() + additional;
    if needed <= buf.capacity() {
        return;
    }
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let target = needed.max(buf.capacity().saturating_mul(2)).min(limit).max(needed);
    buf.reserve_exact(target - buf.len());
}

/// The whole body as bytes, read up to the route's body limit.
///
/// # Errors
///
/// [`BytesRejection`]: 413 when the body is over the limit, 400 when it could
/// not be read.
///
/// # Examples
///
/// ```
/// use mambo::prelude::*;
///
/// #[route(POST "/upload")]
/// async fn upload(body: Bytes) -> String {
///     format!("{} bytes", body.len())
/// }
/// ```
impl<S> FromRequest<S> for Bytes {
    type Rejection = BytesRejection;

    fn from_request(
        cx: &RequestContext<'_, S>,
        body: Body,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        let head = BodyHead::of(cx);
        async move { Ok(read_body(head, body).await?) }
    }
}

/// The whole body as UTF-8 text, read up to the route's body limit. Any
/// `content-type` is accepted.
///
/// # Errors
///
/// [`StringRejection`]: 413 over the limit, 400 when the body is not UTF-8
/// or could not be read.
impl<S> FromRequest<S> for String {
    type Rejection = StringRejection;

    fn from_request(
        cx: &RequestContext<'_, S>,
        body: Body,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        let head = BodyHead::of(cx);
        async move {
            let bytes = read_body(head, body).await?;
            if let Err(error) = std::str::from_utf8(&bytes) {
                return Err(StringRejection::NotUtf8 { error });
            }
            // `Vec::from` takes the allocation over when the bytes are not shared.
            Ok(String::from_utf8(Vec::from(bytes)).expect("checked to be UTF-8 above"))
        }
    }
}

/// The raw request body, to stream it yourself.
///
/// The route's body limit is **not** applied: you read as much as you choose
/// (compare with [`RequestContext::body_limit`]).
impl<S> FromRequest<S> for Body {
    type Rejection = Infallible;

    fn from_request(
        _cx: &RequestContext<'_, S>,
        body: Body,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        std::future::ready(Ok(body))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use http::{Request, StatusCode};
    use http_body::{Frame, SizeHint};

    use super::*;
    use crate::body::BoxError;
    use crate::context::ConnInfo;
    use crate::routing::RouteInfo;

    /// A body that yields the given chunks one frame at a time and tells
    /// nothing about its length, like a chunked upload. Counts the frames it
    /// was asked for, to show where reading stopped.
    pub(crate) struct Chunked {
        pub(crate) chunks: Vec<Result<Bytes, BoxError>>,
        pub(crate) polled: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    }

    impl Chunked {
        pub(crate) fn new(chunks: &[&'static str]) -> Self {
            Chunked {
                chunks: chunks.iter().rev().map(|c| Ok(Bytes::from_static(c.as_bytes()))).collect(),
                polled: Default::default(),
            }
        }
    }

    impl http_body::Body for Chunked {
        type Data = Bytes;
        type Error = BoxError;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
            self.polled.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Poll::Ready(self.chunks.pop().map(|chunk| chunk.map(Frame::data)))
        }

        fn size_hint(&self) -> SizeHint {
            SizeHint::default()
        }
    }

    pub(crate) static LIMITED_ROUTE: RouteInfo = RouteInfo {
        index: 0,
        methods: &["POST"],
        pattern: "/limited",
        handler: "limited",
        params: &[],
        body_limit: Some(8),
        timeout: None,
    };

    /// A context for `request`, on a route whose body limit is `limit`
    /// (the server default when `None`).
    pub(crate) fn context<'a>(
        request: Request<()>,
        state: &'a (),
        limited: bool,
    ) -> RequestContext<'a, ()> {
        let (parts, ()) = request.into_parts();
        let route = limited.then_some(&LIMITED_ROUTE);
        RequestContext::new(parts, state, ConnInfo::default(), route)
    }

    pub(crate) fn post() -> http::request::Builder {
        Request::builder().method("POST").uri("/limited")
    }

    async fn bytes(request: Request<()>, body: Body) -> Result<Bytes, BytesRejection> {
        let cx = context(request, &(), true);
        Bytes::from_request(&cx, body).await
    }

    #[tokio::test]
    async fn reads_a_full_body_without_copying() {
        let body = Bytes::from_static(b"12345678");
        let ptr = body.as_ptr();
        let read = bytes(post().body(()).unwrap(), Body::Full(body)).await.unwrap();
        assert_eq!(read.as_ptr(), ptr);
    }

    #[tokio::test]
    async fn gathers_chunks_up_to_the_limit() {
        let body = Body::boxed(Chunked::new(&["12", "", "345", "678"]));
        let read = bytes(post().body(()).unwrap(), body).await.unwrap();
        assert_eq!(&read[..], b"12345678");
    }

    #[tokio::test]
    async fn single_chunk_is_not_copied() {
        let body = Body::boxed(Chunked::new(&["1234"]));
        let read = bytes(post().body(()).unwrap(), body).await.unwrap();
        assert_eq!(&read[..], b"1234");
        assert_eq!(read.as_ptr(), b"1234".as_ptr(), "expected the static chunk itself");
    }

    #[tokio::test]
    async fn rejects_by_content_length_before_reading() {
        let chunked = Chunked::new(&["1"]);
        let polled = chunked.polled.clone();
        let request = post().header("content-length", "9").body(()).unwrap();
        let err = bytes(request, Body::boxed(chunked)).await.unwrap_err();
        assert!(matches!(err, BytesRejection::TooLarge { limit: 8 }), "{err:?}");
        assert_eq!(polled.load(std::sync::atomic::Ordering::Relaxed), 0, "body was read");
    }

    #[tokio::test]
    async fn rejects_streamed_frames_past_the_limit_and_stops_reading() {
        let chunked = Chunked::new(&["1234", "5678", "9", "never read"]);
        let polled = chunked.polled.clone();
        let err = bytes(post().body(()).unwrap(), Body::boxed(chunked)).await.unwrap_err();
        assert!(matches!(err, BytesRejection::TooLarge { limit: 8 }), "{err:?}");
        assert_eq!(polled.load(std::sync::atomic::Ordering::Relaxed), 3);
        let response = crate::response::IntoResponse::into_response(err);
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            response.body().as_bytes().unwrap(),
            br#"{"code":41300,"message":"request body is larger than the limit of 8 bytes"}"#
        );
    }

    #[tokio::test]
    async fn rejects_a_full_body_past_the_limit() {
        let err = bytes(post().body(()).unwrap(), Body::from("123456789")).await.unwrap_err();
        assert!(matches!(err, BytesRejection::TooLarge { limit: 8 }));
    }

    #[tokio::test]
    async fn uses_the_server_default_without_a_route_limit() {
        let cx = context(post().body(()).unwrap(), &(), false);
        let read = Bytes::from_request(&cx, Body::from("123456789")).await.unwrap();
        assert_eq!(read.len(), 9);
    }

    #[tokio::test]
    async fn a_failing_stream_is_a_400() {
        let mut chunked = Chunked::new(&[]);
        chunked.chunks.push(Err("connection reset".into()));
        let err = bytes(post().body(()).unwrap(), Body::boxed(chunked)).await.unwrap_err();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert_eq!(err.message(), "failed to read the request body: connection reset");
    }

    #[tokio::test]
    async fn string_checks_utf8() {
        let cx = context(post().body(()).unwrap(), &(), true);
        let text = String::from_request(&cx, Body::from("héllo")).await.unwrap();
        assert_eq!(text, "héllo");
        let err = String::from_request(&cx, Body::from(vec![b'a', 0xff])).await.unwrap_err();
        assert_eq!(err.code(), 40005);
        assert_eq!(
            err.message(),
            "request body is not valid UTF-8: invalid utf-8 sequence of 1 bytes from index 1"
        );
    }

    #[test]
    fn growth_never_passes_the_limit() {
        let mut buf = Vec::new();
        grow_within(&mut buf, 3, 10);
        buf.extend_from_slice(b"abc");
        grow_within(&mut buf, 4, 10);
        assert!(buf.capacity() >= 7 && buf.capacity() <= 10, "{}", buf.capacity());
        buf.extend_from_slice(b"defg");
        grow_within(&mut buf, 3, 10);
        assert_eq!(buf.capacity(), 10);
    }
}
