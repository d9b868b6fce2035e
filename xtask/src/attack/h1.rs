//! HTTP/1.1 cases that already hold, kept so regressions show: request
//! smuggling, oversize heads and URIs, a pipelined flood, clients that
//! vanish mid-request.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use super::case::{Ctx, Measured};
use super::stats::{self, Tally};
use super::target::{App, Setup};
use super::watch;
use super::wire::{self, Answer};

/// The request hidden in the body of another; hello answers it with
/// `user 1 post smuggled`, so its answer is easy to spot.
const SMUGGLED: &str = "GET /user/1/post/smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

/// The smuggling attempts: framing that two HTTP parsers may read two ways.
fn smuggling_variants() -> Vec<(&'static str, String)> {
    const START: &str = "POST /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    // A body that ends at once if read as chunked, and carries SMUGGLED if
    // read by Content-Length: a server honouring the (obfuscated) chunked
    // coding and keeping the connection would answer SMUGGLED.
    let chunked_first = |te: &str| {
        let body = format!("0\r\n\r\n{SMUGGLED}");
        format!("{START}Content-Length: {}\r\n{te}\r\n{body}", body.len())
    };
    // The reverse: Content-Length covers only the chunk-size line.
    let size_line = format!("{:x}\r\n", SMUGGLED.len());
    let te_cl = format!(
        "{START}Transfer-Encoding: chunked\r\nContent-Length: {}\r\n\r\n{size_line}{SMUGGLED}\r\n0\r\n\r\n",
        size_line.len()
    );
    let cl_cl =
        format!("{START}Content-Length: 0\r\nContent-Length: {}\r\n\r\n{SMUGGLED}", SMUGGLED.len());
    vec![
        ("CL.TE", chunked_first("Transfer-Encoding: chunked\r\n")),
        ("TE.CL", te_cl),
        ("CL.CL", cl_cl),
        ("TE-space", chunked_first("Transfer-Encoding : chunked\r\n")),
        ("TE-xchunked", chunked_first("Transfer-Encoding: xchunked\r\n")),
        (
            "TE-twice",
            chunked_first("Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n"),
        ),
    ]
}

/// `smuggling`: each variant on a fresh connection.
pub fn smuggling(ctx: &Ctx) -> Result<Measured, String> {
    let mut scene = ctx.start(App::Hello, &Setup::default())?;
    let addr = scene.addr;
    scene.watch();
    let window = ctx.min_window();
    let (first_round, rounds, leaked) = ctx.run(async move {
        let start = Instant::now();
        let mut first_round = Vec::new();
        let mut leaked = Vec::new();
        let mut rounds = 0;
        while rounds == 0 || start.elapsed() < window {
            rounds += 1;
            for (name, raw) in smuggling_variants() {
                let (bytes, _) = send_and_read(addr, raw.as_bytes()).await;
                if String::from_utf8_lossy(&bytes).contains("post smuggled")
                    && !leaked.contains(&name)
                {
                    leaked.push(name);
                }
                if rounds == 1 {
                    first_round.push((name, wire::responses(&bytes).0));
                }
            }
        }
        (first_round, rounds, leaked)
    })?;
    let seen = scene.finish();
    let parts: Vec<String> = first_round
        .iter()
        .map(|(name, statuses)| {
            let shown: Vec<String> = statuses.iter().map(u16::to_string).collect();
            format!("{name} {}", if shown.is_empty() { "closed".into() } else { shown.join("+") })
        })
        .collect();
    let leaks = if leaked.is_empty() {
        format!("the hidden GET never answered in {rounds} rounds")
    } else {
        format!("the hidden GET ANSWERED after {}", leaked.join(", "))
    };
    Ok(Measured {
        figure: format!("{}; {leaks}; {}", parts.join(", "), seen.normal.describe()),
        holds: leaked.is_empty() && seen.normal.holds(),
    })
}

