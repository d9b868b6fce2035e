//! The load during a restart: wrk in the background for a fixed time, and
//! its report with the socket errors told apart.

use std::process::{Command, Stdio};
use std::time::Duration;

use super::child::Guarded;
use crate::bench::wrk;

/// Connections wrk keeps open.
pub const CONNECTIONS: u32 = 32;

/// A request wrk waited this long for counts as a timeout error.
const TIMEOUT: &str = "5s";

/// What wrk saw.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// Responses received.
    pub requests: u64,
    /// Responses outside 2xx/3xx.
    pub non_2xx: u64,
    /// Connect errors (refused, reset during the handshake).
    pub connect: u64,
    /// Read errors (the connection closed or reset before a whole response).
    pub read: u64,
    /// Write errors.
    pub write: u64,
    /// Requests without an answer within [`TIMEOUT`].
    pub timeout: u64,
    /// Requests per second over the run.
    pub req_per_sec: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
    /// Slowest response, ms.
    pub max_ms: f64,
}

impl Figures {
    /// Failed requests: non-2xx answers and socket errors of every kind.
    pub fn failures(&self) -> u64 {
        self.non_2xx + self.socket_errors()
    }

    /// Socket errors of every kind.
    pub fn socket_errors(&self) -> u64 {
        self.connect + self.read + self.write + self.timeout
    }
}

/// How wrk opens connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connections {
    /// Keep-alive: each connection carries request after request.
    KeepAlive,
    /// `Connection: close` on every request: a new connection each time,
    /// so connections are always arriving at the listeners.
    CloseEach,
}

impl Connections {
    /// How the report names it.
    pub fn label(self) -> &'static str {
        match self {
            Connections::KeepAlive => "keep-alive",
            Connections::CloseEach => "`Connection: close`",
        }
    }
}

/// The wrk command line: one thread, [`CONNECTIONS`] connections, `secs`
/// seconds, latency distribution.
pub fn command(port: u16, path: &str, secs: u64, connections: Connections) -> Command {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t1",
        &format!("-c{CONNECTIONS}"),
        &format!("-d{secs}s"),
        "--timeout",
        TIMEOUT,
        "--latency",
    ]);
    if connections == Connections::CloseEach {
        cmd.args(["-H", "Connection: close"]);
    }
    cmd.arg(format!("http://127.0.0.1:{port}{path}"));
    cmd
}

/// wrk running in the background.
pub struct Load {
    wrk: Guarded,
    secs: u64,
}

impl Load {
    /// Starts `cmd` (from [`command`]) for `secs` seconds.
    pub fn start(mut cmd: Command, secs: u64) -> Result<Load, String> {
        cmd.stdout(Stdio::piped());
        Ok(Load { wrk: Guarded::spawn("wrk", cmd)?, secs })
    }

    /// Waits for wrk to finish (its duration and 15 s more at most) and
    /// reads its report.
    pub fn finish(mut self) -> Result<Figures, String> {
        let out = self.wrk.stdout_after_exit(Duration::from_secs(self.secs + 15))?;
        eprint!("{out}");
        parse(&out).ok_or_else(|| format!("could not read wrk's report:\n{out}"))
    }
}

/// Parses wrk's `--latency` report.
pub fn parse(out: &str) -> Option<Figures> {
    let stats = wrk::parse(out)?;
    let mut figures = Figures {
        requests: stats.requests,
        non_2xx: stats.non_2xx,
        req_per_sec: stats.req_per_sec,
        p50_ms: stats.p50_ms,
        p99_ms: stats.p99_ms,
        ..Figures::default()
    };
    for line in out.lines().map(str::trim) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            ["Latency", _avg, _stdev, max, ..] => figures.max_ms = wrk::duration_ms(max)?,
            ["Socket", "errors:", rest @ ..] => {
                for pair in rest.chunks(2) {
                    let [kind, n] = pair else { return None };
                    let n = n.trim_end_matches(',').parse().ok()?;
                    match *kind {
                        "connect" => figures.connect = n,
                        "read" => figures.read = n,
                        "write" => figures.write = n,
                        "timeout" => figures.timeout = n,
                        _ => return None,
                    }
                }
            }
            _ => {}
        }
    }
    Some(figures)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "\
Running 15s test @ http://127.0.0.1:41234/plaintext
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.10ms  580.21us  31.05ms   91.02%
    Req/Sec    29.41k     2.10k   33.02k    72.00%
  Latency Distribution
     50%    0.98ms
     75%    1.21ms
     90%    1.52ms
     99%    3.20ms
  438912 requests in 15.00s, 52.31MB read
  Socket errors: connect 2, read 5, write 1, timeout 0
  Non-2xx or 3xx responses: 3
Requests/sec:  29260.80
Transfer/sec:      3.49MB
";

    #[test]
    fn reads_requests_latencies_and_each_kind_of_error() {
        let f = parse(REPORT).unwrap();
        assert_eq!(f.requests, 438_912);
        assert_eq!((f.connect, f.read, f.write, f.timeout, f.non_2xx), (2, 5, 1, 0, 3));
        assert_eq!((f.socket_errors(), f.failures()), (8, 11));
        assert_eq!((f.p50_ms, f.p99_ms, f.max_ms), (0.98, 3.2, 31.05));
        assert_eq!(f.req_per_sec, 29260.8);
    }

    #[test]
    fn a_clean_run_has_no_failures() {
        let clean: String = REPORT
            .lines()
            .filter(|l| !l.contains("Socket errors") && !l.contains("Non-2xx"))
            .map(|l| format!("{l}\n"))
            .collect();
        let f = parse(&clean).unwrap();
        assert_eq!(f.failures(), 0);
        assert_eq!(f.requests, 438_912);
    }

    #[test]
    fn a_report_without_its_rate_is_not_read() {
        assert_eq!(parse("Running 15s test\n"), None);
    }

    #[test]
    fn close_each_adds_the_header() {
        let cmd = command(8080, "/ping", 15, Connections::CloseEach);
        let shown = crate::util::show(&cmd);
        assert_eq!(
            shown,
            "wrk -t1 -c32 -d15s --timeout 5s --latency -H 'Connection: close' http://127.0.0.1:8080/ping"
        );
    }
}
