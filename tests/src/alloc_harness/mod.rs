//! Exact allocations per request on the server side of a real HTTP/1.1
//! connection: Mambo's server, without and with one tower layer, vs a raw
//! hyper service doing the same work.
//!
//! # What is measured
//!
//! For one endpoint, one keep-alive HTTP/1.1 connection is opened over an
//! in-memory [`tokio::io::duplex`] pipe. On one end a server serves it:
//!
//! - **Mambo**: the [`Hello`] router served by
//!   [`mambo::server::serve_connection`], which runs the same per-connection
//!   code as the server's accept loop (hyper-util's HTTP/1.1 + HTTP/2
//!   builder with the server's timers and limits, the in-flight limit, panic
//!   isolation, tracing hooks, the generated dispatch, the handler, the
//!   response conversion);
//! - **Mambo behind one tower layer**: [`BenchLayerApi`], what
//!   `mambo-bench-server-layer` serves (the hello endpoints and the GitHub
//!   set behind tower-http's `SetResponseHeaderLayer::if_not_present`), the
//!   same way; [`BenchApi`], the same routes without the layer, allocates
//!   exactly what [`Hello`] does (a test holds this), so the difference is
//!   the layer's;
//! - **raw hyper**: `hyper::server::conn::http1::Builder` with a
//!   `service_fn` that matches on the path and builds the same responses the
//!   natural raw-hyper way (`Bytes::from_static`, `serde_json::to_vec`,
//!   `format!`, a `content-type` header from a static value).
//!
//! On the other end a client task writes raw request bytes and reads each
//! response whole (by `content-length`) before sending the next request, so
//! hyper's real parsing, dispatch and encoding run for every request.
//!
//! # How it is counted
//!
//! The binary installs [`CountingAllocator`] as its `#[global_allocator]`.
//! It counts a call (`alloc`, `alloc_zeroed`, `realloc`; `realloc` counts as
//! one allocation of the new size) only while the calling thread is inside
//! a *counted scope*. The server's connection future is wrapped so that
//! every poll of it is a counted scope; nothing else is. Client and server
//! run as two tasks on one current-thread runtime, so:
//!
//! - the client's allocations are never counted (it never runs inside a
//!   poll of the server future), whatever it does;
//! - everything the server does for a request happens inside its polls:
//!   when the client's read completes, the server has already run until it
//!   waits for the next request head (one thread: the client cannot be
//!   polled while the server is).
//!
//! The client reads the counters after each response: the difference
//! between two reads is one request cycle of the server (the tail of the
//! previous request after its response was written, which in steady state is
//! the same for every request, plus the next request up to its response).
//! The warm-up lets hyper's buffers, the pooled response buffer and the
//! runtime's queues reach their steady size first.
//!
//! One thing depends on the wall clock: hyper caches the `Date` header and
//! renders it anew (one 29-byte allocation, on both servers) in the first
//! response of each second. That request is the one during which the wall
//! clock's second changed, or the next one (when the second changed after
//! the server's last look at the clock but before the client's); both are
//! left out of the counts (and reported in [`Measured::excluded`]). Everything
//! else is exact, so the numbers are the same on every run. Measurements are serialized by a process-wide lock, so
//! tests running in parallel do not mix their counts.
//!
//! Set `MAMBO_ALLOC_TRACE=N` to print a backtrace for each of the first `N`
//! counted allocations inside measured windows (debugging aid).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard, Once, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use mambo_examples::hello::{Hello, Message, Status};
use mambo_github_router::bench::{BenchApi, BenchLayerApi, BenchMetricsApi};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

/// Allocations counted in counted scopes, all threads.
static ALLOCS: AtomicU64 = AtomicU64::new(0);
/// Bytes requested by those allocations.
static BYTES: AtomicU64 = AtomicU64::new(0);
/// Backtraces still to print (`MAMBO_ALLOC_TRACE`).
static TRACE_LEFT: AtomicUsize = AtomicUsize::new(0);
/// Whether `TRACE_LEFT` was read from the environment.
static TRACE_INIT: Once = Once::new();
/// Serializes measurements: the counters are process-wide.
static LOCK: Mutex<()> = Mutex::new(());
/// Set by [`count`] to prove the allocator is installed.
static SEEN: AtomicBool = AtomicBool::new(false);

