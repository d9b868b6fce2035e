//! `Option<T>` extractors: absent is `None`, present but invalid is still an
//! error.

use std::future::Future;

use super::FromRequestParts;
use crate::context::RequestContext;
use crate::response::IntoResponse;

/// A head extractor that can also be taken as `Option<Self>`.
///
/// Returns `Ok(None)` when what the extractor reads is absent (no such
/// header, no query string, no peer address) and still rejects when it is
/// present but invalid, so a malformed value is never silently ignored.
///
/// Implemented by [`Header<T>`](super::Header), [`Query<T>`](super::Query)
/// and [`ClientAddr`](super::ClientAddr).
///
/// # Examples
///
/// ```
/// use mambo::extract::{FromRequestParts, OptionalFromRequestParts};
/// use mambo::RequestContext;
/// use std::convert::Infallible;
///
/// /// The `x-trace` header, when the caller sent one.
/// struct Trace(String);
///
/// impl<S: Sync> OptionalFromRequestParts<S> for Trace {
///     type Rejection = Infallible;
///
///     async fn from_request_parts(cx: &RequestContext<'_, S>) -> Result<Option<Self>, Infallible> {
///         let value = cx.headers().get("x-trace").and_then(|v| v.to_str().ok());
///         Ok(value.map(|v| Trace(v.to_owned())))
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`Option<{Self}>` is not an extractor",
    label = "`{Self}` does not implement `OptionalFromRequestParts<{S}>`",
    note = "`Option<T>` works for extractors whose absence is meaningful: `Option<Header<T>>`, `Option<Query<T>>`, `Option<ClientAddr>`"
)]
pub trait OptionalFromRequestParts<S>: Sized {
    /// What the client gets when the value is present but invalid.
    type Rejection: IntoResponse;

    /// Extracts the value, or `None` when it is absent.
    fn from_request_parts(
        cx: &RequestContext<'_, S>,
    ) -> impl Future<Output = Result<Option<Self>, Self::Rejection>> + Send;
}

impl<S, T> FromRequestParts<S> for Option<T>
where
    T: OptionalFromRequestParts<S>,
{
    type Rejection = T::Rejection;

    fn from_request_parts(
        cx: &RequestContext<'_, S>,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        T::from_request_parts(cx)
    }
}
