//! What every peer server shares: the response contract, the GitHub route
//! set and a tiny command-line parser.
//!
//! The contract is written out in `README.md` beside this workspace; the
//! constants here are its source of truth for the peers.

#![deny(missing_docs)]

/// `Content-Type` of every text answer.
pub const TEXT_PLAIN: &str = "text/plain; charset=utf-8";
/// `Content-Type` of every JSON answer.
pub const APPLICATION_JSON: &str = "application/json";
/// Body of `GET /plaintext`.
pub const PLAINTEXT_BODY: &str = "Hello, World!";
/// Message serialized (per request) into `{"message":"Hello, World!"}` by `GET /json`.
pub const JSON_MESSAGE: &str = "Hello, World!";
/// Body of `GET /ping`.
pub const PING_BODY: &str = r#"{"status":"ok"}"#;
/// Pattern of the parameterised endpoint, in the data files' `:param` spelling.
pub const USER_POST_PATTERN: &str = "/user/:id/post/:slug";

/// The GitHub REST API route set, one `METHOD /pattern` per line (203 routes).
pub const GITHUB_ROUTES: &str = include_str!("../../data/github_routes.txt");
/// One concrete request per route of [`GITHUB_ROUTES`], same order.
pub const GITHUB_REQUESTS: &str = include_str!("../../data/github_requests.txt");

/// One route or request line: an HTTP method and a path or pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// Upper-case method, as written.
    pub method: &'static str,
    /// Pattern (`/repos/:owner/:repo`) or concrete path.
    pub path: &'static str,
}

/// Parses a `METHOD /path` file, skipping blank lines.
///
/// # Panics
///
/// Panics on a line without a space; the files are embedded, so this is a
/// build-time bug.
pub fn parse_lines(text: &'static str) -> Vec<Line> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (method, path) = l.trim().split_once(' ').expect("`METHOD /path` line");
            Line { method, path: path.trim() }
        })
        .collect()
}

/// The 203 GitHub routes.
pub fn github_routes() -> Vec<Line> {
    parse_lines(GITHUB_ROUTES)
}

/// The 203 concrete GitHub requests, one per route, same order.
pub fn github_requests() -> Vec<Line> {
    parse_lines(GITHUB_REQUESTS)
}

/// Routes grouped by pattern: `(pattern, methods)`, first-seen order.
///
/// Path-only routers (matchit, axum's inner router) store one value per path
/// and choose the method afterwards, so they need this shape.
pub fn github_routes_by_path() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for line in github_routes() {
        match out.iter_mut().find(|(p, _)| *p == line.path) {
            Some((_, methods)) => methods.push(line.method),
            None => out.push((line.path, vec![line.method])),
        }
    }
    out
}

/// Names of the `:param` / `*param` segments of a pattern, in order.
pub fn param_names(pattern: &str) -> Vec<&str> {
    pattern.split('/').filter_map(|s| s.strip_prefix(':').or_else(|| s.strip_prefix('*'))).collect()
}

/// The values a concrete `path` gives the params of `pattern`, in order.
///
/// Both must have the same number of segments (no catch-alls in the GitHub set).
pub fn expected_params<'p>(pattern: &str, path: &'p str) -> Vec<&'p str> {
    pattern
        .split('/')
        .zip(path.split('/'))
        .filter(|(p, _)| p.starts_with(':') || p.starts_with('*'))
        .map(|(_, v)| v)
        .collect()
}

/// Rewrites `:param` / `*param` into `{param}` / `{*param}` (matchit 0.8+, axum 0.8, actix).
pub fn to_braces(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|s| {
            if let Some(name) = s.strip_prefix(':') {
                format!("{{{name}}}")
            } else if let Some(name) = s.strip_prefix('*') {
                format!("{{*{name}}}")
            } else {
                s.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// How a peer server runs its executor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One work-stealing runtime, one listener.
    MultiThread,
    /// One current-thread runtime and one `SO_REUSEPORT` listener per thread.
    ThreadPerCore,
}

/// Command-line options every peer takes.
#[derive(Debug, Clone, Copy)]
pub struct Args {
    /// Port on 127.0.0.1 (`--port`, default 3000).
    pub port: u16,
    /// Worker threads (`--threads`, default: available parallelism).
    pub threads: usize,
    /// Executor layout (`--mode multi|tpc`, default `multi`).
    pub mode: Mode,
}

impl Args {
    /// Parses `--port N`, `--threads N` and `--mode multi|tpc` from the process arguments.
    ///
    /// # Panics
    ///
    /// Exits the process with a message on an unknown or malformed option.
    pub fn from_env() -> Args {
        Self::parse(std::env::args().skip(1)).unwrap_or_else(|e| {
            eprintln!("error: {e}\nusage: [--port N] [--threads N] [--mode multi|tpc]");
            std::process::exit(2)
        })
    }

    /// Parses options from an iterator of arguments.
    ///
    /// # Errors
    ///
    /// Returns a message naming the bad option.
    pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
        let mut out = Args {
            port: 3000,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            mode: Mode::MultiThread,
        };
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("`{arg}` needs a value"));
            match arg.as_str() {
                "--port" => out.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
                "--threads" => {
                    out.threads = value()?.parse().map_err(|e| format!("--threads: {e}"))?
                }
                "--mode" => {
                    out.mode = match value()?.as_str() {
                        "multi" => Mode::MultiThread,
                        "tpc" => Mode::ThreadPerCore,
                        other => return Err(format!("unknown mode `{other}`")),
                    }
                }
                other => return Err(format!("unknown option `{other}`")),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_has_one_request_per_route() {
        let routes = github_routes();
        let requests = github_requests();
        assert_eq!(routes.len(), 203);
        assert_eq!(requests.len(), routes.len());
        for (r, q) in routes.iter().zip(&requests) {
            assert_eq!(r.method, q.method);
            assert_eq!(param_names(r.path).len(), expected_params(r.path, q.path).len());
        }
    }

    #[test]
    fn braces() {
        assert_eq!(to_braces("/repos/:owner/:repo"), "/repos/{owner}/{repo}");
        assert_eq!(to_braces("/static/*path"), "/static/{*path}");
        assert_eq!(to_braces("/"), "/");
    }

    #[test]
    fn args() {
        let a = Args::parse(["--port", "9", "--mode", "tpc"].map(String::from).into_iter());
        let a = a.unwrap();
        assert_eq!((a.port, a.mode), (9, Mode::ThreadPerCore));
        assert!(Args::parse(["--bogus"].map(String::from).into_iter()).is_err());
    }
}
