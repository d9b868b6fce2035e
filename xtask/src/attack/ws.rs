//! WebSocket cases against the `chat` example: sockets that go silent,
//! frames and messages past the limits, and sockets that post but never
//! read. The handshake and the frames are written by hand (a hostile
//! client sends what no well-behaved library would), and what the server
//! sends back is read frame by frame ([`ServerFrames`]).

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use super::case::{Ctx, Measured};
use super::h2::RSS_BUDGET_KIB;
use super::stats::{self, Tally};
use super::target::{App, Setup};
use super::wire;

/// Close code 1009: a message too big.
const TOO_BIG: u16 = 1009;

/// `ws-idle-sockets`: sockets that never send a frame and never answer the
/// server's pings.
pub fn idle_sockets(ctx: &Ctx) -> Result<Measured, String> {
    let sockets = ctx.pick(2_000, 300);
    let (ping, idle, write) = (2, 4, 3);
    // Checked every 2 s (the shortest timeout): dropped at most one tick
    // after the idle timeout, plus a second to spare.
    let rule = Duration::from_secs(idle + ping + 1);
    let watch_for = rule + Duration::from_secs(ctx.pick(5, 3));
    let mut scene = ctx.start(App::Chat, &Setup::socket_timeouts(ping, idle, write))?;
    let addr = scene.addr;
    scene.watch();
    let outcomes = ctx.run(async move {
        let mut set = JoinSet::new();
        for i in 0..sockets {
            set.spawn(silent(addr, wire::crowd(i), watch_for));
        }
        set.join_all().await
    })?;
    let seen = scene.finish();
    let mut tally = Tally::default();
    let (mut slowest, mut pinged) = (Duration::ZERO, 0);
    for outcome in &outcomes {
        match outcome {
            Err(e) => tally.add(format!("failed: {e}")),
            Ok((None, _)) => tally.add(format!("open after {}", stats::secs(watch_for))),
            Ok((Some(closed), pings)) => {
                slowest = slowest.max(*closed);
                pinged += usize::from(*pings > 0);
                tally.add(if *closed <= rule { "closed in time" } else { "closed late" });
            }
        }
    }
    let in_time = tally.get("closed in time");
    Ok(Measured {
        figure: format!(
            "ping {ping} s, idle {idle} s: {in_time}/{sockets} dropped by {} ({tally}; slowest {}); \
             {pinged} pinged first; {}; {}",
            stats::secs(rule),
            stats::secs(slowest),
            seen.normal.describe(),
            seen.rss.describe(),
        ),
        holds: in_time == sockets && seen.normal.holds() && seen.rss.growth() < RSS_BUDGET_KIB,
    })
}

/// One silent socket: when the server closed it after the handshake
/// (`None`: still open after `watch_for`), and the pings it got.
async fn silent(
    addr: SocketAddr,
    from: Ipv4Addr,
    watch_for: Duration,
) -> Result<(Option<Duration>, usize), String> {
    let mut stream = handshake(addr, from, None).await?;
    let start = Instant::now();
    let mut frames = ServerFrames::default();
    let mut buf = vec![0u8; 4096];
    let ended = tokio::time::timeout(watch_for, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => frames.feed(&buf[..n]),
            }
        }
    })
    .await;
    let pings = frames.seen.iter().filter(|(opcode, _)| *opcode == PING).count();
    wire::reset(stream);
    Ok((ended.is_ok().then(|| start.elapsed()), pings))
}

