//! The bookmarks site: a small single-page app and its JSON API, built from
//! parts Mambo takes from the tower ecosystem.
//!
//! | path | what answers |
//! |---|---|
//! | `/api/..` | [`api::BookmarksApi`], a router of its own mounted here |
//! | `/assets/*path` | tower-http's `ServeDir` over the assets directory (ETag, 304, `Range`, precompressed `.gz`) |
//! | `/health` | `ok` |
//! | any other `GET` | the app's `index.html` (the site's fallback), so the app's own URLs load it |
//!
//! Around everything: `RequestId`, `AccessLog`, tower-http's
//! `CompressionLayer` (gzip, br, zstd by `Accept-Encoding`); around the API,
//! tower's own `ConcurrencyLimitLayer` and tower-http's `TimeoutLayer` (408
//! after 10 s). A miss under `/api` is the JSON 404; any other miss loads
//! the app (the site's fallback).
//!
//! `src/bin/bookmarks.rs` serves it; `tests/tests/bookmarks.rs` tests it over
//! a socket.
//!
//! # Examples
//!
//! ```
//! use mambo::test::TestClient;
//! use mambo_examples::bookmarks::{Site, SiteState};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let site = Site::new(SiteState::new("secret", mambo_examples::bookmarks::ASSETS));
//! let client = TestClient::new(site);
//! assert_eq!(client.get("/api/bookmarks").send().await.text(), "[]");
//! assert!(client.get("/some/app/page").send().await.text().contains("<title>Bookmarks</title>"));
//! # }
//! ```

pub mod api;

use std::path::PathBuf;
use std::time::Duration;

use mambo::FromRef;
use mambo::middleware::{AccessLog, RequestId};
use mambo::prelude::*;
use tower::limit::ConcurrencyLimitLayer;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::timeout::TimeoutLayer;

/// The assets directory of this example, as built.
pub const ASSETS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/bookmarks-assets");

/// The site's state: the API's, and where the assets are.
#[derive(Debug, Clone)]
pub struct SiteState {
    /// What the mounted API gets, through `FromRef`.
    pub api: api::ApiState,
    /// The directory `/assets` serves; `index.html` in it is the app.
    pub assets: PathBuf,
}

impl SiteState {
    /// An empty bookmark store guarded by `token`, assets from `assets`.
    pub fn new(token: &str, assets: impl Into<PathBuf>) -> Self {
        SiteState { api: api::ApiState::new(token), assets: assets.into() }
    }
}

/// The mounted API's state comes from the site's.
impl FromRef<SiteState> for api::ApiState {
    fn from_ref(state: &SiteState) -> api::ApiState {
        state.api.clone()
    }
}

/// `GET /health`.
#[route(GET "/health")]
pub async fn health() -> &'static str {
    "ok"
}

/// Any other path: the app's page, whose script routes by URL in the
/// browser (so `/bookmarks/recent` must load it too).
#[fallback]
pub async fn app_page(State(state): State<SiteState>) -> Result<Html<String>, Error> {
    tokio::fs::read_to_string(state.assets.join("index.html"))
        .await
        .map(Html)
        .map_err(|err| Error::new(StatusCode::INTERNAL_SERVER_ERROR, format!("index.html: {err}")))
}

/// A miss under `/api` stays the JSON 404 an API client expects.
#[fallback]
pub async fn api_not_found() -> Error {
    Error::not_found()
}

mambo::router! {
    /// The site; build it with `Site::new(SiteState::new(token, assets))`.
    pub struct Site {
        state: SiteState,
        middleware: [RequestId, AccessLog, layer(CompressionLayer::new())],
        routes: [health],
        service GET | HEAD "/assets/*path" => ServeDir::new(&state.assets).precompressed_gzip(),
        fallback: app_page,
        scope "/api" {
            middleware: [
                layer(ConcurrencyLimitLayer::new(256)),
                layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(10))),
            ],
            mount: api::BookmarksApi,
        },
        scope "/api" {
            fallback: api_not_found,
        },
    }
}
