//! `Json<T>`: a JSON request body in, a JSON response out.

use std::future::Future;

use http::StatusCode;
use http::header::{CONTENT_TYPE, HeaderMap};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::FromRequest;
use super::body::{BodyHead, read_body};
use super::rejection::JsonRejection;
use crate::body::{Body, ResponseBody};
use crate::context::RequestContext;
use crate::error::Error;
use crate::response::{APPLICATION_JSON, IntoResponse, Response};

/// JSON: as an extractor, deserializes the request body; as a response,
/// serializes the value.
///
/// As an extractor it requires `content-type: application/json` (or
/// `application/<anything>+json`, parameters such as `charset` allowed) and
/// reads at most the route's body limit (`body_limit = ".."`, or the server's
/// default of [`DEFAULT_BODY_LIMIT`](crate::DEFAULT_BODY_LIMIT)). It consumes
/// the body, so it must be the handler's last argument.
///
/// As a response it serializes straight into the thread's pooled response
/// buffer (see [`buffer`](crate::buffer)): no intermediate `Vec`, and in
/// steady state no allocation.
///
/// # Errors
///
/// [`JsonRejection`]: 415 for a missing or other `content-type`, 413 over the
/// limit, 400 for invalid JSON or JSON of the wrong shape (the message carries
/// serde_json's line and column).
///
/// A value that fails to serialize (a map with non-string keys, a custom
/// `Serialize` that errors) becomes a 500 with code `50002`, and is logged.
///
/// # Examples
///
/// ```
/// use mambo::prelude::*;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Deserialize)]
/// struct NewUser {
///     name: String,
/// }
///
/// #[derive(Serialize)]
/// struct User {
///     id: u64,
///     name: String,
/// }
///
/// #[route(POST "/users")]
/// async fn create_user(Json(new): Json<NewUser>) -> (StatusCode, Json<User>) {
///     (StatusCode::CREATED, Json(User { id: 1, name: new.name }))
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[must_use]
pub struct Json<T>(pub T);

impl<T> std::ops::Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> std::ops::DerefMut for Json<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T> From<T> for Json<T> {
    fn from(value: T) -> Self {
        Json(value)
    }
}

/// Whether the request says its body is JSON: `application/json` or
/// `application/*+json`, any parameters, any case.
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    let Some(essence) = media_type(headers) else { return false };
    let Some((kind, subtype)) = essence.split_once('/') else { return false };
    kind.trim().eq_ignore_ascii_case("application") && {
        let subtype = subtype.trim();
        subtype.eq_ignore_ascii_case("json")
            || (subtype.len() > 5 && subtype[subtype.len() - 5..].eq_ignore_ascii_case("+json"))
    }
}

