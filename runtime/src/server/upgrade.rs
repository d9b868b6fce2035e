//! Requests that leave HTTP (a WebSocket's `Upgrade: websocket`, HTTP/2's
//! extended `CONNECT`): what the server gives them so that the protocol they
//! switch to still hears the server's shutdown.
//!
//! hyper marks a request that may be upgraded with an `OnUpgrade` in its
//! extensions, and only such a request. For those alone the server adds a
//! [`ServerShutdown`]; every other request pays one branch.
//!
//! An upgraded HTTP/1.1 connection keeps its place under `max_connections`
//! for as long as it lives: the upgraded I/O owns the connection's state,
//! which holds the place (see `conn`). A graceful shutdown waits for it like
//! for any connection, until the shutdown timeout.

use http::{Method, Version};
use hyper::upgrade::OnUpgrade;
use tokio::sync::watch;

use super::shutdown::{Phase, Shutdown};

/// The server's shutdown, as an upgraded connection sees it.
#[derive(Debug, Clone)]
pub(crate) struct ServerShutdown {
    phase: watch::Receiver<Phase>,
}

impl ServerShutdown {
    /// Completes when the server starts draining (or is gone).
    pub(crate) async fn draining(&mut self) {
        let _ = self.phase.wait_for(|phase| *phase != Phase::Running).await;
    }

    /// Completes when the shutdown timeout has passed (or the server is
    /// gone): whatever is still open must be dropped now.
    pub(crate) async fn closed(&mut self) {
        let _ = self.phase.wait_for(|phase| *phase == Phase::Closed).await;
    }
}

/// Gives `request` the server's shutdown if hyper may upgrade it.
#[inline]
pub(crate) fn link(request: &mut http::request::Parts, shutdown: &Shutdown) {
    if request.extensions.get::<OnUpgrade>().is_some() {
        attach(request, shutdown);
    }
}

#[cold]
fn attach(request: &mut http::request::Parts, shutdown: &Shutdown) {
    request.extensions.insert(ServerShutdown { phase: shutdown.subscribe() });
    if is_h2_websocket(request) {
        // RFC 8441's `CONNECT` + `:protocol = websocket` is HTTP/2's
        // spelling of HTTP/1.1's `GET` + `Upgrade: websocket`: routed as a
        // `GET`, one `#[route(GET ..)]` serves both. `WebSocketUpgrade`
        // tells them apart by the version and the protocol.
        request.method = Method::GET;
    }
}

/// An HTTP/2 extended `CONNECT` that opens a WebSocket.
pub(crate) fn is_h2_websocket(request: &http::request::Parts) -> bool {
    request.version == Version::HTTP_2
        && request.method == Method::CONNECT
        && request
            .extensions
            .get::<hyper::ext::Protocol>()
            .is_some_and(|protocol| protocol.as_str().eq_ignore_ascii_case("websocket"))
}