thread_local! {
    // `const`-initialized `Cell`s without destructors: reading them never
    // allocates or registers anything, so the allocator may use them.
    /// Inside a counted scope.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    /// Inside a measured window (backtraces are printed only there).
    static WINDOW: Cell<bool> = const { Cell::new(false) };
    /// Printing a backtrace (its own allocations are not counted).
    static TRACING: Cell<bool> = const { Cell::new(false) };
}

/// A global allocator that forwards to [`System`] and counts the
/// allocations (and their bytes) made inside counted scopes.
///
/// A binary that uses this module must install it:
///
/// ```ignore
/// #[global_allocator]
/// static GLOBAL: mambo_tests::alloc_harness::CountingAllocator =
///     mambo_tests::alloc_harness::CountingAllocator;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct CountingAllocator;

impl CountingAllocator {
    #[inline]
    fn record(size: usize) {
        // `try_with`: thread-locals may be gone while a thread exits.
        if COUNTING.try_with(Cell::get).unwrap_or(false) {
            SEEN.store(true, Relaxed);
            ALLOCS.fetch_add(1, Relaxed);
            BYTES.fetch_add(size as u64, Relaxed);
            if TRACE_LEFT.load(Relaxed) > 0 && WINDOW.try_with(Cell::get).unwrap_or(false) {
                trace(size);
            }
        }
    }
}

/// Prints where a counted allocation came from; its own allocations are
/// made outside the counted scope.
#[cold]
fn trace(size: usize) {
    if TRACING.try_with(Cell::get).unwrap_or(true) {
        return;
    }
    if TRACE_LEFT.fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1)).is_err() {
        return;
    }
    TRACING.set(true);
    let counting = COUNTING.replace(false);
    let backtrace = std::backtrace::Backtrace::force_capture();
    eprintln!("counted allocation of {size} bytes:\n{backtrace}");
    COUNTING.set(counting);
    TRACING.set(false);
}

// SAFETY: every call is forwarded to `System` unchanged; counting only
// touches atomics and allocation-free thread-locals.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Self::record(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Self::record(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        Self::record(new_size);
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocation counts over some number of requests (or a [`count`] call).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Requests in the window (0 for a plain [`count`]).
    pub requests: u64,
    /// Allocations (`realloc` included).
    pub allocs: u64,
    /// Bytes those allocations asked for.
    pub bytes: u64,
}

impl Counts {
    /// Allocations per request.
    pub fn allocs_per_request(&self) -> f64 {
        self.allocs as f64 / self.requests.max(1) as f64
    }

    /// Bytes allocated per request.
    pub fn bytes_per_request(&self) -> f64 {
        self.bytes as f64 / self.requests.max(1) as f64
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.2} allocs/req, {:.1} bytes/req ({} allocs, {} bytes over {} requests)",
            self.allocs_per_request(),
            self.bytes_per_request(),
            self.allocs,
            self.bytes,
            self.requests
        )
    }
}

fn snapshot() -> (u64, u64) {
    (ALLOCS.load(Relaxed), BYTES.load(Relaxed))
}

fn lock() -> MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Marks the current thread as counted until dropped (restoring the previous
/// state, also on unwind).
struct Scope(bool);

impl Scope {
    fn enter() -> Self {
        Scope(COUNTING.replace(true))
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        COUNTING.set(self.0);
    }
}

/// Runs `f` and counts the allocations it makes on this thread.
///
/// # Panics
///
/// If `f` panics.
pub fn count<T>(f: impl FnOnce() -> T) -> (T, Counts) {
    let _lock = lock();
    let before = snapshot();
    let value = {
        let _scope = Scope::enter();
        f()
    };
    let after = snapshot();
    (value, Counts { requests: 0, allocs: after.0 - before.0, bytes: after.1 - before.1 })
}

/// Panics unless [`CountingAllocator`] is the global allocator.
fn assert_installed() {
    if !SEEN.load(Relaxed) {
        let _scope = Scope::enter();
        drop(std::hint::black_box(Box::new(0u64)));
    }
    assert!(
        SEEN.load(Relaxed),
        "alloc_harness needs `#[global_allocator] static A: CountingAllocator = CountingAllocator;` in the binary"
    );
}

/// A future whose polls are counted scopes.
struct Counted<F>(Pin<Box<F>>);

impl<F: Future> Future for Counted<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _scope = Scope::enter();
        self.0.as_mut().poll(cx)
    }
}

