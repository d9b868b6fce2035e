//! CPU and heap profiles in pprof format, and CPU flame graphs.
//!
//! Two handler helpers, for routes of your own (a `router!` lists only
//! routes of its crate, so Mambo cannot ship the routes themselves):
//!
//! - [`cpu_profile`]: samples the whole process's stacks for `?seconds=N`
//!   (default [`DEFAULT_SECONDS`], at most [`MAX_SECONDS`]) at
//!   `?frequency=F` Hz (default [`DEFAULT_FREQUENCY`], at most
//!   [`MAX_FREQUENCY`]), and answers a gzipped pprof `profile.proto` as Go's
//!   `net/http/pprof` does, or with `?format=flamegraph` an SVG flame graph.
//! - [`heap_profile`] (feature `pprof-heap`): what jemalloc's sampling
//!   profiler holds now (in-use bytes by allocating stack), gzipped pprof.
//!   The application opts in with [`jemalloc_heap_profiling!`], which makes
//!   jemalloc its global allocator with profiling on.
//!
//! Both answer in the form `go tool pprof` reads:
//!
//! ```text
//! go tool pprof -top http://127.0.0.1:8080/debug/pprof/profile?seconds=10
//! go tool pprof -http=:8081 http://127.0.0.1:8080/debug/pprof/heap
//! curl -o cpu.svg 'http://127.0.0.1:8080/debug/pprof/profile?seconds=10&format=flamegraph'
//! ```
//!
//! # Security
//!
//! **Never expose these routes to the public.** A profile names the
//! functions of your binary, the source files they come from and the shape
//! of what it keeps in memory; a CPU profile costs CPU time while it runs
//! (a signal and a stack walk per sample), and anyone who can start one can
//! keep the profiler busy for everyone else. Put the routes in a scope
//! behind an authentication middleware, as below, or serve them on a
//! separate listener bound to a private address.
//!
//! # Examples
//!
//! ```no_run
//! use mambo::observe::pprof::{self, ProfileParams};
//! use mambo::prelude::*;
//!
//! // With the `pprof-heap` feature: jemalloc as the global allocator, with
//! // its heap profiler on (one sample per 512 KiB allocated, on average).
//! # #[cfg(feature = "pprof-heap")]
//! mambo::observe::pprof::jemalloc_heap_profiling!();
//!
//! /// Lets a request through only with `authorization: Bearer <token>`,
//! /// the token read from `PPROF_TOKEN` at startup.
//! struct RequireOpsToken {
//!     expected: Option<String>,
//! }
//!
//! impl RequireOpsToken {
//!     fn from_env() -> Self {
//!         let token = std::env::var("PPROF_TOKEN").ok().filter(|token| token.len() >= 32);
//!         RequireOpsToken { expected: token.map(|token| format!("Bearer {token}")) }
//!     }
//! }
//!
//! impl<S: Sync> Middleware<S> for RequireOpsToken {
//!     type Local = ();
//!
//!     async fn before(&self, cx: &mut RequestContext<'_, S>, _: &mut ()) -> Flow {
//!         let given = cx.headers().get("authorization").map(|value| value.as_bytes());
//!         match (&self.expected, given) {
//!             // Compare every byte, so the time taken does not tell how
//!             // much of a guess was right.
//!             (Some(expected), Some(given)) if expected.len() == given.len()
//!                 && expected.bytes().zip(given).fold(0, |diff, (a, b)| diff | (a ^ b)) == 0 =>
//!             {
//!                 Flow::Continue
//!             }
//!             _ => Flow::Respond(Error::new(StatusCode::UNAUTHORIZED, "unauthorized").into_response()),
//!         }
//!     }
//! }
//!
//! #[route(GET "/")]
//! async fn index() -> &'static str {
//!     "hello"
//! }
//!
//! // The route's deadline must outlast the longest profile (300 s).
//! #[route(GET "/profile", timeout = "330s")]
//! async fn profile(Query(params): Query<ProfileParams>) -> Response {
//!     pprof::cpu_profile(params).await
//! }
//!
//! #[route(GET "/heap")]
//! async fn heap() -> Response {
//!     pprof::heap_profile().await
//! }
//!
//! mambo::router! {
//!     pub struct App {
//!         routes: [index],
//!         scope "/debug/pprof" {
//!             middleware: [RequireOpsToken = RequireOpsToken::from_env()],
//!             routes: [profile, heap],
//!         },
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     mambo::Server::bind("127.0.0.1:8080").serve(App::new()).await
//! }
//! ```
//!
//! # Errors
//!
//! Every failure is Mambo's JSON error (`{"code": …, "message": "…"}`):
//!
//! | status | code | when |
//! |---|---|---|
//! | 400 | 40002 | the query does not deserialize into [`ProfileParams`] (`seconds=abc`, `format=png`) |
//! | 400 | [`PARAM_OUT_OF_RANGE_CODE`] | `seconds` or `frequency` is out of range |
//! | 409 | [`PROFILE_RUNNING_CODE`] | a CPU profile is already running: the profiler is one per process |
//! | 500 | [`PROFILER_FAILED_CODE`] | the profiler could not start, or the report could not be built |
//! | 501 | [`HEAP_PROFILING_OFF_CODE`] | heap profiles: the process does not run jemalloc with profiling on |
//! | 503 | [`HEAP_PROFILING_INACTIVE_CODE`] | heap profiles: jemalloc's profiler is built in but switched off (`prof_active:false`) |
//!
//! # Costs and limits
//!
//! - The CPU profiler is [pprof-rs]: `setitimer(ITIMER_PROF)` sends
//!   `SIGPROF` each time the process has used `1/F` s of CPU (counted over
//!   all its threads), and the handler walks the interrupted thread's stack.
//!   An idle process is not sampled at all: a profile of an idle server is
//!   empty. Linux counts that CPU time in scheduler ticks, so a frequency
//!   above the kernel's tick rate (`CONFIG_HZ`, often 250) gives fewer
//!   samples than asked for, and the CPU time shown (samples × `1/F` s)
//!   falls short by as much.
//! - Only while a profile runs: otherwise no signal, no timer, nothing is
//!   recorded. A client that disconnects stops its profile.
//! - Memory: the first profile makes pprof-rs allocate its sample table,
//!   about 68 MB (16 384 slots of 4 KB, one 128-frame stack each), which
//!   it keeps for the life of the process and replaces at the end of each
//!   profile (so twice that for a moment). Mambo empties the symbolizer's cache of parsed
//!   debug info after each profile (tens of MB, more with full debug
//!   info). A heap profile of the process shows both.
//! - Samples whose interrupted instruction lies in `libc`, `libgcc`,
//!   `libpthread` or the vDSO are dropped (pprof-rs's advice): a signal that
//!   lands inside the unwinder (a panic unwinding, a backtrace being taken)
//!   would walk the stack with the unwinder's lock held, and deadlock the
//!   thread. Time spent in system calls and in libc's `memcpy` is missing
//!   from CPU profiles for that reason.
//! - Stacks are walked with the DWARF unwinder (no frame pointers needed),
//!   at most 128 frames deep; symbols are resolved in-process from the
//!   binary's symbol table and debug info after the profile ends, on a
//!   blocking thread (a second or more for a large binary with full debug
//!   info). A binary stripped of its symbols gives `Unknown` frames.
//! - Heap profiles are jemalloc's: one allocation per 2^`lg_prof_sample`
//!   bytes sampled, the stack recorded at allocation time, bytes scaled up
//!   to estimate the whole. They are resolved by `jemalloc_pprof`, which in
//!   a build with debug info names some frames by their short name
//!   (`retain` for `app::cache::retain`) and leaves some as addresses. The
//!   allocator's own frames (from `__rust_alloc` down into jemalloc) are
//!   named in the profile's `drop_frames`, which `go tool pprof` applies.
//! - Unix only (pprof-rs's `SIGPROF` sampler); heap profiles Linux only
//!   (jemalloc_pprof maps addresses to objects with Linux-only code).
//!
//! [pprof-rs]: https://docs.rs/pprof

