//! Structured errors: one JSON shape, `{"code": 40401, "message": "..."}`,
//! for the framework's own errors and the application's.
//!
//! # Server errors are reported
//!
//! A 5xx response rendered from an error (an [`ApiError`] such as a
//! `#[derive(ApiError)]` type, an [`Error`] with a 5xx status, a handler's
//! panic, a route's 504) carries an [`ErrorReport`] in its extensions: the
//! status, code and message the client sees, and what it does not see, the
//! error's `source()` chain. The generated router then emits one `tracing`
//! event per such response, at `ERROR` on target [`ERROR_LOG_TARGET`]
//! (`mambo::error`): the error's message as the event's message, and the
//! fields `status`, `code`, `sources` (the chain on one line, `a: b`, or
//! `-`), `route` (the pattern, or `-`) and `request_id` (with
//! [`RequestId`](crate::middleware::RequestId) listed, or `-`). To do more (count
//! them, page someone, send them to an error tracker), list
//! [`OnServerError`](crate::middleware::OnServerError) with a closure.
//!
//! 4xx responses are the client's mistakes and are not reported; a
//! response built without an error (`StatusCode::INTERNAL_SERVER_ERROR`
//! returned as is) has no report either.
//!
//! # Codes
//!
//! The codes Mambo produces are listed in [one table](crate::extract::rejection),
//! with the rule that keeps the application's codes apart from them.

use std::borrow::Cow;
use std::sync::OnceLock;

use http::StatusCode;
use http::header::CONTENT_TYPE;

use crate::body::ResponseBody;
use crate::response::{APPLICATION_JSON, IntoResponse, Response};

mod report;

pub use report::{ERROR_LOG_TARGET, ErrorReport};
pub(crate) use report::{emit as emit_report, of_mut as report_of_mut};

/// An error with a numeric code and a message, rendered as
/// `{"code": …, "message": "…"}`.
///
/// # Deriving
///
/// [`#[derive(ApiError)]`](derive@crate::ApiError) implements it (and
/// `Display`, `std::error::Error`, [`IntoResponse`], `From` for `#[from]`
/// fields) from `#[api(code = .., message = "..")]` on each variant; its
/// page lists every attribute.
///
/// ```
/// use mambo::prelude::*;
///
/// #[derive(Debug, ApiError)]
/// enum AppError {
///     #[api(code = 40420, message = "user {0} not found")]
///     UserNotFound(u64),
///     #[api(code = 50320, message = "database unavailable")]
///     Database(#[from] std::io::Error),
/// }
///
/// let err = AppError::UserNotFound(7);
/// assert_eq!((err.code(), err.status()), (40420, StatusCode::NOT_FOUND));
/// assert_eq!(err.to_string(), "user 7 not found");
/// ```
///
/// Codes: the status, then two digits that tell errors of one status apart.
/// Mambo's own codes and the ones to keep clear of are in
/// [the table](crate::extract::rejection#error-codes).
///
/// # Implementing by hand
///
/// To return it from handlers, implement [`IntoResponse`] with [`render`]
/// (or [`render_error`] for a type that is also a `std::error::Error`, so
/// its source chain reaches the 5xx's [`ErrorReport`]).
///
/// ```
/// use std::borrow::Cow;
/// use mambo::{ApiError, IntoResponse, Response, StatusCode};
///
/// struct UserNotFound(u64);
///
/// impl ApiError for UserNotFound {
///     fn code(&self) -> u32 { 40420 }
///     fn message(&self) -> Cow<'_, str> { format!("user {} not found", self.0).into() }
/// }
///
/// impl IntoResponse for UserNotFound {
///     fn into_response(self) -> Response {
///         mambo::error::render(&self)
///     }
/// }
///
/// assert_eq!(UserNotFound(7).status(), StatusCode::NOT_FOUND);
/// assert_eq!(UserNotFound(7).into_response().status(), StatusCode::NOT_FOUND);
/// ```
pub trait ApiError {
    /// The error's code: the HTTP status, optionally followed by two digits
    /// that tell errors with the same status apart (`40401`).
    fn code(&self) -> u32;

    /// A message for the client.
    fn message(&self) -> Cow<'_, str>;

    /// The HTTP status; by default derived from the code with
    /// [`status_from_code`].
    fn status(&self) -> StatusCode {
        status_from_code(self.code())
    }
}

