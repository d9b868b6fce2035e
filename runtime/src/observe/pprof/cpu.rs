//! CPU profiles: pprof-rs's `SIGPROF` sampler, one profile at a time.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use http::StatusCode;
use http::header::CONTENT_TYPE;
use pprof::protos::Message as _;
use pprof::{Frames, ProfilerGuard, ProfilerGuardBuilder, Report, UnresolvedReport};
use serde::Deserialize;

use super::{
    PARAM_OUT_OF_RANGE_CODE, PROFILE_RUNNING_CODE, blocking, forget_symbols, gzip, pprof_response,
    profiler_failed,
};
use crate::error::Error;
use crate::response::{IntoResponse, Response};

/// How long a CPU profile runs when the query does not say: 30 s, as Go's
/// `net/http/pprof`.
pub const DEFAULT_SECONDS: u64 = 30;

/// The longest CPU profile: 300 s. A route that serves profiles needs a
/// deadline longer than this (`#[route(.., timeout = "330s")]`), or the
/// longest ones end in a 504.
pub const MAX_SECONDS: u64 = 300;

/// Samples per second of CPU time when the query does not say: 99 Hz, not
/// 100, so the samples do not fall in step with work that runs on a 10 ms
/// period and see only one phase of it (Go samples at 100 Hz; 99 is the
/// habit of `perf` and pprof-rs).
pub const DEFAULT_FREQUENCY: u32 = 99;

/// The highest sampling frequency: 1000 Hz. Each sample is a signal and a
/// stack walk on the interrupted thread; past this the profiler costs more
/// than it tells, and the kernel's tick rate caps it anyway.
pub const MAX_FREQUENCY: u32 = 1000;

/// Shared objects whose code no sample is taken in. Unwinding from a signal
/// that interrupted the unwinder itself (in `libgcc`), or the C library and
/// the vDSO, can deadlock or crash the thread; pprof-rs's own advice.
const BLOCKLIST: [&str; 4] = ["libc", "libgcc", "pthread", "vdso"];

/// The query of a CPU profile request: `?seconds=30&frequency=99&format=pprof`,
/// every field optional. Take it with [`Query`](crate::extract::Query) and
/// pass it to [`cpu_profile`].
///
/// A value that does not parse (`seconds=abc`, `format=png`) is rejected
/// by `Query` (400, code 40002); one out of range by [`cpu_profile`] (400,
/// code [`PARAM_OUT_OF_RANGE_CODE`]). Unknown fields are ignored, as Go's
/// `net/http/pprof` does.
///
/// # Examples
///
/// ```
/// use mambo::extract::Query;
/// use mambo::observe::pprof::{ProfileFormat, ProfileParams};
///
/// let Query(params) = Query::<ProfileParams>::parse("seconds=5&format=flamegraph").unwrap();
/// assert_eq!((params.seconds, params.frequency), (5, 99));
/// assert_eq!(params.format, ProfileFormat::Flamegraph);
///
/// let mut params = ProfileParams::default();
/// params.seconds = 10;
/// assert_eq!(params.format, ProfileFormat::Pprof);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ProfileParams {
    /// How long to sample, in seconds: 1 to [`MAX_SECONDS`]; default
    /// [`DEFAULT_SECONDS`].
    pub seconds: u64,
    /// Samples per second of CPU time: 1 to [`MAX_FREQUENCY`]; default
    /// [`DEFAULT_FREQUENCY`].
    pub frequency: u32,
    /// What to answer: a pprof protobuf (default) or a flame graph.
    pub format: ProfileFormat,
}

impl Default for ProfileParams {
    fn default() -> Self {
        ProfileParams {
            seconds: DEFAULT_SECONDS,
            frequency: DEFAULT_FREQUENCY,
            format: ProfileFormat::Pprof,
        }
    }
}

impl ProfileParams {
    /// The 400 for the first field out of range.
    fn check(&self) -> Result<(), Error> {
        let out_of_range = |name: &str, value: u64, max: u64| {
            Error::with_code(
                StatusCode::BAD_REQUEST,
                PARAM_OUT_OF_RANGE_CODE,
                format!("`{name}` must be between 1 and {max}, not {value}"),
            )
        };
        if !(1..=MAX_SECONDS).contains(&self.seconds) {
            return Err(out_of_range("seconds", self.seconds, MAX_SECONDS));
        }
        if !(1..=MAX_FREQUENCY).contains(&self.frequency) {
            return Err(out_of_range("frequency", self.frequency.into(), MAX_FREQUENCY.into()));
        }
        Ok(())
    }
}

