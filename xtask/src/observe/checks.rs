//! What Prometheus must answer about the traffic, and the rules that
//! decide whether an answer is right.
//!
//! - Counters are exact: every request the client saw answered is counted
//!   once, so `sum(...)` at the end equals the client's count.
//! - A rate is compared with the client's own rate over the same window,
//!   within [`RATE_RELATIVE`] plus [`RATE_SLACK_REQUESTS`] requests: `rate`
//!   is the slope between the first and last samples in the window (scaled
//!   to the window's edges, which for a steady counter is the same slope),
//!   and each of those samples can miss a request by a hair (integer
//!   counts), while scrape timing and pacing on a busy machine shift a few
//!   requests across the window's ends.
//! - A quantile comes from bucket counts, linearly interpolated inside the
//!   bucket holding the requested rank, so it lies in the same bucket as
//!   the true server-side quantile, and may be anywhere in it. The server's
//!   time for a request (router to response head) is less than the
//!   client's round trip, request by request, so each server-side quantile
//!   is below the client's over the same requests, and the answer at most
//!   the upper bound of that value's bucket ([`quantile_ok`]). The client's
//!   median over the same window bounds the median: Prometheus's samples
//!   leave out less than a scrape interval of the window, which moves a
//!   median by a fraction of a percent of ranks, far less than the gap
//!   between server time and round trip. In the tail the two can be close
//!   (a stall delays both), and leaving out a few requests can move the
//!   client's 99th percentile below the server's, so only the client's
//!   largest round trip bounds the 99th.

use std::fmt;

use super::prom::Prometheus;
use super::traffic::{self, Kind, Plan, Traffic};

/// A rate may be off by this share of the expected rate ...
pub const RATE_RELATIVE: f64 = 0.05;
/// ... plus this many requests over the window.
pub const RATE_SLACK_REQUESTS: f64 = 2.0;

/// The route every check is about.
pub const ROUTE: &str = "/todos/:id";

/// How a check came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The answer is right.
    Pass,
    /// The answer is wrong.
    Fail,
    /// Shown, not checked.
    Info,
    /// Not run, and why.
    Skipped(String),
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Pass => f.write_str("ok"),
            Verdict::Fail => f.write_str("**FAIL**"),
            Verdict::Info => f.write_str("info"),
            Verdict::Skipped(why) => write!(f, "skipped: {why}"),
        }
    }
}

/// One row of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What is checked, in words.
    pub what: String,
    /// The PromQL query or request.
    pub query: String,
    /// What came back.
    pub answer: String,
    /// What was expected, and by which rule.
    pub expected: String,
    /// The outcome.
    pub verdict: Verdict,
}

impl Check {
    /// A row passing when `ok`.
    pub fn new(what: &str, query: &str, answer: String, expected: String, ok: bool) -> Check {
        let verdict = if ok { Verdict::Pass } else { Verdict::Fail };
        Check { what: what.into(), query: query.into(), answer, expected, verdict }
    }

    /// A row that was not run.
    pub fn skipped(what: &str, query: &str, why: String) -> Check {
        Check {
            what: what.into(),
            query: query.into(),
            answer: "—".into(),
            expected: "—".into(),
            verdict: Verdict::Skipped(why),
        }
    }
}

/// Whether a counter's final value (`None`: no such series) is `expected`.
pub fn exact_ok(answer: Option<f64>, expected: u64) -> bool {
    answer.unwrap_or(0.0) == expected as f64
}

/// Whether `answer` is within the rate tolerance of `expected` over a
/// window of `window_secs`.
pub fn rate_ok(answer: f64, expected: f64, window_secs: f64) -> bool {
    (answer - expected).abs() <= RATE_RELATIVE * expected + RATE_SLACK_REQUESTS / window_secs
}

/// The smallest bucket bound at or above `v` (`+Inf` past the last).
pub fn bucket_ceiling(bounds: &[f64], v: f64) -> f64 {
    bounds.iter().copied().find(|&b| b >= v).unwrap_or(f64::INFINITY)
}

/// Whether a `histogram_quantile` answer is finite, positive and at most
/// the bucket ceiling of `client`, a round trip that bounds it.
pub fn quantile_ok(answer: f64, client: f64, bounds: &[f64]) -> bool {
    answer.is_finite() && answer > 0.0 && answer <= bucket_ceiling(bounds, client)
}

/// `0.000412` s → `0.412 ms`.
pub fn ms(secs: f64) -> String {
    if secs.is_finite() { format!("{:.3} ms", secs * 1e3) } else { format!("{secs}") }
}

fn count(v: Option<f64>) -> String {
    v.map_or_else(|| "no series".into(), |v| format!("{v}"))
}

