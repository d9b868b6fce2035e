//! Extractors: how handler arguments are built from the request.
//!
//! A handler argument whose name is a path parameter is parsed from that
//! parameter with [`FromParam`]. Every other argument is an extractor:
//! [`FromRequestParts`] for those that read the request head (headers, query,
//! state), [`FromRequest`] for the one that consumes the body. As in axum, the
//! body extractor must be the last extractor argument, so a handler can never
//! have two.

use std::future::Future;

use crate::body::Body;
use crate::context::RequestContext;
use crate::response::IntoResponse;

pub(crate) mod body;
mod extension;
mod form;
mod head;
mod header;
mod json;
mod optional;
mod param;
mod query;
pub mod rejection;
mod safe_path;
mod state;

pub use extension::Extension;
pub use form::Form;
pub use head::ClientAddr;
pub use header::{BearerToken, ContentLength, Header, Host, TypedHeader, UserAgent};
pub use json::Json;
pub use optional::OptionalFromRequestParts;
pub(crate) use param::reject_param;
pub use param::{FromParam, ParamError, PathParamRejection, decode_param};
pub use query::Query;
pub use safe_path::SafePath;
pub use state::{FromRef, State};

/// An extractor that reads only the request head.
///
/// # Examples
///
/// ```
/// use mambo::extract::FromRequestParts;
/// use mambo::{Error, RequestContext, StatusCode};
///
/// /// The caller's API key, from `x-api-key`.
/// struct ApiKey(String);
///
/// impl<S: Sync> FromRequestParts<S> for ApiKey {
///     type Rejection = Error;
///
///     async fn from_request_parts(cx: &RequestContext<'_, S>) -> Result<Self, Error> {
///         cx.headers()
///             .get("x-api-key")
///             .and_then(|v| v.to_str().ok())
///             .map(|key| ApiKey(key.to_owned()))
///             .ok_or_else(|| Error::new(StatusCode::UNAUTHORIZED, "missing `x-api-key` header"))
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an extractor that reads the request head",
    label = "`{Self}` does not implement `FromRequestParts<{S}>`",
    note = "only the last extractor argument may consume the request body (`Json`, `Form`, `String`, `Bytes`, `Body`); move it last, and keep only one",
    note = "an argument named after a path parameter (`:name`) is parsed with `FromParam` instead"
)]
pub trait FromRequestParts<S>: Sized {
    /// What the client gets when extraction fails.
    type Rejection: IntoResponse;

    /// Extracts the value.
    fn from_request_parts(
        cx: &RequestContext<'_, S>,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send;
}

/// Marker for [`FromRequest`] impls that consume the body.
#[derive(Debug)]
pub enum ViaBody {}

/// Marker for the [`FromRequest`] impl that every [`FromRequestParts`] type gets.
#[derive(Debug)]
pub enum ViaParts {}

/// An extractor that may consume the request body; at most one per handler,
/// in last position.
///
/// `M` is a marker that keeps the blanket impl for [`FromRequestParts`]
/// types apart from body extractors; implement `FromRequest<S>` (the default
/// `M`) for your own body extractors.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an extractor",
    label = "`{Self}` implements neither `FromRequestParts<{S}>` nor `FromRequest<{S}>`",
    note = "a handler argument must be a path parameter (named like `:name` in the route), or implement `mambo::extract::FromRequestParts` (reads the head) or `mambo::extract::FromRequest` (consumes the body)"
)]
pub trait FromRequest<S, M = ViaBody>: Sized {
    /// What the client gets when extraction fails.
    type Rejection: IntoResponse;

    /// Extracts the value, consuming the body.
    fn from_request(
        cx: &RequestContext<'_, S>,
        body: Body,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send;
}

impl<S, T> FromRequest<S, ViaParts> for T
where
    S: Sync,
    T: FromRequestParts<S>,
{
    type Rejection = T::Rejection;

    fn from_request(
        cx: &RequestContext<'_, S>,
        _body: Body,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        T::from_request_parts(cx)
    }
}
