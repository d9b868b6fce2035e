//! Memory of a running process, from `/proc/<pid>/status`.

/// A `kB` field of `/proc/<pid>/status` (`VmHWM` = peak RSS, `VmRSS` = current), in KiB.
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_field(&status, field)
}

/// Peak resident set size (`VmHWM`) in KiB.
pub fn peak_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmHWM")
}

/// Current resident set size (`VmRSS`) in KiB.
pub fn current_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS")
}

fn parse_field(status: &str, field: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_fields() {
        let s = "Name:\tx\nVmHWM:\t   10240 kB\nVmRSS:\t    8000 kB\n";
        assert_eq!(parse_field(s, "VmHWM"), Some(10240));
        assert_eq!(parse_field(s, "VmRSS"), Some(8000));
        assert_eq!(parse_field(s, "VmSwap"), None);
    }

    #[test]
    fn reads_our_own_process() {
        assert!(peak_kib(std::process::id()).is_some_and(|k| k > 0));
    }
}
