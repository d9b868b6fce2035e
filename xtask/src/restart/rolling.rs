//! Check (a): a rolling restart behind nginx. Three instances, wrk through
//! nginx, and while it runs each instance in turn gets SIGTERM and is
//! started again, the next one only once the last answers.

use std::path::Path;
use std::time::{Duration, Instant};

use super::child;
use super::instance::Instance;
use super::load::{self, Connections, Figures, Load};
use super::nginx;
use super::{Plan, free_ports};
use crate::util;

/// How many instances sit behind nginx.
pub const INSTANCES: usize = 3;

/// One instance's restart.
#[derive(Debug, Clone)]
pub struct Restart {
    /// Connections nginx had open to it when it got SIGTERM.
    pub open_at_sigterm: usize,
    /// SIGTERM to exit (drained).
    pub drained_in: Duration,
    /// Exit to answering again.
    pub back_in: Duration,
    /// Connections nginx had open to the new process at the end of the run.
    pub open_at_end: usize,
}

/// What the check saw.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The wrk command (against nginx).
    pub command: String,
    /// wrk's figures.
    pub load: Figures,
    /// Each instance's restart, in order.
    pub restarts: Vec<Restart>,
    /// nginx's error log lines about upstreams: requests it had to send to
    /// another instance.
    pub upstream_errors: Vec<String>,
}

/// Runs the check with everything of nginx's under `dir`.
pub fn run(plan: &Plan, dir: &Path) -> Result<Outcome, String> {
    let ports = free_ports(INSTANCES + 1)?;
    let (nginx_port, instance_ports) = (ports[0], &ports[1..]);
    let mut instances = Vec::with_capacity(INSTANCES);
    for &port in instance_ports {
        let mut instance = Instance::spawn(&plan.program, plan.app, port, false)?;
        instance.wait_ready(plan.app.cheap_path())?;
        instances.push(instance);
    }
    let _nginx = nginx::start(dir, nginx_port, instance_ports, plan.app.cheap_path())?;

    let cmd = load::command(nginx_port, plan.app.cheap_path(), plan.secs, Connections::KeepAlive);
    let command = util::show(&cmd);
    let started = Instant::now();
    let wrk = Load::start(cmd, plan.secs)?;
    let mut restarts = Vec::with_capacity(INSTANCES);
    // Restarts at 1/5, 2/5 and 3/5 of the run: the load runs before and
    // between them, and long enough after the last that nginx has taken it
    // back (fail_timeout) before the connections are counted at the end.
    let slot = Duration::from_secs(plan.secs) / (INSTANCES as u32 + 2);
    for (i, instance) in instances.iter_mut().enumerate() {
        let at = slot * (i as u32 + 1);
        child::pause(at.saturating_sub(started.elapsed()))?;
        let open_at_sigterm = instance.open_connections();
        eprintln!(
            "{:>5.1} s: SIGTERM to instance {} (port {}, {open_at_sigterm} connections from nginx)",
            started.elapsed().as_secs_f64(),
            i + 1,
            instance.port
        );
        let drained_in = instance.stop()?;
        let exited = Instant::now();
        let mut next = Instance::spawn(&plan.program, plan.app, instance.port, false)?;
        next.wait_ready(plan.app.cheap_path())?;
        let back_in = exited.elapsed();
        eprintln!(
            "{:>5.1} s: instance {} drained in {drained_in:.2?}, answering again {back_in:.2?} later",
            started.elapsed().as_secs_f64(),
            i + 1,
        );
        *instance = next;
        restarts.push(Restart { open_at_sigterm, drained_in, back_in, open_at_end: 0 });
        // nginx tries an instance again fail_timeout after it refused a
        // connection; the next one may go only once this one is back in.
        child::pause(Duration::from_secs(nginx::FAIL_TIMEOUT_SECS) + Duration::from_millis(500))?;
    }
    // Just before wrk stops: is the traffic back on every new process?
    let end = Duration::from_secs(plan.secs).saturating_sub(Duration::from_secs(1));
    child::pause(end.saturating_sub(started.elapsed()))?;
    for (restart, instance) in restarts.iter_mut().zip(&instances) {
        restart.open_at_end = instance.open_connections();
    }
    let load = wrk.finish()?;
    Ok(Outcome { command, load, restarts, upstream_errors: nginx::upstream_errors(dir) })
}
