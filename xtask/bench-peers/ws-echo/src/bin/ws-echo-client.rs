//! `ws-echo-client --url ws://127.0.0.1:PORT/ws --connections C --messages M
//! --size BYTES [--binary] [--window W] [--warmup N] [--threads T]`: the load
//! generator of `cargo xtask bench ws`, the same for every server.
//!
//! Client: tokio-tungstenite 0.30 (`connect_async_with_config`, default
//! `WebSocketConfig`, `TCP_NODELAY`), a multi-thread tokio runtime with `T`
//! workers (default 1). It opens one control connection and `C` load
//! connections; each load connection sends `N` warm-up messages (default
//! `min(M, 1000)`), then all wait; the control connection asks the server
//! for its allocation count (`__allocs`) twice in a row, then every load
//! connection sends `M` messages of `BYTES` bytes (text of `a`s, or binary
//! with `--binary`), at most `W` in flight (default 1: ping-pong, send and
//! wait for the echo), checking each echo byte for byte; then the control
//! connection asks once more.
//!
//! Prints one JSON line: `msgs_per_sec` (C × M / wall time of the measured
//! phase), `secs`, `p50_us`/`p99_us` (round trip, send to echo), and
//! `allocs_per_msg` = (after − before − query) / (C × M), where `query` is
//! the difference of the two back-to-back queries (what one query costs the
//! server, so the queries themselves are not counted); `null` when the
//! server does not answer `__allocs` with a number.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::Barrier;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tungstenite::Message;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

#[derive(Debug, Clone)]
struct Opts {
    url: String,
    connections: usize,
    messages: usize,
    size: usize,
    binary: bool,
    window: usize,
    warmup: Option<usize>,
    threads: usize,
}

