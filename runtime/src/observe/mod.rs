//! Observability: what a running Mambo server tells the people who run it.
//!
//! - [`metrics`] (feature `metrics`): per-route Prometheus / OpenMetrics
//!   metrics recorded in static slots that `router!` generates, indexed by
//!   route id, plus server-wide counters; exposed on a route you choose.
//! - [`otel`] (feature `otel`): OpenTelemetry traces: W3C trace context in,
//!   one server span per request, OTLP export configured by `OTEL_*`.
//! - [`pprof`] (feature `pprof`, heap profiles with `pprof-heap`): CPU and
//!   heap profiles in pprof format, and flame graphs.
//! - [`health`]: liveness and readiness answers; readiness turns 503 as
//!   soon as graceful shutdown starts.
//!
//! The server-wide counters in [`server`] are always kept: they are a few
//! relaxed atomics touched only on rare events (a shed request, a timeout,
//! a panic) and once per connection.

pub mod health;
#[cfg(feature = "metrics")]
pub mod metrics;
#[cfg(feature = "otel")]
pub mod otel;
#[cfg(feature = "pprof")]
pub mod pprof;
pub mod server;
