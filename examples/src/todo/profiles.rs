//! `/debug/pprof/profile` and `/debug/pprof/heap`: the todo service's CPU
//! and heap profiles for `go tool pprof`, behind the operator token.
//!
//! Built with `--features profiling` (jemalloc with heap profiling as the
//! allocator, see `src/bin/todo.rs`); without it both answer 501.
//!
//! ```text
//! go tool pprof -top http://127.0.0.1:3000/debug/pprof/profile?seconds=10   # with the token header
//! ```

use mambo::prelude::*;

/// `GET /debug/pprof/profile?seconds=N&frequency=HZ&format=flamegraph`:
/// CPU samples for `seconds` (default 30, at most 300), as gzipped pprof
/// or an SVG flame graph. The deadline allows the longest profile.
#[cfg(feature = "profiling")]
#[route(GET "/profile", timeout = "330s")]
pub async fn cpu(Query(params): Query<mambo::observe::pprof::ProfileParams>) -> Response {
    mambo::observe::pprof::cpu_profile(params).await
}

/// `GET /debug/pprof/profile`: 501 without `--features profiling`.
#[cfg(not(feature = "profiling"))]
#[route(GET "/profile")]
pub async fn cpu() -> Response {
    not_built()
}

/// `GET /debug/pprof/heap`: jemalloc's sampled in-use memory by allocating
/// stack, as gzipped pprof.
#[cfg(feature = "profiling")]
#[route(GET "/heap")]
pub async fn heap() -> Response {
    mambo::observe::pprof::heap_profile().await
}

/// `GET /debug/pprof/heap`: 501 without `--features profiling`.
#[cfg(not(feature = "profiling"))]
#[route(GET "/heap")]
pub async fn heap() -> Response {
    not_built()
}

#[cfg(not(feature = "profiling"))]
fn not_built() -> Response {
    Error::with_code(
        StatusCode::NOT_IMPLEMENTED,
        50120,
        "profiles need the todo example built with `--features profiling`",
    )
    .into_response()
}
