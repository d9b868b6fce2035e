//! The bookmarks example over real sockets: a mounted API router,
//! tower-http's `ServeDir` and `CompressionLayer`, tower's concurrency limit,
//! and the site's fallback, served by `mambo::Server`.

use std::io::Read;
use std::net::SocketAddr;

use bytes::Bytes;
use http::header::{ACCEPT_ENCODING, AUTHORIZATION, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mambo_examples::bookmarks::{ASSETS, Site, SiteState};
use serde_json::{Value, json};
use tokio::sync::oneshot;

struct Served {
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
    client: Client<HttpConnector, Full<Bytes>>,
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|value| value.to_str().unwrap())
    }

    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| panic!("{err}: {:?}", self.text()))
    }
}

fn serve() -> Served {
    let (stop, stopped) = oneshot::channel::<()>();
    let listening = mambo::Server::bind("127.0.0.1:0")
        .with_graceful_shutdown(async {
            stopped.await.ok();
        })
        .listen()
        .unwrap();
    let addr = listening.local_addr();
    tokio::spawn(listening.serve(Site::new(SiteState::new("t0ken", ASSETS))));
    Served { addr, _stop: stop, client: Client::builder(TokioExecutor::new()).build_http() }
}

impl Served {
    async fn send(&self, request: http::request::Builder, body: Vec<u8>) -> Reply {
        let path = request.uri_ref().unwrap().to_string();
        let request = request
            .uri(format!("http://{}{path}", self.addr))
            .body(Full::new(body.into()))
            .unwrap();
        let response = self.client.request(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        Reply { status: parts.status, headers: parts.headers, body }
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(Request::get(path), Vec::new()).await
    }

    async fn add(&self, token: &str, bookmark: Value) -> Reply {
        let request = Request::post("/api/bookmarks")
            .header(CONTENT_TYPE, "application/json")
            .header(AUTHORIZATION, format!("Bearer {token}"));
        self.send(request, serde_json::to_vec(&bookmark).unwrap()).await
    }
}

#[tokio::test]
async fn the_mounted_api_stores_lists_and_guards_bookmarks() {
    let site = serve();
    assert_eq!(site.get("/api/bookmarks").await.json(), json!([]));

    let refused = site.add("wrong", json!({"url": "https://a.example", "title": "A"})).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.json()["code"], 40111);

    let created =
        site.add("t0ken", json!({"url": "https://a.example", "title": "A", "tags": ["x"]})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(created.json()["id"], 1);
    site.add("t0ken", json!({"url": "https://b.example", "title": "B"})).await;

    let listed = site.get("/api/bookmarks").await.json();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_eq!(listed[0]["title"], "B", "newest first");
    assert_eq!(site.get("/api/bookmarks?tag=x").await.json().as_array().unwrap().len(), 1);
    assert_eq!(site.get("/api/bookmarks/1").await.json()["url"], "https://a.example");

    let invalid = site.add("t0ken", json!({"url": "ftp://c.example", "title": "C"})).await;
    assert_eq!(
        (invalid.status, invalid.json()["code"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!(42211))
    );
    let missing = site.get("/api/bookmarks/99").await;
    assert_eq!(
        (missing.status, missing.json()["code"].clone()),
        (StatusCode::NOT_FOUND, json!(40411))
    );
    assert!(missing.header("x-request-id").is_some(), "the site's middleware wraps the API");
}

#[tokio::test]
async fn large_answers_are_compressed_by_accept_encoding() {
    let site = serve();
    for i in 0..40 {
        site.add(
            "t0ken",
            json!({"url": format!("https://site{i}.example"), "title": format!("Site number {i}")}),
        )
        .await;
    }
    let plain = site.get("/api/bookmarks").await;
    let gzip =
        site.send(Request::get("/api/bookmarks").header(ACCEPT_ENCODING, "gzip"), Vec::new()).await;
    assert_eq!(gzip.header("content-encoding"), Some("gzip"));
    assert!(gzip.body.len() * 3 < plain.body.len(), "{} vs {}", gzip.body.len(), plain.body.len());
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&gzip.body[..]).read_to_end(&mut decoded).unwrap();
    assert_eq!(decoded, plain.body);
    let br =
        site.send(Request::get("/api/bookmarks").header(ACCEPT_ENCODING, "br"), Vec::new()).await;
    assert_eq!(br.header("content-encoding"), Some("br"));
}

#[tokio::test]
async fn assets_come_from_serve_dir_with_validators_and_precompressed_variants() {
    let site = serve();
    let css = site.get("/assets/style.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.header("content-type"), Some("text/css"));
    assert_eq!(css.body, std::fs::read(format!("{ASSETS}/style.css")).unwrap());
    let etag = css.headers.get(ETAG).expect("an ETag").clone();
    let again =
        site.send(Request::get("/assets/style.css").header(IF_NONE_MATCH, etag), Vec::new()).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);

    let gz = site
        .send(Request::get("/assets/style.css").header(ACCEPT_ENCODING, "gzip"), Vec::new())
        .await;
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert_eq!(
        gz.body,
        std::fs::read(format!("{ASSETS}/style.css.gz")).unwrap(),
        "the file on disk, not compressed again"
    );

    let escape = site.get("/assets/..%2f..%2fCargo.toml").await;
    assert!(escape.status.is_client_error(), "{}", escape.status);
}

#[tokio::test]
async fn unknown_pages_load_the_app_and_unknown_api_paths_stay_json() {
    let site = serve();
    for page in ["/", "/bookmarks/recent", "/settings?tab=2"] {
        let reply = site.get(page).await;
        assert_eq!(reply.status, StatusCode::OK, "{page}");
        assert!(reply.text().contains("<title>Bookmarks</title>"), "{page}");
        assert_eq!(reply.header("content-type"), Some("text/html; charset=utf-8"));
    }
    let api_miss = site.get("/api/nothing-here").await;
    assert_eq!(
        (api_miss.status, api_miss.json()["code"].clone()),
        (StatusCode::NOT_FOUND, json!(40400))
    );
    assert_eq!(site.get("/health").await.text(), "ok");
}
