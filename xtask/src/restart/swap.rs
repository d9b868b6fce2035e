//! Check (b): a binary swap on one port, no proxy. wrk loads the old
//! process; a new one binds the same port with `SO_REUSEPORT` (or is handed
//! the same socket), and once it answers the old one gets SIGTERM.

use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

use super::child;
use super::instance::{self, Instance};
use super::load::{self, Connections, Figures, Load};
use super::migrate::{self, MigrateReq};
use super::{Plan, free_ports};
use crate::util;

/// Fresh connections in a row the new process must see answered before
/// the old one is stopped (see [`Instance::wait_ready_beside_others`]).
const ANSWERS_IN_A_ROW: u32 = 20;

/// One way of running the swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variant {
    /// How wrk connects.
    pub connections: Connections,
    /// How old and new process share the port.
    pub sharing: Sharing,
    /// `net.ipv4.tcp_migrate_req` for the run: `None` leaves the host's.
    pub migrate_req: Option<bool>,
}

/// How the old and the new process share the port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharing {
    /// Each binds its own listener with `SO_REUSEPORT`.
    ReusePort,
    /// Both serve one listening socket that the xtask binds and hands down
    /// (systemd's socket activation protocol), so none is ever closed.
    Inherited,
}

impl Sharing {
    /// How the report names it.
    pub fn label(self) -> &'static str {
        match self {
            Sharing::ReusePort => "own listeners, `SO_REUSEPORT`",
            Sharing::Inherited => "one inherited socket (`LISTEN_FDS`)",
        }
    }
}

/// A listening socket on 127.0.0.1 for the processes to inherit, with
/// Mambo's default backlog.
fn held_listener() -> Result<TcpListener, String> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))
        .and_then(|socket| {
            socket.set_reuse_address(true)?;
            socket.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
            socket.listen(1024)?;
            Ok(socket)
        })
        .map_err(|e| format!("binding the socket to hand down: {e}"))?;
    Ok(socket.into())
}

/// One swap of the run.
#[derive(Debug, Clone)]
pub struct Step {
    /// Start of the new process to its answering.
    pub new_ready_in: Duration,
    /// Connections the old process had open at SIGTERM.
    pub old_open_at_sigterm: usize,
    /// SIGTERM to the old process's exit.
    pub old_drained_in: Duration,
}

/// What one run of swaps saw.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// How it ran.
    pub variant: Variant,
    /// `tcp_migrate_req` as it was during the run.
    pub migrate_req: bool,
    /// The wrk command.
    pub command: String,
    /// wrk's figures.
    pub load: Figures,
    /// Each swap, in order.
    pub steps: Vec<Step>,
}

/// How many swaps a run of `secs` seconds makes: one every 6 s or so, so
/// that a race at the swap has many chances to show.
pub fn swaps(secs: u64) -> u32 {
    u32::try_from(secs / 6).unwrap_or(u32::MAX).max(1)
}

/// Runs one variant: wrk for the plan's duration, and [`swaps`] swaps
/// spread evenly over it, each new process the next one's old.
pub fn run(plan: &Plan, variant: Variant) -> Result<Outcome, String> {
    let _setting = match variant.migrate_req {
        Some(on) => Some(MigrateReq::set(on)?),
        None => None,
    };
    let migrate_req = migrate::current()?;
    let held = match variant.sharing {
        Sharing::Inherited => Some(held_listener()?),
        Sharing::ReusePort => None,
    };
    let (port, socket) = match &held {
        Some(listener) => {
            let port = listener.local_addr().map_err(|e| e.to_string())?.port();
            (port, instance::Socket::Inherit(listener))
        }
        None => (free_ports(1)?[0], instance::Socket::Bind { reuse_port: true }),
    };
    let mut old = Instance::spawn_on(&plan.program, plan.app, port, socket)?;
    old.wait_ready(plan.app.cheap_path())?;

    let cmd = load::command(port, plan.app.cheap_path(), plan.secs, variant.connections);
    let command = util::show(&cmd);
    let started = Instant::now();
    let wrk = Load::start(cmd, plan.secs)?;
    let count = swaps(plan.secs);
    let every = Duration::from_secs(plan.secs) / (count + 1);
    let mut steps = Vec::new();
    for i in 1..=count {
        child::pause((every * i).saturating_sub(started.elapsed()))?;
        let spawned = Instant::now();
        let mut new = Instance::spawn_on(&plan.program, plan.app, port, socket)?;
        match variant.sharing {
            Sharing::ReusePort => {
                new.wait_ready_beside_others(plan.app.cheap_path(), ANSWERS_IN_A_ROW)?;
            }
            Sharing::Inherited => new.wait_answers(plan.app.cheap_path(), ANSWERS_IN_A_ROW)?,
        }
        let new_ready_in = spawned.elapsed();
        let old_open_at_sigterm = old.open_connections();
        let old_drained_in = old.stop()?;
        eprintln!(
            "{:>5.1} s: swap {i}: new process answering after {new_ready_in:.2?}; the old one \
             ({old_open_at_sigterm} connections open) drained and exited {old_drained_in:.2?} \
             after SIGTERM",
            started.elapsed().as_secs_f64()
        );
        steps.push(Step { new_ready_in, old_open_at_sigterm, old_drained_in });
        old = new;
    }
    let load = wrk.finish()?;
    Ok(Outcome { variant, migrate_req, command, load, steps })
}