/// Derives an HTTP status from an error code: a 3-digit code is the status
/// itself, a 5-digit code's first three digits are (`40401` → 404). Anything
/// else, or a status outside 400..=599, is 500.
///
/// # Examples
///
/// ```
/// use mambo::{error::status_from_code, StatusCode};
///
/// assert_eq!(status_from_code(40401), StatusCode::NOT_FOUND);
/// assert_eq!(status_from_code(503), StatusCode::SERVICE_UNAVAILABLE);
/// assert_eq!(status_from_code(7), StatusCode::INTERNAL_SERVER_ERROR);
/// ```
pub const fn status_from_code(code: u32) -> StatusCode {
    let status = match code {
        100..=999 => code,
        10_000..=99_999 => code / 100,
        _ => 500,
    };
    if status < 400 || status > 599 {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    match StatusCode::from_u16(status as u16) {
        Ok(status) => status,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Whether `code` is one Mambo keeps for its own errors: a 5-digit code
/// ending in `00` (the generic code of its status, what [`Error::new`]
/// gives), or ending in `01` to `19` under 400, 500 or 503, where Mambo
/// numbers its errors (see the [table](crate::extract::rejection#error-codes)).
/// Every code Mambo produces is reserved, and new ones will be too.
///
/// Give your errors codes for which this is `false`: any code ending in `20`
/// to `99` is never Mambo's, whatever its status.
///
/// # Examples
///
/// ```
/// use mambo::error::is_reserved_code;
///
/// assert!(is_reserved_code(40400) && is_reserved_code(40011) && is_reserved_code(50301));
/// assert!(!is_reserved_code(40420) && !is_reserved_code(50320) && !is_reserved_code(40401));
/// assert!(!is_reserved_code(404), "a bare status is yours to use");
/// ```
pub const fn is_reserved_code(code: u32) -> bool {
    if code < 10_000 || code > 99_999 {
        return false;
    }
    let (status, number) = (code / 100, code % 100);
    number == 0 || (number < 20 && matches!(status, 400 | 500 | 503))
}

/// Renders any [`ApiError`] as the JSON error response; a 5xx gets an
/// [`ErrorReport`] (without a source chain: see [`render_error`]).
pub fn render(error: &(impl ApiError + ?Sized)) -> Response {
    render_parts(error.status(), error.code(), &error.message())
}

/// Renders an [`ApiError`] that is also a `std::error::Error` as the JSON
/// error response; a 5xx gets an [`ErrorReport`] with the error's
/// `source()` chain. `#[derive(ApiError)]` renders with this.
///
/// # Examples
///
/// ```
/// use std::borrow::Cow;
/// use mambo::error::{ApiError, ErrorReport, render_error};
///
/// #[derive(Debug)]
/// struct Unavailable(std::io::Error);
///
/// impl std::fmt::Display for Unavailable {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         f.write_str("storage unavailable")
///     }
/// }
///
/// impl std::error::Error for Unavailable {
///     fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
///         Some(&self.0)
///     }
/// }
///
/// impl ApiError for Unavailable {
///     fn code(&self) -> u32 { 50320 }
///     fn message(&self) -> Cow<'_, str> { "storage unavailable".into() }
/// }
///
/// let error = Unavailable(std::io::Error::other("disk on fire"));
/// let response = render_error(&error);
/// assert_eq!(ErrorReport::of(&response).unwrap().sources(), ["disk on fire"]);
/// ```
pub fn render_error(error: &(impl ApiError + std::error::Error + ?Sized)) -> Response {
    let (status, code, message) = (error.status(), error.code(), error.message());
    let mut response = render_unreported(status, code, &message);
    if status.is_server_error() {
        report::attach(&mut response, status, code, &message, error.source());
    }
    response
}

#[derive(serde::Serialize)]
struct ErrorBody<'a> {
    code: u32,
    message: &'a str,
}

/// Renders an error response for a status, code and message: with the
/// renderer set by [`set_renderer`], or [`render_json`] when none is.
///
/// Every error Mambo produces (404, 405, rejections, 500, 503, 504) and every
/// [`ApiError`] goes through here. A 5xx gets an [`ErrorReport`].
pub fn render_parts(status: StatusCode, code: u32, message: &str) -> Response {
    let mut response = render_unreported(status, code, message);
    if status.is_server_error() {
        report::attach(&mut response, status, code, message, None);
    }
    response
}

/// [`render_parts`] without the report: for the answers the server gives
/// without running the router (load shedding), which no one reports and
/// which must stay cheap when they come by the thousand.
pub(crate) fn render_unreported(status: StatusCode, code: u32, message: &str) -> Response {
    match RENDERER.get() {
        Some(render) => render(status, code, message),
        None => render_json(status, code, message),
    }
}

/// A function that renders an error response from its status, code and
/// message; see [`set_renderer`].
pub type Renderer = fn(StatusCode, u32, &str) -> Response;

static RENDERER: OnceLock<Renderer> = OnceLock::new();

/// Replaces how every error response is rendered, for the whole process.
///
/// Call it once at startup, before serving. Without it, errors render with
/// [`render_json`]; checking for a renderer costs one atomic load per error
/// response.
///
/// # Errors
///
/// Gives `render` back when a renderer was already set: it can be set only
/// once, so that no request sees the renderer change.
///
/// # Examples
///
/// ```
/// use mambo::error::{render_json, set_renderer};
/// use mambo::header::HeaderValue;
/// use mambo::{IntoResponse, Response, StatusCode};
///
/// /// The default JSON, plus a link to the docs of the error code.
/// fn render(status: StatusCode, code: u32, message: &str) -> Response {
///     let mut response = render_json(status, code, message);
///     let link = format!("<https://docs.example.com/errors/{code}>; rel=\"help\"");
///     if let Ok(link) = HeaderValue::try_from(link) {
///         response.headers_mut().insert("link", link);
///     }
///     response
/// }
///
/// set_renderer(render).expect("set once at startup");
/// let response = mambo::Error::not_found().into_response();
/// assert_eq!(response.headers()["link"], "<https://docs.example.com/errors/40400>; rel=\"help\"");
/// ```
pub fn set_renderer(render: Renderer) -> Result<(), Renderer> {
    RENDERER.set(render)
}

/// The default error renderer: `status`, `content-type: application/json` and
/// `{"code": code, "message": message}`, serialized into the pooled buffer.
pub fn render_json(status: StatusCode, code: u32, message: &str) -> Response {
    let body = crate::buffer::json_pooled(&ErrorBody { code, message })
        .expect("serializing a u32 and a str cannot fail");
    let mut response = Response::new(ResponseBody::Full(body));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, APPLICATION_JSON);
    response
}

/// An error produced by the framework itself (404, 405, 400, 413, 415, 500,
/// 503, 504), or built by hand from a status and a message.
///
/// # Examples
///
/// ```
/// use mambo::{Error, StatusCode};
///
/// let err = Error::new(StatusCode::BAD_REQUEST, "missing `q`");
/// assert_eq!(err.code(), 40000);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    status: StatusCode,
    code: u32,
    message: Cow<'static, str>,
}

