//! `Html<T>`: a response with `content-type: text/html`.

use http::header::{CONTENT_TYPE, HeaderValue};

use super::{IntoResponse, Response};

/// An HTML response: `T`'s response with `content-type: text/html;
/// charset=utf-8`.
///
/// # Examples
///
/// ```
/// use mambo::response::Html;
/// use mambo::IntoResponse;
///
/// let response = Html("<h1>Hello</h1>").into_response();
/// assert_eq!(response.headers()["content-type"], "text/html; charset=utf-8");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Html<T>(pub T);

const TEXT_HTML: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");

impl<T: IntoResponse> IntoResponse for Html<T> {
    fn into_response(self) -> Response {
        let mut response = self.0.into_response();
        response.headers_mut().insert(CONTENT_TYPE, TEXT_HTML);
        response
    }
}

impl<T> From<T> for Html<T> {
    fn from(value: T) -> Self {
        Html(value)
    }
}
