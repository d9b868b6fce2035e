//! Small summaries of what the clients saw: percentiles, tallies of
//! outcomes, and the number formats the report uses.

use std::collections::BTreeMap;
use std::time::Duration;

/// The `p`-th percentile (0–100) by nearest rank; `None` when empty.
pub fn percentile(values: &[Duration], p: f64) -> Option<Duration> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort();
    // Nearest rank: the smallest value with at least p % of the values at or below it.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// How many times each outcome (`200`, `408`, `closed`, …) was seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally(BTreeMap<String, usize>);

impl Tally {
    /// Counts one `outcome`.
    pub fn add(&mut self, outcome: impl Into<String>) {
        *self.0.entry(outcome.into()).or_default() += 1;
    }

    /// How many times `outcome` was seen.
    pub fn get(&self, outcome: &str) -> usize {
        self.0.get(outcome).copied().unwrap_or(0)
    }

    /// Each outcome and its count.
    pub fn entries(&self) -> impl Iterator<Item = (&String, usize)> {
        self.0.iter().map(|(k, n)| (k, *n))
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &Tally) {
        for (k, n) in other.entries() {
            *self.0.entry(k.clone()).or_default() += n;
        }
    }

    /// Forgets `outcome`.
    pub fn remove(&mut self, outcome: &str) {
        self.0.remove(outcome);
    }

    /// How many outcomes are none of `wanted`.
    pub fn other_than(&self, wanted: &[&str]) -> usize {
        self.0.iter().filter(|(k, _)| !wanted.contains(&k.as_str())).map(|(_, n)| n).sum()
    }
}

impl std::fmt::Display for Tally {
    /// `200 ×98, closed ×2`, most frequent first; `none` when empty.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        let mut entries: Vec<_> = self.0.iter().collect();
        entries.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let parts: Vec<String> = entries.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
        f.write_str(&parts.join(", "))
    }
}

/// `1.234 s`, `12.3 ms` or `0.45 ms`.
pub fn secs(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

/// KiB as `12.3 MiB` (signed: RSS deltas go both ways).
pub fn mib(kib: i64) -> String {
    format!("{:+.1} MiB", kib as f64 / 1024.0)
}

/// `ok` of `total` as a percentage with one decimal (`99.5 %`); 0 % of nothing.
pub fn percent(ok: usize, total: usize) -> String {
    format!("{:.1} %", share(ok, total) * 100.0)
}

/// `ok / total`, 0 when `total` is 0.
pub fn share(ok: usize, total: usize) -> f64 {
    if total == 0 { 0.0 } else { ok as f64 / total as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&m| Duration::from_millis(m)).collect()
    }

    #[test]
    fn nearest_rank_percentiles() {
        let hundred: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&ms(&hundred), 99.0), Some(Duration::from_millis(99)));
        assert_eq!(percentile(&ms(&hundred), 100.0), Some(Duration::from_millis(100)));
        assert_eq!(percentile(&ms(&[5, 1, 3]), 50.0), Some(Duration::from_millis(3)));
        assert_eq!(percentile(&ms(&[7]), 99.0), Some(Duration::from_millis(7)));
        assert_eq!(percentile(&ms(&[4, 2]), 0.0), Some(Duration::from_millis(2)));
        assert_eq!(percentile(&[], 99.0), None);
    }

    #[test]
    fn tallies() {
        let mut t = Tally::default();
        assert_eq!(t.to_string(), "none");
        for o in ["200", "closed", "200", "503"] {
            t.add(o);
        }
        assert_eq!(t.to_string(), "200 ×2, 503 ×1, closed ×1");
        assert_eq!((t.get("200"), t.get("408")), (2, 0));
        assert_eq!(t.other_than(&["200", "closed"]), 1);
    }

    #[test]
    fn formats() {
        assert_eq!(secs(Duration::from_millis(1234)), "1.23 s");
        assert_eq!(secs(Duration::from_micros(12_345)), "12.3 ms");
        assert_eq!(secs(Duration::from_micros(450)), "0.45 ms");
        assert_eq!(mib(2048), "+2.0 MiB");
        assert_eq!(mib(-512), "-0.5 MiB");
        assert_eq!(percent(199, 200), "99.5 %");
        assert_eq!(percent(0, 0), "0.0 %");
    }
}
