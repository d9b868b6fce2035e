//! Request bodies held open: uploads that stall, and uploads in flight when
//! the server is told to stop. Both target the todo service's `POST /todos`
//! (hello has no route that reads a body).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use super::case::{Ctx, Measured};
use super::stats::{self, Tally};
use super::target::{App, Setup};
use super::wire::{self, Answer};

/// Under the route's 16 KiB body limit (a larger one is refused at once).
const ANNOUNCED: usize = 16_000;

/// What a stalled upload may end with: the server's answer for a body too
/// slow, or the connection or stream closed.
const ACCEPTED_ENDS: [&str; 4] = ["408", "closed", "reset", "stream reset"];

/// `slow-uploads`: POSTs that announce a body and stop after a few bytes.
pub fn slow_uploads(ctx: &Ctx) -> Result<Measured, String> {
    let h1 = ctx.pick(2_000, 300);
    let (h2_conns, h2_streams) = ctx.pick((40, 200), (5, 50));
    let body_timeout = Duration::from_secs(ctx.pick(5, 3));
    let rule = body_timeout + Duration::from_secs(1);
    let watch_for = rule + Duration::from_secs(ctx.pick(5, 2));
    let mut scene = ctx.start(App::Todo, &Setup::body_read_timeout(body_timeout.as_secs()))?;
    let addr = scene.addr;
    scene.watch();
    let (h1_ends, h2_ends) = ctx.run(async move {
        tokio::join!(
            stalled_h1(addr, h1, watch_for),
            super::h2::stalled_posts(addr, h2_conns, h2_streams, "/todos", ANNOUNCED, watch_for),
        )
    })?;
    let seen = scene.finish();
    let (h1_text, h1_ok) = judge(&h1_ends, rule);
    let (h2_text, h2_ok) = judge(&h2_ends, rule);
    Ok(Measured {
        figure: format!(
            "body read timeout {} s; HTTP/1.1 {h1} stalled: {h1_text}; h2 {h2_conns}×{h2_streams} \
             stalled streams: {h2_text}; {}; {}",
            body_timeout.as_secs(),
            seen.normal.describe(),
            seen.rss.describe()
        ),
        holds: h1_ok && h2_ok && seen.normal.holds(),
    })
}

/// `408 ×2000, slowest 3.01 s`, and whether every upload ended well by `rule`.
fn judge(ends: &[(String, Duration)], rule: Duration) -> (String, bool) {
    let mut tally = Tally::default();
    for (end, _) in ends {
        tally.add(end.clone());
    }
    let slowest = ends.iter().map(|(_, t)| *t).max().unwrap_or_default();
    let ok = ends.iter().all(|(end, t)| ACCEPTED_ENDS.contains(&end.as_str()) && *t <= rule);
    (format!("{tally}, slowest {}", stats::secs(slowest)), ok)
}

/// `count` HTTP/1.1 POSTs that send 10 bytes of a 16 000-byte body: each
/// one's end and when it came (from the head), watched for `watch_for`.
async fn stalled_h1(
    addr: SocketAddr,
    count: usize,
    watch_for: Duration,
) -> Vec<(String, Duration)> {
    let head = format!(
        "POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {ANNOUNCED}\r\n\r\n{{\"title\":"
    );
    let mut set = JoinSet::new();
    for i in 0..count {
        let head = head.clone();
        set.spawn(async move {
            let Ok(mut stream) = wire::connect_from(wire::crowd(i), addr).await else {
                return ("connect failed".to_owned(), Duration::ZERO);
            };
            if stream.write_all(head.as_bytes()).await.is_err() {
                return ("closed".to_owned(), Duration::ZERO);
            }
            let start = Instant::now();
            let answer = wire::read_answer(&mut stream, watch_for).await;
            let t = start.elapsed();
            wire::reset(stream);
            (answer.label(), t)
        });
    }
    set.join_all().await
}

/// `sigterm-in-flight`: SIGTERM while uploads are half sent.
pub fn sigterm_in_flight(ctx: &Ctx) -> Result<Measured, String> {
    let count = ctx.pick(100, 30);
    let scene = ctx.start(App::Todo, &Setup::default())?;
    let addr = scene.addr;
    let bodies: Vec<String> =
        (0..count).map(|i| format!(r#"{{"title":"sigterm {i:04}"}}"#)).collect();
    let halves = bodies.clone();
    let streams = ctx.run(async move {
        let mut streams = Vec::new();
        for body in &halves {
            let head = format!(
                "POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\n\r\n{}",
                body.len(),
                &body[..body.len() / 2]
            );
            let mut s = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
            s.write_all(head.as_bytes()).await.map_err(|e| e.to_string())?;
            streams.push(s);
        }
        // Long enough for every handler to be waiting on its body.
        tokio::time::sleep(Duration::from_millis(300)).await;
        Ok::<_, String>(streams)
    })??;
    let mut scene = scene;
    let signalled = Instant::now();
    scene.server.signal_term()?;
    let answers = ctx.run(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut set = JoinSet::new();
        for (mut s, body) in streams.into_iter().zip(bodies) {
            set.spawn(async move {
                let rest = &body[body.len() / 2..];
                if s.write_all(rest.as_bytes()).await.is_err() {
                    return Answer::Reset;
                }
                wire::read_answer(&mut s, Duration::from_secs(5)).await
            });
        }
        set.join_all().await
    })?;
    let exit = scene.server.wait_exit(Duration::from_secs(10))?;
    let mut tally = Tally::default();
    for a in &answers {
        tally.add(a.label());
    }
    let exit_text = match exit {
        Some(status) => format!(
            "exit {} after {}",
            status.code().map_or("by signal".into(), |c| c.to_string()),
            stats::secs(signalled.elapsed())
        ),
        None => "still running 10 s after SIGTERM".into(),
    };
    Ok(Measured {
        figure: format!(
            "{count} POSTs half sent at SIGTERM, finished 0.3 s later: {tally}; {exit_text}"
        ),
        holds: tally.get("201") == count && exit.is_some_and(|s| s.success()),
    })
}
