//! An open WebSocket: [`WebSocket`], and its halves once split.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use futures_core::Stream;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{Sink, StreamExt};
use http::HeaderValue;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{self, protocol::Role};

use super::config::WebSocketConfig;
use super::message::{CloseFrame, Message, close_code};
use super::watchdog::{AWAY, PING, Watch};

/// Why a WebSocket could not send or receive.
#[derive(Debug)]
pub struct Error {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Protocol(tungstenite::Error),
    /// The server is shutting down: the socket sent its 1001.
    ShuttingDown,
}

impl Error {
    /// Whether the socket is closed (by either side) and can no longer send.
    pub fn is_closed(&self) -> bool {
        matches!(
            self.kind,
            Kind::ShuttingDown
                | Kind::Protocol(
                    tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed
                )
        )
    }

    /// Whether the socket closed because the server is shutting down.
    pub fn is_shutting_down(&self) -> bool {
        matches!(self.kind, Kind::ShuttingDown)
    }

    /// Whether a message from the client was larger than the
    /// [limits](WebSocketConfig::max_message_size) (the socket closed with 1009).
    pub fn is_too_large(&self) -> bool {
        matches!(self.kind, Kind::Protocol(tungstenite::Error::Capacity(_)))
    }

    fn protocol(error: tungstenite::Error) -> Self {
        Error { kind: Kind::Protocol(error) }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            Kind::Protocol(error) => write!(f, "WebSocket error: {error}"),
            Kind::ShuttingDown => f.write_str("the WebSocket closed: the server is shutting down"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            Kind::Protocol(error) => Some(error),
            Kind::ShuttingDown => None,
        }
    }
}

/// An open WebSocket, as [`WebSocketUpgrade::on_upgrade`](super::WebSocketUpgrade::on_upgrade)
/// hands it to the handler.
///
/// [`recv`](Self::recv) and [`send`](Self::send) cover most handlers; the
/// socket is also a `Stream` of received messages and a `Sink` of messages
/// to send, and [`split`](Self::split) gives a sending and a receiving half
/// for two tasks.
///
/// The socket answers pings and the client's close by itself, pings a
/// silent client, and closes with 1001 when the server shuts down (see
/// [`WebSocketConfig`]).
#[derive(Debug)]
pub struct WebSocket {
    inner: WebSocketStream<TokioIo<Upgraded>>,
    watch: Arc<Watch>,
    protocol: Option<HeaderValue>,
    /// Set once the client broke the protocol: see [`Failing`].
    failing: Option<Box<Failing>>,
}

/// How long a socket that failed reads (and drops) what the client still
/// sends, so that the close frame saying why is not lost to a reset.
const LINGER: Duration = Duration::from_secs(1);

/// A socket whose client broke the protocol (a message over the limits,
/// text that is not UTF-8, a bad frame). tungstenite only reports it; the
/// socket then sends the close frame that says why (1009, 1007, 1002),
/// shuts its sending side, and reads and drops what the client still sends
/// for at most [`LINGER`] (or until the client closes), before it hands
/// the error to the handler. Dropping the connection at once, with the
/// client's bytes unread, would reset it, and the client could lose the
/// close frame.
#[derive(Debug)]
struct Failing {
    error: Option<Error>,
    linger: Pin<Box<Sleep>>,
    shut: bool,
}

impl WebSocket {
    pub(super) async fn new(
        upgraded: Upgraded,
        config: &WebSocketConfig,
        watch: Arc<Watch>,
        protocol: Option<HeaderValue>,
    ) -> Self {
        let inner = WebSocketStream::from_raw_socket(
            TokioIo::new(upgraded),
            Role::Server,
            Some(config.to_tungstenite()),
        )
        .await;
        WebSocket { inner, watch, protocol, failing: None }
    }

