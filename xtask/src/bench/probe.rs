//! A tiny blocking HTTP/1.1 client for readiness checks and the response
//! contract (not for load: that is wrk's and h2load's job).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Status, `Content-Type` and body of one response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// `Content-Type` header value, if any.
    pub content_type: Option<String>,
    /// Body bytes as text.
    pub body: String,
}

/// Sends `method path` to 127.0.0.1:`port` on a fresh `Connection: close` connection.
pub fn request(port: u16, method: &str, path: &str) -> Result<Reply, String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s =
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(5))).map_err(|e| e.to_string())?;
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    parse(&raw)
}

fn parse(raw: &[u8]) -> Result<Reply, String> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or("no end of headers")?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or("bad status line")?;
    let mut content_type = None;
    let mut chunked = false;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-type" => content_type = Some(value.trim().to_owned()),
                "transfer-encoding" => chunked = value.trim().eq_ignore_ascii_case("chunked"),
                _ => {}
            }
        }
    }
    let body = &raw[end + 4..];
    let body = if chunked { dechunk(body) } else { body.to_vec() };
    Ok(Reply { status, content_type, body: String::from_utf8_lossy(&body).into_owned() })
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = body.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&body[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 || body.len() < eol + 2 + size {
            break;
        }
        out.extend_from_slice(&body[eol + 2..eol + 2 + size]);
        body = &body[(eol + 4 + size).min(body.len())..];
    }
    out
}

/// The contract of `xtask/bench-peers/README.md`: `(method, path, content type, body)`.
pub fn contract() -> Result<Vec<(String, String, &'static str, String)>, String> {
    const TEXT: &str = "text/plain; charset=utf-8";
    const JSON: &str = "application/json";
    let mut rows = vec![
        ("GET".into(), "/plaintext".into(), TEXT, "Hello, World!".into()),
        ("GET".into(), "/json".into(), JSON, r#"{"message":"Hello, World!"}"#.into()),
        ("GET".into(), "/ping".into(), JSON, r#"{"status":"ok"}"#.into()),
        ("GET".into(), "/user/42/post/hello-world".into(), TEXT, "user 42 post hello-world".into()),
    ];
    let dir = crate::util::peers_dir().join("data");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).map_err(|e| format!("{f}: {e}"));
    let (routes, requests) = (read("github_routes.txt")?, read("github_requests.txt")?);
    for (route, req) in routes.lines().zip(requests.lines()) {
        let (method, pattern) = route.split_once(' ').ok_or("bad route line")?;
        let (_, path) = req.split_once(' ').ok_or("bad request line")?;
        rows.push((method.into(), path.into(), TEXT, pattern.into()));
    }
    Ok(rows)
}

/// Checks every row of the contract against the server on `port`; the
/// mismatches, as readable lines.
pub fn check_contract(port: u16) -> Result<Vec<String>, String> {
    let mut errors = Vec::new();
    for (method, path, content_type, body) in contract()? {
        match request(port, &method, &path) {
            Ok(r)
                if r.status == 200
                    && r.content_type.as_deref() == Some(content_type)
                    && r.body == body => {}
            Ok(r) => errors.push(format!(
                "{method} {path}: got {} {:?} {:?}, want 200 {content_type:?} {body:?}",
                r.status, r.content_type, r.body
            )),
            Err(e) => errors.push(format!("{method} {path}: {e}")),
        }
    }
    Ok(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_chunked_replies() {
        let r =
            parse(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nhi")
                .unwrap();
        assert_eq!(
            (r.status, r.content_type.as_deref(), r.body.as_str()),
            (200, Some("text/plain"), "hi")
        );
        let r = parse(b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n1\r\n!\r\n0\r\n\r\n")
            .unwrap();
        assert_eq!((r.status, r.body.as_str()), (404, "hi!"));
    }

    #[test]
    fn contract_covers_the_github_set() {
        assert_eq!(contract().unwrap().len(), 4 + 203);
    }
}