/// Writes `raw` on a new connection (reading meanwhile, so a server that
/// answers early and closes is heard) and returns what came back until
/// the server closed or 2 s passed, and when the first response head was
/// complete.
async fn send_and_read(addr: SocketAddr, raw: &[u8]) -> (Vec<u8>, Option<Duration>) {
    let start = Instant::now();
    let Ok(stream) = TcpStream::connect(addr).await else { return (Vec::new(), None) };
    let (mut rd, mut wr) = stream.into_split();
    let write = async move {
        let _ = wr.write_all(raw).await;
        wr
    };
    let read = async move {
        let mut buf = Vec::new();
        let mut first_head = None;
        let mut chunk = [0u8; 4096];
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while let Ok(n @ 1..) = rd.read(&mut chunk).await {
                buf.extend_from_slice(&chunk[..n]);
                if first_head.is_none() && buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    first_head = Some(start.elapsed());
                }
            }
        })
        .await;
        (buf, first_head)
    };
    let (_wr, read) = tokio::join!(write, read);
    read
}

/// `oversize-head`: request heads larger than the 64 KiB limit.
pub fn oversize_head(ctx: &Ctx) -> Result<Measured, String> {
    let pad: String = (0..80).map(|i| format!("X-Pad-{i}: {}\r\n", "a".repeat(1000))).collect();
    let raw = format!("GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\n{pad}\r\n");
    oversize(ctx, "80 KB head", raw, &[431])
}

/// `oversize-uri`: a 70 KB request target.
pub fn oversize_uri(ctx: &Ctx) -> Result<Measured, String> {
    let raw = format!("GET /{} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "a".repeat(70_000));
    oversize(ctx, "70 KB URI", raw, &[414, 431])
}

/// Sends `raw` on a number of connections; each must be answered with one
/// of `wanted` within 1 s.
fn oversize(ctx: &Ctx, what: &str, raw: String, wanted: &[u16]) -> Result<Measured, String> {
    let conns = ctx.pick(50, 10);
    let mut scene = ctx.start(App::Hello, &Setup::default())?;
    let addr = scene.addr;
    scene.watch();
    let window = ctx.min_window();
    let answers = ctx.run(async move {
        let start = Instant::now();
        let mut out = Vec::new();
        while out.len() < conns || start.elapsed() < window {
            let (bytes, at) = send_and_read(addr, raw.as_bytes()).await;
            let answer = wire::status_of(&bytes).map_or(Answer::Closed, Answer::Status);
            out.push((answer, at));
        }
        out
    })?;
    let seen = scene.finish();
    let mut tally = Tally::default();
    let mut slowest = Duration::ZERO;
    let mut good = 0;
    for (answer, at) in &answers {
        tally.add(answer.label());
        slowest = slowest.max(at.unwrap_or(Duration::MAX));
        if matches!(answer, Answer::Status(s) if wanted.contains(s))
            && at.is_some_and(|t| t <= Duration::from_secs(1))
        {
            good += 1;
        }
    }
    let slowest = if slowest == Duration::MAX { "—".into() } else { stats::secs(slowest) };
    Ok(Measured {
        figure: format!(
            "{} × {what}: {tally}, slowest answer {slowest}; {}",
            answers.len(),
            seen.normal.describe()
        ),
        holds: good == answers.len() && seen.normal.holds(),
    })
}

/// `pipelined-flood`: thousands of requests written at once on each connection.
pub fn pipelined_flood(ctx: &Ctx) -> Result<Measured, String> {
    let conns = ctx.pick(10, 2);
    let per_conn = ctx.pick(10_000, 2_000);
    let mut scene = ctx.start(App::Hello, &Setup::default())?;
    let addr = scene.addr;
    scene.watch();
    let window = ctx.min_window();
    let (rounds, slowest, tally) = ctx.run(async move {
        let start = Instant::now();
        let (mut rounds, mut slowest, mut tally) = (0, Duration::ZERO, Tally::default());
        while rounds == 0 || start.elapsed() < window {
            rounds += 1;
            let round = Instant::now();
            let mut set = JoinSet::new();
            for _ in 0..conns {
                set.spawn(pipeline(addr, per_conn));
            }
            for s in set.join_all().await.into_iter().flatten() {
                tally.add(s.to_string());
            }
            slowest = slowest.max(round.elapsed());
        }
        (rounds, slowest, tally)
    })?;
    let seen = scene.finish();
    let ok = tally.get("200");
    let total = rounds * conns * per_conn;
    Ok(Measured {
        figure: format!(
            "{rounds} rounds of {conns} × {per_conn} pipelined GETs: {ok}/{total} answered 200, \
             slowest round {}; {}; {}",
            stats::secs(slowest),
            seen.rss.describe(),
            seen.normal.describe()
        ),
        holds: ok == total && seen.rss.growth() < 64 * 1024 && seen.normal.holds(),
    })
}

/// Writes `count` GETs at once and reads answers until all came, the
/// server stopped, or 20 s passed; the statuses.
async fn pipeline(addr: SocketAddr, count: usize) -> Vec<u16> {
    let Ok(stream) = TcpStream::connect(addr).await else { return Vec::new() };
    let (mut rd, mut wr) = stream.into_split();
    let requests = wire::get("/plaintext").repeat(count);
    let write = async move {
        let _ = wr.write_all(requests.as_bytes()).await;
        wr
    };
    let read = async move {
        let mut statuses = Vec::with_capacity(count);
        let mut buf = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        let _ = tokio::time::timeout(Duration::from_secs(20), async {
            while statuses.len() < count {
                match rd.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        buf.extend_from_slice(&chunk[..n]);
                        let (got, used) = wire::responses(&buf);
                        statuses.extend(got);
                        buf.drain(..used);
                    }
                }
            }
        })
        .await;
        statuses
    };
    let (_wr, statuses) = tokio::join!(write, read);
    statuses
}