    /// The next message; `None` once the socket is closed.
    ///
    /// # Errors
    ///
    /// A protocol error from the client, a message over the limits, or
    /// the connection failing. The socket is closed after any error.
    pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
        self.next().await
    }

    /// Sends `message`, waiting while the client is slow to read.
    ///
    /// # Errors
    ///
    /// The socket is closed, the server is shutting down, or the connection
    /// failed.
    pub async fn send(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        futures_util::SinkExt::send(self, message.into()).await
    }

    /// Sends a close frame and waits (at most until the idle timeout) for
    /// the client's answer.
    ///
    /// # Errors
    ///
    /// The socket was already closed or the connection failed.
    pub async fn close(mut self, frame: Option<CloseFrame>) -> Result<(), Error> {
        self.send(Message::Close(frame)).await?;
        while let Some(received) = self.recv().await {
            received?;
        }
        Ok(())
    }

    /// The subprotocol agreed in the handshake, if any.
    pub fn protocol(&self) -> Option<&HeaderValue> {
        self.protocol.as_ref()
    }

    /// A sending half and a receiving half, to send and receive at once.
    ///
    /// Drive both inside the handler's future (`tokio::select!` or
    /// `join!`, as the [module example](super#examples) does) rather than
    /// moving one into a spawned task: the socket's timeouts and the
    /// server's shutdown end the connection by dropping the handler's
    /// future, and a half held by another task would keep it open.
    pub fn split(self) -> (WebSocketSender, WebSocketReceiver) {
        let (sink, stream) = StreamExt::split(self);
        (WebSocketSender { sink }, WebSocketReceiver { stream })
    }

    /// Starts failing the socket after `error` (see [`Failing`]); gives
    /// the error back when it is not the client's doing (the connection
    /// failed).
    #[cold]
    fn fail(
        &mut self,
        error: tungstenite::Error,
        cx: &mut Context<'_>,
    ) -> Result<(), tungstenite::Error> {
        use tungstenite::error::{CapacityError, Error as E};
        let (code, reason) = match &error {
            E::Capacity(CapacityError::MessageTooLong { .. }) => {
                (close_code::SIZE, "message too big")
            }
            E::Capacity(_) => (close_code::SIZE, "frame too big"),
            E::Utf8(_) => (close_code::INVALID, "invalid UTF-8"),
            E::Protocol(_) => (close_code::PROTOCOL, "protocol error"),
            _ => return Err(error),
        };
        let close = CloseFrame::new(code, reason).into_tungstenite();
        let mut inner = Pin::new(&mut self.inner);
        if let Poll::Ready(Ok(())) = inner.as_mut().poll_ready(cx) {
            let _ = inner.as_mut().start_send(tungstenite::Message::Close(Some(close)));
            let _ = inner.as_mut().poll_flush(cx);
        }
        self.failing = Some(Box::new(Failing {
            error: Some(Error::protocol(error)),
            linger: Box::pin(tokio::time::sleep(LINGER)),
            shut: false,
        }));
        Ok(())
    }

    /// The lingering of a failed socket; then its error, then the end.
    #[cold]
    fn poll_failing(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message, Error>>> {
        let Some(failing) = self.failing.as_mut() else { return Poll::Ready(None) };
        let io = self.inner.get_mut();
        if !failing.shut {
            if Pin::new(&mut *io).poll_shutdown(cx).is_pending()
                && failing.linger.as_mut().poll(cx).is_pending()
            {
                return Poll::Pending;
            }
            failing.shut = true;
        }
        let mut scratch = [0u8; 2048];
        loop {
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut *io).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if !buf.filled().is_empty() => continue,
                Poll::Ready(_) => break,
                Poll::Pending if failing.linger.as_mut().poll(cx).is_ready() => break,
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(failing.error.take().map(Err))
    }

    /// Acts on the watchdog's requests: a ping for a silent client, the
    /// 1001 of a draining server. Returns whether the socket has gone away.
    #[cold]
    fn serve_requests(&mut self, requests: u8, cx: &mut Context<'_>) -> bool {
        let request = if requests & AWAY != 0 { AWAY } else { PING };
        let message = if request == AWAY {
            tungstenite::Message::Close(Some(
                CloseFrame::new(close_code::AWAY, "server shutting down").into_tungstenite(),
            ))
        } else {
            tungstenite::Message::Ping(bytes::Bytes::new())
        };
        let mut inner = Pin::new(&mut self.inner);
        match inner.as_mut().poll_ready(cx) {
            Poll::Ready(Ok(())) => {
                // Errors here (a socket already closing) mean there is
                // nothing left to ask of it.
                let _ = inner.as_mut().start_send(message);
                let _ = inner.as_mut().poll_flush(cx);
                self.watch.done(request);
            }
            Poll::Ready(Err(_)) => self.watch.done(request),
            Poll::Pending => {}
        }
        request == AWAY
    }
}

