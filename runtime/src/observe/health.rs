//! Liveness and readiness probes: what a load balancer or an orchestrator
//! asks to decide whether to restart the process and whether to send it
//! traffic.
//!
//! - **Liveness** ([`Health::live`]): the process answers at all. Always
//!   `200 {"status":"ok"}`, shutting down or not: a liveness probe that
//!   fails gets the process restarted, which never helps a shutdown or a
//!   database outage.
//! - **Readiness** ([`Health::ready`]): the process should get traffic now.
//!   Every check you added with [`Health::check`] runs, all at once, each
//!   under its own timeout; `200` when all pass, `503` naming the ones that
//!   failed or timed out otherwise. It also answers `503` while the
//!   application says it is warming up ([`Health::set_ready`]) and from
//!   the moment a graceful shutdown starts on a server it is linked to
//!   ([`Server::health`](crate::Server::health)), without running the checks.
//!
//! The probes are methods, not routes: `router!` lists your own routes
//! only, so you write the two handlers (any paths, any middleware) and
//! keep the [`Health`] in the router's state.
//!
//! # Example
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use mambo::observe::health::Health;
//! use mambo::prelude::*;
//!
//! /// A stand-in for a database pool.
//! #[derive(Clone)]
//! struct Db;
//!
//! impl Db {
//!     async fn ping(&self) -> Result<(), std::io::Error> {
//!         Ok(())
//!     }
//! }
//!
//! #[derive(Clone)]
//! struct AppState {
//!     db: Db,
//!     health: Health,
//! }
//!
//! impl FromRef<AppState> for Health {
//!     fn from_ref(state: &AppState) -> Health {
//!         state.health.clone()
//!     }
//! }
//!
//! #[route(GET "/healthz")]
//! async fn healthz(State(health): State<Health>) -> Response {
//!     health.live()
//! }
//!
//! #[route(GET "/readyz")]
//! async fn readyz(State(health): State<Health>) -> Response {
//!     health.ready().await
//! }
//!
//! #[route(GET "/hello")]
//! async fn hello() -> &'static str {
//!     "hello"
//! }
//!
//! mambo::router! {
//!     pub struct Api {
//!         state: AppState,
//!         routes: [healthz, readyz, hello],
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let db = Db;
//!     let health = Health::new().check("database", Duration::from_secs(1), {
//!         let db = db.clone();
//!         move || {
//!             let db = db.clone();
//!             async move { db.ping().await }
//!         }
//!     });
//!     // Not ready until the caches are warm.
//!     health.set_ready(false);
//!     let warming = health.clone();
//!     tokio::spawn(async move {
//!         // ... fill the caches ...
//!         warming.set_ready(true);
//!     });
//!     mambo::Server::bind("0.0.0.0:8080")
//!         // `/readyz` answers 503 as soon as SIGTERM arrives...
//!         .health(&health)
//!         // ...while the server accepts and serves as usual for 10 s more,
//!         .shutdown_delay(Duration::from_secs(10))
//!         // then drains for up to 20 s.
//!         .shutdown_timeout(Duration::from_secs(20))
//!         .serve(Api::new(AppState { db, health }))
//!         .await
//! }
//! ```
//!
//! # Answers
//!
//! Every answer is JSON with `cache-control: no-store`.
//!
//! | probe | when | status | body |
//! |---|---|---|---|
//! | [`live`](Health::live) | always | 200 | `{"status":"ok"}` |
//! | [`ready`](Health::ready) | every check passed | 200 | `{"status":"ok","checks":{"database":{"status":"ok","duration_ms":3}}}` |
//! | [`ready`](Health::ready) | a check failed, timed out or panicked | 503 | `{"status":"not_ready","code":50304,"message":"not ready: database timed out","checks":{"database":{"status":"timed_out","duration_ms":1000}}}` |
//! | [`ready`](Health::ready) | [`set_ready(false)`](Health::set_ready) | 503 | `{"status":"not_ready","code":50304,"message":"not ready: warming up","checks":{}}` |
//! | [`ready`](Health::ready) | a linked server is shutting down | 503 | `{"status":"shutting_down","code":50305,"message":"shutting down","checks":{}}` |
//!
//! A check's status is `ok`, `failed`, `timed_out` or `panicked`. The
//! body carries the framework's error fields (`code`, `message`; the codes
//! are Mambo's own, see [the table](crate::extract::rejection#error-codes))
//! but is written by this module, not by the
//! [error renderer](crate::error::set_renderer): it has the checks besides.
//! A failed check's error text is not in the body, which a probe endpoint
//! may show to anyone who can reach it; it is logged (target
//! `mambo::health`, `WARN`), and [`Health::readiness`] hands it to a
//! handler that wants to show it.
//!
//! # Checks
//!
//! A check is an async closure that returns `Result<(), E>` with
//! `E: Display` (a database ping, a call to a dependency the process cannot
//! work without). Each probe runs every check afresh, concurrently, inside
//! the probe's request; nothing is cached, so a probe tells the state of
//! now, and the probe period (not this module) sets how often a dependency
//! is asked. A check slower than its timeout is reported as `timed_out`
//! (its future is dropped): a probe never takes longer than the slowest
//! timeout. A panic in a check is reported as `panicked`.
//!
//! Checks must not block the thread: wrap blocking calls in
//! [`tokio::task::spawn_blocking`], or the timeout cannot fire. Check only
//! what this process needs to serve: a shared dependency that is down makes
//! every replica unready at once, and the load balancer then has nowhere to
//! send traffic.
//!
//! # Shutting down behind a load balancer
//!
//! A load balancer learns that a replica is going away from its readiness
//! probe, a few probe periods late. Linked with
//! [`Server::health`](crate::Server::health), readiness answers 503 the
//! moment a graceful shutdown is triggered (SIGTERM, Ctrl-C, or the future
//! given to [`with_graceful_shutdown`](crate::Server::with_graceful_shutdown)).
//! With a [`shutdown_delay`](crate::Server::shutdown_delay), the server then
//! keeps accepting and serving as usual for that long, so that requests the
//! load balancer still sends meanwhile are answered rather than refused;
//! only then does it close its listeners and drain (up to the
//! [`shutdown_timeout`](crate::Server::shutdown_timeout)). The sequence:
//!
//! 1. Trigger: readiness answers 503 (`shutting_down`); everything else as
//!    usual.
//! 2. After the shutdown delay: the listeners close, requests in flight
//!    finish, keep-alive connections close.
//! 3. After the shutdown timeout: what is left is closed, `serve` returns.
//!
//! For Kubernetes, pick the numbers so that the pod leaves the Service's
//! endpoints before the listener closes, and is not killed mid-drain:
//!
//! - `readinessProbe.periodSeconds × failureThreshold ≤ shutdown delay`:
//!   the probe sees enough 503s to mark the pod unready within the delay.
//!   (Kubernetes also removes a terminating pod from the endpoints by
//!   itself, but kube-proxy and cloud load balancers apply that a few
//!   seconds late; the delay covers both.)
//! - `terminationGracePeriodSeconds ≥ shutdown delay + shutdown timeout`,
//!   plus a second or two: the kubelet sends SIGKILL after it.
//!
//! ```yaml
//! # shutdown_delay(10 s), shutdown_timeout(20 s)
//! spec:
//!   terminationGracePeriodSeconds: 35
//!   containers:
//!     - name: app
//!       livenessProbe:
//!         httpGet: { path: /healthz, port: 8080 }
//!         periodSeconds: 10
//!         failureThreshold: 3
//!       readinessProbe:
//!         httpGet: { path: /readyz, port: 8080 }
//!         periodSeconds: 2
//!         failureThreshold: 2     # 2 s × 2 = 4 s ≤ 10 s
//!         timeoutSeconds: 2       # above the slowest check's timeout
//! ```
//!
//! Keep the probe's `timeoutSeconds` above the slowest check's timeout, so
//! that a slow check is reported as such rather than as a probe that did
//! not answer.
//!
//! # Costs
//!
//! [`live`](Health::live) allocates nothing but its response. A
//! [`ready`](Health::ready) probe allocates a future per check and the JSON
//! body; probes come every few seconds, not per request. A [`Health`] is
//! one `Arc`; cloning it is a reference count.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::StatusCode;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};

