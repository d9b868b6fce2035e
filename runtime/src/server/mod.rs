//! The HTTP server: serves any [`Router`] over HTTP/1.1 and HTTP/2.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! # struct App;
//! # impl mambo::Router for App {
//! #     fn routes(&self) -> &'static [mambo::RouteInfo] { &[] }
//! #     fn handle(&self, _: mambo::Request, _: mambo::ConnInfo)
//! #         -> impl Future<Output = mambo::Response> + Send + '_ {
//! #         async { mambo::IntoResponse::into_response("hi") }
//! #     }
//! # }
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     mambo::Server::bind("0.0.0.0:8080")
//!         .max_in_flight(1_000)
//!         .shutdown_timeout(Duration::from_secs(10))
//!         .serve(App)
//!         .await
//! }
//! ```
//!
//! # What it does
//!
//! - **Protocols.** HTTP/1.1 with keep-alive and pipelining, and HTTP/2 with
//!   prior knowledge (h2c) on the same port, told apart by the first bytes.
//!   With the `tls` feature, HTTPS with HTTP/2 and HTTP/1.1 offered by ALPN.
//! - **Modes.** [`multi_thread`](Server::multi_thread) (the default) runs
//!   connections as tasks on the runtime `serve` is awaited in;
//!   [`thread_per_core`](Server::thread_per_core) starts
//!   [`workers`](Server::workers) threads, each with a current-thread runtime
//!   and its own `SO_REUSEPORT` listener.
//! - **Shutdown.** On Ctrl-C or SIGTERM, or when the future given to
//!   [`with_graceful_shutdown`](Server::with_graceful_shutdown) completes:
//!   after the [`shutdown_delay`](Server::shutdown_delay) (none by
//!   default) during which a [linked](Server::health) readiness probe
//!   already answers 503,
//!   take the connections already queued and stop accepting, answer what
//!   still arrives on HTTP/1.1 connections with `connection: close` and
//!   close those quiet for 500 ms (HTTP/2 sends `GOAWAY`), let requests in
//!   flight finish for up to [`shutdown_timeout`](Server::shutdown_timeout),
//!   then return `Ok(())`. With [`reuse_port`](Server::reuse_port) a new
//!   process can take the port over meanwhile.
//! - **Limits.** Slow clients are cut off by the
//!   [header read timeout](Server::header_read_timeout), the
//!   [body read timeout](Server::body_read_timeout) and the
//!   [minimum body rate](Server::min_body_rate) (408); idle ones, pinging
//!   ones and ones that do not read their responses by the
//!   [keep-alive timeout](Server::keep_alive_timeout); past
//!   [`max_connections`](Server::max_connections),
//!   [`max_connections_per_client`](Server::max_connections_per_client) or
//!   [`max_in_flight`](Server::max_in_flight) the server answers 503 with
//!   `Retry-After` right away instead of queueing. HTTP/1.1 requests need
//!   exactly one `host` header ([`strict_host`](Server::strict_host)). On
//!   Unix, [`listen`](Server::listen) raises the open-files limit and fits
//!   `max_connections` into it; a client that arrives when the process is
//!   out of file descriptors all the same is answered 503 (or closed) at
//!   once rather than left waiting.
//! - **Panics.** A panic anywhere in the router's future is a 500 with the
//!   usual JSON error body; the connection and the server carry on.
//! - **Tracing.** With a subscriber enabled for `mambo::server` at `DEBUG`,
//!   each request gets a `request` span (method, path) and a `response`
//!   event (status, latency). Without one it costs a level check.
//!
//! # Costs
//!
//! Per connection: one task, one `Arc` of connection state, hyper's buffers.
//! Per request: no allocation of the server's own: the request future is one
//! concrete type per router, the body is handed over as
//! [`Body::Incoming`](crate::Body::Incoming), and the bookkeeping is an `Arc`
//! clone and a few relaxed atomic operations.