impl Stream for WebSocket {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.failing.is_some() {
            return this.poll_failing(cx);
        }
        loop {
            let requests = this.watch.requests();
            if requests != 0 {
                this.serve_requests(requests, cx);
            }
            match Pin::new(&mut this.inner).poll_next(cx) {
                Poll::Ready(Some(Ok(message))) => {
                    this.watch.frame_received();
                    if let Some(message) = Message::from_tungstenite(message) {
                        return Poll::Ready(Some(Ok(message)));
                    }
                }
                Poll::Ready(Some(Err(
                    tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed,
                )))
                | Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(error))) => {
                    return match this.fail(error, cx) {
                        Ok(()) => this.poll_failing(cx),
                        Err(error) => Poll::Ready(Some(Err(Error::protocol(error)))),
                    };
                }
                Poll::Pending => {
                    this.watch.read_waits(cx.waker());
                    if this.watch.requests() & !requests != 0 {
                        // A request came in as the waker was registered.
                        cx.waker().wake_by_ref();
                    }
                    return Poll::Pending;
                }
            }
        }
    }
}

impl Sink<Message> for WebSocket {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        let requests = this.watch.requests();
        if requests & AWAY != 0 && this.serve_requests(requests, cx) {
            return Poll::Ready(Err(Error { kind: Kind::ShuttingDown }));
        }
        match Pin::new(&mut this.inner).poll_ready(cx) {
            Poll::Pending => {
                this.watch.write_waits(cx.waker());
                Poll::Pending
            }
            Poll::Ready(ready) => Poll::Ready(ready.map_err(Error::protocol)),
        }
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        let this = self.get_mut();
        Pin::new(&mut this.inner).start_send(message.into_tungstenite()).map_err(Error::protocol)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Pending => {
                this.watch.write_waits(cx.waker());
                Poll::Pending
            }
            Poll::Ready(flushed) => {
                this.watch.write_done();
                Poll::Ready(flushed.map_err(Error::protocol))
            }
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        Poll::Ready(ready!(Pin::new(&mut this.inner).poll_close(cx)).map_err(Error::protocol))
    }
}

/// The sending half of a [split](WebSocket::split) socket; also a `Sink`.
#[derive(Debug)]
pub struct WebSocketSender {
    sink: SplitSink<WebSocket, Message>,
}

impl WebSocketSender {
    /// Sends `message`, waiting while the client is slow to read.
    ///
    /// # Errors
    ///
    /// As [`WebSocket::send`].
    pub async fn send(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        futures_util::SinkExt::send(&mut self.sink, message.into()).await
    }

    /// Sends a close frame; the receiving half sees the client's answer.
    ///
    /// # Errors
    ///
    /// As [`WebSocket::send`].
    pub async fn close(&mut self, frame: Option<CloseFrame>) -> Result<(), Error> {
        self.send(Message::Close(frame)).await
    }
}

impl Sink<Message> for WebSocketSender {
    type Error = Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Pin::new(&mut self.sink).poll_ready(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        Pin::new(&mut self.sink).start_send(message)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Pin::new(&mut self.sink).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Pin::new(&mut self.sink).poll_close(cx)
    }
}

/// The receiving half of a [split](WebSocket::split) socket; also a `Stream`.
#[derive(Debug)]
pub struct WebSocketReceiver {
    stream: SplitStream<WebSocket>,
}

impl WebSocketReceiver {
    /// The next message; `None` once the socket is closed.
    ///
    /// # Errors
    ///
    /// As [`WebSocket::recv`].
    pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
        self.stream.next().await
    }
}

impl Stream for WebSocketReceiver {
    type Item = Result<Message, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.stream).poll_next(cx)
    }
}