use crate::__private::{CatchUnwind, panic_message};
use crate::body::ResponseBody;
use crate::response::{APPLICATION_JSON, IntoResponse, Response};

/// Code of the readiness 503 while a check fails or the application is
/// warming up ([`Health::set_ready`]).
pub const NOT_READY_CODE: u32 = 50304;

/// Code of the readiness 503 once a linked server is shutting down.
pub const SHUTTING_DOWN_CODE: u32 = 50305;

/// The `tracing` target of readiness diagnostics (failed checks at `WARN`).
pub const HEALTH_LOG_TARGET: &str = "mambo::health";

/// Liveness and readiness of the process: the checks to run, whether the
/// application is warmed up, whether a server is shutting down.
///
/// Cheap to clone (one `Arc`): keep one in the router's state and give the
/// same one to [`Server::health`](crate::Server::health). See the
/// [module docs](self) for the whole picture.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use mambo::observe::health::Health;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let health = Health::new()
///     .check("cache", Duration::from_millis(200), || async { Ok::<_, std::io::Error>(()) })
///     .check("search", Duration::from_millis(200), || async { Err("index not loaded") });
///
/// assert_eq!(health.live().status(), 200);
/// let response = health.ready().await;
/// assert_eq!(response.status(), 503);
/// let body = response.body().as_bytes().unwrap();
/// let body: serde_json::Value = serde_json::from_slice(body).unwrap();
/// assert_eq!(body["message"], "not ready: search failed");
/// assert_eq!(body["checks"]["cache"]["status"], "ok");
/// assert_eq!(body["checks"]["search"]["status"], "failed");
/// # }
/// ```
#[derive(Clone, Default)]
pub struct Health {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Set by `set_ready(false)`; a fresh `Health` is ready.
    warming_up: AtomicBool,
    /// Set once a linked server starts its graceful shutdown; never unset.
    shutting_down: AtomicBool,
    /// Taken by each probe for as long as it takes to clone the `Arc`s.
    checks: Mutex<Vec<Arc<Check>>>,
}