mod accept;
mod budget;
mod coalesce;
mod config;
mod conn;
mod count;
#[cfg(debug_assertions)]
mod erased;
mod fd_limit;
mod host;
mod idle;
mod listener;
mod per_client;
mod request;
mod run;
mod served;
mod shared;
mod shed;
mod shutdown;
mod side_wake;
#[cfg(feature = "tls")]
mod tls;
mod trace;
#[cfg(feature = "ws")]
pub(crate) mod upgrade;

use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
#[cfg(feature = "tls")]
use std::sync::Arc;
use std::time::Duration;

#[cfg(feature = "tls")]
pub use tokio_rustls::rustls;

use self::config::{Config, MIN_MAX_HEADER_SIZE, Mode};
use self::shared::Shared;
use self::shutdown::Trigger;
use crate::body::MinRate;
use crate::service::Router;

/// An HTTP server, configured with builder methods and started with
/// [`serve`](Server::serve).
///
/// Every limit has a default that suits a public-facing service; each
/// builder method gives its default.
///
/// # Examples
///
/// Bind port 0, learn the port, serve until told to stop:
///
/// ```no_run
/// # struct App;
/// # impl mambo::Router for App {
/// #     fn routes(&self) -> &'static [mambo::RouteInfo] { &[] }
/// #     fn handle(&self, _: mambo::Request, _: mambo::ConnInfo)
/// #         -> impl Future<Output = mambo::Response> + Send + '_ {
/// #         async { mambo::IntoResponse::into_response("hi") }
/// #     }
/// # }
/// # async fn run() -> std::io::Result<()> {
/// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
/// let listening = mambo::Server::bind("127.0.0.1:0")
///     .with_graceful_shutdown(async { stopped.await.ok(); })
///     .listen()?;
/// println!("listening on {}", listening.local_addr());
/// let server = tokio::spawn(listening.serve(App));
/// // ...
/// stop.send(()).ok();
/// server.await.unwrap()?;
/// # Ok(())
/// # }
/// ```
#[must_use = "a server does nothing until `serve` is awaited"]
pub struct Server {
    bind: Bind,
    config: Config,
    trigger: Option<Trigger>,
    #[cfg(feature = "tls")]
    tls: Option<tls::TlsSource>,
}

enum Bind {
    Addrs(io::Result<Vec<SocketAddr>>),
    Listener(TcpListener),
}

impl Server {
    /// A server that will listen on `addr` (`"127.0.0.1:8080"`,
    /// `"[::]:80"`, `"localhost:3000"`, a [`SocketAddr`], ...).
    ///
    /// The name is resolved now; an error surfaces from
    /// [`listen`](Server::listen) or [`serve`](Server::serve). The first
    /// address that binds is used. Port 0 picks a free port; see
    /// [`listen`](Server::listen) to learn which.
    pub fn bind(addr: impl ToSocketAddrs) -> Self {
        Server::with_bind(Bind::Addrs(listener::resolve(addr)))
    }

    /// A server on a listener bound by the caller (tests, socket activation).
    ///
    /// In thread-per-core mode the workers share this one socket instead of
    /// binding their own with `SO_REUSEPORT`.
    pub fn from_listener(listener: TcpListener) -> Self {
        Server::with_bind(Bind::Listener(listener))
    }

