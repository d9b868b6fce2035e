//! `xitca-hello [--port N] [--threads N]`: the xitca-web 0.8 peer, on its own
//! HTTP stack (xitca-server + xitca-http, not hyper); one worker per thread
//! (xitca-server's layout; `--mode` is accepted and ignored). HTTP/1.1 and
//! h2c with prior knowledge on the same port.

use peer_common::{JSON_MESSAGE, PING_BODY, PLAINTEXT_BODY};
use xitca_web::App;
use xitca_web::handler::handler_service;
use xitca_web::handler::json::Json;
use xitca_web::handler::params::Params;
use xitca_web::http::header::CONTENT_TYPE;
use xitca_web::http::{Method, WebResponse, const_header_value};
use xitca_web::route::{Route, get};

#[derive(serde::Serialize)]
struct Message {
    message: &'static str,
}

/// `GET /ping`: a constant JSON body.
async fn ping() -> WebResponse {
    let mut res = WebResponse::new(PING_BODY.into());
    res.headers_mut().insert(CONTENT_TYPE, const_header_value::JSON);
    res
}

/// `GET /user/{id}/post/{slug}`: a bad `id` fails the extractor (400).
async fn user_post(Params((id, slug)): Params<(u64, String)>) -> String {
    format!("user {id} post {slug}")
}

/// The methods of one GitHub path as an array of `M` (xitca's `Route` takes a fixed-size array).
fn methods<const M: usize>(methods: &[&str]) -> [Method; M] {
    let methods: Vec<Method> =
        methods.iter().map(|m| Method::from_bytes(m.as_bytes()).expect("valid method")).collect();
    methods.try_into().expect("M methods")
}

fn main() -> std::io::Result<()> {
    let args = peer_common::Args::from_env();
    let mut app = App::new()
        .at("/plaintext", get(handler_service(async || PLAINTEXT_BODY)))
        .at("/json", get(handler_service(async || Json(Message { message: JSON_MESSAGE }))))
        .at("/ping", get(handler_service(ping)))
        .at("/user/{id}/post/{slug}", get(handler_service(user_post)));
    for (pattern, list) in peer_common::github_routes_by_path() {
        let path = peer_common::to_braces(pattern);
        let handler = handler_service(move || async move { pattern });
        // One route per path, whatever the number of its methods (at most 4 in the set).
        app = match list.len() {
            1 => app.at(&path, Route::new(methods::<1>(&list)).route(handler)),
            2 => app.at(&path, Route::new(methods::<2>(&list)).route(handler)),
            3 => app.at(&path, Route::new(methods::<3>(&list)).route(handler)),
            4 => app.at(&path, Route::new(methods::<4>(&list)).route(handler)),
            n => panic!("{pattern}: {n} methods, at most 4 handled"),
        };
    }
    app.serve()
        .worker_threads(args.threads)
        .backlog(4096)
        .h2c_prior_knowledge()
        .bind(("127.0.0.1", args.port))?
        .run()
        .wait()
}
