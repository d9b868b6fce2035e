//! Per-request tracing reaches a subscriber when one listens.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

use crate::support::{App, H1, TestServer};

/// Records the fields of `mambo::server` spans and events as text.
#[derive(Default, Clone)]
struct Recorder {
    lines: Arc<Mutex<Vec<String>>>,
    next_id: Arc<AtomicU64>,
}

struct Text<'a>(&'a mut String);

impl Visit for Text<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={:?} ", field.name(), value));
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target().starts_with("mambo::server")
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut line = format!("span {} ", span.metadata().name());
        span.record(&mut Text(&mut line));
        self.lines.lock().unwrap().push(line);
        Id::from_u64(self.next_id.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut line = String::from("event ");
        event.record(&mut Text(&mut line));
        self.lines.lock().unwrap().push(line);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

// A current-thread runtime, so the server's tasks run where the
// thread-local subscriber is set.
#[tokio::test(flavor = "current_thread")]
async fn each_request_gets_a_span_and_a_response_event() {
    let recorder = Recorder::default();
    let _default = tracing::subscriber::set_default(recorder.clone());
    let server = TestServer::start(|s| s, App::default());
    let mut client = H1::connect(server.addr).await;
    assert_eq!(client.get("/hello").await.status, 200);
    assert_eq!(client.get("/panic").await.status, 500);
    server.stop().await.unwrap();

    let lines = recorder.lines.lock().unwrap().clone();
    let text = lines.join("\n");
    assert!(text.contains(r#"span request method=GET path="/hello""#), "{text}");
    assert!(text.contains("status=200 latency_us="), "{text}");
    assert!(text.contains(r#"panic="panicked in the future""#), "{text}");
    assert!(text.contains("status=500"), "{text}");
}