/// `ws-huge-frames`: a frame header announcing 1 GiB, and a message that
/// never ends (fragments without a final one).
pub fn huge_frames(ctx: &Ctx) -> Result<Measured, String> {
    let sockets = ctx.pick(200, 40);
    let rule = Duration::from_secs(3);
    let watch_for = Duration::from_secs(ctx.pick(10, 6));
    let mut scene = ctx.start(App::Chat, &Setup::default())?;
    let addr = scene.addr;
    scene.watch();
    let outcomes = ctx.run(async move {
        let mut set = JoinSet::new();
        for i in 0..sockets {
            let huge = i % 2 == 0;
            set.spawn(async move {
                (huge, oversized(addr, wire::crowd(i), huge, rule, watch_for).await)
            });
        }
        set.join_all().await
    })?;
    let seen = scene.finish();
    let mut tally = Tally::default();
    for (huge, outcome) in &outcomes {
        let kind = if *huge { "1 GiB frame" } else { "endless message" };
        tally.add(match outcome {
            Ok(outcome) => format!("{kind}: {outcome}"),
            Err(e) => format!("{kind}: failed: {e}"),
        });
    }
    let good = tally.get("1 GiB frame: 1009 in time") + tally.get("endless message: 1009 in time");
    Ok(Measured {
        figure: format!(
            "limit 16 KiB: {good}/{sockets} closed with 1009 within {} ({tally}); {}; {}",
            stats::secs(rule),
            seen.normal.describe(),
            seen.rss.describe(),
        ),
        holds: good == sockets && seen.normal.holds() && seen.rss.growth() < RSS_BUDGET_KIB,
    })
}

/// Sends an oversized frame (`huge`) or an endless fragmented message,
/// and says how the server answered: `1009 in time`, another close code,
/// a close without a close frame, or nothing.
async fn oversized(
    addr: SocketAddr,
    from: Ipv4Addr,
    huge: bool,
    rule: Duration,
    watch_for: Duration,
) -> Result<String, String> {
    let stream = handshake(addr, from, None).await?;
    let (mut rd, mut wr) = stream.into_split();
    let start = Instant::now();
    let writer = tokio::spawn(async move {
        if huge {
            let mut bytes = client_frame_header(BINARY, true, 1 << 30);
            bytes.extend(std::iter::repeat_n(0u8, 64 << 10));
            let _ = wr.write_all(&bytes).await;
        } else {
            let chunk = vec![b'a'; 8 << 10];
            let mut opcode = TEXT;
            for _ in 0..100 {
                if wr.write_all(&client_frame(opcode, false, &chunk)).await.is_err() {
                    break;
                }
                opcode = CONTINUATION;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        wr
    });
    let mut frames = ServerFrames::default();
    let mut buf = vec![0u8; 4096];
    let read = tokio::time::timeout(watch_for, async {
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => {
                    frames.feed(&buf[..n]);
                    if let Some(code) = frames.close_code() {
                        return Some(code);
                    }
                }
            }
        }
    })
    .await;
    let elapsed = start.elapsed();
    writer.abort();
    Ok(match read {
        Err(_) => format!("open after {}", stats::secs(watch_for)),
        Ok(None) => "closed without a close frame".to_owned(),
        Ok(Some(TOO_BIG)) if elapsed <= rule => "1009 in time".to_owned(),
        Ok(Some(TOO_BIG)) => "1009 late".to_owned(),
        Ok(Some(code)) => format!("close {code}"),
    })
}

