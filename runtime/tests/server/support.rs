//! A hand-written router and clients for the server tests.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use mambo::response::StreamBody;
use mambo::{ConnInfo, Error, IntoResponse, Request, Response, RouteInfo, Router, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

/// The longest any single step of a test may take.
pub const STEP: Duration = Duration::from_secs(10);

/// Runs `future` or fails the test after [`STEP`].
pub async fn bounded<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(STEP, future).await.expect("the test step timed out")
}

/// A router with a few behaviours the tests need:
///
/// - `/hello`: `hello`
/// - `/conn`: the `ConnInfo` fields, one per line
/// - `/version`: the request's HTTP version
/// - `/thread`: the name of the thread answering
/// - `/slow?ms=N`: waits N ms, then `slow done`
/// - `/wait`: waits until `release` is notified
/// - `/panic`: panics inside the future; `/panic-now`: panics in `handle` itself
/// - `/echo`: the request body
/// - `/trickle?ms=N`: 10 chunks `.`, one every N ms
/// - `/upload`: reads the body with the `Bytes` extractor (so under the
///   server's body read limits, with its rejections), answers `N bytes`
/// - `/big?kb=N`: N KiB of `x` in one buffer
/// - `/stream?mb=N`: N MiB of `s`, streamed in 64 KiB chunks that are
///   always ready (none of it is held by the handler)
#[derive(Default)]
pub struct App {
    /// Notified when `/slow` or `/wait` starts.
    pub entered: Arc<Notify>,
    /// Lets `/wait` answer.
    pub release: Arc<Notify>,
    /// How many `/big` handlers ran.
    pub big_served: Arc<std::sync::atomic::AtomicUsize>,
}

impl Router for App {
    fn routes(&self) -> &'static [RouteInfo] {
        &[]
    }

    fn handle(
        &self,
        request: Request,
        conn: ConnInfo,
    ) -> impl Future<Output = Response> + Send + '_ {
        if request.uri().path() == "/panic-now" {
            panic!("panicked before the future");
        }
        async move {
            let path = request.uri().path().to_owned();
            match path.as_str() {
                "/hello" => "hello".into_response(),
                "/conn" => format!(
                    "remote={}\nlocal={}\nsecure={}\nbody_limit={}\ntimeout={:?}\n",
                    conn.remote_addr.unwrap(),
                    conn.local_addr.unwrap(),
                    conn.secure,
                    conn.default_body_limit,
                    conn.default_timeout,
                )
                .into_response(),
                "/version" => format!("{:?}", request.version()).into_response(),
                "/thread" => {
                    std::thread::current().name().unwrap_or("unnamed").to_owned().into_response()
                }
                "/slow" => {
                    let ms = query_ms(&request).unwrap_or(100);
                    self.entered.notify_one();
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    "slow done".into_response()
                }
                "/wait" => {
                    self.entered.notify_one();
                    self.release.notified().await;
                    "released".into_response()
                }
                "/trickle" => {
                    let every = Duration::from_millis(query_ms(&request).unwrap_or(100));
                    StreamBody(Trickle { left: 10, every, sleep: None }).into_response()
                }
                "/panic" => panic!("panicked in the future"),
                "/upload" => {
                    let (parts, body) = request.into_parts();
                    let cx = mambo::RequestContext::new(parts, &(), conn, None);
                    match <Bytes as mambo::extract::FromRequest<()>>::from_request(&cx, body).await
                    {
                        Ok(bytes) => format!("{} bytes", bytes.len()).into_response(),
                        Err(rejection) => rejection.into_response(),
                    }
                }
                "/big" => {
                    self.big_served.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let kb = request
                        .uri()
                        .query()
                        .and_then(|q| q.strip_prefix("kb="))
                        .and_then(|kb| kb.parse().ok())
                        .unwrap_or(100);
                    vec![b'x'; kb * 1024].into_response()
                }
                "/stream" => {
                    let mb: usize = request
                        .uri()
                        .query()
                        .and_then(|q| q.strip_prefix("mb="))
                        .and_then(|mb| mb.parse().ok())
                        .unwrap_or(1);
                    StreamBody(Chunks { left: mb * 16 }).into_response()
                }
                "/echo" => {
                    let body = request.into_body().collect().await.unwrap().to_bytes();
                    String::from_utf8(body.to_vec()).unwrap().into_response()
                }
                _ => Error::not_found().into_response(),
            }
        }
    }
}

/// The `N` of a `?ms=N` query.
fn query_ms(request: &Request) -> Option<u64> {
    request.uri().query()?.strip_prefix("ms=")?.parse().ok()
}

/// A body of `left` one-byte chunks, one every `every`.
struct Trickle {
    left: u32,
    every: Duration,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl futures_core::Stream for Trickle {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        let every = self.every;
        let sleep = self.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep(every)));
        ready!(sleep.as_mut().poll(cx));
        self.sleep = None;
        self.left -= 1;
        Poll::Ready(Some(Ok(Bytes::from_static(b"."))))
    }
}

