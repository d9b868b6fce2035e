//! `cargo xtask restart`: zero-downtime restarts with real parts, measured.
//!
//! - (a) [`rolling`]: three instances of an example behind nginx, wrk
//!   through nginx, each instance in turn stopped (SIGTERM) and started
//!   again while the load runs.
//! - (b) [`swap`]: one port, no proxy: a new process binds it beside the
//!   old one with `SO_REUSEPORT`, and the old one leaves by SIGTERM. Run
//!   with keep-alive clients and with a new connection per request, the
//!   latter with `net.ipv4.tcp_migrate_req` off and on, and once more with
//!   both processes serving one socket the xtask hands down (systemd's
//!   socket activation), which no swap ever closes.
//!
//! Every failed request counts. The figures go into the section of
//! `RELIABILITY.md` between `<!-- restart:begin -->` and
//! `<!-- restart:end -->`; `cargo xtask attack` writes the rest of the file.
//! Everything runs on 127.0.0.1, each step is bounded in time, and every
//! child process is stopped on every way out (errors, panics, Ctrl-C; the
//! kernel sends them SIGTERM if the xtask is killed outright).

pub(crate) mod child;
mod instance;
mod load;
mod migrate;
mod nginx;
mod report;
mod rolling;
mod sockets;
mod swap;

use std::path::PathBuf;

use crate::attack::target::{self, Allocator, App};
use crate::util;
use load::Connections;
use swap::{Sharing, Variant};

/// Options of `cargo xtask restart`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// 15 s of load per check instead of 60 s.
    pub quick: bool,
    /// The example that runs.
    pub app: App,
    /// Run only this check and print its figures (RELIABILITY.md is left
    /// alone).
    pub only: Option<Check>,
    /// Write `examples/deploy/nginx.conf` and exit.
    pub write_nginx_conf: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { quick: false, app: App::Hello, only: None, write_nginx_conf: false }
    }
}

/// The two checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Rolling restart behind nginx.
    Rolling,
    /// Binary swap with `SO_REUSEPORT`.
    Swap,
}

impl Options {
    /// Parses `[--quick] [--app hello|todo] [--only rolling|swap] [--write-nginx-conf]`.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut opts = Options::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--quick" => opts.quick = true,
                "--write-nginx-conf" => opts.write_nginx_conf = true,
                "--app" => {
                    opts.app = match it.next().map(String::as_str) {
                        Some("hello") => App::Hello,
                        Some("todo") => App::Todo,
                        _ => return Err("--app needs `hello` or `todo`".into()),
                    }
                }
                "--only" => {
                    opts.only = Some(match it.next().map(String::as_str) {
                        Some("rolling") => Check::Rolling,
                        Some("swap") => Check::Swap,
                        _ => return Err("--only needs `rolling` or `swap`".into()),
                    })
                }
                other => return Err(format!("unexpected `{other}`; see `cargo xtask help`")),
            }
        }
        Ok(opts)
    }

    /// The command line that reproduces this run.
    fn command(&self) -> String {
        let mut command = "cargo xtask restart".to_owned();
        if self.quick {
            command.push_str(" --quick");
        }
        if self.app == App::Todo {
            command.push_str(" --app todo");
        }
        command
    }
}

/// What the checks share.
pub struct Plan {
    /// The release binary.
    pub program: PathBuf,
    /// Which example it is.
    pub app: App,
    /// Seconds of load per check.
    pub secs: u64,
}

/// `n` ports on 127.0.0.1 that were free a moment ago.
pub fn free_ports(n: usize) -> Result<Vec<u16>, String> {
    // Held together so that the kernel hands out `n` different ports.
    let held: Vec<std::net::TcpListener> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<_>>()
        .map_err(|e| format!("finding a free port: {e}"))?;
    held.iter().map(|l| l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())).collect()
}

