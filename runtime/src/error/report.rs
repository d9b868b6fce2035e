//! `ErrorReport`: what a 5xx error response was made from, for the logs and
//! for [`OnServerError`](crate::middleware::OnServerError).
//!
//! The client gets only the code and the message; the operator needs the
//! cause. When an error becomes a 5xx response ([`render`](super::render),
//! [`render_error`](super::render_error), and so every `ApiError`, every
//! [`Error`](super::Error), a handler's panic, a route's 504), a report
//! goes into the response's extensions: status, code, message, and the
//! error's `source()` chain as text. On its way out the dispatcher adds the
//! route pattern, [`RequestId`](crate::middleware::RequestId) the request
//! id, and the generated router's last step emits one `tracing` event at
//! `ERROR` on target [`ERROR_LOG_TARGET`] with all of it.
//!
//! Cost: nothing for a response that is not a 5xx but a status check at the
//! guard and at the end of dispatch; on a 5xx, the report's allocations
//! (its message and sources, the extension map).

use std::fmt;

use http::StatusCode;
use http::header::HeaderValue;

use crate::response::Response;

/// The `tracing` target of the event every reported 5xx emits; filter on
/// it (`RUST_LOG=mambo::error=error`).
pub const ERROR_LOG_TARGET: &str = "mambo::error";

/// What a 5xx error response was made from: status, code, message, the
/// error's `source()` chain, and where it happened.
///
/// Found in the extensions of a 5xx response rendered from an error (see
/// [`ErrorReport::of`]), read by [`OnServerError`] hooks, and logged once
/// per response at `ERROR` on target [`ERROR_LOG_TARGET`].
///
/// [`OnServerError`]: crate::middleware::OnServerError
///
/// # Examples
///
/// ```
/// use mambo::error::ErrorReport;
/// use mambo::{Error, IntoResponse, StatusCode};
///
/// let response = Error::with_code(StatusCode::BAD_GATEWAY, 50220, "upstream failed").into_response();
/// let report = ErrorReport::of(&response).expect("a 5xx from an error carries a report");
/// assert_eq!((report.status(), report.code()), (StatusCode::BAD_GATEWAY, 50220));
/// assert_eq!(report.message(), "upstream failed");
///
/// let response = Error::new(StatusCode::NOT_FOUND, "no such user").into_response();
/// assert!(ErrorReport::of(&response).is_none(), "only 5xx responses are reported");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReport {
    status: StatusCode,
    code: u32,
    message: String,
    sources: Vec<String>,
    route: Option<&'static str>,
    request_id: Option<HeaderValue>,
    /// Whether the `tracing` event went out, so a response that passes
    /// through two routers' last steps is logged once.
    logged: bool,
}

impl ErrorReport {
    /// A report of an error with this status, code and message, and no
    /// source yet.
    pub fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        ErrorReport {
            status,
            code,
            message: message.into(),
            sources: Vec::new(),
            route: None,
            request_id: None,
            logged: false,
        }
    }

    /// Adds `source` and its own `source()` chain, outermost first, as text.
    #[must_use]
    pub fn caused_by(mut self, source: &(dyn std::error::Error + 'static)) -> Self {
        let mut next = Some(source);
        while let Some(error) = next {
            self.sources.push(error.to_string());
            next = error.source();
        }
        self
    }

    /// Puts the report into `response`'s extensions (replacing one already
    /// there), for a response built by hand that should be reported like
    /// the ones rendered from errors.
    pub fn attach(self, response: &mut Response) {
        response.extensions_mut().insert(self);
    }

    /// The report `response` carries, if it was rendered from an error
    /// with a 5xx status.
    pub fn of(response: &Response) -> Option<&ErrorReport> {
        response.extensions().get()
    }

    /// The response's status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The error code in the response body.
    pub fn code(&self) -> u32 {
        self.code
    }

    /// The message in the response body.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The error's `source()` chain as text, outermost first: what the
    /// client does not see. Empty when the error has no source; for a
    /// panic, the panic's message.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// The pattern of the route that answered (`/users/:id`); `None` when
    /// the error did not come from a route (a router-level middleware
    /// answered before the lookup's route ran) or is not known yet.
    pub fn route(&self) -> Option<&'static str> {
        self.route
    }

    /// The request's id, once [`RequestId`](crate::middleware::RequestId)
    /// or [`OnServerError`](crate::middleware::OnServerError) noted it.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_ref().and_then(|id| id.to_str().ok())
    }

    /// Notes the route, unless one is noted already.
    pub(crate) fn note_route(&mut self, route: &'static str) {
        self.route.get_or_insert(route);
    }

    /// Notes the request id, unless one is noted already.
    pub(crate) fn note_request_id(&mut self, id: &HeaderValue) {
        if self.request_id.is_none() {
            self.request_id = Some(id.clone());
        }
    }

    /// Adds a line of cause that is not an error value (a panic's message).
    pub(crate) fn push_source(&mut self, source: String) {
        self.sources.push(source);
    }
}

