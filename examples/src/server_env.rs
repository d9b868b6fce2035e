//! Server settings from the environment, for the `hello` and `todo`
//! binaries: `cargo xtask attack` starts them with short timeouts so that a
//! case which waits for one stays under a minute, and `cargo xtask restart`
//! with `SO_REUSEPORT` for the binary swap.
//!
//! | variable | builder method |
//! |---|---|
//! | `MAMBO_KEEP_ALIVE_SECS` | [`keep_alive_timeout`](mambo::Server::keep_alive_timeout) |
//! | `MAMBO_HEADER_READ_TIMEOUT_SECS` | [`header_read_timeout`](mambo::Server::header_read_timeout) |
//! | `MAMBO_REQUEST_TIMEOUT_SECS` | [`request_timeout`](mambo::Server::request_timeout) |
//! | `MAMBO_BODY_READ_TIMEOUT_SECS` | [`body_read_timeout`](mambo::Server::body_read_timeout) |
//! | `MAMBO_SHUTDOWN_DELAY_SECS` | [`shutdown_delay`](mambo::Server::shutdown_delay) |
//! | `MAMBO_REUSE_PORT` | [`reuse_port`](mambo::Server::reuse_port) |
//!
//! The chat's WebSockets read three more ([`socket_config`]):
//!
//! | variable | `WebSocketConfig` method |
//! |---|---|
//! | `MAMBO_WS_PING_SECS` | [`ping_interval`](mambo::ws::WebSocketConfig::ping_interval) |
//! | `MAMBO_WS_IDLE_SECS` | [`idle_timeout`](mambo::ws::WebSocketConfig::idle_timeout) |
//! | `MAMBO_WS_WRITE_SECS` | [`write_timeout`](mambo::ws::WebSocketConfig::write_timeout) |
//!
//! Timeouts are seconds, fractions allowed (`2.5`); `MAMBO_REUSE_PORT` is
//! `1` (on) or `0` (off). An unset variable leaves the server's default.

use std::time::Duration;

/// The server the example binaries start: on the socket systemd handed
/// down (`LISTEN_FDS`, see `socket_activation`) if there is one, else bound
/// to `addr`; with the variables that are set applied, and `SO_REUSEPORT`
/// when `reuse_port`. A bad variable or inherited socket ends the process
/// with status 2 and a message saying which.
pub fn server(addr: &str, reuse_port: bool) -> mambo::Server {
    let server = crate::socket_activation::inherited()
        .map(|inherited| match inherited {
            Some(listener) => mambo::Server::from_listener(listener),
            None => mambo::Server::bind(addr),
        })
        .and_then(apply)
        .unwrap_or_else(|message| {
            eprintln!("{message}");
            std::process::exit(2);
        });
    if reuse_port { server.reuse_port(true) } else { server }
}

/// Applies the variables that are set to `server`.
///
/// # Errors
///
/// A variable is set to something other than a non-negative number of
/// seconds; the message names it.
pub fn apply(mut server: mambo::Server) -> Result<mambo::Server, String> {
    if let Some(t) = read("MAMBO_KEEP_ALIVE_SECS")? {
        server = server.keep_alive_timeout(t);
    }
    if let Some(t) = read("MAMBO_HEADER_READ_TIMEOUT_SECS")? {
        server = server.header_read_timeout(t);
    }
    if let Some(t) = read("MAMBO_REQUEST_TIMEOUT_SECS")? {
        server = server.request_timeout(t);
    }
    if let Some(t) = read("MAMBO_BODY_READ_TIMEOUT_SECS")? {
        server = server.body_read_timeout(t);
    }
    if let Some(t) = read("MAMBO_SHUTDOWN_DELAY_SECS")? {
        server = server.shutdown_delay(t);
    }
    if let Some(on) = read_switch("MAMBO_REUSE_PORT")? {
        server = server.reuse_port(on);
    }
    Ok(server)
}

/// `config` with the `MAMBO_WS_*` variables that are set applied.
///
/// # Errors
///
/// A variable is set to something other than a non-negative number of
/// seconds; the message names it.
pub fn socket_config(
    mut config: mambo::ws::WebSocketConfig,
) -> Result<mambo::ws::WebSocketConfig, String> {
    if let Some(t) = read("MAMBO_WS_PING_SECS")? {
        config = config.ping_interval(Some(t));
    }
    if let Some(t) = read("MAMBO_WS_IDLE_SECS")? {
        config = config.idle_timeout(Some(t));
    }
    if let Some(t) = read("MAMBO_WS_WRITE_SECS")? {
        config = config.write_timeout(Some(t));
    }
    Ok(config)
}

fn read_switch(name: &str) -> Result<Option<bool>, String> {
    match std::env::var(name) {
        Ok(value) => parse_switch(&value).map(Some).map_err(|e| format!("{name}: {e}")),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(e) => Err(format!("{name}: {e}")),
    }
}

/// `"1"` → on, `"0"` → off.
fn parse_switch(value: &str) -> Result<bool, String> {
    match value.trim() {
        "1" => Ok(true),
        "0" => Ok(false),
        _ => Err(format!("`{value}` is neither 1 nor 0")),
    }
}

fn read(name: &str) -> Result<Option<Duration>, String> {
    match std::env::var(name) {
        Ok(value) => parse_secs(&value).map(Some).map_err(|e| format!("{name}: {e}")),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(e) => Err(format!("{name}: {e}")),
    }
}

/// `"2.5"` → 2.5 s.
fn parse_secs(value: &str) -> Result<Duration, String> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .ok_or_else(|| format!("`{value}` is not a number of seconds"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds() {
        assert_eq!(parse_secs("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_secs(" 2.5 "), Ok(Duration::from_millis(2500)));
        assert!(parse_secs("-1").is_err());
        assert!(parse_secs("soon").is_err());
    }

    #[test]
    fn switches() {
        assert_eq!(parse_switch("1"), Ok(true));
        assert_eq!(parse_switch(" 0\n"), Ok(false));
        assert!(parse_switch("yes").is_err());
    }
}
