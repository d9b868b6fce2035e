//! The traffic the checks know by heart: todos created, then a steady
//! stream of `GET /todos/:id` at a fixed rate, a known share of it for ids
//! that do not exist, and a few requests no route takes. Every request is
//! recorded with its answer, its round-trip time and when it ended.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::http::Client;
use crate::restart::child;

/// What to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// `POST /todos` first.
    pub todos: usize,
    /// Requests for paths no route takes (`route="unmatched"`).
    pub unmatched: usize,
    /// Seconds of paced `GET /todos/:id`.
    pub secs: u64,
    /// Paced requests per second.
    pub rate: u32,
    /// One paced request in this many asks for a missing id (404).
    pub miss_every: u32,
}

impl Plan {
    /// The full run: 24 s at 50 requests per second.
    pub const FULL: Plan = Plan { todos: 20, unmatched: 5, secs: 24, rate: 50, miss_every: 5 };
    /// `--quick`: 10 s.
    pub const QUICK: Plan = Plan { secs: 10, ..Plan::FULL };

    /// Paced requests in all.
    pub fn paced(&self) -> u64 {
        self.secs * u64::from(self.rate)
    }

    /// Whether paced request `i` asks for a missing id.
    pub fn is_miss(&self, i: u64) -> bool {
        i % u64::from(self.miss_every) == u64::from(self.miss_every) - 1
    }

    /// The rate window of the checks, in whole seconds: the paced phase
    /// less two seconds at each end, so that every sample Prometheus uses
    /// lies in the steady state (its first scrape in the window may come up
    /// to an interval after the window's start).
    pub fn window_secs(&self) -> u64 {
        self.secs.saturating_sub(4).max(2)
    }
}

/// What a request was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `POST /todos`.
    Create,
    /// `GET /todos/:id` of a todo that exists.
    Hit,
    /// `GET /todos/:id` of an id that does not.
    Miss,
    /// `GET` of a path no route takes.
    Unmatched,
}

/// One request and its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    /// What it was for.
    pub kind: Kind,
    /// The answer's status.
    pub status: u16,
    /// From the first byte written to the last byte read.
    pub latency: Duration,
    /// When the answer had been read, in Unix seconds.
    pub done_at: f64,
    /// Request body bytes.
    pub request_body: usize,
    /// Response body bytes.
    pub response_body: usize,
}

/// Everything that was sent.
#[derive(Debug, Clone, Default)]
pub struct Traffic {
    /// Every request, in order.
    pub sent: Vec<Sent>,
    /// When the paced phase began and ended, in Unix seconds.
    pub paced: (f64, f64),
    /// The ids of the todos created.
    pub ids: Vec<i64>,
}

/// Now in Unix seconds.
pub fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

impl Traffic {
    /// Requests of `kind` answered with a status of `class` (2 for 2xx, ...).
    pub fn count(&self, kind: Kind, class: u16) -> u64 {
        self.of(&[kind]).filter(|s| s.status / 100 == class).count() as u64
    }

    /// The requests of any of `kinds`.
    pub fn of<'a>(&'a self, kinds: &'a [Kind]) -> impl Iterator<Item = &'a Sent> + 'a {
        self.sent.iter().filter(|s| kinds.contains(&s.kind))
    }

    /// Requests of `kind` with a `class` answer that ended in (`from`, `to`].
    pub fn ended_in(&self, kind: Kind, class: u16, from: f64, to: f64) -> u64 {
        self.of(&[kind])
            .filter(|s| s.status / 100 == class && s.done_at > from && s.done_at <= to)
            .count() as u64
    }

    /// Request and response body bytes of the requests of `kinds`.
    pub fn body_bytes(&self, kinds: &[Kind]) -> (u64, u64) {
        self.of(kinds).fold((0, 0), |(req, resp), s| {
            (req + s.request_body as u64, resp + s.response_body as u64)
        })
    }

    /// The round-trip times of the requests of `kinds`, in seconds, sorted.
    pub fn latencies(&self, kinds: &[Kind]) -> Vec<f64> {
        self.latencies_in(kinds, f64::NEG_INFINITY, f64::INFINITY)
    }

    /// [`latencies`](Traffic::latencies) of the requests that ended in
    /// (`from`, `to`].
    pub fn latencies_in(&self, kinds: &[Kind], from: f64, to: f64) -> Vec<f64> {
        let mut v: Vec<f64> = self
            .of(kinds)
            .filter(|s| s.done_at > from && s.done_at <= to)
            .map(|s| s.latency.as_secs_f64())
            .collect();
        v.sort_by(f64::total_cmp);
        v
    }
}