/// The form of a CPU profile (`?format=`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ProfileFormat {
    /// `format=pprof` (or `proto`): gzipped pprof `profile.proto`,
    /// `application/octet-stream`, for `go tool pprof` and the tools that
    /// read its format (Pyroscope, Parca, speedscope, …).
    #[default]
    #[serde(alias = "proto")]
    Pprof,
    /// `format=flamegraph` (or `svg`): an interactive SVG flame graph
    /// (inferno), `image/svg+xml`, one tower per thread name.
    #[serde(alias = "svg")]
    Flamegraph,
}

/// Runs a CPU profile of the whole process and answers it: every thread's
/// stacks sampled `params.frequency` times per second of CPU time, for
/// `params.seconds`.
///
/// The request waits on a timer (`tokio::time::sleep`), not on a runtime
/// thread; starting the profiler (its first stack walk reads debug info)
/// and building the report (resolving symbols, encoding, compressing) run
/// on Tokio's blocking threads. The profiler stops as soon as the time is
/// up, or when the client goes away and the request is dropped. See
/// [the module](super) for the costs and limits, and for why these routes
/// belong behind authentication.
///
/// # Errors
///
/// As a response, in the JSON error shape:
///
/// - 400 ([`PARAM_OUT_OF_RANGE_CODE`]): `seconds` or `frequency` out of
///   range.
/// - 409 ([`PROFILE_RUNNING_CODE`]): another CPU profile is running (there
///   is one profiler per process).
/// - 500 ([`PROFILER_FAILED_CODE`](super::PROFILER_FAILED_CODE)): the
///   profiler could not start, or the report could not be built.
///
/// # Examples
///
/// ```
/// use mambo::observe::pprof::{ProfileParams, cpu_profile};
/// use mambo::prelude::*;
///
/// // Keep it behind authentication: see the module's example.
/// #[route(GET "/debug/pprof/profile", timeout = "330s")]
/// async fn profile(Query(params): Query<ProfileParams>) -> Response {
///     cpu_profile(params).await
/// }
///
/// mambo::router! {
///     struct Debug {
///         routes: [profile],
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let client = mambo::test::TestClient::new(Debug::new());
/// let response = client.get("/debug/pprof/profile?seconds=0").send().await;
/// assert_eq!(response.status(), StatusCode::BAD_REQUEST);
/// assert_eq!(response.text(), r#"{"code":40012,"message":"`seconds` must be between 1 and 300, not 0"}"#);
///
/// let response = client.get("/debug/pprof/profile?seconds=1&format=flamegraph").send().await;
/// assert_eq!(response.header("content-type"), Some("image/svg+xml"));
/// # });
/// ```
pub async fn cpu_profile(params: ProfileParams) -> Response {
    match record(params).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn record(params: ProfileParams) -> Result<Response, Error> {
    params.check()?;
    let claim = Claim::take().ok_or_else(running)?;
    let frequency = i32::try_from(params.frequency).expect("checked: at most MAX_FREQUENCY");
    // The claim goes with the profiler, so that a request dropped while
    // the profiler starts still frees it once the guard is dropped.
    let (claim, started) = blocking("the CPU profiler did not start", move || {
        let started =
            ProfilerGuardBuilder::default().frequency(frequency).blocklist(&BLOCKLIST).build();
        (claim, started)
    })
    .await?;
    let guard = started.map_err(|error| match error {
        pprof::Error::Running => running(),
        error => profiler_failed("the CPU profiler did not start", error),
    })?;
    let profiling = Profiling { guard: Some(guard), claim: Some(claim) };

    tokio::time::sleep(Duration::from_secs(params.seconds)).await;

    let ProfileParams { seconds, format, .. } = params;
    blocking("the CPU profile could not be built", move || {
        // Take the samples and stop the profiler first: resolving symbols
        // is slow, and need not be in the profile, nor keep the next one
        // waiting.
        let unresolved = profiling.stop();
        let report =
            resolve(unresolved.map_err(|error| profiler_failed("the CPU profile", error))?);
        forget_symbols();
        match format {
            ProfileFormat::Pprof => encode_pprof(&report)
                .map(|gzipped| pprof_response(gzipped, "attachment; filename=\"profile.pb.gz\"")),
            ProfileFormat::Flamegraph => flamegraph(&report, seconds, frequency)
                .map(|svg| ([(CONTENT_TYPE, "image/svg+xml")], svg).into_response()),
        }
    })
    .await?
}

/// A running profile: the profiler and the claim on it.
///
/// Stopping pprof-rs's profiler allocates and fills its next sample table
/// (68 MB, tens of milliseconds): [`stop`](Profiling::stop) is called on a
/// blocking thread, and a profile dropped before that (the client went
/// away) is stopped on one too.
struct Profiling {
    guard: Option<ProfilerGuard<'static>>,
    claim: Option<Claim>,
}

impl Profiling {
    /// The samples so far; then stops the profiler and frees it for the
    /// next profile.
    fn stop(mut self) -> pprof::Result<UnresolvedReport> {
        let guard = self.guard.take().expect("stopped once");
        let unresolved = guard.report().build_unresolved();
        drop(guard);
        drop(self.claim.take());
        unresolved
    }
}

impl Drop for Profiling {
    fn drop(&mut self) {
        let (Some(guard), claim) = (self.guard.take(), self.claim.take()) else {
            return;
        };
        let stop = move || drop((guard, claim));
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(stop)),
            Err(_) => stop(),
        }
    }
}

