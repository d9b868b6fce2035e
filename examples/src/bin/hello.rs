//! The smallest Mambo service, and the one the benchmarks load.
//!
//! ```text
//! cargo run --release -p mambo-examples --bin hello              # 127.0.0.1:8080
//! cargo run --release -p mambo-examples --bin hello -- --routes  # print the route table
//! curl localhost:8080/json
//! ```
//!
//! Flags: `--addr HOST:PORT` (default `127.0.0.1:8080`), `--port N`,
//! `--mode multi-thread|thread-per-core`, `--workers N`, `--reuse-port`,
//! `--routes`. Timeouts come from `MAMBO_KEEP_ALIVE_SECS`,
//! `MAMBO_HEADER_READ_TIMEOUT_SECS` and `MAMBO_REQUEST_TIMEOUT_SECS` when
//! set, and `MAMBO_REUSE_PORT=1` does what `--reuse-port` does: bind with
//! `SO_REUSEPORT`, so that a new process can take over the port while this
//! one drains (see `mambo_examples::server_env` and `examples/deploy/`).
//! Started with a socket to serve (systemd socket activation, `LISTEN_FDS`;
//! see `mambo_examples::socket_activation`), it serves that one instead of
//! binding `--addr`.

use mambo_examples::hello::Hello;

/// The system allocator, mimalloc or jemalloc, by cargo feature (see
/// `mambo_examples::alloc`).
#[global_allocator]
static ALLOCATOR: mambo_examples::alloc::Chosen = mambo_examples::alloc::CHOSEN;

/// Command-line options.
struct Options {
    addr: String,
    thread_per_core: Option<bool>,
    workers: Option<usize>,
    reuse_port: bool,
    print_routes: bool,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        addr: "127.0.0.1:8080".to_owned(),
        thread_per_core: None,
        workers: None,
        reuse_port: false,
        print_routes: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("`{arg}` needs a value"));
        match arg.as_str() {
            "--addr" => options.addr = value()?,
            "--port" => options.addr = format!("127.0.0.1:{}", value()?),
            "--mode" => {
                options.thread_per_core = Some(match value()?.as_str() {
                    "thread-per-core" => true,
                    "multi-thread" => false,
                    other => {
                        return Err(format!(
                            "unknown mode `{other}`: use multi-thread or thread-per-core"
                        ));
                    }
                })
            }
            "--workers" => {
                options.workers = Some(value()?.parse().map_err(|e| format!("--workers: {e}"))?)
            }
            "--reuse-port" => options.reuse_port = true,
            "--routes" => options.print_routes = true,
            "--help" | "-h" => {
                return Err(
                    "usage: hello [--addr HOST:PORT | --port N] [--mode multi-thread|thread-per-core] [--workers N] [--reuse-port] [--routes]"
                        .to_owned(),
                );
            }
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    Ok(options)
}

fn main() -> std::io::Result<()> {
    let options = parse_options().unwrap_or_else(|message| {
        eprintln!("{message}");
        std::process::exit(2);
    });
    if options.print_routes {
        for route in Hello::ROUTES {
            println!("{:<8} {:<24} {}", route.methods.join("|"), route.pattern, route.handler);
        }
        return Ok(());
    }
    let mut server = mambo_examples::server_env::server(&options.addr, options.reuse_port);
    server = match options.thread_per_core {
        Some(true) => server.thread_per_core(),
        Some(false) => server.multi_thread(),
        None => server,
    };
    if let Some(workers) = options.workers {
        server = server.workers(workers);
    }
    let listening = server.listen()?;
    mambo_examples::alloc::start_trimming();
    println!(
        "hello listening on http://{} (allocator {})",
        listening.local_addr(),
        mambo_examples::alloc::SUMMARY
    );
    tokio::runtime::Runtime::new()?.block_on(listening.serve(Hello::new()))
}
