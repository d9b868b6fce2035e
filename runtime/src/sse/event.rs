//! `Event`: one message of an event stream, and its encoding.

use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use serde::Serialize;

/// One message of a server-sent event stream: its `data`, `event` type,
/// `id`, reconnection delay (`retry`) and comments, encoded as the
/// [event-stream format](https://html.spec.whatwg.org/multipage/server-sent-events.html#parsing-an-event-stream)
/// describes.
///
/// Each field is set at most once (a second call replaces the first, but
/// comments add up). The encoding writes, in this order, one `: comment`
/// line per comment line, then `event: `, `id: `, `retry: ` (milliseconds)
/// and one `data: ` line per line of the data, and ends with a blank line,
/// which makes the client dispatch the event. Every line ends with `\n`.
///
/// # Line breaks
///
/// The client splits the stream into lines at `\r\n`, `\n` *and* a lone
/// `\r`, so:
///
/// - [`data`](Event::data) may hold any text: it is split at each of the
///   three line breaks into several `data:` lines, which the client joins
///   back with `\n` (so `"a\r\nb"` arrives as `"a\nb"`, the only change).
/// - [`comment`](Event::comment) is split the same way, one `:` line each.
/// - [`event`](Event::event) and [`id`](Event::id) are one line by
///   definition: their `\r` and `\n` are **removed** (as is NUL from an id,
///   which would make the client ignore the field), so a value built from
///   untrusted input can never end the line early and inject a field or an
///   event of its own. Values without those characters are sent unchanged.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// use mambo::sse::Event;
///
/// let event = Event::default()
///     .event("update")
///     .id("42")
///     .retry(Duration::from_secs(3))
///     .data("line one\nline two");
/// assert_eq!(
///     event.encode(),
///     "event: update\nid: 42\nretry: 3000\ndata: line one\ndata: line two\n\n",
/// );
///
/// let json = Event::default().json_data(&[1, 2, 3]).unwrap();
/// assert_eq!(json.encode(), "data: [1,2,3]\n\n");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    data: Option<String>,
    event: Option<String>,
    id: Option<String>,
    retry: Option<Duration>,
    comments: Vec<String>,
}

impl Event {
    /// Sets the data: any text, several lines included (see
    /// [line breaks](Event#line-breaks)). `""` is an event with empty data,
    /// which the client does dispatch (an event without data it does not).
    pub fn data(mut self, data: impl Into<String>) -> Self {
        self.data = Some(data.into());
        self
    }

    /// Sets the data to `value` as compact JSON (one line: JSON escapes
    /// every line break inside strings).
    ///
    /// # Errors
    ///
    /// The `serde_json` error when `value` does not serialize (a map with
    /// non-string keys, a failing `Serialize` impl).
    pub fn json_data<T: Serialize + ?Sized>(
        mut self,
        value: &T,
    ) -> Result<Self, serde_json::Error> {
        self.data = Some(serde_json::to_string(value)?);
        Ok(self)
    }

    /// Sets the event type, which the browser's `EventSource` dispatches to
    /// `addEventListener(type, ..)` (`message` when none is set). Line
    /// breaks are removed (see [line breaks](Event#line-breaks)).
    pub fn event(mut self, event: impl Into<String>) -> Self {
        self.event = Some(strip(event.into(), &['\r', '\n']));
        self
    }

    /// Sets the event id, which the client sends back in the
    /// `Last-Event-ID` header when it reconnects (read it with
    /// [`LastEventId`](super::LastEventId)). Line breaks and NUL are
    /// removed (see [line breaks](Event#line-breaks)). An empty id resets
    /// the client's last event id.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(strip(id.into(), &['\r', '\n', '\0']));
        self
    }

    /// Sets the client's reconnection delay, sent in whole milliseconds.
    pub fn retry(mut self, retry: Duration) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Adds a comment, which the client ignores (useful to debug with
    /// `curl`, or to keep a connection busy). Several lines become several
    /// comment lines.
    pub fn comment(mut self, comment: impl Into<String>) -> Self {
        self.comments.push(comment.into());
        self
    }

    /// The event in the event-stream format, ending with the blank line.
    pub fn encode(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.encoded_len_hint());
        for comment in &self.comments {
            for line in lines(comment) {
                put_comment(&mut out, line);
            }
        }
        if let Some(event) = &self.event {
            put_field(&mut out, "event", event);
        }
        if let Some(id) = &self.id {
            put_field(&mut out, "id", id);
        }
        if let Some(retry) = self.retry {
            put_field(&mut out, "retry", &retry.as_millis().to_string());
        }
        if let Some(data) = &self.data {
            for line in lines(data) {
                put_field(&mut out, "data", line);
            }
        }
        out.put_u8(b'\n');
        out.freeze()
    }

    fn encoded_len_hint(&self) -> usize {
        let text = |s: &Option<String>| s.as_ref().map_or(0, |s| s.len() + 8);
        text(&self.data)
            + text(&self.event)
            + text(&self.id)
            + self.retry.map_or(0, |_| 16)
            + self.comments.iter().map(|c| c.len() + 3).sum::<usize>()
            + 1
    }
}

