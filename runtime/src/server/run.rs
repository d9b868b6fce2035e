//! Running a server in either mode, from start to drained shutdown.
//!
//! - Multi-thread: the future of `serve` accepts on every listener;
//!   connections are tasks on the runtime it is awaited in.
//! - Thread-per-core: one OS thread per listener, each running a
//!   current-thread runtime that accepts and serves its own connections. The
//!   threads are started by `serve` and joined before it returns.

use std::io;
use std::net::TcpListener as StdListener;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::accept;
use super::config::Mode;
use super::shared::Shared;
use super::shutdown::{Phase, Trigger};
use super::trace::TARGET;
use crate::service::Router;

/// After the deadline, how long dropped connections get to notice.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Serves on `listeners` until `trigger` completes, then shuts down
/// gracefully.
pub(crate) async fn serve<R: Router>(
    shared: Arc<Shared<R>>,
    listeners: Vec<StdListener>,
    trigger: Trigger,
) -> io::Result<()> {
    // If the caller drops `serve` midway, workers and connections stop too.
    let _close = CloseOnDrop(&shared);
    match shared.config.mode {
        Mode::MultiThread => multi_thread(&shared, listeners, trigger).await,
        Mode::ThreadPerCore => thread_per_core(&shared, listeners, trigger).await,
    }
}

struct CloseOnDrop<'a, R>(&'a Shared<R>);

impl<R> Drop for CloseOnDrop<'_, R> {
    fn drop(&mut self) {
        self.0.shutdown.set(Phase::Closed);
    }
}

async fn multi_thread<R: Router>(
    shared: &Arc<Shared<R>>,
    listeners: Vec<StdListener>,
    trigger: Trigger,
) -> io::Result<()> {
    let listeners: Vec<TcpListener> =
        listeners.into_iter().map(TcpListener::from_std).collect::<io::Result<_>>()?;
    // Accepting runs inside this future, on whichever thread awaits `serve`
    // (as `axum::serve` does); connections are tasks on the runtime. Per
    // connection state is then allocated by the thread that accepts, away
    // from the workers' request-time allocations, which with glibc keeps
    // idle connections about 2 KiB smaller (`cargo xtask bench conn`).
    tokio::select! {
        () = accept::run(shared.clone(), &listeners) => {}
        () = trigger => {}
    }
    // The listeners close before any connection is told to: a client whose
    // keep-alive connection ends reconnects to another process on the port
    // (`SO_REUSEPORT`), never into this one's closing queue.
    accept::sweep(shared, &listeners);
    drop(listeners);
    drain(shared).await;
    Ok(())
}

async fn thread_per_core<R: Router>(
    shared: &Arc<Shared<R>>,
    listeners: Vec<StdListener>,
    trigger: Trigger,
) -> io::Result<()> {
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let mut threads = Vec::with_capacity(listeners.len());
    for (index, listener) in listeners.into_iter().enumerate() {
        let worker_shared = shared.clone();
        let report = Report { done: done_tx.clone(), result: None };
        let spawned = std::thread::Builder::new()
            .name(format!("mambo-worker-{index}"))
            .spawn(move || worker(worker_shared, listener, report));
        match spawned {
            Ok(thread) => threads.push(thread),
            Err(err) => {
                shared.shutdown.set(Phase::Closed);
                join(threads).await;
                return Err(err);
            }
        }
    }
    drop(done_tx);

    // A worker only stops on its own when it cannot start.
    let mut result = tokio::select! {
        () = trigger => Ok(()),
        Some(early) = done_rx.recv() => match early {
            Ok(()) => Err(io::Error::other("a server worker stopped unexpectedly")),
            Err(err) => Err(err),
        },
    };
    drain(shared).await;
    while let Some(done) = done_rx.recv().await {
        if let (Ok(()), Err(err)) = (&result, done) {
            result = Err(err);
        }
    }
    join(threads).await;
    result
}

/// One thread-per-core worker: its own runtime, its own listener.
fn worker<R: Router>(shared: Arc<Shared<R>>, listener: StdListener, mut report: Report) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(err) => {
            report.result = Some(Err(err));
            return;
        }
    };
    let result = runtime.block_on(async {
        let listener = TcpListener::from_std(listener)?;
        let mut phase = shared.shutdown.subscribe();
        let listeners = [listener];
        accept::run(shared.clone(), &listeners).await;
        accept::sweep(&shared, &listeners);
        drop(listeners);
        // Keep serving this worker's connections while they drain.
        let _ = phase.wait_for(|phase| *phase == Phase::Closed).await;
        Ok(())
    });
    // Drops whatever outlived the deadline, HTTP/2 stream tasks included.
    drop(runtime);
    report.result = Some(result);
}

/// Tells `serve` a worker is done, also when it panicked.
struct Report {
    done: mpsc::UnboundedSender<io::Result<()>>,
    result: Option<io::Result<()>>,
}

impl Drop for Report {
    fn drop(&mut self) {
        let result =
            self.result.take().unwrap_or_else(|| Err(io::Error::other("a server worker panicked")));
        let _ = self.done.send(result);
    }
}

/// Joins finished worker threads without blocking the caller's runtime.
async fn join(threads: Vec<JoinHandle<()>>) {
    if threads.is_empty() {
        return;
    }
    let _ = tokio::task::spawn_blocking(move || {
        for thread in threads {
            let _ = thread.join();
        }
    })
    .await;
}

/// Stops accepting, lets connections finish up to the shutdown timeout,
/// then closes what is left.
async fn drain<R>(shared: &Shared<R>) {
    let shutdown = &shared.shutdown;
    shutdown.set(Phase::Draining);
    let deadline = shared.config.shutdown_timeout;
    tracing::info!(
        target: TARGET,
        connections = shutdown.open_connections(),
        ?deadline,
        "shutting down: draining connections"
    );
    if !shutdown.drained(deadline).await {
        tracing::warn!(
            target: TARGET,
            connections = shutdown.open_connections(),
            "shutdown deadline passed, closing the remaining connections"
        );
    }
    shutdown.set(Phase::Closed);
    shutdown.drained(CLOSE_GRACE).await;
    tracing::info!(target: TARGET, "server stopped");
}
