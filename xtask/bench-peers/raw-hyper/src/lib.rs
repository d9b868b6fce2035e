//! The raw hyper peer as a library: the request handler and the accept loops,
//! so the `alloc` benchmark can drive the very same code in-process.
//!
//! The four fixed endpoints are a hand-written `match`: the cheapest dispatch
//! there is. A hand-written match over 203 GitHub routes is not a realistic
//! program, so that suite goes through `matchit` plus a per-path method
//! table, the way axum dispatches.

#![deny(missing_docs)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::LazyLock;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use peer_common::{
    APPLICATION_JSON, Args, JSON_MESSAGE, Mode, PING_BODY, PLAINTEXT_BODY, TEXT_PLAIN,
};
use tokio::net::{TcpListener, TcpStream};

/// Per-path method table: `(method, pattern)` pairs.
type Methods = Vec<(&'static str, &'static str)>;

static GITHUB: LazyLock<matchit::Router<Methods>> = LazyLock::new(|| {
    let mut router = matchit::Router::new();
    for (pattern, methods) in peer_common::github_routes_by_path() {
        let table = methods.into_iter().map(|m| (m, pattern)).collect();
        router
            .insert(peer_common::to_braces(pattern), table)
            .expect("GitHub routes do not conflict");
    }
    router
});

#[derive(serde::Serialize)]
struct Message {
    message: &'static str,
}

fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(body.into()));
    *res.status_mut() = status;
    res.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

fn not_found() -> Response<Full<Bytes>> {
    respond(StatusCode::NOT_FOUND, APPLICATION_JSON, r#"{"code":40400,"message":"not found"}"#)
}

/// `/user/:id/post/:slug` without a router: `Some(Err(()))` when `id` is not a `u64`.
fn user_post(path: &str) -> Option<Result<(u64, &str), ()>> {
    let rest = path.strip_prefix("/user/")?;
    let (id, rest) = rest.split_once('/')?;
    let slug = rest.strip_prefix("post/")?;
    if slug.is_empty() || slug.contains('/') || id.is_empty() {
        return None;
    }
    Some(id.parse().map(|id| (id, slug)).map_err(drop))
}

/// Answers one request according to the contract in `README.md`.
pub fn handle<B>(req: &Request<B>) -> Response<Full<Bytes>> {
    let path = req.uri().path();
    if req.method() == Method::GET {
        match path {
            "/plaintext" => return respond(StatusCode::OK, TEXT_PLAIN, PLAINTEXT_BODY),
            "/json" => {
                let body =
                    serde_json::to_vec(&Message { message: JSON_MESSAGE }).expect("serializes");
                return respond(StatusCode::OK, APPLICATION_JSON, body);
            }
            "/ping" => return respond(StatusCode::OK, APPLICATION_JSON, PING_BODY),
            _ => {}
        }
        match user_post(path) {
            Some(Ok((id, slug))) => {
                return respond(StatusCode::OK, TEXT_PLAIN, format!("user {id} post {slug}"));
            }
            Some(Err(())) => return respond(StatusCode::BAD_REQUEST, TEXT_PLAIN, "bad id"),
            None => {}
        }
    }
    let Ok(found) = GITHUB.at(path) else { return not_found() };
    match found.value.iter().find(|(m, _)| *m == req.method().as_str()) {
        Some((_, pattern)) => respond(StatusCode::OK, TEXT_PLAIN, *pattern),
        None => respond(StatusCode::METHOD_NOT_ALLOWED, TEXT_PLAIN, "method not allowed"),
    }
}

async fn service(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(handle(&req))
}

/// Serves one accepted connection, HTTP/1.1 or h2c (prior knowledge), until it closes.
pub async fn serve_connection(stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let builder = Builder::new(TokioExecutor::new());
    let _ = builder.serve_connection(TokioIo::new(stream), service_fn(service)).await;
}

async fn accept_loop(listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(serve_connection(stream));
            }
            // EMFILE and friends: back off instead of spinning.
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(5)).await,
        }
    }
}

fn bind(addr: SocketAddr, reuse_port: bool) -> std::io::Result<std::net::TcpListener> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    if reuse_port {
        socket.set_reuse_port(true)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(4096)?;
    Ok(socket.into())
}

/// Runs the server on 127.0.0.1 with the given options; never returns unless binding fails.
///
/// # Errors
///
/// Returns the error of binding or of building a runtime.
pub fn run(args: Args) -> std::io::Result<()> {
    LazyLock::force(&GITHUB);
    let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
    match args.mode {
        Mode::MultiThread => {
            let listener = bind(addr, false)?;
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(args.threads)
                .enable_all()
                .build()?;
            rt.block_on(async {
                accept_loop(TcpListener::from_std(listener)?).await;
                Ok(())
            })
        }
        Mode::ThreadPerCore => {
            let mut threads = Vec::new();
            for _ in 0..args.threads {
                let listener = bind(addr, true)?;
                threads.push(std::thread::spawn(move || -> std::io::Result<()> {
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                    rt.block_on(async {
                        accept_loop(TcpListener::from_std(listener)?).await;
                        Ok(())
                    })
                }));
            }
            for t in threads {
                t.join().expect("server thread panicked")?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(method: &str, path: &str) -> (u16, String) {
        let req = Request::builder().method(method).uri(path).body(()).unwrap();
        let res = handle(&req);
        let status = res.status().as_u16();
        let body = futures_body(res);
        (status, body)
    }

    fn futures_body(res: Response<Full<Bytes>>) -> String {
        use http_body_util::BodyExt;
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let bytes = rt.block_on(res.into_body().collect()).unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn contract() {
        assert_eq!(get("GET", "/plaintext"), (200, "Hello, World!".into()));
        assert_eq!(get("GET", "/json"), (200, r#"{"message":"Hello, World!"}"#.into()));
        assert_eq!(get("GET", "/ping"), (200, r#"{"status":"ok"}"#.into()));
        assert_eq!(get("GET", "/user/42/post/hello"), (200, "user 42 post hello".into()));
        assert_eq!(get("GET", "/user/x/post/hello").0, 400);
        assert_eq!(get("GET", "/nope").0, 404);
        assert_eq!(get("PATCH", "/authorizations").0, 405);
        for (route, req) in peer_common::github_routes().iter().zip(peer_common::github_requests())
        {
            assert_eq!(get(req.method, req.path), (200, route.path.to_owned()), "{req:?}");
        }
    }
}
