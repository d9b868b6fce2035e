//! The restart section of `RELIABILITY.md`: the command, date, commit,
//! machine and both checks' figures, between markers so that
//! `cargo xtask attack` can rewrite the rest of the file around it.

use std::time::Duration;

use super::load::Figures;
use super::{Plan, nginx, rolling, swap};
use crate::bench::report::{self as bench_report, Table};
use crate::util;

/// The markers around the section; nothing outside them is touched.
const BEGIN: &str = "<!-- restart:begin -->";
const END: &str = "<!-- restart:end -->";

/// What the checks measured.
#[derive(Default)]
pub struct Results {
    /// Check (a), if it ran.
    pub rolling: Option<rolling::Outcome>,
    /// Check (b)'s runs, each with whether it must hold.
    pub swaps: Vec<(swap::Outcome, bool)>,
}

impl Results {
    /// The runs that must hold and had failed requests.
    pub fn failing(&self) -> Vec<String> {
        let mut failing = Vec::new();
        if let Some(r) = &self.rolling
            && r.load.failures() > 0
        {
            failing.push(format!("rolling restart ({} failed)", r.load.failures()));
        }
        for (s, must_hold) in &self.swaps {
            if *must_hold && s.load.failures() > 0 {
                failing.push(format!("{} ({} failed)", swap_name(s), s.load.failures()));
            }
        }
        failing
    }
}

fn swap_name(s: &swap::Outcome) -> String {
    format!(
        "binary swap, {}, {} clients, tcp_migrate_req = {}",
        s.variant.sharing.label(),
        s.variant.connections.label(),
        u8::from(s.migrate_req)
    )
}

/// The facts of the run shown above the figures.
pub struct RunInfo {
    /// `cargo xtask restart [--quick]`.
    pub command: String,
    /// Whether `--quick` was given.
    pub quick: bool,
    /// `(what, value)` pairs: commit, machine, tools.
    pub facts: Vec<(String, String)>,
}

impl RunInfo {
    /// The facts of this run on this machine.
    pub fn gather(command: String, quick: bool, host_migrates: bool) -> RunInfo {
        let root = util::root().to_string_lossy().into_owned();
        let commit = util::version_of("git", &["-C", &root, "rev-parse", "--short", "HEAD"]);
        let dirty = std::process::Command::new("git")
            .args(["-C", &root, "status", "--porcelain", "--untracked-files=no"])
            .output()
            .is_ok_and(|o| !o.stdout.is_empty());
        let mut facts = vec![(
            "git commit".to_owned(),
            if dirty { format!("{commit} (with uncommitted changes)") } else { commit },
        )];
        facts.extend(bench_report::machine());
        facts.extend([
            (
                "the examples' allocator".into(),
                crate::attack::target::Allocator::DEFAULT.name().into(),
            ),
            ("nginx".into(), util::version_of("nginx", &["-v"])),
            ("wrk".into(), util::version_of("wrk", &["-v"])),
            ("`net.ipv4.tcp_migrate_req` on the host".into(), u8::from(host_migrates).to_string()),
        ]);
        RunInfo { command, quick, facts }
    }
}

/// `1.234` ms as `1.23 ms`, `31.05` as `31.1 ms`, `1234.6` as `1 235 ms`.
fn ms(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2} ms")
    } else if v < 100.0 {
        format!("{v:.1} ms")
    } else {
        format!("{} ms", bench_report::rate(v))
    }
}

fn secs(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

/// `0 (0/0/0/0)`: all socket errors, then connect/read/write/timeout.
fn socket_errors(f: &Figures) -> String {
    format!("{} ({}/{}/{}/{})", f.socket_errors(), f.connect, f.read, f.write, f.timeout)
}

fn holds(f: &Figures, must_hold: bool) -> String {
    match (f.failures() == 0, must_hold) {
        (true, _) => "yes".into(),
        (false, true) => "**no**".into(),
        (false, false) => "no (the caveat, shown)".into(),
    }
}

/// nginx's upstream complaints, counted by message (`connect() failed
/// (111: Connection refused) while connecting to upstream` ×3).
fn upstream_summary(lines: &[String]) -> Vec<(String, usize)> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for line in lines {
        // `… [error] 12#12: *5 <message>, client: …`
        let message = line
            .split_once(": *")
            .and_then(|(_, rest)| rest.split_once(' '))
            .map_or(line.as_str(), |(_, message)| message);
        let message = message.split(", client:").next().unwrap_or(message).trim().to_owned();
        match counts.iter_mut().find(|(m, _)| *m == message) {
            Some((_, n)) => *n += 1,
            None => counts.push((message, 1)),
        }
    }
    counts
}