    fn with_bind(bind: Bind) -> Self {
        Server {
            bind,
            config: Config::default(),
            trigger: None,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// Runs connections as tasks on the runtime `serve` is awaited in,
    /// which balances them over its threads by work stealing. **The
    /// default.**
    ///
    /// The runtime's own thread count applies (`#[tokio::main]` starts one
    /// per core); [`workers`](Server::workers) is not used. Awaited in a
    /// current-thread runtime, everything runs on that one thread.
    pub fn multi_thread(mut self) -> Self {
        self.config.mode = Mode::MultiThread;
        self
    }

    /// Runs [`workers`](Server::workers) OS threads, each with its own
    /// current-thread tokio runtime and its own listener on the same address
    /// (`SO_REUSEPORT`, Linux; other systems share one listener). A
    /// connection stays on the thread that accepted it.
    ///
    /// `serve` starts the threads and returns once they have all stopped.
    /// Tasks spawned by handlers run on the worker's runtime and are dropped
    /// with it at shutdown.
    pub fn thread_per_core(mut self) -> Self {
        self.config.mode = Mode::ThreadPerCore;
        self
    }

    /// Worker threads in [thread-per-core](Server::thread_per_core) mode.
    ///
    /// Default: the number of cores available to the process. 0 counts as 1.
    pub fn workers(mut self, workers: usize) -> Self {
        self.config.workers = workers.max(1);
        self
    }

    /// How long a client may take to send a request head (slowloris
    /// protection), counted from when the server starts waiting for it. On
    /// HTTP/1.1 that includes the wait on an idle keep-alive connection, so
    /// this also bounds how long such a connection is kept; on HTTP/2 it
    /// applies until the connection's first request (then the
    /// [keep-alive timeout](Server::keep_alive_timeout) does). It is checked
    /// every half timeout, at most every second, so a connection is closed
    /// within `min(timeout / 2, 1 s)` after the timeout; one whose response
    /// is still being written is not waiting. With TLS it also bounds the
    /// handshake. `None` disables it.
    ///
    /// Default: 30 s.
    pub fn header_read_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.config.header_read_timeout = timeout.into();
        self
    }

    /// How long a connection may go without a request before it is closed
    /// (checked every half timeout, at most every second, so it closes
    /// within `min(timeout / 2, 1 s)` after the timeout). A connection is
    /// busy while a handler runs or a response is still moving to the
    /// client; what the server writes on its own (HTTP/2 PING and SETTINGS
    /// acknowledgements, GOAWAY) does not count, so a client that only pings
    /// is closed like a silent one. Closing is graceful (HTTP/2 sends
    /// GOAWAY), and the connection is dropped at the next check whatever it
    /// does meanwhile: a client that does not read its responses cannot hold
    /// it open. Applies to HTTP/2 and to connections that never send a byte;
    /// on HTTP/1.1 the [header read timeout](Server::header_read_timeout)
    /// applies too, and the shorter one wins. `None` disables it.
    ///
    /// Default: 30 s.
    pub fn keep_alive_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.config.keep_alive_timeout = timeout.into();
        self
    }

    /// The largest request head accepted, in bytes: HTTP/1.1's read buffer
    /// (a longer head is answered 431) and HTTP/2's header list limit.
    /// Values under 8 KiB count as 8 KiB (hyper's minimum).
    ///
    /// Default: 64 KiB.
    pub fn max_header_size(mut self, bytes: usize) -> Self {
        self.config.max_header_size = bytes.max(MIN_MAX_HEADER_SIZE);
        self
    }

