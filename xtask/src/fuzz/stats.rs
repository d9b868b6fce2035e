//! libFuzzer's figures, read from its output: the status lines
//! (`#1234 pulse cov: 56 ft: 78 corp: 9/1Kb exec/s: 400 rss: 40Mb`) and,
//! with `-print_final_stats=1`, the closing `stat::` lines.

use std::path::PathBuf;

/// What one target's run did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    /// The target's name.
    pub target: String,
    /// Wall-clock time of the run, build check included.
    pub seconds: f64,
    /// Inputs executed (`stat::number_of_executed_units`, else the last `#N`).
    pub executions: u64,
    /// Mean executions per second (`stat::average_exec_per_sec`, else the
    /// last `exec/s:`).
    pub exec_per_sec: u64,
    /// Code edges covered (`cov:` of the last status line).
    pub cov: u64,
    /// Features (edges with hit counts, comparisons) seen (`ft:`).
    pub ft: u64,
    /// Inputs in the corpus at the end (`corp: N/..`).
    pub corpus: u64,
    /// Artifacts (`crash-*`, `timeout-*`, `oom-*`, `leak-*`) this run wrote.
    pub crashes: Vec<PathBuf>,
    final_executions: Option<u64>,
    final_exec_per_sec: Option<u64>,
}

impl Stats {
    /// No figures yet.
    pub fn new(target: &str) -> Self {
        Stats { target: target.to_owned(), ..Stats::default() }
    }

    /// Takes in one line of libFuzzer's output.
    pub fn read_line(&mut self, line: &str) {
        if let Some(rest) = line.strip_prefix("stat::number_of_executed_units:") {
            self.final_executions = rest.trim().parse().ok();
        } else if let Some(rest) = line.strip_prefix("stat::average_exec_per_sec:") {
            self.final_exec_per_sec = rest.trim().parse().ok();
        } else if let Some(status) = StatusLine::parse(line) {
            self.executions = status.executions;
            self.cov = status.cov;
            self.ft = status.ft;
            self.corpus = status.corpus;
            self.exec_per_sec = status.exec_per_sec.unwrap_or(self.exec_per_sec);
        }
        self.executions = self.final_executions.unwrap_or(self.executions);
        self.exec_per_sec = self.final_exec_per_sec.unwrap_or(self.exec_per_sec);
    }

    /// One line for the terminal.
    pub fn summary(&self) -> String {
        format!(
            "{} executions in {:.0} s ({} exec/s), cov {} ft {}, corpus {}, {} crash(es)",
            self.executions,
            self.seconds,
            self.exec_per_sec,
            self.cov,
            self.ft,
            self.corpus,
            self.crashes.len()
        )
    }
}

/// The figures of a `#N <event> cov: .. ft: .. corp: N/size .. exec/s: ..` line.
#[derive(Debug, PartialEq)]
struct StatusLine {
    executions: u64,
    cov: u64,
    ft: u64,
    corpus: u64,
    exec_per_sec: Option<u64>,
}

impl StatusLine {
    fn parse(line: &str) -> Option<Self> {
        let executions = line.split_whitespace().next()?.strip_prefix('#')?.parse().ok()?;
        let field = |name: &str| {
            let mut words = line.split_whitespace().skip_while(|w| *w != name);
            words.nth(1).map(str::to_owned)
        };
        let number = |value: Option<String>| value?.parse::<u64>().ok();
        Some(StatusLine {
            executions,
            cov: number(field("cov:"))?,
            ft: number(field("ft:"))?,
            corpus: number(field("corp:").map(|c| c.split('/').next().unwrap_or("").to_owned()))?,
            exec_per_sec: number(field("exec/s:")),
        })
    }
}

/// Whether a line is worth showing while the run goes on: not the line per
/// new or reduced input, nor the recommended-dictionary entries (all in
/// `fuzz/work/<target>.log`).
pub fn worth_echoing(line: &str) -> bool {
    let event = line.split_whitespace().nth(1);
    !matches!(event, Some("NEW" | "REDUCE"))
        && !line.trim_start().starts_with("NEW_FUNC")
        && !line.contains("# Uses: ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUN: &str = "\
INFO: seed corpus: files: 8 min: 2b max: 20b total: 65b rss: 40Mb
#9\tINITED cov: 829 ft: 910 corp: 8/65b exec/s: 0 rss: 40Mb
#10\tNEW    cov: 837 ft: 930 corp: 9/85b lim: 20 exec/s: 0 rss: 40Mb L: 20/20 MS: 1 CrossOver-
#262144\tpulse  cov: 1393 ft: 2472 corp: 233/6531b lim: 3251 exec/s: 9039 rss: 442Mb
#276033\tDONE   cov: 1393 ft: 2472 corp: 233/6530b lim: 3383 exec/s: 8904 rss: 442Mb
\"/repos/:owner\" # Uses: 120
Done 276033 runs in 31 second(s)
stat::number_of_executed_units: 276033
stat::average_exec_per_sec:     8904
stat::new_units_added:          38
";

    #[test]
    fn reads_a_finished_run() {
        let mut stats = Stats::new("param_decode");
        RUN.lines().for_each(|l| stats.read_line(l));
        assert_eq!(
            (stats.executions, stats.exec_per_sec, stats.cov, stats.ft, stats.corpus),
            (276_033, 8_904, 1_393, 2_472, 233)
        );
    }

    #[test]
    fn reads_a_run_cut_short_by_a_crash() {
        let mut stats = Stats::new("lookup");
        RUN.lines().take(4).for_each(|l| stats.read_line(l));
        assert_eq!((stats.executions, stats.exec_per_sec, stats.cov), (262_144, 9_039, 1_393));
    }

    #[test]
    fn echoes_progress_not_every_input() {
        let shown: Vec<&str> = RUN.lines().filter(|l| worth_echoing(l)).collect();
        assert_eq!(shown.len(), 8, "{shown:#?}");
        assert!(!worth_echoing("\tNEW_FUNC[1/2]: 0x5555 in foo"));
    }
}
