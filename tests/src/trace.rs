//! A log of what middleware and handlers did, kept per test: requests carry
//! `x-trace: <test name>`, and each test reads back only its own lines
//! (tests of one binary run at the same time).

use std::fmt::Display;
use std::sync::Mutex;

use mambo::RequestContext;

/// The log; one `static` per test binary.
#[derive(Debug, Default)]
pub struct Trace(Mutex<Vec<String>>);

impl Trace {
    /// An empty log.
    pub const fn new() -> Self {
        Trace(Mutex::new(Vec::new()))
    }

    /// Records `event` for the test named in the request's `x-trace`; a
    /// request without one is not traced.
    pub fn record<S>(&self, cx: &RequestContext<'_, S>, event: impl Display) {
        if let Some(test) = cx.headers().get("x-trace") {
            let test = test.to_str().unwrap();
            self.0.lock().unwrap().push(format!("{test}: {event}"));
        }
    }

    /// What was recorded for `test`, in order.
    pub fn of(&self, test: &str) -> Vec<String> {
        let prefix = format!("{test}: ");
        let lines = self.0.lock().unwrap();
        lines.iter().filter_map(|line| line.strip_prefix(&prefix).map(str::to_owned)).collect()
    }
}
