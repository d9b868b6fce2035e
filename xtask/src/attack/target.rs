//! The servers under attack: release builds of the `hello`, `todo` and
//! `chat` examples, started through `bench`'s [`Running`] with the settings a case
//! asks for.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use super::wire::{self, Answer};
use crate::bench::server::{Running, Spec};
use crate::util;

/// An example service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum App {
    /// `hello`: plaintext, JSON, `/ping`.
    Hello,
    /// `todo`: a REST API over in-memory SQLite.
    Todo,
    /// `chat`: a chat room over WebSockets, its events over SSE.
    Chat,
}

impl App {
    /// The binary's name.
    pub fn name(self) -> &'static str {
        match self {
            App::Hello => "hello",
            App::Todo => "todo",
            App::Chat => "chat",
        }
    }

    /// A cheap route answering 200: what the normal client asks for, and
    /// the readiness check.
    pub fn cheap_path(self) -> &'static str {
        match self {
            App::Hello => "/plaintext",
            App::Todo => "/health",
            App::Chat => "/healthz",
        }
    }
}

/// The global allocator the examples are built with: `mambo-examples`'
/// cargo features (`examples/src/alloc.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allocator {
    /// The system allocator (glibc malloc), untouched: no feature.
    System,
    /// The system allocator with a `malloc_trim(0)` every second: feature
    /// `malloc-trim`, the examples' default.
    SystemTrim,
    /// Feature `mimalloc`.
    Mimalloc,
    /// Feature `jemalloc`.
    Jemalloc,
}

impl Allocator {
    /// Every allocator, in `--allocator`'s order.
    pub const ALL: [Allocator; 4] =
        [Allocator::System, Allocator::SystemTrim, Allocator::Mimalloc, Allocator::Jemalloc];

    /// What the examples use without `--features`: `mambo-examples`'
    /// default features (a test keeps the two in step).
    pub const DEFAULT: Allocator = Allocator::SystemTrim;

    /// The name `--allocator` takes, and the report shows.
    pub fn name(self) -> &'static str {
        match self {
            Allocator::System => "system",
            Allocator::SystemTrim => "system-trim",
            Allocator::Mimalloc => "mimalloc",
            Allocator::Jemalloc => "jemalloc",
        }
    }

    /// The allocator called `name`.
    pub fn parse(name: &str) -> Result<Allocator, String> {
        Allocator::ALL.into_iter().find(|a| a.name() == name).ok_or_else(|| {
            let names: Vec<&str> = Allocator::ALL.iter().map(|a| a.name()).collect();
            format!("no allocator `{name}`; use one of {}", names.join(", "))
        })
    }

    /// `mambo-examples`' features that select it.
    pub fn features(self) -> &'static [&'static str] {
        match self {
            Allocator::System => &[],
            Allocator::SystemTrim => &["malloc-trim"],
            Allocator::Mimalloc => &["mimalloc"],
            Allocator::Jemalloc => &["jemalloc"],
        }
    }

    /// The `cargo build` arguments that select it, whatever the default is.
    pub fn cargo_args(self) -> Vec<String> {
        let mut args = vec!["--no-default-features".to_owned()];
        if !self.features().is_empty() {
            args.extend(["--features".to_owned(), self.features().join(",")]);
        }
        args
    }
}

impl Default for Allocator {
    fn default() -> Allocator {
        Allocator::DEFAULT
    }
}

/// The release binaries of the examples under attack.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub hello: PathBuf,
    pub todo: PathBuf,
    pub chat: PathBuf,
}

/// Builds the examples with `allocator` (release profile: what users
/// deploy) and returns their paths.
pub fn build(allocator: Allocator) -> Result<Binaries, String> {
    util::run(
        util::main_cargo()
            .args(["build", "--release", "-p", "mambo-examples"])
            .args(["--bin", "hello", "--bin", "todo", "--bin", "chat"])
            .args(allocator.cargo_args()),
    )?;
    let dir = util::main_target_dir().join("release");
    Ok(Binaries { hello: dir.join("hello"), todo: dir.join("todo"), chat: dir.join("chat") })
}

/// How a case wants its server started.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    /// Environment variables (the examples read their timeouts from
    /// `MAMBO_*_SECS`, see `mambo_examples::server_env`).
    pub env: Vec<(&'static str, String)>,
    /// An open-file limit for the server instead of the hard limit.
    pub nofile: Option<u64>,
}

