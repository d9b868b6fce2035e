//! `Redirect`: 303, 307 and 308 responses.

use http::StatusCode;
use http::header::{HeaderValue, LOCATION};

use super::{IntoResponse, Response};
use crate::error::Error;

/// A redirect to another URI, relative or absolute.
///
/// | constructor | status | the client repeats the request with |
/// |---|---|---|
/// | [`Redirect::to`] | 303 See Other | `GET` (the usual answer to a form `POST`) |
/// | [`Redirect::temporary`] | 307 Temporary Redirect | the same method and body |
/// | [`Redirect::permanent`] | 308 Permanent Redirect | the same method and body, from now on |
///
/// # Errors
///
/// A target that is not a valid header value (control characters) cannot be
/// sent: the response is then a 500 with code `50003`, and the target is
/// logged.
///
/// # Examples
///
/// ```
/// use mambo::response::Redirect;
/// use mambo::{IntoResponse, StatusCode};
///
/// let response = Redirect::to("/login?next=%2Fme").into_response();
/// assert_eq!(response.status(), StatusCode::SEE_OTHER);
/// assert_eq!(response.headers()["location"], "/login?next=%2Fme");
/// ```
#[derive(Debug, Clone)]
#[must_use = "a redirect does nothing until it is returned"]
pub struct Redirect {
    status: StatusCode,
    location: Result<HeaderValue, String>,
}

impl Redirect {
    /// 303 See Other: the client fetches `uri` with `GET`.
    pub fn to(uri: &str) -> Self {
        Redirect::with_status(StatusCode::SEE_OTHER, uri)
    }

    /// 307 Temporary Redirect: the client repeats the request, same method
    /// and body, at `uri`.
    pub fn temporary(uri: &str) -> Self {
        Redirect::with_status(StatusCode::TEMPORARY_REDIRECT, uri)
    }

    /// 308 Permanent Redirect: like [`temporary`](Self::temporary), and
    /// clients may remember it.
    pub fn permanent(uri: &str) -> Self {
        Redirect::with_status(StatusCode::PERMANENT_REDIRECT, uri)
    }

    fn with_status(status: StatusCode, uri: &str) -> Self {
        Redirect { status, location: HeaderValue::try_from(uri).map_err(|_| uri.to_owned()) }
    }

    /// The status the response will have.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The `location` the response will have; `None` when the target is not
    /// a valid header value.
    pub fn location(&self) -> Option<&HeaderValue> {
        self.location.as_ref().ok()
    }
}

impl IntoResponse for Redirect {
    fn into_response(self) -> Response {
        match self.location {
            Ok(location) => {
                let mut response = self.status.into_response();
                response.headers_mut().insert(LOCATION, location);
                response
            }
            Err(target) => {
                tracing::error!(target, "redirect target is not a valid `location` header value");
                Error::with_code(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    50003,
                    "the response has an invalid header",
                )
                .into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(
            Redirect::temporary("/a").into_response().status(),
            StatusCode::TEMPORARY_REDIRECT
        );
        let response = Redirect::permanent("https://example.com/").into_response();
        assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(response.headers()[LOCATION], "https://example.com/");
    }

    #[test]
    fn invalid_target_is_a_500() {
        let redirect = Redirect::to("/a\nb");
        assert_eq!(redirect.location(), None);
        let response = redirect.into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(response.headers().get(LOCATION).is_none());
    }
}
