//! CPU profiles over a real socket: a busy server profiled for a second
//! answers a pprof profile that decodes, with samples in the functions that
//! burned the CPU, or a flame graph; bad parameters are 400s, a second
//! profile at the same time a 409, and a client that goes away frees the
//! profiler.

#[path = "pprof/support.rs"]
mod support;

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mambo::observe::pprof::{self, ProfileParams};
use mambo::prelude::*;
use support::{decode, get, serve, stacks};

#[route(GET "/debug/pprof/profile", timeout = "60s")]
async fn profile(Query(params): Query<ProfileParams>) -> Response {
    pprof::cpu_profile(params).await
}

/// CPU work the profile must find by name.
#[inline(never)]
fn burn_cpu_for_the_profile(rounds: u64) -> u64 {
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    for i in 0..rounds {
        x = black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i));
        x ^= x >> 29;
    }
    x
}

#[route(GET "/debug/pprof/heap")]
async fn heap() -> Response {
    pprof::heap_profile().await
}

#[route(GET "/work")]
fn work() -> String {
    burn_cpu_for_the_profile(200_000).to_string()
}

mambo::router! {
    struct App {
        routes: [profile, heap, work],
    }
}

/// The tests that run a profile take turns: the profiler is one per
/// process.
static ONE_PROFILE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Keeps the server busy with `/work` from two clients until dropped.
struct Busy(Arc<AtomicBool>);

