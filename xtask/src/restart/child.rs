//! Child processes that never outlive the xtask: each is stopped and reaped
//! when its guard drops (errors and panics included), asked to stop by the
//! kernel if the xtask dies without unwinding, and every wait checks for
//! Ctrl-C.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::util;

/// How long a child asked to stop on drop gets before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Set by the SIGINT / SIGTERM handler.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::Relaxed);
}

/// Turns Ctrl-C and SIGTERM of the xtask into an error at its next wait,
/// so that the guards unwind and stop every child instead of the process
/// dying with them still running.
pub fn catch_interrupts() {
    let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handler only stores to an atomic, which is
    // async-signal-safe; children get default dispositions back at exec.
    unsafe {
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
}

/// An error if Ctrl-C or SIGTERM arrived.
pub fn check() -> Result<(), String> {
    if INTERRUPTED.load(Ordering::Relaxed) { Err("interrupted".into()) } else { Ok(()) }
}

/// Sleeps `duration` in short steps, returning early with an error on
/// Ctrl-C.
pub fn pause(duration: Duration) -> Result<(), String> {
    let end = Instant::now() + duration;
    loop {
        check()?;
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

/// A running child process; stopped (SIGTERM, then SIGKILL after
/// [`STOP_GRACE`]) and reaped on drop.
pub struct Guarded {
    name: String,
    child: Child,
    exited: Option<ExitStatus>,
}

impl Guarded {
    /// Starts `cmd` (stdin closed) as `name`, echoing its command line.
    ///
    /// The child gets SIGTERM from the kernel when the xtask's main thread
    /// ends, so even a SIGKILLed xtask leaves nothing running: spawn from
    /// the main thread only (the signal follows the thread that forked).
    pub fn spawn(name: &str, mut cmd: Command) -> Result<Guarded, String> {
        eprintln!("$ {}", util::show(&cmd));
        let parent = libc::pid_t::try_from(std::process::id()).map_err(|e| e.to_string())?;
        // SAFETY: prctl(2) and getppid(2) are async-signal-safe system calls
        // and the closure touches no memory the parent could be writing.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The xtask died between fork and prctl: nobody would stop us.
                if libc::getppid() != parent {
                    return Err(std::io::Error::other("the xtask exited"));
                }
                Ok(())
            });
        }
        let child = cmd.stdin(Stdio::null()).spawn().map_err(|e| format!("{name}: {e}"))?;
        Ok(Guarded { name: name.to_owned(), child, exited: None })
    }

    /// Process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The name it was started under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its exit status if it has exited.
    pub fn exited(&mut self) -> Result<Option<ExitStatus>, String> {
        if self.exited.is_none() {
            self.exited = self.child.try_wait().map_err(|e| format!("{}: {e}", self.name))?;
        }
        Ok(self.exited)
    }

    /// Sends SIGTERM (for the servers here: a graceful shutdown).
    pub fn terminate(&mut self) -> Result<(), String> {
        if self.exited()?.is_some() {
            return Err(format!("{} already exited", self.name));
        }
        // Not reaped: checked above.
        util::sigterm(&self.child)
    }

    /// Waits up to `within` for the child to exit: its status, or `None`
    /// if it is still running. Returns early with an error on Ctrl-C.
    pub fn wait_exit(&mut self, within: Duration) -> Result<Option<ExitStatus>, String> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.exited()? {
                return Ok(Some(status));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            pause(Duration::from_millis(10))?;
        }
    }

    /// Waits up to `within` for the child to exit and returns what it wrote
    /// to its stdout (which must be piped and small: it is read only after
    /// the exit, so a child that fills the pipe would wait forever).
    pub fn stdout_after_exit(&mut self, within: Duration) -> Result<String, String> {
        let status = self
            .wait_exit(within)?
            .ok_or_else(|| format!("{} still running after {within:?}", self.name))?;
        let mut out = String::new();
        if let Some(mut stdout) = self.child.stdout.take() {
            stdout.read_to_string(&mut out).map_err(|e| format!("{}: {e}", self.name))?;
        }
        if !status.success() {
            return Err(format!("{} failed ({status}):\n{out}", self.name));
        }
        Ok(out)
    }

    /// What the child wrote to its stdout (piped), read to the end: call it
    /// once the child has exited, whatever its status, and only for a small
    /// output (a child that fills the pipe would wait for it forever).
    pub fn take_stdout(&mut self) -> Result<String, String> {
        let mut out = String::new();
        if let Some(mut stdout) = self.child.stdout.take() {
            stdout.read_to_string(&mut out).map_err(|e| format!("{}: {e}", self.name))?;
        }
        Ok(out)
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        if matches!(self.exited(), Ok(Some(_))) {
            return;
        }
        let _ = self.terminate();
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if matches!(self.exited(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        eprintln!("{} did not stop within {STOP_GRACE:?} of SIGTERM: killing it", self.name);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_child_is_stopped_and_reaped() {
        let child = Guarded::spawn("sleep", {
            let mut cmd = Command::new("sleep");
            cmd.arg("30");
            cmd
        })
        .unwrap();
        let pid = child.pid();
        let start = Instant::now();
        drop(child);
        assert!(start.elapsed() < Duration::from_secs(5));
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    }

    #[test]
    fn stdout_is_read_after_the_exit() {
        let mut cmd = Command::new("echo");
        cmd.arg("hi").stdout(Stdio::piped());
        let mut child = Guarded::spawn("echo", cmd).unwrap();
        assert_eq!(child.stdout_after_exit(Duration::from_secs(5)).unwrap(), "hi\n");
    }
}