/// One readiness check.
struct Check {
    name: Cow<'static, str>,
    timeout: Duration,
    run: Box<dyn Fn() -> CheckFuture + Send + Sync>,
}

/// A check's future, its error already turned into text.
type CheckFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

impl Health {
    /// No checks, ready, not shutting down.
    pub fn new() -> Self {
        Health::default()
    }

    /// Adds a readiness check: `check` is called on every
    /// [`ready`](Health::ready) probe and its future must complete with
    /// `Ok(())` within `timeout`, or the probe answers 503 naming it.
    ///
    /// `check` is a closure returning a future (an `async` block), so that
    /// each probe gets a fresh one; clone what the future needs into it:
    ///
    /// ```
    /// use std::time::Duration;
    /// use mambo::observe::health::Health;
    ///
    /// #[derive(Clone)]
    /// struct Pool;
    /// impl Pool {
    ///     async fn ping(&self) -> Result<(), std::io::Error> { Ok(()) }
    /// }
    ///
    /// let pool = Pool;
    /// let health = Health::new().check("database", Duration::from_secs(1), move || {
    ///     let pool = pool.clone();
    ///     async move { pool.ping().await }
    /// });
    /// # drop(health);
    /// ```
    ///
    /// Checks added to one clone are seen by every clone.
    ///
    /// # Panics
    ///
    /// If a check named `name` was already added: the answer lists checks
    /// by name.
    #[must_use = "`check` returns the `Health` it added the check to"]
    pub fn check<F, Fut, E>(
        self,
        name: impl Into<Cow<'static, str>>,
        timeout: Duration,
        check: F,
    ) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: fmt::Display,
    {
        let name = name.into();
        let run = Box::new(move || -> CheckFuture {
            let future = check();
            Box::pin(async move { future.await.map_err(|err| err.to_string()) })
        });
        {
            let mut checks = self.inner.checks.lock().unwrap_or_else(PoisonError::into_inner);
            assert!(
                checks.iter().all(|existing| existing.name != name),
                "a readiness check named `{name}` was already added"
            );
            checks.push(Arc::new(Check { name, timeout, run }));
        }
        self
    }

