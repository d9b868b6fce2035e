//! Server limits and modes, with their defaults in one place.
//!
//! Every value here has a builder method on [`Server`](super::Server) whose
//! documentation repeats the default; the reasons for each default are next
//! to the constant.

use std::time::Duration;

use crate::body::MinRate;
use crate::context::DEFAULT_BODY_LIMIT;

/// How the server spreads connections over threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Tasks on the runtime `serve` is awaited in (work-stealing when that
    /// runtime is multi-threaded).
    MultiThread,
    /// One OS thread per worker, each with a current-thread runtime and its
    /// own `SO_REUSEPORT` listener.
    ThreadPerCore,
}

/// The mode a server runs in unless told otherwise.
///
/// Multi-thread runs on the application's own runtime, so everything the
/// application spawns shares one pool, uneven handlers are balanced by work
/// stealing, and it behaves the same on every OS. Thread-per-core avoids
/// cross-thread wakeups and is opt-in until benchmarks show it wins; switching
/// the default is this one line.
pub(crate) const DEFAULT_MODE: Mode = Mode::MultiThread;

/// hyper's default for its own header timeout (which Mambo replaces, see
/// `server::idle`); also bounds how long an idle HTTP/1.1 keep-alive
/// connection waits for its next request.
pub(crate) const DEFAULT_HEADER_READ_TIMEOUT: Option<Duration> = Some(Duration::from_secs(30));

/// The same as the header timeout, so HTTP/1.1 and HTTP/2 connections go
/// idle-closed after the same time.
pub(crate) const DEFAULT_KEEP_ALIVE_TIMEOUT: Option<Duration> = Some(Duration::from_secs(30));

/// Generous for real request heads (browsers send a few KiB; nginx accepts
/// 32 KiB, Node 16 KiB), small enough that 10 000 connections cannot pin
/// gigabytes of read buffers.
pub(crate) const DEFAULT_MAX_HEADER_SIZE: usize = 64 * 1024;

/// hyper refuses read buffers smaller than this (its `max_buf_size` panics).
pub(crate) const MIN_MAX_HEADER_SIZE: usize = 8 * 1024;

/// Bounds memory and file descriptors. The process's own descriptor limit
/// (`ulimit -n`) is often lower: `listen` raises it as far as allowed and
/// lowers the effective limit to what fits (see `server::fd_limit`).
pub(crate) const DEFAULT_MAX_CONNECTIONS: usize = 10_000;

/// One address may take at most 1/40 of the default connection slots, so it
/// takes 40 addresses to fill them; still room for about 40 browsers (6
/// HTTP/1.1 connections each) behind one NAT. `None` behind a reverse proxy,
/// where every connection comes from the proxy's address.
pub(crate) const DEFAULT_MAX_CONNECTIONS_PER_CLIENT: Option<usize> = Some(256);

/// Descriptors kept out of `max_connections` when it is fitted to the
/// open-files limit, for the rest of the process: stdio, the runtime's
/// epoll and wake descriptors, the application's files, database and
/// upstream sockets, log files, and the sockets of connections being shed
/// (at most `shed::MAX_REJECTING`, each for at most a second; the ones that
/// do not fit are closed through the reserve descriptor instead).
pub(crate) const DESCRIPTOR_HEADROOM: usize = 64;

/// Descriptors kept per listener on top of [`DESCRIPTOR_HEADROOM`]: the
/// listening socket, its accept loop's reserve descriptor, and in
/// thread-per-core mode its worker runtime's epoll and wake descriptors.
pub(crate) const DESCRIPTORS_PER_LISTENER: usize = 4;

/// High enough that a healthy application never meets it; low enough that a
/// stuck dependency turns into fast 503s instead of an unbounded queue.
pub(crate) const DEFAULT_MAX_IN_FLIGHT: usize = 8_192;

