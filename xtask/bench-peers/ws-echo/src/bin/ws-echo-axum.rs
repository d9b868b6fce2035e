//! `ws-echo-axum [--port N] [--threads N]`: axum 0.8's `WebSocketUpgrade`
//! (tokio-tungstenite 0.29 underneath, axum's defaults) echoing every
//! Text/Binary message. `GET /ping`: 200.

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;

#[global_allocator]
static GLOBAL: ws_echo::Counting = ws_echo::Counting;

async fn echo(mut ws: WebSocket) {
    while let Some(Ok(msg)) = ws.recv().await {
        let reply = match msg {
            Message::Text(t) if t.as_str() == ws_echo::ALLOCS_QUERY => {
                Message::text(ws_echo::allocations_text())
            }
            Message::Text(_) | Message::Binary(_) => msg,
            Message::Close(_) => break,
            _ => continue,
        };
        if ws.send(reply).await.is_err() {
            break;
        }
    }
}

async fn upgrade(ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(echo)
}

fn main() -> std::io::Result<()> {
    let args = peer_common::Args::from_env();
    ws_echo::runtime(args.threads)?.block_on(async move {
        let listener = ws_echo::bind(args.port).await?;
        use axum::serve::ListenerExt;
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let app = Router::new()
            .route("/ping", get(|| async { "" }))
            .route(ws_echo::WS_PATH, get(upgrade));
        axum::serve(listener, app).await
    })
}