    /// The most connections open at once, over all workers. A plain-text
    /// connection over the limit gets a `503` with `Retry-After` (code
    /// `50302`) and is closed; a TLS one is closed at once.
    ///
    /// Each connection holds a file descriptor. On Unix,
    /// [`listen`](Server::listen) raises the process's soft open-files limit
    /// (`ulimit -n`) to its hard limit; if the limit still has no room for
    /// `max` connections plus 64 descriptors for the rest of the process and
    /// 4 per listener, `max` is lowered to what fits and a warning is
    /// logged with the numbers and how to raise the limit. If the process
    /// runs out of descriptors all the same (files the application keeps
    /// open), each new client is accepted through a descriptor kept in
    /// reserve for that, sent the same 503 (TLS: closed) and closed at once,
    /// rather than left waiting in the accept queue.
    ///
    /// Default: 10 000.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.config.max_connections = max;
        self
    }

    /// The most connections one client may have open at once, so that a
    /// single address cannot take every [connection
    /// slot](Server::max_connections). A client is an IPv4 address or an
    /// IPv6 /64 prefix (what one host is usually given); IPv4 clients seen
    /// on a dual-stack listener as `::ffff:a.b.c.d` count as their IPv4
    /// address. A plain-text connection over the limit gets a `503` with
    /// `Retry-After` and the body `{"code": 50303, "message": "too many
    /// connections from this client, retry later"}` and is closed; a TLS
    /// one is closed at once.
    ///
    /// `None` turns it off. Do that behind a reverse proxy or load balancer
    /// that connects from one address, where every connection would count
    /// as the same client (the limit would cap the whole server at `max`
    /// connections): limit per client at the proxy instead. Clients behind
    /// one NAT share an address, too.
    ///
    /// Costs a short lock on one of 64 shards of a hash map at accept and
    /// at close; memory is one entry per client with a connection open.
    ///
    /// Default: 256.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # struct App;
    /// # impl mambo::Router for App {
    /// #     fn routes(&self) -> &'static [mambo::RouteInfo] { &[] }
    /// #     fn handle(&self, _: mambo::Request, _: mambo::ConnInfo)
    /// #         -> impl Future<Output = mambo::Response> + Send + '_ {
    /// #         async { mambo::IntoResponse::into_response("hi") }
    /// #     }
    /// # }
    /// # async fn run() -> std::io::Result<()> {
    /// // Behind nginx on the same host: every connection is from 127.0.0.1.
    /// mambo::Server::bind("127.0.0.1:8080")
    ///     .max_connections_per_client(None)
    ///     .serve(App)
    ///     .await
    /// # }
    /// ```
    pub fn max_connections_per_client(mut self, max: impl Into<Option<usize>>) -> Self {
        self.config.max_connections_per_client = max.into();
        self
    }

    /// The most requests being answered at once, over all connections and
    /// workers. A request over the limit is answered `503` with
    /// `Retry-After` and the JSON body `{"code": 50301, "message": ...}`
    /// without reaching the router.
    ///
    /// A request counts from its start to its response, except while its
    /// handler waits for request body bytes from the client: a stalled
    /// upload is the client's time, bounded by the [body read
    /// timeout](Server::body_read_timeout) and [rate](Server::min_body_rate)
    /// and by the connection limits, and must not take slots from handlers
    /// that are working.
    ///
    /// Default: 8 192.
    pub fn max_in_flight(mut self, max: usize) -> Self {
        self.config.max_in_flight = max;
        self
    }

    /// The request body limit for routes without `body_limit = ".."`
    /// ([`ConnInfo::default_body_limit`](crate::ConnInfo)); the body
    /// extractors answer 413 past it.
    ///
    /// Default: [`DEFAULT_BODY_LIMIT`](crate::DEFAULT_BODY_LIMIT), 2 MiB.
    pub fn body_limit(mut self, bytes: u64) -> Self {
        self.config.body_limit = bytes;
        self
    }

    /// The handler deadline for routes without `timeout = ".."`
    /// ([`ConnInfo::default_timeout`](crate::ConnInfo)); past it the request
    /// is answered `504 Gateway Timeout` (code `50400`), or `408 Request
    /// Timeout` (code `40800`) when the route is waiting for the client's
    /// request body at that moment: a stalled upload is the client's fault,
    /// not the handler's. `None` disables it.
    ///
    /// Default: 30 s.
    pub fn request_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.config.request_timeout = timeout.into();
        self
    }

    /// How long a handler reading the request body may wait for the
    /// client's next bytes. Past it the read fails with
    /// [`BodyTimedOut`](crate::body::BodyTimedOut), which the body
    /// extractors (`Bytes`, `String`, `Json`, `Form`) answer with
    /// `408 Request Timeout` and the JSON body `{"code": 40800, ...}`.
    /// `None` disables it.
    ///
    /// Only reads that have to wait are timed: a body already received
    /// costs nothing. See also [`min_body_rate`](Server::min_body_rate).
    ///
    /// Default: 10 s.
    pub fn body_read_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.config.body_read_timeout = timeout.into();
        self
    }

    /// The slowest a client may send a request body: once reading it made
    /// the handler wait the rate's grace period in all, the body must have
    /// come at least this fast over the time spent waiting for it (time the
    /// handler spends between reads does not count). Below it the read fails
    /// as with [`body_read_timeout`](Server::body_read_timeout) (`408`).
    /// `None` disables it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use mambo::body::MinRate;
    ///
    /// let server = mambo::Server::bind("127.0.0.1:0")
    ///     .min_body_rate(MinRate::bytes_per_second(1024).after(Duration::from_secs(2)));
    /// # drop(server);
    /// ```
    ///
    /// Default: 256 bytes/s after 5 s.
    pub fn min_body_rate(mut self, rate: impl Into<Option<MinRate>>) -> Self {
        self.config.min_body_rate = rate.into();
        self
    }

    /// Whether an HTTP/1.1 request must carry exactly one `host` header
    /// (RFC 9112 §3.2): one with none or several is answered
    /// `400 Bad Request` with the JSON body `{"code": 40010, ...}` without
    /// reaching the router. `false` lets such requests through, for
    /// clients that cannot be fixed. HTTP/1.0 and HTTP/2 requests are not
    /// checked (HTTP/2 carries the authority in the request line).
    ///
    /// Default: `true`.
    pub fn strict_host(mut self, strict: bool) -> Self {
        self.config.strict_host = strict;
        self
    }

    /// How long a graceful shutdown waits for requests in flight before it
    /// closes the connections left.
    ///
    /// Until then, a request that still comes on an HTTP/1.1 keep-alive
    /// connection is answered, with `connection: close`; a connection that
    /// stays quiet for 500 ms is closed. Closing it at once would reset a
    /// request its client may just have sent, and the client could not tell
    /// whether it was processed.
    ///
    /// Default: 30 s.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.config.shutdown_timeout = timeout;
        self
    }

    /// Links `health` to this server: its [readiness](crate::observe::health::Health::ready)
    /// answers 503 from the moment a graceful shutdown is triggered, before
    /// the listeners close (see [`shutdown_delay`](Server::shutdown_delay)),
    /// and for good. Its liveness is not affected.
    ///
    /// One `Health` may be linked to several servers (a public and an
    /// admin port): the first to shut down makes it unready.
    ///
    /// Default: none.
    pub fn health(mut self, health: &crate::observe::health::Health) -> Self {
        self.config.health = Some(health.clone());
        self
    }

    /// How long the server keeps accepting and serving as usual once a
    /// graceful shutdown is triggered, before it closes its listeners and
    /// drains: time for load balancers to see the [linked](Server::health)
    /// readiness answer 503 and stop sending new requests, so that none is
    /// refused. The [`shutdown_timeout`](Server::shutdown_timeout) starts
    /// after it; an orchestrator's grace period must cover both (see
    /// [`observe::health`](crate::observe::health#shutting-down-behind-a-load-balancer)
    /// for the Kubernetes settings).
    ///
    /// Default: zero (draining starts at once).
    pub fn shutdown_delay(mut self, delay: Duration) -> Self {
        self.config.shutdown_delay = delay;
        self
    }

    /// The `Retry-After` of the 503 answers, rounded up to whole seconds.
    ///
    /// Default: 1 s.
    pub fn retry_after(mut self, after: Duration) -> Self {
        let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
        self.config.retry_after = u32::try_from(secs).unwrap_or(u32::MAX);
        self
    }

    /// The length of each listener's queue of connections not yet accepted
    /// (capped by the OS, `net.core.somaxconn` on Linux). Not used with
    /// [`from_listener`](Server::from_listener).
    ///
    /// Default: 1024.
    pub fn backlog(mut self, backlog: u32) -> Self {
        self.config.backlog = backlog;
        self
    }

    /// Whether to bind with `SO_REUSEPORT` (Linux) in every mode, so that
    /// another process (or another `Server` in this one) can bind the same
    /// address while this one is still listening. The kernel then spreads
    /// new connections over all the listeners on the address.
    ///
    /// This is what a zero-downtime binary swap needs: the new version binds
    /// the port the old one still serves, and the old one leaves by a
    /// graceful shutdown.
    ///
    /// 1. Start the new process with `reuse_port(true)` on the same address
    ///    (the old one must have been started with it too).
    /// 2. Wait until it answers (a health route, over a fresh connection).
    /// 3. Send the old process SIGTERM: it stops accepting, finishes the
    ///    requests in flight and closes its keep-alive connections, whose
    ///    clients reconnect to the new process.
    ///
    /// One race is left to the kernel: connections that sit in the old
    /// listener's accept queue when it closes are reset, unless
    /// `net.ipv4.tcp_migrate_req = 1` (Linux 5.14+), which moves them to the
    /// new listener instead. Set it on hosts where clients open new
    /// connections all the time (no keep-alive); `cargo xtask restart`
    /// measures both cases.
    ///
    /// Only processes of the same user can share a port this way. In
    /// [thread-per-core](Server::thread_per_core) mode with more than one
    /// worker the workers' listeners use `SO_REUSEPORT` anyway. Not used with
    /// [`from_listener`](Server::from_listener) (the caller binds), and
    /// ignored on other systems, whose `SO_REUSEPORT` does not balance
    /// connections the same way.
    ///
    /// Default: `false` (a second server on a port in use fails to bind).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # struct App;
    /// # impl mambo::Router for App {
    /// #     fn routes(&self) -> &'static [mambo::RouteInfo] { &[] }
    /// #     fn handle(&self, _: mambo::Request, _: mambo::ConnInfo)
    /// #         -> impl Future<Output = mambo::Response> + Send + '_ {
    /// #         async { mambo::IntoResponse::into_response("hi") }
    /// #     }
    /// # }
    /// # async fn run() -> std::io::Result<()> {
    /// // Both the old and the new binary run this; SIGTERM makes one leave.
    /// mambo::Server::bind("0.0.0.0:8080").reuse_port(true).serve(App).await
    /// # }
    /// ```
    pub fn reuse_port(mut self, enabled: bool) -> Self {
        self.config.reuse_port = enabled;
        self
    }

    /// Whether accepted connections set `TCP_NODELAY` (no Nagle delay on
    /// small responses).
    ///
    /// Default: `true`.
    pub fn tcp_nodelay(mut self, enabled: bool) -> Self {
        self.config.nodelay = enabled;
        self
    }

    /// The most concurrent streams one HTTP/2 connection may open.
    ///
    /// Default: 200.
    pub fn http2_max_concurrent_streams(mut self, max: u32) -> Self {
        self.config.http2_max_concurrent_streams = max;
        self
    }

    /// How many response bytes one HTTP/2 connection may hold that its
    /// client has not read yet, counting each running handler as 16 KiB
    /// (its response is not known yet). A request that would go over waits,
    /// without taking an in-flight slot, until the client reads: a client
    /// that opens many streams and never opens its flow-control window
    /// cannot make the server buffer without bound (and is closed by the
    /// [keep-alive timeout](Server::keep_alive_timeout)). The first handler
    /// of a connection always runs.
    ///
    /// With the default, 16 handlers run at once on one connection whose
    /// client keeps up; raise it for clients that run many slow requests
    /// side by side on one connection.
    ///
    /// Default: 256 KiB.
    pub fn http2_response_budget(mut self, bytes: u64) -> Self {
        self.config.http2_response_budget = bytes;
        self
    }

    /// Shuts down gracefully when `signal` completes, instead of on Ctrl-C /
    /// SIGTERM (no signal handler is installed then).
    ///
    /// Default: Ctrl-C (SIGINT) or SIGTERM.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # struct App;
    /// # impl mambo::Router for App {
    /// #     fn routes(&self) -> &'static [mambo::RouteInfo] { &[] }
    /// #     fn handle(&self, _: mambo::Request, _: mambo::ConnInfo)
    /// #         -> impl Future<Output = mambo::Response> + Send + '_ {
    /// #         async { mambo::IntoResponse::into_response("hi") }
    /// #     }
    /// # }
    /// # async fn run() -> std::io::Result<()> {
    /// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    /// let server = mambo::Server::bind("127.0.0.1:8080")
    ///     .with_graceful_shutdown(async { stopped.await.ok(); })
    ///     .serve(App);
    /// # drop(stop);
    /// server.await
    /// # }
    /// ```
    pub fn with_graceful_shutdown(
        mut self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Self {
        // Boxed once per server, not per request.
        self.trigger = Some(Box::pin(signal));
        self
    }

    /// Serves HTTPS with the certificate chain and private key in two PEM
    /// files (read by [`listen`](Server::listen)), offering HTTP/2 and
    /// HTTP/1.1 by ALPN.
    ///
    /// Default: plain HTTP.
    #[cfg(feature = "tls")]
    pub fn tls(
        mut self,
        cert_pem: impl AsRef<std::path::Path>,
        key_pem: impl AsRef<std::path::Path>,
    ) -> Self {
        self.tls = Some(tls::TlsSource::Pem {
            cert: cert_pem.as_ref().into(),
            key: key_pem.as_ref().into(),
        });
        self
    }

    /// Serves HTTPS with a rustls configuration built by the caller. If it
    /// offers no ALPN protocols, HTTP/2 and HTTP/1.1 are added.
    ///
    /// Default: plain HTTP.
    #[cfg(feature = "tls")]
    pub fn tls_config(mut self, config: Arc<rustls::ServerConfig>) -> Self {
        self.tls = Some(tls::TlsSource::Config(config));
        self
    }

    /// Binds the listeners (and reads the TLS files), without serving yet,
    /// so the caller can learn the bound address.
    ///
    /// On Unix this also raises the process's soft open-files limit to its
    /// hard limit, and lowers [`max_connections`](Server::max_connections)
    /// if it does not fit even then (with a warning).
    ///
    /// # Errors
    ///
    /// The address did not resolve or bind, or the TLS files are missing or
    /// invalid.
    pub fn listen(self) -> io::Result<Listening> {
        let Server {
            bind,
            mut config,
            trigger,
            #[cfg(feature = "tls")]
            tls,
        } = self;
        let count = match config.mode {
            Mode::MultiThread => 1,
            Mode::ThreadPerCore => config.workers,
        };
        let listeners = match bind {
            Bind::Addrs(addrs) => {
                listener::bind(&addrs?, count, config.backlog, config.reuse_port)?
            }
            Bind::Listener(listener) => listener::share(listener, count)?,
        };
        let local_addr = listeners[0].local_addr()?;
        config.max_connections =
            fd_limit::fit_max_connections(config.max_connections, listeners.len());
        #[cfg(feature = "tls")]
        let tls = tls.as_ref().map(tls::TlsSource::acceptor).transpose()?;
        Ok(Listening {
            config,
            listeners,
            local_addr,
            trigger,
            #[cfg(feature = "tls")]
            tls,
        })
    }

    /// Binds and serves `router` until shutdown; see [`Listening::serve`].
    ///
    /// # Errors
    ///
    /// As [`listen`](Server::listen) and [`Listening::serve`].
    pub async fn serve<R: Router>(self, router: R) -> io::Result<()> {
        self.listen()?.serve(router).await
    }
}