mod cpu;
#[cfg(feature = "pprof-heap")]
mod heap;

pub use cpu::{
    DEFAULT_FREQUENCY, DEFAULT_SECONDS, MAX_FREQUENCY, MAX_SECONDS, ProfileFormat, ProfileParams,
    cpu_profile,
};
#[cfg(feature = "pprof-heap")]
pub use heap::{MallocConf, jemalloc_heap_profiling};

use http::StatusCode;
use http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};

use crate::error::Error;
use crate::response::{IntoResponse, Response};

/// Code of the 400 answered when `seconds` or `frequency` is out of range.
pub const PARAM_OUT_OF_RANGE_CODE: u32 = 40012;

/// Code of the 409 answered while another CPU profile runs.
pub const PROFILE_RUNNING_CODE: u32 = 40900;

/// Code of the 500 answered when the profiler fails.
pub const PROFILER_FAILED_CODE: u32 = 50007;

/// Code of the 501 answered for a heap profile when the process does not
/// run jemalloc with profiling on (or Mambo was built without `pprof-heap`).
pub const HEAP_PROFILING_OFF_CODE: u32 = 50100;

/// Code of the 503 answered for a heap profile while jemalloc's profiler is
/// switched off (`prof.active` false).
pub const HEAP_PROFILING_INACTIVE_CODE: u32 = 50306;