fn parse() -> Result<Opts, String> {
    let mut o = Opts {
        url: String::new(),
        connections: 1,
        messages: 1000,
        size: 32,
        binary: false,
        window: 1,
        warmup: None,
        threads: 1,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("`{arg}` needs a value"));
        let num = |v: String| v.parse::<usize>().map_err(|e| format!("{v}: {e}"));
        match arg.as_str() {
            "--url" => o.url = value()?,
            "--connections" => o.connections = num(value()?)?,
            "--messages" => o.messages = num(value()?)?,
            "--size" => o.size = num(value()?)?,
            "--binary" => o.binary = true,
            "--window" => o.window = num(value()?)?.max(1),
            "--warmup" => o.warmup = Some(num(value()?)?),
            "--threads" => o.threads = num(value()?)?.max(1),
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    if !o.url.starts_with("ws://127.0.0.1:") {
        return Err("--url must be ws://127.0.0.1:PORT/...".into());
    }
    Ok(o)
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

async fn connect(url: &str) -> Result<Ws, String> {
    let (ws, _) =
        tokio_tungstenite::connect_async_with_config(url, None, true).await.map_err(err)?;
    Ok(ws)
}

/// Whether `got` is the echo of `sent`.
fn same(sent: &Message, got: &Message) -> bool {
    match (sent, got) {
        (Message::Text(a), Message::Text(b)) => a.as_str() == b.as_str(),
        (Message::Binary(a), Message::Binary(b)) => a == b,
        _ => false,
    }
}

/// Sends `msg` `n` times, at most `window` unanswered, pushing each round
/// trip (nanoseconds) to `lat` when given.
async fn exchange(
    ws: &mut Ws,
    msg: &Message,
    n: usize,
    window: usize,
    mut lat: Option<&mut Vec<u64>>,
) -> Result<(), String> {
    let mut sent_at: VecDeque<Instant> = VecDeque::with_capacity(window);
    let (mut sent, mut received) = (0, 0);
    while received < n {
        let mut fed = false;
        while sent < n && sent_at.len() < window {
            ws.feed(msg.clone()).await.map_err(err)?;
            sent_at.push_back(Instant::now());
            sent += 1;
            fed = true;
        }
        if fed {
            ws.flush().await.map_err(err)?;
        }
        let got = match ws.next().await {
            Some(Ok(m @ (Message::Text(_) | Message::Binary(_)))) => m,
            Some(Ok(Message::Close(_))) | None => return Err("connection closed".into()),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(err(e)),
        };
        if !same(msg, &got) {
            return Err(format!("echo differs from what was sent ({} bytes)", got.len()));
        }
        let t0 = sent_at.pop_front().ok_or("an echo of nothing")?;
        if let Some(lat) = lat.as_deref_mut() {
            lat.push(t0.elapsed().as_nanos() as u64);
        }
        received += 1;
    }
    Ok(())
}

/// The server's allocation count, `None` if it does not answer with a number.
async fn allocs(ws: &mut Ws) -> Result<Option<u64>, String> {
    ws.send(Message::text(ws_echo::ALLOCS_QUERY)).await.map_err(err)?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return Ok(t.as_str().trim().parse().ok()),
            Some(Ok(Message::Binary(_))) => return Ok(None),
            Some(Ok(Message::Close(_))) | None => return Err("control connection closed".into()),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(err(e)),
        }
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1000.0
}

async fn run(o: Opts) -> Result<String, String> {
    let payload = vec![b'a'; o.size];
    let msg = if o.binary {
        Message::binary(payload)
    } else {
        Message::text(String::from_utf8(payload).map_err(err)?)
    };
    let warmup = o.warmup.unwrap_or(o.messages.min(1000));
    let mut control = connect(&o.url).await?;
    let barrier = Arc::new(Barrier::new(o.connections + 1));
    let mut tasks = Vec::with_capacity(o.connections);
    for _ in 0..o.connections {
        let mut ws = connect(&o.url).await?;
        let (msg, barrier, opts) = (msg.clone(), barrier.clone(), o.clone());
        tasks.push(tokio::spawn(async move {
            let warm = exchange(&mut ws, &msg, warmup, opts.window, None).await;
            barrier.wait().await; // warm-up done
            barrier.wait().await; // "before" taken
            warm?;
            let mut lat = Vec::with_capacity(opts.messages);
            exchange(&mut ws, &msg, opts.messages, opts.window, Some(&mut lat)).await?;
            let _ = ws.close(None).await;
            Ok::<Vec<u64>, String>(lat)
        }));
    }
    barrier.wait().await;
    let q0 = allocs(&mut control).await?;
    let before = allocs(&mut control).await?;
    barrier.wait().await;
    let start = Instant::now();
    let mut lat = Vec::with_capacity(o.connections * o.messages);
    for t in tasks {
        lat.extend(t.await.map_err(err)??);
    }
    let secs = start.elapsed().as_secs_f64();
    let after = allocs(&mut control).await?;
    let _ = control.close(None).await;
    lat.sort_unstable();
    let total = o.connections * o.messages;
    let per_msg = match (q0, before, after) {
        (Some(q0), Some(before), Some(after)) => {
            let query = before.saturating_sub(q0);
            let delta = after.saturating_sub(before).saturating_sub(query);
            format!("{:.4}", delta as f64 / total as f64)
        }
        _ => "null".into(),
    };
    let query = match (q0, before) {
        (Some(a), Some(b)) => b.saturating_sub(a).to_string(),
        _ => "null".into(),
    };
    Ok(format!(
        "{{\"url\":\"{}\",\"connections\":{},\"messages\":{},\"size\":{},\"binary\":{},\"window\":{},\
         \"warmup\":{warmup},\"total\":{total},\"secs\":{secs:.4},\"msgs_per_sec\":{:.1},\
         \"p50_us\":{:.1},\"p99_us\":{:.1},\"allocs_per_msg\":{per_msg},\"query_allocs\":{query}}}",
        o.url,
        o.connections,
        o.messages,
        o.size,
        o.binary,
        o.window,
        total as f64 / secs,
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
    ))
}

fn main() {
    let opts = parse().unwrap_or_else(|e| {
        eprintln!(
            "error: {e}\nusage: ws-echo-client --url ws://127.0.0.1:PORT/ws [--connections C] \
             [--messages M] [--size BYTES] [--binary] [--window W] [--warmup N] [--threads T]"
        );
        std::process::exit(2)
    });
    let rt = ws_echo::runtime(opts.threads).expect("tokio runtime");
    match rt.block_on(run(opts)) {
        Ok(line) => println!("{line}"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1)
        }
    }
}
