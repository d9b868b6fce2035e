//! The export pipeline: an OTLP span exporter (HTTP/protobuf or gRPC)
//! behind the SDK's batch processor, configured from `OTEL_*`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use opentelemetry::InstrumentationScope;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::{HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use tokio::runtime::Handle;
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::registry::LookupSpan;

/// The OTLP transport that carries the spans to the collector.
///
/// Unless [`Builder::protocol`] sets it, `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`
/// or `OTEL_EXPORTER_OTLP_PROTOCOL` does (`http/protobuf` or `grpc`), and
/// it is `http/protobuf` when neither is set, as the specification asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Protocol {
    /// Protobuf over HTTP (`POST {endpoint}/v1/traces`), port 4318 by default.
    HttpProtobuf,
    /// gRPC (`opentelemetry.proto.collector.trace.v1.TraceService/Export`),
    /// port 4317 by default.
    Grpc,
}

const TRACES_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL";
const PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
const TRACES_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT";
const TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TIMEOUT";

/// The exporter's default deadline per export, as the specification sets it.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

impl Protocol {
    /// The protocol the environment asks for, if it names one.
    fn from_env() -> Result<Option<Protocol>, OtelError> {
        for var in [TRACES_PROTOCOL, PROTOCOL] {
            let Ok(value) = std::env::var(var) else { continue };
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            return Self::parse(var, value).map(Some);
        }
        Ok(None)
    }

    /// The protocol `var` names with `value`.
    fn parse(var: &'static str, value: &str) -> Result<Protocol, OtelError> {
        match value.to_ascii_lowercase().as_str() {
            "http/protobuf" => Ok(Protocol::HttpProtobuf),
            "grpc" => Ok(Protocol::Grpc),
            _ => Err(OtelError(Kind::Protocol { var, value: value.to_owned() })),
        }
    }
}

/// The export deadline the environment sets, in milliseconds, or 10 s.
fn timeout_from_env() -> Duration {
    [TRACES_TIMEOUT, TIMEOUT]
        .into_iter()
        .find_map(|var| std::env::var(var).ok()?.trim().parse().ok())
        .map_or(DEFAULT_TIMEOUT, Duration::from_millis)
}

/// Builds the trace pipeline from the environment: [`init`] with
/// [`Builder::init`]'s defaults.
///
/// # Errors
///
/// See [`Builder::init`].
///
/// # Examples
///
/// ```no_run
/// # async fn run() -> Result<(), mambo::observe::otel::OtelError> {
/// let otel = mambo::observe::otel::init()?;
/// // ... add `otel.layer()` to the subscriber, serve ...
/// otel.shutdown().await
/// # }
/// ```
pub fn init() -> Result<OtelGuard, OtelError> {
    Builder::new().init()
}

/// Settings of the trace pipeline that override the `OTEL_*` variables.
///
/// Everything left unset comes from the environment, as the OpenTelemetry
/// specification describes; see the [module documentation](super) for the
/// variables.
///
/// # Examples
///
/// ```no_run
/// use mambo::observe::otel::{self, Protocol};
///
/// # async fn run() -> Result<(), otel::OtelError> {
/// let otel = otel::builder()
///     .protocol(Protocol::Grpc)
///     .endpoint("http://collector:4317")
///     .service_name("todo-api")
///     .init()?;
/// # drop(otel);
/// # Ok(())
/// # }
/// ```
#[derive(Default)]
#[must_use]
pub struct Builder {
    protocol: Option<Protocol>,
    endpoint: Option<String>,
    service_name: Option<String>,
    http_client: Option<Arc<dyn HttpClient>>,
}

/// A [`Builder`] with nothing set: everything from the environment.
pub fn builder() -> Builder {
    Builder::new()
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("protocol", &self.protocol)
            .field("endpoint", &self.endpoint)
            .field("service_name", &self.service_name)
            .field("http_client", &self.http_client.is_some())
            .finish()
    }
}

