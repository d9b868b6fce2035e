//! Dispatch through a large generated router (the GitHub set, 203 routes,
//! dispatched through groups of routes): every concrete request reaches its
//! own handler, which answers its pattern.

use mambo::StatusCode;
use mambo::test::TestClient;
use mambo_github_router::github::{GithubApi, TABLE};

#[tokio::test]
async fn every_github_request_reaches_its_handler() {
    let client = TestClient::new(GithubApi::new());
    let requests: Vec<(&str, &str)> = include_str!("../data/github_requests.txt")
        .lines()
        .filter_map(|line| line.split_once(' '))
        .collect();
    assert_eq!(requests.len(), TABLE.len());
    for ((method, path), (_, pattern)) in requests.iter().zip(TABLE) {
        let response = client
            .request(mambo::Method::from_bytes(method.as_bytes()).unwrap(), path)
            .send()
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{method} {path}");
        assert_eq!(response.text(), *pattern, "{method} {path}");
    }
    let miss = client.get("/repos/rust-lang/rust/nope").send().await;
    assert_eq!(miss.status(), StatusCode::NOT_FOUND);
}
