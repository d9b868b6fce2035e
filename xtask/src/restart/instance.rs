//! One Mambo instance: a release example binary on a 127.0.0.1 port.

use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::child::{self, Guarded};
use super::sockets::{self, State};
use crate::attack::target::App;
use crate::bench::probe;

/// The most a readiness wait may take.
const READY_WITHIN: Duration = Duration::from_secs(10);

/// What a server gets to drain and exit after SIGTERM: Mambo's default
/// shutdown timeout (30 s) and a margin.
pub const EXIT_WITHIN: Duration = Duration::from_secs(35);

/// A running instance.
pub struct Instance {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// The process.
    pub process: Guarded,
}

/// Where an instance gets its listening socket.
#[derive(Debug, Clone, Copy)]
pub enum Socket<'a> {
    /// It binds the port itself, with `SO_REUSEPORT` or not.
    Bind {
        /// `MAMBO_REUSE_PORT`.
        reuse_port: bool,
    },
    /// It is handed this one, as systemd's socket activation does
    /// (`mambo_examples::socket_activation`).
    Inherit(&'a TcpListener),
}

impl Instance {
    /// Starts `program` (the `app` binary) on `port`, binding it itself
    /// (with `SO_REUSEPORT` when `reuse_port`); does not wait for it.
    pub fn spawn(program: &Path, app: App, port: u16, reuse_port: bool) -> Result<Self, String> {
        Instance::spawn_on(program, app, port, Socket::Bind { reuse_port })
    }

    /// Starts `program` (the `app` binary) on `port` with its socket from
    /// `socket`; does not wait for it.
    pub fn spawn_on(
        program: &Path,
        app: App,
        port: u16,
        socket: Socket<'_>,
    ) -> Result<Self, String> {
        let mut cmd = match socket {
            Socket::Bind { reuse_port } => {
                let mut cmd = Command::new(program);
                cmd.env("MAMBO_REUSE_PORT", if reuse_port { "1" } else { "0" });
                cmd
            }
            Socket::Inherit(listener) => inheriting(program, listener),
        };
        cmd.args(["--port", &port.to_string()]).stdout(Stdio::null());
        if app == App::Todo {
            // The access log would cost a formatted line per request.
            cmd.env("RUST_LOG", "warn");
        }
        let process = Guarded::spawn(&format!("{} :{port}", app.name()), cmd)?;
        Ok(Instance { port, process })
    }

    /// Waits until `GET ready` answers 200 on the port, over a fresh
    /// connection each try. Only meaningful when nobody else listens there.
    pub fn wait_ready(&mut self, ready: &str) -> Result<(), String> {
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            self.check_running()?;
            if probe::request(self.port, "GET", ready).is_ok_and(|r| r.status == 200) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} did not answer GET {ready} within {READY_WITHIN:?}",
                    self.process.name()
                ));
            }
            child::pause(Duration::from_millis(20))?;
        }
    }

    /// Waits until this process listens on the port beside others there
    /// (`SO_REUSEPORT`), then until `answers` fresh connections in a row get
    /// 200 from `GET ready`. The kernel spreads connections over the
    /// listeners by a hash of the client's port, so 20 answers in a row
    /// leave a one in a million chance that none of them was this one's.
    pub fn wait_ready_beside_others(&mut self, ready: &str, answers: u32) -> Result<(), String> {
        let deadline = Instant::now() + READY_WITHIN;
        let pid = self.process.pid();
        while sockets::count(self.port, State::Listen, pid) == 0 {
            self.check_running()?;
            if Instant::now() > deadline {
                return Err(format!("{} never listened", self.process.name()));
            }
            child::pause(Duration::from_millis(5))?;
        }
        self.wait_answers(ready, answers)
    }

    /// Waits until `answers` fresh connections in a row get 200 from
    /// `GET ready` while this process runs. On a socket shared with another
    /// process either may answer: this shows the port serves, not who does,
    /// which on one shared queue is all a swap needs (a connection that
    /// nobody accepts yet waits in the queue, it is not reset).
    pub fn wait_answers(&mut self, ready: &str, answers: u32) -> Result<(), String> {
        let deadline = Instant::now() + READY_WITHIN;
        let mut in_a_row = 0;
        while in_a_row < answers {
            self.check_running()?;
            if probe::request(self.port, "GET", ready).is_ok_and(|r| r.status == 200) {
                in_a_row += 1;
            } else {
                in_a_row = 0;
            }
            if Instant::now() > deadline {
                return Err(format!("{} did not answer {answers} times in a row", self.name()));
            }
        }
        Ok(())
    }

    /// Connections it has open on its port now.
    pub fn open_connections(&self) -> usize {
        sockets::count(self.port, State::Established, self.process.pid())
    }

    /// SIGTERM, then the time until it exited (at most [`EXIT_WITHIN`]);
    /// an error if it did not exit, or not with status 0.
    pub fn stop(&mut self) -> Result<Duration, String> {
        let start = Instant::now();
        self.process.terminate()?;
        match self.process.wait_exit(EXIT_WITHIN)? {
            Some(status) if status.success() => Ok(start.elapsed()),
            Some(status) => Err(format!("{} exited with {status} after SIGTERM", self.name())),
            None => Err(format!("{} still running {EXIT_WITHIN:?} after SIGTERM", self.name())),
        }
    }

    fn name(&self) -> &str {
        self.process.name()
    }

    fn check_running(&mut self) -> Result<(), String> {
        match self.process.exited()? {
            Some(status) => Err(format!("{} exited ({status})", self.name())),
            None => Ok(()),
        }
    }
}

/// The command that starts `program` with `listener` as descriptor 3 and
/// `LISTEN_FDS=1`, `LISTEN_PID=<its pid>` (systemd's protocol). A shell sets
/// `LISTEN_PID`, since the pid is known only after the fork, and `exec`s
/// the server, which keeps it.
fn inheriting(program: &Path, listener: &TcpListener) -> Command {
    let fd = listener.as_raw_fd();
    let mut cmd = Command::new("sh");
    cmd.args(["-c", r#"export LISTEN_PID=$$; exec "$0" "$@""#]).arg(program);
    cmd.env("LISTEN_FDS", "1").env_remove("MAMBO_REUSE_PORT");
    // SAFETY: dup2(2) and fcntl(2) are async-signal-safe and touch only the
    // child's descriptor table.
    unsafe {
        cmd.pre_exec(move || {
            let passed = if fd == 3 {
                // dup2 onto itself would keep close-on-exec set.
                libc::fcntl(fd, libc::F_SETFD, 0)
            } else {
                libc::dup2(fd, 3)
            };
            if passed == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd
}