impl Setup {
    /// Keep-alive and header read timeouts both `secs`: on a connection
    /// that never sends a request the shorter one applies, so setting both
    /// makes the expected close time unambiguous.
    pub fn idle_timeout(secs: u64) -> Setup {
        Setup {
            env: vec![
                ("MAMBO_KEEP_ALIVE_SECS", secs.to_string()),
                ("MAMBO_HEADER_READ_TIMEOUT_SECS", secs.to_string()),
            ],
            nofile: None,
        }
    }

    /// The chat's WebSocket timeouts (`MAMBO_WS_*`): a ping after `ping`
    /// seconds of silence, the socket dropped after `idle` seconds of
    /// silence or `write` seconds of a send that cannot progress.
    pub fn socket_timeouts(ping: u64, idle: u64, write: u64) -> Setup {
        Setup {
            env: vec![
                ("MAMBO_WS_PING_SECS", ping.to_string()),
                ("MAMBO_WS_IDLE_SECS", idle.to_string()),
                ("MAMBO_WS_WRITE_SECS", write.to_string()),
            ],
            nofile: None,
        }
    }

    /// How long a handler may wait for request body bytes
    /// (`body_read_timeout`).
    pub fn body_read_timeout(secs: u64) -> Setup {
        Setup { env: vec![("MAMBO_BODY_READ_TIMEOUT_SECS", secs.to_string())], nofile: None }
    }
}

/// Starts `program` (the `app` binary) on `port` with `setup`.
pub fn start(program: PathBuf, app: App, port: u16, setup: &Setup) -> Result<Running, String> {
    let mut spec = Spec { name: app.name().into(), program, args: Vec::new() };
    if let Some(n) = setup.nofile {
        // `bash` raises the limit to the hard one first; this lowers it
        // again right before the server starts, and `exec` keeps the pid.
        spec = spec.run_under("sh", &["-c".into(), format!(r#"ulimit -n {n} && exec "$0" "$@""#)]);
    }
    let mut env = setup.env.clone();
    if app != App::Hello {
        // The access log would cost the server a formatted line per request.
        env.push(("RUST_LOG", "warn".into()));
    }
    Running::start_with(&spec, port, app.cheap_path(), &env)
}

/// Stores `count` todos with titles of `title_len` characters in the todo
/// service at `addr`, so that `GET /todos?limit=500` has a large answer.
pub async fn seed_todos(addr: SocketAddr, count: usize, title_len: usize) -> Result<(), String> {
    for i in 0..count {
        let title = format!("{i:05} {}", "x".repeat(title_len.saturating_sub(6)));
        let body = format!(r#"{{"title":"{title}"}}"#);
        let request = format!(
            "POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let mut stream = wire::connect_from(wire::ATTACKER, addr)
            .await
            .map_err(|e| format!("seeding todos: {e}"))?;
        stream.write_all(request.as_bytes()).await.map_err(|e| format!("seeding todos: {e}"))?;
        match wire::read_answer(&mut stream, Duration::from_secs(5)).await {
            Answer::Status(201) => {}
            other => return Err(format!("seeding todo {i}: got {}", other.label())),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocator_names_round_trip() {
        for a in Allocator::ALL {
            assert_eq!(Allocator::parse(a.name()), Ok(a));
        }
        assert!(Allocator::parse("tcmalloc").unwrap_err().contains("system-trim"));
        assert_eq!(Allocator::System.cargo_args(), ["--no-default-features"]);
        assert_eq!(
            Allocator::Jemalloc.cargo_args(),
            ["--no-default-features", "--features", "jemalloc"]
        );
    }

    #[test]
    fn default_allocator_is_the_examples_default_feature() {
        let manifest = std::fs::read_to_string(util::root().join("examples/Cargo.toml")).unwrap();
        let default = manifest
            .lines()
            .find_map(|l| l.trim().strip_prefix("default = "))
            .unwrap_or("[]")
            .trim();
        let quoted: Vec<String> =
            Allocator::DEFAULT.features().iter().map(|f| format!("\"{f}\"")).collect();
        let expected = format!("[{}]", quoted.join(", "));
        assert_eq!(
            default, expected,
            "examples/Cargo.toml's default feature vs Allocator::DEFAULT"
        );
    }
}
