//! What every worker, connection and request of one server shares.

use std::sync::{Arc, Weak};

use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto;

use super::config::Config;
use super::per_client::PerClient;
use super::shed::{InFlight, Rejecter};
use super::shutdown::Shutdown;
use crate::context::ConnInfo;
use crate::observe::{self, server::LiveServer};

/// One server's state, behind one `Arc`: each connection clones it once.
pub(crate) struct Shared<R> {
    pub(crate) router: R,
    pub(crate) config: Config,
    /// The HTTP/1.1 + HTTP/2 connection builder, configured once.
    pub(crate) http: auto::Builder<TokioExecutor>,
    pub(crate) in_flight: InFlight,
    pub(crate) shutdown: Arc<Shutdown>,
    /// Open connections per client; `None` when that limit is off.
    pub(crate) per_client: Option<Arc<PerClient>>,
    pub(crate) rejecter: Arc<Rejecter>,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<tokio_rustls::TlsAcceptor>,
}

impl<R> Shared<R> {
    pub(crate) fn new(router: R, config: Config) -> Self {
        Shared {
            router,
            http: http_builder(&config),
            in_flight: InFlight::default(),
            shutdown: Arc::new(Shutdown::new()),
            per_client: config
                .max_connections_per_client
                // A client limit at or above the server's is never reached:
                // no need to count.
                .filter(|&max| max < config.max_connections)
                .map(|max| Arc::new(PerClient::new(max))),
            rejecter: Arc::new(Rejecter::new(config.retry_after)),
            config,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// Puts the state behind its `Arc` and counts the server among the
    /// live ones whose requests in flight the server counters add up.
    pub(crate) fn start(self) -> Arc<Self>
    where
        R: Send + Sync + 'static,
    {
        let shared = Arc::new(self);
        let weak: Weak<dyn LiveServer> = Arc::downgrade(&shared) as Weak<Self>;
        observe::server::register(weak);
        shared
    }

    /// The `ConnInfo` of a connection from `remote` accepted on `local`.
    pub(crate) fn conn_info(
        &self,
        remote: std::net::SocketAddr,
        local: Option<std::net::SocketAddr>,
        secure: bool,
    ) -> ConnInfo {
        ConnInfo {
            remote_addr: Some(remote),
            local_addr: local,
            secure,
            default_body_limit: self.config.body_limit,
            default_timeout: self.config.request_timeout,
        }
    }
}

impl<R: Send + Sync> LiveServer for Shared<R> {
    fn in_flight(&self) -> usize {
        self.in_flight.current()
    }
}

impl<R> Drop for Shared<R> {
    fn drop(&mut self) {
        observe::server::deregister(self as *const Self as *const ());
    }
}

/// Configures hyper from the server's limits.
fn http_builder(config: &Config) -> auto::Builder<TokioExecutor> {
    let mut http = auto::Builder::new(TokioExecutor::new());
    http.http1()
        .keep_alive(true)
        // Pipelined responses are written one batch at a time by the
        // connection's I/O (`coalesce`). hyper's `pipeline_flush(true)`
        // would drop its automatic 400/431 answers (hyper 1.12) and lift
        // its write-buffer cap, so it stays off.
        .pipeline_flush(false)
        // The header read timeout is `conn::serve`'s (see `idle`): hyper's
        // costs a timer reset and an extra read per request.
        .header_read_timeout(None)
        .max_buf_size(config.max_header_size);
    http.http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(config.max_header_size).unwrap_or(u32::MAX))
        .max_concurrent_streams(config.http2_max_concurrent_streams);
    // RFC 8441: WebSockets over HTTP/2, as extended `CONNECT` requests.
    #[cfg(feature = "ws")]
    http.http2().enable_connect_protocol();
    http
}
