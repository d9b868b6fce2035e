//! Check (b): a binary swap on one port with `SO_REUSEPORT`, no proxy. wrk
//! loads the old process; a new one binds the same port, and once it
//! answers the old one gets SIGTERM.

use std::time::{Duration, Instant};

use super::child;
use super::instance::Instance;
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
    /// `net.ipv4.tcp_migrate_req` for the run: `None` leaves the host's.
    pub migrate_req: Option<bool>,
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
    let port = free_ports(1)?[0];
    let mut old = Instance::spawn(&plan.program, plan.app, port, true)?;
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
        let mut new = Instance::spawn(&plan.program, plan.app, port, true)?;
        new.wait_ready_beside_others(plan.app.cheap_path(), ANSWERS_IN_A_ROW)?;
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
