//! The profiles: a CPU profile taken while the service is under load and a
//! heap profile, each read by Go's own `go tool pprof -top`.
//!
//! The routes come from `mambo::observe::pprof` once the todo example
//! serves them; until then each step answers 404 and its rows say
//! "skipped".

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use super::checks::Check;
use super::http::Client;
use crate::restart::child::Guarded;

/// Where the CPU profile may be served, in the order tried: Go's path,
/// then the same under the todo service's operator scope.
pub const CPU_PATHS: [&str; 2] = ["/debug/pprof/profile", "/internal/debug/pprof/profile"];
/// Where the heap profile may be served, likewise.
pub const HEAP_PATHS: [&str; 2] = ["/debug/pprof/heap", "/internal/debug/pprof/heap"];
/// A frame of Mambo's dispatch names one of these, best first: the
/// generated router (`TodoApi::__mambo_group_0::{{closure}}` and the
/// like, unless inlined away), the runtime's request handling, any frame
/// of the runtime.
pub const DISPATCH_MARKERS: [&str; 3] = ["TodoApi", "mambo::server::request", "mambo::"];
/// "Top frames": the dispatch must be among this many, by cumulative time.
pub const TOP_RANKS: usize = 30;
/// Lines of each `-top` kept for the report.
pub const EXCERPT_LINES: usize = 20;
/// How long `go tool pprof` may take.
const PPROF_WITHIN: Duration = Duration::from_secs(60);
/// Load generators while the CPU profile runs.
const LOAD_THREADS: usize = 2;

/// One row of `go tool pprof -top`.
#[derive(Debug, Clone, PartialEq)]
pub struct TopRow {
    /// Time (or bytes) in the function itself, as printed.
    pub flat: String,
    /// Its share, in percent.
    pub flat_pct: f64,
    /// With its callees, as printed.
    pub cum: String,
    /// Its share, in percent.
    pub cum_pct: f64,
    /// The function.
    pub name: String,
}

/// `go tool pprof -top`'s output: the lines before the table, and the table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Top {
    /// `File:`, `Type:`, `Duration:` and the like.
    pub header: Vec<String>,
    /// The rows, in the order printed.
    pub rows: Vec<TopRow>,
}

impl Top {
    /// The value of header line `key:` (`Type` → `cpu`).
    pub fn header_value(&self, key: &str) -> Option<&str> {
        self.header.iter().find_map(|l| l.strip_prefix(key)?.strip_prefix(':').map(str::trim))
    }

    /// The first row (1-based rank) whose function names `markers[0]`, or
    /// failing that `markers[1]`, and so on.
    pub fn find(&self, markers: &[&str]) -> Option<(usize, &TopRow)> {
        markers.iter().find_map(|m| {
            self.rows.iter().enumerate().find(|(_, r)| r.name.contains(m)).map(|(i, r)| (i + 1, r))
        })
    }
}

/// Parses `go tool pprof -top` output.
pub fn parse_top(text: &str) -> Top {
    let mut top = Top::default();
    let mut in_table = false;
    for line in text.lines() {
        if !in_table {
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.starts_with(&["flat", "flat%", "sum%", "cum", "cum%"]) {
                in_table = true;
            } else if !line.trim().is_empty() {
                top.header.push(line.trim().to_owned());
            }
            continue;
        }
        let (fields, name) = split_fields(line, 5);
        let pct = |s: &str| s.trim_end_matches('%').parse::<f64>().ok();
        if let ([flat, flat_pct, _sum, cum, cum_pct], false) = (fields.as_slice(), name.is_empty())
            && let (Some(flat_pct), Some(cum_pct)) = (pct(flat_pct), pct(cum_pct))
        {
            top.rows.push(TopRow {
                flat: (*flat).to_owned(),
                flat_pct,
                cum: (*cum).to_owned(),
                cum_pct,
                name: name.to_owned(),
            });
        }
    }
    top
}

/// The first `n` whitespace-separated words of `line` and the rest,
/// trimmed (a function name may hold spaces: `<T as Trait>::f`).
fn split_fields(line: &str, n: usize) -> (Vec<&str>, &str) {
    let mut rest = line.trim_start();
    let mut fields = Vec::with_capacity(n);
    while fields.len() < n && !rest.is_empty() {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        fields.push(&rest[..end]);
        rest = rest[end..].trim_start();
    }
    (fields, rest.trim_end())
}

