//! The fuzz input as an HTTP request, written the way HTTP/1.1 writes one so
//! that seeds read as requests:
//!
//! ```text
//! POST /json?x=1
//! content-type: application/json
//!
//! {"name":"Rex","age":3}
//! ```
//!
//! The first line is `METHOD target`; header lines follow up to an empty
//! line; the rest is the body. Lines end in `\n` (a `\r` before it is
//! dropped). Header lines that are not a valid name and value are skipped;
//! an invalid method or target (anything `http::Uri` refuses, or not
//! starting with `/`) makes the whole input unusable.

use mambo::Method;
use mambo::http::{HeaderName, HeaderValue, Uri};

/// A request read from fuzz bytes.
#[derive(Debug)]
pub struct Input<'a> {
    /// The method.
    pub method: Method,
    /// The request target (path and query), valid for `Uri`.
    pub target: &'a str,
    /// The target, parsed.
    pub uri: Uri,
    /// Valid headers, in input order.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Everything after the empty line.
    pub body: &'a [u8],
}

impl<'a> Input<'a> {
    /// Reads `data`; `None` when the method or target is invalid.
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
            Some(at) => (&data[..at], &data[at + 2..]),
            None => (data, &[][..]),
        };
        let mut lines = head.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
        let (method, target) = crate::split_method(lines.next()?);
        let method = Method::from_bytes(method).ok()?;
        let target = std::str::from_utf8(target).ok()?;
        let uri = Uri::try_from(target).ok().filter(|_| target.starts_with('/'))?;
        let headers = lines.filter_map(header).collect();
        Some(Input { method, target, uri, headers, body })
    }
}

/// `name: value`, spaces and tabs around the value dropped.
fn header(line: &[u8]) -> Option<(HeaderName, HeaderValue)> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = HeaderName::from_bytes(&line[..colon]).ok()?;
    let value = line[colon + 1..].trim_ascii();
    Some((name, HeaderValue::from_bytes(value).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_request() {
        let input = Input::parse(
            b"POST /json?x=1\r\ncontent-type: application/json\nbad header\n\n{}\n\nmore",
        )
        .unwrap();
        assert_eq!(input.method, Method::POST);
        assert_eq!(input.uri.query(), Some("x=1"));
        assert_eq!(input.headers.len(), 1);
        assert_eq!(input.headers[0].1, "application/json");
        assert_eq!(input.body, b"{}\n\nmore");
    }

    #[test]
    fn refuses_bad_targets() {
        assert!(Input::parse(b"GET http://example.com/").is_none());
        assert!(Input::parse(b"GET /a b").is_none());
        assert!(Input::parse(b"G(T /").is_none());
        assert!(Input::parse(b"/just/a/path").is_some());
    }
}