/// The `content-type` without its parameters (`text/html; charset=utf-8` →
/// `text/html`).
pub(crate) fn media_type(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    Some(value.split(';').next().unwrap_or_default().trim())
}

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
{
    type Rejection = JsonRejection;

    fn from_request(
        cx: &RequestContext<'_, S>,
        body: Body,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        let head = BodyHead::of(cx);
        let is_json = is_json(cx.headers());
        async move {
            if !is_json {
                return Err(JsonRejection::UnsupportedMediaType);
            }
            let bytes = read_body(head, body).await?;
            match serde_json::from_slice(&bytes) {
                Ok(value) => Ok(Json(value)),
                Err(error) if error.is_data() => Err(JsonRejection::Data { error }),
                Err(error) => Err(JsonRejection::Syntax { error }),
            }
        }
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        match crate::buffer::json_pooled(&self.0) {
            Ok(bytes) => {
                let mut response = Response::new(ResponseBody::Full(bytes));
                response.headers_mut().insert(CONTENT_TYPE, APPLICATION_JSON);
                response
            }
            Err(err) => {
                tracing::error!(error = %err, "failed to serialize a `Json` response");
                Error::with_code(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    50002,
                    "failed to serialize the response",
                )
                .into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use http::Request;
    use serde::Deserialize;

    use super::*;
    use crate::extract::body::tests::{Chunked, context, post};

    #[derive(Debug, Deserialize, Serialize, PartialEq)]
    struct Pet {
        name: String,
        age: u8,
    }

    async fn json(request: Request<()>, body: Body) -> Result<Json<Pet>, JsonRejection> {
        let cx = context(request, &(), false);
        Json::from_request(&cx, body).await
    }

    fn json_post() -> http::request::Builder {
        post().header(CONTENT_TYPE, "application/json")
    }

    #[tokio::test]
    async fn deserializes_the_body() {
        let Json(pet) =
            json(json_post().body(()).unwrap(), Body::from(r#"{"name":"Rex","age":3}"#))
                .await
                .unwrap();
        assert_eq!(pet, Pet { name: "Rex".into(), age: 3 });
    }

    #[test]
    fn content_type_table() {
        let rows = [
            ("application/json", true),
            ("application/json; charset=utf-8", true),
            ("Application/JSON", true),
            ("application/problem+json", true),
            ("application/vnd.api+json;v=1", true),
            ("application/+json", false),
            ("text/json", false),
            ("application/jsonp", false),
            ("text/plain", false),
            ("", false),
        ];
        for (value, expected) in rows {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, value.parse().unwrap());
            assert_eq!(is_json(&headers), expected, "{value:?}");
        }
        assert!(!is_json(&HeaderMap::new()), "no content-type");
    }

    #[tokio::test]
    async fn wrong_or_missing_content_type_is_415() {
        for request in
            [post().body(()).unwrap(), post().header(CONTENT_TYPE, "text/plain").body(()).unwrap()]
        {
            let err = json(request, Body::from(r#"{"name":"Rex","age":3}"#)).await.unwrap_err();
            assert!(matches!(err, JsonRejection::UnsupportedMediaType));
            let response = err.into_response();
            assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
            assert_eq!(
                response.body().as_bytes().unwrap(),
                br#"{"code":41500,"message":"expected a request body with `content-type: application/json`"}"#
            );
        }
    }

    #[tokio::test]
    async fn malformed_json_is_400_with_line_and_column() {
        let body = Body::from("{\n  \"name\": \"Rex\",\n  \"age\": }");
        let err = json(json_post().body(()).unwrap(), body).await.unwrap_err();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert_eq!(err.code(), 40003);
        assert_eq!(
            err.message(),
            "request body is not valid JSON: expected value at line 3 column 10"
        );
    }

    #[tokio::test]
    async fn truncated_json_is_a_syntax_error() {
        let err = json(json_post().body(()).unwrap(), Body::from(r#"{"name":"#)).await.unwrap_err();
        assert_eq!(err.code(), 40003);
        assert!(err.message().contains("EOF while parsing"), "{}", err.message());
    }

    #[tokio::test]
    async fn wrong_shape_is_400_with_line_and_column() {
        let body = Body::from(r#"{"name":"Rex","age":300}"#);
        let err = json(json_post().body(()).unwrap(), body).await.unwrap_err();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert_eq!(err.code(), 40006);
        assert_eq!(
            err.message(),
            "request body has the wrong shape: invalid value: integer `300`, expected u8 at line 1 column 23"
        );
        let err =
            json(json_post().body(()).unwrap(), Body::from(r#"{"name":"Rex"}"#)).await.unwrap_err();
        assert_eq!(
            err.message(),
            "request body has the wrong shape: missing field `age` at line 1 column 14"
        );
    }

    #[tokio::test]
    async fn over_the_limit_is_413_by_length_and_by_frames() {
        let cx = context(json_post().header("content-length", "100").body(()).unwrap(), &(), true);
        let err = Json::<Pet>::from_request(&cx, Body::from("{}")).await.unwrap_err();
        assert!(matches!(err, JsonRejection::TooLarge { limit: 8 }), "{err:?}");

        let cx = context(json_post().body(()).unwrap(), &(), true);
        let body = Body::boxed(Chunked::new(&[r#"{"name":"#, r#""Rex","age":3}"#]));
        let err = Json::<Pet>::from_request(&cx, body).await.unwrap_err();
        assert_eq!(err.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn response_is_json() {
        let response = Json(Pet { name: "Rex".into(), age: 3 }).into_response();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(response.body().as_bytes().unwrap(), br#"{"name":"Rex","age":3}"#);
    }

    #[test]
    fn unserializable_response_is_500() {
        let mut map = BTreeMap::new();
        map.insert((1, 2), "tuple keys are not JSON");
        let response = Json(map).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            response.body().as_bytes().unwrap(),
            br#"{"code":50002,"message":"failed to serialize the response"}"#
        );
    }
}