    /// Tells readiness whether the application is ready for traffic: `false`
    /// while it warms up (caches, connections, a model to load), `true`
    /// once done. While `false`, [`ready`](Health::ready) answers 503
    /// without running the checks.
    ///
    /// Default: ready. Call `set_ready(false)` before serving if the
    /// application needs a warm-up.
    pub fn set_ready(&self, ready: bool) {
        self.inner.warming_up.store(!ready, Ordering::Relaxed);
    }

    /// Whether a server this `Health` is [linked to](crate::Server::health)
    /// has started its graceful shutdown (from then on
    /// [`ready`](Health::ready) answers 503). Background work can read it
    /// to stop taking new jobs.
    pub fn is_shutting_down(&self) -> bool {
        self.inner.shutting_down.load(Ordering::Relaxed)
    }

    /// Marks the process as shutting down, for good: readiness answers 503
    /// from now on.
    pub(crate) fn start_shutdown(&self) {
        self.inner.shutting_down.store(true, Ordering::Relaxed);
    }

    /// The liveness answer: `200 {"status":"ok"}`, always.
    ///
    /// It runs no check: liveness says the process can answer at all, and
    /// a failing dependency is readiness' business (a restart would not
    /// fix it).
    pub fn live(&self) -> Response {
        json_response(StatusCode::OK, Bytes::from_static(br#"{"status":"ok"}"#))
    }

    /// The readiness answer: runs the checks and answers `200` when all
    /// passed, `503` naming those that did not; `503` at once while warming
    /// up or shutting down. See [the table](self#answers).
    pub async fn ready(&self) -> Response {
        self.readiness().await.into_response()
    }

    /// Runs the checks as [`ready`](Health::ready) does and returns the
    /// results, for a handler that answers in its own format (or shows the
    /// checks' error texts to an operator).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use mambo::observe::health::{CheckStatus, Health};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let health = Health::new()
    ///     .check("queue", Duration::from_millis(50), || async { Err("connection refused") });
    /// let readiness = health.readiness().await;
    /// assert!(!readiness.is_ready());
    /// let queue = &readiness.checks()[0];
    /// assert_eq!((queue.name(), queue.status()), ("queue", CheckStatus::Failed));
    /// assert_eq!(queue.error(), Some("connection refused"));
    /// # }
    /// ```
    pub async fn readiness(&self) -> Readiness {
        if self.is_shutting_down() {
            return Readiness { state: State::ShuttingDown, checks: Vec::new() };
        }
        if self.inner.warming_up.load(Ordering::Relaxed) {
            return Readiness { state: State::WarmingUp, checks: Vec::new() };
        }
        let checks = self.inner.checks.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let checks = run_all(checks).await;
        let state = if checks.iter().all(|check| check.status == CheckStatus::Ok) {
            State::Ready
        } else {
            State::ChecksFailed
        };
        Readiness { state, checks }
    }
}

impl fmt::Debug for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let checks = self.inner.checks.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("Health")
            .field("checks", &checks.iter().map(|check| &*check.name).collect::<Vec<_>>())
            .field("warming_up", &self.inner.warming_up.load(Ordering::Relaxed))
            .field("shutting_down", &self.is_shutting_down())
            .finish()
    }
}

