//! The normal client: beside every attack, a well-behaved client asks for a
//! cheap route at a steady pace and records each answer and its latency.
//!
//! It connects from [`NORMAL`](super::wire::NORMAL) (127.0.0.2) and opens a
//! new connection per request: a connection opened before the attack would
//! not notice a server that has stopped accepting. It runs on a thread and
//! runtime of its own, so the attack's tasks cannot delay its clock.

use std::net::SocketAddr;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::sync::oneshot;
use tokio::task::JoinSet;

use super::stats::{self, Tally};
use super::wire::{self, Answer};

/// One request every 20 ms: 50 a second, a visible trickle next to the
/// attack rather than a second load generator.
const PACE: Duration = Duration::from_millis(20);

/// A request unanswered after this long counts as failed.
const TIMEOUT: Duration = Duration::from_secs(2);

/// The share of 200s a case usually requires of the normal client.
pub const REQUIRED_OK: f64 = 0.99;

/// A running normal client; [`stop`](Normal::stop) it to get its figures.
pub struct Normal {
    stop: oneshot::Sender<()>,
    thread: JoinHandle<Vec<Sample>>,
}

/// One request's fate.
#[derive(Debug, Clone, Copy)]
struct Sample {
    answer: Answer,
    latency: Duration,
}

impl Normal {
    /// Starts asking `GET path` of `addr`.
    pub fn start(addr: SocketAddr, path: &'static str) -> Normal {
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a current-thread runtime")
                .block_on(run(addr, path, stopped))
        });
        Normal { stop, thread }
    }

    /// Stops sending, waits for the answers still due, and sums them up.
    pub fn stop(self) -> Figures {
        let _ = self.stop.send(());
        Figures::from_samples(&self.thread.join().unwrap_or_default())
    }
}

async fn run(
    addr: SocketAddr,
    path: &'static str,
    mut stopped: oneshot::Receiver<()>,
) -> Vec<Sample> {
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    let mut pace = tokio::time::interval(PACE);
    let mut requests = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            _ = pace.tick() => {
                let request = request.clone();
                requests.spawn(async move { one(addr, request).await });
            }
        }
    }
    requests.join_all().await
}

async fn one(addr: SocketAddr, request: String) -> Sample {
    let start = Instant::now();
    let answer = tokio::time::timeout(TIMEOUT, async {
        let Ok(mut stream) = wire::connect_from(wire::NORMAL, addr).await else {
            return Answer::Reset;
        };
        if stream.write_all(request.as_bytes()).await.is_err() {
            return Answer::Reset;
        }
        wire::read_answer(&mut stream, TIMEOUT).await
    })
    .await
    .unwrap_or(Answer::Silent);
    Sample { answer, latency: start.elapsed() }
}

/// What the normal client saw.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// Requests sent.
    pub sent: usize,
    /// Answers by status or failure.
    pub answers: Tally,
    /// 99th percentile latency of every request (failures counted at the
    /// time they failed, timeouts at the timeout).
    pub p99: Option<Duration>,
}

impl Figures {
    fn from_samples(samples: &[Sample]) -> Figures {
        let mut answers = Tally::default();
        for s in samples {
            answers.add(s.answer.label());
        }
        let latencies: Vec<Duration> = samples.iter().map(|s| s.latency).collect();
        Figures { sent: samples.len(), answers, p99: stats::percentile(&latencies, 99.0) }
    }

    /// The share of requests answered 200.
    pub fn ok_share(&self) -> f64 {
        stats::share(self.answers.get("200"), self.sent)
    }

    /// Whether at least [`REQUIRED_OK`] of the requests got a 200.
    pub fn holds(&self) -> bool {
        self.sent > 0 && self.ok_share() >= REQUIRED_OK
    }

    /// `normal: 99.6 % 200 of 500, p99 2.10 ms (503 ×2)`.
    pub fn describe(&self) -> String {
        let p99 = self.p99.map_or("—".into(), stats::secs);
        let mut s = format!(
            "normal: {} 200 of {}, p99 {p99}",
            stats::percent(self.answers.get("200"), self.sent),
            self.sent
        );
        if self.answers.other_than(&["200"]) > 0 {
            let mut others = self.answers.clone();
            others.remove("200");
            s.push_str(&format!(" ({others})"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(answer: Answer, ms: u64) -> Sample {
        Sample { answer, latency: Duration::from_millis(ms) }
    }

    #[test]
    fn figures_from_samples() {
        let mut samples: Vec<Sample> = (1..=99).map(|ms| sample(Answer::Status(200), ms)).collect();
        samples.push(sample(Answer::Silent, 2000));
        let f = Figures::from_samples(&samples);
        assert_eq!(f.sent, 100);
        assert_eq!(f.p99, Some(Duration::from_millis(99)));
        assert!(f.holds());
        assert_eq!(f.describe(), "normal: 99.0 % 200 of 100, p99 99.0 ms (no answer ×1)");
        samples.push(sample(Answer::Status(503), 1));
        assert!(!Figures::from_samples(&samples).holds());
        assert!(!Figures::from_samples(&[]).holds());
    }
}
