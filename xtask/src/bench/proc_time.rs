//! CPU time of a running process, from `/proc/<pid>/stat`.

use std::process::Command;

/// User and kernel CPU time a process has used so far, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuTime {
    /// In user space (`utime`).
    pub user: f64,
    /// In the kernel on its behalf (`stime`).
    pub system: f64,
}

impl CpuTime {
    /// The time used between `earlier` and `self`.
    pub fn since(self, earlier: CpuTime) -> CpuTime {
        CpuTime { user: self.user - earlier.user, system: self.system - earlier.system }
    }
}

/// The CPU time process `pid` has used; `None` if it cannot be read.
pub fn cpu_time(pid: u32) -> Option<CpuTime> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&stat, clock_ticks_per_second())
}

/// The kernel's clock ticks per second, in which `/proc` counts CPU time
/// (`getconf CLK_TCK`; 100, the value on every Linux port, if that fails).
fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok()?.trim().parse().ok())
        .unwrap_or(100.0)
}

/// `utime` and `stime`, fields 14 and 15 of `stat`. The command name, field
/// 2, is in parentheses and may itself hold spaces and parentheses, so the
/// fields are counted from the last `)`.
fn parse_stat(stat: &str, ticks_per_second: f64) -> Option<CpuTime> {
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace().skip(11);
    let mut next_seconds = || Some(fields.next()?.parse::<f64>().ok()? / ticks_per_second);
    Some(CpuTime { user: next_seconds()?, system: next_seconds()? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_user_and_system_time_after_the_command_name() {
        let stat =
            "4242 (raw (hyper) x) S 1 4242 4242 0 -1 4194560 900 0 0 0 1234 567 0 0 20 0 2 0";
        assert_eq!(parse_stat(stat, 100.0), Some(CpuTime { user: 12.34, system: 5.67 }));
    }

    #[test]
    fn a_truncated_stat_is_none() {
        assert_eq!(parse_stat("4242 (raw) S 1 4242", 100.0), None);
    }

    #[test]
    fn the_time_since_is_the_difference() {
        let earlier = CpuTime { user: 1.0, system: 0.5 };
        let later = CpuTime { user: 2.5, system: 1.0 };
        assert_eq!(later.since(earlier), CpuTime { user: 1.5, system: 0.5 });
    }

    #[test]
    fn this_process_has_a_cpu_time() {
        let time = cpu_time(std::process::id()).expect("/proc/<pid>/stat of this test");
        assert!(time.user >= 0.0 && time.system >= 0.0, "{time:?}");
    }
}
