//! Per-route metrics (`metrics:` in `router!`): what is counted, under
//! which labels, and that real parsers read the exposition.
//!
//! Each test has a router type of its own: metric slots belong to the
//! router type, so tests running in parallel do not see each other's
//! requests.

use std::collections::HashMap;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use mambo::middleware::{Flow, Middleware};
use mambo::observe::metrics::{OPENMETRICS_CONTENT_TYPE, prometheus_client, registry};
use mambo::prelude::*;
use mambo::response::StreamBody;
use mambo::test::TestClient;
use mambo::{Bytes, RequestContext};

const TOKEN: &str = "Bearer scrape-me";

/// What protects the metrics route in these tests: a bearer token.
#[derive(Default)]
struct RequireToken;

impl<S: Sync> Middleware<S> for RequireToken {
    type Local = ();

    async fn before(&self, cx: &mut RequestContext<'_, S>, _: &mut ()) -> Flow {
        if cx.headers().get("authorization").is_some_and(|value| value == TOKEN) {
            Flow::Continue
        } else {
            Flow::Respond(
                Error::with_code(StatusCode::UNAUTHORIZED, 40120, "a token is needed")
                    .into_response(),
            )
        }
    }
}

#[route(GET "/todos/:id")]
async fn todo(id: u64) -> Option<String> {
    (id < 100).then(|| format!("todo {id}"))
}

#[route(POST "/echo")]
async fn echo(body: String) -> String {
    body
}

/// Three chunks: 4 + 5 + 6 bytes.
struct Chunks(Vec<&'static str>);

impl futures_core::Stream for Chunks {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let chunks = &mut self.get_mut().0;
        Poll::Ready(
            (!chunks.is_empty()).then(|| Ok(Bytes::from_static(chunks.remove(0).as_bytes()))),
        )
    }
}

#[route(GET "/stream")]
async fn stream() -> impl IntoResponse {
    StreamBody(Chunks(vec!["abcd", "efghi", "jklmno"]))
}

#[route(GET "/slow")]
async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_millis(30)).await;
    "late"
}

#[route(GET "/fail")]
async fn fail() -> Result<&'static str, Error> {
    Err(Error::internal())
}

mambo::router! {
    struct Counted {
        routes: [todo, echo, stream, slow, fail],
        scope "/internal" {
            middleware: [RequireToken],
            metrics: "/metrics",
        },
    }
}

