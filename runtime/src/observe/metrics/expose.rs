//! The exposition: every metric of the process in the Prometheus text
//! format, or in OpenMetrics when the scraper asks for it (`Accept`), both
//! written by `prometheus-client`.

use std::sync::atomic::Ordering;

use http::{HeaderValue, StatusCode, header};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::encoding::{prometheus_text, text};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::{Registry, Unit};

use super::slots::{RouterMetrics, STATUS_LABELS};
use crate::error::Error;
use crate::observe::server;
use crate::response::{IntoResponse, Response};
use crate::routing::RouteInfo;

/// The `Content-Type` of the OpenMetrics text format.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The code of the 500 a `metrics:` route answers when a metric the
/// application registered fails to encode.
pub const ENCODING_FAILED_CODE: u32 = 50006;

/// The `route` label of requests that matched no route.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// The exposition formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4 (`text/plain; version=0.0.4`).
    Prometheus,
    /// OpenMetrics text format 1.0.0.
    OpenMetrics,
}

impl Format {
    /// The format an `Accept` header asks for: OpenMetrics if it lists
    /// `application/openmetrics-text` with a quality above zero (as
    /// Prometheus does), else the Prometheus text format.
    pub fn negotiate(accept: Option<&HeaderValue>) -> Self {
        let Some(accept) = accept.and_then(|value| value.to_str().ok()) else {
            return Format::Prometheus;
        };
        let openmetrics = accept.split(',').any(|range| {
            let mut parts = range.split(';').map(str::trim);
            let is_openmetrics = parts
                .next()
                .is_some_and(|media| media.eq_ignore_ascii_case("application/openmetrics-text"));
            let refused = parts.any(|param| {
                param
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            is_openmetrics && !refused
        });
        if openmetrics { Format::OpenMetrics } else { Format::Prometheus }
    }
}

/// Encodes every metric of the process for a router: the application's
/// own (the [`registry`](super::registry)), the router's routes, and the
/// server's counters.
///
/// # Errors
///
/// Only if a metric the application registered fails to encode itself.
pub fn encode(
    metrics: &'static RouterMetrics,
    routes: &'static [RouteInfo],
    format: Format,
) -> Result<String, std::fmt::Error> {
    let mut ours = Registry::default();
    ours.register_collector(Box::new(RouteCollector { metrics, routes }));
    ours.register_collector(Box::new(ServerCollector));
    let mut out = String::with_capacity(8 * 1024);
    let theirs = super::registry();
    match format {
        Format::Prometheus => {
            prometheus_text::encode(&mut out, &theirs)?;
            prometheus_text::encode(&mut out, &ours)?;
        }
        Format::OpenMetrics => {
            text::encode_registry(&mut out, &theirs)?;
            text::encode_registry(&mut out, &ours)?;
            text::encode_eof(&mut out)?;
        }
    }
    Ok(out)
}

/// The answer of a router's `metrics:` route.
pub fn respond(
    metrics: &'static RouterMetrics,
    routes: &'static [RouteInfo],
    accept: Option<&HeaderValue>,
) -> Response {
    let format = Format::negotiate(accept);
    let content_type = match format {
        Format::Prometheus => prometheus_text::CONTENT_TYPE,
        Format::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
    };
    match encode(metrics, routes, format) {
        Ok(body) => {
            let mut response = body.into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(_) => Error::with_code(
            StatusCode::INTERNAL_SERVER_ERROR,
            ENCODING_FAILED_CODE,
            "a registered metric failed to encode",
        )
        .into_response(),
    }
}

/// The route slots of one router.
#[derive(Debug)]
struct RouteCollector {
    metrics: &'static RouterMetrics,
    routes: &'static [RouteInfo],
}

/// `route` and `method` of a slot: the route's pattern and methods as
/// declared (`GET|POST`, `*` for a service that takes any), never the
/// request's path.
fn labels(routes: &'static [RouteInfo], index: usize) -> [(&'static str, String); 2] {
    match routes.get(index) {
        Some(route) => [("route", route.pattern.to_owned()), ("method", route.methods.join("|"))],
        None => [("route", UNMATCHED_ROUTE.to_owned()), ("method", String::new())],
    }
}

impl Collector for RouteCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let slots = self.metrics.slots();
        let used: Vec<usize> = (0..slots.len()).filter(|&i| slots[i].is_used()).collect();
        let load = |counter: &std::sync::atomic::AtomicU64| counter.load(Ordering::Relaxed);

        let mut family = encoder.encode_descriptor(
            "mambo_http_requests",
            "Requests answered (or cancelled) per route, by status class",
            None,
            MetricType::Counter,
        )?;
        for &i in &used {
            let [route, method] = labels(self.routes, i);
            for (class, label) in STATUS_LABELS.iter().enumerate() {
                let count = load(&slots[i].status[class]);
                if count == 0 {
                    continue;
                }
                let set = [route.clone(), method.clone(), ("status", (*label).to_owned())];
                ConstCounter::new(count).encode(family.encode_family(&set)?)?;
            }
        }

        let buckets = self.metrics.buckets().seconds();
        let mut family = encoder.encode_descriptor(
            "mambo_http_request_duration",
            "Time from the request's arrival at the router to its response's head, per route",
            Some(&Unit::Seconds),
            MetricType::Histogram,
        )?;
        for &i in &used {
            let slot = &slots[i];
            // Counts per bucket: the encoder makes them cumulative.
            let mut count = 0;
            let mut pairs = Vec::with_capacity(buckets.len() + 1);
            for (bound, in_bucket) in buckets.iter().chain([&f64::INFINITY]).zip(&slot.buckets) {
                let in_bucket = load(in_bucket);
                count += in_bucket;
                pairs.push((*bound, in_bucket));
            }
            let sum = load(&slot.duration_nanos) as f64 / 1e9;
            family
                .encode_family(&labels(self.routes, i))?
                .encode_histogram::<NoLabelSet>(sum, count, &pairs, None)?;
        }

        for (name, help, pick) in [
            (
                "mambo_http_request_body",
                "Request body bytes read by the handlers, per route",
                (|slot| &slot.request_bytes)
                    as fn(&super::RouteSlot) -> &std::sync::atomic::AtomicU64,
            ),
            (
                "mambo_http_response_body",
                "Response body bytes, per route (a streamed body as it is sent)",
                |slot| &slot.response_bytes,
            ),
        ] {
            let mut family =
                encoder.encode_descriptor(name, help, Some(&Unit::Bytes), MetricType::Counter)?;
            for &i in &used {
                let count = load(pick(&slots[i]));
                ConstCounter::new(count).encode(family.encode_family(&labels(self.routes, i))?)?;
            }
        }

        let mut family = encoder.encode_descriptor(
            "mambo_http_requests_in_flight",
            "Requests being answered, per route",
            None,
            MetricType::Gauge,
        )?;
        for &i in &used {
            let now = slots[i].in_flight.load(Ordering::Relaxed);
            ConstGauge::new(now).encode(family.encode_family(&labels(self.routes, i))?)?;
        }
        Ok(())
    }
}

