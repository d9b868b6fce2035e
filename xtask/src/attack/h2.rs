//! HTTP/2 (h2c) cases about what a connection holds: connections that
//! ping but never ask, streams that never read their answers, and (for
//! `slow-uploads`) streams whose body never comes. Well-formed streams go
//! through the `h2` crate's client; the idle pinger writes its frames by
//! hand (`frames`). The floods are in `floods`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use super::case::{Ctx, Measured};
use super::frames::{self, Reader};
use super::stats::{self, Tally};
use super::target::{self, App, Setup};

/// The most a server's memory may grow under one attack.
pub const RSS_BUDGET_KIB: i64 = 64 * 1024;

/// `h2-ping-idle`: connections that complete the handshake, then only PING.
pub fn ping_idle(ctx: &Ctx) -> Result<Measured, String> {
    let conns = ctx.pick(1_000, 100);
    let idle = Duration::from_secs(ctx.pick(5, 3));
    let rule = idle + Duration::from_secs(1);
    let watch_for = rule + Duration::from_secs(ctx.pick(5, 3));
    let mut scene = ctx.start(App::Hello, &Setup::idle_timeout(idle.as_secs()))?;
    let addr = scene.addr;
    scene.watch();
    let closes = ctx.run(async move {
        let mut set = JoinSet::new();
        for _ in 0..conns {
            set.spawn(pinger(addr, watch_for));
        }
        set.join_all().await
    })?;
    let seen = scene.finish();
    let (tally, slowest) =
        closings(closes.iter().map(|c| c.as_ref().map_err(|e| e.to_string())), rule, watch_for);
    let in_time = tally.get("closed in time");
    Ok(Measured {
        figure: format!(
            "keep-alive {} s: {in_time}/{conns} closed by {} ({tally}; slowest close {slowest}); {}; {}",
            idle.as_secs(),
            stats::secs(rule),
            seen.normal.describe(),
            seen.rss.describe(),
        ),
        holds: in_time == conns && seen.normal.holds(),
    })
}

/// One idle connection: handshake, acknowledge the server's SETTINGS, PING
/// every 2 s. When the server closed it (from the handshake on), or `None`
/// if it was still open after `watch_for`.
async fn pinger(addr: SocketAddr, watch_for: Duration) -> std::io::Result<Option<Duration>> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(&frames::client_start()).await?;
    let start = Instant::now();
    let (mut rd, mut wr) = stream.split();
    let mut reader = Reader::default();
    let every = Duration::from_secs(2);
    let mut ping = tokio::time::interval_at((start + every).into(), every);
    let give_up = tokio::time::sleep(watch_for);
    tokio::pin!(give_up);
    let mut buf = vec![0u8; 4096];
    let mut sent = 0u64;
    loop {
        tokio::select! {
            read = rd.read(&mut buf) => match read {
                Ok(0) | Err(_) => return Ok(Some(start.elapsed())),
                Ok(n) => {
                    for (head, _) in reader.feed(&buf[..n]) {
                        if head.kind == frames::SETTINGS && head.flags & frames::ACK == 0 {
                            wr.write_all(&frames::settings_ack()).await?;
                        }
                    }
                }
            },
            _ = ping.tick() => {
                sent += 1;
                if wr.write_all(&frames::ping(sent)).await.is_err() {
                    return Ok(Some(start.elapsed()));
                }
            }
            () = &mut give_up => return Ok(None),
        }
    }
}

/// `h2-zero-window`: streams whose large answers can never be sent.
pub fn zero_window(ctx: &Ctx) -> Result<Measured, String> {
    let conns = ctx.pick(20, 5);
    let streams = ctx.pick(200, 100);
    let idle = Duration::from_secs(ctx.pick(5, 3));
    let rule = idle + Duration::from_secs(5);
    let watch_for = rule + Duration::from_secs(ctx.pick(5, 2));
    let mut scene = ctx.start(App::Todo, &Setup::idle_timeout(idle.as_secs()))?;
    let addr = scene.addr;
    let path = "/todos?limit=500";
    let answer_bytes = ctx.run(async move {
        target::seed_todos(addr, 500, 98).await?;
        body_size(addr, path).await
    })??;
    scene.watch();
    let closes = ctx.run(async move {
        let mut set = JoinSet::new();
        for _ in 0..conns {
            set.spawn(never_reading(addr, path, streams, watch_for));
        }
        set.join_all().await
    })?;
    let seen = scene.finish();
    let (tally, slowest) =
        closings(closes.iter().map(|c| c.as_ref().map_err(String::clone)), rule, watch_for);
    let in_time = tally.get("closed in time");
    Ok(Measured {
        figure: format!(
            "answers {:.0} KB each, keep-alive {} s: {}; {in_time}/{conns} connections closed by {} \
             ({tally}; slowest close {slowest}); {}",
            answer_bytes as f64 / 1000.0,
            idle.as_secs(),
            seen.rss.describe(),
            stats::secs(rule),
            seen.normal.describe(),
        ),
        holds: seen.rss.growth() < RSS_BUDGET_KIB && in_time == conns,
    })
}