/// Runs every check at once, each under its timeout and with its panics
/// caught; the results in the order the checks were added.
async fn run_all(checks: Vec<Arc<Check>>) -> Vec<CheckReport> {
    let started = Instant::now();
    let mut running: Vec<_> = checks
        .iter()
        .map(|check| {
            let check = check.clone();
            // The closure itself may panic, not only its future.
            let future = std::panic::catch_unwind(AssertUnwindSafe(|| (check.run)()));
            let outcome: Pin<Box<dyn Future<Output = Outcome> + Send>> = match future {
                Ok(future) => Box::pin(async move {
                    match tokio::time::timeout(check.timeout, future).await {
                        Ok(Ok(())) => Outcome::Ok,
                        Ok(Err(error)) => Outcome::Failed(error),
                        Err(_) => Outcome::TimedOut(check.timeout),
                    }
                }),
                Err(panic) => {
                    let message = panic_message(&*panic).to_owned();
                    Box::pin(std::future::ready(Outcome::Panicked(message)))
                }
            };
            Some(CatchUnwind::new(outcome))
        })
        .collect();
    let mut done: Vec<Option<(Outcome, Duration)>> = checks.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (slot, result) in running.iter_mut().zip(&mut done) {
            let Some(future) = slot else { continue };
            let polled = Pin::new(future)
                .poll_or(cx, |panic| Outcome::Panicked(panic_message(&*panic).to_owned()));
            match polled {
                Poll::Ready(outcome) => {
                    *result = Some((outcome, started.elapsed()));
                    // Dropped now: a finished check holds nothing of its own.
                    *slot = None;
                }
                Poll::Pending => pending = true,
            }
        }
        if pending { Poll::Pending } else { Poll::Ready(()) }
    })
    .await;
    checks
        .iter()
        .zip(done)
        .map(|(check, result)| {
            let (outcome, elapsed) = result.expect("every check has finished");
            report(check, outcome, elapsed)
        })
        .collect()
}

/// How a check ended.
enum Outcome {
    Ok,
    Failed(String),
    TimedOut(Duration),
    Panicked(String),
}

/// A check's result, logged if it failed.
fn report(check: &Check, outcome: Outcome, elapsed: Duration) -> CheckReport {
    let name = check.name.clone();
    let (status, error) = match outcome {
        Outcome::Ok => (CheckStatus::Ok, None),
        Outcome::Failed(error) => {
            tracing::warn!(target: HEALTH_LOG_TARGET, check = %name, %error, "readiness check failed");
            (CheckStatus::Failed, Some(error))
        }
        Outcome::TimedOut(timeout) => {
            tracing::warn!(target: HEALTH_LOG_TARGET, check = %name, ?timeout, "readiness check timed out");
            (CheckStatus::TimedOut, Some(format!("timed out after {timeout:?}")))
        }
        Outcome::Panicked(message) => {
            tracing::error!(target: HEALTH_LOG_TARGET, check = %name, panic = %message, "readiness check panicked");
            (CheckStatus::Panicked, Some(format!("panicked: {message}")))
        }
    };
    CheckReport { name, status, error, elapsed }
}

/// The result of a readiness probe, from [`Health::readiness`]; its
/// [`IntoResponse`] is what [`Health::ready`] answers.
#[derive(Debug, Clone)]
pub struct Readiness {
    state: State,
    checks: Vec<CheckReport>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Ready,
    ChecksFailed,
    WarmingUp,
    ShuttingDown,
}

impl Readiness {
    /// Whether the process should get traffic: every check passed, it is
    /// not warming up and not shutting down.
    pub fn is_ready(&self) -> bool {
        self.state == State::Ready
    }

    /// Whether the probe answered 503 because a linked server is shutting
    /// down (no check was run).
    pub fn is_shutting_down(&self) -> bool {
        self.state == State::ShuttingDown
    }

    /// Every check's result, in the order they were added; empty when
    /// none ran (warming up, shutting down).
    pub fn checks(&self) -> &[CheckReport] {
        &self.checks
    }

    /// The framework code and message of a 503; `None` when ready.
    fn failure(&self) -> Option<(u32, Cow<'static, str>)> {
        match self.state {
            State::Ready => None,
            State::WarmingUp => Some((NOT_READY_CODE, Cow::Borrowed("not ready: warming up"))),
            State::ShuttingDown => Some((SHUTTING_DOWN_CODE, Cow::Borrowed("shutting down"))),
            State::ChecksFailed => {
                let failed: Vec<String> = self
                    .checks
                    .iter()
                    .filter(|check| check.status != CheckStatus::Ok)
                    .map(|check| {
                        format!("{} {}", check.name, check.status.as_str().replace('_', " "))
                    })
                    .collect();
                Some((NOT_READY_CODE, Cow::Owned(format!("not ready: {}", failed.join(", ")))))
            }
        }
    }
}

