//! The `main` of the benchmark servers, `mambo-bench-server` and
//! `mambo-bench-server-layer`: the flags of the benchmark contract
//! (`xtask/bench-peers/README.md`), `--port N` (127.0.0.1), `--threads N`,
//! `--mode multi|tpc`, and `--routes` to print the route table.

/// Serves `router` as the command line says.
///
/// # Errors
///
/// If the runtime cannot be built or the port cannot be bound.
pub fn main<R: mambo::Router>(router: R) -> std::io::Result<()> {
    let (mut port, mut threads, mut thread_per_core) = (8080u16, None::<usize>, false);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--port" => port = value().parse().unwrap_or_else(|_| usage()),
            "--threads" => threads = Some(value().parse().unwrap_or_else(|_| usage())),
            "--mode" => {
                thread_per_core = match value().as_str() {
                    "multi" => false,
                    "tpc" => true,
                    _ => usage(),
                }
            }
            "--routes" => {
                for route in router.routes() {
                    println!("{} {}", route.methods.join("|"), route.pattern);
                }
                return Ok(());
            }
            _ => usage(),
        }
    }
    let threads =
        threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    // The `conn` suite holds 10 000 idle connections from 127.0.0.1, the
    // default limit and far past the per-client one; the suite measures
    // memory per connection, not the limits.
    let server = mambo::Server::bind(("127.0.0.1", port))
        .max_connections(100_000)
        .max_connections_per_client(None);
    let server = if thread_per_core {
        server.thread_per_core().workers(threads)
    } else {
        server.multi_thread()
    };
    let runtime = if thread_per_core {
        // The workers run their own runtimes; this one only waits for them.
        tokio::runtime::Builder::new_current_thread().enable_all().build()?
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build()?
    };
    runtime.block_on(server.serve(router))
}

fn usage() -> ! {
    let name = std::env::args().next().unwrap_or_else(|| "mambo-bench-server".into());
    eprintln!("usage: {name} [--port N] [--threads N] [--mode multi|tpc] [--routes]");
    std::process::exit(2)
}