impl Builder {
    /// A builder with nothing set: everything from the environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// Exports over `protocol`, whatever `OTEL_EXPORTER_OTLP_PROTOCOL` says.
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = Some(protocol);
        self
    }

    /// Sends spans to `endpoint`, whatever the `OTEL_EXPORTER_OTLP_*ENDPOINT`
    /// variables say.
    ///
    /// The URL is used as given, like `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`:
    /// for HTTP it includes the path (`http://collector:4318/v1/traces`),
    /// for gRPC it is the server's (`http://collector:4317`).
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Names the service (the `service.name` resource attribute), whatever
    /// `OTEL_SERVICE_NAME` says.
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// Sends HTTP exports with `client` instead of the built-in hyper
    /// client, which speaks plain `http://` only: for an `https://`
    /// collector, pass a TLS-capable client (reqwest's `Client` implements
    /// [`HttpClient`] when `opentelemetry-http`'s `reqwest` feature is on).
    ///
    /// The client runs on the Tokio runtime `init` was called on.
    pub fn http_client(mut self, client: impl HttpClient + 'static) -> Self {
        self.http_client = Some(Arc::new(client));
        self
    }

    /// Builds the pipeline: an OTLP exporter (HTTP/protobuf or gRPC) behind
    /// a batch span processor, a tracer provider with the resource the
    /// environment describes; installs the W3C trace-context propagator and
    /// the provider as OpenTelemetry's globals.
    ///
    /// Call it inside the Tokio runtime the application runs on (in
    /// `#[tokio::main]`): the exporters' connections live there. The batch
    /// processor exports from a thread of its own every 5 s
    /// (`OTEL_BSP_SCHEDULE_DELAY`), or sooner when 512 spans wait.
    ///
    /// # Errors
    ///
    /// Outside a Tokio runtime; when `OTEL_EXPORTER_OTLP_PROTOCOL` names a
    /// protocol other than `http/protobuf` and `grpc`; when the exporter
    /// rejects its configuration (an endpoint that is not a URL).
    pub fn init(self) -> Result<OtelGuard, OtelError> {
        let runtime = Handle::try_current().map_err(|_| OtelError(Kind::NoRuntime))?;
        let protocol = match self.protocol {
            Some(protocol) => protocol,
            None => Protocol::from_env()?.unwrap_or(Protocol::HttpProtobuf),
        };
        let exporter = match protocol {
            Protocol::HttpProtobuf => {
                let client = self.http_client.unwrap_or_else(|| {
                    let client = opentelemetry_http::hyper::HyperClient::with_default_connector(
                        timeout_from_env(),
                        None,
                    );
                    Arc::new(client)
                });
                let mut exporter = opentelemetry_otlp::SpanExporter::builder()
                    .with_http()
                    .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                    .with_http_client(OnRuntime { client, runtime });
                if let Some(endpoint) = self.endpoint {
                    exporter = exporter.with_endpoint(endpoint);
                }
                exporter.build()
            }
            Protocol::Grpc => {
                let mut exporter = opentelemetry_otlp::SpanExporter::builder()
                    .with_tonic()
                    .with_protocol(opentelemetry_otlp::Protocol::Grpc);
                if let Some(endpoint) = self.endpoint {
                    exporter = exporter.with_endpoint(endpoint);
                }
                exporter.build()
            }
        }
        .map_err(|err| OtelError(Kind::Exporter(err)))?;
        let mut resource = Resource::builder();
        if let Some(name) = self.service_name {
            resource = resource.with_service_name(name);
        }
        let provider = SdkTracerProvider::builder()
            .with_resource(resource.build())
            .with_batch_exporter(exporter)
            .build();
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        opentelemetry::global::set_tracer_provider(provider.clone());
        Ok(OtelGuard { provider, shut_down: false })
    }
}

/// An HTTP client whose requests run on the application's Tokio runtime.
///
/// The SDK's batch processor exports from a thread of its own, outside any
/// runtime, and the HTTP clients that fit a Tokio server (hyper's, reqwest's)
/// need one: each export is spawned onto the runtime `init` ran on and
/// awaited from the processor's thread.
#[derive(Debug)]
struct OnRuntime {
    client: Arc<dyn HttpClient>,
    runtime: Handle,
}

impl HttpClient for OnRuntime {
    // The shape `#[async_trait]` gives the trait's method.
    fn send_bytes<'life0, 'async_trait>(
        &'life0 self,
        request: Request<Bytes>,
    ) -> Pin<Box<dyn Future<Output = Result<Response<Bytes>, HttpError>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        let client = self.client.clone();
        let export = self.runtime.spawn(async move { client.send_bytes(request).await });
        Box::pin(async move { export.await.map_err(|err| Box::new(err) as HttpError)? })
    }
}

/// The running trace pipeline. Dropping it (or, better, awaiting
/// [`shutdown`](Self::shutdown)) exports the spans still waiting and stops
/// the exporter.
///
/// Keep it alive for as long as the server runs: bind it in `main`
/// (`let otel = ...`, not `let _ = ...`, which drops it at once).
#[must_use = "dropping the guard shuts the trace pipeline down"]
pub struct OtelGuard {
    provider: SdkTracerProvider,
    shut_down: bool,
}

impl fmt::Debug for OtelGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtelGuard").field("shut_down", &self.shut_down).finish_non_exhaustive()
    }
}