impl Server {
    /// The defaults this server gives routes that set none: the body limit
    /// and the handler deadline (what [`ConnInfo`](crate::ConnInfo) carries
    /// to the router), for [`TestClient::with_server_limits`](crate::test::TestClient::with_server_limits).
    pub(crate) fn route_defaults(&self) -> (u64, Option<Duration>) {
        (self.config.body_limit, self.config.request_timeout)
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bind: &dyn std::fmt::Debug = match &self.bind {
            Bind::Addrs(addrs) => addrs,
            Bind::Listener(listener) => listener,
        };
        f.debug_struct("Server")
            .field("bind", bind)
            .field("config", &self.config)
            .field("graceful_shutdown", &self.trigger.is_some())
            .finish_non_exhaustive()
    }
}

/// A server with its listeners bound, from [`Server::listen`].
#[must_use = "a server does nothing until `serve` is awaited"]
pub struct Listening {
    config: Config,
    listeners: Vec<TcpListener>,
    local_addr: SocketAddr,
    trigger: Option<Trigger>,
    #[cfg(feature = "tls")]
    tls: Option<tokio_rustls::TlsAcceptor>,
}

impl Listening {
    /// The address the server listens on (with the port the OS picked when
    /// bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves `router` until shutdown, then returns `Ok(())` once every
    /// connection has finished or the shutdown timeout has passed.
    ///
    /// # Errors
    ///
    /// A listener cannot join the runtime, or a thread-per-core worker
    /// cannot start (thread or runtime creation failed).
    ///
    /// # Panics
    ///
    /// When not awaited inside a tokio runtime with the IO and time drivers
    /// enabled (`#[tokio::main]` enables them).
    pub async fn serve<R: Router>(self, router: R) -> io::Result<()> {
        // See `erased`: a debug build compiles the server once, here.
        #[cfg(debug_assertions)]
        return self.serve_erased(erased::Erased::new(router)).await;
        #[cfg(not(debug_assertions))]
        self.serve_router(router).await
    }

