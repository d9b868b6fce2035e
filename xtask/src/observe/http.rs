//! A small blocking HTTP/1.1 client that keeps its connection alive and
//! reads whole answers (`Content-Length`, chunked, or up to the close):
//! enough for the todo service and Prometheus's API, and nothing more.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// How long a connect may take.
const CONNECT_WITHIN: Duration = Duration::from_secs(2);

/// One answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// Header names (lowercase) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl Answer {
    /// The first header called `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A keep-alive connection to `addr`, opened on first use and again after
/// the server closed it.
pub struct Client {
    addr: SocketAddr,
    /// Read timeout of each answer.
    timeout: Duration,
    conn: Option<BufReader<TcpStream>>,
}

impl Client {
    /// A client of 127.0.0.1:`port` whose answers may take `timeout`.
    pub fn new(port: u16, timeout: Duration) -> Client {
        Client { addr: SocketAddr::from(([127, 0, 0, 1], port)), timeout, conn: None }
    }

    /// Sends `method path` with `headers` and `body` (a `Content-Length`
    /// is added) and reads the answer. On an error the connection is
    /// dropped, so the next request opens a fresh one.
    pub fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Answer, String> {
        let result = self.exchange(method, path, headers, body);
        if result.as_ref().map_or(true, |a| a.header("connection") == Some("close")) {
            self.conn = None;
        }
        result.map_err(|e| format!("{method} {path}: {e}"))
    }

    /// `GET path` with `headers`.
    pub fn get(&mut self, path: &str, headers: &[(&str, &str)]) -> Result<Answer, String> {
        self.send("GET", path, headers, b"")
    }

    fn exchange(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Answer, String> {
        if self.conn.is_none() {
            let stream = TcpStream::connect_timeout(&self.addr, CONNECT_WITHIN)
                .map_err(|e| format!("connect {}: {e}", self.addr))?;
            stream.set_nodelay(true).map_err(|e| e.to_string())?;
            self.conn = Some(BufReader::new(stream));
        }
        let conn = self.conn.as_mut().expect("connected above");
        conn.get_ref().set_read_timeout(Some(self.timeout)).map_err(|e| e.to_string())?;
        let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let mut bytes = request.into_bytes();
        bytes.extend_from_slice(body);
        conn.get_mut().write_all(&bytes).map_err(|e| e.to_string())?;
        read_answer(conn, method == "HEAD")
    }
}

/// Reads one answer from `r`.
fn read_answer(r: &mut impl BufRead, head_only: bool) -> Result<Answer, String> {
    let mut line = String::new();
    r.read_line(&mut line).map_err(|e| e.to_string())?;
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("bad status line {line:?}"))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        if r.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            return Err("connection closed inside the headers".into());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').ok_or_else(|| format!("bad header {line:?}"))?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let find = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let mut body = Vec::new();
    if head_only || status == 204 || status == 304 || (100..200).contains(&status) {
        // No body.
    } else if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        body = read_chunked(r)?;
    } else if let Some(len) = find("content-length") {
        let len: usize = len.parse().map_err(|_| format!("bad content-length {len:?}"))?;
        body.resize(len, 0);
        r.read_exact(&mut body).map_err(|e| e.to_string())?;
    } else {
        r.read_to_end(&mut body).map_err(|e| e.to_string())?;
        headers.push(("connection".into(), "close".into()));
    }
    Ok(Answer { status, headers, body })
}

/// A chunked body, trailers skipped.
fn read_chunked(r: &mut impl BufRead) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        r.read_line(&mut line).map_err(|e| e.to_string())?;
        let size = line.trim().split(';').next().unwrap_or("");
        let size =
            usize::from_str_radix(size, 16).map_err(|_| format!("bad chunk size {line:?}"))?;
        if size == 0 {
            // Trailers, up to the empty line.
            loop {
                line.clear();
                if r.read_line(&mut line).map_err(|e| e.to_string())? == 0 || line.trim().is_empty()
                {
                    return Ok(body);
                }
            }
        }
        let start = body.len();
        body.resize(start + size, 0);
        r.read_exact(&mut body[start..]).map_err(|e| e.to_string())?;
        let mut crlf = [0; 2];
        r.read_exact(&mut crlf).map_err(|e| e.to_string())?;
    }
}

/// `s` percent-encoded for a query string value (RFC 3986 unreserved
/// characters stay).
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_answers_by_length_chunks_and_close() {
        let mut r: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: b\r\n\r\nhiHTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nno\r\n3;x=1\r\npe!\r\n0\r\nT: 1\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
        let a = read_answer(&mut r, false).unwrap();
        assert_eq!((a.status, a.body.as_slice(), a.header("x-a")), (200, &b"hi"[..], Some("b")));
        let a = read_answer(&mut r, false).unwrap();
        assert_eq!((a.status, a.text().as_str()), (404, "nope!"));
        let a = read_answer(&mut r, false).unwrap();
        assert_eq!((a.status, a.body.len()), (204, 0));
        let mut r: &[u8] = b"HTTP/1.0 200 OK\r\n\r\nto the end";
        let a = read_answer(&mut r, false).unwrap();
        assert_eq!((a.text().as_str(), a.header("connection")), ("to the end", Some("close")));
        assert!(read_answer(&mut &b"garbage\r\n"[..], false).is_err());
    }

    #[test]
    fn escapes_promql() {
        assert_eq!(
            query_escape(r#"sum(x{route="/todos/:id"}[5s])"#),
            "sum%28x%7Broute%3D%22%2Ftodos%2F%3Aid%22%7D%5B5s%5D%29"
        );
    }
}