impl OtelGuard {
    /// A `tracing` layer that turns spans into OpenTelemetry spans exported
    /// by this pipeline: add it to the application's subscriber.
    ///
    /// It is `tracing-opentelemetry`'s layer with its defaults; to change
    /// them, build one from [`tracer`](Self::tracer) instead.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let otel = mambo::observe::otel::init()?;
    /// let subscriber = tracing_subscriber::registry().with(otel.layer());
    /// tracing::subscriber::set_global_default(subscriber)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn layer<S>(&self) -> impl Layer<S>
    where
        S: Subscriber + for<'span> LookupSpan<'span>,
    {
        tracing_opentelemetry::layer().with_tracer(self.tracer())
    }

    /// A tracer of this pipeline, with `mambo` as its instrumentation scope.
    pub fn tracer(&self) -> SdkTracer {
        let scope =
            InstrumentationScope::builder("mambo").with_version(env!("CARGO_PKG_VERSION")).build();
        self.provider.tracer_with_scope(scope)
    }

    /// The tracer provider (also installed as OpenTelemetry's global one).
    pub fn tracer_provider(&self) -> &SdkTracerProvider {
        &self.provider
    }

    /// Exports every finished span now, and waits until it is done.
    ///
    /// # Errors
    ///
    /// When the exporter fails or times out.
    pub async fn flush(&self) -> Result<(), OtelError> {
        let provider = self.provider.clone();
        Self::blocking(move || provider.force_flush()).await
    }

    /// Exports the spans still waiting, then stops the exporter.
    ///
    /// Prefer it to dropping the guard: the exporter needs the runtime to
    /// run while it waits, which a blocking drop on a current-thread
    /// runtime does not allow (the drop then gives up after the export
    /// timeout, and the last spans are lost).
    ///
    /// # Errors
    ///
    /// When the last export fails or times out.
    pub async fn shutdown(mut self) -> Result<(), OtelError> {
        self.shut_down = true;
        let provider = self.provider.clone();
        Self::blocking(move || provider.shutdown()).await
    }

    /// Runs a blocking call of the SDK off the runtime's threads, so that
    /// the exports it waits for can run on them.
    async fn blocking(
        call: impl FnOnce() -> opentelemetry_sdk::error::OTelSdkResult + Send + 'static,
    ) -> Result<(), OtelError> {
        match tokio::task::spawn_blocking(call).await {
            Ok(result) => result.map_err(|err| OtelError(Kind::Sdk(err))),
            Err(err) => Err(OtelError(Kind::Task(err))),
        }
    }
}

impl Drop for OtelGuard {
    /// Shuts the pipeline down unless [`shutdown`](Self::shutdown) did:
    /// blocks the thread until the last export is done or has timed out.
    fn drop(&mut self) {
        if !self.shut_down {
            let _ = self.provider.shutdown();
        }
    }
}

/// Why the trace pipeline could not be built, flushed or shut down.
pub struct OtelError(Kind);

enum Kind {
    NoRuntime,
    Protocol { var: &'static str, value: String },
    Exporter(opentelemetry_otlp::ExporterBuildError),
    Sdk(opentelemetry_sdk::error::OTelSdkError),
    Task(tokio::task::JoinError),
}

impl fmt::Display for OtelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Kind::NoRuntime => f.write_str(
                "the OpenTelemetry pipeline needs a Tokio runtime: call `otel::init` inside \
                 `#[tokio::main]` or `Runtime::block_on`",
            ),
            Kind::Protocol { var, value } => {
                write!(f, "`{var}` is `{value}`: mambo exports over `http/protobuf` or `grpc`")
            }
            Kind::Exporter(err) => write!(f, "the OTLP span exporter could not be built: {err}"),
            Kind::Sdk(err) => write!(f, "the trace pipeline failed: {err}"),
            Kind::Task(err) => write!(f, "the trace pipeline's blocking task failed: {err}"),
        }
    }
}

impl fmt::Debug for OtelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OtelError").field(&self.to_string()).finish()
    }
}

impl std::error::Error for OtelError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0 {
            Kind::NoRuntime | Kind::Protocol { .. } => None,
            Kind::Exporter(err) => Some(err),
            Kind::Sdk(err) => Some(err),
            Kind::Task(err) => Some(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_by_their_specification_names() {
        assert_eq!(Protocol::parse(PROTOCOL, "grpc").unwrap(), Protocol::Grpc);
        assert_eq!(Protocol::parse(PROTOCOL, "HTTP/Protobuf").unwrap(), Protocol::HttpProtobuf);
        let err = Protocol::parse(TRACES_PROTOCOL, "http/json").unwrap_err();
        assert_eq!(
            err.to_string(),
            "`OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` is `http/json`: mambo exports over \
             `http/protobuf` or `grpc`"
        );
    }

    #[test]
    fn init_needs_a_runtime() {
        let err = init().unwrap_err();
        assert!(err.to_string().contains("Tokio runtime"), "{err}");
    }
}
