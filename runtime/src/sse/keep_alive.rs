//! `KeepAlive`: a comment line sent when the stream has been idle.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};

use super::event::{lines, put_comment};

/// Keep-alive comments for [`Sse`](super::Sse): when no event was sent for
/// [`interval`](KeepAlive::interval), the stream sends a comment (`:` and
/// the [`text`](KeepAlive::text), then a blank line), which clients ignore
/// but which keeps proxies and load balancers from closing an idle
/// connection, and lets the server notice a client that went away (the
/// write fails and the stream is dropped).
///
/// The timer restarts on every event and every comment; it is a
/// `tokio::time::Sleep` inside the response stream (no task is spawned),
/// started when the body is first polled.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// use mambo::sse::KeepAlive;
///
/// // `: ping\n\n` after 10 idle seconds.
/// let keep_alive = KeepAlive::new().interval(Duration::from_secs(10)).text("ping");
/// ```
#[derive(Debug, Clone)]
pub struct KeepAlive {
    interval: Duration,
    comment: Bytes,
}

impl KeepAlive {
    /// Every 15 seconds, an empty comment (`:\n\n`).
    pub fn new() -> Self {
        KeepAlive { interval: Duration::from_secs(15), comment: Bytes::from_static(b":\n\n") }
    }

    /// How long the stream may stay idle before a comment is sent.
    ///
    /// # Panics
    ///
    /// When `interval` is zero.
    pub fn interval(mut self, interval: Duration) -> Self {
        assert!(!interval.is_zero(), "a keep-alive interval must not be zero");
        self.interval = interval;
        self
    }

    /// The comment's text (`: text`); line breaks make several comment lines.
    pub fn text(mut self, text: impl AsRef<str>) -> Self {
        let mut out = BytesMut::new();
        for line in lines(text.as_ref()) {
            put_comment(&mut out, line);
        }
        out.extend_from_slice(b"\n");
        self.comment = out.freeze();
        self
    }
}

impl Default for KeepAlive {
    fn default() -> Self {
        Self::new()
    }
}

pin_project! {
    /// The keep-alive state inside the response stream.
    #[project = TimerProj]
    pub(super) enum Timer {
        /// No keep-alive.
        Off,
        /// Configured, not polled yet (a `Sleep` needs the runtime, which
        /// `into_response` may not run in).
        Idle { keep_alive: KeepAlive },
        /// Counting down.
        Running { #[pin] sleep: Sleep, keep_alive: KeepAlive },
    }
}

impl Timer {
    pub(super) fn new(keep_alive: Option<KeepAlive>) -> Self {
        match keep_alive {
            None => Timer::Off,
            Some(keep_alive) => Timer::Idle { keep_alive },
        }
    }

    /// Restarts the countdown: something was just sent.
    pub(super) fn reset(self: Pin<&mut Self>) {
        if let TimerProj::Running { sleep, keep_alive } = self.project() {
            sleep.reset(Instant::now() + keep_alive.interval);
        }
    }

    /// The comment to send when the interval has passed (the countdown
    /// restarts), else `Pending`, with a wake-up registered.
    pub(super) fn poll_comment(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Bytes> {
        if let Timer::Idle { keep_alive } = &*self {
            let keep_alive = keep_alive.clone();
            let sleep = tokio::time::sleep(keep_alive.interval);
            self.set(Timer::Running { sleep, keep_alive });
        }
        match self.project() {
            TimerProj::Off | TimerProj::Idle { .. } => Poll::Pending,
            TimerProj::Running { mut sleep, keep_alive } => {
                std::task::ready!(sleep.as_mut().poll(cx));
                sleep.reset(Instant::now() + keep_alive.interval);
                Poll::Ready(keep_alive.comment.clone())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_text() {
        assert_eq!(KeepAlive::new().comment, ":\n\n");
        assert_eq!(KeepAlive::new().text("ping").comment, ": ping\n\n");
        assert_eq!(KeepAlive::new().text("a\nb").comment, ": a\n: b\n\n");
    }

    #[test]
    #[should_panic(expected = "must not be zero")]
    fn zero_interval_panics() {
        let _ = KeepAlive::new().interval(Duration::ZERO);
    }
}
