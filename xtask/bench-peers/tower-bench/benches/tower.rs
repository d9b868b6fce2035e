//! `cargo bench -p tower-bench --bench tower`: one request through a Mambo
//! router's `handle` (no server, no socket), body collected:
//!
//! - `layer/none` vs `layer/one`: what one tower layer costs;
//! - `gzip/tower-http` vs `gzip/by-hand`: tower-http's `CompressionLayer` vs
//!   compressing in the handler with flate2 at the same level (the least a
//!   first-party compression could cost);
//! - `file/tower-http` vs `file/by-hand`: `ServeFile` vs `tokio::fs::read`.

use std::hint::black_box;

use bytes::Bytes;
use criterion::Criterion;
use http_body_util::BodyExt;
use mambo::{Body, ConnInfo, Router};
use tower_bench::*;

fn request(path: &str, gzip: bool) -> mambo::Request {
    let mut builder = http::Request::get(path);
    if gzip {
        builder = builder.header("accept-encoding", "gzip");
    }
    builder.body(Body::Empty).unwrap()
}

async fn call<R: Router>(router: &R, path: &str, gzip: bool) -> (http::StatusCode, Bytes) {
    let response = router.handle(request(path, gzip), ConnInfo::default()).await;
    let status = response.status();
    (status, response.into_body().collect().await.unwrap().to_bytes())
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let body = Bytes::from(json_body());
    let dir = std::env::temp_dir().join(format!("tower-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("site.css");
    std::fs::write(&file, "body { color: teal }\n".repeat(200)).unwrap();

    let plain = Plain::new(body.clone());
    let one = OneLayer::new(body.clone());
    let tower_gzip = TowerGzip::new(body.clone());
    let hand_gzip = HandGzip::new(body.clone());
    let tower_file = TowerFile::new(file.clone());
    let hand_file = HandFile::new(file.clone());

    // Same answers before anything is timed.
    runtime.block_on(async {
        let reference = call(&plain, "/json", false).await;
        assert_eq!(reference.1.len(), body.len());
        assert_eq!(call(&one, "/json", false).await, reference);
        let by_tower = call(&tower_gzip, "/json", true).await.1;
        let by_hand = call(&hand_gzip, "/json", true).await.1;
        assert!(by_tower.len() < body.len() / 3 && by_hand.len() < body.len() / 3);
        assert_eq!(call(&tower_file, "/file", false).await, call(&hand_file, "/file", false).await);
    });

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("layer");
    group.bench_function("none", |b| {
        b.iter(|| runtime.block_on(call(&plain, black_box("/json"), false)))
    });
    group.bench_function("one", |b| {
        b.iter(|| runtime.block_on(call(&one, black_box("/json"), false)))
    });
    group.finish();
    let mut group = c.benchmark_group("gzip");
    group.bench_function("tower-http", |b| {
        b.iter(|| runtime.block_on(call(&tower_gzip, black_box("/json"), true)))
    });
    group.bench_function("by-hand", |b| {
        b.iter(|| runtime.block_on(call(&hand_gzip, black_box("/json"), true)))
    });
    group.finish();
    let mut group = c.benchmark_group("file");
    group.bench_function("tower-http", |b| {
        b.iter(|| runtime.block_on(call(&tower_file, black_box("/file"), false)))
    });
    group.bench_function("by-hand", |b| {
        b.iter(|| runtime.block_on(call(&hand_file, black_box("/file"), false)))
    });
    group.finish();
    c.final_summary();
    std::fs::remove_dir_all(&dir).ok();
}
