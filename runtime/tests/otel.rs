//! OpenTelemetry server spans, end to end: a `router!` served by
//! `mambo::Server`, requests with a propagated `traceparent`, the spans
//! exported over OTLP (HTTP/protobuf, then gRPC) to a receiver in this test,
//! decoded with `opentelemetry-proto` and checked.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};
use mambo::middleware::{AccessLog, RequestId};
use mambo::observe::otel::{self, Protocol};
use mambo::prelude::*;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::{
    Span as ProtoSpan, span::SpanKind, status::StatusCode as Code,
};
use prost::Message;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tracing::Instrument;
use tracing::field::{Field, Visit};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Layer, SubscriberExt};

/// The caller's trace and span, as its `traceparent` carries them.
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";

#[route(GET "/todos/:id")]
async fn get_todo(id: u64) -> String {
    // Entered while the handler's future is polled: a child of the
    // request's span.
    let load = tracing::info_span!("load_todo", todo.id = id);
    async {
        tokio::task::yield_now().await;
        format!("todo {id}")
    }
    .instrument(load)
    .await
}

#[route(GET "/down")]
async fn down() -> Result<String, Error> {
    Err(Error::new(StatusCode::SERVICE_UNAVAILABLE, "the database is down"))
}

#[route(GET "/panic")]
async fn panics() -> String {
    panic!("the handler panicked")
}

mambo::router! {
    struct Api {
        middleware: [RequestId, AccessLog],
        routes: [get_todo, down, panics],
    }
}

/// What the receiver got, one entry per export request.
type Exports = mpsc::UnboundedReceiver<ExportTraceServiceRequest>;

/// An OTLP/HTTP receiver: `POST /v1/traces` with a protobuf body.
async fn http_receiver() -> (SocketAddr, Exports) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let tx = tx.clone();
            let service = hyper::service::service_fn(move |request: http::Request<Incoming>| {
                let tx = tx.clone();
                async move {
                    assert_eq!(request.method(), "POST");
                    assert_eq!(request.uri().path(), "/v1/traces");
                    assert_eq!(request.headers()["content-type"], "application/x-protobuf");
                    let body = request.into_body().collect().await.unwrap().to_bytes();
                    tx.send(ExportTraceServiceRequest::decode(body).unwrap()).unwrap();
                    let reply = ExportTraceServiceResponse::default().encode_to_vec();
                    Ok::<_, Infallible>(
                        http::Response::builder()
                            .header("content-type", "application/x-protobuf")
                            .body(Full::new(Bytes::from(reply)))
                            .unwrap(),
                    )
                }
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });
    (addr, rx)
}

/// An OTLP/gRPC receiver: the `TraceService/Export` call over h2c, framed
/// by hand (a 5-byte prefix per message, `grpc-status` in the trailers), so
/// that the test needs no gRPC server stack.
async fn grpc_receiver() -> (SocketAddr, Exports) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let tx = tx.clone();
            let service = hyper::service::service_fn(move |request: http::Request<Incoming>| {
                let tx = tx.clone();
                async move {
                    assert_eq!(
                        request.uri().path(),
                        "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
                    );
                    assert_eq!(request.headers()["content-type"], "application/grpc");
                    let mut body = request.into_body().collect().await.unwrap().to_bytes();
                    assert_eq!(body.get_u8(), 0, "uncompressed");
                    let len = body.get_u32() as usize;
                    tx.send(ExportTraceServiceRequest::decode(&body[..len]).unwrap()).unwrap();
                    let reply = ExportTraceServiceResponse::default().encode_to_vec();
                    let mut framed = BytesMut::new();
                    framed.put_u8(0);
                    framed.put_u32(reply.len() as u32);
                    framed.put_slice(&reply);
                    Ok::<_, Infallible>(
                        http::Response::builder()
                            .header("content-type", "application/grpc")
                            .body(GrpcReply { message: Some(framed.freeze()), trailers: true })
                            .unwrap(),
                    )
                }
            });
            tokio::spawn(
                hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });
    (addr, rx)
}

/// A gRPC response body: the message, then `grpc-status: 0`.
struct GrpcReply {
    message: Option<Bytes>,
    trailers: bool,
}

impl http_body::Body for GrpcReply {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(message) = self.message.take() {
            return Poll::Ready(Some(Ok(Frame::data(message))));
        }
        if std::mem::take(&mut self.trailers) {
            let mut trailers = http::HeaderMap::new();
            trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
            return Poll::Ready(Some(Ok(Frame::trailers(trailers))));
        }
        Poll::Ready(None)
    }
}

/// Sends `GET path` on a new HTTP/1.1 connection, with `headers`.
async fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> StatusCode {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    let mut request = http::Request::get(path).header("host", "localhost");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = sender.send_request(request.body(Empty::<Bytes>::new()).unwrap()).await.unwrap();
    let status = response.status();
    response.into_body().collect().await.unwrap();
    status
}

