//! `Form<T>`: a URL-encoded form body.

use std::future::Future;

use serde::de::DeserializeOwned;

use super::FromRequest;
use super::body::{BodyHead, read_body};
use super::json::media_type;
use super::rejection::FormRejection;
use crate::body::Body;
use crate::context::RequestContext;

/// A form body (`application/x-www-form-urlencoded`), deserialized with
/// `serde_urlencoded`.
///
/// Reads at most the route's body limit and consumes the body, so it must be
/// the handler's last argument. Only the body is read: for the query string
/// of a `GET` form, use [`Query`](super::Query).
///
/// # Errors
///
/// [`FormRejection`]: 415 for a missing or other `content-type`, 413 over the
/// limit, 400 when the form does not fit `T`.
///
/// # Examples
///
/// ```
/// use mambo::prelude::*;
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct SignIn {
///     user: String,
///     password: String,
/// }
///
/// #[route(POST "/sign-in")]
/// async fn sign_in(Form(form): Form<SignIn>) -> String {
///     format!("welcome, {}", form.user)
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Form<T>(pub T);

impl<T> std::ops::Deref for Form<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<S, T> FromRequest<S> for Form<T>
where
    T: DeserializeOwned,
{
    type Rejection = FormRejection;

    fn from_request(
        cx: &RequestContext<'_, S>,
        body: Body,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        let head = BodyHead::of(cx);
        let is_form = media_type(cx.headers())
            .is_some_and(|media| media.eq_ignore_ascii_case("application/x-www-form-urlencoded"));
        async move {
            if !is_form {
                return Err(FormRejection::UnsupportedMediaType);
            }
            let bytes = read_body(head, body).await?;
            serde_urlencoded::from_bytes(&bytes)
                .map(Form)
                .map_err(|error| FormRejection::Invalid { error })
        }
    }
}

#[cfg(test)]
mod tests {
    use http::StatusCode;
    use http::header::CONTENT_TYPE;
    use serde::Deserialize;

    use super::*;
    use crate::extract::body::tests::{Chunked, context, post};

    #[derive(Debug, Deserialize, PartialEq)]
    struct SignIn {
        user: String,
        remember: bool,
    }

    fn form_post() -> http::request::Builder {
        post().header(CONTENT_TYPE, "application/x-www-form-urlencoded; charset=utf-8")
    }

    #[tokio::test]
    async fn deserializes_the_body() {
        let cx = context(form_post().body(()).unwrap(), &(), false);
        let Form(form) = Form::<SignIn>::from_request(&cx, Body::from("user=a%20b&remember=true"))
            .await
            .unwrap();
        assert_eq!(form, SignIn { user: "a b".into(), remember: true });
    }

    #[tokio::test]
    async fn other_content_type_is_415() {
        let cx =
            context(post().header(CONTENT_TYPE, "application/json").body(()).unwrap(), &(), false);
        let err = Form::<SignIn>::from_request(&cx, Body::from("user=a&remember=true"))
            .await
            .unwrap_err();
        assert_eq!(err.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(err.code(), 41500);
    }

    #[tokio::test]
    async fn bad_form_is_400() {
        let cx = context(form_post().body(()).unwrap(), &(), false);
        let err = Form::<SignIn>::from_request(&cx, Body::from("user=a&remember=maybe"))
            .await
            .unwrap_err();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert_eq!(err.code(), 40004);
        assert!(err.message().starts_with("invalid form body: "), "{}", err.message());
    }

    #[tokio::test]
    async fn over_the_limit_is_413() {
        let cx = context(form_post().body(()).unwrap(), &(), true);
        let body = Body::boxed(Chunked::new(&["user=abc", "&remember=true"]));
        let err = Form::<SignIn>::from_request(&cx, body).await.unwrap_err();
        assert!(matches!(err, FormRejection::TooLarge { limit: 8 }), "{err:?}");
    }
}
