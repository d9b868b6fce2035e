//! Headers in response tuples: `(StatusCode, headers, body)` and
//! `(headers, body)`.

use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, StatusCode};

use super::{IntoResponse, Response};
use crate::error::Error;

/// Headers a handler can return beside its body, in a tuple.
///
/// Implemented for [`HeaderMap`] and for arrays of `(name, value)` pairs whose
/// parts convert into [`HeaderName`] and [`HeaderValue`] (`&str`, `String`,
/// the `http::header` constants). Each header replaces any the body's
/// response already had (`content-type` included).
///
/// # Errors
///
/// An invalid name or value makes the whole response a 500 with code
/// `50003`; the bad header is logged.
///
/// # Examples
///
/// ```
/// use mambo::header::{CACHE_CONTROL, CONTENT_TYPE};
/// use mambo::{IntoResponse, StatusCode};
///
/// let response = (
///     StatusCode::CREATED,
///     [(CONTENT_TYPE, "text/csv"), (CACHE_CONTROL, "no-store")],
///     "id,name\n1,Rex\n",
/// )
///     .into_response();
/// assert_eq!(response.status(), StatusCode::CREATED);
/// assert_eq!(response.headers()["content-type"], "text/csv");
/// ```
pub trait ResponseHeaders {
    /// Writes the headers into `headers`.
    ///
    /// # Errors
    ///
    /// When a name or value is invalid.
    fn apply(self, headers: &mut HeaderMap) -> Result<(), http::Error>;
}

impl ResponseHeaders for HeaderMap {
    fn apply(self, headers: &mut HeaderMap) -> Result<(), http::Error> {
        headers.extend(self);
        Ok(())
    }
}

impl<K, V, const N: usize> ResponseHeaders for [(K, V); N]
where
    K: TryInto<HeaderName>,
    K::Error: Into<http::Error>,
    V: TryInto<HeaderValue>,
    V::Error: Into<http::Error>,
{
    fn apply(self, headers: &mut HeaderMap) -> Result<(), http::Error> {
        for (name, value) in self {
            let name = name.try_into().map_err(Into::into)?;
            let value = value.try_into().map_err(Into::into)?;
            headers.insert(name, value);
        }
        Ok(())
    }
}

fn with_headers(mut response: Response, headers: impl ResponseHeaders) -> Response {
    match headers.apply(response.headers_mut()) {
        Ok(()) => response,
        Err(err) => {
            tracing::error!(error = %err, "a handler returned an invalid response header");
            Error::with_code(
                StatusCode::INTERNAL_SERVER_ERROR,
                50003,
                "the response has an invalid header",
            )
            .into_response()
        }
    }
}

impl<H: ResponseHeaders, T: IntoResponse> IntoResponse for (StatusCode, H, T) {
    fn into_response(self) -> Response {
        let (status, headers, body) = self;
        let mut response = body.into_response();
        *response.status_mut() = status;
        with_headers(response, headers)
    }
}

impl<H: ResponseHeaders, T: IntoResponse> IntoResponse for (H, T) {
    fn into_response(self) -> Response {
        with_headers(self.1.into_response(), self.0)
    }
}

#[cfg(test)]
mod tests {
    use http::header::{CONTENT_TYPE, SET_COOKIE};

    use super::*;

    #[test]
    fn headers_replace_the_bodys_and_status_applies() {
        let response = (StatusCode::ACCEPTED, [(CONTENT_TYPE, "text/csv")], "a,b").into_response();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        assert_eq!(response.headers()[CONTENT_TYPE], "text/csv");
        assert_eq!(response.body().as_bytes().unwrap(), b"a,b");
    }

    #[test]
    fn header_map_and_string_pairs() {
        let mut map = HeaderMap::new();
        map.append(SET_COOKIE, HeaderValue::from_static("a=1"));
        map.append(SET_COOKIE, HeaderValue::from_static("b=2"));
        let response = (map, "ok").into_response();
        assert_eq!(response.headers().get_all(SET_COOKIE).iter().count(), 2);
        let response = ([("x-request-id", String::from("42"))], ()).into_response();
        assert_eq!(response.headers()["x-request-id"], "42");
    }

    #[test]
    fn invalid_header_turns_the_response_into_a_500() {
        let response = (StatusCode::OK, [("bad header", "x")], "body").into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            response.body().as_bytes().unwrap(),
            br#"{"code":50003,"message":"the response has an invalid header"}"#
        );
    }
}