/// An endpoint of the hello app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// Its name in reports: `plaintext`, `json`, `user-post`, `ping`.
    pub name: &'static str,
    /// The path requested.
    pub path: &'static str,
    /// The expected `content-type`.
    pub content_type: &'static str,
    /// The expected body.
    pub body: &'static str,
}

/// The endpoints measured.
pub const ENDPOINTS: [Endpoint; 4] = [
    Endpoint {
        name: "plaintext",
        path: "/plaintext",
        content_type: "text/plain; charset=utf-8",
        body: "Hello, World!",
    },
    Endpoint {
        name: "json",
        path: "/json",
        content_type: "application/json",
        body: r#"{"message":"Hello, World!"}"#,
    },
    Endpoint {
        name: "user-post",
        path: "/user/42/post/hello-world",
        content_type: "text/plain; charset=utf-8",
        body: "user 42 post hello-world",
    },
    Endpoint {
        name: "ping",
        path: "/ping",
        content_type: "application/json",
        body: r#"{"status":"ok"}"#,
    },
];

/// Warm-up requests before each measured window.
pub const WARMUP: usize = 200;

impl Endpoint {
    /// The endpoint called `name` (see [`ENDPOINTS`]).
    pub fn named(name: &str) -> Option<Endpoint> {
        ENDPOINTS.into_iter().find(|e| e.name == name)
    }

    /// The raw request sent for this endpoint.
    pub fn request(&self) -> Vec<u8> {
        format!("GET {} HTTP/1.1\r\nhost: localhost\r\n\r\n", self.path).into_bytes()
    }
}

/// Mambo's server on one connection: the hello app through the runtime's own
/// per-connection serving function.
pub async fn serve_mambo(io: DuplexStream) {
    mambo::server::serve_connection(io, Hello::new()).await;
}

/// [`BenchLayerApi`] on one connection: `mambo-bench-server-layer`'s
/// router (the hello endpoints and the GitHub set behind one tower-http
/// layer), served like [`serve_mambo`].
pub async fn serve_mambo_layer(io: DuplexStream) {
    mambo::server::serve_connection(io, BenchLayerApi::new()).await;
}

/// [`BenchMetricsApi`] on one connection: `mambo-bench-server-metrics`'s
/// router (the same routes recording per-route metrics), served like
/// [`serve_mambo`].
pub async fn serve_mambo_metrics(io: DuplexStream) {
    mambo::server::serve_connection(io, BenchMetricsApi::new()).await;
}

/// [`BenchApi`] on one connection: `mambo-bench-server`'s router, the routes
/// of [`serve_mambo_layer`] without the layer.
pub async fn serve_bench(io: DuplexStream) {
    mambo::server::serve_connection(io, BenchApi::new()).await;
}

/// Raw hyper on one connection: `http1::Builder` + `service_fn`, the same
/// endpoints written by hand.
pub async fn serve_raw_hyper(io: DuplexStream) {
    let service = hyper::service::service_fn(raw_hyper_service);
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(io), service)
        .await;
}

const TEXT_PLAIN: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");
const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

fn raw_response(content_type: HeaderValue, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    response.headers_mut().insert(CONTENT_TYPE, content_type);
    response
}

/// The raw hyper service: what a hand-written hyper app does for the hello
/// endpoints.
pub async fn raw_hyper_service(
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if request.method() != Method::GET {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        return Ok(response);
    }
    let path = request.uri().path();
    let response = match path {
        "/plaintext" => raw_response(TEXT_PLAIN, Bytes::from_static(b"Hello, World!")),
        "/json" => {
            let body =
                serde_json::to_vec(&Message { message: "Hello, World!" }).expect("serializable");
            raw_response(APPLICATION_JSON, Bytes::from(body))
        }
        "/ping" => {
            let body = serde_json::to_vec(&Status { status: "ok" }).expect("serializable");
            raw_response(APPLICATION_JSON, Bytes::from(body))
        }
        _ => match user_post(path) {
            Some((id, slug)) => {
                raw_response(TEXT_PLAIN, Bytes::from(format!("user {id} post {slug}")))
            }
            None => {
                let mut response = Response::new(Full::new(Bytes::new()));
                *response.status_mut() = StatusCode::NOT_FOUND;
                response
            }
        },
    };
    Ok(response)
}

