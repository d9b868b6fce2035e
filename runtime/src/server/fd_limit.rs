//! Living within the open-files limit (`RLIMIT_NOFILE`, `ulimit -n`).
//!
//! Every connection holds a file descriptor, and the soft limit is often
//! 1024, well under the default connection limit. Out of descriptors,
//! `accept` fails with `EMFILE` and the waiting client would hear nothing
//! until some connection closed (tens of seconds with idle keep-alive
//! connections). Two measures keep that from happening:
//!
//! 1. **At [`listen`](super::Server::listen)** (Unix): the soft limit is
//!    raised to the hard limit, which any process may do (Go does the same
//!    at startup; systemd recommends it for programs that do not use
//!    `select()`). If `max_connections` plus a headroom for the rest of the
//!    process (`config::DESCRIPTOR_HEADROOM` and
//!    `config::DESCRIPTORS_PER_LISTENER`) still does not fit, the
//!    connection limit is lowered to what fits and a warning says so, with
//!    the numbers and how to raise the limit. The connection limit then
//!    turns clients away with its 503 before the descriptors run out.
//! 2. **In the accept loop**, when `accept` fails with `EMFILE` or
//!    `ENFILE` all the same (the application's own files, a limit lowered
//!    by hand): each loop keeps a [`Reserve`] descriptor open on
//!    `/dev/null`. It closes it, accepts the waiting connection into the
//!    descriptor that freed, writes the canned 503 if the socket takes it at
//!    once, closes the connection, and opens the reserve again. The client
//!    gets an answer (or at worst a close) right away instead of waiting in
//!    the accept queue. Without a reserve (it could not be reopened) the
//!    loop pauses briefly, so it cannot spin on the error.

use std::io;

use super::config::{DESCRIPTOR_HEADROOM, DESCRIPTORS_PER_LISTENER};

/// The open-files limit; `u64::MAX` stands for unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// The limit in force, which the process may move up to `hard`.
    pub(crate) soft: u64,
    /// The ceiling; only a privileged process may raise it.
    pub(crate) hard: u64,
}

/// What [`fit`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fit {
    /// The soft limit to set (the current one when there is nothing to raise).
    pub(crate) soft: u64,
    /// The connection limit to serve with.
    pub(crate) max_connections: usize,
    /// Why the connection limit was lowered, and how to avoid it.
    pub(crate) warning: Option<String>,
}

/// Descriptors kept for everything but connections, with `listeners`
/// listening sockets.
pub(crate) fn headroom(listeners: usize) -> usize {
    DESCRIPTOR_HEADROOM.saturating_add(DESCRIPTORS_PER_LISTENER.saturating_mul(listeners))
}

/// Fits `max_connections` with `listeners` listeners into `limits`: the
/// soft limit goes up to the hard one, and the connection limit down to
/// what then fits (at least 1), with a warning when it had to go down.
pub(crate) fn fit(limits: Limits, max_connections: usize, listeners: usize) -> Fit {
    let headroom = headroom(listeners);
    let needed = to_u64(max_connections.saturating_add(headroom));
    let soft = if limits.hard == u64::MAX {
        // Setting an unlimited soft limit fails (Linux caps it at
        // `fs.nr_open`, macOS at `kern.maxfilesperproc`): ask for what is needed.
        limits.soft.max(needed)
    } else {
        limits.soft.max(limits.hard)
    };
    let fits = usize::try_from(soft.saturating_sub(to_u64(headroom))).unwrap_or(usize::MAX);
    if max_connections <= fits {
        return Fit { soft, max_connections, warning: None };
    }
    let lowered = fits.max(1);
    let warning = format!(
        "max_connections lowered from {max_connections} to {lowered}: the open-files limit \
         (RLIMIT_NOFILE) is {soft} and cannot be raised further (hard limit {hard}), and \
         {headroom} descriptors are kept for the listeners and the rest of the process. \
         To allow {max_connections} connections, raise the hard limit to at least {needed} \
         (`ulimit -Hn {needed}` in the shell that starts the server, `LimitNOFILE={needed}` \
         in a systemd unit, `--ulimit nofile={needed}` for docker), or set \
         max_connections({lowered}) to silence this warning",
        hard = limits.hard,
    );
    Fit { soft, max_connections: lowered, warning: Some(warning) }
}

fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Raises this process's soft open-files limit as far as allowed and
/// returns the connection limit that fits in it, logging a warning when that
/// is lower than `max_connections` (see the module documentation).
#[cfg(unix)]
pub(crate) fn fit_max_connections(max_connections: usize, listeners: usize) -> usize {
    use super::trace::TARGET;

    let limits = match get() {
        Ok(limits) => limits,
        Err(err) => {
            tracing::debug!(target: TARGET, %err, "cannot read the open-files limit");
            return max_connections;
        }
    };
    let mut plan = fit(limits, max_connections, listeners);
    if plan.soft != limits.soft {
        match set(Limits { soft: plan.soft, hard: limits.hard }) {
            Ok(()) => tracing::debug!(
                target: TARGET,
                from = limits.soft,
                to = plan.soft,
                "raised the open-files limit"
            ),
            Err(err) => {
                tracing::debug!(target: TARGET, %err, to = plan.soft, "cannot raise the open-files limit");
                plan = fit(
                    Limits { soft: limits.soft, hard: limits.soft },
                    max_connections,
                    listeners,
                );
            }
        }
    }
    if let Some(warning) = &plan.warning {
        tracing::warn!(target: TARGET, "{warning}");
    }
    plan.max_connections
}

/// Elsewhere there is no such limit to fit into.
#[cfg(not(unix))]
pub(crate) fn fit_max_connections(max_connections: usize, _listeners: usize) -> usize {
    max_connections
}

/// The process's open-files limit.
#[cfg(unix)]
fn get() -> io::Result<Limits> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: `limit` is a valid, writable `rlimit` for the call to fill.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(Limits { soft: from_rlim(limit.rlim_cur), hard: from_rlim(limit.rlim_max) })
}

