//! `ws-echo-tungstenite [--port N] [--threads N]`: hyper 1 (http1, with
//! upgrades), the WebSocket handshake answered by hand (101,
//! `Sec-WebSocket-Accept` from tungstenite's `derive_accept_key`), then
//! tokio-tungstenite 0.30's `WebSocketStream::from_raw_socket` (default
//! `WebSocketConfig`) echoing every Text/Binary message. `GET /ping`: 200.

use std::convert::Infallible;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper::header::{CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, UPGRADE};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tungstenite::Message;
use tungstenite::handshake::derive_accept_key;
use tungstenite::protocol::Role;

#[global_allocator]
static GLOBAL: ws_echo::Counting = ws_echo::Counting;

async fn echo(upgraded: hyper::upgrade::Upgraded) {
    let mut ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
    while let Some(Ok(msg)) = ws.next().await {
        let reply = match msg {
            Message::Text(t) if t.as_str() == ws_echo::ALLOCS_QUERY => {
                Message::text(ws_echo::allocations_text())
            }
            Message::Text(_) | Message::Binary(_) => msg,
            Message::Close(_) => break,
            // Pings are answered by tungstenite itself.
            _ => continue,
        };
        if ws.send(reply).await.is_err() {
            break;
        }
    }
}

async fn handle(mut req: Request<Incoming>) -> Result<Response<Empty<Bytes>>, Infallible> {
    let status = |s: StatusCode| Response::builder().status(s).body(Empty::new()).unwrap();
    match req.uri().path() {
        "/ping" => Ok(status(StatusCode::OK)),
        ws_echo::WS_PATH => {
            let Some(key) = req.headers().get(SEC_WEBSOCKET_KEY) else {
                return Ok(status(StatusCode::BAD_REQUEST));
            };
            let accept = derive_accept_key(key.as_bytes());
            let on_upgrade = hyper::upgrade::on(&mut req);
            tokio::spawn(async move {
                if let Ok(upgraded) = on_upgrade.await {
                    echo(upgraded).await;
                }
            });
            Ok(Response::builder()
                .status(StatusCode::SWITCHING_PROTOCOLS)
                .header(CONNECTION, "upgrade")
                .header(UPGRADE, "websocket")
                .header(SEC_WEBSOCKET_ACCEPT, accept)
                .body(Empty::new())
                .unwrap())
        }
        _ => Ok(status(StatusCode::NOT_FOUND)),
    }
}

fn main() -> std::io::Result<()> {
    let args = peer_common::Args::from_env();
    ws_echo::runtime(args.threads)?.block_on(async move {
        let listener = ws_echo::bind(args.port).await?;
        loop {
            let (tcp, _) = listener.accept().await?;
            let _ = tcp.set_nodelay(true);
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), hyper::service::service_fn(handle))
                    .with_upgrades()
                    .await;
            });
        }
    })
}
