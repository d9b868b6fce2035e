//! Connection-count cases: one address holding thousands of idle
//! connections, a server short of file descriptors, and repeated bursts of
//! connections that should leave no memory behind.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use super::case::{Ctx, Measured};
use super::stats::{self, Tally};
use super::target::{App, Setup};
use super::watch;
use super::wire::{self, Answer};

/// A connection opened by [`open_many`], still open.
struct Opened {
    answer: Answer,
    /// From connect to answer (or to giving up).
    after: Duration,
    stream: Option<TcpStream>,
}

/// Where the connections of a case come from.
#[derive(Debug, Clone, Copy)]
enum From {
    /// All from 127.0.0.1: one client.
    OneAddress,
    /// From [`wire::crowd`]: many clients, each under the server's
    /// per-client connection limit.
    Crowd,
}

/// Opens `count` keep-alive connections, `parallel` at a time, each sending
/// one `GET /plaintext` and waiting up to `wait` for the answer; returns
/// them all still open (dropping them closes them).
async fn open_many(
    addr: SocketAddr,
    from: From,
    count: usize,
    parallel: usize,
    wait: Duration,
) -> Vec<Opened> {
    let request = wire::get("/plaintext");
    let mut set = JoinSet::new();
    let mut opened = Vec::with_capacity(count);
    for i in 0..count {
        if set.len() >= parallel
            && let Some(Ok(o)) = set.join_next().await
        {
            opened.push(o);
        }
        let request = request.clone();
        set.spawn(async move {
            let start = Instant::now();
            let source = match from {
                From::OneAddress => wire::ATTACKER,
                From::Crowd => wire::crowd(i),
            };
            let connected = tokio::time::timeout(wait, wire::connect_from(source, addr)).await;
            let Ok(Ok(mut stream)) = connected else {
                return Opened { answer: Answer::Silent, after: start.elapsed(), stream: None };
            };
            if stream.write_all(request.as_bytes()).await.is_err() {
                return Opened { answer: Answer::Reset, after: start.elapsed(), stream: None };
            }
            let answer = wire::read_answer(&mut stream, wait).await;
            Opened { answer, after: start.elapsed(), stream: Some(stream) }
        });
    }
    opened.extend(set.join_all().await);
    opened
}

/// Closes every connection with a reset (see [`wire::reset`]).
fn reset_all(opened: Vec<Opened>) -> Tally {
    let mut tally = Tally::default();
    for o in opened {
        tally.add(o.answer.label());
        if let Some(stream) = o.stream {
            wire::reset(stream);
        }
    }
    tally
}

/// `conn-flood-one-ip`: thousands of idle keep-alive connections from one
/// address; the normal client comes from another.
pub fn conn_flood_one_ip(ctx: &Ctx) -> Result<Measured, String> {
    let count = ctx.pick(10_000, 1_000);
    let hold = Duration::from_secs(ctx.pick(20, 5));
    let mut scene = ctx.start(App::Hello, &Setup::default())?;
    let addr = scene.addr;
    scene.watch();
    let (tally, opened_in) = ctx.run(async move {
        let start = Instant::now();
        let opened = open_many(addr, From::OneAddress, count, 200, Duration::from_secs(5)).await;
        let opened_in = start.elapsed();
        tokio::time::sleep(hold).await;
        (reset_all(opened), opened_in)
    })?;
    let seen = scene.finish();
    Ok(Measured {
        figure: format!(
            "{count} connections from 127.0.0.1 opened in {} ({tally}), held {} s; {}; {}",
            stats::secs(opened_in),
            hold.as_secs(),
            seen.normal.describe(),
            seen.rss.describe()
        ),
        holds: seen.normal.holds(),
    })
}

/// `low-nofile`: more clients than the server has file descriptors.
pub fn low_nofile(ctx: &Ctx) -> Result<Measured, String> {
    const LIMIT: u64 = 1_024;
    let count = 1_100;
    let rule = Duration::from_secs(1);
    let setup = Setup { nofile: Some(LIMIT), ..Setup::default() };
    let mut scene = ctx.start(App::Hello, &setup)?;
    let addr = scene.addr;
    scene.watch();
    let (tally, slowest, hung) = ctx.run(async move {
        // Waiting longer than the rule shows how late the late ones are.
        let opened = open_many(addr, From::Crowd, count, 50, Duration::from_secs(3)).await;
        let slowest = opened.iter().map(|o| o.after).max().unwrap_or_default();
        let hung = opened.iter().filter(|o| !o.answer.settled() || o.after > rule).count();
        (reset_all(opened), slowest, hung)
    })?;
    std::thread::sleep(Duration::from_secs(1));
    let after = ctx.run(async move {
        let mut opened = open_many(addr, From::Crowd, 1, 1, Duration::from_secs(2)).await;
        opened.pop().map_or(Answer::Silent, |o| o.answer)
    })?;
    let seen = scene.finish();
    Ok(Measured {
        figure: format!(
            "{count} clients, server at ulimit -n {LIMIT}: {tally}; {hung} not settled within {} \
             (slowest {}); a client after they left: {}; {}",
            stats::secs(rule),
            stats::secs(slowest),
            after.label(),
            seen.normal.describe()
        ),
        holds: hung == 0,
    })
}

/// `burst-rss`: bursts of connections, each answered, then all closed; the
/// RSS left after the first burst and after the last.
pub fn burst_rss(ctx: &Ctx) -> Result<Measured, String> {
    let bursts = ctx.pick(10, 3);
    let size = ctx.pick(9_000, 2_000);
    let mut scene = ctx.start(App::Hello, &Setup::default())?;
    let addr = scene.addr;
    let pid = scene.pid();
    scene.watch();
    let mut after_each = Vec::new();
    let mut answers = Tally::default();
    for _ in 0..bursts {
        // Keep a burst's worth of time for the end of the case.
        if !after_each.is_empty() && ctx.time_left() < Duration::from_secs(10) {
            break;
        }
        let tally = ctx.run(async move {
            let opened = open_many(addr, From::Crowd, size, 500, Duration::from_secs(5)).await;
            reset_all(opened)
        })?;
        answers.merge(&tally);
        // Let the server's tasks end and its allocator settle.
        std::thread::sleep(Duration::from_secs(1));
        after_each.push(watch::rss_now(pid).ok_or("the server is gone")?);
        eprintln!(
            "  after burst {}: RSS {:.1} MiB",
            after_each.len(),
            *after_each.last().expect("just pushed") as f64 / 1024.0
        );
    }
    let seen = scene.finish();
    let first = after_each[0];
    let last = *after_each.last().expect("at least one burst");
    let ratio = last as f64 / first.max(1) as f64;
    let done = if after_each.len() < bursts {
        format!(" (stopped after {} bursts: time)", after_each.len())
    } else {
        String::new()
    };
    Ok(Measured {
        figure: format!(
            "{bursts} bursts × {size}{done}: RSS {:.1} MiB after the first, {:.1} MiB after the \
             last (×{ratio:.2}), peak {:.1} MiB; answers {answers}; {}",
            first as f64 / 1024.0,
            last as f64 / 1024.0,
            seen.rss.peak as f64 / 1024.0,
            seen.normal.describe()
        ),
        holds: ratio <= 1.2 && after_each.len() == bursts,
    })
}