/// A `-top` listing kept for the report.
#[derive(Debug, Clone)]
pub struct Excerpt {
    /// Its title.
    pub title: String,
    /// The command that printed it.
    pub command: String,
    /// Its first [`EXCERPT_LINES`] lines.
    pub text: String,
}

/// What the profile steps found.
#[derive(Debug, Default)]
pub struct Profiles {
    /// Their rows.
    pub checks: Vec<Check>,
    /// The `-top` listings.
    pub excerpts: Vec<Excerpt>,
}

/// Where and how the profiles are taken.
pub struct Setup<'a> {
    /// The todo service's port.
    pub port: u16,
    /// Its operator token.
    pub token: &'a str,
    /// Its binary, for `go tool pprof`'s symbols.
    pub binary: &'a Path,
    /// Where profiles and Go's directories go.
    pub dir: &'a Path,
    /// Seconds of CPU profile.
    pub seconds: u64,
    /// Todo ids to ask for while profiling.
    pub ids: &'a [i64],
    /// Why a heap profile may be missing, if the build says so already.
    pub heap_note: Option<String>,
}

/// Takes both profiles and reads them with `go tool pprof`.
pub fn run(setup: &Setup<'_>) -> Result<Profiles, String> {
    let mut out = Profiles::default();
    // The heap first: the CPU profiler keeps its sample table (tens of MB)
    // for the life of the process, and would top the heap profile after.
    heap(setup, &mut out)?;
    cpu(setup, &mut out)?;
    Ok(out)
}

fn cpu(setup: &Setup<'_>, out: &mut Profiles) -> Result<(), String> {
    let query = format!("?seconds={}", setup.seconds);
    let stop = AtomicBool::new(false);
    let load = AtomicU64::new(0);
    let fetched = std::thread::scope(|scope| {
        for t in 0..LOAD_THREADS {
            let (stop, load) = (&stop, &load);
            scope.spawn(move || {
                let mut client = Client::new(setup.port, Duration::from_secs(5));
                let mut i = t;
                while !stop.load(Ordering::Relaxed) {
                    let path = format!("/todos/{}", setup.ids[i % setup.ids.len()]);
                    if client.get(&path, &[]).is_ok() {
                        load.fetch_add(1, Ordering::Relaxed);
                    }
                    i += 1;
                }
            });
        }
        let fetched = fetch(setup, &CPU_PATHS, &query, Duration::from_secs(setup.seconds + 20));
        stop.store(true, Ordering::Relaxed);
        fetched
    })?;
    let load = load.into_inner();
    let what = "CPU profile under load";
    let (path, bytes) = match fetched {
        Fetched::Body(path, bytes) => (path, bytes),
        Fetched::Missing(why) => {
            out.checks.push(Check::skipped(what, CPU_PATHS[0], why));
            return Ok(());
        }
        Fetched::Refused(path, why) => {
            out.checks.push(Check::new(what, &path, why, "200 and a profile".into(), false));
            return Ok(());
        }
    };
    let file = setup.dir.join("cpu.pb.gz");
    std::fs::write(&file, &bytes).map_err(|e| format!("{}: {e}", file.display()))?;
    let request = format!("GET {path}{query} ({load} GET /todos/:id meanwhile)");
    let (command, text, ok) = go_pprof(setup, &["-top"], &file)?;
    let top = parse_top(&text);
    out.excerpts.push(excerpt("CPU profile, by own time", &command, &text));
    out.checks.push(Check::new(
        "CPU profile: `go tool pprof -top` reads it",
        &request,
        format!(
            "{} bytes; type {}; {} rows",
            bytes.len(),
            top.header_value("Type").unwrap_or("?"),
            top.rows.len()
        ),
        "a cpu profile with rows".into(),
        ok && top.header_value("Type") == Some("cpu") && !top.rows.is_empty(),
    ));
    let (command, text, ok) = go_pprof(setup, &["-top", "-cum"], &file)?;
    let top = parse_top(&text);
    out.excerpts.push(excerpt("CPU profile, by cumulative time", &command, &text));
    let found = top.find(&DISPATCH_MARKERS);
    out.checks.push(Check::new(
        "CPU profile: Mambo's dispatch among the top frames",
        &command,
        found.map_or_else(
            || "no frame names TodoApi or mambo::".into(),
            |(rank, row)| format!("#{rank} `{}`, cum {:.1}%", row.name, row.cum_pct),
        ),
        format!("a frame naming TodoApi or mambo:: in the first {TOP_RANKS} by cum"),
        ok && found.is_some_and(|(rank, _)| rank <= TOP_RANKS),
    ));
    Ok(())
}