/// The samples of a Prometheus text exposition, parsed by the
/// `prometheus-parse` crate: `name{labels}` → value, labels sorted.
fn samples(text: &str) -> HashMap<String, f64> {
    let lines = text.lines().map(|line| Ok(line.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("the exposition parses");
    let mut out = HashMap::new();
    for sample in scrape.samples {
        let mut labels: Vec<(String, String)> =
            sample.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        labels.sort();
        let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let value = match sample.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            prometheus_parse::Value::Histogram(buckets) => {
                for bucket in buckets {
                    let mut with_le = labels.clone();
                    with_le.push(format!("le={}", bucket.less_than));
                    with_le.sort();
                    out.insert(
                        format!("{}_bucket{{{}}}", sample.metric, with_le.join(",")),
                        bucket.count,
                    );
                }
                continue;
            }
            prometheus_parse::Value::Summary(_) => continue,
        };
        out.insert(format!("{}{{{}}}", sample.metric, labels.join(",")), value);
    }
    out
}

async fn scrape<R: mambo::Router>(client: &TestClient<R>, path: &str) -> String {
    let response = client.get(path).header("authorization", TOKEN).send().await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text());
    assert_eq!(response.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    response.text().to_owned()
}

#[tokio::test]
async fn requests_are_counted_per_route_pattern_and_status_class() {
    let client = TestClient::new(Counted::new());
    for id in [1, 2, 3] {
        assert_eq!(client.get(&format!("/todos/{id}")).send().await.status(), StatusCode::OK);
    }
    for id in [500, 600] {
        assert_eq!(
            client.get(&format!("/todos/{id}")).send().await.status(),
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(client.get("/no/such/route").send().await.status(), StatusCode::NOT_FOUND);
    assert_eq!(client.get("/fail").send().await.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let echoed = client.post("/echo").body("0123456789").send().await;
    assert_eq!(echoed.text(), "0123456789");
    assert_eq!(client.get("/stream").send().await.text(), "abcdefghijklmno");
    assert_eq!(client.get("/slow").send().await.text(), "late");

    let text = scrape(&client, "/internal/metrics").await;
    let samples = samples(&text);
    let get = |key: &str| *samples.get(key).unwrap_or_else(|| panic!("no `{key}` in\n{text}"));

    let todo = "method=GET,route=/todos/:id";
    assert_eq!(get(&format!("mambo_http_requests_total{{{todo},status=2xx}}")), 3.0);
    assert_eq!(get(&format!("mambo_http_requests_total{{{todo},status=4xx}}")), 2.0);
    assert_eq!(get("mambo_http_requests_total{method=,route=unmatched,status=4xx}"), 1.0);
    assert_eq!(get("mambo_http_requests_total{method=GET,route=/fail,status=5xx}"), 1.0);
    // The raw paths never become labels.
    assert!(!text.contains("/todos/1\"") && !text.contains("/no/such/route"), "{text}");

    assert_eq!(get(&format!("mambo_http_request_duration_seconds_count{{{todo}}}")), 5.0);
    assert_eq!(get(&format!("mambo_http_request_duration_seconds_bucket{{le=inf,{todo}}}")), 5.0);

    let slow = "method=GET,route=/slow";
    assert_eq!(get(&format!("mambo_http_request_duration_seconds_count{{{slow}}}")), 1.0);
    assert!(get(&format!("mambo_http_request_duration_seconds_sum{{{slow}}}")) >= 0.030);
    assert_eq!(get(&format!("mambo_http_request_duration_seconds_bucket{{le=0.025,{slow}}}")), 0.0);

    let echo = "method=POST,route=/echo";
    assert_eq!(get(&format!("mambo_http_request_body_bytes_total{{{echo}}}")), 10.0);
    assert_eq!(get(&format!("mambo_http_response_body_bytes_total{{{echo}}}")), 10.0);
    assert_eq!(get("mambo_http_response_body_bytes_total{method=GET,route=/stream}"), 15.0);
    assert_eq!(get(&format!("mambo_http_requests_in_flight{{{todo}}}")), 0.0);
    // The scrape is in flight while it encodes itself.
    assert_eq!(get("mambo_http_requests_in_flight{method=GET,route=/internal/metrics}"), 1.0);

    // Server-wide families are there (values are process-wide).
    assert!(samples.contains_key("mambo_server_panics_total{}"), "{text}");
    assert!(samples.contains_key("mambo_server_connections{protocol=http1}"), "{text}");
}

#[route(GET "/wait")]
async fn wait() -> &'static str {
    tokio::time::sleep(Duration::from_secs(5)).await;
    "waited"
}

mambo::router! {
    struct Cancelled {
        routes: [wait],
        metrics: "/metrics",
    }
}

#[tokio::test]
async fn a_request_dropped_before_its_answer_counts_as_cancelled() {
    let client = TestClient::new(Cancelled::new());
    let gave_up = tokio::time::timeout(Duration::from_millis(20), client.get("/wait").send()).await;
    assert!(gave_up.is_err());
    let text = client.get("/metrics").send().await.text().to_owned();
    let samples = samples(&text);
    assert_eq!(samples["mambo_http_requests_total{method=GET,route=/wait,status=cancelled}"], 1.0);
    assert_eq!(samples["mambo_http_requests_in_flight{method=GET,route=/wait}"], 0.0);
    assert_eq!(samples["mambo_http_request_duration_seconds_count{method=GET,route=/wait}"], 0.0);
}

#[tokio::test]
async fn the_metrics_route_runs_under_its_scope_middleware() {
    let client = TestClient::new(Counted::new());
    let response = client.get("/internal/metrics").send().await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(Counted::ROUTES.last().map(|route| route.pattern), Some("/internal/metrics"));
}

#[route(GET "/x")]
async fn x() -> &'static str {
    "x"
}

mambo::router! {
    struct Bucketed {
        routes: [x],
        metrics: "/metrics",
        metrics_buckets: [0.5, 1, 2.5],
    }
}

#[tokio::test]
async fn buckets_are_configurable_and_openmetrics_is_negotiated() {
    let client = TestClient::new(Bucketed::new());
    client.get("/x").send().await;
    let response = client
        .get("/metrics")
        .header(
            "accept",
            "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3",
        )
        .send()
        .await;
    assert_eq!(response.header("content-type"), Some(OPENMETRICS_CONTENT_TYPE));
    let text = response.text();
    assert!(text.ends_with("# EOF\n"), "{text}");
    for le in ["0.5", "1.0", "2.5", "+Inf"] {
        let line = format!(
            "mambo_http_request_duration_seconds_bucket{{le=\"{le}\",route=\"/x\",method=\"GET\"}} 1"
        );
        assert!(text.contains(&line), "no `{line}` in\n{text}");
    }
    assert!(text.contains("# TYPE mambo_http_request_duration_seconds histogram"), "{text}");
}

#[tokio::test]
async fn application_metrics_share_the_exposition() {
    let jobs: prometheus_client::metrics::counter::Counter = Default::default();
    registry().register("test_jobs_done", "Jobs done in the metrics test", jobs.clone());
    jobs.inc_by(7);
    let client = TestClient::new(Bucketed::new());
    let text = client.get("/metrics").send().await.text().to_owned();
    assert_eq!(samples(&text)["test_jobs_done_total{}"], 7.0);
}

mambo::router! {
    struct Parsed {
        routes: [todo, slow],
        scope "/internal" {
            middleware: [RequireToken],
            metrics: "/metrics",
        },
    }
}

/// The Python `prometheus_client` parsers (what the Prometheus project
/// publishes) read both formats. `.ci/run` installs the package and sets
/// `MAMBO_REQUIRE_PROMETHEUS_PARSER=1`; elsewhere the test says it skipped.
#[tokio::test]
async fn the_python_prometheus_client_parses_both_formats() {
    let has_parser = std::process::Command::new("python3")
        .args(["-c", "import prometheus_client"])
        .status()
        .is_ok_and(|status| status.success());
    if !has_parser {
        assert!(
            std::env::var_os("MAMBO_REQUIRE_PROMETHEUS_PARSER").is_none(),
            "python3 with prometheus_client is required here"
        );
        eprintln!("skipped: `pip install prometheus-client` to run this test");
        return;
    }
    let client = TestClient::new(Parsed::new());
    client.get("/todos/1").send().await;
    client.get("/slow").send().await;
    let text = scrape(&client, "/internal/metrics").await;
    let open = client
        .get("/internal/metrics")
        .header("authorization", TOKEN)
        .header("accept", "application/openmetrics-text")
        .send()
        .await
        .text()
        .to_owned();
    let script = r#"
import sys
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.openmetrics.parser import text_string_to_metric_families as om
text, openmetrics = sys.stdin.read().split("\n----\n")
for name, parse in (("text", text_string_to_metric_families), ("openmetrics", om)):
    families = {f.name: f for f in parse(text if name == "text" else openmetrics)}
    h = families["mambo_http_request_duration_seconds"]
    assert h.type == "histogram", (name, h.type)
    count = [s for s in h.samples if s.name.endswith("_count") and s.labels["route"] == "/slow"]
    assert count and count[0].value == 1, (name, count)
    r = families["mambo_http_requests"]
    assert r.type == "counter", (name, r.type)
    ok = [s for s in r.samples if s.labels.get("route") == "/todos/:id" and s.labels.get("status") == "2xx"]
    assert ok and ok[0].value >= 1, (name, ok)
print("parsed")
"#;
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(format!("{text}\n----\n{open}").as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

mod child {
    use mambo::prelude::*;

    #[route(GET "/items/:item")]
    async fn item(item: u32) -> String {
        format!("item {item}")
    }

    mambo::router! {
        /// Records nothing itself when mounted: its parent's dispatch does,
        /// and its own `metrics:` route is left out of the parent.
        pub struct Shop {
            routes: [item],
            metrics: "/shop-metrics",
        }
    }
}

mambo::router! {
    struct Parent {
        routes: [x],
        metrics: "/metrics",
        scope "/shops/:shop" {
            mount: child::Shop,
        },
    }
}

#[tokio::test]
async fn a_mounted_router_is_counted_under_its_full_patterns() {
    let client = TestClient::new(Parent::new());
    assert_eq!(client.get("/shops/7/items/3").send().await.text(), "item 3");
    assert_eq!(client.get("/shops/7/shop-metrics").send().await.status(), StatusCode::NOT_FOUND);
    let text = client.get("/metrics").send().await.text().to_owned();
    let samples = samples(&text);
    assert_eq!(
        samples["mambo_http_requests_total{method=GET,route=/shops/:shop/items/:item,status=2xx}"],
        1.0
    );
    assert_eq!(samples["mambo_http_requests_total{method=,route=unmatched,status=4xx}"], 1.0);
}
