//! `Extension<T>`: a value a middleware put in the request extensions.

use std::future::Future;

use super::rejection::ExtensionRejection;
use super::{FromRequestParts, OptionalFromRequestParts};
use crate::context::RequestContext;

/// A value a middleware inserted into the request extensions, cloned out for
/// the handler: how middleware hands data (the signed-in user, a tenant, a
/// database transaction handle) to the handlers after it.
///
/// The middleware's `before` inserts it with
/// [`cx.extensions_mut().insert(value)`](RequestContext::extensions_mut);
/// the handler takes `Extension<T>` (or `Option<Extension<T>>` when the
/// middleware may leave it out).
///
/// # Cost
///
/// One clone of `T` per extraction (keep it cheap: `Arc`s, ids, small
/// structs) and a lookup in the extension map. The map itself is allocated
/// by the middleware's first insert, so a route that uses no extension pays
/// nothing.
///
/// # Errors
///
/// [`ExtensionRejection::Missing`], a 500 (code `50004`) whose message names
/// `T`, when no middleware inserted a `T` for this request: the router is
/// set up wrong (the middleware is not listed, or is listed in a scope this
/// route is not in), which is the server's fault, not the client's.
///
/// # Examples
///
/// ```
/// use mambo::prelude::*;
/// use mambo::extract::Extension;
///
/// /// Who is calling; put there by `Authenticate`.
/// #[derive(Clone)]
/// struct User {
///     name: String,
/// }
///
/// #[derive(Default)]
/// struct Authenticate;
///
/// impl<S: Sync> Middleware<S> for Authenticate {
///     type Local = ();
///
///     async fn before(&self, cx: &mut RequestContext<'_, S>, _: &mut ()) -> Flow {
///         let name = cx.headers().get("x-user").and_then(|v| v.to_str().ok()).map(str::to_owned);
///         match name {
///             Some(name) => {
///                 cx.extensions_mut().insert(User { name });
///                 Flow::Continue
///             }
///             None => Flow::Respond(Error::new(StatusCode::UNAUTHORIZED, "who are you?").into_response()),
///         }
///     }
/// }
///
/// #[route(GET "/me")]
/// async fn me(Extension(user): Extension<User>) -> String {
///     format!("hello, {}", user.name)
/// }
///
/// mambo::router! {
///     struct App {
///         middleware: [Authenticate],
///         routes: [me],
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let client = mambo::test::TestClient::new(App::new());
/// assert_eq!(client.get("/me").header("x-user", "ada").send().await.text(), "hello, ada");
/// # });
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extension<T>(pub T);

impl<T> std::ops::Deref for Extension<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<S, T> FromRequestParts<S> for Extension<T>
where
    T: Clone + Send + Sync + 'static,
{
    type Rejection = ExtensionRejection;

    fn from_request_parts(
        cx: &RequestContext<'_, S>,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        let value = cx.extensions().get::<T>().cloned().map(Extension);
        std::future::ready(value.ok_or_else(ExtensionRejection::missing::<T>))
    }
}

/// `Option<Extension<T>>`: `None` when no middleware inserted a `T`.
impl<S, T> OptionalFromRequestParts<S> for Extension<T>
where
    T: Clone + Send + Sync + 'static,
{
    type Rejection = std::convert::Infallible;

    fn from_request_parts(
        cx: &RequestContext<'_, S>,
    ) -> impl Future<Output = Result<Option<Self>, Self::Rejection>> + Send {
        std::future::ready(Ok(cx.extensions().get::<T>().cloned().map(Extension)))
    }
}

#[cfg(test)]
mod tests {
    use http::StatusCode;

    use super::*;
    use crate::context::ConnInfo;

    #[derive(Debug, Clone, PartialEq)]
    struct Tenant(&'static str);

    fn context(tenant: Option<Tenant>) -> RequestContext<'static, ()> {
        let (mut parts, ()) = http::Request::new(()).into_parts();
        if let Some(tenant) = tenant {
            parts.extensions.insert(tenant);
        }
        RequestContext::new(parts, &(), ConnInfo::default(), None)
    }

    #[tokio::test]
    async fn clones_the_value_out() {
        let cx = context(Some(Tenant("acme")));
        let Extension(tenant) =
            <Extension<Tenant> as FromRequestParts<()>>::from_request_parts(&cx).await.unwrap();
        assert_eq!(tenant, Tenant("acme"));
        let again = <Extension<Tenant> as OptionalFromRequestParts<()>>::from_request_parts(&cx);
        assert_eq!(again.await.unwrap(), Some(Extension(Tenant("acme"))));
    }

    #[tokio::test]
    async fn missing_is_a_500_that_names_the_type() {
        let cx = context(None);
        let rejection =
            <Extension<Tenant> as FromRequestParts<()>>::from_request_parts(&cx).await.unwrap_err();
        assert_eq!(rejection.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(rejection.code(), 50004);
        let message = rejection.message();
        assert!(message.contains("extension::tests::Tenant"), "{message}");
        assert!(message.contains("middleware"), "{message}");
        let absent = <Extension<Tenant> as OptionalFromRequestParts<()>>::from_request_parts(&cx);
        assert_eq!(absent.await.unwrap(), None);
    }
}