fn heap(setup: &Setup<'_>, out: &mut Profiles) -> Result<(), String> {
    let what = "heap profile: `go tool pprof -top` reads it";
    let (path, bytes) = match fetch(setup, &HEAP_PATHS, "", Duration::from_secs(30))? {
        Fetched::Body(path, bytes) => (path, bytes),
        Fetched::Missing(why) => {
            let why = match &setup.heap_note {
                Some(note) => format!("{why}; {note}"),
                None => why,
            };
            out.checks.push(Check::skipped(what, HEAP_PATHS[0], why));
            return Ok(());
        }
        // 501: the route is there but the allocator is not jemalloc with
        // profiling, which is expected when the build could not ask for it.
        Fetched::Refused(path, why) if why.starts_with("501") && setup.heap_note.is_some() => {
            let note = setup.heap_note.as_deref().unwrap_or_default();
            out.checks.push(Check::skipped(what, &path, format!("{why}; {note}")));
            return Ok(());
        }
        Fetched::Refused(path, why) => {
            out.checks.push(Check::new(what, &path, why, "200 and a profile".into(), false));
            return Ok(());
        }
    };
    let file = setup.dir.join("heap.pb.gz");
    std::fs::write(&file, &bytes).map_err(|e| format!("{}: {e}", file.display()))?;
    let (command, text, ok) = go_pprof(setup, &["-top"], &file)?;
    let top = parse_top(&text);
    out.excerpts.push(excerpt("heap profile, in use", &command, &text));
    let mambo = top.find(&DISPATCH_MARKERS).map_or("no Mambo frame".into(), |(rank, row)| {
        format!("first Mambo frame #{rank} `{}`", row.name)
    });
    out.checks.push(Check::new(
        what,
        &format!("GET {path}"),
        format!(
            "{} bytes; type {}; {} rows; {mambo}",
            bytes.len(),
            top.header_value("Type").unwrap_or("?"),
            top.rows.len()
        ),
        "a heap profile with rows".into(),
        ok && top.header_value("Type").is_some() && !top.rows.is_empty(),
    ));
    Ok(())
}

/// What asking for a profile gave.
enum Fetched {
    /// 200: the path asked and the body.
    Body(String, Vec<u8>),
    /// Every path answered 404.
    Missing(String),
    /// Another answer: the path and what it was.
    Refused(String, String),
}

/// Asks each of `paths` (with `query`) in turn until one does not answer 404.
fn fetch(
    setup: &Setup<'_>,
    paths: &[&str],
    query: &str,
    within: Duration,
) -> Result<Fetched, String> {
    let mut client = Client::new(setup.port, within);
    let bearer = format!("Bearer {}", setup.token);
    for path in paths {
        let answer = client.get(&format!("{path}{query}"), &[("Authorization", &bearer)])?;
        match answer.status {
            404 => continue,
            200 => return Ok(Fetched::Body((*path).to_owned(), answer.body)),
            status => {
                let text = answer.text();
                let why = format!("{status}: {}", text.chars().take(120).collect::<String>());
                return Ok(Fetched::Refused((*path).to_owned(), why));
            }
        }
    }
    Ok(Fetched::Missing(format!(
        "{} answered 404 (this todo build serves no such profile)",
        paths.join(" and ")
    )))
}

/// Runs `go tool pprof <args> <binary> <file>` with Go's directories in
/// the run's own: its command line, its output (stdout, then stderr), and
/// whether it succeeded.
fn go_pprof(
    setup: &Setup<'_>,
    args: &[&str],
    file: &Path,
) -> Result<(String, String, bool), String> {
    let go_dir = |name: &str| -> Result<PathBuf, String> {
        let dir = setup.dir.join(name);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(dir)
    };
    let stdout = setup.dir.join("pprof.out");
    let stderr = setup.dir.join("pprof.err");
    let create = |p: &Path| std::fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()));
    let mut cmd = Command::new("go");
    cmd.args(["tool", "pprof"])
        .args(args)
        .arg(setup.binary)
        .arg(file)
        // `go` wants a home and a cache, which root in a container or CI
        // may not have; none of them is used for anything else.
        .env("HOME", go_dir("go-home")?)
        .env("GOPATH", go_dir("go-path")?)
        .env("GOCACHE", go_dir("go-cache")?)
        .env("PPROF_TMPDIR", go_dir("pprof-tmp")?)
        .env("GOTOOLCHAIN", "local")
        .env_remove("GOFLAGS")
        .stdout(Stdio::from(create(&stdout)?))
        .stderr(Stdio::from(create(&stderr)?));
    let shown = format!(
        "go tool pprof {} {} {}",
        args.join(" "),
        setup.binary.file_name().unwrap_or_default().to_string_lossy(),
        file.file_name().unwrap_or_default().to_string_lossy()
    );
    let mut child = Guarded::spawn("go tool pprof", cmd)?;
    let status = child
        .wait_exit(PPROF_WITHIN)?
        .ok_or_else(|| format!("`{shown}` still running after {PPROF_WITHIN:?}"))?;
    let mut text = std::fs::read_to_string(&stdout).unwrap_or_default();
    let errors = std::fs::read_to_string(&stderr).unwrap_or_default();
    if !errors.trim().is_empty() {
        eprint!("{errors}");
        if !status.success() {
            text.push_str(&errors);
        }
    }
    Ok((shown, text, status.success()))
}

