//! The server seen from outside: resident memory (`VmRSS` of
//! `/proc/<pid>/status`, read by `bench::rss`) sampled through an attack,
//! and its open file descriptors.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::stats;
use crate::bench::rss;

/// Often enough to catch a peak that lasts a fraction of a second.
const EVERY: Duration = Duration::from_millis(100);

/// Samples a process's RSS on a thread until stopped.
pub struct RssWatch {
    pid: u32,
    before: u64,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<u64>,
}

/// A process's RSS over an attack, KiB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rss {
    /// When the watch started.
    pub before: u64,
    /// The largest sample.
    pub peak: u64,
    /// When the watch stopped (0 if the process had gone).
    pub after: u64,
}

impl RssWatch {
    /// Starts sampling `pid`.
    pub fn start(pid: u32) -> RssWatch {
        let before = rss::current_kib(pid).unwrap_or(0);
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut peak = before;
                while !stop.load(Ordering::Relaxed) {
                    peak = peak.max(rss::current_kib(pid).unwrap_or(0));
                    std::thread::sleep(EVERY);
                }
                peak
            })
        };
        RssWatch { pid, before, stop, thread }
    }

    /// Stops sampling.
    pub fn stop(self) -> Rss {
        self.stop.store(true, Ordering::Relaxed);
        let after = rss::current_kib(self.pid).unwrap_or(0);
        let peak = self.thread.join().unwrap_or(0).max(after);
        Rss { before: self.before, peak, after }
    }
}

impl Rss {
    /// Peak minus start, KiB.
    pub fn growth(&self) -> i64 {
        self.peak as i64 - self.before as i64
    }

    /// `RSS 6.1 MiB, peak +12.3 MiB`.
    pub fn describe(&self) -> String {
        format!("RSS {:.1} MiB, peak {}", self.before as f64 / 1024.0, stats::mib(self.growth()))
    }
}

/// How many file descriptors `pid` has open.
pub fn open_fds(pid: u32) -> Option<usize> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}

/// `pid`'s current RSS, KiB.
pub fn rss_now(pid: u32) -> Option<u64> {
    rss::current_kib(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watches_our_own_process() {
        let watch = RssWatch::start(std::process::id());
        let grown = vec![1u8; 4 << 20];
        std::thread::sleep(EVERY * 2);
        let rss = watch.stop();
        drop(grown);
        assert!(rss.before > 0 && rss.peak >= rss.before);
        assert!(open_fds(std::process::id()).is_some_and(|n| n >= 3));
    }

    #[test]
    fn growth_is_signed() {
        let rss = Rss { before: 2048, peak: 3072, after: 1024 };
        assert_eq!(rss.growth(), 1024);
        assert_eq!(rss.describe(), "RSS 2.0 MiB, peak +1.0 MiB");
    }
}
