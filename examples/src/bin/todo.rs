//! The todo service: a REST API over SQLite, with request ids, an access log
//! and open CORS.
//!
//! ```text
//! cargo run -p mambo-examples --bin todo                          # in memory, 127.0.0.1:3000
//! cargo run -p mambo-examples --bin todo -- --db todos.sqlite3    # in a file, kept across restarts
//! curl -i localhost:3000/todos -H 'content-type: application/json' -d '{"title":"buy milk"}'
//! curl 'localhost:3000/todos?done=false&limit=10'
//! ```
//!
//! Flags: `--db PATH` (default `:memory:`, a database that lives as long as
//! the process), `--addr HOST:PORT` (default `127.0.0.1:3000`), `--port N`,
//! `--reuse-port`, `--routes`. The log level comes from `RUST_LOG` (default
//! `info`, which shows the access log; `RUST_LOG=mambo::access=off` hides
//! it). Timeouts come from `MAMBO_KEEP_ALIVE_SECS`,
//! `MAMBO_HEADER_READ_TIMEOUT_SECS` and `MAMBO_REQUEST_TIMEOUT_SECS` when
//! set, and `MAMBO_REUSE_PORT=1` does what `--reuse-port` does: bind with
//! `SO_REUSEPORT` for a binary swap (see `mambo_examples::server_env` and
//! `examples/deploy/`). Started with a socket to serve (systemd socket
//! activation, `LISTEN_FDS`; see `mambo_examples::socket_activation`), it
//! serves that one instead of binding `--addr`.
//!
//! With `--features otel`, `OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318`
//! (and the other `OTEL_*` variables) exports a trace per request; see
//! `mambo::observe::otel`.
//!
//! With `--features profiling` (jemalloc with heap profiling as the
//! allocator), `/debug/pprof/profile` and `/debug/pprof/heap` answer CPU
//! and heap profiles for `go tool pprof`, behind the same token.
//!
//! Operator routes (`/internal/metrics`, Prometheus and OpenMetrics) open
//! when `TODO_ADMIN_TOKEN` is set, to `authorization: Bearer <token>`:
//!
//! ```text
//! TODO_ADMIN_TOKEN=s3cret cargo run -p mambo-examples --bin todo
//! curl -H 'authorization: Bearer s3cret' localhost:3000/internal/metrics
//! ```

use mambo_examples::todo::db::IN_MEMORY;
use mambo_examples::todo::{AppState, Db, TodoApi};
use tracing_subscriber::EnvFilter;

/// The system allocator, mimalloc or jemalloc, by cargo feature (see
/// `mambo_examples::alloc`).
#[global_allocator]
static ALLOCATOR: mambo_examples::alloc::Chosen = mambo_examples::alloc::CHOSEN;

/// With `--features profiling` the allocator is jemalloc (`alloc.rs`);
/// this turns its heap profiling on (one sample per 512 KiB allocated) for
/// `/debug/pprof/heap`.
#[cfg(feature = "profiling")]
#[unsafe(export_name = "_rjem_malloc_conf")]
static MALLOC_CONF: mambo::observe::pprof::MallocConf =
    mambo::observe::pprof::MallocConf::new("prof:true,prof_active:true,lg_prof_sample:19\0");

/// Command-line options.
struct Options {
    db: String,
    addr: String,
    reuse_port: bool,
    print_routes: bool,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        db: IN_MEMORY.to_owned(),
        addr: "127.0.0.1:3000".to_owned(),
        reuse_port: false,
        print_routes: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("`{arg}` needs a value"));
        match arg.as_str() {
            "--db" => options.db = value()?,
            "--addr" => options.addr = value()?,
            "--port" => options.addr = format!("127.0.0.1:{}", value()?),
            "--reuse-port" => options.reuse_port = true,
            "--routes" => options.print_routes = true,
            "--help" | "-h" => {
                return Err("usage: todo [--db PATH | --db :memory:] [--addr HOST:PORT | --port N] [--reuse-port] [--routes]".to_owned());
            }
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let options = parse_options().unwrap_or_else(|message| {
        eprintln!("{message}");
        std::process::exit(2);
    });
    if options.print_routes {
        for route in TodoApi::ROUTES {
            println!("{:<8} {:<16} {}", route.methods.join("|"), route.pattern, route.handler);
        }
        return Ok(());
    }
    let telemetry = init_logging()?;
    let db = Db::open(&options.db)
        .map_err(|err| std::io::Error::other(format!("opening {}: {err}", options.db)))?;
    let admin_token = std::env::var("TODO_ADMIN_TOKEN").ok().filter(|token| !token.is_empty());
    if admin_token.is_none() {
        println!("operator routes (/internal/..) closed: set TODO_ADMIN_TOKEN to open them");
    }
    let state = AppState::new(db).with_admin_token(admin_token);
    // `/readyz` turns 503 when shutdown starts; `server_env` reads
    // `MAMBO_SHUTDOWN_DELAY_SECS`, how long the server still serves then.
    let server =
        mambo_examples::server_env::server(&options.addr, options.reuse_port).health(&state.health);
    let listening = server.listen()?;
    mambo_examples::alloc::start_trimming();
    let storage =
        if options.db == IN_MEMORY { "in memory".to_owned() } else { format!("in {}", options.db) };
    println!(
        "todo listening on http://{} (todos {storage}, allocator {})",
        listening.local_addr(),
        mambo_examples::alloc::SUMMARY
    );
    listening.serve(TodoApi::new(state)).await?;
    telemetry.shutdown().await;
    Ok(())
}

/// The log output (`RUST_LOG`, default `info`), and with the `otel`
/// feature and `OTEL_EXPORTER_OTLP_ENDPOINT` (or `_TRACES_ENDPOINT`) set,
/// an OpenTelemetry trace per request exported over OTLP (the `OTEL_*`
/// variables configure it).
fn init_logging() -> std::io::Result<Telemetry> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()));
    let registry = tracing_subscriber::registry().with(filter).with(fmt);
    #[cfg(feature = "otel")]
    if ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
        .iter()
        .any(|name| std::env::var_os(name).is_some())
    {
        let otel = mambo::observe::otel::init().map_err(std::io::Error::other)?;
        registry.with(otel.layer()).init();
        return Ok(Telemetry { otel: Some(otel) });
    }
    registry.init();
    Ok(Telemetry {
        #[cfg(feature = "otel")]
        otel: None,
    })
}

/// What has to be flushed before the process ends.
struct Telemetry {
    #[cfg(feature = "otel")]
    otel: Option<mambo::observe::otel::OtelGuard>,
}

impl Telemetry {
    /// Exports the spans still waiting.
    async fn shutdown(self) {
        #[cfg(feature = "otel")]
        if let Some(otel) = self.otel
            && let Err(err) = otel.shutdown().await
        {
            eprintln!("exporting the last traces failed: {err}");
        }
    }
}