/// Answers a heap profile of the process: jemalloc's sampled in-use bytes
/// by allocating stack, as gzipped pprof `profile.proto`
/// (`application/octet-stream`). Read it with `go tool pprof`.
///
/// The application must make jemalloc its global allocator with profiling
/// on: one line, [`jemalloc_heap_profiling!`], in the binary crate. Each
/// sampled stack (one per 512 KiB allocated, on average) is resolved to
/// function names here, on a blocking thread: 75 to 150 ms for a small
/// release binary, as the symbolizer parses the binary's symbols each time
/// (see [the costs](self#costs-and-limits)). jemalloc writes its
/// dump to a small file in the temporary directory, which must be
/// writable.
///
/// # Errors
///
/// As a response, in the JSON error shape:
///
/// - 501 ([`HEAP_PROFILING_OFF_CODE`]): jemalloc is not profiling in this
///   process (no `prof:true` in its configuration), or Mambo was built
///   without the `pprof-heap` feature.
/// - 503 ([`HEAP_PROFILING_INACTIVE_CODE`]): jemalloc's profiler is built
///   in but switched off (`prof_active:false`).
/// - 500 ([`PROFILER_FAILED_CODE`]): the dump failed.
///
/// A process that made jemalloc profile but kept another global allocator
/// answers a profile without the Rust heap in it: use the macro, which
/// does both.
///
/// # Examples
///
/// ```no_run
/// use mambo::prelude::*;
///
/// # #[cfg(feature = "pprof-heap")]
/// mambo::observe::pprof::jemalloc_heap_profiling!();
///
/// #[route(GET "/debug/pprof/heap")]
/// async fn heap() -> Response {
///     mambo::observe::pprof::heap_profile().await
/// }
/// ```
pub async fn heap_profile() -> Response {
    #[cfg(feature = "pprof-heap")]
    {
        heap::heap_profile().await
    }
    #[cfg(not(feature = "pprof-heap"))]
    {
        Error::with_code(
            StatusCode::NOT_IMPLEMENTED,
            HEAP_PROFILING_OFF_CODE,
            "heap profiles need Mambo's `pprof-heap` feature and `jemalloc_heap_profiling!()`",
        )
        .into_response()
    }
}

/// A gzipped `profile.proto` as Go's `net/http/pprof` sends it, with a
/// `content-disposition` naming the file (`attachment; filename="…"`).
fn pprof_response(gzipped: Vec<u8>, disposition: &'static str) -> Response {
    ([(CONTENT_TYPE, "application/octet-stream"), (CONTENT_DISPOSITION, disposition)], gzipped)
        .into_response()
}

/// The 500 for a profiler that failed: what failed and why, for the
/// operator who asked.
fn profiler_failed(what: &str, error: impl std::fmt::Display) -> Error {
    Error::with_code(
        StatusCode::INTERNAL_SERVER_ERROR,
        PROFILER_FAILED_CODE,
        format!("{what}: {error}"),
    )
}

/// Gzips an encoded `profile.proto`.
fn gzip(proto: &[u8]) -> Result<Vec<u8>, Error> {
    use std::io::Write as _;

    let mut gzip = flate2::write::GzEncoder::new(
        Vec::with_capacity(proto.len() / 4),
        flate2::Compression::default(),
    );
    gzip.write_all(proto)
        .and_then(|()| gzip.finish())
        .map_err(|error| profiler_failed("gzip", error))
}

/// Frees the symbolizer's cache of parsed debug info and symbol tables,
/// filled to resolve a profile's addresses: tens of MiB that would
/// otherwise stay for the life of the process, to save the next profile a
/// fraction of a second.
fn forget_symbols() {
    backtrace::clear_symbol_cache();
}

/// Runs CPU-bound or blocking profiler work off the runtime's threads.
async fn blocking<T: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(work).await.map_err(|error| profiler_failed(what, error))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::is_reserved_code;

    const CODES: [u32; 5] = [
        PARAM_OUT_OF_RANGE_CODE,
        PROFILE_RUNNING_CODE,
        PROFILER_FAILED_CODE,
        HEAP_PROFILING_OFF_CODE,
        HEAP_PROFILING_INACTIVE_CODE,
    ];

    #[test]
    fn codes_are_the_frameworks_and_in_the_table() {
        let table = include_str!("../../extract/rejection.rs");
        for code in CODES {
            assert!(is_reserved_code(code), "{code} is not reserved");
            assert!(table.contains(&format!("//! | {code} |")), "{code} is not in the table");
            assert_eq!(crate::error::status_from_code(code).as_u16() as u32, code / 100);
        }
    }

    #[cfg(not(feature = "pprof-heap"))]
    #[tokio::test]
    async fn heap_without_the_feature_is_a_501() {
        let response = heap_profile().await;
        assert_eq!(response.status(), StatusCode::NOT_IMPLEMENTED);
    }
}
