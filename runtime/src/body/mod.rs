//! Request and response bodies.
//!
//! Both are enums over the few shapes a body really takes, so the common cases
//! (a hyper connection's body, a buffer, nothing) cost no allocation and no
//! dynamic dispatch. Only streaming responses and bodies adapted from other
//! stacks are boxed.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;

mod incoming;
pub(crate) mod stall;

pub use incoming::{BodyTimedOut, IncomingBody, MinRate};
pub(crate) use incoming::{ReadGate, ReadLimits};

/// Error type of bodies whose source is not hyper's (`Boxed` and streams).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A request body.
///
/// # Examples
///
/// ```
/// use mambo::Body;
///
/// let body = Body::from("hello");
/// assert_eq!(http_body::Body::size_hint(&body).exact(), Some(5));
/// ```
#[derive(Debug, Default)]
pub enum Body {
    /// No body.
    #[default]
    Empty,
    /// A body already in memory (tests, the in-process test client).
    Full(Bytes),
    /// The body of a request read from a connection, with the server's
    /// body read timeouts (see [`IncomingBody`]).
    Incoming(IncomingBody),
    /// Any other body, boxed (the `tower` adapter uses it).
    Boxed(UnsyncBoxBodyDebug),
}

/// A boxed body with a `Debug` impl, for [`Body::Boxed`].
pub struct UnsyncBoxBodyDebug(pub UnsyncBoxBody<Bytes, BoxError>);

impl std::fmt::Debug for UnsyncBoxBodyDebug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UnsyncBoxBody")
    }
}

impl Body {
    /// Counts the bytes of this body into `counter` as they are read: a
    /// body in memory at once, a connection's as it arrives. A boxed body
    /// is not counted.
    #[cfg(feature = "metrics")]
    pub(crate) fn meter(&mut self, counter: &'static std::sync::atomic::AtomicU64) {
        match self {
            Body::Empty | Body::Boxed(_) => {}
            Body::Full(bytes) => {
                counter.fetch_add(bytes.len() as u64, std::sync::atomic::Ordering::Relaxed);
            }
            Body::Incoming(incoming) => incoming.meter(counter),
        }
    }

    /// Boxes any body whose errors convert into [`BoxError`].
    pub fn boxed<B>(body: B) -> Self
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        use http_body_util::BodyExt;
        Body::Boxed(UnsyncBoxBodyDebug(body.map_err(Into::into).boxed_unsync()))
    }
}

impl From<hyper::body::Incoming> for Body {
    fn from(body: hyper::body::Incoming) -> Self {
        Body::Incoming(IncomingBody::from(body))
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Self {
        Body::Full(bytes)
    }
}

impl From<&'static str> for Body {
    fn from(text: &'static str) -> Self {
        Body::Full(Bytes::from_static(text.as_bytes()))
    }
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Body::Full(Bytes::from(text))
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        Body::Full(Bytes::from(bytes))
    }
}

impl HttpBody for Body {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            Body::Empty => Poll::Ready(None),
            this @ Body::Full(_) => {
                let Body::Full(bytes) = std::mem::take(this) else { unreachable!() };
                only_frame(bytes)
            }
            Body::Incoming(body) => Pin::new(body).poll_frame(cx),
            Body::Boxed(body) => Pin::new(&mut body.0).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Empty => true,
            Body::Full(bytes) => bytes.is_empty(),
            Body::Incoming(body) => body.is_end_stream(),
            Body::Boxed(body) => body.0.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Empty => SizeHint::with_exact(0),
            Body::Full(bytes) => SizeHint::with_exact(bytes.len() as u64),
            Body::Incoming(body) => body.size_hint(),
            Body::Boxed(body) => body.0.size_hint(),
        }
    }
}

pin_project_lite::pin_project! {
    /// A body whose data and errors are converted into [`Bytes`] and
    /// [`BoxError`], keeping its size hint (so hyper can still send a
    /// `Content-Length`), unlike a general frame mapping.
    struct IntoBytes<B> {
        #[pin]
        body: B,
    }
}