/// The `trace_id` and `request_id` of each access-log line.
#[derive(Clone, Default)]
struct AccessLines(Arc<Mutex<Vec<HashMap<String, String>>>>);

impl<S: tracing::Subscriber> Layer<S> for AccessLines {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Fields<'a>(&'a mut HashMap<String, String>);
        impl Visit for Fields<'_> {
            fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
                self.0.insert(field.name().to_owned(), format!("{value:?}"));
            }
            fn record_str(&mut self, field: &Field, value: &str) {
                self.0.insert(field.name().to_owned(), value.to_owned());
            }
        }
        if event.metadata().target() == mambo::middleware::ACCESS_LOG_TARGET {
            let mut fields = HashMap::new();
            event.record(&mut Fields(&mut fields));
            self.0.lock().unwrap().push(fields);
        }
    }
}

/// Serves `Api` with server spans exported by `otel`, runs `requests`
/// against it, then returns every span exported and the access-log lines.
async fn serve_and_export<F, Fut>(
    otel: otel::OtelGuard,
    mut exports: Exports,
    requests: F,
) -> (Vec<ProtoSpan>, Vec<HashMap<String, String>>)
where
    F: FnOnce(SocketAddr) -> Fut,
    Fut: Future<Output = ()>,
{
    let access = AccessLines::default();
    // Only this test's and mambo's spans: the exporter's own HTTP/2 and
    // connection spans would otherwise be exported too.
    let targets = Targets::new()
        .with_target("mambo", tracing::Level::TRACE)
        .with_target("otel", tracing::Level::TRACE);
    let subscriber =
        tracing_subscriber::registry().with(otel.layer().with_filter(targets)).with(access.clone());
    // The runtime is current-thread: the server's tasks run on this thread,
    // where the subscriber is the default.
    let _default = tracing::subscriber::set_default(subscriber);

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let listening = mambo::Server::bind("127.0.0.1:0")
        .with_graceful_shutdown(async {
            let _ = stopped.await;
        })
        .listen()
        .unwrap();
    let addr = listening.local_addr();
    let server = tokio::spawn(listening.serve(Api::new()));
    requests(addr).await;
    // Every connection is closed, so every request's span is too.
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    otel.shutdown().await.expect("the last export");

    let mut spans = Vec::new();
    while let Ok(export) = exports.try_recv() {
        for resource in export.resource_spans {
            let service = resource
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|kv| kv.key == "service.name")
                .map(|kv| render(kv.value.as_ref().and_then(|v| v.value.as_ref())));
            assert_eq!(service.as_deref(), Some("otel-test"));
            for scope in resource.scope_spans {
                spans.extend(scope.spans);
            }
        }
    }
    let lines = access.0.lock().unwrap().clone();
    (spans, lines)
}

/// An attribute value as text (`200`, `GET`).
fn render(value: Option<&AnyValue>) -> String {
    match value {
        Some(AnyValue::StringValue(s)) => s.clone(),
        Some(AnyValue::IntValue(i)) => i.to_string(),
        Some(AnyValue::BoolValue(b)) => b.to_string(),
        other => format!("{other:?}"),
    }
}

fn attr(span: &ProtoSpan, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .map(|kv| render(kv.value.as_ref().and_then(|v| v.value.as_ref())))
}

fn named<'a>(spans: &'a [ProtoSpan], name: &str) -> &'a ProtoSpan {
    let found: Vec<&ProtoSpan> = spans.iter().filter(|s| s.name == name).collect();
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(found.len(), 1, "one span named `{name}` in {names:?}");
    found[0]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn traceparent() -> String {
    format!("00-{TRACE_ID}-{PARENT_ID}-01")
}