    /// [`serve`](Listening::serve) for every router of a debug build. Neither
    /// generic nor `async` (an `async fn`'s body is compiled where it is
    /// awaited), so the server it runs is compiled with this crate.
    #[cfg(debug_assertions)]
    fn serve_erased(
        self,
        router: erased::Erased,
    ) -> std::pin::Pin<Box<dyn Future<Output = io::Result<()>> + Send>> {
        Box::pin(self.serve_router(router))
    }

    async fn serve_router<R: Router>(self, router: R) -> io::Result<()> {
        let Listening {
            config,
            listeners,
            local_addr,
            trigger,
            #[cfg(feature = "tls")]
            tls,
        } = self;
        #[cfg_attr(not(feature = "tls"), allow(unused_mut))]
        let mut shared = Shared::new(router, config);
        #[cfg(feature = "tls")]
        {
            shared.tls = tls;
        }
        let trigger = trigger.unwrap_or_else(|| Box::pin(shutdown::signal()));
        let trigger = shutdown::announced(trigger, &shared.config);
        tracing::info!(target: "mambo::server", addr = %local_addr, mode = ?shared.config.mode, "serving");
        run::serve(shared.start(), listeners, trigger).await
    }
}

/// Serves one connection the caller already has (accepted by hand, or an
/// in-memory [`tokio::io::duplex`] in tests and benchmarks) with `router`,
/// through the same code [`Listening::serve`] runs for every connection it
/// accepts: the same hyper HTTP/1.1 + HTTP/2 setup, request path, in-flight
/// limit, panic isolation and idle timeout, with the [`Server`] defaults.
///
/// Returns when the client closes the connection or it goes idle. The
/// server-wide parts (connection limits, graceful shutdown, TLS) do not
/// apply, and [`ConnInfo::remote_addr`](crate::ConnInfo) is `None`.
///
/// Each call builds its own server state (one `Arc`), so a loop that accepts
/// many connections is better served by [`Server::from_listener`].
///
/// # Examples
///
/// ```no_run
/// # struct App;
/// # impl mambo::Router for App {
/// #     fn routes(&self) -> &'static [mambo::RouteInfo] { &[] }
/// #     fn handle(&self, _: mambo::Request, _: mambo::ConnInfo)
/// #         -> impl Future<Output = mambo::Response> + Send + '_ {
/// #         async { mambo::IntoResponse::into_response("hi") }
/// #     }
/// # }
/// # async fn run() {
/// let (client, server) = tokio::io::duplex(64 * 1024);
/// tokio::spawn(mambo::server::serve_connection(server, App));
/// // Write HTTP/1.1 requests to `client`, read the responses back.
/// # drop(client);
/// # }
/// ```
///
/// # Panics
///
/// When not awaited inside a tokio runtime with the time driver enabled.
pub async fn serve_connection<R, I>(io: I, router: R)
where
    R: Router,
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    // No per-client table: it would cost a few KiB per call and count nothing.
    let config = Config { max_connections_per_client: None, ..Config::default() };
    let shared = Shared::new(router, config).start();
    let info = crate::context::ConnInfo {
        remote_addr: None,
        local_addr: None,
        secure: false,
        default_body_limit: shared.config.body_limit,
        default_timeout: shared.config.request_timeout,
    };
    conn::serve(conn::ConnState::new(shared, info, None), io).await;
}

impl std::fmt::Debug for Listening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listening")
            .field("local_addr", &self.local_addr)
            .field("listeners", &self.listeners.len())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