/// The 409 for a second profile.
fn running() -> Error {
    Error::with_code(
        StatusCode::CONFLICT,
        PROFILE_RUNNING_CODE,
        "a CPU profile is already running; try again when it ends",
    )
}

/// Whether a CPU profile runs: pprof-rs has one profiler per process.
/// pprof-rs refuses a second start too, but only after the costly first
/// steps; this answers the 409 at once.
static RUNNING: AtomicBool = AtomicBool::new(false);

/// The right to run the process's CPU profile, given back on drop.
struct Claim(());

impl Claim {
    fn take() -> Option<Claim> {
        RUNNING.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).ok()?;
        Some(Claim(()))
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        RUNNING.store(false, Ordering::Release);
    }
}

/// Resolves the sampled addresses to functions, and cuts the frames of the
/// signal handler that took each sample off its top.
fn resolve(unresolved: UnresolvedReport) -> Report {
    let mut data: HashMap<Frames, isize> = HashMap::with_capacity(unresolved.data.len());
    for (frames, count) in unresolved.data {
        let mut frames = Frames::from(frames);
        cut_signal_frames(&mut frames.frames);
        *data.entry(frames).or_default() += count;
    }
    Report { data, timing: unresolved.timing }
}

/// Removes, from the leaf end of a stack, the frames of the sampling
/// itself: the stack walker, pprof-rs's signal handler, and the kernel's
/// signal return trampoline. Without this every sample's leaf would be the
/// profiler, and `go tool pprof -top` would list it first.
///
/// pprof-rs drops the handler and the trampoline itself when the handler's
/// symbol has its plain name (from debug info), but keeps the walker's
/// frames above them; with only the symbol table, all of them are left.
fn cut_signal_frames(frames: &mut Vec<Vec<pprof::Symbol>>) {
    let any = |frame: &[pprof::Symbol], names: &[&str]| {
        frame.iter().any(|symbol| {
            let name = symbol.name();
            names.iter().any(|wanted| name.contains(wanted))
        })
    };
    let mut cut = 0;
    if let Some(handler) = frames.iter().rposition(|frame| any(frame, &["perf_signal_handler"])) {
        cut = handler + 1;
        if frames
            .get(cut)
            .is_some_and(|frame| any(frame, &["__restore_rt", "__kernel_rt_sigreturn"]))
        {
            cut += 1;
        }
    }
    // The walker: `backtrace::trace_unsynchronized` and what it calls, and
    // pprof-rs's `Trace` around it. Every symbol of the frame (inlined ones
    // too) must be the walker's, so a frame of the program that inlined
    // one of these is kept.
    let is_walker = |frame: &Vec<pprof::Symbol>| {
        !frame.is_empty()
            && frame.iter().all(|symbol| {
                let name = symbol.name();
                name.starts_with("backtrace::backtrace::") || name.contains("pprof::backtrace::")
            })
    };
    cut += frames[cut..].iter().take_while(|frame| is_walker(frame)).count();
    frames.drain(..cut);
}

/// The report as gzipped `profile.proto`.
fn encode_pprof(report: &Report) -> Result<Vec<u8>, Error> {
    let profile = report.pprof().map_err(|error| profiler_failed("the CPU profile", error))?;
    gzip(&profile.encode_to_vec())
}

