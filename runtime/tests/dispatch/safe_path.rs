//! `SafePath` through a real router: the catch-all arrives percent-decoded,
//! and every encoding of a way out of the base directory is refused.

use mambo::extract::SafePath;
use mambo::prelude::*;
use mambo::test::TestClient;

#[route(GET "/files/*path")]
async fn serve_file(path: SafePath<'_>) -> String {
    path.join_under("/srv/files").display().to_string()
}

#[route(GET "/raw/*path")]
async fn raw(path: &str) -> String {
    path.to_owned()
}

#[route(GET "/one/:name")]
async fn one(name: SafePath<'_>) -> String {
    name.as_str().to_owned()
}

mambo::router! {
    struct App {
        routes: [serve_file, raw, one],
    }
}

#[tokio::test]
async fn a_catch_all_arrives_percent_decoded() {
    let client = TestClient::new(App::new());
    assert_eq!(client.get("/raw/%2e%2e%2fsecret").send().await.text(), "../secret");
}

#[tokio::test]
async fn safe_paths_join_under_the_base() {
    let client = TestClient::new(App::new());
    let rows = [
        ("/files/a.txt", "/srv/files/a.txt"),
        ("/files/docs/a%20b.txt", "/srv/files/docs/a b.txt"),
        ("/files/a/./b", "/srv/files/a/./b"),
        ("/files/..hidden", "/srv/files/..hidden"),
    ];
    for (uri, expected) in rows {
        let response = client.get(uri).send().await;
        assert_eq!((response.status(), response.text()), (StatusCode::OK, expected), "{uri}");
    }
    assert_eq!(client.get("/one/report.pdf").send().await.text(), "report.pdf");
}

/// Each row is a request trying to leave `/srv/files`, raw or encoded, and
/// the rule named in the 400's message.
#[tokio::test]
async fn every_way_out_is_a_400_with_its_own_code() {
    let client = TestClient::new(App::new());
    let rows = [
        ("/files/../etc/passwd", "`..` segments"),
        ("/files/%2e%2e/etc/passwd", "`..` segments"),
        ("/files/%2e%2e%2fetc%2fpasswd", "`..` segments"),
        ("/files/a/%2E%2E/%2E%2E/etc", "`..` segments"),
        ("/files/%2Fetc%2Fpasswd", "starts with `/`"),
        ("/files//etc/passwd", "starts with `/`"),
        ("/files/a%00.txt", "NUL bytes"),
        ("/files/..%5cwindows", "backslashes"),
        ("/files/%5c%5cserver%5cshare", "backslashes"),
        ("/files/C:%2fWindows", "drive prefix"),
        ("/files/c%3a/x", "drive prefix"),
        ("/one/%2e%2e", "`..` segments"),
        ("/one/..", "`..` segments"),
    ];
    for (uri, rule) in rows {
        let response = client.get(uri).send().await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{uri}: {}", response.text());
        let body: serde_json::Value = response.json();
        assert_eq!(body["code"], 40011, "{uri}: {body}");
        let message = body["message"].as_str().unwrap();
        assert!(message.starts_with("path parameter `"), "{uri}: {message}");
        assert!(message.contains(rule), "{uri}: {message}");
    }
}
