//! A listening socket handed down by the process that started this one,
//! the way systemd's socket activation does it (`sd_listen_fds(3)`): the
//! socket is descriptor 3, `LISTEN_FDS` says how many there are, and
//! `LISTEN_PID` names the process they are meant for.
//!
//! Whoever holds the socket (systemd, or any parent that binds it and
//! starts the server with it) keeps it open across a restart, so no
//! connection waiting in its queue is ever reset: the old process stops
//! accepting and the new one takes the queue over. `cargo xtask restart`
//! measures a binary swap done this way beside the `SO_REUSEPORT` one; see
//! `examples/deploy/README.md`.
//!
//! ```text
//! systemd-socket-activate -l 127.0.0.1:8080 target/release/hello
//! ```

use std::net::TcpListener;

/// The first descriptor passed (`SD_LISTEN_FDS_START`).
#[cfg(unix)]
const FIRST_FD: std::os::fd::RawFd = 3;

/// The listening socket passed to this process, if one was: `Ok(None)`
/// when `LISTEN_FDS` is unset or `LISTEN_PID` names another process (the
/// variables were inherited from a parent that was given them).
///
/// # Errors
///
/// `LISTEN_FDS` is set for this process but is not 1, or descriptor 3 is not
/// a listening TCP socket.
pub fn inherited() -> Result<Option<TcpListener>, String> {
    let (Ok(pid), Ok(fds)) = (std::env::var("LISTEN_PID"), std::env::var("LISTEN_FDS")) else {
        return Ok(None);
    };
    if pid.trim() != std::process::id().to_string() {
        return Ok(None);
    }
    if fds.trim() != "1" {
        return Err(format!("LISTEN_FDS={fds}: this server takes exactly one socket"));
    }
    take_first_fd()
}

#[cfg(unix)]
fn take_first_fd() -> Result<Option<TcpListener>, String> {
    use std::os::fd::FromRawFd;

    // SAFETY: by the protocol checked above, descriptor 3 was opened for this
    // process to own, and nothing else in it uses that number. If it is not
    // a bound socket after all, it is left alone (not closed) below.
    let listener = unsafe { TcpListener::from_raw_fd(FIRST_FD) };
    match listener.local_addr() {
        Ok(addr) if addr.port() != 0 => Ok(Some(listener)),
        Ok(_) => {
            std::mem::forget(listener);
            Err("LISTEN_FDS: descriptor 3 is not bound to a port".into())
        }
        Err(e) => {
            std::mem::forget(listener);
            Err(format!("LISTEN_FDS: descriptor 3: {e}"))
        }
    }
}

#[cfg(not(unix))]
fn take_first_fd() -> Result<Option<TcpListener>, String> {
    Err("LISTEN_FDS: socket activation needs a Unix system".into())
}
