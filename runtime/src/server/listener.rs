//! Listening sockets: one per worker, sharing one address.
//!
//! On Linux every thread-per-core worker gets its own socket bound with
//! `SO_REUSEPORT`, so the kernel spreads new connections over the workers'
//! accept queues and no two workers ever wake for the same connection.
//! Elsewhere, and for a listener handed over by the caller, the workers share
//! one socket (duplicated descriptors); that works everywhere but wakes every
//! idle worker for each connection.
//!
//! With [`Server::reuse_port`](super::Server::reuse_port) even a single
//! listener is bound with `SO_REUSEPORT`, so that another process can join
//! the address (a binary swap).

use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};

use socket2::{Domain, Protocol, Socket, Type};

/// Resolves what [`Server::bind`](super::Server::bind) was given, keeping
/// the error for `listen` to report.
pub(crate) fn resolve(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
    if addrs.is_empty() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "the address resolved to nothing"));
    }
    Ok(addrs)
}

/// Binds `count` listeners to the first address of `addrs` that binds.
///
/// With `count > 1` or `reuse_port` the sockets are bound with
/// `SO_REUSEPORT` on Linux, so they share the address with each other and
/// with any other socket of the same user that sets it. Port 0 is resolved
/// by the first bind, and the others bind to the port the kernel chose.
pub(crate) fn bind(
    addrs: &[SocketAddr],
    count: usize,
    backlog: u32,
    reuse_port: bool,
) -> io::Result<Vec<TcpListener>> {
    let reuse_port = (count > 1 || reuse_port) && cfg!(target_os = "linux");
    let mut last_error = None;
    for &addr in addrs {
        match bind_one(addr, reuse_port, backlog) {
            Ok(first) => {
                if count <= 1 {
                    return Ok(vec![first]);
                }
                if !reuse_port {
                    return share(first, count);
                }
                let bound = first.local_addr()?;
                let mut listeners = Vec::with_capacity(count);
                listeners.push(first);
                for _ in 1..count {
                    listeners.push(bind_one(bound, true, backlog)?);
                }
                return Ok(listeners);
            }
            Err(err) => last_error = Some(err),
        }
    }
    Err(last_error
        .unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address to bind")))
}

/// Prepares a caller's listener and duplicates it for `count` workers.
pub(crate) fn share(listener: TcpListener, count: usize) -> io::Result<Vec<TcpListener>> {
    listener.set_nonblocking(true)?;
    let mut listeners = Vec::with_capacity(count.max(1));
    for _ in 1..count {
        listeners.push(listener.try_clone()?);
    }
    listeners.push(listener);
    Ok(listeners)
}

fn bind_one(addr: SocketAddr, reuse_port: bool, backlog: u32) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // Lets a restarted server bind while old connections sit in TIME_WAIT.
    #[cfg(not(windows))]
    socket.set_reuse_address(true)?;
    #[cfg(target_os = "linux")]
    if reuse_port {
        socket.set_reuse_port(true)?;
    }
    #[cfg(not(target_os = "linux"))]
    let _ = reuse_port;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(i32::try_from(backlog).unwrap_or(i32::MAX))?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_zero_gives_every_worker_the_same_port() {
        let addrs = resolve("127.0.0.1:0").unwrap();
        let listeners = bind(&addrs, 3, 16, false).unwrap();
        assert_eq!(listeners.len(), 3);
        let first = listeners[0].local_addr().unwrap();
        assert_ne!(first.port(), 0);
        for listener in &listeners {
            assert_eq!(listener.local_addr().unwrap(), first);
        }
    }

    #[test]
    fn an_address_in_use_is_an_error() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        assert!(bind(&[addr], 1, 16, false).is_err());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn with_reuse_port_two_groups_share_a_port_and_both_accept() {
        let first = bind(&resolve("127.0.0.1:0").unwrap(), 1, 64, true).unwrap();
        let addr = first[0].local_addr().unwrap();
        let second = bind(&[addr], 1, 64, true).unwrap();
        // Clients held open so each gets its own source port, which is what
        // the kernel hashes to pick a listener: 40 make a miss on either side
        // about a 1 in 10^12 event.
        let clients: Vec<_> =
            (0..40).map(|_| std::net::TcpStream::connect(addr).unwrap()).collect();
        let accepted =
            |listeners: &[TcpListener]| std::iter::from_fn(|| listeners[0].accept().ok()).count();
        let (a, b) = (accepted(&first), accepted(&second));
        assert_eq!(a + b, clients.len());
        assert!(a > 0 && b > 0, "first accepted {a}, second {b}");
    }

    #[test]
    fn without_reuse_port_a_second_single_listener_cannot_join() {
        let first = bind(&resolve("127.0.0.1:0").unwrap(), 1, 16, false).unwrap();
        let addr = first[0].local_addr().unwrap();
        assert!(bind(&[addr], 1, 16, true).is_err());
    }

    #[test]
    fn nothing_to_resolve_is_an_error() {
        assert!(resolve(&[][..] as &[SocketAddr]).is_err());
    }
}