/// Sets the process's open-files limit.
#[cfg(unix)]
fn set(limits: Limits) -> io::Result<()> {
    let limit = libc::rlimit { rlim_cur: to_rlim(limits.soft), rlim_max: to_rlim(limits.hard) };
    // SAFETY: `limit` is a valid `rlimit`, only read by the call.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A limit as [`Limits`] holds it.
#[cfg(unix)]
#[allow(clippy::useless_conversion, reason = "`rlim_t` is `u32` on some 32-bit systems")]
fn from_rlim(value: libc::rlim_t) -> u64 {
    if value == libc::RLIM_INFINITY { u64::MAX } else { u64::from(value) }
}

/// A limit as `setrlimit` takes it.
#[cfg(unix)]
#[allow(clippy::useless_conversion, reason = "`rlim_t` is `u32` on some 32-bit systems")]
fn to_rlim(value: u64) -> libc::rlim_t {
    if value == u64::MAX {
        libc::RLIM_INFINITY
    } else {
        libc::rlim_t::try_from(value).unwrap_or(libc::RLIM_INFINITY)
    }
}

/// Whether an `accept` error means the process (`EMFILE`) or the system
/// (`ENFILE`) has no descriptor left for the connection.
pub(crate) fn is_out_of_descriptors(err: &io::Error) -> bool {
    #[cfg(unix)]
    {
        matches!(err.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
    }
    #[cfg(not(unix))]
    {
        let _ = err;
        false
    }
}

/// A descriptor held open to be given up when the process runs out, so
/// that a waiting connection can still be accepted and turned away.
#[derive(Debug)]
pub(crate) struct Reserve(Option<std::fs::File>);

impl Reserve {
    /// Opens the reserve (on `/dev/null`; nothing where there is none).
    pub(crate) fn new() -> Self {
        let mut reserve = Reserve(None);
        reserve.refill();
        reserve
    }

    /// Opens the reserve again if it is not held; returns whether it is held.
    pub(crate) fn refill(&mut self) -> bool {
        #[cfg(unix)]
        if self.0.is_none() {
            self.0 = std::fs::File::open("/dev/null").ok();
        }
        self.0.is_some()
    }

    /// Closes the reserve, freeing one descriptor; returns whether it was held.
    pub(crate) fn release(&mut self) -> bool {
        self.0.take().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTENERS: usize = 1;
    const HEADROOM: usize = DESCRIPTOR_HEADROOM + DESCRIPTORS_PER_LISTENER;

    fn limits(soft: u64, hard: u64) -> Limits {
        Limits { soft, hard }
    }

    #[test]
    fn the_soft_limit_is_raised_to_the_hard_one() {
        let fit = fit(limits(1024, 524_288), 10_000, LISTENERS);
        assert_eq!(fit, Fit { soft: 524_288, max_connections: 10_000, warning: None });
    }

    #[test]
    fn a_limit_that_fits_already_is_left_alone() {
        let fit = fit(limits(65_536, 65_536), 10_000, LISTENERS);
        assert_eq!(fit, Fit { soft: 65_536, max_connections: 10_000, warning: None });
    }

    #[test]
    fn exactly_enough_is_enough() {
        let soft = (10_000 + HEADROOM) as u64;
        assert_eq!(fit(limits(soft, soft), 10_000, LISTENERS).max_connections, 10_000);
        assert_eq!(fit(limits(soft - 1, soft - 1), 10_000, LISTENERS).max_connections, 9_999);
    }

    #[test]
    fn an_unlimited_hard_limit_raises_the_soft_one_to_what_is_needed() {
        let fit = fit(limits(256, u64::MAX), 10_000, LISTENERS);
        assert_eq!(fit.soft, (10_000 + HEADROOM) as u64);
        assert_eq!(fit.max_connections, 10_000);
        assert_eq!(fit.warning, None);
    }

    #[test]
    fn a_hard_limit_too_low_lowers_max_connections_and_says_how_to_raise_it() {
        let fit = fit(limits(1024, 1024), 10_000, LISTENERS);
        assert_eq!(fit.soft, 1024);
        assert_eq!(fit.max_connections, 1024 - HEADROOM);
        let warning = fit.warning.unwrap();
        for needle in [
            "max_connections lowered from 10000 to 956",
            "open-files limit (RLIMIT_NOFILE) is 1024",
            "68 descriptors are kept",
            "raise the hard limit to at least 10068",
            "ulimit -Hn 10068",
            "LimitNOFILE=10068",
        ] {
            assert!(warning.contains(needle), "{needle:?} is not in {warning:?}");
        }
    }

    #[test]
    fn each_listener_takes_descriptors() {
        let one = fit(limits(1024, 1024), 10_000, 1).max_connections;
        let eight = fit(limits(1024, 1024), 10_000, 8).max_connections;
        assert_eq!(one - eight, 7 * DESCRIPTORS_PER_LISTENER);
    }

    #[test]
    fn a_limit_below_the_headroom_still_leaves_one_connection() {
        let fit = fit(limits(32, 32), 10_000, LISTENERS);
        assert_eq!(fit.max_connections, 1);
        assert!(fit.warning.is_some());
    }

    #[test]
    fn the_soft_limit_is_never_lowered() {
        let fit = fit(limits(u64::MAX, u64::MAX), 10, LISTENERS);
        assert_eq!(fit.soft, u64::MAX);
        assert_eq!(fit.max_connections, 10);
    }

    #[test]
    fn the_reserve_gives_up_its_descriptor_and_takes_it_back() {
        let mut reserve = Reserve::new();
        let held = reserve.refill();
        assert_eq!(held, cfg!(unix));
        assert_eq!(reserve.release(), held);
        assert!(!reserve.release());
        assert_eq!(reserve.refill(), held);
    }

    #[cfg(unix)]
    #[test]
    fn emfile_and_enfile_are_out_of_descriptors() {
        assert!(is_out_of_descriptors(&io::Error::from_raw_os_error(libc::EMFILE)));
        assert!(is_out_of_descriptors(&io::Error::from_raw_os_error(libc::ENFILE)));
        assert!(!is_out_of_descriptors(&io::Error::from_raw_os_error(libc::ECONNABORTED)));
    }
}
