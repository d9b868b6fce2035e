//! Routers for `benches/tower.rs`: the same answers with and without tower
//! layers and services, and first-party versions of what tower-http does.

use std::io::Write;
use std::path::PathBuf;

use bytes::Bytes;
use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, HeaderName, HeaderValue};
use mambo::prelude::*;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeFile;
use tower_http::set_header::SetResponseHeaderLayer;

/// A JSON body of about 4 KiB, the size of a typical API list response.
pub fn json_body() -> String {
    let items: Vec<serde_json::Value> = (0..40)
        .map(|i| serde_json::json!({"id": i, "title": format!("bookmark number {i}"), "url": format!("https://site{i}.example/path")}))
        .collect();
    serde_json::to_string(&items).unwrap()
}

/// `GET /json`: the 4 KiB body.
#[route(GET "/json")]
async fn json(State(body): State<Bytes>) -> Response {
    let mut response = Response::new(mambo::ResponseBody::Full(body));
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// `GET /json` compressed by the handler itself with flate2 at tower-http's
/// default gzip level: what a first-party compression would at best cost.
#[route(GET "/json")]
async fn json_gzip_by_hand(State(body): State<Bytes>, headers: HeaderMap) -> Response {
    let gzip =
        headers.get(ACCEPT_ENCODING).is_some_and(|v| v.as_bytes().windows(4).any(|w| w == b"gzip"));
    let body = if gzip {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(&body).unwrap();
        Bytes::from(encoder.finish().unwrap())
    } else {
        body
    };
    let mut response = Response::new(mambo::ResponseBody::Full(body));
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if gzip {
        response.headers_mut().insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

mambo::router! {
    /// No layer.
    pub struct Plain {
        state: Bytes,
        routes: [json],
    }
}

mambo::router! {
    /// One cheap layer: what the layer machinery itself costs.
    pub struct OneLayer {
        state: Bytes,
        middleware: [layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-layer"),
            HeaderValue::from_static("1"),
        ))],
        routes: [json],
    }
}

mambo::router! {
    /// tower-http's compression.
    pub struct TowerGzip {
        state: Bytes,
        middleware: [layer(CompressionLayer::new().no_br().no_deflate().no_zstd())],
        routes: [json],
    }
}

mambo::router! {
    /// Compression written into the handler.
    pub struct HandGzip {
        state: Bytes,
        routes: [json_gzip_by_hand],
    }
}

/// `GET /file`: the file read with `tokio::fs::read` (what a first-party
/// static-file handler does at the least).
#[route(GET "/file")]
async fn file_by_hand(State(path): State<PathBuf>) -> Response {
    match tokio::fs::read(&path).await {
        Ok(bytes) => {
            let mut response = Response::new(mambo::ResponseBody::Full(bytes.into()));
            response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/css"));
            response
        }
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

mambo::router! {
    /// A file by hand.
    pub struct HandFile {
        state: PathBuf,
        routes: [file_by_hand],
    }
}

mambo::router! {
    /// A file through tower-http's `ServeFile` (ETag, Last-Modified, ranges).
    pub struct TowerFile {
        state: PathBuf,
        service GET | HEAD "/file" => ServeFile::new(&state),
    }
}