/// Connection closes (`Ok(Some(after))`, `Ok(None)` for still open after
/// `watch_for`, `Err` for a connection that failed) sorted against `rule`:
/// the tally and the slowest close (`—` if none closed).
fn closings<'a>(
    closes: impl Iterator<Item = Result<&'a Option<Duration>, String>>,
    rule: Duration,
    watch_for: Duration,
) -> (Tally, String) {
    let mut tally = Tally::default();
    let mut slowest = None;
    for close in closes {
        match close {
            Err(e) => tally.add(format!("failed: {e}")),
            Ok(None) => tally.add(format!("open after {}", stats::secs(watch_for))),
            Ok(Some(t)) => {
                slowest = slowest.max(Some(*t));
                tally.add(if *t <= rule { "closed in time" } else { "closed late" });
            }
        }
    }
    (tally, slowest.map_or("—".into(), stats::secs))
}

/// The body size of `GET path`, over HTTP/1.1.
async fn body_size(addr: SocketAddr, path: &str) -> Result<usize, String> {
    let mut s = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.map_err(|e| e.to_string())?;
    let raw = super::wire::read_to_close(&mut s, Duration::from_secs(5)).await;
    let head = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or("no response to GET")?;
    Ok(raw.len() - head - 4)
}

/// One connection with a zero stream window sending `streams` GETs and
/// never reading: when the server closed it (counted from the last
/// request), or `None` if still open after `watch_for`.
async fn never_reading(
    addr: SocketAddr,
    path: &'static str,
    streams: usize,
    watch_for: Duration,
) -> Result<Option<Duration>, String> {
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let (mut client, conn) = h2::client::Builder::new()
        .initial_window_size(0)
        .handshake::<_, Bytes>(tcp)
        .await
        .map_err(|e| e.to_string())?;
    let mut driver = JoinSet::new();
    driver.spawn(conn);
    let uri = format!("http://{addr}{path}");
    // Held, not awaited: dropping them would reset the streams.
    let mut held = Vec::with_capacity(streams);
    for _ in 0..streams {
        let ready = tokio::time::timeout(Duration::from_secs(5), client.ready()).await;
        client = match ready {
            Ok(Ok(c)) => c,
            _ => break,
        };
        let req = http::Request::get(&uri).body(()).map_err(|e| e.to_string())?;
        match client.send_request(req, true) {
            Ok((response, _)) => held.push(response),
            Err(_) => break,
        }
    }
    let start = Instant::now();
    let closed = tokio::time::timeout(watch_for, driver.join_next()).await;
    drop(held);
    Ok(closed.ok().map(|_| start.elapsed()))
}

/// Stalled HTTP/2 uploads for `slow-uploads`: `conns` connections × `streams`
/// POSTs to `path` announcing `length` bytes and sending none. Each
/// stream's outcome and when it came (from its HEADERS), watched for `watch_for`.
pub async fn stalled_posts(
    addr: SocketAddr,
    conns: usize,
    streams: usize,
    path: &'static str,
    length: usize,
    watch_for: Duration,
) -> Vec<(String, Duration)> {
    let mut set = JoinSet::new();
    for i in 0..conns {
        set.spawn(stalled_conn(super::wire::crowd(i), addr, streams, path, length, watch_for));
    }
    set.join_all().await.into_iter().flatten().collect()
}

async fn stalled_conn(
    from: std::net::Ipv4Addr,
    addr: SocketAddr,
    streams: usize,
    path: &'static str,
    length: usize,
    watch_for: Duration,
) -> Vec<(String, Duration)> {
    let failed = |why: &str| vec![(why.to_owned(), Duration::ZERO); streams];
    let Ok(tcp) = super::wire::connect_from(from, addr).await else {
        return failed("connect failed");
    };
    let Ok((mut client, conn)) = h2::client::handshake(tcp).await else {
        return failed("handshake failed");
    };
    let mut driver = JoinSet::new();
    driver.spawn(conn);
    let uri = format!("http://{addr}{path}");
    let mut answers = JoinSet::new();
    // The request bodies, held open and empty.
    let mut bodies = Vec::with_capacity(streams);
    let mut refused = 0;
    for _ in 0..streams {
        client = match tokio::time::timeout(Duration::from_secs(5), client.ready()).await {
            Ok(Ok(c)) => c,
            _ => {
                refused = streams - bodies.len();
                break;
            }
        };
        let req = http::Request::post(&uri)
            .header("content-type", "application/json")
            .header("content-length", length)
            .body(())
            .expect("a valid request");
        let Ok((response, body)) = client.send_request(req, false) else {
            refused = streams - bodies.len();
            break;
        };
        bodies.push(body);
        answers.spawn(async move {
            let start = Instant::now();
            let outcome = match tokio::time::timeout(watch_for, response).await {
                Ok(Ok(r)) => r.status().as_u16().to_string(),
                Ok(Err(e)) if e.is_reset() => "stream reset".into(),
                Ok(Err(_)) => "closed".into(),
                Err(_) => "no answer".into(),
            };
            (outcome, start.elapsed())
        });
    }
    let mut out = answers.join_all().await;
    out.extend(std::iter::repeat_n(("not sent".to_owned(), Duration::ZERO), refused));
    drop(bodies);
    out
}
