//! Which TCP sockets a process holds on a port: how many connections an
//! instance had open when it was told to stop, and whether a second
//! listener has joined a port.
//!
//! Asked of `ss` (iproute2), which filters by state and port in the kernel
//! over netlink. Reading `/proc/net/tcp` instead is not reliable under this
//! load: it lists every `TIME_WAIT` socket (tens of thousands after a run of
//! short connections), takes long enough to read that connections come and
//! go meanwhile, and shows some of them twice.

use std::process::{Command, Stdio};

/// A TCP state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// An open connection.
    Established,
    /// A listening socket.
    Listen,
}

/// The `ss` command listing the sockets in `state` on local port `port`,
/// with the processes that hold them.
fn command(port: u16, state: State) -> Command {
    let mut cmd = Command::new("ss");
    cmd.args(["-H", "-t", "-n", "-p", "state"]);
    cmd.arg(match state {
        State::Established => "established",
        State::Listen => "listening",
    });
    cmd.arg(format!("( sport = :{port} )"));
    cmd.stdin(Stdio::null()).stderr(Stdio::null());
    cmd
}

/// How many lines of `ss -p` output name process `pid` among their
/// holders.
fn held_by(listing: &str, pid: u32) -> usize {
    let needle = format!("pid={pid},");
    listing.lines().filter(|line| line.contains(&needle)).count()
}

/// How many IPv4 and IPv6 sockets in `state` on local port `port` process
/// `pid` holds (0 if `ss` cannot be run).
pub fn count(port: u16, state: State, pid: u32) -> usize {
    command(port, state)
        .output()
        .map_or(0, |out| held_by(&String::from_utf8_lossy(&out.stdout), pid))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTING: &str = "\
0      0      127.0.0.1:8080  127.0.0.1:54321 users:((\"hello\",pid=4242,fd=12))
0      0      127.0.0.1:8080  127.0.0.1:54322 users:((\"hello\",pid=4243,fd=12))
0      0      127.0.0.1:8080  127.0.0.1:54323 users:((\"hello\",pid=42424,fd=9))
0      0      127.0.0.1:8080  127.0.0.1:54324 users:((\"hello\",pid=4242,fd=13),(\"hello\",pid=4242,fd=14))
";

    #[test]
    fn counts_the_sockets_of_one_process() {
        assert_eq!(held_by(LISTING, 4242), 2);
        assert_eq!(held_by(LISTING, 4243), 1);
        assert_eq!(held_by(LISTING, 42), 0);
    }

    #[test]
    fn the_command_filters_in_the_kernel() {
        let shown = crate::util::show(&command(8080, State::Listen));
        assert_eq!(shown, "ss -H -t -n -p state listening '( sport = :8080 )'");
    }

    #[test]
    fn a_listener_of_this_process_is_seen() {
        if !crate::util::has("ss") {
            return;
        }
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        assert_eq!(count(port, State::Listen, std::process::id()), 1);
        assert_eq!(count(port, State::Established, std::process::id()), 0);
    }
}