impl Error {
    /// An error with `status`, code `status * 100`, and `message`.
    pub fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        Error { status, code: u32::from(status.as_u16()) * 100, message: message.into() }
    }

    /// An error with an explicit code.
    pub fn with_code(status: StatusCode, code: u32, message: impl Into<Cow<'static, str>>) -> Self {
        Error { status, code, message: message.into() }
    }

    /// The error code.
    pub fn code(&self) -> u32 {
        self.code
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// 404: no route matches the path.
    pub fn not_found() -> Self {
        Error::new(StatusCode::NOT_FOUND, "no route matches this path")
    }

    /// 405: a route matches the path but not the method.
    pub fn method_not_allowed() -> Self {
        Error::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed for this path")
    }

    /// 500: a handler or middleware panicked.
    pub fn internal() -> Self {
        Error::new(StatusCode::INTERNAL_SERVER_ERROR, "internal server error")
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for Error {}

impl ApiError for Error {
    fn code(&self) -> u32 {
        self.code
    }

    fn message(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.message)
    }

    fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        render(&self)
    }
}

/// Turns a `#[source]` field into `&dyn Error`; used by `#[derive(ApiError)]`.
///
/// Implemented for every sized error type and for the `dyn Error` trait
/// objects, so a `Box<dyn Error + Send + Sync>` field works too (method
/// calls reach the trait object through the box).
#[doc(hidden)]
pub trait AsDynError<'a> {
    /// The field as a trait object.
    fn as_dyn_error(&self) -> &(dyn std::error::Error + 'a);
}

impl<'a, T: std::error::Error + 'a> AsDynError<'a> for T {
    #[inline]
    fn as_dyn_error(&self) -> &(dyn std::error::Error + 'a) {
        self
    }
}

macro_rules! as_dyn_error_for_trait_objects {
    ($($object:ty),+) => {$(
        impl<'a> AsDynError<'a> for $object {
            #[inline]
            fn as_dyn_error(&self) -> &(dyn std::error::Error + 'a) {
                self
            }
        }
    )+};
}

as_dyn_error_for_trait_objects!(
    dyn std::error::Error + 'a,
    dyn std::error::Error + Send + 'a,
    dyn std::error::Error + Send + Sync + 'a,
    dyn std::error::Error + Sync + 'a
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_from_code_table() {
        let rows = [
            (40401, 404),
            (404, 404),
            (50301, 503),
            (400, 400),
            (599, 599),
            (200, 500),
            (20001, 500),
            (0, 500),
            (1_000_000, 500),
        ];
        for (code, status) in rows {
            assert_eq!(status_from_code(code).as_u16(), status, "code {code}");
        }
    }

    #[test]
    fn reserved_codes() {
        let rows = [
            (40000, true),
            (40011, true),
            (40019, true),
            (40020, false),
            (40400, true),
            (40401, false),
            (42201, false),
            (42900, true),
            (50004, true),
            (50020, false),
            (50303, true),
            (50320, false),
            (50400, true),
            (50401, false),
            (404, false),
            (1001, false),
        ];
        for (code, reserved) in rows {
            assert_eq!(is_reserved_code(code), reserved, "code {code}");
        }
    }

    #[test]
    fn renders_the_json_shape() {
        let response = Error::not_found().into_response();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(
            response.body().as_bytes().unwrap(),
            br#"{"code":40400,"message":"no route matches this path"}"#
        );
    }
}
