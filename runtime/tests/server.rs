//! The server over real sockets on 127.0.0.1: protocols, limits, shutdown,
//! panics and modes. Every test bounds its own running time.

#[path = "server/support.rs"]
mod support;

#[path = "server/hostile.rs"]
mod hostile;
#[path = "server/http.rs"]
mod http;
#[path = "server/limits.rs"]
mod limits;
#[path = "server/modes.rs"]
mod modes;
#[path = "server/reuse_port.rs"]
mod reuse_port;
#[path = "server/shutdown.rs"]
mod shutdown;
#[cfg(feature = "tls")]
#[path = "server/tls.rs"]
mod tls;
#[path = "server/tracing.rs"]
mod tracing;
