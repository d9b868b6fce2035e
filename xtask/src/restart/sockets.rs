//! Which TCP sockets a process holds on a port, read from `/proc`: how
//! many connections an instance had open when it was told to stop, and
//! whether a second listener has joined a port.

use std::collections::HashSet;

/// A TCP state as `/proc/net/tcp` writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// `01`: an open connection.
    Established,
    /// `0A`: a listening socket.
    Listen,
}

impl State {
    fn code(self) -> &'static str {
        match self {
            State::Established => "01",
            State::Listen => "0A",
        }
    }
}

/// The inodes of the sockets in `table` (the text of `/proc/net/tcp`)
/// whose local port is `port` and whose state is `state`.
fn inodes(table: &str, port: u16, state: State) -> Vec<u64> {
    let port = format!("{port:04X}");
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local_port = fields.get(1)?.rsplit(':').next()?;
            let inode = fields.get(9)?.parse().ok()?;
            (local_port == port && *fields.get(3)? == state.code()).then_some(inode)
        })
        .collect()
}

/// The socket inodes among the open file descriptors of process `pid`.
fn socket_inodes_of(pid: u32) -> HashSet<u64> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return HashSet::new();
    };
    dir.filter_map(|entry| {
        let target = std::fs::read_link(entry.ok()?.path()).ok()?;
        target.to_str()?.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
    })
    .collect()
}

/// How many IPv4 sockets in `state` on local port `port` there are, over
/// all processes, or held by process `pid` only.
pub fn count(port: u16, state: State, pid: Option<u32>) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    let found = inodes(&table, port, state);
    match pid {
        None => found.len(),
        Some(pid) => {
            let held = socket_inodes_of(pid);
            found.iter().filter(|inode| held.contains(inode)).count()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1002 1 0000000000000000 100 0 0 10 0
   2: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 1003 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 1004 1 0000000000000000 20 4 30 10 -1
   4: 0100007F:1F91 0100007F:D432 01 00000000:00000000 00:00000000 00000000     0        0 1005 1 0000000000000000 20 4 30 10 -1
";

    #[test]
    fn finds_listeners_and_connections_by_local_port() {
        assert_eq!(inodes(TABLE, 8080, State::Listen), [1001, 1002]);
        // The client's end (local port 54321) is not the server's.
        assert_eq!(inodes(TABLE, 8080, State::Established), [1003]);
        assert_eq!(inodes(TABLE, 8081, State::Established), [1005]);
        assert!(inodes(TABLE, 9, State::Listen).is_empty());
    }

    #[test]
    fn a_listener_of_this_process_is_seen() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        assert_eq!(count(port, State::Listen, Some(std::process::id())), 1);
        assert_eq!(count(port, State::Listen, None), 1);
    }
}
