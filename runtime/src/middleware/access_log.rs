//! `AccessLog`: one `tracing` event per request.

use std::time::Instant;

use tracing::Level;

use crate::context::RequestContext;
use crate::middleware::{Flow, Middleware, RequestIdValue};
use crate::response::Response;

/// The `tracing` target of access-log events; filter on it
/// (`RUST_LOG=mambo::access=info`).
pub const ACCESS_LOG_TARGET: &str = "mambo::access";

/// Logs one `tracing` event per request, at target [`ACCESS_LOG_TARGET`].
///
/// The event carries `method`, `path`, `route` (the matched pattern, or `-`),
/// `status`, `latency_us` (microseconds, as an integer) and `request_id`
/// (what [`RequestIdValue`] reads, or `-`). With the `otel` feature, it
/// also carries `trace_id`: the request's OpenTelemetry trace id in 32 hex
/// digits, or `-` outside a trace (see `mambo::observe::otel`).
///
/// The latency runs from this middleware's `before` until its `after`, when
/// the response head is ready; a streaming body may go on after that.
///
/// # Order
///
/// List [`RequestId`] first and `AccessLog` second, then the rest:
/// `middleware: [RequestId, AccessLog, ..]`. With `RequestId` first, every
/// request has its id before anything can answer it, so every log line (and
/// every response) carries one, early answers from `Cors` or an auth
/// middleware included; with `AccessLog` next, the latency covers every
/// other middleware. `RequestId` never answers early and costs a few
/// nanoseconds, so timing it too would tell nothing.
///
/// # Cost
///
/// When no subscriber wants events of this target and level, `before` is one
/// cached `tracing::enabled!` check and `after` one branch: no clock read, no
/// formatting. Otherwise it reads the clock twice and emits the event, which
/// allocates only as much as the subscriber does.
///
/// [`RequestId`]: crate::middleware::RequestId
///
/// # Examples
///
/// ```
/// use mambo::middleware::AccessLog;
/// use tracing::Level;
///
/// // `middleware: [AccessLog]` logs at INFO;
/// // `middleware: [AccessLog = AccessLog::new().level(Level::DEBUG)]` at DEBUG.
/// let log = AccessLog::new().level(Level::DEBUG);
/// # let _ = log;
/// ```
#[derive(Debug, Clone, Copy)]
pub struct AccessLog {
    level: Level,
}

impl Default for AccessLog {
    /// Logs at `INFO`.
    fn default() -> Self {
        AccessLog { level: Level::INFO }
    }
}

impl AccessLog {
    /// Logs at `INFO`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Logs at `level` instead of `INFO`.
    #[must_use]
    pub fn level(mut self, level: Level) -> Self {
        self.level = level;
        self
    }
}

/// Calls a `tracing` macro with the level chosen at run time: a callsite's
/// level must be a constant, so there is one callsite per level.
macro_rules! with_level {
    ($level:expr, $mac:ident ! ( $($args:tt)* )) => {
        match $level {
            Level::ERROR => tracing::$mac!(target: ACCESS_LOG_TARGET, Level::ERROR, $($args)*),
            Level::WARN => tracing::$mac!(target: ACCESS_LOG_TARGET, Level::WARN, $($args)*),
            Level::INFO => tracing::$mac!(target: ACCESS_LOG_TARGET, Level::INFO, $($args)*),
            Level::DEBUG => tracing::$mac!(target: ACCESS_LOG_TARGET, Level::DEBUG, $($args)*),
            Level::TRACE => tracing::$mac!(target: ACCESS_LOG_TARGET, Level::TRACE, $($args)*),
        }
    };
}

impl<S: Sync> Middleware<S> for AccessLog {
    /// When the request came in; `None` when nothing would record the event.
    type Local = Option<Instant>;

    async fn before(&self, _cx: &mut RequestContext<'_, S>, local: &mut Option<Instant>) -> Flow {
        if with_level!(self.level, enabled!()) {
            *local = Some(Instant::now());
        }
        Flow::Continue
    }

    async fn after(
        &self,
        cx: &RequestContext<'_, S>,
        local: &mut Option<Instant>,
        response: &mut Response,
    ) {
        let Some(start) = local.take() else { return };
        let latency_us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
        let route = cx.route().map_or("-", |route| route.pattern);
        let request_id = RequestIdValue::from_context(cx);
        let request_id = request_id.as_ref().map_or("-", RequestIdValue::as_str);
        #[cfg(not(feature = "otel"))]
        with_level!(
            self.level,
            event!(
                method = cx.method().as_str(),
                path = cx.path(),
                route,
                status = response.status().as_u16(),
                latency_us,
                request_id,
                "request"
            )
        );
        #[cfg(feature = "otel")]
        let trace_id = crate::observe::otel::TraceIdField::current();
        #[cfg(feature = "otel")]
        with_level!(
            self.level,
            event!(
                method = cx.method().as_str(),
                path = cx.path(),
                route,
                status = response.status().as_u16(),
                latency_us,
                request_id,
                trace_id = %trace_id,
                "request"
            )
        );
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata, Subscriber};

    use std::future::Future;

    use super::*;
    use crate::context::ConnInfo;
    use crate::response::IntoResponse;
    use crate::routing::RouteInfo;
    use http::StatusCode;

    /// Each event's level and fields, as text.
    type Events = Arc<Mutex<Vec<Vec<(String, String)>>>>;

    /// Records the fields of every event at or above `max`.
    struct Capture {
        max: Level,
        events: Events,
    }

    struct Fields(Vec<(String, String)>);

    impl Visit for Fields {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.0.push((field.name().to_owned(), format!("{value:?}")));
        }

