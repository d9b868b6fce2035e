//! The handshake: [`WebSocketUpgrade`] checks the request, answers it, and
//! starts the handler on the upgraded connection.

use std::future::Future;
use std::sync::Arc;

use http::header::{
    CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL,
    SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Version};
use hyper::upgrade::OnUpgrade;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use super::config::WebSocketConfig;
use super::rejection::WebSocketRejection;
use super::socket::WebSocket;
use super::watchdog::{self, Watch};
use crate::body::ResponseBody;
use crate::context::RequestContext;
use crate::extract::FromRequestParts;
use crate::response::Response;
use crate::server::upgrade::ServerShutdown;

const TARGET: &str = "mambo::ws";

/// The extractor of a WebSocket route: a checked handshake, waiting to be
/// answered with [`on_upgrade`](Self::on_upgrade).
///
/// It accepts an HTTP/1.1 `GET` with `connection: upgrade`,
/// `upgrade: websocket`, `sec-websocket-version: 13` and a
/// `sec-websocket-key` ([RFC 6455]), and an HTTP/2 extended `CONNECT` with
/// `:protocol: websocket` ([RFC 8441]), which Mambo's server routes as a
/// `GET`: one `#[route(GET "/ws")]` serves both.
///
/// # Examples
///
/// An echo route:
///
/// ```no_run
/// use mambo::prelude::*;
/// use mambo::ws::{Message, WebSocketUpgrade};
///
/// #[route(GET "/echo")]
/// async fn echo(upgrade: WebSocketUpgrade) -> Response {
///     upgrade.on_upgrade(|mut socket| async move {
///         while let Some(Ok(message)) = socket.recv().await {
///             if matches!(message, Message::Text(_) | Message::Binary(_))
///                 && socket.send(message).await.is_err()
///             {
///                 break;
///             }
///         }
///     })
/// }
///
/// mambo::router! {
///     struct App {
///         routes: [echo],
///     }
/// }
/// ```
///
/// # Errors
///
/// The handshake fails with a [`WebSocketRejection`]: 400 for a request
/// that is not a WebSocket handshake or has a bad key, 426 (with
/// `sec-websocket-version: 13`) for another protocol version, and 500 when
/// the connection cannot be upgraded (the in-process
/// [`TestClient`](crate::test::TestClient): test WebSocket routes over a
/// real server).
///
/// [RFC 6455]: https://www.rfc-editor.org/rfc/rfc6455#section-4.2.1
/// [RFC 8441]: https://www.rfc-editor.org/rfc/rfc8441
#[derive(Debug)]
#[must_use = "answer the handshake with `on_upgrade`"]
pub struct WebSocketUpgrade {
    config: WebSocketConfig,
    /// `sec-websocket-accept` for HTTP/1.1; `None` for HTTP/2.
    accept: Option<HeaderValue>,
    /// The client's `sec-websocket-protocol`.
    offered: Option<HeaderValue>,
    protocol: Option<HeaderValue>,
    on_upgrade: OnUpgrade,
    shutdown: Option<ServerShutdown>,
}

impl<S: Sync> FromRequestParts<S> for WebSocketUpgrade {
    type Rejection = WebSocketRejection;

    async fn from_request_parts(cx: &RequestContext<'_, S>) -> Result<Self, WebSocketRejection> {
        WebSocketUpgrade::check(cx.parts())
    }
}

impl WebSocketUpgrade {
    fn check(parts: &http::request::Parts) -> Result<Self, WebSocketRejection> {
        let headers = &parts.headers;
        let h2 = parts.version == Version::HTTP_2;
        let accept = if h2 {
            let websocket = parts
                .extensions
                .get::<hyper::ext::Protocol>()
                .is_some_and(|protocol| protocol.as_str().eq_ignore_ascii_case("websocket"));
            if !websocket {
                return Err(WebSocketRejection::NotAHandshake);
            }
            None
        } else {
            if parts.method != Method::GET
                || parts.version < Version::HTTP_11
                || !has_token(headers, CONNECTION, "upgrade")
                || !has_token(headers, UPGRADE, "websocket")
            {
                return Err(WebSocketRejection::NotAHandshake);
            }
            let key = headers.get(SEC_WEBSOCKET_KEY).filter(|key| is_valid_key(key.as_bytes()));
            let Some(key) = key else {
                return Err(WebSocketRejection::BadKey);
            };
            let accept = derive_accept_key(key.as_bytes());
            Some(HeaderValue::try_from(accept).map_err(|_| WebSocketRejection::BadKey)?)
        };
        if headers.get(SEC_WEBSOCKET_VERSION).is_none_or(|version| version.as_bytes() != b"13") {
            return Err(WebSocketRejection::UnsupportedVersion);
        }
        let Some(on_upgrade) = parts.extensions.get::<OnUpgrade>().cloned() else {
            return Err(WebSocketRejection::NotUpgradable);
        };
        Ok(WebSocketUpgrade {
            config: WebSocketConfig::default(),
            accept,
            offered: headers.get(SEC_WEBSOCKET_PROTOCOL).cloned(),
            protocol: None,
            on_upgrade,
            shutdown: parts.extensions.get::<ServerShutdown>().cloned(),
        })
    }

    /// Sets the socket's limits and timeouts (default:
    /// [`WebSocketConfig::default`]).
    pub fn config(mut self, config: WebSocketConfig) -> Self {
        self.config = config;
        self
    }