/// Every check of the metrics against `traffic`, asked of `prometheus`
/// after its last scrape (at `last_scrape`, Unix seconds).
pub fn metrics(
    prometheus: &mut Prometheus,
    plan: &Plan,
    traffic: &Traffic,
    last_scrape: f64,
) -> Result<Vec<Check>, String> {
    let mut checks = Vec::new();
    let planned = traffic
        .sent
        .iter()
        .filter(|s| {
            let want = match s.kind {
                Kind::Create => 201,
                Kind::Hit => 200,
                Kind::Miss | Kind::Unmatched => 404,
            };
            s.status != want
        })
        .count();
    checks.push(Check::new(
        "client: answers as planned (201, 200, 404, 404)",
        "—",
        format!("{} of {} differ", planned, traffic.sent.len()),
        "0 differ".into(),
        planned == 0,
    ));
    let up = format!(r#"up{{job="{}"}}"#, super::prom::JOB);
    let v = prometheus.value(&up, None)?;
    checks.push(Check::new("scrapes succeed", &up, count(v), "1".into(), v == Some(1.0)));

    // Counters: exact.
    let (hits, misses) = (traffic.count(Kind::Hit, 2), traffic.count(Kind::Miss, 4));
    let (creates, unmatched) = (traffic.count(Kind::Create, 2), traffic.count(Kind::Unmatched, 4));
    let (_, by_id_bytes) = traffic.body_bytes(&[Kind::Hit, Kind::Miss]);
    let (create_bytes, _) = traffic.body_bytes(&[Kind::Create]);
    let exact: [(&str, String, u64); 9] = [
        (
            "GET /todos/:id answered 2xx",
            format!(
                r#"sum(mambo_http_requests_total{{route="{ROUTE}",method="GET",status="2xx"}})"#
            ),
            hits,
        ),
        (
            "GET /todos/:id answered 4xx",
            format!(
                r#"sum(mambo_http_requests_total{{route="{ROUTE}",method="GET",status="4xx"}})"#
            ),
            misses,
        ),
        (
            "POST /todos answered 2xx",
            r#"sum(mambo_http_requests_total{route="/todos",method="POST",status="2xx"})"#.into(),
            creates,
        ),
        (
            "requests no route took",
            r#"sum(mambo_http_requests_total{route="unmatched"})"#.into(),
            unmatched,
        ),
        (
            "duration histogram count",
            format!(r#"sum(mambo_http_request_duration_seconds_count{{route="{ROUTE}"}})"#),
            hits + misses,
        ),
        (
            "duration histogram +Inf bucket",
            format!(
                r#"sum(mambo_http_request_duration_seconds_bucket{{route="{ROUTE}",le="+Inf"}})"#
            ),
            hits + misses,
        ),
        (
            "response body bytes of GET /todos/:id",
            format!(r#"sum(mambo_http_response_body_bytes_total{{route="{ROUTE}"}})"#),
            by_id_bytes,
        ),
        (
            "request body bytes of POST /todos",
            r#"sum(mambo_http_request_body_bytes_total{route="/todos",method="POST"})"#.into(),
            create_bytes,
        ),
        (
            "GET /todos/:id in flight after the traffic",
            format!(r#"sum(mambo_http_requests_in_flight{{route="{ROUTE}"}})"#),
            0,
        ),
    ];
    for (what, query, expected) in exact {
        let v = prometheus.value(&query, None)?;
        checks.push(Check::new(
            what,
            &query,
            count(v),
            format!("{expected} (client, exact)"),
            exact_ok(v, expected),
        ));
    }

    // Rates over a window inside the steady state.
    let window = plan.window_secs();
    let w = window as f64;
    let at = traffic.paced.1 - 2.0;
    for (kind, class, status) in [(Kind::Hit, 2, "2xx"), (Kind::Miss, 4, "4xx")] {
        let query = format!(
            r#"sum(rate(mambo_http_requests_total{{route="{ROUTE}",status="{status}"}}[{window}s]))"#
        );
        let v = prometheus.value(&query, Some(at))?;
        let expected = traffic.ended_in(kind, class, at - w, at) as f64 / w;
        let nominal = f64::from(plan.rate)
            * if kind == Kind::Miss { 1.0 } else { f64::from(plan.miss_every - 1) }
            / f64::from(plan.miss_every);
        let tolerance = RATE_RELATIVE * expected + RATE_SLACK_REQUESTS / w;
        checks.push(Check::new(
            &format!("rate of {status} answers (at the end of the paced phase − 2 s)"),
            &query,
            v.map_or_else(|| "no series".into(), |v| format!("{v:.3}/s")),
            format!(
                "{expected:.3}/s ± {tolerance:.2} (client, same window; {nominal:.0}/s planned)"
            ),
            v.is_some_and(|v| rate_ok(v, expected, w)),
        ));
    }

    // Quantiles, against the client's round trips.
    let buckets =
        format!(r#"sum by (le) (mambo_http_request_duration_seconds_bucket{{route="{ROUTE}"}})"#);
    let mut bounds: Vec<f64> = prometheus
        .query(&buckets, None)?
        .iter()
        .filter_map(|s| s.labels.get("le")?.parse::<f64>().ok())
        .collect();
    bounds.sort_by(f64::total_cmp);
    let by_id = [Kind::Hit, Kind::Miss];
    let latencies = traffic.latencies(&by_id);
    let in_window = traffic.latencies_in(&by_id, at - w, at);
    let client_max = latencies.last().copied().unwrap_or(0.0);
    let client_median = traffic::quantile(&in_window, 0.5);
    let client_p99 = traffic::quantile(&in_window, 0.99);
    let bounded_by = [
        (0.5, client_median, format!("the client's p50 in the same window, {}", ms(client_median))),
        (
            0.99,
            client_max,
            format!(
                "the client's largest round trip, {} (its p99 in the window: {})",
                ms(client_max),
                ms(client_p99)
            ),
        ),
    ];
    for (q, client, name) in bounded_by {
        let query = format!(
            "histogram_quantile({q}, sum by (le) (rate(\
             mambo_http_request_duration_seconds_bucket{{route=\"{ROUTE}\"}}[{window}s])))"
        );
        let v = prometheus.value(&query, Some(at))?;
        checks.push(Check::new(
            &format!("p{} of GET /todos/:id, server side", q * 100.0),
            &query,
            v.map_or_else(|| "no series".into(), ms),
            format!("> 0 and ≤ {}: bucket ceiling of {name}", ms(bucket_ceiling(&bounds, client))),
            v.is_some_and(|v| quantile_ok(v, client, &bounds)),
        ));
    }

    // What `increase` makes of the whole run: shown, not checked.
    let range = (last_scrape - traffic.paced.0).ceil() as u64 + 5;
    let query = format!(
        r#"sum(increase(mambo_http_requests_total{{route="{ROUTE}",status="2xx"}}[{range}s]))"#
    );
    let v = prometheus.value(&query, Some(last_scrape))?;
    checks.push(Check {
        what: "increase over the whole run (extrapolated)".into(),
        query,
        answer: v.map_or_else(|| "no series".into(), |v| format!("{v:.1}")),
        expected: format!(
            "≈ {hits}, not exactly: the series' first sample counts as no increase, \
             and the ends are extrapolated"
        ),
        verdict: Verdict::Info,
    });
    Ok(checks)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: [f64; 5] = [0.0001, 0.00025, 0.0005, 0.001, f64::INFINITY];

    #[test]
    fn exact_counts() {
        assert!(exact_ok(Some(960.0), 960));
        assert!(!exact_ok(Some(959.0), 960));
        assert!(!exact_ok(None, 960));
        assert!(exact_ok(None, 0), "a series that never appeared is a zero");
    }

    #[test]
    fn rate_tolerance_is_relative_plus_two_requests() {
        // 40/s over 20 s: ± (2 + 0.1) /s.
        assert!(rate_ok(40.0, 40.0, 20.0));
        assert!(rate_ok(42.09, 40.0, 20.0));
        assert!(rate_ok(37.91, 40.0, 20.0));
        assert!(!rate_ok(42.2, 40.0, 20.0));
        assert!(!rate_ok(0.0, 40.0, 20.0));
        assert!(!rate_ok(f64::NAN, 40.0, 20.0));
    }

    #[test]
    fn bucket_ceilings() {
        assert_eq!(bucket_ceiling(&BOUNDS, 0.0003), 0.0005);
        assert_eq!(bucket_ceiling(&BOUNDS, 0.0005), 0.0005, "bounds are inclusive (`le`)");
        assert_eq!(bucket_ceiling(&BOUNDS, 5.0), f64::INFINITY);
        assert_eq!(bucket_ceiling(&[], 1.0), f64::INFINITY);
    }

    #[test]
    fn quantiles_must_be_finite_positive_and_at_most_the_client_bucket() {
        // Client max 0.3 ms: anything up to the 0.5 ms bound can be right.
        assert!(quantile_ok(0.00045, 0.0003, &BOUNDS));
        assert!(quantile_ok(0.0005, 0.0003, &BOUNDS));
        assert!(!quantile_ok(0.0007, 0.0003, &BOUNDS));
        assert!(!quantile_ok(f64::NAN, 0.0003, &BOUNDS));
        assert!(!quantile_ok(f64::INFINITY, 10.0, &BOUNDS), "the +Inf bucket gives no answer");
        assert!(!quantile_ok(0.0, 0.0003, &BOUNDS));
    }

    #[test]
    fn verdicts_print() {
        assert_eq!(Verdict::Pass.to_string(), "ok");
        assert_eq!(Verdict::Skipped("404".into()).to_string(), "skipped: 404");
        assert_eq!(ms(0.000412), "0.412 ms");
        assert_eq!(ms(f64::NAN), "NaN");
    }
}
