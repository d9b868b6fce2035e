//! OpenTelemetry traces (feature `otel`): W3C trace context in, one server
//! span per request, OTLP export out.
//!
//! # What you get
//!
//! For each request [`Server`](crate::Server) serves, a span of kind
//! `server` named `{method} {route}` (`GET /todos/:id`; just `GET` when no
//! route matched), with the stable HTTP semantic-convention attributes:
//!
//! | attribute | value |
//! |---|---|
//! | `http.request.method` | `GET`, ..., or `_OTHER` (with `http.request.method_original`) |
//! | `http.route` | the matched pattern, as written in `#[route]` (scopes included) |
//! | `http.response.status_code` | `200` |
//! | `url.path`, `url.scheme` | `/todos/7`, `http` |
//! | `client.address`, `client.port` | the peer's address |
//! | `network.protocol.version` | `1.1`, `2` |
//! | `user_agent.original` | the `user-agent` header |
//! | `error.type` | on a 5xx: the status code (`500`), or `panic` for a handler's panic |
//! | `request.id` | the id [`RequestId`](crate::middleware::RequestId) gave the request |
//!
//! A 5xx also sets the span's status to error. The span continues the trace
//! of the request's `traceparent` / `tracestate` headers, if any; spans a
//! handler opens with `tracing` (`#[instrument]`, `info_span!`) become its
//! children, because the server polls the router inside it.
//! [`AccessLog`](crate::middleware::AccessLog) adds the `trace_id` to its
//! line, so logs lead to traces and back.
//!
//! Requests from the in-process [`TestClient`](crate::test::TestClient) do
//! not go through the server, and get no span.
//!
//! # Setting it up
//!
//! [`init`] builds the export pipeline from the `OTEL_*` environment
//! variables, installs the W3C propagator, and returns an [`OtelGuard`];
//! [`OtelGuard::layer`] is the `tracing` layer that turns spans into
//! OpenTelemetry spans. Add it to your subscriber beside the others:
//!
//! ```no_run
//! use mambo::middleware::{AccessLog, RequestId};
//! use mambo::prelude::*;
//! use tracing_subscriber::layer::SubscriberExt;
//! use tracing_subscriber::util::SubscriberInitExt;
//! use tracing_subscriber::EnvFilter;
//!
//! #[route(GET "/todos/:id")]
//! async fn get_todo(id: u64) -> String {
//!     // A child of the request's span.
//!     let _load = tracing::info_span!("load_todo", id).entered();
//!     format!("todo {id}")
//! }
//!
//! mambo::router! {
//!     pub struct Api {
//!         middleware: [RequestId, AccessLog],
//!         routes: [get_todo],
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // OTEL_SERVICE_NAME=todo-api OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318
//!     let otel = mambo::observe::otel::init()?;
//!     tracing_subscriber::registry()
//!         .with(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
//!         .with(tracing_subscriber::fmt::layer())
//!         .with(otel.layer())
//!         .init();
//!
//!     mambo::Server::bind("0.0.0.0:8080").serve(Api::new()).await?;
//!     // Export what is left before the process ends.
//!     otel.shutdown().await?;
//!     Ok(())
//! }
//! ```
//!
//! The server span is an `INFO` span of target [`TARGET`] (`mambo::otel`):
//! the subscriber's filter must let it through (`RUST_LOG=info`, or
//! `RUST_LOG=warn,mambo::otel=info`). Filtering it out turns the server
//! spans off.
//!
//! With a pipeline of your own (another exporter, a sampler in code), skip
//! [`init`]: add `tracing_opentelemetry::layer().with_tracer(..)` with the
//! [re-exported](tracing_opentelemetry) crate (the same version mambo
//! uses, or the server span cannot find its parent), and install a
//! propagator with `opentelemetry::global::set_text_map_propagator`.
//!
//! # Environment
//!
//! Read by [`init`] and by the OpenTelemetry SDK and exporter it builds;
//! what a [`Builder`] sets wins over the variables.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `OTEL_EXPORTER_OTLP_PROTOCOL` (`_TRACES_PROTOCOL`) | `http/protobuf` or `grpc` | `http/protobuf` |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | the collector; HTTP appends `/v1/traces` | `http://localhost:4318` (HTTP), `http://localhost:4317` (gRPC) |
//! | `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` | the full URL for traces, used as is | |
//! | `OTEL_EXPORTER_OTLP_HEADERS` (`_TRACES_HEADERS`) | `key=value,..` sent with each export (API keys) | |
//! | `OTEL_EXPORTER_OTLP_TIMEOUT` (`_TRACES_TIMEOUT`) | milliseconds per export | `10000` |
//! | `OTEL_EXPORTER_OTLP_COMPRESSION` | leave unset: `gzip` and `zstd` are not built in | |
//! | `OTEL_SERVICE_NAME` | `service.name` | `unknown_service:<executable>` |
//! | `OTEL_RESOURCE_ATTRIBUTES` | more resource attributes, `key=value,..` | |
//! | `OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG` | `parentbased_traceidratio` and `0.1`, ... | `parentbased_always_on` |
//! | `OTEL_BSP_SCHEDULE_DELAY`, `OTEL_BSP_MAX_QUEUE_SIZE`, `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, `OTEL_BSP_EXPORT_TIMEOUT` | the batch processor | `5000`, `2048`, `512`, `30000` |
//!
//! The built-in HTTP client speaks plain `http://`, and so does gRPC: run
//! a collector beside the service, or pass a TLS-capable client to
//! [`Builder::http_client`].
//!
//! # Outgoing requests
//!
//! [`inject`] writes the current trace context into the headers of a
//! request the handler sends, so the service it calls continues the trace.
//!
//! # Cost
//!
//! Without the feature, none of this is compiled. With it and no subscriber
//! listening to `mambo::otel` at `INFO`, a request costs one cached level
//! check when it starts and a thread-local read where the route is found
//! (and in `RequestId`): no span, no header parsing, no allocation. With a
//! subscriber, a request pays for its span like any `tracing` span, plus
//! the propagator's header parsing and the formatted span name; exports
//! run in the background, in batches.

mod export;
mod span;

pub use self::export::{Builder, OtelError, OtelGuard, Protocol, builder, init};
pub(crate) use self::span::{
    Active, TraceIdField, activate, enabled, finish, mark_panic, open, record_request_id,
    record_route,
};
pub use self::span::{TARGET, inject};

/// The crates this module is built on, at the versions mambo uses: name
/// their types through these paths so they match the server span's.
pub use {opentelemetry, opentelemetry_http, opentelemetry_sdk, tracing_opentelemetry};