/// The message, then each source: `database unavailable: connection
/// refused`.
impl fmt::Display for ErrorReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        for source in &self.sources {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

/// Attaches a report to a freshly rendered 5xx response. Called only for
/// 5xx statuses, so out of line.
#[cold]
#[inline(never)]
pub(super) fn attach(
    response: &mut Response,
    status: StatusCode,
    code: u32,
    message: &str,
    source: Option<&(dyn std::error::Error + 'static)>,
) {
    let report = ErrorReport::new(status, code, message);
    let report = match source {
        Some(source) => report.caused_by(source),
        None => report,
    };
    report.attach(response);
}

/// The report of a 5xx response, to add what is known further out.
#[cold]
#[inline(never)]
pub(crate) fn of_mut(response: &mut Response) -> Option<&mut ErrorReport> {
    response.extensions_mut().get_mut()
}

/// Emits the `tracing` event for a 5xx response's report, once. Responses
/// without a report (a bare `StatusCode::INTERNAL_SERVER_ERROR`) are not
/// errors the framework knows anything about, and emit nothing.
#[cold]
#[inline(never)]
pub(crate) fn emit(response: &mut Response) {
    let Some(report) = of_mut(response) else { return };
    if std::mem::replace(&mut report.logged, true) {
        return;
    }
    tracing::error!(
        target: ERROR_LOG_TARGET,
        status = report.status.as_u16(),
        code = report.code,
        sources = %Sources(&report.sources),
        route = report.route.unwrap_or("-"),
        request_id = report.request_id().unwrap_or("-"),
        "{}",
        report.message
    );
}

/// The source chain as one line: `a: b: c`, or `-` when empty.
struct Sources<'a>(&'a [String]);

impl fmt::Display for Sources<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some((first, rest)) = self.0.split_first() else { return f.write_str("-") };
        f.write_str(first)?;
        for source in rest {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|layer| layer as _)
        }
    }

    #[test]
    fn walks_the_source_chain() {
        let error = Layer("pool exhausted", Some(Box::new(Layer("connection refused", None))));
        let report = ErrorReport::new(StatusCode::SERVICE_UNAVAILABLE, 50320, "database down")
            .caused_by(&error);
        assert_eq!(report.sources(), ["pool exhausted", "connection refused"]);
        assert_eq!(report.to_string(), "database down: pool exhausted: connection refused");
        assert_eq!(Sources(report.sources()).to_string(), "pool exhausted: connection refused");
        assert_eq!(Sources(&[]).to_string(), "-");
    }

    #[test]
    fn route_and_request_id_are_noted_once() {
        let mut report = ErrorReport::new(StatusCode::INTERNAL_SERVER_ERROR, 50000, "boom");
        report.note_route("/a");
        report.note_route("/b");
        report.note_request_id(&HeaderValue::from_static("id-1"));
        report.note_request_id(&HeaderValue::from_static("id-2"));
        assert_eq!((report.route(), report.request_id()), (Some("/a"), Some("id-1")));
    }
}