        fn record_str(&mut self, field: &Field, value: &str) {
            self.0.push((field.name().to_owned(), value.to_owned()));
        }
    }

    impl Subscriber for Capture {
        /// "Sometimes": `always` would tell `tracing` that every thread wants
        /// these events, not just the one that installed this subscriber.
        fn register_callsite(
            &self,
            _: &'static Metadata<'static>,
        ) -> tracing::subscriber::Interest {
            tracing::subscriber::Interest::sometimes()
        }
        fn enabled(&self, metadata: &Metadata<'_>) -> bool {
            metadata.target() == ACCESS_LOG_TARGET && *metadata.level() <= self.max
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            let mut fields =
                Fields(vec![("level".to_owned(), event.metadata().level().to_string())]);
            event.record(&mut fields);
            self.events.lock().unwrap().push(fields.0);
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    static ROUTE: RouteInfo = RouteInfo {
        index: 0,
        methods: &["GET"],
        pattern: "/users/:id",
        handler: "get_user",
        params: &["id"],
        body_limit: None,
        timeout: None,
    };

    fn context(route: Option<&'static RouteInfo>) -> RequestContext<'static, ()> {
        let request = http::Request::builder()
            .method("POST")
            .uri("/users/7?x=1")
            .header("x-request-id", "req-9")
            .body(())
            .unwrap();
        RequestContext::new(request.into_parts().0, &(), ConnInfo::default(), route)
    }

    async fn run(log: AccessLog, cx: &mut RequestContext<'_, ()>) -> Option<Instant> {
        let mut local = None;
        assert!(matches!(log.before(cx, &mut local).await, Flow::Continue));
        let started = local;
        let mut response = (StatusCode::CREATED, "made").into_response();
        log.after(cx, &mut local, &mut response).await;
        started
    }

    /// Installs a capturing subscriber on this thread until the guard drops.
    ///
    /// `tracing` caches each callsite's interest, and a global level hint,
    /// across every thread's subscribers; a callsite registered by another
    /// thread (the test client's tests run `AccessLog` too) while this one
    /// installs its subscriber can keep a stale "never". So the tests of this
    /// module take turns, and each waits, rebuilding the cache, until every
    /// level it enables really reaches its subscriber.
    fn capture(max: Level) -> (Installed, Events) {
        static TURN: Mutex<()> = Mutex::new(());
        let turn = TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let events = Events::default();
        let guard = tracing::subscriber::set_default(Capture { max, events: events.clone() });
        let levels: Vec<Level> =
            [Level::ERROR, Level::WARN, Level::INFO, Level::DEBUG, Level::TRACE]
                .into_iter()
                .filter(|level| *level <= max)
                .collect();
        let mut attempts = 0;
        loop {
            tracing::callsite::rebuild_interest_cache();
            events.lock().unwrap().clear();
            for &level in &levels {
                let mut cx = context(None);
                // Nothing in `run` waits, so one poll completes it.
                let mut probe = std::pin::pin!(run(AccessLog::new().level(level), &mut cx));
                let mut task = std::task::Context::from_waker(std::task::Waker::noop());
                assert!(probe.as_mut().poll(&mut task).is_ready());
            }
            if events.lock().unwrap().len() == levels.len() {
                break;
            }
            attempts += 1;
            assert!(attempts < 1000, "tracing never delivered the probe events");
            std::thread::yield_now();
        }
        events.lock().unwrap().clear();
        (Installed { _subscriber: guard, _turn: turn }, events)
    }

    /// Field order matters: the subscriber goes before the turn is handed on.
    struct Installed {
        _subscriber: tracing::subscriber::DefaultGuard,
        _turn: std::sync::MutexGuard<'static, ()>,
    }

    fn field<'a>(event: &'a [(String, String)], name: &str) -> &'a str {
        event
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no `{name}` in {event:?}"))
    }

    #[tokio::test]
    async fn logs_one_event_with_every_field() {
        let (_guard, events) = capture(Level::INFO);
        let mut cx = context(Some(&ROUTE));
        assert!(run(AccessLog::default(), &mut cx).await.is_some());
        let events = events.lock().unwrap();
        assert_eq!(events.len(), 1);
        let event = &events[0];
        assert_eq!(field(event, "level"), "INFO");
        assert_eq!(field(event, "method"), "POST");
        assert_eq!(field(event, "path"), "/users/7");
        assert_eq!(field(event, "route"), "/users/:id");
        assert_eq!(field(event, "status"), "201");
        assert_eq!(field(event, "request_id"), "req-9");
        assert!(field(event, "latency_us").parse::<u64>().is_ok());
    }

    #[tokio::test]
    async fn an_unmatched_request_logs_a_dash_for_the_route() {
        let (_guard, events) = capture(Level::INFO);
        run(AccessLog::default(), &mut context(None)).await;
        assert_eq!(field(&events.lock().unwrap()[0], "route"), "-");
    }

    #[tokio::test]
    async fn does_nothing_without_a_subscriber() {
        let mut cx = context(Some(&ROUTE));
        assert!(run(AccessLog::default(), &mut cx).await.is_none(), "read the clock for nobody");
    }

    #[tokio::test]
    async fn does_nothing_below_the_subscribers_level() {
        let (_guard, events) = capture(Level::INFO);
        let mut cx = context(Some(&ROUTE));
        assert!(run(AccessLog::new().level(Level::DEBUG), &mut cx).await.is_none());
        assert!(events.lock().unwrap().is_empty());

        assert!(run(AccessLog::new().level(Level::WARN), &mut cx).await.is_some());
        assert_eq!(field(&events.lock().unwrap()[0], "level"), "WARN");
    }
}