/// `: text\n`, or `:\n` for an empty comment line.
pub(super) fn put_comment(out: &mut BytesMut, line: &str) {
    out.put_u8(b':');
    if !line.is_empty() {
        out.put_u8(b' ');
        out.put_slice(line.as_bytes());
    }
    out.put_u8(b'\n');
}

/// `name: value\n`. The space after the colon is the one the client strips,
/// so a value that starts with a space keeps it.
fn put_field(out: &mut BytesMut, name: &str, value: &str) {
    out.put_slice(name.as_bytes());
    out.put_slice(b": ");
    out.put_slice(value.as_bytes());
    out.put_u8(b'\n');
}

fn strip(mut value: String, chars: &[char]) -> String {
    if value.contains(chars) {
        value.retain(|c| !chars.contains(&c));
    }
    value
}

/// Splits at `\r\n`, `\n` and a lone `\r`, as the client does. `""` is one
/// empty line; a trailing break yields a final empty line.
pub(super) fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let text = rest?;
        match text.find(['\r', '\n']) {
            None => {
                rest = None;
                Some(text)
            }
            Some(at) => {
                let skip = if text[at..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&text[at + skip..]);
                Some(&text[..at])
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(event: Event) -> String {
        String::from_utf8(event.encode().to_vec()).unwrap()
    }

    #[test]
    fn splits_at_every_kind_of_line_break() {
        let split = |text| lines(text).collect::<Vec<_>>();
        assert_eq!(split(""), [""]);
        assert_eq!(split("a"), ["a"]);
        assert_eq!(split("a\nb\r\nc\rd"), ["a", "b", "c", "d"]);
        assert_eq!(split("a\n"), ["a", ""]);
        assert_eq!(split("\r\r\n\n"), ["", "", "", ""]);
    }

    /// The spec's examples, written the way this encoder writes them.
    #[test]
    fn spec_examples() {
        // "data: YHOO\ndata: +2\ndata: 10" is one event with three lines.
        assert_eq!(
            encoded(Event::default().data("YHOO\n+2\n10")),
            "data: YHOO\ndata: +2\ndata: 10\n\n"
        );
        // A comment, then an event with an id.
        let event = Event::default().comment("test stream").id("1").data("second event");
        assert_eq!(encoded(event), ": test stream\nid: 1\ndata: second event\n\n");
        // An empty id resets the last event id.
        assert_eq!(encoded(Event::default().id("").data("third")), "id: \ndata: third\n\n");
        // Named events.
        let event = Event::default().event("add").data("73857293");
        assert_eq!(encoded(event), "event: add\ndata: 73857293\n\n");
    }

    #[test]
    fn empty_data_is_one_empty_data_line() {
        assert_eq!(encoded(Event::default().data("")), "data: \n\n");
        // A trailing newline survives the round trip as a final empty line.
        assert_eq!(encoded(Event::default().data("a\n")), "data: a\ndata: \n\n");
        // A leading space is kept: the client strips only the one after `:`.
        assert_eq!(encoded(Event::default().data(" a")), "data:  a\n\n");
    }

    #[test]
    fn carriage_returns_are_line_breaks() {
        assert_eq!(encoded(Event::default().data("a\rb\r\nc")), "data: a\ndata: b\ndata: c\n\n");
    }

    #[test]
    fn comments_retry_and_the_empty_event() {
        let event = Event::default().comment("one\ntwo").comment("");
        assert_eq!(encoded(event), ": one\n: two\n:\n\n");
        assert_eq!(encoded(Event::default().retry(Duration::from_millis(1500))), "retry: 1500\n\n");
        assert_eq!(encoded(Event::default()), "\n");
    }

    #[test]
    fn line_breaks_cannot_escape_event_or_id() {
        let event = Event::default().event("a\r\ndata: injected").id("7\n\nid: 8\0").data("x");
        assert_eq!(encoded(event), "event: adata: injected\nid: 7id: 8\ndata: x\n\n");
    }

    #[test]
    fn json_data_is_one_line() {
        let event = Event::default().json_data(&serde_json::json!({"text": "a\nb"})).unwrap();
        assert_eq!(encoded(event), "data: {\"text\":\"a\\nb\"}\n\n");
        let mut bad = std::collections::HashMap::new();
        bad.insert((1, 2), 3);
        assert!(Event::default().json_data(&bad).is_err());
    }

    #[test]
    fn later_calls_replace_fields() {
        let event = Event::default().data("a").data("b").id("1").id("2");
        assert_eq!(encoded(event), "id: 2\ndata: b\n\n");
    }
}