/// A directory of this run's own under the system's temporary directory,
/// removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir, String> {
        let dir = std::env::temp_dir().join(format!("mambo-restart-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The swaps to run, and whether each must hold. With
/// `tcp_migrate_req` writable, `Connection: close` runs once with it off, to
/// show the reset the kernel does without it, and once with it on, which
/// must hold; otherwise once with the host's setting, which must hold only
/// if that is on.
fn swap_variants(migrate_writable: bool, host_migrates: bool) -> Vec<(Variant, bool)> {
    let keep_alive = Variant {
        connections: Connections::KeepAlive,
        sharing: Sharing::ReusePort,
        migrate_req: None,
    };
    let close = |sharing, migrate_req| Variant {
        connections: Connections::CloseEach,
        sharing,
        migrate_req,
    };
    let mut variants = vec![(keep_alive, true)];
    if migrate_writable {
        variants.push((close(Sharing::ReusePort, Some(false)), false));
        variants.push((close(Sharing::ReusePort, Some(true)), true));
    } else {
        variants.push((close(Sharing::ReusePort, None), host_migrates));
    }
    variants.push((close(Sharing::Inherited, None), true));
    variants
}

/// Runs `cargo xtask restart`.
pub fn run(opts: &Options) -> Result<(), String> {
    if opts.write_nginx_conf {
        let path = util::root().join("examples/deploy/nginx.conf");
        let (listen, ports) = nginx::SHIPPED;
        std::fs::write(&path, nginx::site(listen, &ports))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
        return Ok(());
    }
    child::catch_interrupts();
    if opts.only != Some(Check::Swap) {
        util::ensure_tool("nginx", "nginx")?;
    }
    util::ensure_tool("wrk", "wrk")?;
    util::ensure_tool("ss", "iproute2")?;
    // The examples as users get them: their default features.
    let binaries = target::build(Allocator::DEFAULT)?;
    let program = if opts.app == App::Hello { binaries.hello } else { binaries.todo };
    let plan = Plan { program, app: opts.app, secs: if opts.quick { 15 } else { 60 } };
    let host_migrates = migrate::current()?;

    let mut results = report::Results::default();
    if opts.only != Some(Check::Swap) {
        eprintln!("\n=== restart: rolling restart behind nginx ===");
        let dir = TempDir::new()?;
        results.rolling = Some(rolling::run(&plan, &dir.0)?);
    }
    if opts.only != Some(Check::Rolling) {
        for (variant, must_hold) in swap_variants(migrate::writable(), host_migrates) {
            eprintln!(
                "\n=== restart: binary swap, {}, {} clients, tcp_migrate_req {} ===",
                variant.sharing.label(),
                variant.connections.label(),
                variant.migrate_req.map_or("as on the host".into(), |on| u8::from(on).to_string())
            );
            results.swaps.push((swap::run(&plan, variant)?, must_hold));
        }
    }

    let info = report::RunInfo::gather(opts.command(), opts.quick, host_migrates);
    let section = report::section(&info, &plan, &results);
    if opts.only.is_some() {
        println!("{section}");
    } else {
        report::write(&section)?;
    }
    let failing = results.failing();
    if failing.is_empty() {
        Ok(())
    } else {
        Err(format!("requests failed in: {}", failing.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn options() {
        assert_eq!(parse(&[]).unwrap(), Options::default());
        let o = parse(&["--quick", "--app", "todo", "--only", "swap"]).unwrap();
        assert!(o.quick);
        assert_eq!((o.app, o.only), (App::Todo, Some(Check::Swap)));
        assert_eq!(o.command(), "cargo xtask restart --quick --app todo");
        assert!(parse(&["--only", "both"]).is_err());
        assert!(parse(&["--app"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
    }

    #[test]
    fn the_swap_without_migration_is_shown_not_required() {
        let variants = swap_variants(true, false);
        assert_eq!(variants.len(), 4);
        assert!(variants.iter().all(|(v, must)| *must != (v.migrate_req == Some(false))));
        let host_only = swap_variants(false, true);
        assert_eq!(host_only.len(), 3);
        assert!(host_only.iter().all(|(_, must)| *must));
        let host_without = swap_variants(false, false);
        assert!(!host_without[1].1, "the caveat on a host without migration");
        assert_eq!(host_without[2].0.sharing, Sharing::Inherited);
    }

    #[test]
    fn free_ports_are_distinct() {
        let ports = free_ports(4).unwrap();
        let distinct: std::collections::HashSet<_> = ports.iter().collect();
        assert_eq!(distinct.len(), 4);
    }
}