/// The report as an SVG flame graph; a one-line SVG that says so when
/// there are no samples (inferno refuses an empty graph).
fn flamegraph(report: &Report, seconds: u64, frequency: i32) -> Result<Vec<u8>, Error> {
    if report.data.is_empty() {
        let svg = format!(
            concat!(
                r#"<?xml version="1.0" standalone="no"?>"#,
                r#"<svg version="1.1" width="1200" height="60" xmlns="http://www.w3.org/2000/svg">"#,
                r#"<text x="600" y="36" text-anchor="middle" font-family="Verdana" font-size="16">"#,
                "No CPU samples in {} s at {} Hz: the process used no CPU time.",
                "</text></svg>\n"
            ),
            seconds, frequency
        );
        return Ok(svg.into_bytes());
    }
    let mut options = pprof::flamegraph::Options::default();
    options.title = format!("CPU, {seconds} s at {frequency} Hz");
    options.count_name = "samples".to_owned();
    let mut svg = Vec::new();
    report
        .flamegraph_with_options(&mut svg, &mut options)
        .map_err(|error| profiler_failed("the flame graph", error))?;
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_out_of_range_are_400s() {
        let with = |seconds, frequency| ProfileParams { seconds, frequency, ..Default::default() };
        assert!(with(1, 1).check().is_ok());
        assert!(with(MAX_SECONDS, MAX_FREQUENCY).check().is_ok());
        for (seconds, frequency, message) in [
            (0, 99, "`seconds` must be between 1 and 300, not 0"),
            (301, 99, "`seconds` must be between 1 and 300, not 301"),
            (30, 0, "`frequency` must be between 1 and 1000, not 0"),
            (30, 1001, "`frequency` must be between 1 and 1000, not 1001"),
        ] {
            let error = with(seconds, frequency).check().unwrap_err();
            assert_eq!(
                (error.status(), error.code(), error.message()),
                (StatusCode::BAD_REQUEST, PARAM_OUT_OF_RANGE_CODE, message)
            );
        }
    }

    fn frame(names: &[&str]) -> Vec<pprof::Symbol> {
        let symbol = |name: &&str| pprof::Symbol {
            name: Some(name.as_bytes().to_vec()),
            addr: None,
            lineno: None,
            filename: None,
        };
        names.iter().map(symbol).collect()
    }

    fn names(frames: &[Vec<pprof::Symbol>]) -> Vec<String> {
        frames.iter().map(|frame| frame[0].name()).collect()
    }

    #[test]
    fn the_samplers_frames_are_cut() {
        let walker = [
            frame(&["backtrace::backtrace::libunwind::trace"]),
            frame(&["backtrace::backtrace::trace_unsynchronized"]),
            frame(&["<pprof::backtrace::backtrace_rs::Trace as pprof::backtrace::Trace>::trace"]),
        ];
        let program = [frame(&["app::hot", "core::hint::black_box"]), frame(&["app::main"])];

        // As pprof-rs leaves it with debug info: the walker above the program.
        let mut frames: Vec<_> = walker.iter().chain(&program).cloned().collect();
        cut_signal_frames(&mut frames);
        assert_eq!(names(&frames), ["app::hot", "app::main"]);

        // With only the symbol table: the handler and trampoline are left too.
        let mut frames: Vec<_> = walker
            .iter()
            .cloned()
            .chain([frame(&["pprof::profiler::perf_signal_handler"]), frame(&["__restore_rt"])])
            .chain(program.iter().cloned())
            .collect();
        cut_signal_frames(&mut frames);
        assert_eq!(names(&frames), ["app::hot", "app::main"]);

        // A program frame that inlined part of `backtrace` is the program's.
        let mut frames =
            vec![frame(&["backtrace::backtrace::trace", "app::capture"]), frame(&["app::main"])];
        cut_signal_frames(&mut frames);
        assert_eq!(names(&frames), ["backtrace::backtrace::trace", "app::main"]);
    }

    #[test]
    fn a_second_claim_waits_for_the_first() {
        let first = Claim::take().unwrap();
        assert!(Claim::take().is_none());
        drop(first);
        drop(Claim::take().unwrap());
    }

    #[test]
    fn formats_by_name() {
        for (query, format) in [
            ("", ProfileFormat::Pprof),
            ("format=pprof", ProfileFormat::Pprof),
            ("format=proto", ProfileFormat::Pprof),
            ("format=flamegraph", ProfileFormat::Flamegraph),
            ("format=svg", ProfileFormat::Flamegraph),
        ] {
            let params: ProfileParams = serde_urlencoded::from_str(query).unwrap();
            assert_eq!(params.format, format, "{query}");
        }
        assert!(serde_urlencoded::from_str::<ProfileParams>("format=png").is_err());
    }
}
