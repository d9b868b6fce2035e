//! `OnServerError`: a hook called with every 5xx error's report.

use std::fmt;

use crate::context::RequestContext;
use crate::error::{ErrorReport, report_of_mut};
use crate::middleware::{Middleware, RequestIdValue};
use crate::response::Response;

/// The hook's type: a closure over the report and the request.
type Hook<S> = dyn Fn(&ErrorReport, &RequestContext<'_, S>) + Send + Sync;

/// Calls a function with the [`ErrorReport`] of every 5xx response rendered
/// from an error: to count them, page someone, or send them to an error
/// tracker. The report carries the status, code and message the client got,
/// the error's `source()` chain it did not, the route pattern and the
/// request id; the [`RequestContext`] the rest of the request.
///
/// The router already logs each of these at `ERROR` (see
/// [`error`](crate::error#server-errors-are-reported)); this is for what a
/// log line cannot do. The hook runs in the middleware's `after`, on the
/// request's task: keep it quick, and hand slow work (a network call) to a
/// channel or a spawned task.
///
/// List it for the whole router to see every route's errors, after
/// [`RequestId`](crate::middleware::RequestId) and
/// [`AccessLog`](crate::middleware::AccessLog); it reads the request id
/// wherever it is listed. The type parameter is the router's state type
/// (`OnServerError<AppState> = ..`; leave it out for a router without
/// state).
///
/// # Cost
///
/// For a response that is not a 5xx, one status check. Building it boxes the
/// closure once, with the router.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// use mambo::middleware::{AccessLog, OnServerError, RequestId};
/// use mambo::prelude::*;
///
/// static SERVER_ERRORS: AtomicU64 = AtomicU64::new(0);
///
/// #[derive(Debug, ApiError)]
/// enum AppError {
///     #[api(code = 50320, message = "the database is unavailable")]
///     Database(#[source] std::io::Error),
/// }
///
/// #[route(GET "/users")]
/// async fn users() -> Result<&'static str, AppError> {
///     Err(AppError::Database(std::io::Error::other("connection refused")))
/// }
///
/// mambo::router! {
///     struct Api {
///         middleware: [
///             RequestId,
///             AccessLog,
///             OnServerError = OnServerError::new(|report, _cx| {
///                 SERVER_ERRORS.fetch_add(1, Ordering::Relaxed);
///                 assert_eq!(report.route(), Some("/users"));
///                 assert_eq!(report.sources(), ["connection refused"]);
///             }),
///         ],
///         routes: [users],
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let client = mambo::test::TestClient::new(Api::new());
/// assert_eq!(client.get("/users").send().await.status(), StatusCode::SERVICE_UNAVAILABLE);
/// assert_eq!(SERVER_ERRORS.load(Ordering::Relaxed), 1);
/// # });
/// ```
pub struct OnServerError<S = ()> {
    hook: Box<Hook<S>>,
}

impl<S> OnServerError<S> {
    /// Calls `hook` with the report of every 5xx error response and the
    /// request it answers.
    pub fn new(
        hook: impl Fn(&ErrorReport, &RequestContext<'_, S>) + Send + Sync + 'static,
    ) -> Self {
        OnServerError { hook: Box::new(hook) }
    }
}

impl<S> fmt::Debug for OnServerError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnServerError").finish_non_exhaustive()
    }
}

impl<S: Sync + 'static> Middleware<S> for OnServerError<S> {
    type Local = ();

    async fn after(&self, cx: &RequestContext<'_, S>, _: &mut (), response: &mut Response) {
        if response.status().is_server_error() {
            self.report(cx, response);
        }
    }
}

impl<S> OnServerError<S> {
    /// Completes the report with what the context knows, then calls the hook.
    #[cold]
    fn report(&self, cx: &RequestContext<'_, S>, response: &mut Response) {
        let Some(report) = report_of_mut(response) else { return };
        if let Some(route) = cx.route() {
            report.note_route(route.pattern);
        }
        if let Some(id) = RequestIdValue::from_context(cx) {
            report.note_request_id(id.header_value());
        }
        (self.hook)(report, cx);
    }
}
