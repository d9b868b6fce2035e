//! `State<T>`: the router state, or a part of it.

use std::convert::Infallible;
use std::future::Future;

use super::FromRequestParts;
use crate::context::RequestContext;

/// Builds a value from a reference to the router state: how [`State<T>`]
/// takes a part of the state.
///
/// Every `Clone` type comes from a reference to itself, so `State<AppState>`
/// works with no impl; implement `FromRef` to hand out parts of the state
/// (a pool, a config) to handlers that need only that.
///
/// # Examples
///
/// ```
/// use mambo::extract::FromRef;
///
/// #[derive(Clone)]
/// struct AppState {
///     db: Db,
///     name: &'static str,
/// }
///
/// #[derive(Clone)]
/// struct Db;
///
/// impl FromRef<AppState> for Db {
///     fn from_ref(state: &AppState) -> Db {
///         state.db.clone()
///     }
/// }
///
/// let state = AppState { db: Db, name: "shop" };
/// let _db: Db = Db::from_ref(&state);
/// let whole: AppState = AppState::from_ref(&state);
/// assert_eq!(whole.name, "shop");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be taken from the state `{T}`",
    label = "`{Self}` does not implement `FromRef<{T}>`",
    note = "implement `mambo::FromRef<{T}> for {Self}` (or use `{T}` itself): it is how `State<{Self}>` takes a part of the router state `{T}`, and how a router whose state is `{Self}` is mounted in a router whose state is `{T}`"
)]
pub trait FromRef<T> {
    /// Builds `Self` from the state.
    fn from_ref(input: &T) -> Self;
}

impl<T: Clone> FromRef<T> for T {
    fn from_ref(input: &T) -> Self {
        input.clone()
    }
}

/// The router state given to `Api::new(state)`, or any part of it `T` such
/// that `T: FromRef<S>`.
///
/// Each extraction calls `T::from_ref`, that is, clones: keep the state
/// cheap to clone (`Arc`s, pools, `&'static` data). Never fails.
///
/// # Examples
///
/// ```
/// use mambo::prelude::*;
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// #[derive(Clone, Default)]
/// struct Counter(Arc<AtomicU64>);
///
/// #[route(POST "/hits")]
/// async fn hit(State(counter): State<Counter>) -> String {
///     (counter.0.fetch_add(1, Ordering::Relaxed) + 1).to_string()
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct State<T>(pub T);

impl<T> std::ops::Deref for State<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<S, T> FromRequestParts<S> for State<T>
where
    T: FromRef<S> + Send,
{
    type Rejection = Infallible;

    fn from_request_parts(
        cx: &RequestContext<'_, S>,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        std::future::ready(Ok(State(T::from_ref(cx.state()))))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::context::ConnInfo;

    #[derive(Clone)]
    struct AppState {
        db: Arc<str>,
        port: u16,
    }

    impl FromRef<AppState> for u16 {
        fn from_ref(state: &AppState) -> u16 {
            state.port
        }
    }

    #[tokio::test]
    async fn extracts_the_state_and_its_parts() {
        let state = AppState { db: "postgres://".into(), port: 8080 };
        let (parts, ()) = http::Request::new(()).into_parts();
        let cx = RequestContext::new(parts, &state, ConnInfo::default(), None);
        let Ok(State(whole)) = State::<AppState>::from_request_parts(&cx).await;
        assert!(Arc::ptr_eq(&whole.db, &state.db));
        let Ok(State(port)) = State::<u16>::from_request_parts(&cx).await;
        assert_eq!(port, 8080);
    }
}
