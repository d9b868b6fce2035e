//! Server timeouts from the environment, for the `hello` and `todo`
//! binaries: `cargo xtask attack` starts them with short timeouts so that a
//! case which waits for one stays under a minute.
//!
//! | variable | builder method |
//! |---|---|
//! | `MAMBO_KEEP_ALIVE_SECS` | [`keep_alive_timeout`](mambo::Server::keep_alive_timeout) |
//! | `MAMBO_HEADER_READ_TIMEOUT_SECS` | [`header_read_timeout`](mambo::Server::header_read_timeout) |
//! | `MAMBO_REQUEST_TIMEOUT_SECS` | [`request_timeout`](mambo::Server::request_timeout) |
//! | `MAMBO_BODY_READ_TIMEOUT_SECS` | [`body_read_timeout`](mambo::Server::body_read_timeout) |
//!
//! Values are seconds, fractions allowed (`2.5`); an unset variable leaves
//! the server's default.

use std::time::Duration;

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
    Ok(server)
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
}
