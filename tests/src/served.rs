//! A router served by `mambo::Server` on 127.0.0.1 and a real HTTP client
//! for it (hyper-util's): what the socket tests of several binaries share.

use std::net::SocketAddr;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::oneshot;

/// A router on a free port; dropping it shuts the server down gracefully.
pub struct Served {
    /// Where the server listens.
    pub addr: SocketAddr,
    _stop: oneshot::Sender<()>,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// A response, read whole.
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl Reply {
    /// A header's value, which must be text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|value| value.to_str().unwrap())
    }

    /// The body, which must be UTF-8.
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }

    /// The body, which must be JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| panic!("{err}: {:?}", self.text()))
    }
}

/// Serves `router` on a free port of 127.0.0.1 (call from a Tokio runtime).
pub fn serve<R: mambo::Router>(router: R) -> Served {
    let (stop, stopped) = oneshot::channel::<()>();
    let listening = mambo::Server::bind("127.0.0.1:0")
        .with_graceful_shutdown(async {
            stopped.await.ok();
        })
        .listen()
        .unwrap();
    let addr = listening.local_addr();
    tokio::spawn(listening.serve(router));
    Served { addr, _stop: stop, client: Client::builder(TokioExecutor::new()).build_http() }
}

impl Served {
    /// Sends `request` (its URI a path) with `body`.
    pub async fn send(&self, request: http::request::Builder, body: impl Into<Bytes>) -> Reply {
        let path = request.uri_ref().unwrap().to_string();
        let request = request
            .uri(format!("http://{}{path}", self.addr))
            .body(Full::new(body.into()))
            .unwrap();
        let response = self.client.request(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        Reply { status: parts.status, headers: parts.headers, body }
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Reply {
        self.send(http::Request::get(path), Bytes::new()).await
    }
}