/// The `q`-quantile of `sorted` by nearest rank (the smallest value with at
/// least `q` of the values at or below it); 0 when empty.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// Sends `plan`'s traffic to the todo service on `port`.
pub fn drive(port: u16, plan: &Plan) -> Result<Traffic, String> {
    let mut client = Client::new(port, Duration::from_secs(5));
    let mut traffic = Traffic::default();
    let json = [("Content-Type", "application/json")];
    for i in 0..plan.todos {
        // Titles of open todos are unique; the pid keeps reruns on a
        // persistent database apart too.
        let body = format!(r#"{{"title":"observe {} #{i}"}}"#, std::process::id());
        let (sent, answer) = timed(&mut client, Kind::Create, "POST", "/todos", &json, &body)?;
        if sent.status != 201 {
            return Err(format!("POST /todos answered {}: {}", sent.status, answer.text()));
        }
        let todo: serde_json::Value = serde_json::from_slice(&answer.body)
            .map_err(|e| format!("POST /todos answer is not JSON: {e}"))?;
        traffic.ids.push(todo["id"].as_i64().ok_or("POST /todos answer has no `id`")?);
        traffic.sent.push(sent);
    }
    for i in 0..plan.unmatched {
        let path = format!("/observe/unmatched/{i}");
        traffic.sent.push(timed(&mut client, Kind::Unmatched, "GET", &path, &[], "")?.0);
    }

    let start = Instant::now();
    traffic.paced.0 = unix_now();
    let period = Duration::from_secs(1) / plan.rate;
    for i in 0..plan.paced() {
        // An absolute schedule: a late request does not delay the next ones.
        let due = start + period * u32::try_from(i).map_err(|e| e.to_string())?;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        if i % u64::from(plan.rate) == 0 {
            child::check()?;
        }
        let (kind, path) = if plan.is_miss(i) {
            (Kind::Miss, format!("/todos/{}", 1_000_000_000 + i))
        } else {
            let id = traffic.ids[(i as usize) % traffic.ids.len()];
            (Kind::Hit, format!("/todos/{id}"))
        };
        traffic.sent.push(timed(&mut client, kind, "GET", &path, &[], "")?.0);
    }
    traffic.paced.1 = unix_now();
    Ok(traffic)
}

/// Sends one request and records it.
fn timed(
    client: &mut Client,
    kind: Kind,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<(Sent, super::http::Answer), String> {
    let start = Instant::now();
    let answer = client.send(method, path, headers, body.as_bytes())?;
    let latency = start.elapsed();
    let sent = Sent {
        kind,
        status: answer.status,
        latency,
        done_at: unix_now(),
        request_body: body.len(),
        response_body: answer.body.len(),
    };
    Ok((sent, answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(kind: Kind, status: u16, ms: u64, done_at: f64) -> Sent {
        Sent {
            kind,
            status,
            latency: Duration::from_millis(ms),
            done_at,
            request_body: 3,
            response_body: 10,
        }
    }

    #[test]
    fn plans() {
        let p = Plan::FULL;
        assert_eq!(p.paced(), 1200);
        let misses = (0..p.paced()).filter(|&i| p.is_miss(i)).count();
        assert_eq!(misses, 240);
        assert_eq!((p.window_secs(), Plan::QUICK.window_secs()), (20, 6));
    }

    #[test]
    fn counts_windows_bytes_and_latencies() {
        let t = Traffic {
            sent: vec![
                sent(Kind::Create, 201, 1, 1.0),
                sent(Kind::Hit, 200, 3, 2.0),
                sent(Kind::Hit, 200, 2, 3.0),
                sent(Kind::Miss, 404, 5, 3.5),
                sent(Kind::Hit, 503, 9, 4.0),
            ],
            ..Traffic::default()
        };
        assert_eq!(
            (t.count(Kind::Hit, 2), t.count(Kind::Hit, 5), t.count(Kind::Miss, 4)),
            (2, 1, 1)
        );
        assert_eq!(t.ended_in(Kind::Hit, 2, 2.0, 3.0), 1, "(from, to]");
        assert_eq!(t.body_bytes(&[Kind::Create]), (3, 10));
        assert_eq!(t.body_bytes(&[Kind::Hit, Kind::Miss]), (12, 40));
        assert_eq!(t.latencies(&[Kind::Hit]), [0.002, 0.003, 0.009]);
        assert_eq!(t.latencies_in(&[Kind::Hit, Kind::Miss], 2.0, 3.5), [0.002, 0.005]);
    }

    #[test]
    fn nearest_rank_quantiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!((quantile(&v, 0.5), quantile(&v, 0.99), quantile(&v, 1.0)), (50.0, 99.0, 100.0));
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }
}
