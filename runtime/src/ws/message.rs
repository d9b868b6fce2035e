//! What goes over a WebSocket: [`Message`], its UTF-8 text ([`Utf8Bytes`])
//! and the close frame ([`CloseFrame`], [`close_code`]).
//!
//! Payloads are [`Bytes`]: a message received is the buffer tungstenite
//! read it into, and a message sent is written from the caller's buffer,
//! without a copy in between.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use tokio_tungstenite::tungstenite::protocol::{self as ts, frame::coding::CloseCode};

/// A UTF-8 payload (a text message, a close reason), cheap to clone.
///
/// # Examples
///
/// ```
/// use mambo::ws::Utf8Bytes;
///
/// let text = Utf8Bytes::from("hello");
/// assert_eq!(text.as_str(), "hello");
/// assert_eq!(text, "hello");
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Utf8Bytes(ts::frame::Utf8Bytes);

impl Utf8Bytes {
    /// Text from a `&'static str`, without a copy.
    pub const fn from_static(text: &'static str) -> Self {
        Utf8Bytes(ts::frame::Utf8Bytes::from_static(text))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    fn into_tungstenite(self) -> ts::frame::Utf8Bytes {
        self.0
    }
}

impl std::ops::Deref for Utf8Bytes {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<String> for Utf8Bytes {
    fn from(text: String) -> Self {
        Utf8Bytes(text.into())
    }
}

impl From<&str> for Utf8Bytes {
    fn from(text: &str) -> Self {
        Utf8Bytes(text.into())
    }
}

impl From<&String> for Utf8Bytes {
    fn from(text: &String) -> Self {
        Utf8Bytes(text.as_str().into())
    }
}

impl From<Utf8Bytes> for Bytes {
    fn from(text: Utf8Bytes) -> Self {
        text.0.into()
    }
}

impl TryFrom<Bytes> for Utf8Bytes {
    type Error = std::str::Utf8Error;

    fn try_from(bytes: Bytes) -> Result<Self, Self::Error> {
        ts::frame::Utf8Bytes::try_from(bytes).map(Utf8Bytes)
    }
}

impl PartialEq<str> for Utf8Bytes {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Utf8Bytes {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Utf8Bytes {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

/// The status codes of a close frame ([RFC 6455 §7.4.1]).
///
/// [RFC 6455 §7.4.1]: https://www.rfc-editor.org/rfc/rfc6455#section-7.4.1
pub mod close_code {
    /// Normal closure: the purpose of the connection was fulfilled.
    pub const NORMAL: u16 = 1000;
    /// Going away: the server is shutting down, or the browser left the page.
    /// Mambo sends it when the server drains.
    pub const AWAY: u16 = 1001;
    /// The peer broke the protocol.
    pub const PROTOCOL: u16 = 1002;
    /// A data type the endpoint cannot accept (text to a binary-only endpoint).
    pub const UNSUPPORTED: u16 = 1003;
    /// Data inconsistent with its type (text that is not UTF-8).
    pub const INVALID: u16 = 1007;
    /// A message that violates the endpoint's policy.
    pub const POLICY: u16 = 1008;
    /// A message too big to process (over `max_message_size`).
    pub const SIZE: u16 = 1009;
    /// The client expected an extension the server did not negotiate.
    pub const EXTENSION: u16 = 1010;
    /// The server met an unexpected condition.
    pub const ERROR: u16 = 1011;
    /// The server is restarting: the client may reconnect.
    pub const RESTART: u16 = 1012;
    /// The server is overloaded: the client should reconnect elsewhere or later.
    pub const AGAIN: u16 = 1013;
}

/// A close frame's code and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    /// Why the connection closes; see [`close_code`].
    pub code: u16,
    /// A reason for people (at most 123 bytes of UTF-8 on the wire).
    pub reason: Utf8Bytes,
}

impl CloseFrame {
    /// A close frame with `code` and `reason`.
    pub fn new(code: u16, reason: impl Into<Utf8Bytes>) -> Self {
        CloseFrame { code, reason: reason.into() }
    }