impl<B> HttpBody for IntoBytes<B>
where
    B: HttpBody,
    B::Data: Into<Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.project().body.poll_frame(cx).map(|frame| {
            frame.map(|frame| frame.map(|frame| frame.map_data(Into::into)).map_err(Into::into))
        })
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A buffer as a body's one and only frame (none when it is empty).
#[inline]
fn only_frame(bytes: Bytes) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
    Poll::Ready((!bytes.is_empty()).then(|| Ok(Frame::data(bytes))))
}

/// A stream of body chunks, for [`ResponseBody::Stream`].
pub type BoxStream = Pin<Box<dyn futures_core::Stream<Item = Result<Bytes, BoxError>> + Send>>;

/// A response body.
///
/// Buffers (`Full`) are the common case and are handed to hyper without a
/// copy; `Stream` boxes the stream once per response, for large bodies;
/// `Boxed` holds the bodies of tower services.
#[derive(Default)]
pub enum ResponseBody {
    /// No body.
    #[default]
    Empty,
    /// A body in one buffer.
    Full(Bytes),
    /// A body produced chunk by chunk.
    Stream(BoxStream),
    /// Any other body, boxed: what tower services and layers answer with
    /// (see [`ResponseBody::boxed`]). Its size hint and trailers are kept, so
    /// a file served by a tower service keeps its `Content-Length`.
    Boxed(UnsyncBoxBody<Bytes, BoxError>),
}

impl std::fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResponseBody::Empty => f.write_str("Empty"),
            ResponseBody::Full(bytes) => f.debug_tuple("Full").field(bytes).finish(),
            ResponseBody::Stream(_) => f.write_str("Stream(..)"),
            ResponseBody::Boxed(_) => f.write_str("Boxed(..)"),
        }
    }
}

impl ResponseBody {
    /// The whole body, if it is in memory.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            ResponseBody::Empty => Some(&[]),
            ResponseBody::Full(bytes) => Some(bytes),
            ResponseBody::Stream(_) | ResponseBody::Boxed(_) => None,
        }
    }

    /// Boxes any body whose data converts into [`Bytes`] and whose errors
    /// convert into [`BoxError`]; a `ResponseBody` is returned as it is.
    ///
    /// # Examples
    ///
    /// ```
    /// use mambo::ResponseBody;
    ///
    /// let body = ResponseBody::boxed(http_body_util::Full::new(&b"hello"[..]));
    /// assert_eq!(http_body::Body::size_hint(&body).exact(), Some(5));
    /// ```
    pub fn boxed<B>(body: B) -> Self
    where
        B: HttpBody + Send + 'static,
        B::Data: Into<Bytes>,
        B::Error: Into<BoxError>,
    {
        use http_body_util::BodyExt;
        // `B` is `'static`, so a downcast tells whether it already is one.
        let mut slot = Some(body);
        if let Some(body) = (&mut slot as &mut dyn std::any::Any).downcast_mut::<Option<Self>>() {
            return body.take().expect("the slot is full");
        }
        let body = slot.expect("the slot is full");
        ResponseBody::Boxed(IntoBytes { body }.boxed_unsync())
    }
}

impl From<Bytes> for ResponseBody {
    fn from(bytes: Bytes) -> Self {
        ResponseBody::Full(bytes)
    }
}

impl HttpBody for ResponseBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            ResponseBody::Empty => Poll::Ready(None),
            this @ ResponseBody::Full(_) => {
                let ResponseBody::Full(bytes) = std::mem::take(this) else { unreachable!() };
                only_frame(bytes)
            }
            ResponseBody::Stream(stream) => match stream.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(bytes))) => Poll::Ready(Some(Ok(Frame::data(bytes)))),
                Poll::Ready(Some(Err(err))) => Poll::Ready(Some(Err(err))),
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
            ResponseBody::Boxed(body) => Pin::new(body).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ResponseBody::Empty => true,
            ResponseBody::Full(bytes) => bytes.is_empty(),
            ResponseBody::Stream(_) => false,
            ResponseBody::Boxed(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ResponseBody::Empty => SizeHint::with_exact(0),
            ResponseBody::Full(bytes) => SizeHint::with_exact(bytes.len() as u64),
            ResponseBody::Stream(_) => SizeHint::default(),
            ResponseBody::Boxed(body) => body.size_hint(),
        }
    }
}