#[tokio::test(flavor = "current_thread")]
async fn server_spans_over_http_protobuf() {
    let (collector, exports) = http_receiver().await;
    let otel = otel::builder()
        .protocol(Protocol::HttpProtobuf)
        .endpoint(format!("http://{collector}/v1/traces"))
        .service_name("otel-test")
        .init()
        .unwrap();
    let (spans, access) = serve_and_export(otel, exports, |addr| async move {
        let traceparent = traceparent();
        let headers = [
            ("traceparent", traceparent.as_str()),
            ("tracestate", "vendor=1"),
            ("x-request-id", "req-42"),
        ];
        assert_eq!(get(addr, "/todos/7", &headers).await, StatusCode::OK);
        assert_eq!(get(addr, "/down", &[]).await, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(get(addr, "/panic", &[]).await, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(get(addr, "/missing", &[]).await, StatusCode::NOT_FOUND);
    })
    .await;

    // The request that came with a trace context continues its trace.
    let server = named(&spans, "GET /todos/:id");
    assert_eq!(server.kind, SpanKind::Server as i32);
    assert_eq!(hex(&server.trace_id), TRACE_ID);
    assert_eq!(hex(&server.parent_span_id), PARENT_ID);
    assert_eq!(server.trace_state, "vendor=1");
    let expected = [
        ("http.request.method", "GET"),
        ("http.route", "/todos/:id"),
        ("http.response.status_code", "200"),
        ("url.path", "/todos/7"),
        ("url.scheme", "http"),
        ("client.address", "127.0.0.1"),
        ("network.protocol.version", "1.1"),
        ("request.id", "req-42"),
    ];
    for (key, value) in expected {
        assert_eq!(attr(server, key).as_deref(), Some(value), "`{key}` of {server:#?}");
    }
    assert_eq!(attr(server, "error.type"), None);
    assert_ne!(server.status.as_ref().map_or(0, |s| s.code), Code::Error as i32);

    // The handler's own span is the server span's child.
    let load = named(&spans, "load_todo");
    assert_eq!(load.trace_id, server.trace_id);
    assert_eq!(load.parent_span_id, server.span_id);
    assert_eq!(attr(load, "todo.id").as_deref(), Some("7"));

    // A 5xx is an error, typed by its status code.
    let down = named(&spans, "GET /down");
    assert_eq!(attr(down, "http.response.status_code").as_deref(), Some("503"));
    assert_eq!(attr(down, "error.type").as_deref(), Some("503"));
    assert_eq!(down.status.as_ref().unwrap().code, Code::Error as i32);
    // Without a `traceparent`, a request starts a trace of its own.
    assert_ne!(hex(&down.trace_id), TRACE_ID);
    assert!(down.parent_span_id.is_empty());
    assert!(attr(down, "request.id").is_some(), "RequestId generated one");

    // A handler's panic is a 500 typed `panic`.
    let panic = named(&spans, "GET /panic");
    assert_eq!(attr(panic, "http.response.status_code").as_deref(), Some("500"));
    assert_eq!(attr(panic, "error.type").as_deref(), Some("panic"));
    assert_eq!(panic.status.as_ref().unwrap().code, Code::Error as i32);

    // No route: the span is named after the method alone.
    let missing = named(&spans, "GET");
    assert_eq!(attr(missing, "http.route"), None);
    assert_eq!(attr(missing, "http.response.status_code").as_deref(), Some("404"));
    assert_eq!(attr(missing, "url.path").as_deref(), Some("/missing"));
    assert_eq!(attr(missing, "error.type"), None);

    // The access log names the trace of each request.
    let line = access
        .iter()
        .find(|line| line.get("path").map(String::as_str) == Some("/todos/7"))
        .expect("an access-log line for /todos/7");
    assert_eq!(line["trace_id"], TRACE_ID);
    assert_eq!(line["request_id"], "req-42");
    let down_line = access
        .iter()
        .find(|line| line.get("path").map(String::as_str) == Some("/down"))
        .expect("an access-log line for /down");
    assert_eq!(down_line["trace_id"], hex(&down.trace_id));
}

#[tokio::test(flavor = "current_thread")]
async fn server_spans_over_grpc() {
    let (collector, exports) = grpc_receiver().await;
    let otel = otel::builder()
        .protocol(Protocol::Grpc)
        .endpoint(format!("http://{collector}"))
        .service_name("otel-test")
        .init()
        .unwrap();
    let (spans, _) = serve_and_export(otel, exports, |addr| async move {
        let traceparent = traceparent();
        assert_eq!(get(addr, "/todos/9", &[("traceparent", &traceparent)]).await, StatusCode::OK);
    })
    .await;

    let server = named(&spans, "GET /todos/:id");
    assert_eq!(server.kind, SpanKind::Server as i32);
    assert_eq!(hex(&server.trace_id), TRACE_ID);
    assert_eq!(hex(&server.parent_span_id), PARENT_ID);
    assert_eq!(attr(server, "url.path").as_deref(), Some("/todos/9"));
    assert_eq!(named(&spans, "load_todo").parent_span_id, server.span_id);
}

/// `inject` writes the context of the current span, so an outgoing request
/// continues the trace.
#[tokio::test(flavor = "current_thread")]
async fn inject_writes_the_current_span_context() {
    let (collector, _exports) = http_receiver().await;
    let otel = otel::builder()
        .endpoint(format!("http://{collector}/v1/traces"))
        .service_name("otel-test")
        .init()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(otel.layer());
    let headers = tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("outgoing");
        let _entered = span.enter();
        let mut headers = http::HeaderMap::new();
        otel::inject(&mut headers);
        headers
    });
    let traceparent = headers["traceparent"].to_str().unwrap();
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    assert_eq!((parts[0], parts[3]), ("00", "01"));
    assert_eq!(parts[1].len(), 32);
    otel.shutdown().await.unwrap();

    // Outside any span, nothing is written.
    let mut headers = http::HeaderMap::new();
    otel::inject(&mut headers);
    assert!(headers.is_empty());
}
