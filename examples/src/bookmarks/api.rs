//! The bookmarks JSON API: a router of its own, mounted by the site under
//! `/api`, and usable alone (its tests build it without the site).
//!
//! | route | answer |
//! |---|---|
//! | `GET /bookmarks?tag=` | the bookmarks, newest first |
//! | `GET /bookmarks/:id` | one bookmark |
//! | `POST /bookmarks` `{"url":"..","title":"..","tags":[..]}` | 201 + the bookmark (bearer token) |
//! | `DELETE /bookmarks/:id` | 204 (bearer token) |

use std::sync::{Arc, Mutex};

use mambo::middleware::{Flow, Middleware};
use mambo::prelude::*;
use serde::{Deserialize, Serialize};

/// One bookmark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bookmark {
    /// Assigned by the store, from 1.
    pub id: u64,
    /// Where it points.
    pub url: String,
    /// What the user called it.
    pub title: String,
    /// Free-form tags.
    pub tags: Vec<String>,
}

/// A bookmark to add.
#[derive(Debug, Deserialize)]
pub struct NewBookmark {
    /// Must start with `http://` or `https://`.
    pub url: String,
    /// Not empty.
    pub title: String,
    /// Optional.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// The bookmarks, in memory.
#[derive(Debug, Default)]
pub struct Store {
    bookmarks: Vec<Bookmark>,
    next_id: u64,
}

/// The API's state: the store and the token writes need.
#[derive(Debug, Clone)]
pub struct ApiState {
    /// The bookmarks.
    pub store: Arc<Mutex<Store>>,
    /// `authorization: Bearer <token>` for `POST` and `DELETE`.
    pub token: Arc<str>,
}

impl ApiState {
    /// An empty store guarded by `token`.
    pub fn new(token: &str) -> Self {
        ApiState { store: Arc::default(), token: token.into() }
    }
}

/// The API's errors.
#[derive(Debug, ApiError)]
pub enum BookmarkError {
    /// No bookmark has this id.
    #[api(code = 40411, message = "bookmark {0} not found")]
    NotFound(u64),
    /// The bookmark breaks a rule; the message says which.
    #[api(code = 42211, message = "{0}")]
    Invalid(&'static str),
}

/// `?tag=rust`.
#[derive(Debug, Deserialize)]
pub struct TagFilter {
    /// Only bookmarks with this tag.
    pub tag: Option<String>,
}

/// `GET /bookmarks?tag=`: newest first.
#[route(GET "/bookmarks")]
pub async fn list(
    State(state): State<ApiState>,
    Query(filter): Query<TagFilter>,
) -> Json<Vec<Bookmark>> {
    let store = state.store.lock().expect("store lock");
    let wanted = |b: &&Bookmark| filter.tag.as_ref().is_none_or(|tag| b.tags.contains(tag));
    Json(store.bookmarks.iter().rev().filter(wanted).cloned().collect())
}

/// `GET /bookmarks/:id`.
#[route(GET "/bookmarks/:id")]
pub async fn get(id: u64, State(state): State<ApiState>) -> Result<Json<Bookmark>, BookmarkError> {
    let store = state.store.lock().expect("store lock");
    store
        .bookmarks
        .iter()
        .find(|b| b.id == id)
        .cloned()
        .map(Json)
        .ok_or(BookmarkError::NotFound(id))
}

/// `POST /bookmarks`: 201 and the stored bookmark.
#[route(POST "/bookmarks", body_limit = "16KiB")]
pub async fn create(
    State(state): State<ApiState>,
    Json(new): Json<NewBookmark>,
) -> Result<(StatusCode, Json<Bookmark>), BookmarkError> {
    if !(new.url.starts_with("https://") || new.url.starts_with("http://")) {
        return Err(BookmarkError::Invalid("url must start with http:// or https://"));
    }
    if new.title.trim().is_empty() {
        return Err(BookmarkError::Invalid("title must not be empty"));
    }
    let mut store = state.store.lock().expect("store lock");
    store.next_id += 1;
    let bookmark = Bookmark { id: store.next_id, url: new.url, title: new.title, tags: new.tags };
    store.bookmarks.push(bookmark.clone());
    Ok((StatusCode::CREATED, Json(bookmark)))
}

/// `DELETE /bookmarks/:id`: 204.
#[route(DELETE "/bookmarks/:id")]
pub async fn delete(id: u64, State(state): State<ApiState>) -> Result<StatusCode, BookmarkError> {
    let mut store = state.store.lock().expect("store lock");
    let before = store.bookmarks.len();
    store.bookmarks.retain(|b| b.id != id);
    if store.bookmarks.len() == before {
        return Err(BookmarkError::NotFound(id));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Answers 401 unless the request carries `authorization: Bearer <token>`.
pub struct RequireToken {
    expected: String,
}

impl RequireToken {
    /// Requires `token`.
    pub fn new(token: &str) -> Self {
        RequireToken { expected: format!("Bearer {token}") }
    }
}

impl<S: Sync> Middleware<S> for RequireToken {
    type Local = ();

    async fn before(&self, cx: &mut RequestContext<'_, S>, _: &mut ()) -> Flow {
        let given = cx.headers().get(mambo::header::AUTHORIZATION).map(|v| v.as_bytes());
        if given == Some(self.expected.as_bytes()) {
            Flow::Continue
        } else {
            let error = Error::with_code(
                StatusCode::UNAUTHORIZED,
                40111,
                "send `authorization: Bearer <token>`",
            );
            Flow::Respond(error.into_response())
        }
    }
}

mambo::router! {
    /// The bookmarks API, on its own or mounted (the site mounts it at `/api`).
    pub struct BookmarksApi {
        state: ApiState,
        routes: [list, get],
        scope "" {
            middleware: [RequireToken = RequireToken::new(&state.token)],
            routes: [create, delete],
        },
    }
}
