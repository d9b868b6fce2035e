//! The accept loop: takes connections off one listener, applies the
//! connection limits (the server's, then the client's), and spawns one task
//! per connection on the current runtime.
//!
//! Out of file descriptors, it turns the waiting connection away through
//! its reserve descriptor instead of leaving it in the queue (see
//! `fd_limit`).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};

use super::conn::{self, ConnState, Slots};
use super::fd_limit::{self, Reserve};
use super::shared::Shared;
use super::shed::Over;
use super::shutdown::Phase;
use super::trace::TARGET;
use crate::observe::server::{STATS, count};
use crate::service::Router;

/// How long to pause after an accept error that is not about one
/// connection and that the reserve descriptor cannot get around (out of
/// memory, or no reserve to give up): retrying at once would spin, and
/// waiting lets some connections close.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// While out of file descriptors, warn at most this often: every shed
/// connection would be a flood.
const STARVED_WARNING_EVERY: Duration = Duration::from_secs(10);

/// Accepts connections on `listeners` until the server leaves
/// [`Phase::Running`]; the caller then [sweeps](sweep) and drops them.
/// Connections already accepted keep their tasks.
///
/// All listeners are polled by this one future, taking turns so that a busy
/// one cannot starve the others.
pub(crate) async fn run<R: Router>(shared: Arc<Shared<R>>, listeners: &[TcpListener]) {
    let mut phase = shared.shutdown.subscribe();
    let mut reserve = Reserve::new();
    let mut starved_warning: Option<Instant> = None;
    let mut next = 0;
    let mut accept_any = |cx: &mut Context<'_>| {
        for offset in 0..listeners.len() {
            let index = (next + offset) % listeners.len();
            if let Poll::Ready(accepted) = listeners[index].poll_accept(cx) {
                next = index + 1;
                return Poll::Ready((index, accepted));
            }
        }
        Poll::Pending
    };
    while *phase.borrow_and_update() == Phase::Running {
        tokio::select! {
            biased;
            _ = phase.changed() => {}
            (index, accepted) = std::future::poll_fn(&mut accept_any) => match accepted {
                Ok((stream, remote)) => accept(&shared, stream, remote),
                Err(err) if is_per_connection(&err) => {
                    tracing::debug!(target: TARGET, %err, "accept failed for one connection");
                }
                Err(err) if fd_limit::is_out_of_descriptors(&err) => {
                    count(&STATS.accept_errors);
                    if starved_warning.is_none_or(|at| at.elapsed() >= STARVED_WARNING_EVERY) {
                        starved_warning = Some(Instant::now());
                        tracing::warn!(
                            target: TARGET,
                            %err,
                            open = shared.shutdown.open_connections(),
                            "out of file descriptors: turning new connections away; raise the \
                             open-files limit (`ulimit -n`) or lower max_connections"
                        );
                    }
                    if !shed_through_reserve(&shared, &listeners[index], &mut reserve).await {
                        pause(&mut phase).await;
                        reserve.refill();
                    }
                }
                Err(err) => {
                    count(&STATS.accept_errors);
                    tracing::error!(target: TARGET, %err, "accept failed, pausing");
                    pause(&mut phase).await;
                }
            },
        }
    }
}

/// Takes the connections waiting in `listeners`' accept queues, without
/// waiting for more: the last step before the listeners are dropped.
///
/// A connection still queued when its listener closes is reset. With
/// `SO_REUSEPORT` ([`Server::reuse_port`](super::Server::reuse_port)) the
/// kernel keeps queueing new connections on the old process's listener
/// until that very moment, so this leaves the reset only to those that
/// arrive between the sweep and the close, a few microseconds (Linux's
/// `net.ipv4.tcp_migrate_req` moves even those to another listener).
///
/// It asks the sockets directly: tokio's readiness may not know yet of a
/// connection that came in after the runtime last polled for events.
pub(crate) fn sweep<R: Router>(shared: &Arc<Shared<R>>, listeners: &[TcpListener]) {
    for listener in listeners {
        let socket = socket2::SockRef::from(listener);
        loop {
            let (stream, remote) = match socket.accept() {
                Ok(accepted) => accepted,
                Err(err) if is_per_connection(&err) => continue,
                Err(_) => break,
            };
            let Some(remote) = remote.as_socket() else { continue };
            let stream = std::net::TcpStream::from(stream);
            if stream.set_nonblocking(true).is_err() {
                continue;
            }
            match TcpStream::from_std(stream) {
                Ok(stream) => accept(shared, stream, remote),
                Err(err) => {
                    tracing::debug!(target: TARGET, %err, "a swept connection could not join the runtime")
                }
            }
        }
    }
}

/// Waits [`ACCEPT_ERROR_PAUSE`], or less if the server's phase changes.
async fn pause(phase: &mut tokio::sync::watch::Receiver<Phase>) {
    tokio::select! {
        _ = phase.changed() => {}
        () = tokio::time::sleep(ACCEPT_ERROR_PAUSE) => {}
    }
}