/// `left` chunks of 64 KiB of `s`, each ready when asked for.
struct Chunks {
    left: usize,
}

impl futures_core::Stream for Chunks {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        static CHUNK: [u8; 64 * 1024] = [b's'; 64 * 1024];
        if self.left == 0 {
            return Poll::Ready(None);
        }
        self.left -= 1;
        Poll::Ready(Some(Ok(Bytes::from_static(&CHUNK))))
    }
}

/// A server running in the background until [`TestServer::stop`].
pub struct TestServer {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<io::Result<()>>,
}

impl TestServer {
    /// Listens on 127.0.0.1 port 0 with `configure`'s settings and serves `app`.
    pub fn start<R: Router>(configure: impl FnOnce(Server) -> Server, app: R) -> Self {
        let (stop, stopped) = oneshot::channel::<()>();
        let server = configure(Server::bind("127.0.0.1:0")).with_graceful_shutdown(async {
            let _ = stopped.await;
        });
        let listening = server.listen().expect("listen");
        let addr = listening.local_addr();
        assert_ne!(addr.port(), 0);
        TestServer { addr, stop: Some(stop), task: tokio::spawn(listening.serve(app)) }
    }

    /// Starts the graceful shutdown and returns its handle without waiting.
    pub fn trigger_stop(&mut self) {
        let _ = self.stop.take().expect("stopped twice").send(());
    }

    /// Whether `serve` has returned.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Waits for `serve` to return.
    pub async fn join(self) -> io::Result<()> {
        bounded(self.task).await.expect("serve panicked")
    }

    /// Shuts down and waits for `serve` to return.
    pub async fn stop(mut self) -> io::Result<()> {
        self.trigger_stop();
        self.join().await
    }
}

/// A response with its body read.
#[derive(Debug)]
pub struct Answer {
    pub status: http::StatusCode,
    pub headers: http::HeaderMap,
    pub version: http::Version,
    pub body: String,
}

async fn read_answer(response: http::Response<hyper::body::Incoming>) -> Answer {
    let (parts, body) = response.into_parts();
    let body = bounded(body.collect()).await.expect("read body").to_bytes();
    Answer {
        status: parts.status,
        headers: parts.headers,
        version: parts.version,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

fn get(path: &str) -> http::Request<Empty<Bytes>> {
    http::Request::get(path).header(http::header::HOST, "localhost").body(Empty::new()).unwrap()
}

/// An HTTP/1.1 client on one connection.
pub struct H1(hyper::client::conn::http1::SendRequest<Empty<Bytes>>);

impl H1 {
    pub async fn connect(addr: SocketAddr) -> Self {
        let stream = bounded(TcpStream::connect(addr)).await.expect("connect");
        Self::over(stream).await
    }

    pub async fn over<T>(io: T) -> Self
    where
        T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (sender, conn) = bounded(hyper::client::conn::http1::handshake(TokioIo::new(io)))
            .await
            .expect("http1 handshake");
        tokio::spawn(conn);
        H1(sender)
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        self.try_get(path).await.expect("request failed")
    }

    pub async fn try_get(&mut self, path: &str) -> Result<Answer, hyper::Error> {
        bounded(self.0.ready()).await?;
        let response = bounded(self.0.send_request(get(path))).await?;
        Ok(read_answer(response).await)
    }

    /// Whether the connection was closed by the server.
    pub fn is_closed(&self) -> bool {
        self.0.is_closed()
    }
}

/// An HTTP/2 client on one connection.
#[derive(Clone)]
pub struct H2(hyper::client::conn::http2::SendRequest<Empty<Bytes>>);

impl H2 {
    pub async fn connect(addr: SocketAddr) -> Self {
        let stream = bounded(TcpStream::connect(addr)).await.expect("connect");
        Self::over(stream).await
    }

    pub async fn over<T>(io: T) -> Self
    where
        T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (sender, conn) =
            bounded(hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(io)))
                .await
                .expect("http2 handshake");
        tokio::spawn(conn);
        H2(sender)
    }

    /// Whether the server has closed the connection.
    pub async fn is_closed(&mut self) -> bool {
        bounded(self.0.ready()).await.is_err() || self.0.is_closed()
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let mut request = get(path);
        *request.uri_mut() = format!("http://localhost{path}").parse().unwrap();
        bounded(self.0.ready()).await.expect("http2 ready");
        let response = bounded(self.0.send_request(request)).await.expect("request failed");
        read_answer(response).await
    }
}

/// Writes `request` in one go and reads until the server closes the
/// connection.
pub async fn raw(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = bounded(TcpStream::connect(addr)).await.expect("connect");
    bounded(stream.write_all(request)).await.expect("write");
    let mut out = Vec::new();
    bounded(stream.read_to_end(&mut out)).await.expect("read");
    String::from_utf8(out).unwrap()
}

/// Reads from `stream` until EOF or a reset, and returns what was read.
pub async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// Waits until `notify` fires, bounded.
pub async fn entered(notify: &Notify) {
    bounded(notify.notified()).await;
}
