//! Turning handler return values into HTTP responses.

use std::borrow::Cow;
use std::convert::Infallible;

use bytes::Bytes;
use http::StatusCode;
use http::header::{CONTENT_TYPE, HeaderValue};

use crate::body::ResponseBody;
use crate::error::Error;

mod headers;
mod html;
mod redirect;
mod stream;

pub use crate::extract::Json;
pub use headers::ResponseHeaders;
pub use html::Html;
pub use redirect::Redirect;
pub use stream::StreamBody;

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

/// `application/octet-stream`
const OCTET_STREAM: HeaderValue = HeaderValue::from_static("application/octet-stream");

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

/// Never built: lets extractors that cannot fail use `Infallible` as their
/// rejection.
impl IntoResponse for Infallible {
    fn into_response(self) -> Response {
        match self {}
    }
}

impl IntoResponse for Cow<'static, str> {
    fn into_response(self) -> Response {
        match self {
            Cow::Borrowed(text) => text.into_response(),
            Cow::Owned(text) => text.into_response(),
        }
    }
}

/// A binary response from a buffer.
fn octets(body: Bytes) -> Response {
    let mut response = Response::new(ResponseBody::Full(body));
    response.headers_mut().insert(CONTENT_TYPE, OCTET_STREAM);
    response
}

/// `application/octet-stream`, sent without a copy.
impl IntoResponse for Bytes {
    fn into_response(self) -> Response {
        octets(self)
    }
}

/// `application/octet-stream`; the vector's allocation becomes the body.
impl IntoResponse for Vec<u8> {
    fn into_response(self) -> Response {
        octets(Bytes::from(self))
    }
}

/// `&'static [u8]` as `application/octet-stream`, without a copy.
impl IntoResponse for &'static [u8] {
    fn into_response(self) -> Response {
        octets(Bytes::from_static(self))
    }
}

/// `Some(value)` is `value`'s response; `None` is a 404 with code `40400`,
/// in the JSON error shape.
///
/// # Examples
///
/// ```
/// use mambo::{IntoResponse, StatusCode};
///
/// let missing: Option<String> = None;
/// assert_eq!(missing.into_response().status(), StatusCode::NOT_FOUND);
/// ```
impl<T: IntoResponse> IntoResponse for Option<T> {
    fn into_response(self) -> Response {
        match self {
            Some(value) => value.into_response(),
            None => Error::new(StatusCode::NOT_FOUND, "not found").into_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(response: &Response) -> &[u8] {
        response.body().as_bytes().unwrap()
    }

    #[test]
    fn content_types_table() {
        let rows: [(Response, &str, &[u8]); 7] = [
            ("hi".into_response(), "text/plain; charset=utf-8", b"hi"),
            (String::from("hi").into_response(), "text/plain; charset=utf-8", b"hi"),
            (Cow::Borrowed("hi").into_response(), "text/plain; charset=utf-8", b"hi"),
            (Bytes::from_static(b"\x00").into_response(), "application/octet-stream", b"\x00"),
            (vec![1u8, 2].into_response(), "application/octet-stream", &[1, 2]),
            ((&b"ab"[..]).into_response(), "application/octet-stream", b"ab"),
            (Html("<p>").into_response(), "text/html; charset=utf-8", b"<p>"),
        ];
        for (response, content_type, expected) in &rows {
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.headers()[CONTENT_TYPE], *content_type);
            assert_eq!(body(response), *expected);
        }
    }

    #[test]
    fn option_none_is_a_json_404() {
        let response = Some("here").into_response();
        assert_eq!(body(&response), b"here");
        let response = None::<&'static str>.into_response();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(body(&response), br#"{"code":40400,"message":"not found"}"#);
    }

    #[test]
    fn status_tuple_and_result() {
        let response = (StatusCode::CREATED, Json(1)).into_response();
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(body(&response), b"1");
        let result: Result<&'static str, Error> = Err(Error::new(StatusCode::CONFLICT, "taken"));
        let response = result.into_response();
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert_eq!(body(&response), br#"{"code":40900,"message":"taken"}"#);
    }
}