/// `/user/{id}/post/{slug}` with a numeric id.
fn user_post(path: &str) -> Option<(u64, &str)> {
    let (id, slug) = path.strip_prefix("/user/")?.split_once("/post/")?;
    let id = id.parse().ok()?;
    (!slug.is_empty() && !slug.contains('/')).then_some((id, slug))
}

/// One measurement: the counts in the window and the first response (head
/// and body, as sent) for checking what was served.
#[derive(Debug, Clone)]
pub struct Measured {
    /// Allocations over the measured requests, the excluded ones left out.
    pub counts: Counts,
    /// Measured requests left out because the wall clock's second changed
    /// while they or the request before them were served (hyper re-renders
    /// its `Date` header then).
    pub excluded: u64,
    /// How many measured requests made how many allocations:
    /// `(allocations, requests)`, by allocations (excluded ones included).
    pub histogram: Vec<(u64, u64)>,
    /// The first response, raw.
    pub first_response: Vec<u8>,
}

/// Serves one duplex connection with `serve` on a fresh current-thread
/// runtime, sends `warmup` then `requests` copies of `request`, and counts
/// the server's allocations over the last `requests` (see the
/// [module docs](self)).
///
/// # Panics
///
/// If [`CountingAllocator`] is not the global allocator, or a response is
/// not a complete HTTP/1.1 response with a `content-length`.
pub fn measure_server<F, Fut>(serve: F, request: &[u8], warmup: usize, requests: usize) -> Measured
where
    F: FnOnce(DuplexStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let _lock = lock();
    assert_installed();
    TRACE_INIT.call_once(|| {
        let n = std::env::var("MAMBO_ALLOC_TRACE").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
        TRACE_LEFT.store(n, Relaxed);
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let (mut client, server_io) = tokio::io::duplex(64 * 1024);
        let server = tokio::spawn(Counted(Box::pin(serve(server_io))));
        // All client buffers are made before the first request; the client
        // is not counted anyway, this only keeps its work the same for every
        // server.
        let mut buf = vec![0u8; 64 * 1024];
        let mut first_response = Vec::new();
        let mut per_request: Vec<(u64, u64, bool)> = Vec::with_capacity(requests);
        let mut before = snapshot();
        // The wall clock's second after the previous two responses.
        let mut seconds = [unix_second(); 2];
        for i in 0..warmup + requests {
            if i == warmup {
                WINDOW.set(true);
            }
            client.write_all(request).await.expect("write a request");
            let len = read_response(&mut client, &mut buf).await;
            let after = snapshot();
            let now = unix_second();
            if i >= warmup {
                let second_changed = now != seconds[1] || seconds[1] != seconds[0];
                per_request.push((after.0 - before.0, after.1 - before.1, second_changed));
            }
            if i == 0 {
                first_response = buf[..len].to_vec();
            }
            (before, seconds) = (after, [seconds[1], now]);
        }
        WINDOW.set(false);
        drop(client);
        server.await.expect("the server task panicked");

        let mut counts = Counts::default();
        let mut excluded = 0;
        let mut histogram: Vec<(u64, u64)> = Vec::new();
        for &(allocs, bytes, second_changed) in &per_request {
            match histogram.iter_mut().find(|(a, _)| *a == allocs) {
                Some((_, n)) => *n += 1,
                None => histogram.push((allocs, 1)),
            }
            if second_changed {
                excluded += 1;
            } else {
                counts.requests += 1;
                counts.allocs += allocs;
                counts.bytes += bytes;
            }
        }
        histogram.sort_unstable();
        Measured { counts, excluded, histogram, first_response }
    })
}

