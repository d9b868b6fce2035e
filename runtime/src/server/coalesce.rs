//! One write per batch of pipelined HTTP/1.1 responses.
//!
//! hyper flushes after every response. With pipelining (a client sending
//! several requests before reading the answers, as wrk and TechEmpower's
//! plaintext test do) that is one `writev` per response, and on loopback
//! the syscall costs several times what producing the response does.
//! [`Coalesced`] sits under hyper and holds the responses written while
//! the connection still has requests to answer, then writes them with one
//! syscall.
//!
//! When to hold and when to write:
//! - hyper reads from the I/O only once it has parsed every request it
//!   already has. So after a read that brought bytes, the connection has
//!   input to work through, and the responses it writes are held; a read
//!   that would block means the batch is done, and the next write or
//!   flush (hyper ends each round with one) takes the held bytes along, in
//!   one `writev` with the batch's last response. At the end of the
//!   stream they go out before the read returns.
//! - A connection can also stop with input left: a handler that waits, or
//!   a response body that streams. Then its task is about to wait with
//!   bytes held, so the task asks for a flush ([`WriteHold::flush_now`]) and
//!   polls hyper once more, whose every poll ends with a flush. So bytes
//!   are never held while the connection waits: a lone request gets its
//!   response as soon as it would without this module.
//! - The held bytes are bounded ([`HOLD_LIMIT`]); a write that does not fit
//!   goes out with them in one `writev`, and a slow reader meets the
//!   socket's backpressure as before (hyper's own write buffer, and its
//!   cap, are untouched: this is not hyper's `pipeline_flush`).
//! - HTTP/2 (the h2 crate batches its frames itself) and a connection
//!   handed to an upgrade write straight through ([`WriteHold::through`]).
//! - Shutting down writes the held bytes first, so hyper's own error
//!   answers (400, 431) still go out.
//!
//! A connection that never pipelines never holds anything and allocates
//! nothing here; one that does gets its buffer once, for its lifetime.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The most response bytes held back for one batch; more go out at once.
pub(crate) const HOLD_LIMIT: usize = 16 * 1024;

/// The most `IoSlice`s hyper hands to one vectored write (its
/// `MAX_WRITEV_BUFS`); one more carries the held bytes.
const MAX_SLICES: usize = 64;

/// What a connection's task and its I/O share about held bytes: whether
/// there are some, and whether they may be held. Only the connection's own
/// task (or, after an upgrade, the upgrade's) touches it; the atomics make
/// it `Sync` at the price of plain loads and stores.
#[derive(Debug, Default)]
pub(crate) struct WriteHold {
    state: AtomicU8,
}

/// The I/O holds bytes not written yet.
const HOLDING: u8 = 1;
/// Write through until a read brings new input.
const FLUSH_NOW: u8 = 2;
/// Write through for good.
const THROUGH: u8 = 4;

impl WriteHold {
    /// Whether the I/O holds response bytes not written yet.
    #[inline]
    pub(crate) fn holding(&self) -> bool {
        self.load() & HOLDING != 0
    }

    /// The connection is about to wait: write what is held, and write
    /// through until the next read brings input.
    #[inline]
    pub(crate) fn flush_now(&self) {
        self.store(self.load() | FLUSH_NOW);
    }

    /// Never hold again (HTTP/2, or the connection's hyper side is done and
    /// an upgrade may own the I/O).
    pub(crate) fn through(&self) {
        self.store(self.load() | THROUGH);
    }

    pub(crate) fn is_through(&self) -> bool {
        self.load() & THROUGH != 0
    }

    #[inline]
    fn may_hold(&self) -> bool {
        self.load() & (FLUSH_NOW | THROUGH) == 0
    }

    #[inline]
    fn set_holding(&self, holding: bool) {
        let state = self.load();
        self.store(if holding { state | HOLDING } else { state & !HOLDING });
    }

    #[inline]
    fn new_input(&self) {
        let state = self.load();
        if state & FLUSH_NOW != 0 {
            self.store(state & !FLUSH_NOW);
        }
    }

    #[inline]
    fn load(&self) -> u8 {
        self.state.load(Ordering::Relaxed)
    }

    #[inline]
    fn store(&self, state: u8) {
        self.state.store(state, Ordering::Relaxed);
    }
}

/// Gives a [`Coalesced`] I/O its connection's [`WriteHold`].
pub(crate) trait HasWriteHold {
    fn write_hold(&self) -> &WriteHold;
}

/// An I/O that holds the responses of a pipelined batch and writes them
/// with one syscall (see the module docs).
pub(crate) struct Coalesced<I, H> {
    io: I,
    hold: H,
    /// The last read brought bytes, and none since would have blocked.
    input: bool,
    /// Held bytes; `held[sent..]` are still to be written.
    held: Vec<u8>,
    sent: usize,
}

impl<I, H: HasWriteHold> Coalesced<I, H> {
    pub(crate) fn new(io: I, hold: H) -> Self {
        Coalesced { io, hold, input: false, held: Vec::new(), sent: 0 }
    }

    #[inline]
    fn has_held(&self) -> bool {
        self.sent < self.held.len()
    }