/// `ws-never-read`: sockets that post as fast as they can but never read
/// the room's messages, beside sockets that read.
pub fn never_read(ctx: &Ctx) -> Result<Measured, String> {
    let (spammers, listeners) = (ctx.pick(20, 5), ctx.pick(20, 5));
    let write = 3;
    // The room's messages fill a spammer's buffers within a few seconds;
    // then its sends wait, and the write timeout (checked every 3 s) cuts
    // it off.
    let window = Duration::from_secs(ctx.pick(30, 15));
    let mut scene = ctx.start(App::Chat, &Setup::socket_timeouts(30, 60, write))?;
    let addr = scene.addr;
    scene.watch();
    let (spam, heard) = ctx.run(async move {
        let mut spam = JoinSet::new();
        for i in 0..spammers {
            spam.spawn(spammer(addr, wire::crowd(i), window));
        }
        let mut heard = JoinSet::new();
        for i in 0..listeners {
            heard.spawn(listener(addr, wire::crowd(spammers + i), window));
        }
        (spam.join_all().await, heard.join_all().await)
    })?;
    let seen = scene.finish();
    let mut tally = Tally::default();
    let mut slowest = Duration::ZERO;
    for outcome in &spam {
        match outcome {
            Err(e) => tally.add(format!("spammer failed: {e}")),
            Ok(None) => tally.add(format!("spammer open after {}", stats::secs(window))),
            Ok(Some(cut)) => {
                slowest = slowest.max(*cut);
                tally.add("spammer cut off");
            }
        }
    }
    let mut served = 0;
    let mut messages = 0;
    for outcome in &heard {
        match outcome {
            Ok((true, n)) if *n > 0 => {
                served += 1;
                messages += n;
            }
            Ok((open, n)) => tally.add(format!("listener open={open} with {n} messages")),
            Err(e) => tally.add(format!("listener failed: {e}")),
        }
    }
    let cut = tally.get("spammer cut off");
    Ok(Measured {
        figure: format!(
            "write timeout {write} s: {cut}/{spammers} never-reading spammers cut off (slowest {}; {tally}); \
             {served}/{listeners} reading sockets still served ({messages} messages); {}; {}",
            stats::secs(slowest),
            seen.normal.describe(),
            seen.rss.describe(),
        ),
        holds: cut == spammers
            && served == listeners
            && seen.normal.holds()
            && seen.rss.growth() < RSS_BUDGET_KIB,
    })
}

/// Posts batches of messages until the server cuts the connection off
/// (a write fails): when, or `None` if still open after `window`.
async fn spammer(
    addr: SocketAddr,
    from: Ipv4Addr,
    window: Duration,
) -> Result<Option<Duration>, String> {
    let mut stream = handshake(addr, from, Some(SPAMMER_RECEIVE_BUFFER)).await?;
    let start = Instant::now();
    let post = format!(r#"{{"name":"spam","text":"{}"}}"#, "x".repeat(400));
    let batch: Vec<u8> = (0..32).flat_map(|_| client_frame(TEXT, true, post.as_bytes())).collect();
    let cut =
        tokio::time::timeout(window, async { while stream.write_all(&batch).await.is_ok() {} })
            .await;
    wire::reset(stream);
    Ok(cut.is_ok().then(|| start.elapsed()))
}

/// Reads the room for `window`: whether the socket is still open at the
/// end, and how many messages came.
async fn listener(
    addr: SocketAddr,
    from: Ipv4Addr,
    window: Duration,
) -> Result<(bool, usize), String> {
    let mut stream = handshake(addr, from, None).await?;
    let mut frames = ServerFrames::default();
    let mut buf = vec![0u8; 64 << 10];
    let open = tokio::time::timeout(window, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => frames.feed(&buf[..n]),
            }
        }
    })
    .await
    .is_err();
    let texts = frames.seen.iter().filter(|(opcode, _)| *opcode == TEXT).count();
    wire::reset(stream);
    Ok((open, texts))
}

/// A spammer's receive buffer: small, so that the room's messages fill
/// its window within seconds (loopback's autotuned buffers would take
/// megabytes) and the server's sends to it must wait.
const SPAMMER_RECEIVE_BUFFER: u32 = 4 << 10;

/// Connects from `from` (with a receive buffer of `receive_buffer` bytes
/// if given) and completes the handshake for `/ws`.
async fn handshake(
    addr: SocketAddr,
    from: Ipv4Addr,
    receive_buffer: Option<u32>,
) -> Result<TcpStream, String> {
    let connect = async {
        let socket = tokio::net::TcpSocket::new_v4()?;
        if let Some(bytes) = receive_buffer {
            socket.set_recv_buffer_size(bytes)?;
        }
        if from != wire::ATTACKER {
            socket.bind(SocketAddr::from((from, 0)))?;
        }
        socket.connect(addr).await
    };
    let mut stream = connect.await.map_err(|e| format!("connect: {e}"))?;
    let request = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n\
                   Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
                   Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    stream.write_all(request.as_bytes()).await.map_err(|e| format!("handshake: {e}"))?;
    // Byte by byte up to the end of the head: what follows is frames.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    tokio::time::timeout(Duration::from_secs(10), async {
        while !head.ends_with(b"\r\n\r\n") {
            match stream.read(&mut byte).await {
                Ok(1) => head.push(byte[0]),
                _ => return Err("closed during the handshake".to_owned()),
            }
        }
        Ok(())
    })
    .await
    .map_err(|_| "no handshake answer in 10 s".to_owned())??;
    match wire::status_of(&head) {
        Some(101) => Ok(stream),
        status => Err(format!("handshake answered {status:?}")),
    }
}

