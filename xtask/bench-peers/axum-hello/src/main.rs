//! `axum-hello [--port N] [--threads N]`: the axum 0.8 peer (multi-thread runtime;
//! `--mode` is accepted and ignored, axum has a single layout).

use axum::extract::Path;
use axum::routing::{MethodFilter, MethodRouter, get};
use axum::{Json, Router};
use peer_common::{JSON_MESSAGE, PING_BODY, PLAINTEXT_BODY};

#[derive(serde::Serialize)]
struct Message {
    message: &'static str,
}

fn app() -> Router {
    let mut app =
        Router::new()
            .route("/plaintext", get(|| async { PLAINTEXT_BODY }))
            .route("/json", get(|| async { Json(Message { message: JSON_MESSAGE }) }))
            .route(
                "/ping",
                get(|| async {
                    ([(axum::http::header::CONTENT_TYPE, peer_common::APPLICATION_JSON)], PING_BODY)
                }),
            )
            .route(
                "/user/{id}/post/{slug}",
                get(|Path((id, slug)): Path<(u64, String)>| async move {
                    format!("user {id} post {slug}")
                }),
            );
    for (pattern, methods) in peer_common::github_routes_by_path() {
        let mut route = MethodRouter::new();
        for method in methods {
            let method = axum::http::Method::from_bytes(method.as_bytes()).expect("valid method");
            let filter = MethodFilter::try_from(method).expect("standard method");
            route = route.on(filter, move || async move { pattern });
        }
        app = app.route(&peer_common::to_braces(pattern), route);
    }
    app
}

fn main() -> std::io::Result<()> {
    let args = peer_common::Args::from_env();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads)
        .enable_all()
        .build()?
        .block_on(async move {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
            use axum::serve::ListenerExt;
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            axum::serve(listener, app()).await
        })
}