    /// The subprotocols the route speaks, in order of preference: the
    /// first one the client also offered in `sec-websocket-protocol` is
    /// agreed. None agreed is not an error: the handler can check
    /// [`selected_protocol`](Self::selected_protocol), as browsers close a
    /// socket that did not get a protocol they required.
    ///
    /// ```no_run
    /// # use mambo::prelude::*;
    /// # use mambo::ws::WebSocketUpgrade;
    /// #[route(GET "/chat")]
    /// async fn chat(upgrade: WebSocketUpgrade) -> Response {
    ///     upgrade.protocols(["chat.v2", "chat.v1"]).on_upgrade(|socket| async move {
    ///         let _v2 = socket.protocol().is_some_and(|p| p == "chat.v2");
    ///     })
    /// }
    /// ```
    pub fn protocols<I>(mut self, protocols: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let offered = self.offered.as_ref().and_then(|offered| offered.to_str().ok());
        if let Some(offered) = offered {
            self.protocol = protocols
                .into_iter()
                .find(|protocol| offered.split(',').any(|offer| offer.trim() == protocol.as_ref()))
                .and_then(|protocol| HeaderValue::from_str(protocol.as_ref()).ok());
        }
        self
    }

    /// The subprotocol agreed by [`protocols`](Self::protocols), if any.
    pub fn selected_protocol(&self) -> Option<&HeaderValue> {
        self.protocol.as_ref()
    }

    /// Answers the handshake and runs `handler` on the socket once the
    /// client has the answer. Returns the answer: 101 Switching Protocols
    /// (HTTP/1.1) or 200 (HTTP/2).
    ///
    /// The handler runs in a task of its own, after the route's future is
    /// done: the route's timeout and in-flight slot do not apply to it; the
    /// socket's [`WebSocketConfig`] and the server's shutdown do.
    pub fn on_upgrade<F, Fut>(self, handler: F) -> Response
    where
        F: FnOnce(WebSocket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let WebSocketUpgrade { config, accept, protocol, on_upgrade, shutdown, .. } = self;
        let mut response = Response::new(ResponseBody::Empty);
        if let Some(accept) = accept {
            *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
            let headers = response.headers_mut();
            headers.insert(CONNECTION, HeaderValue::from_static("upgrade"));
            headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
            headers.insert(SEC_WEBSOCKET_ACCEPT, accept);
        }
        if let Some(protocol) = &protocol {
            response.headers_mut().insert(SEC_WEBSOCKET_PROTOCOL, protocol.clone());
        }
        tokio::spawn(async move {
            let upgraded = match on_upgrade.await {
                Ok(upgraded) => upgraded,
                Err(error) => {
                    // The answer was replaced (a middleware's error), or
                    // the client left before reading it.
                    tracing::debug!(target: TARGET, %error, "WebSocket upgrade did not happen");
                    return;
                }
            };
            let watch = Arc::new(Watch::default());
            let socket = WebSocket::new(upgraded, &config, watch.clone(), protocol).await;
            watchdog::guard(handler(socket), &watch, &config, shutdown).await;
        });
        response
    }
}

/// Whether the comma-separated header `name` lists `token` (any case).
fn has_token(headers: &HeaderMap, name: http::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|value| {
        value
            .to_str()
            .is_ok_and(|value| value.split(',').any(|item| item.trim().eq_ignore_ascii_case(token)))
    })
}

/// A `sec-websocket-key`: 16 bytes in base64, which is 24 characters with
/// `==` at the end.
fn is_valid_key(key: &[u8]) -> bool {
    key.len() == 24
        && key.ends_with(b"==")
        && key[..22].iter().all(|&c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handshake() -> http::request::Builder {
        http::Request::get("/ws")
            .header("connection", "keep-alive, Upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
    }

    fn check(request: http::request::Builder) -> Result<WebSocketUpgrade, WebSocketRejection> {
        let (parts, ()) = request.body(()).unwrap().into_parts();
        WebSocketUpgrade::check(&parts)
    }

    #[test]
    fn the_accept_key_is_rfc_6455s_example() {
        assert_eq!(derive_accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn a_handshake_without_a_connection_to_upgrade_is_not_upgradable() {
        assert!(matches!(check(handshake()), Err(WebSocketRejection::NotUpgradable)));
    }

    #[test]
    fn rejections_name_what_is_wrong() {
        let plain = http::Request::get("/ws");
        assert!(matches!(check(plain), Err(WebSocketRejection::NotAHandshake)));
        let no_key = http::Request::get("/ws")
            .header("connection", "upgrade")
            .header("upgrade", "WebSocket")
            .header("sec-websocket-version", "13");
        assert!(matches!(check(no_key), Err(WebSocketRejection::BadKey)));
        let bad_key = handshake().header("sec-websocket-key", "short");
        let (mut parts, ()) = bad_key.body(()).unwrap().into_parts();
        parts.headers.insert("sec-websocket-key", HeaderValue::from_static("short"));
        assert!(matches!(WebSocketUpgrade::check(&parts), Err(WebSocketRejection::BadKey)));
        let (mut parts, ()) = handshake().body(()).unwrap().into_parts();
        parts.headers.insert("sec-websocket-version", HeaderValue::from_static("8"));
        assert!(matches!(
            WebSocketUpgrade::check(&parts),
            Err(WebSocketRejection::UnsupportedVersion)
        ));
    }

    #[test]
    fn keys_are_24_base64_characters() {
        assert!(is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ="));
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZ!=="));
    }
}