const CONTINUATION: u8 = 0x0;
const TEXT: u8 = 0x1;
const BINARY: u8 = 0x2;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;

/// A client frame's mask (clients must mask; any key will do).
const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// The header of a masked client frame announcing `len` bytes of payload.
fn client_frame_header(opcode: u8, fin: bool, len: u64) -> Vec<u8> {
    let mut out = vec![opcode | if fin { 0x80 } else { 0 }];
    match len {
        0..=125 => out.push(0x80 | len as u8),
        126..=0xffff => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(0x80 | 127);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    out.extend_from_slice(&MASK);
    out
}

/// A whole masked client frame.
fn client_frame(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
    let mut out = client_frame_header(opcode, fin, payload.len() as u64);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    out
}

/// The frames a server sent, parsed as bytes arrive: each one's opcode and
/// the first two bytes of its payload (a close frame's code).
#[derive(Debug, Default)]
struct ServerFrames {
    pending: Vec<u8>,
    seen: Vec<(u8, Option<u16>)>,
}

impl ServerFrames {
    fn feed(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
        while let Some((opcode, start, len)) = self.next_header() {
            if self.pending.len() < start + len {
                break;
            }
            let code = (opcode == CLOSE && len >= 2)
                .then(|| u16::from_be_bytes([self.pending[start], self.pending[start + 1]]));
            self.seen.push((opcode, code));
            self.pending.drain(..start + len);
        }
    }

    /// The opcode, payload start and payload length of the frame at the
    /// front, once its header is in (server frames are not masked).
    fn next_header(&self) -> Option<(u8, usize, usize)> {
        let b = &self.pending;
        if b.len() < 2 {
            return None;
        }
        let opcode = b[0] & 0x0f;
        match b[1] & 0x7f {
            126 if b.len() >= 4 => Some((opcode, 4, usize::from(u16::from_be_bytes([b[2], b[3]])))),
            127 if b.len() >= 10 => {
                let len = u64::from_be_bytes(b[2..10].try_into().ok()?);
                Some((opcode, 10, usize::try_from(len).ok()?))
            }
            126 | 127 => None,
            len => Some((opcode, 2, usize::from(len))),
        }
    }

    /// The code of the first close frame, if one came.
    fn close_code(&self) -> Option<u16> {
        self.seen.iter().find(|(opcode, _)| *opcode == CLOSE).and_then(|(_, code)| *code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_frames_are_masked_with_the_right_length_encoding() {
        let small = client_frame(TEXT, true, b"hi");
        assert_eq!(small[..2], [0x81, 0x82]);
        assert_eq!(small[6] ^ MASK[0], b'h');
        let header = client_frame_header(BINARY, false, 1 << 30);
        assert_eq!(header[..2], [0x02, 0xff]);
        assert_eq!(header[2..10], (1u64 << 30).to_be_bytes());
        assert_eq!(client_frame_header(TEXT, true, 300)[1..4], [0xfe, 0x01, 0x2c]);
    }

    #[test]
    fn server_frames_are_read_across_chunks() {
        let mut frames = ServerFrames::default();
        // A ping, then a close 1009 with a reason, split mid-frame.
        let bytes = [0x89, 0x00, 0x88, 0x05, 0x03, 0xf1, b'b', b'i', b'g'];
        frames.feed(&bytes[..4]);
        assert_eq!(frames.seen, [(PING, None)]);
        frames.feed(&bytes[4..]);
        assert_eq!(frames.close_code(), Some(TOO_BIG));
    }
}