/// Handlers that hang hold an in-flight slot; 30 s matches the shutdown
/// deadline. Routes override it with `timeout = ".."`.
pub(crate) const DEFAULT_REQUEST_TIMEOUT: Option<Duration> = Some(crate::context::DEFAULT_TIMEOUT);

/// A body that leaves its handler waiting this long for its next bytes is
/// stalled, not slow: real uploads over a bad mobile link still move every
/// few seconds.
pub(crate) const DEFAULT_BODY_READ_TIMEOUT: Option<Duration> = Some(Duration::from_secs(10));

/// Below 256 bytes/s, once it made the handler wait 5 s in all, a body is a
/// trickle meant to hold the request open (Kestrel's default is 240 bytes/s
/// after 5 s). A 2 MiB body at this rate would take over two hours; a real
/// client on the slowest mobile link sends kilobytes per second.
pub(crate) const DEFAULT_MIN_BODY_RATE: Option<MinRate> = Some(MinRate::bytes_per_second(256));

/// 16 handlers at once per HTTP/2 connection while its client reads (at
/// 16 KiB each, see `server::budget`), and at most this much held unread
/// besides their responses: 20 connections that never read stay in the tens
/// of megabytes instead of gigabytes.
pub(crate) const DEFAULT_HTTP2_RESPONSE_BUDGET: u64 = 256 * 1024;

/// Kubernetes' default termination grace period.
pub(crate) const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// Seconds a shed client is told to wait.
pub(crate) const DEFAULT_RETRY_AFTER: u32 = 1;

/// Linux caps the accept queue at `net.core.somaxconn` (4096 on recent
/// kernels) anyway; tokio uses 1024 too.
pub(crate) const DEFAULT_BACKLOG: u32 = 1024;

/// hyper's default.
pub(crate) const DEFAULT_HTTP2_MAX_CONCURRENT_STREAMS: u32 = 200;

/// Everything the builder sets; read-only once serving starts.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) mode: Mode,
    pub(crate) workers: usize,
    pub(crate) header_read_timeout: Option<Duration>,
    pub(crate) keep_alive_timeout: Option<Duration>,
    pub(crate) max_header_size: usize,
    pub(crate) max_connections: usize,
    pub(crate) max_connections_per_client: Option<usize>,
    pub(crate) max_in_flight: usize,
    pub(crate) body_limit: u64,
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) body_read_timeout: Option<Duration>,
    pub(crate) min_body_rate: Option<MinRate>,
    pub(crate) strict_host: bool,
    pub(crate) http2_response_budget: u64,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) retry_after: u32,
    pub(crate) backlog: u32,
    pub(crate) reuse_port: bool,
    pub(crate) nodelay: bool,
    pub(crate) http2_max_concurrent_streams: u32,
    /// Told when a graceful shutdown starts, so readiness answers 503.
    pub(crate) health: Option<crate::observe::health::Health>,
    /// How long the server serves on once a graceful shutdown is triggered.
    pub(crate) shutdown_delay: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mode: DEFAULT_MODE,
            workers: default_workers(),
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            keep_alive_timeout: DEFAULT_KEEP_ALIVE_TIMEOUT,
            max_header_size: DEFAULT_MAX_HEADER_SIZE,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_client: DEFAULT_MAX_CONNECTIONS_PER_CLIENT,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            body_limit: DEFAULT_BODY_LIMIT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            min_body_rate: DEFAULT_MIN_BODY_RATE,
            strict_host: true,
            http2_response_budget: DEFAULT_HTTP2_RESPONSE_BUDGET,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            retry_after: DEFAULT_RETRY_AFTER,
            backlog: DEFAULT_BACKLOG,
            reuse_port: false,
            nodelay: true,
            http2_max_concurrent_streams: DEFAULT_HTTP2_MAX_CONCURRENT_STREAMS,
            health: None,
            shutdown_delay: Duration::ZERO,
        }
    }
}

/// The number of cores this process may run on, or 1 if unknown.
pub(crate) fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
