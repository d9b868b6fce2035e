//! `conn-client --port P [--conns N] [--hold-secs S]`: opens `N` connections to
//! 127.0.0.1:P, sends one keep-alive `GET /ping` on each and reads the answer
//! (so the server has set up its per-connection state), prints `READY <n>`,
//! holds the connections idle for `S` seconds, then closes them and exits.
//!
//! Bounded on purpose: at most `N` sockets, a 5 s timeout on every read, and
//! it always exits after `S` seconds. The caller must raise `ulimit -n`.

use std::io::{BufRead, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const REQUEST: &[u8] = b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().unwrap_or_else(|_| panic!("{name} takes a number")))
        .unwrap_or(default)
}

/// Reads one response (headers + `Content-Length` body) and says whether it was a 2xx.
fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    buf.clear();
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return Ok(head.starts_with("http/1.1 2"));
            }
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = arg(&args, "--port", 3000) as u16;
    let conns = arg(&args, "--conns", 10_000) as usize;
    let hold = Duration::from_secs(arg(&args, "--hold-secs", 5));
    let addr = SocketAddr::from(([127, 0, 0, 1], port));

    let start = Instant::now();
    let mut open = Vec::with_capacity(conns);
    let mut buf = Vec::new();
    let mut failed = 0usize;
    for _ in 0..conns {
        let result = (|| {
            let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
            s.set_read_timeout(Some(Duration::from_secs(5)))?;
            s.write_all(REQUEST)?;
            let ok = read_response(&mut s, &mut buf)?;
            Ok::<_, std::io::Error>((s, ok))
        })();
        match result {
            Ok((s, true)) => open.push(s),
            Ok((_, false)) | Err(_) => failed += 1,
        }
    }
    println!("READY {} failed={failed} in {:.2}s", open.len(), start.elapsed().as_secs_f64());
    std::io::stdout().flush().ok();
    // Hold until the time is up, or earlier when the caller closes our stdin.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = std::io::stdin().lock().lines().next();
        let _ = tx.send(());
    });
    let _ = rx.recv_timeout(hold);
    drop(open);
}