impl Serialize for Readiness {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        /// The checks as one JSON object, by name, in the order added.
        struct Checks<'a>(&'a [CheckReport]);

        impl Serialize for Checks<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(self.0.len()))?;
                for check in self.0 {
                    map.serialize_entry(&*check.name, check)?;
                }
                map.end()
            }
        }

        let failure = self.failure();
        let status = match self.state {
            State::Ready => "ok",
            State::ChecksFailed | State::WarmingUp => "not_ready",
            State::ShuttingDown => "shutting_down",
        };
        let fields = if failure.is_some() { 4 } else { 2 };
        let mut body = serializer.serialize_struct("Readiness", fields)?;
        body.serialize_field("status", status)?;
        if let Some((code, message)) = &failure {
            body.serialize_field("code", code)?;
            body.serialize_field("message", message)?;
        }
        body.serialize_field("checks", &Checks(&self.checks))?;
        body.end()
    }
}

impl IntoResponse for Readiness {
    fn into_response(self) -> Response {
        let status = if self.is_ready() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
        match serde_json::to_vec(&self) {
            Ok(body) => json_response(status, Bytes::from(body)),
            // Strings and numbers only: serializing cannot fail; still, a
            // probe must answer with the right status whatever happens.
            Err(_) => json_response(status, Bytes::new()),
        }
    }
}

/// The result of one readiness check, in a [`Readiness`].
#[derive(Debug, Clone)]
pub struct CheckReport {
    name: Cow<'static, str>,
    status: CheckStatus,
    error: Option<String>,
    elapsed: Duration,
}

impl CheckReport {
    /// The name it was added under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How it ended.
    pub fn status(&self) -> CheckStatus {
        self.status
    }

    /// Why it did not pass: the check's error text, `timed out after ..`
    /// or `panicked: ..`; `None` when it passed.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// How long it took (its timeout, if it timed out).
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }
}

impl Serialize for CheckReport {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut check = serializer.serialize_struct("CheckReport", 2)?;
        check.serialize_field("status", self.status.as_str())?;
        let millis = u64::try_from(self.elapsed.as_millis()).unwrap_or(u64::MAX);
        check.serialize_field("duration_ms", &millis)?;
        check.end()
    }
}

/// How a readiness check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckStatus {
    /// It completed with `Ok(())` within its timeout.
    Ok,
    /// It completed with an error.
    Failed,
    /// It did not complete within its timeout.
    TimedOut,
    /// It panicked.
    Panicked,
}

impl CheckStatus {
    /// The name in the JSON body: `ok`, `failed`, `timed_out`, `panicked`.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Ok => "ok",
            CheckStatus::Failed => "failed",
            CheckStatus::TimedOut => "timed_out",
            CheckStatus::Panicked => "panicked",
        }
    }
}