fn rolling_md(r: &rolling::Outcome, plan: &Plan) -> String {
    let mut md = format!(
        "### Rolling restart behind nginx\n\n\
         {n} instances of `{app}` behind nginx (the configuration of \
         [`examples/deploy/nginx.conf`](examples/deploy/nginx.conf)), load through nginx for \
         {secs} s: `{cmd}`. At ⅕, ⅖ and ⅗ of the run one instance in turn gets SIGTERM, is \
         started again on its port once it has exited, and the next one waits until it answers \
         and nginx's `fail_timeout` ({fail} s) has passed. The connections are counted with \
         `ss` at each SIGTERM and a second before the load ends.\n\n",
        n = rolling::INSTANCES,
        app = plan.app.name(),
        secs = plan.secs,
        cmd = any_port(&r.command),
        fail = nginx::FAIL_TIMEOUT_SECS,
    );
    let f = &r.load;
    let mut table = Table::new(&[
        "requests",
        "req/s",
        "non-2xx",
        "socket errors (connect/read/write/timeout)",
        "p50",
        "p99",
        "max",
        "no failed request",
    ]);
    table.row(vec![
        bench_report::rate(f.requests as f64),
        bench_report::rate(f.req_per_sec),
        f.non_2xx.to_string(),
        socket_errors(f),
        ms(f.p50_ms),
        ms(f.p99_ms),
        ms(f.max_ms),
        holds(f, true),
    ]);
    md.push_str(&table.render());
    md.push('\n');
    let mut table = Table::new(&[
        "instance",
        "connections from nginx at SIGTERM",
        "drained and exited in",
        "answering again after",
        "connections from nginx at the end",
    ]);
    for (i, restart) in r.restarts.iter().enumerate() {
        table.row(vec![
            (i + 1).to_string(),
            restart.open_at_sigterm.to_string(),
            secs(restart.drained_in),
            secs(restart.back_in),
            restart.open_at_end.to_string(),
        ]);
    }
    md.push_str(&table.render());
    md.push('\n');
    let summary = upstream_summary(&r.upstream_errors);
    if summary.is_empty() {
        md.push_str("nginx's error log has no line about its upstreams.\n\n");
    } else {
        md.push_str(
            "nginx's error log about its upstreams (each a request it sent on to another \
             instance, or an instance it set aside for `fail_timeout`):\n\n",
        );
        for (message, n) in summary {
            md.push_str(&format!("- `{message}` ×{n}\n"));
        }
        md.push('\n');
    }
    md
}

fn swaps_md(swaps: &[(swap::Outcome, bool)], plan: &Plan) -> String {
    let count = swap::swaps(plan.secs);
    let mut md = format!(
        "### Binary swap on one port\n\n\
         No proxy: wrk against `{app}` for {secs} s (32 connections, keep-alive, or a new \
         connection per request with `-H 'Connection: close'`). {count} times during the run, \
         evenly spaced, a new process starts on the same port, and once it serves (20 fresh \
         connections in a row answered) the old one gets SIGTERM; the new one is the old one of \
         the next swap. *Own listeners*: each process binds the port itself with \
         `SO_REUSEPORT` (`MAMBO_REUSE_PORT=1`), and the new one must be listening before the \
         probes count. *One inherited socket*: the xtask binds the port once and hands the \
         socket to every process as systemd's socket activation does (`LISTEN_FDS`, \
         `Server::from_listener`).\n\n",
        app = plan.app.name(),
        secs = plan.secs,
    );
    let mut table = Table::new(&[
        "port",
        "clients",
        "`tcp_migrate_req`",
        "swaps",
        "requests",
        "non-2xx",
        "socket errors (connect/read/write/timeout)",
        "p99",
        "max",
        "old process at SIGTERM: connections (mean)",
        "old process drained in (max)",
        "new process answering after (max)",
        "no failed request",
    ]);
    for (s, must_hold) in swaps {
        let f = &s.load;
        let steps = s.steps.len().max(1);
        let open: usize = s.steps.iter().map(|step| step.old_open_at_sigterm).sum();
        let max = |d: fn(&swap::Step) -> Duration| s.steps.iter().map(d).max().unwrap_or_default();
        table.row(vec![
            s.variant.sharing.label().into(),
            s.variant.connections.label().into(),
            u8::from(s.migrate_req).to_string(),
            s.steps.len().to_string(),
            bench_report::rate(f.requests as f64),
            f.non_2xx.to_string(),
            socket_errors(f),
            ms(f.p99_ms),
            ms(f.max_ms),
            format!("{:.1}", open as f64 / steps as f64),
            secs(max(|step| step.old_drained_in)),
            secs(max(|step| step.new_ready_in)),
            holds(f, *must_hold),
        ]);
    }
    md.push_str(&table.render());
    md.push('\n');
    let mut commands: Vec<String> = swaps.iter().map(|(s, _)| any_port(&s.command)).collect();
    commands.sort();
    commands.dedup();
    md.push_str("wrk: ");
    md.push_str(&commands.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", "));
    md.push_str(" (`PORT` is picked at random for each run).\n\n");
    md
}