/// Errors that concern the connection being accepted, not the listener.
fn is_per_connection(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Out of file descriptors with a connection waiting on `listener`: gives
/// up the reserve descriptor, accepts the connection into it, answers it the
/// canned 503 if its socket takes it at once (a TLS one is just closed),
/// closes it, and takes the reserve back. Returns whether a connection was
/// accepted; without a reserve to give up, none is.
#[cold]
async fn shed_through_reserve<R>(
    shared: &Shared<R>,
    listener: &TcpListener,
    reserve: &mut Reserve,
) -> bool {
    if !reserve.release() {
        return false;
    }
    // One try, no waiting: the loop goes back to waiting on all listeners.
    let accepted = std::future::poll_fn(|cx| match listener.poll_accept(cx) {
        Poll::Ready(accepted) => Poll::Ready(Some(accepted)),
        Poll::Pending => Poll::Ready(None),
    })
    .await;
    let shed = match accepted {
        Some(Ok((stream, remote))) => {
            count(&STATS.shed);
            tracing::debug!(target: TARGET, %remote, "out of file descriptors, shedding a connection");
            #[cfg(feature = "tls")]
            let plain = shared.tls.is_none();
            #[cfg(not(feature = "tls"))]
            let plain = true;
            if plain {
                answer_at_once(&stream, shared.rejecter.response(Over::Connections));
            }
            true
        }
        Some(Err(err)) => {
            tracing::debug!(target: TARGET, %err, "accept failed with the reserve descriptor freed");
            false
        }
        None => false,
    };
    reserve.refill();
    shed
}

/// Writes `response` to `stream` if its send buffer takes it now, never
/// waiting: the connection holds the descriptor the accept loop needs back.
/// What the client already sent is read first, so that closing sends a FIN
/// after the 503 rather than a reset that could destroy it.
fn answer_at_once(stream: &TcpStream, response: &[u8]) {
    use std::io::{Read, Write};

    // Through the socket directly: tokio's readiness for a stream this new
    // is not known yet, so its `try_read` and `try_write` would not even try.
    let socket = socket2::SockRef::from(stream);
    let mut sink = [0u8; 1024];
    while matches!((&*socket).read(&mut sink), Ok(1..)) {}
    let _ = (&*socket).write(response);
}

fn accept<R: Router>(shared: &Arc<Shared<R>>, stream: TcpStream, remote: SocketAddr) {
    let Some(server) = shared.shutdown.try_open(shared.config.max_connections) else {
        reject(shared, stream, Over::Connections);
        return;
    };
    let client = match &shared.per_client {
        None => None,
        Some(per_client) => match per_client.try_open(remote.ip()) {
            Some(client) => Some(client),
            None => {
                reject(shared, stream, Over::ClientConnections);
                return;
            }
        },
    };
    let slots = Slots { _server: server, _client: client };
    if shared.config.nodelay {
        // Responses are written whole; Nagle would only delay them.
        let _ = stream.set_nodelay(true);
    }
    let local = stream.local_addr().ok();
    #[cfg(feature = "tls")]
    if let Some(acceptor) = &shared.tls {
        let info = shared.conn_info(remote, local, true);
        tokio::spawn(serve_tls(shared.clone(), acceptor.clone(), stream, info, slots));
        return;
    }
    let info = shared.conn_info(remote, local, false);
    tokio::spawn(conn::serve(ConnState::new(shared.clone(), info, Some(slots)), stream));
}

/// Over a connection limit: a plain connection gets a canned 503, a TLS
/// one is closed (a handshake is exactly the work shedding should avoid).
#[cold]
fn reject<R>(shared: &Arc<Shared<R>>, stream: TcpStream, limit: Over) {
    count(&STATS.shed);
    #[cfg(feature = "tls")]
    if shared.tls.is_some() {
        tracing::debug!(target: TARGET, ?limit, "connection limit reached, closing a TLS connection");
        return;
    }
    shared.rejecter.reject(stream, limit);
}

/// Runs the TLS handshake, bounded by the header read timeout (the same
/// slow-client protection), then serves the connection.
#[cfg(feature = "tls")]
async fn serve_tls<R: Router>(
    shared: Arc<Shared<R>>,
    acceptor: tokio_rustls::TlsAcceptor,
    stream: TcpStream,
    info: crate::context::ConnInfo,
    slots: Slots,
) {
    let mut phase = shared.shutdown.subscribe();
    let deadline = shared.config.header_read_timeout.unwrap_or(Duration::MAX / 4);
    let handshake = tokio::time::timeout(deadline, acceptor.accept(stream));
    let tls = tokio::select! {
        result = handshake => match result {
            Ok(Ok(tls)) => tls,
            Ok(Err(err)) => {
                tracing::debug!(target: TARGET, remote = ?info.remote_addr, %err, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(target: TARGET, remote = ?info.remote_addr, "TLS handshake timed out");
                return;
            }
        },
        _ = phase.wait_for(|phase| *phase == Phase::Closed) => return,
    };
    conn::serve(ConnState::new(shared, info, Some(slots)), tls).await;
}