fn excerpt(title: &str, command: &str, text: &str) -> Excerpt {
    Excerpt {
        title: title.into(),
        command: command.into(),
        text: text.lines().take(EXCERPT_LINES).collect::<Vec<_>>().join("\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Go 1.19's `-top -cum` of a CPU profile from `mambo::observe::pprof`
    /// (its example server under load; shortened).
    const TOP: &str = "\
File: pprof
Type: cpu
Time: Dec 2, 2026 at 4:31am (UTC)
Duration: 5s, Total samples = 1.25s (25.05%)
Showing nodes accounting for 1.25s, 100% of 1.25s total
      flat  flat%   sum%        cum   cum%
         0     0%     0%      1.25s   100%  std::sys::backtrace::__rust_begin_short_backtrace
     0.01s  0.81%  0.81%      1.22s 97.58%  tokio::runtime::scheduler::multi_thread::worker::Context::run_task
     0.02s  1.61%  2.42%      1.21s 96.77%  mambo::server::conn::serve::{{closure}}
         0     0%  2.42%      1.18s 94.35%  hyper::proto::h1::dispatch::Dispatcher<D,Bs,I,T>::poll_write
         0     0%  2.42%      1.18s 94.35%  mambo::server::request::handle::{{closure}}
         0     0%  2.42%      1.18s 94.35%  pprof::App::__mambo_group_0::{{closure}}
     1.18s 94.35% 96.77%      1.18s 94.35%  pprof::spin_the_cpu
         0     0% 98.39%      0.01s  0.81%  <core::hash::sip::Hasher<S> as core::hash::Hasher>::write
";

    #[test]
    fn parses_the_header_and_rows() {
        let top = parse_top(TOP);
        assert_eq!(top.header_value("Type"), Some("cpu"));
        assert_eq!(top.header_value("File"), Some("pprof"));
        assert_eq!(top.header.len(), 5);
        assert_eq!(top.rows.len(), 8);
        assert_eq!(top.rows[1].flat, "0.01s");
        assert_eq!(top.rows[1].cum_pct, 97.58);
        assert_eq!(top.rows[0].cum_pct, 100.0);
        assert_eq!(top.rows[6].flat_pct, 94.35);
        assert_eq!(top.rows[7].name, "<core::hash::sip::Hasher<S> as core::hash::Hasher>::write");
    }

    #[test]
    fn finds_the_best_dispatch_frame() {
        let top = parse_top(TOP);
        let (rank, row) = top.find(&DISPATCH_MARKERS).unwrap();
        assert_eq!((rank, row.name.as_str()), (5, "mambo::server::request::handle::{{closure}}"));
        let todo = parse_top(&TOP.replace("pprof::App", "mambo_examples::todo::TodoApi"));
        assert_eq!(todo.find(&DISPATCH_MARKERS).unwrap().0, 6, "the generated router first");
        let server_only = parse_top(&TOP.replace("mambo::server::request", "x"));
        assert_eq!(server_only.find(&DISPATCH_MARKERS).unwrap().0, 3, "any Mambo frame");
        assert!(top.find(&["axum::"]).is_none());
    }

    #[test]
    fn tolerates_noise() {
        assert_eq!(parse_top(""), Top::default());
        let top = parse_top(
            "Type: inuse_space\n  flat  flat%   sum%        cum   cum%\nnot a row\n  1kB 1% 1% 2kB 2%\n",
        );
        assert!(top.rows.is_empty(), "a row needs a name");
        assert_eq!(top.header_value("Type"), Some("inuse_space"));
    }
}
