//! Listening sockets: one per worker, sharing one address.
//!
//! On Linux every thread-per-core worker gets its own socket bound with
//! `SO_REUSEPORT`, so the kernel spreads new connections over the workers'
//! accept queues and no two workers ever wake for the same connection.
//! Elsewhere, and for a listener handed over by the caller, the workers share
//! one socket (duplicated descriptors); that works everywhere but wakes every
//! idle worker for each connection.

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
/// With `count > 1` the sockets share the address through `SO_REUSEPORT` on
/// Linux. Port 0 is resolved by the first bind, and the others bind to the
/// port the kernel chose.
pub(crate) fn bind(
    addrs: &[SocketAddr],
    count: usize,
    backlog: u32,
) -> io::Result<Vec<TcpListener>> {
    let reuse_port = count > 1 && cfg!(target_os = "linux");
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
        let listeners = bind(&addrs, 3, 16).unwrap();
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
        assert!(bind(&[addr], 1, 16).is_err());
    }

    #[test]
    fn nothing_to_resolve_is_an_error() {
        assert!(resolve(&[][..] as &[SocketAddr]).is_err());
    }
}