/// What a vanishing client sends before it goes.
const FRAGMENTS: [&str; 4] = [
    "",
    "GET /plaintext HT",
    "GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\n",
    "GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
];

/// `mid-request-disconnects`: clients that send part of a request (or a
/// whole one) and vanish, with a FIN or a reset.
pub fn mid_request_disconnects(ctx: &Ctx) -> Result<Measured, String> {
    let total = ctx.pick(10_000, 2_000);
    let mut scene = ctx.start(App::Hello, &Setup::default())?;
    let addr = scene.addr;
    let pid = scene.pid();
    let fds_before = watch::open_fds(pid).ok_or("cannot read the server's fds")?;
    scene.watch();
    let window = ctx.min_window();
    let (total, failed) = ctx.run(async move {
        let start = Instant::now();
        let mut set = JoinSet::new();
        let (mut sent, mut failed) = (0, 0);
        while sent < total || start.elapsed() < window {
            if set.len() >= 100 && !matches!(set.join_next().await, Some(Ok(true))) {
                failed += 1;
            }
            set.spawn(vanish(addr, sent));
            sent += 1;
        }
        (sent, failed + set.join_all().await.into_iter().filter(|ok| !ok).count())
    })?;
    let seen = scene.finish();
    let settle = Instant::now();
    let mut fds_after = watch::open_fds(pid).unwrap_or(usize::MAX);
    while fds_after > fds_before + 2 && settle.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(100));
        fds_after = watch::open_fds(pid).unwrap_or(usize::MAX);
    }
    let settled = fds_after <= fds_before + 2;
    Ok(Measured {
        figure: format!(
            "{total} clients gone mid-request ({failed} could not connect): server fds {fds_before} \
             before, {fds_after} after{}; {}; {}",
            if settled {
                format!(" (settled in {})", stats::secs(settle.elapsed()))
            } else {
                " after 5 s".into()
            },
            seen.rss.describe(),
            seen.normal.describe()
        ),
        holds: settled && seen.normal.holds(),
    })
}

/// Client `i`: a fragment from [`FRAGMENTS`], then a reset (even `i`) or a
/// FIN (odd). Whether it connected.
async fn vanish(addr: SocketAddr, i: usize) -> bool {
    let Ok(mut stream) = TcpStream::connect(addr).await else { return false };
    let fragment = FRAGMENTS[i % FRAGMENTS.len()];
    if !fragment.is_empty() {
        let _ = stream.write_all(fragment.as_bytes()).await;
    }
    if i.is_multiple_of(2) {
        wire::reset(stream);
    }
    true
}
