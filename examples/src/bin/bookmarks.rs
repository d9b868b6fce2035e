//! The bookmarks site: a single-page app, its JSON API as a mounted router,
//! static files and compression from tower-http, a concurrency limit from
//! tower (see `mambo_examples::bookmarks`).
//!
//! ```text
//! cargo run -p mambo-examples --bin bookmarks            # http://127.0.0.1:3002, token "dev-token"
//! curl -i localhost:3002/api/bookmarks -H 'authorization: Bearer dev-token' \
//!      -H 'content-type: application/json' -d '{"url":"https://www.rust-lang.org","title":"Rust"}'
//! curl --compressed -i localhost:3002/api/bookmarks
//! ```
//!
//! Flags: `--addr HOST:PORT` (default `127.0.0.1:3002`), `--port N`,
//! `--assets DIR` (default: this example's `bookmarks-assets`), `--routes`.
//! The write token comes from `BOOKMARKS_TOKEN` (default `dev-token`).

use mambo_examples::bookmarks::{ASSETS, Site, SiteState};
use tracing_subscriber::EnvFilter;

/// The system allocator, mimalloc or jemalloc, by cargo feature (see
/// `mambo_examples::alloc`).
#[global_allocator]
static ALLOCATOR: mambo_examples::alloc::Chosen = mambo_examples::alloc::CHOSEN;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut addr = "127.0.0.1:3002".to_owned();
    let mut assets = ASSETS.to_owned();
    let mut print_routes = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next().unwrap_or_else(|| {
                eprintln!("`{arg}` needs a value");
                std::process::exit(2)
            })
        };
        match arg.as_str() {
            "--addr" => addr = value(),
            "--port" => addr = format!("127.0.0.1:{}", value()),
            "--assets" => assets = value(),
            "--routes" => print_routes = true,
            _ => {
                eprintln!(
                    "usage: bookmarks [--addr HOST:PORT | --port N] [--assets DIR] [--routes]"
                );
                std::process::exit(2);
            }
        }
    }
    if print_routes {
        for route in Site::ROUTES {
            println!("{:<10} {:<24} {}", route.methods.join("|"), route.pattern, route.handler);
        }
        return Ok(());
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let token = std::env::var("BOOKMARKS_TOKEN").unwrap_or_else(|_| "dev-token".to_owned());
    let site = Site::new(SiteState::new(&token, &assets));
    let listening = mambo_examples::server_env::server(&addr, false).listen()?;
    mambo_examples::alloc::start_trimming();
    println!("bookmarks listening on http://{} (assets in {assets})", listening.local_addr());
    listening.serve(site).await
}
