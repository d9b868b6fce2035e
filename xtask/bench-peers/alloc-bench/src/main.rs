//! `alloc-bench [--requests N]`: allocations and bytes per request on the
//! server side of a real keep-alive HTTP/1.1 connection, per endpoint.
//!
//! The server runs on its own thread (a current-thread runtime serving one
//! accepted 127.0.0.1 connection with the real hyper connection code); only
//! allocations made on that thread are counted, so the client's never are.
//! Output is TSV: `server endpoint requests allocs_per_req bytes_per_req`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

#[cfg(feature = "mambo")]
mod mambo;

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

thread_local! {
    // `const` init: reading it never allocates, so it is safe inside the allocator.
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}

fn count(size: usize) {
    if COUNTED.with(Cell::get) {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(size as u64, Relaxed);
    }
}

// SAFETY: forwards every call to `System` unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: forwarded contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The endpoints measured: name and the concrete requests cycled through.
fn endpoints() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    let github = peer_common::github_requests().into_iter().map(|l| (l.method, l.path)).collect();
    vec![
        ("plaintext", vec![("GET", "/plaintext")]),
        ("json", vec![("GET", "/json")]),
        ("user-post", vec![("GET", "/user/42/post/hello-world")]),
        ("ping", vec![("GET", "/ping")]),
        ("github", github),
    ]
}

/// Serves exactly one connection on a fresh thread with `serve`, counting
/// only while the client says so; returns (allocs, bytes) per request.
fn measure<F, Fut>(serve: F, requests: &[(&'static str, &'static str)], n: usize) -> (f64, f64)
where
    F: FnOnce(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    std_listener.set_nonblocking(true).expect("nonblocking");
    let addr = std_listener.local_addr().expect("addr");
    let server = std::thread::spawn(move || {
        let rt =
            tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async move {
            let listener = TcpListener::from_std(std_listener).expect("listener");
            let (stream, _) = listener.accept().await.expect("accept");
            COUNTED.with(|c| c.set(true));
            serve(stream).await;
            COUNTED.with(|c| c.set(false));
        });
    });
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let counts = rt.block_on(async move {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(stream))
                .await
                .expect("handshake");
        tokio::spawn(conn);
        let mut send = async |i: usize| {
            let (method, path) = requests[i % requests.len()];
            let req = Request::builder()
                .method(method)
                .uri(path)
                .header("host", "127.0.0.1")
                .body(Empty::new());
            let res = sender.send_request(req.expect("request")).await.expect("response");
            assert!(res.status().is_success(), "{method} {path}: {}", res.status());
            res.into_body().collect().await.expect("body");
        };
        // Warm-up: connection buffers, lazily built routers, pools.
        for i in 0..requests.len().max(100) {
            send(i).await;
        }
        let before = (ALLOCS.load(Relaxed), BYTES.load(Relaxed));
        for i in 0..n {
            send(i).await;
        }
        let after = (ALLOCS.load(Relaxed), BYTES.load(Relaxed));
        (after.0 - before.0, after.1 - before.1)
    });
    // Dropping the client runtime closes the connection, which ends the server thread.
    drop(rt);
    server.join().expect("server thread");
    (counts.0 as f64 / n as f64, counts.1 as f64 / n as f64)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n = args
        .iter()
        .position(|a| a == "--requests")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000usize);
    println!("server\tendpoint\trequests\tallocs_per_req\tbytes_per_req");
    for (endpoint, requests) in endpoints() {
        let (allocs, bytes) = measure(raw_hyper::serve_connection, &requests, n);
        println!("raw-hyper\t{endpoint}\t{n}\t{allocs:.3}\t{bytes:.1}");
        #[cfg(feature = "mambo")]
        {
            let (allocs, bytes) = measure(mambo::serve_connection, &requests, n);
            println!("mambo\t{endpoint}\t{n}\t{allocs:.3}\t{bytes:.1}");
        }
    }
}
