//! A server under attack with its witnesses: the normal client beside the
//! attack and the watch on the server's memory.

use std::net::SocketAddr;
use std::path::PathBuf;

use super::normal::{self, Normal};
use super::target::{self, App, Setup};
use super::watch::{Rss, RssWatch};
use crate::bench::server::Running;

/// A started server; killed when dropped.
pub struct Scene {
    /// The server process.
    pub server: Running,
    /// Where it listens.
    pub addr: SocketAddr,
    app: App,
    witnesses: Option<(Normal, RssWatch)>,
}

/// What the witnesses saw.
pub struct Seen {
    /// The normal client's figures.
    pub normal: normal::Figures,
    /// The server's memory.
    pub rss: Rss,
}

impl Scene {
    /// Starts `program` as `app` with `setup` on a free port.
    pub fn start(program: PathBuf, app: App, setup: &Setup) -> Result<Scene, String> {
        let port = free_port()?;
        let server = target::start(program, app, port, setup)?;
        Ok(Scene { server, addr: SocketAddr::from(([127, 0, 0, 1], port)), app, witnesses: None })
    }

    /// The server's pid.
    pub fn pid(&self) -> u32 {
        self.server.pid()
    }

    /// Starts the normal client and the memory watch: call right before
    /// the attack.
    pub fn watch(&mut self) {
        let normal = Normal::start(self.addr, self.app.cheap_path());
        self.witnesses = Some((normal, RssWatch::start(self.pid())));
    }

    /// Stops the witnesses and returns what they saw.
    ///
    /// # Panics
    ///
    /// When [`watch`](Scene::watch) was not called first.
    pub fn finish(&mut self) -> Seen {
        let (normal, rss) = self.witnesses.take().expect("`watch` before `finish`");
        Seen { rss: rss.stop(), normal: normal.stop() }
    }
}

/// A port nothing listens on now (the OS's pick for port 0); the servers
/// of other worktrees on the same machine may hold any fixed one.
fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}
