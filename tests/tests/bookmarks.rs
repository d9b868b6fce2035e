//! The bookmarks example over real sockets: a mounted API router,
//! tower-http's `ServeDir` and `CompressionLayer`, tower's concurrency limit,
//! and the site's fallback, served by `mambo::Server`.

use std::io::Read;

use bytes::Bytes;
use http::header::{ACCEPT_ENCODING, AUTHORIZATION, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use http::{Request, StatusCode};
use mambo_examples::bookmarks::{ASSETS, Site, SiteState};
use mambo_tests::served::{Reply, Served};
use serde_json::{Value, json};

fn serve() -> Served {
    mambo_tests::served::serve(Site::new(SiteState::new("t0ken", ASSETS)))
}

async fn add(site: &Served, token: &str, bookmark: Value) -> Reply {
    let request = Request::post("/api/bookmarks")
        .header(CONTENT_TYPE, "application/json")
        .header(AUTHORIZATION, format!("Bearer {token}"));
    site.send(request, serde_json::to_vec(&bookmark).unwrap()).await
}

#[tokio::test]
async fn the_mounted_api_stores_lists_and_guards_bookmarks() {
    let site = serve();
    assert_eq!(site.get("/api/bookmarks").await.json(), json!([]));

    let refused = add(&site, "wrong", json!({"url": "https://a.example", "title": "A"})).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.json()["code"], 40111);

    let created =
        add(&site, "t0ken", json!({"url": "https://a.example", "title": "A", "tags": ["x"]})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(created.json()["id"], 1);
    add(&site, "t0ken", json!({"url": "https://b.example", "title": "B"})).await;

    let listed = site.get("/api/bookmarks").await.json();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_eq!(listed[0]["title"], "B", "newest first");
    assert_eq!(site.get("/api/bookmarks?tag=x").await.json().as_array().unwrap().len(), 1);
    assert_eq!(site.get("/api/bookmarks/1").await.json()["url"], "https://a.example");

    let invalid = add(&site, "t0ken", json!({"url": "ftp://c.example", "title": "C"})).await;
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
        add(
            &site,
            "t0ken",
            json!({"url": format!("https://site{i}.example"), "title": format!("Site number {i}")}),
        )
        .await;
    }
    let plain = site.get("/api/bookmarks").await;
    let gzip = site
        .send(Request::get("/api/bookmarks").header(ACCEPT_ENCODING, "gzip"), Bytes::new())
        .await;
    assert_eq!(gzip.header("content-encoding"), Some("gzip"));
    assert!(gzip.body.len() * 3 < plain.body.len(), "{} vs {}", gzip.body.len(), plain.body.len());
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&gzip.body[..]).read_to_end(&mut decoded).unwrap();
    assert_eq!(decoded, plain.body);
    let br =
        site.send(Request::get("/api/bookmarks").header(ACCEPT_ENCODING, "br"), Bytes::new()).await;
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
    let again = site
        .send(Request::get("/assets/style.css").header(IF_NONE_MATCH, etag), Bytes::new())
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);

    let gz = site
        .send(Request::get("/assets/style.css").header(ACCEPT_ENCODING, "gzip"), Bytes::new())
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
