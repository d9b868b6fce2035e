//! A Mambo router as a `tower::Service`, under a tower-http layer, served by
//! a hand-written hyper-util accept loop instead of `mambo::Server`.
//!
//! This is the path for fitting Mambo into an existing tower stack (tower-http
//! layers, an axum app, a hyper server you already run). The router is the
//! todo service (in memory); [`mambo::tower::TowerService`] adapts it, and
//! tower-http's `SetResponseHeaderLayer` stamps `x-served-by` on every
//! response, Mambo's own errors included.
//!
//! ```text
//! cargo run -p mambo-examples --bin tower_interop                 # 127.0.0.1:3001
//! curl -i localhost:3001/health                                   # note `x-served-by`
//! curl -i localhost:3001/todos -H 'content-type: application/json' -d '{"title":"via tower"}'
//! curl -i localhost:3001/todos/1
//! curl -i localhost:3001/nope                                     # Mambo's 404, still layered
//! ```
//!
//! Flags: `--addr HOST:PORT` (default `127.0.0.1:3001`), `--port N`.
//! Ctrl-C stops accepting and lets open connections finish (up to 10 s).
//!
//! The same service nests in axum as
//! `axum::Router::new().fallback_service(TowerService::new(api))`.
//!
//! What the adapter costs: each call boxes the router's future (tower needs a
//! nameable future type); hyper's request body goes through unboxed. Serve
//! with `mambo::Server` when there is no tower stack to fit into: it also
//! brings connection and in-flight limits, header-read timeouts and
//! thread-per-core mode, which this loop leaves out.

use std::net::SocketAddr;
use std::pin::pin;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use mambo::ConnInfo;
use mambo::header::{HeaderName, HeaderValue};
use mambo::tower::TowerService;
use mambo_examples::todo::{Db, TodoApi};
use tower::ServiceBuilder;
use tower_http::set_header::SetResponseHeaderLayer;
use tracing_subscriber::EnvFilter;

/// The system allocator, mimalloc or jemalloc, by cargo feature (see
/// `mambo_examples::alloc`).
#[global_allocator]
static ALLOCATOR: mambo_examples::alloc::Chosen = mambo_examples::alloc::CHOSEN;

/// The header the tower-http layer sets on every response.
const SERVED_BY: HeaderName = HeaderName::from_static("x-served-by");

/// How long Ctrl-C waits for open connections.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

fn parse_addr() -> Result<String, String> {
    let mut addr = "127.0.0.1:3001".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("`{arg}` needs a value"));
        match arg.as_str() {
            "--addr" => addr = value()?,
            "--port" => addr = format!("127.0.0.1:{}", value()?),
            "--help" | "-h" => {
                return Err("usage: tower_interop [--addr HOST:PORT | --port N]".to_owned());
            }
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    Ok(addr)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = parse_addr().unwrap_or_else(|message| {
        eprintln!("{message}");
        std::process::exit(2);
    });
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();

    let db = Db::open_in_memory().map_err(std::io::Error::other)?;
    // One router for every connection: clones of the service share it.
    let api = TowerService::new(TodoApi::with_db(db));

    let listener = tokio::net::TcpListener::bind(&addr).await?;
    mambo_examples::alloc::start_trimming();
    let local_addr = listener.local_addr()?;
    println!("tower_interop listening on http://{local_addr}");

    let builder = auto::Builder::new(TokioExecutor::new());
    let graceful = GracefulShutdown::new();
    let mut ctrl_c = pin!(tokio::signal::ctrl_c());
    loop {
        let (stream, remote_addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, or a connection reset before
                    // it was accepted: back off a little and go on.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut ctrl_c => break,
        };
        let service = ServiceBuilder::new()
            .layer(SetResponseHeaderLayer::overriding(
                SERVED_BY,
                HeaderValue::from_static("mambo via tower-http"),
            ))
            .service(api.clone().with_conn(conn_info(remote_addr, local_addr)));
        // hyper's services take `&self`, tower's `&mut self`: hyper-util's
        // glue clones the (cheap) service per request.
        let connection = builder
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, %remote_addr, "connection error");
            }
        });
    }

    drop(listener);
    println!("shutting down: waiting for open connections");
    if tokio::time::timeout(SHUTDOWN_TIMEOUT, graceful.shutdown()).await.is_err() {
        eprintln!("connections still open after {SHUTDOWN_TIMEOUT:?}; closing them");
    }
    Ok(())
}

/// What the router learns about the connection: the addresses, and the same
/// body limit and handler deadline `mambo::Server` would give it.
fn conn_info(remote_addr: SocketAddr, local_addr: SocketAddr) -> ConnInfo {
    ConnInfo {
        remote_addr: Some(remote_addr),
        local_addr: Some(local_addr),
        default_timeout: Some(Duration::from_secs(30)),
        ..ConnInfo::default()
    }
}
