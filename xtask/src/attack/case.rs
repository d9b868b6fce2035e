//! What a case is, and the context every case runs in: the built
//! binaries, the attack runtime, the time budget.

use std::cell::Cell;
use std::future::Future;
use std::time::{Duration, Instant};

use super::scene::Scene;
use super::target::{App, Binaries, Setup};

/// No case may run longer than this, whatever the server does.
pub const CASE_LIMIT: Duration = Duration::from_secs(60);

/// One hostile-client check: the report's row, `--case`'s name and the
/// `--list` entry all come from here.
pub struct Case {
    /// Short, kebab-case; `--case NAME`.
    pub name: &'static str,
    /// What the attacker sends (full counts, quick counts in parentheses).
    pub sends: &'static str,
    /// The rule the server must keep.
    pub holds: &'static str,
    /// Runs the case and measures.
    pub run: fn(&Ctx) -> Result<Measured, String>,
}

/// What a case measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measured {
    /// The figures, as one line of the report.
    pub figure: String,
    /// Whether the rule held.
    pub holds: bool,
}

/// Everything a case needs besides its own code.
pub struct Ctx {
    /// `--quick`: smaller counts and shorter waits.
    pub quick: bool,
    binaries: Binaries,
    rt: tokio::runtime::Runtime,
    deadline: Cell<Instant>,
}

impl Ctx {
    /// A context for the examples' `binaries`.
    pub fn new(quick: bool, binaries: Binaries) -> Result<Ctx, String> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("tokio runtime: {e}"))?;
        Ok(Ctx { quick, binaries, rt, deadline: Cell::new(Instant::now() + CASE_LIMIT) })
    }

    /// `full`, or `quick` under `--quick`.
    pub fn pick<T>(&self, full: T, quick: T) -> T {
        if self.quick { quick } else { full }
    }

    /// The least time a short attack keeps going (repeating itself), so
    /// that the normal client's share of 200s rests on 100 requests or more.
    pub fn min_window(&self) -> Duration {
        Duration::from_secs(self.pick(5, 2))
    }

    /// Starts a case's clock: [`run`](Ctx::run) stops at [`CASE_LIMIT`] from now.
    pub fn begin_case(&self) {
        self.deadline.set(Instant::now() + CASE_LIMIT);
    }

    /// Time left of the case's budget.
    pub fn time_left(&self) -> Duration {
        self.deadline.get().saturating_duration_since(Instant::now())
    }

    /// Runs `attack` on the attack runtime, cut off when the case's time is
    /// up. Attacks keep their tasks in `JoinSet`s, so a cut-off attack's
    /// connections close with it.
    pub fn run<F: Future>(&self, attack: F) -> Result<F::Output, String> {
        let left = self.time_left();
        // The timer is made inside the runtime: tokio's needs its reactor.
        self.rt
            .block_on(async { tokio::time::timeout(left, attack).await })
            .map_err(|_| format!("cut off at the {} s limit", CASE_LIMIT.as_secs()))
    }

    /// Starts `app` with `setup` on a free port.
    pub fn start(&self, app: App, setup: &Setup) -> Result<Scene, String> {
        let program = match app {
            App::Hello => self.binaries.hello.clone(),
            App::Todo => self.binaries.todo.clone(),
            App::Chat => self.binaries.chat.clone(),
        };
        Scene::start(program, app, setup)
    }
}