/// `command` with the port of `127.0.0.1:PORT` written as `PORT`.
fn any_port(command: &str) -> String {
    const HOST: &str = "127.0.0.1:";
    let Some(at) = command.find(HOST).map(|at| at + HOST.len()) else {
        return command.to_owned();
    };
    let digits = command[at..].find(|c: char| !c.is_ascii_digit()).unwrap_or(command.len() - at);
    format!("{}PORT{}", &command[..at], &command[at + digits..])
}

/// The notes under the figures: what the runs show and the caveat.
const READING: &str = "\
#### Reading the figures

- **A failed request** is anything wrk counts against the run: a non-2xx answer, or a socket
  error (a refused or reset connect, a connection closed or reset before the whole answer, a
  write error, no answer within 5 s). p50/p99 are over the answered requests; *max* is the
  slowest, which shows the pause a restart costs. The machine is shared and has two cores for
  wrk, nginx and the servers together: the latencies are loaded ones.
- **Draining.** On SIGTERM Mambo takes the connections already queued on its listener and
  closes it, answers every request that still comes on an HTTP/1.1 connection with
  `connection: close` (HTTP/2 gets `GOAWAY`), closes the connections still quiet 500 ms later,
  and exits once none is left (30 s at most). A keep-alive client sees its connection end after
  a whole answer and reconnects: to another instance through nginx, to the other process on a
  shared port. nginx's refused connects above are those reconnections meeting a stopped
  instance; it sends them on to the next one, and its client sees nothing.
- **The caveat of `SO_REUSEPORT`.** Each listener of the group has its own accept queue, and
  the kernel hashes every new connection to one of them. A connection still in the old
  listener's queue when it closes is reset. Mambo empties the queue right before closing, which
  leaves only the microseconds in between; `net.ipv4.tcp_migrate_req = 1` (Linux 5.14+) has the
  kernel move even those to another listener of the group. Keep-alive clients never meet it
  (they reconnect after the old listener is gone); clients that open a connection per request
  can: the `Connection: close` rows. Waiting longer between \"the new process answers\" and
  \"SIGTERM to the old one\" changes nothing, since the old queue fills for as long as it is
  open.
- **One socket, handed down** removes the race itself: no listening socket is ever closed. The
  old and the new process serve the same socket, the old one stops accepting, and whatever
  waits in the queue is the new one's. That is what systemd socket activation gives, or any
  parent that binds the port and passes the socket on.
- When the xtask may write `/proc/sys/net/ipv4/tcp_migrate_req` it sets it for the one run that
  needs each value and puts the host's value back after.
";

/// The whole section, markers included.
pub fn section(info: &RunInfo, plan: &Plan, results: &Results) -> String {
    let mut md = format!(
        "{BEGIN}\n## Zero-downtime restarts\n\n\
         Generated by `cargo xtask restart`; do not edit by hand. Release builds of the \
         examples on 127.0.0.1 under wrk, restarted the two ways \
         [`examples/deploy/`](examples/deploy/README.md) describes; every failed request \
         counts.\n\n"
    );
    if info.quick {
        md.push_str(
            "**Quick run (`--quick`): 15 s of load per check instead of 60 s; the figures are \
             indicative only.**\n\n",
        );
    }
    md.push_str(&format!("Command: `{}`\n\n", info.command));
    let mut facts = Table::new(&["what", "value"]).left_aligned();
    for (what, value) in &info.facts {
        facts.row(vec![what.clone(), value.clone()]);
    }
    md.push_str(&facts.render());
    md.push('\n');
    if let Some(r) = &results.rolling {
        md.push_str(&rolling_md(r, plan));
    }
    if !results.swaps.is_empty() {
        md.push_str(&swaps_md(&results.swaps, plan));
    }
    md.push_str(READING);
    md.push_str(END);
    md.push('\n');
    md
}