    /// Whether a write of `len` bytes after input may be held rather than
    /// written.
    #[inline]
    fn may_hold(&self, len: usize) -> bool {
        self.held.len() + len <= HOLD_LIMIT && self.hold.write_hold().may_hold()
    }

    fn keep(&mut self, bufs: &[IoSlice<'_>]) {
        if self.held.capacity() == 0 {
            self.held.reserve_exact(HOLD_LIMIT);
        }
        if self.held.is_empty() {
            self.hold.write_hold().set_holding(true);
        }
        for buf in bufs {
            self.held.extend_from_slice(buf);
        }
    }

    /// `n` held bytes went out.
    fn sent(&mut self, n: usize) {
        self.sent += n;
        if self.sent == self.held.len() {
            self.held.clear();
            self.sent = 0;
            self.hold.write_hold().set_holding(false);
        }
    }
}

impl<I: AsyncWrite + Unpin, H: HasWriteHold> Coalesced<I, H> {
    /// Writes the held bytes, then flushes the I/O.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.has_held() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.held[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent(n);
        }
        Pin::new(&mut self.io).poll_flush(cx)
    }

    /// A write that is not held: the held bytes and `bufs` in one syscall.
    fn poll_write_with_held(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        while self.has_held() {
            let mut slices = [IoSlice::new(&[]); MAX_SLICES + 1];
            slices[0] = IoSlice::new(&self.held[self.sent..]);
            let count = bufs.len().min(MAX_SLICES);
            slices[1..=count].copy_from_slice(&bufs[..count]);
            let held = self.held.len() - self.sent;
            let n = ready!(Pin::new(&mut self.io).poll_write_vectored(cx, &slices[..=count]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent(n.min(held));
            if n > held {
                return Poll::Ready(Ok(n - held));
            }
        }
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

impl<I: AsyncRead + AsyncWrite + Unpin, H: HasWriteHold + Unpin> AsyncRead for Coalesced<I, H> {
    #[inline]
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let read = Pin::new(&mut self.io).poll_read(cx, buf);
        match read {
            Poll::Ready(Ok(())) if buf.filled().len() > before => {
                self.input = true;
                self.hold.write_hold().new_input();
                read
            }
            // Would block: the batch is done. hyper writes its last response
            // next and ends with a flush, which takes the held bytes along:
            // one syscall for the batch. An upgrade's reader may not flush.
            Poll::Pending => {
                self.input = false;
                if self.has_held() && self.hold.write_hold().is_through() {
                    return self.batch_done(cx, read);
                }
                read
            }
            // The end of the stream: hyper may end the connection without a
            // flush, so the held bytes go out now.
            Poll::Ready(Ok(())) => {
                self.input = false;
                if self.has_held() {
                    return self.batch_done(cx, read);
                }
                read
            }
            Poll::Ready(Err(_)) => read,
        }
    }
}

impl<I: AsyncWrite + Unpin, H: HasWriteHold> Coalesced<I, H> {
    /// The read that ended a batch: the held bytes go out first.
    #[cold]
    fn batch_done(
        &mut self,
        cx: &mut Context<'_>,
        read: Poll<io::Result<()>>,
    ) -> Poll<io::Result<()>> {
        match self.poll_drain(cx) {
            Poll::Ready(Ok(())) => read,
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
            // Still held: the end of the stream is read again once the
            // socket has room (the task is woken for it).
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<I: AsyncWrite + Unpin, H: HasWriteHold + Unpin> AsyncWrite for Coalesced<I, H> {
    #[inline]
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[IoSlice::new(buf)])
    }

    #[inline]
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        // A lone request's response (no input since the read that would
        // block, nothing held) goes straight out, without summing its slices.
        if self.input {
            let len = bufs.iter().map(|buf| buf.len()).sum();
            if len > 0 && self.may_hold(len) {
                self.keep(bufs);
                return Poll::Ready(Ok(len));
            }
        }
        if self.has_held() {
            return self.poll_write_with_held(cx, bufs);
        }
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    #[inline]
    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    #[inline]
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.input && self.hold.write_hold().may_hold() {
            // The batch goes on: its end (or the task, before it waits)
            // writes what is held.
            return Poll::Ready(Ok(()));
        }
        self.poll_drain(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    impl HasWriteHold for Arc<WriteHold> {
        fn write_hold(&self) -> &WriteHold {
            self
        }
    }

    /// An I/O over a duplex pipe that counts the writes reaching it.
    struct Counting {
        io: tokio::io::DuplexStream,
        writes: Arc<std::sync::atomic::AtomicUsize>,
    }

    impl AsyncRead for Counting {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Pin::new(&mut self.io).poll_read(cx, buf)
        }
    }

    impl AsyncWrite for Counting {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let written = Pin::new(&mut self.io).poll_write(cx, buf);
            if written.is_ready() {
                self.writes.fetch_add(1, Ordering::Relaxed);
            }
            written
        }

        /// A `writev` as a socket does it, all slices in one write (the
        /// pipe is large enough for what the tests send).
        fn poll_write_vectored(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            let all: Vec<u8> = bufs.iter().flat_map(|buf| buf.iter().copied()).collect();
            self.poll_write(cx, &all)
        }

        fn is_write_vectored(&self) -> bool {
            true
        }

        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.io).poll_flush(cx)
        }

        fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.io).poll_shutdown(cx)
        }
    }

    type Setup = (
        Coalesced<Counting, Arc<WriteHold>>,
        tokio::io::DuplexStream,
        Arc<std::sync::atomic::AtomicUsize>,
        Arc<WriteHold>,
    );

    fn setup(pipe: usize) -> Setup {
        let (server, client) = tokio::io::duplex(pipe);
        let writes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let hold = Arc::new(WriteHold::default());
        let io = Counting { io: server, writes: writes.clone() };
        (Coalesced::new(io, hold.clone()), client, writes, hold)
    }

    #[tokio::test]
    async fn writes_after_input_are_held_until_a_read_would_block() {
        let (mut io, mut client, writes, hold) = setup(1 << 16);
        client.write_all(b"requests").await.unwrap();
        let mut input = [0; 64];
        assert_eq!(io.read(&mut input).await.unwrap(), 8);
        for answer in [&b"one "[..], b"two ", b"three"] {
            io.write_all(answer).await.unwrap();
            io.flush().await.unwrap();
        }
        assert_eq!(writes.load(Ordering::Relaxed), 0);
        assert!(hold.holding());
        // The next read would block: the batch is done, and the last
        // answer goes out with the held ones, as one write.
        let read = tokio::time::timeout(std::time::Duration::from_millis(50), io.read(&mut input));
        assert!(read.await.is_err());
        assert_eq!(writes.load(Ordering::Relaxed), 0);
        io.write_all(b" four").await.unwrap();
        assert_eq!(writes.load(Ordering::Relaxed), 1);
        io.flush().await.unwrap();
        assert_eq!(writes.load(Ordering::Relaxed), 1);
        assert!(!hold.holding());
        let mut out = [0; 18];
        client.read_exact(&mut out).await.unwrap();
        assert_eq!(&out, b"one two three four");
    }

    #[tokio::test]
    async fn without_input_or_when_asked_writes_go_straight_out() {
        let (mut io, mut client, writes, hold) = setup(1 << 16);
        io.write_all(b"first").await.unwrap();
        assert_eq!(writes.load(Ordering::Relaxed), 1);

        client.write_all(b"x").await.unwrap();
        io.read_exact(&mut [0; 1]).await.unwrap();
        io.write_all(b"held").await.unwrap();
        assert_eq!(writes.load(Ordering::Relaxed), 1);
        // The task is about to wait: the next flush writes.
        hold.flush_now();
        io.flush().await.unwrap();
        assert_eq!(writes.load(Ordering::Relaxed), 2);
        io.write_all(b"-after").await.unwrap();
        assert_eq!(writes.load(Ordering::Relaxed), 3);
        let mut out = [0; 15];
        client.read_exact(&mut out).await.unwrap();
        assert_eq!(&out, b"firstheld-after");
    }

    #[tokio::test]
    async fn a_write_past_the_limit_goes_out_with_the_held_bytes() {
        let (mut io, mut client, writes, _hold) = setup(1 << 20);
        client.write_all(b"x").await.unwrap();
        io.read_exact(&mut [0; 1]).await.unwrap();
        io.write_all(b"head").await.unwrap();
        let big = vec![7u8; HOLD_LIMIT];
        io.write_all(&big).await.unwrap();
        // The held bytes and the big one, in one `writev`.
        assert_eq!(writes.load(Ordering::Relaxed), 1);
        let mut out = vec![0; 4 + HOLD_LIMIT];
        client.read_exact(&mut out).await.unwrap();
        assert_eq!(&out[..4], b"head");
        assert!(out[4..].iter().all(|&b| b == 7));
    }

    #[tokio::test]
    async fn shutdown_and_the_end_of_the_stream_write_what_is_held() {
        let (mut io, mut client, _writes, _hold) = setup(1 << 16);
        client.write_all(b"x").await.unwrap();
        io.read_exact(&mut [0; 1]).await.unwrap();
        io.write_all(b"answer").await.unwrap();
        io.shutdown().await.unwrap();
        let mut out = Vec::new();
        client.read_to_end(&mut out).await.unwrap();
        assert_eq!(out, b"answer");

        let (mut io, mut client, _writes, _hold) = setup(1 << 16);
        client.write_all(b"x").await.unwrap();
        io.read_exact(&mut [0; 1]).await.unwrap();
        io.write_all(b"last").await.unwrap();
        client.shutdown().await.unwrap();
        assert_eq!(io.read(&mut [0; 8]).await.unwrap(), 0);
        let mut out = [0; 4];
        client.read_exact(&mut out).await.unwrap();
        assert_eq!(&out, b"last");
    }

    #[tokio::test]
    async fn through_never_holds() {
        let (mut io, _client, writes, hold) = setup(1 << 16);
        hold.through();
        io.input = true;
        io.write_all(b"h2 frames").await.unwrap();
        assert_eq!(writes.load(Ordering::Relaxed), 1);
        assert!(!hold.holding());
    }
}