impl Busy {
    fn start(addr: SocketAddr) -> Busy {
        let stop = Arc::new(AtomicBool::new(false));
        for _ in 0..2 {
            let stop = stop.clone();
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    assert_eq!(get(addr, "/work").await.status, 200);
                }
            });
        }
        Busy(stop)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_server_profile_decodes_with_its_functions() {
    let _turn = ONE_PROFILE_AT_A_TIME.lock().await;
    let addr = serve(App::new());
    let busy = Busy::start(addr);
    let answer = get(addr, "/debug/pprof/profile?seconds=2&frequency=250").await;
    drop(busy);

    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    assert_eq!(answer.header("content-type"), Some("application/octet-stream"));
    let profile = decode(&answer.body);

    let types: Vec<(&str, &str)> = profile
        .sample_type
        .iter()
        .map(|t| (&*profile.string_table[t.ty as usize], &*profile.string_table[t.unit as usize]))
        .collect();
    assert_eq!(types, [("samples", "count"), ("cpu", "nanoseconds")]);
    assert_eq!(profile.period, 1_000_000_000 / 250);
    assert!(profile.duration_nanos >= 2_000_000_000, "{}", profile.duration_nanos);

    let stacks = stacks(&profile);
    assert!(!stacks.is_empty(), "no samples");
    let total: i64 = profile.sample.iter().map(|sample| sample.value[0]).sum();
    let burning: i64 = profile
        .sample
        .iter()
        .zip(&stacks)
        .filter(|(_, stack)| stack.iter().any(|name| name.contains("burn_cpu_for_the_profile")))
        .map(|(sample, _)| sample.value[0])
        .sum();
    assert!(burning > 0, "no sample in `burn_cpu_for_the_profile` among {total}: {stacks:#?}");
    // The sampling's own frames are cut: no stack ends in the profiler.
    for stack in &stacks {
        let Some(leaf) = stack.first() else { continue };
        assert!(
            !(leaf.contains("perf_signal_handler")
                || leaf.starts_with("backtrace::")
                || leaf.contains("pprof::backtrace::")),
            "the profiler's own frames are in {stack:#?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flamegraph_is_an_svg() {
    let _turn = ONE_PROFILE_AT_A_TIME.lock().await;
    let addr = serve(App::new());
    let busy = Busy::start(addr);
    let answer = get(addr, "/debug/pprof/profile?seconds=1&format=flamegraph").await;
    drop(busy);

    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    assert_eq!(answer.header("content-type"), Some("image/svg+xml"));
    let svg = answer.text();
    assert!(svg.starts_with("<?xml"), "{}", &svg[..svg.len().min(200)]);
    assert!(svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("burn_cpu_for_the_profile"), "the busy function is not in the graph");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_are_400s() {
    let addr = serve(App::new());
    for (query, code) in [
        ("seconds=0", 40012),
        ("seconds=301", 40012),
        ("frequency=0", 40012),
        ("frequency=1001", 40012),
        ("seconds=abc", 40002),
        ("seconds=-1", 40002),
        ("frequency=1.5", 40002),
        ("format=png", 40002),
    ] {
        let answer = get(addr, &format!("/debug/pprof/profile?{query}")).await;
        assert_eq!(answer.status, 400, "{query}: {}", answer.text());
        assert_eq!(answer.header("content-type"), Some("application/json"), "{query}");
        assert_eq!(answer.code(), code, "{query}: {}", answer.text());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_profile_at_the_same_time_is_a_409() {
    let _turn = ONE_PROFILE_AT_A_TIME.lock().await;
    let addr = serve(App::new());
    // Whichever starts first holds the profiler for 2 s, longer than the
    // other takes to arrive.
    let first = tokio::spawn(get(addr, "/debug/pprof/profile?seconds=2"));
    let second = tokio::spawn(get(addr, "/debug/pprof/profile?seconds=2"));
    let (first, second) = (first.await.unwrap(), second.await.unwrap());
    let (ok, conflict) = if first.status == 200 { (first, second) } else { (second, first) };
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
    assert_eq!(conflict.status, 409, "{}", String::from_utf8_lossy(&conflict.body));
    assert_eq!(conflict.code(), 40900);
    assert_eq!(
        conflict.text(),
        r#"{"code":40900,"message":"a CPU profile is already running; try again when it ends"}"#
    );

    // And the profiler is free again afterwards.
    assert_eq!(get(addr, "/debug/pprof/profile?seconds=1").await.status, 200);
}

/// This binary keeps the system allocator: whether Mambo was built with
/// `pprof-heap` or not, there is no heap profile to give.
#[tokio::test]
async fn heap_without_jemalloc_is_a_501() {
    let client = mambo::test::TestClient::new(App::new());
    let response = client.get("/debug/pprof/heap").send().await;
    assert_eq!(response.status(), StatusCode::NOT_IMPLEMENTED, "{}", response.text());
    assert!(response.text().starts_with(r#"{"code":50100,"#), "{}", response.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_goes_away_stops_its_profile() {
    use tokio::io::AsyncWriteExt as _;
    use tokio::net::TcpStream;

    async fn start_long_profile(addr: SocketAddr) -> TcpStream {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request = "GET /debug/pprof/profile?seconds=60 HTTP/1.1\r\nhost: test\r\n\r\n";
        stream.write_all(request.as_bytes()).await.unwrap();
        stream
    }

    let _turn = ONE_PROFILE_AT_A_TIME.lock().await;
    let addr = serve(App::new());
    let mut long = start_long_profile(addr).await;
    // Wait until it runs: then a second one is refused. A probe that ran
    // first made the long one a 409: start that one again.
    let started = Instant::now();
    loop {
        match get(addr, "/debug/pprof/profile?seconds=1&frequency=1").await.status {
            409 => break,
            200 => {
                if long.try_read(&mut [0; 64]).is_ok_and(|read| read > 0) {
                    long = start_long_profile(addr).await;
                }
            }
            status => panic!("probe answered {status}"),
        }
        assert!(started.elapsed() < support::STEP, "the long profile never started");
    }
    drop(long);
    // Once the server sees the connection closed, the profiler is free.
    let started = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let status = get(addr, "/debug/pprof/profile?seconds=1&frequency=1").await.status;
        if status == 200 {
            break;
        }
        assert_eq!(status, 409);
        assert!(started.elapsed() < Duration::from_secs(10), "still running after 10 s");
    }
}
