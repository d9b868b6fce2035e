//! `ws-echo-fastwebsockets [--port N] [--threads N]`: hyper 1 (http1, with
//! upgrades), `fastwebsockets::upgrade::upgrade` (0.10, defaults: auto-pong,
//! auto-close, 64 MiB max message), a `FragmentCollector` echoing every
//! Text/Binary message with `read_frame`/`write_frame`. `GET /ping`: 200.

use std::convert::Infallible;

use bytes::Bytes;
use fastwebsockets::{FragmentCollector, Frame, OpCode, Payload};
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

#[global_allocator]
static GLOBAL: ws_echo::Counting = ws_echo::Counting;

async fn echo(
    fut: fastwebsockets::upgrade::UpgradeFut,
) -> Result<(), fastwebsockets::WebSocketError> {
    let mut ws = FragmentCollector::new(fut.await?);
    loop {
        let frame = ws.read_frame().await?;
        match frame.opcode {
            OpCode::Close => break,
            OpCode::Text if &*frame.payload == ws_echo::ALLOCS_QUERY.as_bytes() => {
                let count = ws_echo::allocations_text().into_bytes();
                ws.write_frame(Frame::text(Payload::Owned(count))).await?;
            }
            OpCode::Text | OpCode::Binary => ws.write_frame(frame).await?,
            _ => {}
        }
    }
    Ok(())
}

async fn handle(mut req: Request<Incoming>) -> Result<Response<Empty<Bytes>>, Infallible> {
    let status = |s: StatusCode| Response::builder().status(s).body(Empty::new()).unwrap();
    match req.uri().path() {
        "/ping" => Ok(status(StatusCode::OK)),
        ws_echo::WS_PATH => match fastwebsockets::upgrade::upgrade(&mut req) {
            Ok((response, fut)) => {
                tokio::spawn(async move {
                    let _ = echo(fut).await;
                });
                Ok(response)
            }
            Err(_) => Ok(status(StatusCode::BAD_REQUEST)),
        },
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
