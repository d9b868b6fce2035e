//! `bench conn`: memory per idle keep-alive connection, Mambo vs raw hyper.
//!
//! `conn-client` (bounded: a fixed number of sockets, fixed hold time) opens
//! the connections, sends one request on each and holds them idle; the
//! server's RSS before and while they are held gives the cost per connection.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::report::Table;
use super::server::{self, Running};
use super::{Options, rss};
use crate::util;

/// Runs the suite and writes `bench-results/conn.md`.
pub fn run(opts: &Options) -> Result<(), String> {
    let conns: u32 = if opts.quick { 2_000 } else { 10_000 };
    util::run(util::peers_cargo().args(["build", "--release", "-p", "conn-client"]))?;
    let client = util::peers_dir().join("target/release/conn-client");
    let mut specs: Vec<server::Spec> = server::peers(server::server_threads())?
        .into_iter()
        .filter(|s| s.name.starts_with("raw-hyper"))
        .collect();
    let mut notes = Vec::new();
    match server::mambo_hello(opts) {
        Some(bin) => {
            specs.splice(0..0, server::mambo(bin, server::server_threads())).for_each(drop)
        }
        None => notes.push("Mambo: skipped (no mambo-bench-server binary)".to_owned()),
    }
    let mut t = Table::new(&["server", "connections", "RSS before", "RSS held", "per connection"]);
    let mut command = String::new();
    for (i, spec) in specs.iter().enumerate() {
        let server = match Running::start(spec, 19080 + i as u16) {
            Ok(s) => s,
            Err(e) => {
                notes.push(format!("{}: skipped ({e})", spec.name));
                continue;
            }
        };
        std::thread::sleep(Duration::from_millis(300));
        let before = rss::current_kib(server.pid()).ok_or("no VmRSS")?;
        let mut cmd = Command::new("bash");
        cmd.arg("-c").arg(r#"ulimit -n "$(ulimit -Hn)" && exec "$0" "$@""#).arg(&client).args([
            "--port",
            &server.port.to_string(),
            "--conns",
            &conns.to_string(),
            "--hold-secs",
            "60",
        ]);
        command = format!("{} --port PORT --conns {conns} --hold-secs 60", client.display());
        let mut child =
            cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().map_err(|e| e.to_string())?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().ok_or("no stdout")?)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        eprintln!("{}: {}", spec.name, line.trim());
        let opened: u32 = line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).unwrap_or(0);
        std::thread::sleep(Duration::from_millis(500));
        let held = rss::current_kib(server.pid()).ok_or("no VmRSS")?;
        drop(child.stdin.take());
        let _ = child.wait();
        drop(server);
        let per = (held.saturating_sub(before)) as f64 * 1024.0 / f64::from(opened.max(1));
        t.row(vec![
            spec.name.clone(),
            opened.to_string(),
            format!("{:.1} MiB", before as f64 / 1024.0),
            format!("{:.1} MiB", held as f64 / 1024.0),
            format!("{:.2} KiB", per / 1024.0),
        ]);
        if opened < conns {
            notes.push(format!("{}: only {opened} of {conns} connections opened", spec.name));
        }
    }
    let mut md = format!(
        "## Memory per idle connection\n\n\
         {conns} keep-alive connections on 127.0.0.1, one `GET /ping` answered on each, then held \
         idle; (RSS held − RSS before) / connections. `ulimit -n` raised to the hard limit for \
         both sides.\n\n{}\n",
        t.render()
    );
    for n in notes {
        md.push_str(&format!("- {n}\n"));
    }
    md.push_str(&format!("\nCommand:\n\n```sh\n{command}\n```\n"));
    std::fs::write(util::results_dir().join("conn.md"), &md).map_err(|e| e.to_string())?;
    println!("{md}");
    Ok(())
}
