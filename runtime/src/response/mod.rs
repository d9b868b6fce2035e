//! Turning handler return values into HTTP responses.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::StatusCode;

use crate::body::ResponseBody;

/// The response type every handler's return value becomes.
pub type Response = http::Response<ResponseBody>;

/// `text/plain; charset=utf-8`
pub(crate) const TEXT_PLAIN: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");
/// `application/json`
pub(crate) const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

/// Anything a handler may return.
///
/// # Examples
///
/// ```
/// use mambo::{IntoResponse, StatusCode};
///
/// let response = (StatusCode::CREATED, "made").into_response();
/// assert_eq!(response.status(), StatusCode::CREATED);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a handler",
    label = "`{Self}` does not implement `IntoResponse`",
    note = "return a type that implements `mambo::IntoResponse`: `&'static str`, `String`, `Json<T>`, `StatusCode`, `(StatusCode, T)`, `Result<T, E>` with `E: IntoResponse`, ..."
)]
pub trait IntoResponse {
    /// Builds the response.
    fn into_response(self) -> Response;
}

impl IntoResponse for Response {
    fn into_response(self) -> Response {
        self
    }
}

impl IntoResponse for () {
    fn into_response(self) -> Response {
        Response::new(ResponseBody::Empty)
    }
}

impl IntoResponse for StatusCode {
    fn into_response(self) -> Response {
        let mut response = Response::new(ResponseBody::Empty);
        *response.status_mut() = self;
        response
    }
}

/// A plain-text response from a buffer.
pub(crate) fn text(body: Bytes) -> Response {
    let mut response = Response::new(ResponseBody::Full(body));
    response.headers_mut().insert(CONTENT_TYPE, TEXT_PLAIN);
    response
}

impl IntoResponse for &'static str {
    fn into_response(self) -> Response {
        text(Bytes::from_static(self.as_bytes()))
    }
}

impl IntoResponse for String {
    fn into_response(self) -> Response {
        text(Bytes::from(self))
    }
}

impl<T: IntoResponse> IntoResponse for (StatusCode, T) {
    fn into_response(self) -> Response {
        let mut response = self.1.into_response();
        *response.status_mut() = self.0;
        response
    }
}

impl<T: IntoResponse, E: IntoResponse> IntoResponse for Result<T, E> {
    fn into_response(self) -> Response {
        match self {
            Ok(value) => value.into_response(),
            Err(err) => err.into_response(),
        }
    }
}
