//! A slow reader of a large streamed response, with a request pipelined
//! behind it, keeps the server's memory bounded. A test binary of its own:
//! it samples this process's `VmRSS`, which other tests would move.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[allow(dead_code)]
#[path = "server/support.rs"]
mod support;

use support::{App, TestServer, bounded};

/// A client that pipelines a request behind a 100 MiB streamed response
/// and reads slowly: the server holds at most a bounded amount of it (the
/// socket's backpressure reaches the body), and every byte arrives.
#[tokio::test]
async fn a_slow_reader_of_a_pipelined_stream_keeps_memory_bounded() {
    const MIB: usize = 1024 * 1024;
    let server = TestServer::start(|s| s, App::default());
    let mut stream = bounded(TcpStream::connect(server.addr)).await.unwrap();
    bounded(stream.write_all(
        b"GET /stream?mb=100 HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ))
    .await
    .unwrap();
    let before = vm_rss();
    let mut highest = before;
    let mut received = 0usize;
    let mut buf = vec![0u8; 256 * 1024];
    let mut tail = Vec::new();
    let started = std::time::Instant::now();
    loop {
        let n = bounded(stream.read(&mut buf)).await.unwrap();
        if n == 0 {
            break;
        }
        received += n;
        if received > 100 * MIB {
            tail.extend_from_slice(&buf[..n]);
        } else if received % (4 * MIB) < n {
            // Slow at first: the server must wait on the socket.
            if started.elapsed() < Duration::from_secs(1) {
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
            highest = highest.max(vm_rss());
        }
    }
    assert!(received > 100 * MIB, "{received} bytes");
    assert!(
        String::from_utf8_lossy(&tail).contains("hello"),
        "the pipelined answer came after the stream"
    );
    let grew = highest.saturating_sub(before);
    assert!(grew < 16 * MIB as u64, "the server's memory grew by {} KiB", grew / 1024);
    server.stop().await.unwrap();
}

/// `VmRSS` of this process, in bytes.
fn vm_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).unwrap();
    line["VmRSS:".len()..].trim().trim_end_matches("kB").trim().parse::<u64>().unwrap() * 1024
}
