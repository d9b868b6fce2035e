//! `Query<T>`: the query string, deserialized.

use std::future::Future;

use serde::de::DeserializeOwned;

use super::rejection::QueryRejection;
use super::{FromRequestParts, OptionalFromRequestParts};
use crate::context::RequestContext;

/// The query string, deserialized with `serde_urlencoded`.
///
/// A request without a query string deserializes from the empty string, so a
/// `T` whose fields are all `Option` or `#[serde(default)]` always succeeds;
/// take `Option<Query<T>>` to tell "no query string" apart (it is `None`
/// then, and a present but invalid query is still rejected).
///
/// # Errors
///
/// [`QueryRejection`]: 400 when the query does not fit `T`.
///
/// # Examples
///
/// ```
/// use mambo::prelude::*;
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Page {
///     #[serde(default)]
///     offset: u32,
///     limit: Option<u32>,
/// }
///
/// #[route(GET "/users")]
/// async fn list_users(Query(page): Query<Page>) -> String {
///     format!("from {} take {}", page.offset, page.limit.unwrap_or(20))
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Query<T>(pub T);

impl<T> std::ops::Deref for Query<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> Query<T> {
    /// Deserializes a query string (without the `?`).
    ///
    /// # Errors
    ///
    /// When the query does not fit `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// use mambo::extract::Query;
    /// use std::collections::HashMap;
    ///
    /// let Query(map) = Query::<HashMap<String, String>>::parse("q=rust%20web&page=2").unwrap();
    /// assert_eq!(map["q"], "rust web");
    /// ```
    pub fn parse(query: &str) -> Result<Self, QueryRejection> {
        serde_urlencoded::from_str(query)
            .map(Query)
            .map_err(|error| QueryRejection::Invalid { error })
    }
}

impl<S, T> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned + Send,
{
    type Rejection = QueryRejection;

    fn from_request_parts(
        cx: &RequestContext<'_, S>,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        std::future::ready(Query::parse(cx.query().unwrap_or_default()))
    }
}

impl<S, T> OptionalFromRequestParts<S> for Query<T>
where
    T: DeserializeOwned + Send,
{
    type Rejection = QueryRejection;

    fn from_request_parts(
        cx: &RequestContext<'_, S>,
    ) -> impl Future<Output = Result<Option<Self>, Self::Rejection>> + Send {
        std::future::ready(cx.query().map(Query::parse).transpose())
    }
}

#[cfg(test)]
mod tests {
    use http::{Request, StatusCode};
    use serde::Deserialize;

    use super::*;
    use crate::extract::body::tests::context;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Search {
        q: String,
        page: Option<u32>,
    }

    async fn query<T: DeserializeOwned + Send>(uri: &str) -> Result<Query<T>, QueryRejection> {
        let cx = context(Request::get(uri).body(()).unwrap(), &(), false);
        <Query<T> as FromRequestParts<()>>::from_request_parts(&cx).await
    }

    #[tokio::test]
    async fn deserializes_the_query() {
        let Query(search) = query::<Search>("/s?q=a+b%21&page=2").await.unwrap();
        assert_eq!(search, Search { q: "a b!".into(), page: Some(2) });
    }

    #[tokio::test]
    async fn bad_query_is_400() {
        let err = query::<Search>("/s?q=x&page=two").await.unwrap_err();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert_eq!(err.code(), 40002);
        assert_eq!(err.message(), "invalid query string: invalid digit found in string");
        let err = query::<Search>("/s").await.unwrap_err();
        assert_eq!(err.message(), "invalid query string: missing field `q`");
    }

    #[tokio::test]
    async fn optional_query_is_none_only_without_a_query_string() {
        let cx = context(Request::get("/s").body(()).unwrap(), &(), false);
        let none = <Option<Query<Search>> as FromRequestParts<()>>::from_request_parts(&cx).await;
        assert!(matches!(none, Ok(None)));
        let cx = context(Request::get("/s?page=1").body(()).unwrap(), &(), false);
        let err = <Option<Query<Search>> as FromRequestParts<()>>::from_request_parts(&cx).await;
        assert!(matches!(err, Err(QueryRejection::Invalid { .. })));
    }
}
