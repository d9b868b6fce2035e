//! Runs `wrk` (HTTP/1.1, keep-alive) and parses its report.

use std::path::Path;
use std::process::Command;

use crate::util;

/// One wrk run's numbers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    /// Requests per second over the run.
    pub req_per_sec: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
    /// Responses outside 2xx/3xx.
    pub non_2xx: u64,
    /// Connect/read/write/timeout errors.
    pub socket_errors: u64,
    /// Requests completed.
    pub requests: u64,
}

/// The wrk command for one run: `-t1 -c<conns> -d<secs>s --latency [-s script] URL`.
pub fn command(port: u16, path: &str, script: Option<&Path>, conns: u32, secs: u32) -> Command {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t1", &format!("-c{conns}"), &format!("-d{secs}s"), "--timeout", "5s", "--latency"]);
    if let Some(script) = script {
        cmd.arg("-s").arg(script);
    }
    cmd.arg(format!("http://127.0.0.1:{port}{path}"));
    cmd
}

/// Runs wrk and parses its output.
pub fn run(
    port: u16,
    path: &str,
    script: Option<&Path>,
    conns: u32,
    secs: u32,
) -> Result<Stats, String> {
    let out = util::output(&mut command(port, path, script, conns, secs))?;
    parse(&out).ok_or_else(|| format!("could not read wrk's report:\n{out}"))
}

/// A wrk duration (`912.00us`, `1.20ms`, `2.01s`, `1.00m`) in milliseconds.
pub fn duration_ms(s: &str) -> Option<f64> {
    let split = s.find(|c: char| c.is_ascii_alphabetic())?;
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    Some(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        "h" => n * 3_600_000.0,
        _ => return None,
    })
}

/// Parses wrk's `--latency` report.
pub fn parse(out: &str) -> Option<Stats> {
    let mut stats = Stats::default();
    let mut seen_rate = false;
    for line in out.lines().map(str::trim) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            ["50%", v] => stats.p50_ms = duration_ms(v)?,
            ["99%", v] => stats.p99_ms = duration_ms(v)?,
            ["Requests/sec:", v] => {
                stats.req_per_sec = v.parse().ok()?;
                seen_rate = true;
            }
            ["Non-2xx", "or", "3xx", "responses:", n] => stats.non_2xx = n.parse().ok()?,
            [n, "requests", "in", ..] => stats.requests = n.parse().ok()?,
            ["Socket", "errors:", rest @ ..] => {
                stats.socket_errors =
                    rest.iter().filter_map(|f| f.trim_end_matches(',').parse::<u64>().ok()).sum();
            }
            _ => {}
        }
    }
    seen_rate.then_some(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
Running 2s test @ http://127.0.0.1:18080/plaintext
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   412.53us  101.20us   3.10ms   90.12%
    Req/Sec   118.52k     3.10k  122.40k    80.00%
  Latency Distribution
     50%  398.00us
     75%  441.00us
     90%  502.00us
     99%    1.20ms
  235871 requests in 2.00s, 29.47MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 7
Requests/sec: 117935.50
Transfer/sec:     14.73MB
";

    #[test]
    fn parses_a_latency_report() {
        let s = parse(SAMPLE).unwrap();
        assert_eq!(s.req_per_sec, 117935.5);
        assert_eq!(s.p50_ms, 0.398);
        assert_eq!(s.p99_ms, 1.2);
        assert_eq!((s.non_2xx, s.socket_errors, s.requests), (7, 3, 235871));
    }

    #[test]
    fn durations() {
        assert_eq!(duration_ms("2.5s"), Some(2500.0));
        assert_eq!(duration_ms("1.00m"), Some(60_000.0));
        assert_eq!(duration_ms("x"), None);
    }
}