/// The wall clock's second, as hyper's `Date` cache sees it.
fn unix_second() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Reads one response into `buf`; returns its length.
async fn read_response(io: &mut DuplexStream, buf: &mut [u8]) -> usize {
    let mut filled = 0;
    let (head_end, body_len) = loop {
        let n = io.read(&mut buf[filled..]).await.expect("read a response");
        assert!(n > 0, "the server closed the connection");
        filled += n;
        if let Some(end) = buf[..filled].windows(4).position(|w| w == b"\r\n\r\n") {
            break (end + 4, content_length(&buf[..end]));
        }
    };
    let total = head_end + body_len;
    while filled < total {
        let n = io.read(&mut buf[filled..total]).await.expect("read a response body");
        assert!(n > 0, "the server closed the connection mid-body");
        filled += n;
    }
    assert_eq!(filled, total, "the server sent more than one response");
    total
}

/// The `content-length` of a response head.
fn content_length(head: &[u8]) -> usize {
    head.split(|&b| b == b'\n')
        .find_map(|line| {
            let colon = line.iter().position(|&b| b == b':')?;
            let (name, value) = line.split_at(colon);
            name.eq_ignore_ascii_case(b"content-length")
                .then(|| std::str::from_utf8(&value[1..]).ok()?.trim().parse().ok())
                .flatten()
        })
        .expect("a response with content-length")
}

/// A response split into what both servers must agree on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// `HTTP/1.1 200 OK`.
    pub status_line: String,
    /// The `content-type` header, if any.
    pub content_type: Option<String>,
    /// The body.
    pub body: String,
}

/// Splits a raw response.
///
/// # Panics
///
/// If it is not a response head followed by a UTF-8 body.
pub fn parse(raw: &[u8]) -> Parsed {
    let text = std::str::from_utf8(raw).expect("a UTF-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("a response head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default().to_owned();
    let content_type = lines.find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-type").then(|| value.trim().to_owned())
    });
    Parsed { status_line, content_type, body: body.to_owned() }
}

/// Mambo's (without and with one tower layer) and raw hyper's numbers for
/// one endpoint.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// Mambo's server.
    pub mambo: Measured,
    /// Mambo's server, the routes behind one tower layer.
    pub mambo_layer: Measured,
    /// Mambo's server, the routes recording per-route metrics.
    pub mambo_metrics: Measured,
    /// The raw hyper service.
    pub raw_hyper: Measured,
}

/// Measures `endpoint` on Mambo, on Mambo behind one tower layer, on Mambo
/// recording metrics and on raw
/// hyper, `requests` requests each after [`WARMUP`].
pub fn compare(endpoint: Endpoint, requests: usize) -> Comparison {
    let request = endpoint.request();
    let mambo = measure_server(serve_mambo, &request, WARMUP, requests);
    let mambo_layer = measure_server(serve_mambo_layer, &request, WARMUP, requests);
    let mambo_metrics = measure_server(serve_mambo_metrics, &request, WARMUP, requests);
    let raw_hyper = measure_server(serve_raw_hyper, &request, WARMUP, requests);
    Comparison { endpoint, mambo, mambo_layer, mambo_metrics, raw_hyper }
}

/// Allocations per request on the endpoint called `endpoint` (see
/// [`ENDPOINTS`]), over `requests` requests after [`WARMUP`], by server:
/// `mambo`, `mambo+layer`, `mambo+metrics` and `raw-hyper`. For the `xtask bench alloc`
/// suite; the calling binary must install [`CountingAllocator`].
///
/// # Panics
///
/// If `endpoint` is not one of [`ENDPOINTS`], or as [`measure_server`].
pub fn measure(endpoint: &str, requests: usize) -> [(&'static str, Counts); 4] {
    let endpoint =
        Endpoint::named(endpoint).unwrap_or_else(|| panic!("unknown endpoint {endpoint:?}"));
    let c = compare(endpoint, requests);
    [
        ("mambo", c.mambo.counts),
        ("mambo+layer", c.mambo_layer.counts),
        ("mambo+metrics", c.mambo_metrics.counts),
        ("raw-hyper", c.raw_hyper.counts),
    ]
}

pub mod pipelined;