/// `old` with its restart section replaced by `section`; the section is
/// appended when `old` has none, and is all there is when `old` is empty.
fn splice(old: &str, section: &str) -> String {
    if let Some(start) = old.find(BEGIN)
        && let Some(len) = old[start..].find(END)
    {
        let end = start + len + END.len();
        let rest = old[end..].strip_prefix('\n').unwrap_or(&old[end..]);
        return format!("{}{section}{rest}", &old[..start]);
    }
    if old.trim().is_empty() {
        return section.to_owned();
    }
    format!("{}\n\n{section}", old.trim_end())
}

/// Rewrites the restart section of `RELIABILITY.md` at the workspace root
/// (creating the file with just that section if there is none).
pub fn write(section: &str) -> Result<(), String> {
    let path = util::root().join("RELIABILITY.md");
    let old = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    std::fs::write(&path, splice(&old, section)).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("wrote the restart section of {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECTION: &str = "<!-- restart:begin -->\nnew\n<!-- restart:end -->\n";

    #[test]
    fn splice_replaces_only_between_the_markers() {
        let old = "# Reliability\n\nattack\n\n<!-- restart:begin -->\nold\n<!-- restart:end -->\n\n## After\n";
        assert_eq!(
            splice(old, SECTION),
            "# Reliability\n\nattack\n\n<!-- restart:begin -->\nnew\n<!-- restart:end -->\n\n## After\n"
        );
    }

    #[test]
    fn splice_appends_to_a_file_without_the_section_and_creates_one() {
        assert_eq!(
            splice("# Reliability\n\nattack\n", SECTION),
            format!("# Reliability\n\nattack\n\n{SECTION}")
        );
        assert_eq!(splice("", SECTION), SECTION);
    }

    #[test]
    fn splice_twice_is_splice_once() {
        let once = splice("# R\n", SECTION);
        assert_eq!(splice(&once, SECTION), once);
    }

    #[test]
    fn an_unterminated_section_is_left_and_a_new_one_appended() {
        let old = "<!-- restart:begin -->\nhalf";
        assert_eq!(splice(old, SECTION), format!("{old}\n\n{SECTION}"));
    }

    #[test]
    fn nginx_complaints_are_counted_by_message() {
        let line = |n: u32, port: u16| {
            format!(
                "2026/12/02 10:00:00 [error] 7#7: *{n} connect() failed (111: Connection refused) \
                 while connecting to upstream, client: 127.0.0.1, server: , request: \"GET /ping \
                 HTTP/1.1\", upstream: \"http://127.0.0.1:{port}/ping\", host: \"127.0.0.1\""
            )
        };
        let warn = "2026/12/02 10:00:00 [warn] 7#7: *3 upstream server temporarily disabled \
                    while connecting to upstream, client: 127.0.0.1"
            .to_owned();
        let summary = upstream_summary(&[line(1, 9001), line(2, 9002), warn]);
        assert_eq!(
            summary,
            [
                (
                    "connect() failed (111: Connection refused) while connecting to upstream"
                        .into(),
                    2
                ),
                ("upstream server temporarily disabled while connecting to upstream".into(), 1),
            ]
        );
    }

    #[test]
    fn commands_are_shown_without_their_random_port() {
        assert_eq!(
            any_port("wrk -t1 http://127.0.0.1:41234/plaintext"),
            "wrk -t1 http://127.0.0.1:PORT/plaintext"
        );
        assert_eq!(any_port("wrk http://127.0.0.1:8"), "wrk http://127.0.0.1:PORT");
        assert_eq!(any_port("no address"), "no address");
    }

    #[test]
    fn numbers() {
        assert_eq!(ms(1.234), "1.23 ms");
        assert_eq!(ms(31.05), "31.1 ms");
        assert_eq!(ms(1234.6), "1 235 ms");
        assert_eq!(secs(Duration::from_millis(12)), "12 ms");
        assert_eq!(secs(Duration::from_millis(1500)), "1.50 s");
    }
}
