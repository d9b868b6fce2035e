//! The same measurement for pipelined requests: the client writes a batch
//! of requests at once, as wrk's pipelining and TechEmpower's plaintext
//! test do, then reads all their responses. Counted per batch: the
//! server's allocations, and the writes that reached its I/O (a
//! [`CountingWrites`] under the server: one `writev` of a socket counts
//! as one write).

use std::io::IoSlice;
use std::sync::Arc;

use super::*;

/// What [`measure_pipelined`] saw over the measured batches.
#[derive(Debug, Clone)]
pub struct Pipelined {
    /// Allocations over the requests of the batches not left out.
    pub counts: Counts,
    /// Batches left out (the wall clock's second changed, see
    /// [`measure_server`]).
    pub excluded: usize,
    /// Writes that reached the server's I/O, per batch.
    pub writes_per_batch: f64,
    /// The first batch's responses, as sent.
    pub first_batch: Vec<u8>,
}

/// The server's end of the pipe, counting the writes that reach it. A
/// vectored write is done whole, as one write (a socket's `writev`), and
/// without allocating (the pipe has room for what the tests send).
pub struct CountingWrites {
    io: DuplexStream,
    writes: Arc<AtomicU64>,
}

impl tokio::io::AsyncRead for CountingWrites {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for CountingWrites {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.poll_write_vectored(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let mut written = 0;
        for buf in bufs.iter().filter(|buf| !buf.is_empty()) {
            match Pin::new(&mut self.io).poll_write(cx, buf) {
                Poll::Ready(Ok(n)) => {
                    written += n;
                    if n < buf.len() {
                        break;
                    }
                }
                Poll::Ready(Err(err)) if written == 0 => return Poll::Ready(Err(err)),
                Poll::Pending if written == 0 => return Poll::Pending,
                _ => break,
            }
        }
        self.writes.fetch_add(1, Relaxed);
        Poll::Ready(Ok(written))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// Mambo's server (the hello app) on one pipelined connection.
pub async fn serve_mambo(io: CountingWrites) {
    mambo::server::serve_connection(io, Hello::new()).await;
}

/// Raw hyper on one pipelined connection (see [`super::serve_raw_hyper`]).
pub async fn serve_raw_hyper(io: CountingWrites) {
    let service = hyper::service::service_fn(raw_hyper_service);
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(io), service)
        .await;
}

/// Serves one pipe with `serve`, sends `warmup` then `batches` batches of
/// `depth` copies of `request`, each batch in one write, reads every
/// response, and counts the server's allocations and writes over the
/// measured batches.
///
/// # Panics
///
/// As [`measure_server`].
pub fn measure_pipelined<F, Fut>(
    serve: F,
    request: &[u8],
    depth: usize,
    warmup: usize,
    batches: usize,
) -> Pipelined
where
    F: FnOnce(CountingWrites) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let _lock = lock();
    assert_installed();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let (mut client, server_io) = tokio::io::duplex(256 * 1024);
        let writes = Arc::new(AtomicU64::new(0));
        let io = CountingWrites { io: server_io, writes: writes.clone() };
        let server = tokio::spawn(Counted(Box::pin(serve(io))));
        let batch = request.repeat(depth);
        let mut buf = vec![0u8; 256 * 1024];
        let mut first_batch = Vec::new();
        let mut counts = Counts::default();
        let (mut excluded, mut measured_writes) = (0, 0);
        let mut before = (snapshot(), writes.load(Relaxed));
        let mut seconds = [unix_second(); 2];
        for i in 0..warmup + batches {
            client.write_all(&batch).await.expect("write a batch");
            let len = read_batch(&mut client, &mut buf, depth).await;
            let after = (snapshot(), writes.load(Relaxed));
            let now = unix_second();
            if i >= warmup {
                if now != seconds[1] || seconds[1] != seconds[0] {
                    excluded += 1;
                } else {
                    counts.requests += depth as u64;
                    counts.allocs += after.0.0 - before.0.0;
                    counts.bytes += after.0.1 - before.0.1;
                }
                measured_writes += after.1 - before.1;
            }
            if i == 0 {
                first_batch = buf[..len].to_vec();
            }
            (before, seconds) = (after, [seconds[1], now]);
        }
        drop(client);
        server.await.expect("the server task panicked");
        Pipelined {
            counts,
            excluded,
            writes_per_batch: measured_writes as f64 / batches.max(1) as f64,
            first_batch,
        }
    })
}

/// Reads the `depth` responses of a batch into `buf`; returns their length.
async fn read_batch(io: &mut DuplexStream, buf: &mut [u8], depth: usize) -> usize {
    let (mut filled, mut parsed) = (0, 0);
    for _ in 0..depth {
        loop {
            if let Some(len) = complete_response(&buf[parsed..filled]) {
                parsed += len;
                break;
            }
            let n = io.read(&mut buf[filled..]).await.expect("read a response");
            assert!(n > 0, "the server closed the connection");
            filled += n;
        }
    }
    assert_eq!(parsed, filled, "the server sent more than the batch's responses");
    filled
}

/// The length of the response at the start of `bytes`, if it is all there.
fn complete_response(bytes: &[u8]) -> Option<usize> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let total = end + 4 + content_length(&bytes[..end]);
    (bytes.len() >= total).then_some(total)
}