    pub(super) fn into_tungstenite(self) -> ts::CloseFrame {
        ts::CloseFrame { code: CloseCode::from(self.code), reason: self.reason.into_tungstenite() }
    }

    fn from_tungstenite(frame: ts::CloseFrame) -> Self {
        CloseFrame { code: frame.code.into(), reason: Utf8Bytes(frame.reason) }
    }
}

/// A WebSocket message.
///
/// Pings are answered with pongs by the socket itself, and a close frame
/// from the client with the closing reply; both are still handed to the
/// handler, for the record.
///
/// # Examples
///
/// ```
/// use mambo::ws::Message;
///
/// let message = Message::text("hi");
/// assert_eq!(message.to_text(), Some("hi"));
/// assert!(Message::binary(vec![1, 2, 3]).to_text().is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message.
    Text(Utf8Bytes),
    /// A binary message.
    Binary(Bytes),
    /// A ping (at most 125 bytes): the socket answers it.
    Ping(Bytes),
    /// A pong (at most 125 bytes).
    Pong(Bytes),
    /// A close frame, with an optional code and reason.
    Close(Option<CloseFrame>),
}

impl Message {
    /// A text message.
    pub fn text(text: impl Into<Utf8Bytes>) -> Self {
        Message::Text(text.into())
    }

    /// A binary message.
    pub fn binary(data: impl Into<Bytes>) -> Self {
        Message::Binary(data.into())
    }

    /// The text of a text message.
    pub fn to_text(&self) -> Option<&str> {
        match self {
            Message::Text(text) => Some(text.as_str()),
            _ => None,
        }
    }

    /// The payload, whatever the kind (a close frame's reason for a close).
    pub fn into_data(self) -> Bytes {
        match self {
            Message::Text(text) => text.into(),
            Message::Binary(data) | Message::Ping(data) | Message::Pong(data) => data,
            Message::Close(frame) => frame.map(|frame| frame.reason.into()).unwrap_or_default(),
        }
    }

    /// The payload as text, if it is valid UTF-8.
    pub fn to_str_lossy(&self) -> Cow<'_, str> {
        match self {
            Message::Text(text) => Cow::Borrowed(text.as_str()),
            Message::Binary(data) | Message::Ping(data) | Message::Pong(data) => {
                String::from_utf8_lossy(data)
            }
            Message::Close(frame) => {
                Cow::Borrowed(frame.as_ref().map(|frame| frame.reason.as_str()).unwrap_or(""))
            }
        }
    }

    pub(super) fn into_tungstenite(self) -> ts::Message {
        match self {
            Message::Text(text) => ts::Message::Text(text.into_tungstenite()),
            Message::Binary(data) => ts::Message::Binary(data),
            Message::Ping(data) => ts::Message::Ping(data),
            Message::Pong(data) => ts::Message::Pong(data),
            Message::Close(frame) => ts::Message::Close(frame.map(CloseFrame::into_tungstenite)),
        }
    }

    /// The message tungstenite read; `None` for a raw frame, which reading
    /// never yields.
    pub(super) fn from_tungstenite(message: ts::Message) -> Option<Self> {
        Some(match message {
            ts::Message::Text(text) => Message::Text(Utf8Bytes(text)),
            ts::Message::Binary(data) => Message::Binary(data),
            ts::Message::Ping(data) => Message::Ping(data),
            ts::Message::Pong(data) => Message::Pong(data),
            ts::Message::Close(frame) => Message::Close(frame.map(CloseFrame::from_tungstenite)),
            ts::Message::Frame(_) => return None,
        })
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message::text(text)
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message::text(text)
    }
}

impl From<Bytes> for Message {
    fn from(data: Bytes) -> Self {
        Message::Binary(data)
    }
}

impl From<Vec<u8>> for Message {
    fn from(data: Vec<u8>) -> Self {
        Message::binary(data)
    }
}