/// The process's server counters ([`server::snapshot`]).
#[derive(Debug)]
struct ServerCollector;

impl Collector for ServerCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let now = server::snapshot();
        let mut family = encoder.encode_descriptor(
            "mambo_server_connections",
            "Open connections, by protocol",
            None,
            MetricType::Gauge,
        )?;
        for (protocol, open) in
            [("http1", now.open_connections_http1), ("http2", now.open_connections_http2)]
        {
            let set = [("protocol", protocol)];
            ConstGauge::new(open as i64).encode(family.encode_family(&set)?)?;
        }
        let gauge = ConstGauge::new(now.in_flight as i64);
        gauge.encode(encoder.encode_descriptor(
            "mambo_server_requests_in_flight",
            "Requests being answered by the servers of the process",
            None,
            MetricType::Gauge,
        )?)?;
        for (name, help, value) in [
            (
                "mambo_server_shed",
                "Requests and connections refused with a 503 because a limit was reached",
                now.shed,
            ),
            ("mambo_server_rate_limited", "Requests answered 429 by RateLimit", now.rate_limited),
            ("mambo_server_panics", "Handler or middleware panics answered with a 500", now.panics),
            ("mambo_server_accept_errors", "Errors accepting connections", now.accept_errors),
        ] {
            ConstCounter::new(value).encode(encoder.encode_descriptor(
                name,
                help,
                None,
                MetricType::Counter,
            )?)?;
        }
        let mut family = encoder.encode_descriptor(
            "mambo_server_timeouts",
            "Requests cut off by a deadline: 408 (the client's body was too slow), 504 (the handler was)",
            None,
            MetricType::Counter,
        )?;
        for (status, count) in [("408", now.timeouts_408), ("504", now.timeouts_504)] {
            ConstCounter::new(count).encode(family.encode_family(&[("status", status)])?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_picks_openmetrics_only_when_asked() {
        let negotiate =
            |accept: &'static str| Format::negotiate(Some(&HeaderValue::from_static(accept)));
        assert_eq!(Format::negotiate(None), Format::Prometheus);
        assert_eq!(negotiate("*/*"), Format::Prometheus);
        assert_eq!(negotiate("text/plain;version=0.0.4"), Format::Prometheus);
        // What Prometheus 2.x / 3.x sends.
        assert_eq!(
            negotiate(
                "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
            ),
            Format::OpenMetrics
        );
        assert_eq!(negotiate("application/openmetrics-text; q=0, text/plain"), Format::Prometheus);
    }
}