/// A JSON response no cache may keep: a probe's answer is about now.
fn json_response(status: StatusCode, body: Bytes) -> Response {
    let mut response = Response::new(ResponseBody::Full(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, APPLICATION_JSON);
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(response: &Response) -> serde_json::Value {
        serde_json::from_slice(response.body().as_bytes().unwrap()).unwrap()
    }

    #[tokio::test]
    async fn live_is_200_ok_even_when_shutting_down() {
        let health =
            Health::new().check("never", Duration::from_secs(1), || async { Err::<(), _>("down") });
        health.start_shutdown();
        let response = health.live();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
        assert_eq!(json(&response), serde_json::json!({"status": "ok"}));
    }

    #[tokio::test]
    async fn ready_without_checks_is_200() {
        let response = Health::new().ready().await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(json(&response), serde_json::json!({"status": "ok", "checks": {}}));
    }

    #[tokio::test]
    async fn checks_are_listed_in_the_order_added() {
        let health = Health::new()
            .check("b", Duration::from_secs(1), || async { Ok::<_, String>(()) })
            .check("a", Duration::from_secs(1), || async { Ok::<_, String>(()) });
        let response = health.ready().await;
        let text = std::str::from_utf8(response.body().as_bytes().unwrap()).unwrap();
        assert!(text.find(r#""b":"#).unwrap() < text.find(r#""a":"#).unwrap(), "{text}");
    }

    #[tokio::test]
    async fn checks_run_concurrently_each_under_its_timeout() {
        // Each of the two waits for the other: they pass only if they run
        // at the same time.
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let meet = move || {
            let barrier = barrier.clone();
            async move {
                barrier.wait().await;
                Ok::<_, String>(())
            }
        };
        let health = Health::new()
            .check("first", Duration::from_secs(10), meet.clone())
            .check("hung", Duration::from_millis(100), || async {
                std::future::pending::<Result<(), String>>().await
            })
            .check("second", Duration::from_secs(10), meet);
        let readiness = health.readiness().await;
        let statuses: Vec<_> =
            readiness.checks().iter().map(|check| (check.name(), check.status())).collect();
        assert_eq!(
            statuses,
            [
                ("first", CheckStatus::Ok),
                ("hung", CheckStatus::TimedOut),
                ("second", CheckStatus::Ok)
            ]
        );
        let hung = &readiness.checks()[1];
        assert!(hung.elapsed() >= Duration::from_millis(100), "{:?}", hung.elapsed());
        assert_eq!(hung.error(), Some("timed out after 100ms"));
        let body = json(&readiness.into_response());
        assert_eq!(body["code"], NOT_READY_CODE);
        assert_eq!(body["message"], "not ready: hung timed out");
        assert!(body["checks"]["first"]["duration_ms"].is_u64(), "{body}");
    }

    #[tokio::test]
    async fn a_panicking_check_is_reported_not_propagated() {
        let health = Health::new()
            .check("in the future", Duration::from_secs(1), || async {
                if true {
                    panic!("boom");
                }
                Ok::<_, String>(())
            })
            .check(
                "in the closure",
                Duration::from_secs(1),
                || -> std::future::Ready<Result<(), String>> { panic!("bang") },
            );
        let readiness = health.readiness().await;
        let errors: Vec<_> =
            readiness.checks().iter().map(|check| (check.status(), check.error())).collect();
        assert_eq!(
            errors,
            [
                (CheckStatus::Panicked, Some("panicked: boom")),
                (CheckStatus::Panicked, Some("panicked: bang"))
            ]
        );
        assert_eq!(readiness.into_response().status(), StatusCode::SERVICE_UNAVAILABLE);
    }

    #[tokio::test]
    async fn warming_up_and_shutting_down_answer_503_without_running_checks() {
        let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = runs.clone();
        let health = Health::new().check("counted", Duration::from_secs(1), move || {
            counted.fetch_add(1, Ordering::Relaxed);
            async { Ok::<_, String>(()) }
        });
        health.set_ready(false);
        let response = health.ready().await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            json(&response),
            serde_json::json!({"status": "not_ready", "code": 50304, "message": "not ready: warming up", "checks": {}})
        );
        health.set_ready(true);
        assert_eq!(health.ready().await.status(), StatusCode::OK);
        assert_eq!(runs.load(Ordering::Relaxed), 1);

        health.clone().start_shutdown();
        assert!(health.is_shutting_down());
        let response = health.ready().await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            json(&response),
            serde_json::json!({"status": "shutting_down", "code": 50305, "message": "shutting down", "checks": {}})
        );
        assert_eq!(runs.load(Ordering::Relaxed), 1);
    }

    #[test]
    #[should_panic(expected = "a readiness check named `db` was already added")]
    fn two_checks_cannot_share_a_name() {
        let ok = || async { Ok::<_, String>(()) };
        let _ = Health::new().check("db", Duration::from_secs(1), ok).check(
            "db",
            Duration::from_secs(1),
            ok,
        );
    }

    #[test]
    fn the_codes_are_the_frameworks() {
        assert!(crate::error::is_reserved_code(NOT_READY_CODE));
        assert!(crate::error::is_reserved_code(SHUTTING_DOWN_CODE));
    }
}
