//! Why a WebSocket handshake failed: [`WebSocketRejection`].

use std::borrow::Cow;
use std::fmt;

use http::header::SEC_WEBSOCKET_VERSION;
use http::{HeaderValue, StatusCode};

use crate::error::{ApiError, render};
use crate::response::{IntoResponse, Response};

/// Why [`WebSocketUpgrade`](super::WebSocketUpgrade) failed; the client gets
/// the JSON error body.
#[derive(Debug)]
#[non_exhaustive]
pub enum WebSocketRejection {
    /// Not a WebSocket handshake: an HTTP/1.1 request without
    /// `connection: upgrade` and `upgrade: websocket` on a `GET`, or an
    /// HTTP/2 request that is not an extended `CONNECT` for `websocket`.
    ///
    /// Status `400`, code `40017`.
    NotAHandshake,
    /// `sec-websocket-key` is missing or not 16 bytes in base64.
    ///
    /// Status `400`, code `40018`.
    BadKey,
    /// `sec-websocket-version` is missing or not `13`. The answer carries
    /// `sec-websocket-version: 13`, as RFC 6455 asks.
    ///
    /// Status `426`, code `42600`.
    UnsupportedVersion,
    /// The connection cannot switch protocols: the request did not come
    /// through a server that supports upgrades (the in-process test client,
    /// an adapter). The setup is at fault, not the client.
    ///
    /// Status `500`, code `50008`.
    NotUpgradable,
}

impl WebSocketRejection {
    /// The HTTP status the client gets.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotAHandshake | Self::BadKey => StatusCode::BAD_REQUEST,
            Self::UnsupportedVersion => StatusCode::UPGRADE_REQUIRED,
            Self::NotUpgradable => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The error code in the JSON body (see the
    /// [table](crate::extract::rejection)).
    pub fn code(&self) -> u32 {
        match self {
            Self::NotAHandshake => 40017,
            Self::BadKey => 40018,
            Self::UnsupportedVersion => 42600,
            Self::NotUpgradable => 50008,
        }
    }

    /// The message in the JSON body.
    pub fn message(&self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            Self::NotAHandshake => {
                "not a WebSocket handshake: expected a GET with `connection: upgrade` and `upgrade: websocket` (HTTP/1.1), or an extended CONNECT with `:protocol: websocket` (HTTP/2)"
            }
            Self::BadKey => {
                "missing or invalid `sec-websocket-key` header: expected 16 random bytes in base64"
            }
            Self::UnsupportedVersion => {
                "unsupported WebSocket version: expected `sec-websocket-version: 13`"
            }
            Self::NotUpgradable => {
                "this connection cannot be upgraded to a WebSocket: serve the route with `mambo::Server`"
            }
        })
    }
}

impl fmt::Display for WebSocketRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for WebSocketRejection {}

impl ApiError for WebSocketRejection {
    fn code(&self) -> u32 {
        WebSocketRejection::code(self)
    }

    fn message(&self) -> Cow<'_, str> {
        WebSocketRejection::message(self)
    }

    fn status(&self) -> StatusCode {
        WebSocketRejection::status(self)
    }
}

impl IntoResponse for WebSocketRejection {
    fn into_response(self) -> Response {
        let mut response = render(&self);
        if matches!(self, Self::UnsupportedVersion) {
            response.headers_mut().insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        }
        response
    }
}
