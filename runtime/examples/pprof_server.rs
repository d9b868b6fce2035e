//! A server to profile: CPU and heap profiles behind a bearer token, and
//! routes that burn CPU and keep memory, so the profiles have something in
//! them.
//!
//! ```text
//! PPROF_TOKEN=$(head -c 24 /dev/urandom | base64) \
//!     cargo run --release -p mambo --features pprof-heap --example pprof_server -- 127.0.0.1:8080
//! curl -H "authorization: Bearer $PPROF_TOKEN" -o cpu.pb.gz \
//!     'http://127.0.0.1:8080/debug/pprof/profile?seconds=5'   # meanwhile, load /work
//! go tool pprof -top cpu.pb.gz
//! curl -H "authorization: Bearer $PPROF_TOKEN" -o heap.pb.gz http://127.0.0.1:8080/debug/pprof/heap
//! go tool pprof -top heap.pb.gz
//! ```
//!
//! Without `PPROF_TOKEN` (at least 32 characters) the profile routes answer
//! 401 to everyone.

use std::hint::black_box;
use std::sync::Mutex;

use mambo::observe::pprof::{self, ProfileParams};
use mambo::prelude::*;

mambo::observe::pprof::jemalloc_heap_profiling!();

/// Lets a request through only with `authorization: Bearer $PPROF_TOKEN`.
struct RequireToken {
    expected: Option<String>,
}

impl RequireToken {
    fn from_env() -> Self {
        let token = std::env::var("PPROF_TOKEN").ok().filter(|token| token.len() >= 32);
        RequireToken { expected: token.map(|token| format!("Bearer {token}")) }
    }
}

impl<S: Sync> Middleware<S> for RequireToken {
    type Local = ();

    async fn before(&self, cx: &mut RequestContext<'_, S>, _: &mut ()) -> Flow {
        let given = cx.headers().get("authorization").map(|value| value.as_bytes());
        match (&self.expected, given) {
            // Every byte compared, so the time taken does not tell how much
            // of a guess was right.
            (Some(expected), Some(given))
                if expected.len() == given.len()
                    && expected.bytes().zip(given).fold(0, |diff, (a, b)| diff | (a ^ b)) == 0 =>
            {
                Flow::Continue
            }
            _ => Flow::Respond(
                Error::new(StatusCode::UNAUTHORIZED, "a valid bearer token is needed")
                    .into_response(),
            ),
        }
    }
}

#[route(GET "/profile", timeout = "330s")]
async fn profile(Query(params): Query<ProfileParams>) -> Response {
    pprof::cpu_profile(params).await
}

#[route(GET "/heap")]
async fn heap() -> Response {
    pprof::heap_profile().await
}

/// CPU work for the CPU profile: a few milliseconds of arithmetic.
#[inline(never)]
fn spin_the_cpu(rounds: u64) -> u64 {
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    for i in 0..rounds {
        x = black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i));
        x ^= x >> 29;
    }
    x
}

#[route(GET "/work")]
fn work() -> String {
    spin_the_cpu(2_000_000).to_string()
}

/// Memory for the heap profile: 1 MiB more on each call, kept.
#[inline(never)]
fn keep_a_mebibyte() -> usize {
    static KEPT: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
    let mut kept = KEPT.lock().unwrap();
    kept.push(black_box(vec![1; 1 << 20]));
    kept.len()
}

#[route(POST "/keep")]
fn keep() -> String {
    format!("{} MiB kept\n", keep_a_mebibyte())
}

mambo::router! {
    pub struct App {
        routes: [work, keep],
        scope "/debug/pprof" {
            middleware: [RequireToken = RequireToken::from_env()],
            routes: [profile, heap],
        },
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    mambo::Server::bind(addr).serve(App::new()).await
}
