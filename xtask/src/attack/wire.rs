//! HTTP/1.1 over raw tokio sockets: connecting from a chosen loopback
//! address, closing with a reset, reading what the server answers, and
//! counting responses in a byte stream.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::{TcpSocket, TcpStream};

/// Where attacks come from.
pub const ATTACKER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);

/// Attacker number `i` of a crowd spread over 250 loopback addresses
/// (127.0.1.1 to 127.0.1.250): many clients, each under the server's
/// per-client connection limit, as a botnet would be.
pub fn crowd(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 1, (i % 250) as u8 + 1)
}

/// Where the normal client comes from: another address, so that a server
/// limiting connections per client address can tell the two apart.
pub const NORMAL: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

/// Connects to `to` from address `from` (any free port).
pub async fn connect_from(from: Ipv4Addr, to: SocketAddr) -> io::Result<TcpStream> {
    if from == ATTACKER {
        return TcpStream::connect(to).await;
    }
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((from, 0)))?;
    socket.connect(to).await
}

/// Closes with a reset instead of FIN: tens of thousands of attack
/// connections would otherwise leave as many sockets in TIME_WAIT and run
/// the machine out of local ports.
pub fn reset(stream: TcpStream) {
    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
}

/// `GET path` with a `Host` header, keep-alive.
pub fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
}

/// What a client saw after sending a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// A response head with this status.
    Status(u16),
    /// The server closed the connection without a response.
    Closed,
    /// The connection failed (reset).
    Reset,
    /// Nothing within the time allowed.
    Silent,
}

impl Answer {
    /// The label tallied in the report: the status, `closed`, `reset` or `no answer`.
    pub fn label(self) -> String {
        match self {
            Answer::Status(s) => s.to_string(),
            Answer::Closed => "closed".into(),
            Answer::Reset => "reset".into(),
            Answer::Silent => "no answer".into(),
        }
    }

    /// Whether the server either answered or closed (did not leave the client hanging).
    pub fn settled(self) -> bool {
        self != Answer::Silent
    }
}

/// Reads until a whole response head has arrived, the connection ends, or
/// `within` passes.
pub async fn read_answer(stream: &mut TcpStream, within: Duration) -> Answer {
    let mut buf = Vec::with_capacity(512);
    let read = async {
        let mut chunk = [0u8; 4096];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) => return Answer::Closed,
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(end) = head_end(&buf) {
                        return status_of(&buf[..end]).map_or(Answer::Closed, Answer::Status);
                    }
                }
                Err(_) => return Answer::Reset,
            }
        }
    };
    tokio::time::timeout(within, read).await.unwrap_or(Answer::Silent)
}

/// Reads until the server closes, fails, or `within` passes; the bytes.
pub async fn read_to_close(stream: &mut TcpStream, within: Duration) -> Vec<u8> {
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(within, async {
        let mut chunk = [0u8; 4096];
        while let Ok(n @ 1..) = stream.read(&mut chunk).await {
            buf.extend_from_slice(&chunk[..n]);
        }
    })
    .await;
    buf
}

/// Where a response head ends (the index just past its blank line).
fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// The status code of a response head (`HTTP/1.1 200 OK`).
pub fn status_of(head: &[u8]) -> Option<u16> {
    let line = head.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut words = line.split_whitespace();
    words.next().filter(|v| v.starts_with("HTTP/"))?;
    words.next()?.parse().ok()
}

/// The responses complete at the start of `buf` (bodies framed by
/// `Content-Length`, or none): their statuses, and the bytes they took.
pub fn responses(buf: &[u8]) -> (Vec<u16>, usize) {
    let mut statuses = Vec::new();
    let mut at = 0;
    while let Some(end) = head_end(&buf[at..]) {
        let head = &buf[at..at + end];
        let Some(status) = status_of(head) else { break };
        let body = content_length(head).unwrap_or(0);
        if buf.len() < at + end + body {
            break;
        }
        statuses.push(status);
        at += end + body;
    }
    (statuses, at)
}

fn content_length(head: &[u8]) -> Option<usize> {
    let head = std::str::from_utf8(head).ok()?;
    head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.trim().eq_ignore_ascii_case("content-length").then(|| value.trim().parse().ok())?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(status_of(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"), Some(431));
        assert_eq!(status_of(b"garbage\r\n"), None);
    }

    #[test]
    fn counts_pipelined_responses() {
        let one = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi";
        let empty = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n";
        let mut buf = one.to_vec();
        buf.extend_from_slice(empty);
        buf.extend_from_slice(&one[..20]);
        let (statuses, used) = responses(&buf);
        assert_eq!(statuses, [200, 400]);
        assert_eq!(used, one.len() + empty.len());
        assert_eq!(responses(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhi"), (vec![], 0));
    }

    #[test]
    fn answer_labels() {
        assert_eq!(Answer::Status(408).label(), "408");
        assert_eq!(Answer::Silent.label(), "no answer");
        assert!(Answer::Closed.settled() && !Answer::Silent.settled());
    }
}
