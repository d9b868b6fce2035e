//! Runs `h2load` (h2c, prior knowledge) and parses its report.

use std::process::Command;

use crate::util;

/// One h2load run's numbers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    /// Requests per second over the measurement window.
    pub req_per_sec: f64,
    /// Mean time per request, ms (h2load reports no percentiles).
    pub mean_ms: f64,
    /// Responses with a status outside 2xx.
    pub non_2xx: u64,
    /// Requests that failed or errored.
    pub failed: u64,
}

/// The h2load command: `<clients>` connections, 10 streams each, `<secs>` s
/// after a 1 s warm-up, round-robin over `paths`.
pub fn command(port: u16, paths: &[&str], clients: u32, secs: u32) -> Command {
    let mut cmd = Command::new("h2load");
    cmd.args(["-t1", &format!("-c{clients}"), "-m10", &format!("-D{secs}"), "--warm-up-time=1"]);
    cmd.args(paths.iter().map(|p| format!("http://127.0.0.1:{port}{p}")));
    cmd
}

/// Runs h2load and parses its output.
pub fn run(port: u16, paths: &[&str], clients: u32, secs: u32) -> Result<Stats, String> {
    let out = util::output(&mut command(port, paths, clients, secs))?;
    parse(&out).ok_or_else(|| format!("could not read h2load's report:\n{out}"))
}

fn ms(s: &str) -> Option<f64> {
    let split = s.find(|c: char| c.is_ascii_alphabetic())?;
    let n: f64 = s[..split].parse().ok()?;
    Some(match &s[split..] {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        _ => return None,
    })
}

/// Parses h2load's report.
pub fn parse(out: &str) -> Option<Stats> {
    let mut stats = Stats::default();
    let mut seen = false;
    for line in out.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("finished in") {
            // "finished in 2.00s, 61234.50 req/s, 7.30MB/s"
            let rate = rest.split(',').nth(1)?.trim().strip_suffix("req/s")?.trim();
            stats.req_per_sec = rate.parse().ok()?;
            seen = true;
        } else if let Some(rest) = line.strip_prefix("requests:") {
            // "requests: 1000 total, 1000 started, 1000 done, 1000 succeeded, 0 failed, 0 errored, 0 timeout"
            for part in rest.split(',') {
                let mut it = part.split_whitespace();
                if let (Some(n), Some(what)) = (it.next(), it.next())
                    && matches!(what, "failed" | "errored" | "timeout")
                {
                    stats.failed += n.parse::<u64>().ok()?;
                }
            }
        } else if let Some(rest) = line.strip_prefix("status codes:") {
            // "status codes: 1000 2xx, 0 3xx, 0 4xx, 0 5xx"
            for part in rest.split(',') {
                let mut it = part.split_whitespace();
                if let (Some(n), Some(class)) = (it.next(), it.next())
                    && class != "2xx"
                {
                    stats.non_2xx += n.parse::<u64>().ok()?;
                }
            }
        } else if let Some(rest) = line.strip_prefix("time for request:") {
            stats.mean_ms = ms(rest.split_whitespace().nth(2)?)?;
        }
    }
    seen.then_some(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
finished in 2.00s, 61234.50 req/s, 7.30MB/s
requests: 122469 total, 122469 started, 122469 done, 122469 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 122469 2xx, 0 3xx, 3 4xx, 0 5xx
traffic: 14.60MB (15308625) total, 1.17MB (1224690) headers (space savings 90.00%), 1.52MB (1592097) data
                     min         max         mean         sd        +/- sd
time for request:       88us      9.12ms      7.95ms       411us    91.00%
";

    #[test]
    fn parses_a_report() {
        let s = parse(SAMPLE).unwrap();
        assert_eq!(s.req_per_sec, 61234.5);
        assert_eq!((s.non_2xx, s.failed), (3, 0));
        assert_eq!(s.mean_ms, 7.95);
    }
}
