//! `cargo xtask attack`: long hostile-client checks against release builds
//! of the `hello`, `todo` and `chat` examples, which rewrite `RELIABILITY.md`.
//!
//! Every case starts a fresh server on 127.0.0.1, runs a normal client
//! beside the attack (`normal`), watches the server's memory (`watch`),
//! and stops by itself: counts are fixed and each case is cut off at
//! [`CASE_LIMIT`](case::CASE_LIMIT). The cases live in one table,
//! [`CASES`], which the report, `--case` and `--list` all read. One module
//! per group of cases (`h1`, `h2`, `floods`, `uploads`, `conns`, `ws`); the pure parts
//! (`frames`, `wire`, `stats`, `report`) are unit-tested, the attacks
//! never run under `cargo test`.

mod case;
mod conns;
mod floods;
mod frames;
mod h1;
mod h2;
mod nofile;
mod normal;
mod report;
mod scene;
mod stats;
pub(crate) mod target;
mod uploads;
mod watch;
mod wire;
mod ws;

use std::time::Instant;

use case::{Case, Ctx};
use target::Allocator;

/// Options of `cargo xtask attack`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Smaller counts and shorter timeouts (about 10 s a case), to check
    /// the harness itself.
    pub quick: bool,
    /// Run only this case (and print its row instead of rewriting the report).
    pub case: Option<String>,
    /// List the cases and exit.
    pub list: bool,
    /// The global allocator the examples are built with.
    pub allocator: Allocator,
}

impl Options {
    /// Parses `[--quick] [--case NAME] [--list] [--allocator NAME]`.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut opts = Options::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--quick" => opts.quick = true,
                "--list" => opts.list = true,
                "--case" => {
                    let name = it.next().ok_or("--case needs a name (see --list)")?;
                    if find(name).is_none() {
                        return Err(format!("no case `{name}`; the cases: {}", names().join(", ")));
                    }
                    opts.case = Some(name.clone());
                }
                "--allocator" => {
                    let name = it
                        .next()
                        .ok_or("--allocator needs system, system-trim, mimalloc or jemalloc")?;
                    opts.allocator = Allocator::parse(name)?;
                }
                other => return Err(format!("unexpected `{other}`; see `cargo xtask help`")),
            }
        }
        Ok(opts)
    }
}

/// Every case, in the report's order: first the failures of issue #10,
/// then the attacks that already fail to hurt (kept so regressions show),
/// then memory across bursts.
const CASES: &[Case] = &[
    Case {
        name: "h2-ping-idle",
        sends: "1 000 (100) h2c connections: preface and SETTINGS, then a PING every 2 s and never a request",
        holds: "every connection closed by keep-alive + 1 s (keep-alive 5 s, quick 3 s); normal client ≥ 99 % 200",
        run: h2::ping_idle,
    },
    Case {
        name: "slow-uploads",
        sends: "to todo `POST /todos`, from 250 loopback addresses (each under the per-client connection limit): 2 000 (300) HTTP/1.1 requests with `Content-Length: 16000` that send 10 bytes and stall; 40 × 200 (5 × 50) h2 streams of HEADERS and no DATA",
        holds: "every stalled request answered 408 or closed within the body timeout + 1 s (5 s, quick 3 s); normal client ≥ 99 % 200",
        run: uploads::slow_uploads,
    },
    Case {
        name: "h2-zero-window",
        sends: "20 (5) h2c connections with an initial stream window of 0, 200 (100) streams each of todo `GET /todos?limit=500` (an ~86 KB answer), never reading",
        holds: "server RSS grows < 64 MiB; every connection closed within keep-alive + 5 s (keep-alive 5 s, quick 3 s)",
        run: h2::zero_window,
    },
    Case {
        name: "conn-flood-one-ip",
        sends: "10 000 (1 000) HTTP/1.1 keep-alive connections from 127.0.0.1, one GET each, then idle 20 s (5 s)",
        holds: "normal client, from 127.0.0.2, ≥ 99 % 200",
        run: conns::conn_flood_one_ip,
    },
    Case {
        name: "low-nofile",
        sends: "1 100 HTTP/1.1 clients from 250 loopback addresses (a GET each, kept open) to hello started under `ulimit -n 1024`",
        holds: "every client answered (200 or 503) or closed within 1 s; none hangs",
        run: conns::low_nofile,
    },
    Case {
        name: "smuggling",
        sends: "POSTs whose body hides a second GET, framed CL.TE, TE.CL, two Content-Lengths, `Transfer-Encoding : chunked`, `xchunked`, chunked + identity; round after round for 5 s (2 s)",
        holds: "the hidden GET is never answered; normal client ≥ 99 % 200",
        run: h1::smuggling,
    },
    Case {
        name: "oversize-head",
        sends: "GETs with an 80 KB head (limit 64 KiB), one connection after another: 50 (10) or more, for at least 5 s (2 s)",
        holds: "each answered 431 within 1 s; normal client ≥ 99 % 200",
        run: h1::oversize_head,
    },
    Case {
        name: "oversize-uri",
        sends: "GETs with a 70 KB URI, one connection after another: 50 (10) or more, for at least 5 s (2 s)",
        holds: "each answered 414 or 431 within 1 s; normal client ≥ 99 % 200",
        run: h1::oversize_uri,
    },
    Case {
        name: "pipelined-flood",
        sends: "rounds of 10 (2) connections, each writing 10 000 (2 000) pipelined GETs at once, for at least 5 s (2 s)",
        holds: "all answered 200; RSS grows < 64 MiB; normal client ≥ 99 % 200",
        run: h1::pipelined_flood,
    },
    Case {
        name: "mid-request-disconnects",
        sends: "10 000 (2 000) or more, for at least 5 s (2 s): clients that send nothing, part of a request line, a head without its end, or a whole GET, then vanish (FIN or reset)",
        holds: "the server's open fds back to where they started within 5 s; normal client ≥ 99 % 200",
        run: h1::mid_request_disconnects,
    },
    Case {
        name: "h2-rapid-reset",
        sends: "for 15 s (4 s), 10 (2) h2c connections at a time sending HEADERS each followed at once by RST_STREAM, reconnecting when the server ends one",
        holds: "RSS grows < 64 MiB; normal client ≥ 99 % 200",
        run: floods::rapid_reset,
    },
    Case {
        name: "h2-continuation-flood",
        sends: "for 15 s (4 s), 8 (2) h2c connections at a time: HEADERS without END_HEADERS, then up to 64 MiB (16 MiB) of CONTINUATION frames, reconnecting when the server ends one",
        holds: "the server ends the header blocks (GOAWAY or close), none gets all its bytes in; RSS grows < 64 MiB; normal client ≥ 99 % 200",
        run: floods::continuation_flood,
    },
    Case {
        name: "h2-settings-flood",
        sends: "for 15 s (4 s), 10 (2) h2c connections at a time writing SETTINGS frames as fast as they go in, never reading the ACKs",
        holds: "RSS grows < 64 MiB; normal client ≥ 99 % 200",
        run: floods::settings_flood,
    },
    Case {
        name: "h2-ping-flood",
        sends: "for 15 s (4 s), 10 (2) h2c connections at a time writing PINGs as fast as they go in, never reading the answers",
        holds: "RSS grows < 64 MiB; normal client ≥ 99 % 200",
        run: floods::ping_flood,
    },
    Case {
        name: "sigterm-in-flight",
        sends: "100 (30) todo POSTs with half their body sent, then SIGTERM, then the other halves",
        holds: "every POST answered 201; the server exits with status 0 within 10 s",
        run: uploads::sigterm_in_flight,
    },
    Case {
        name: "ws-idle-sockets",
        sends: "to chat `/ws`, from 250 loopback addresses: 2 000 (300) WebSocket handshakes, then silence: no frame, no answer to pings (ping 2 s, idle timeout 4 s)",
        holds: "every socket dropped within 7 s of its handshake; RSS grows < 64 MiB; normal client ≥ 99 % 200",
        run: ws::idle_sockets,
    },
    Case {
        name: "ws-huge-frames",
        sends: "to chat `/ws` (16 KiB message limit): 200 (40) sockets, half sending a frame header announcing 1 GiB then 64 KiB, half an endless message of 8 KiB fragments",
        holds: "every socket gets a close frame with 1009 within 3 s; RSS grows < 64 MiB; normal client ≥ 99 % 200",
        run: ws::huge_frames,
    },
    Case {
        name: "ws-never-read",
        sends: "to chat `/ws`: 20 (5) sockets with a 4 KiB receive buffer posting 400-character messages as fast as they go in and never reading the room, beside 20 (5) sockets that read (write timeout 3 s)",
        holds: "every spammer cut off within 30 s (15 s); every reading socket still served; RSS grows < 64 MiB; normal client ≥ 99 % 200",
        run: ws::never_read,
    },
    Case {
        name: "burst-rss",
        sends: "10 (3) bursts of 9 000 (2 000) HTTP/1.1 connections from 250 loopback addresses, a GET on each, then all closed",
        holds: "RSS after the last burst ≤ 1.2 × RSS after the first",
        run: conns::burst_rss,
    },
];

/// The cases' names, in order.
fn names() -> Vec<&'static str> {
    CASES.iter().map(|c| c.name).collect()
}

/// The case called `name`.
fn find(name: &str) -> Option<&'static Case> {
    CASES.iter().find(|c| c.name == name)
}

/// Runs the cases `opts` selects.
pub fn run(opts: &Options) -> Result<(), String> {
    if opts.list {
        for case in CASES {
            println!("{:<24} {}", case.name, case.sends);
        }
        return Ok(());
    }
    let cases: Vec<&Case> = match &opts.case {
        Some(name) => vec![find(name).ok_or_else(|| format!("no case `{name}`"))?],
        None => CASES.iter().collect(),
    };
    let nofile = nofile::raise_to_hard()?;
    let binaries = target::build(opts.allocator)?;
    let ctx = Ctx::new(opts.quick, binaries)?;
    let mut rows = Vec::new();
    for case in cases {
        eprintln!("\n=== attack {} (allocator {}) ===", case.name, opts.allocator.name());
        ctx.begin_case();
        let start = Instant::now();
        let result = (case.run)(&ctx);
        match &result {
            Ok(m) => eprintln!(
                "{} ({}) in {}: {}\n  {}",
                case.name,
                opts.allocator.name(),
                stats::secs(start.elapsed()),
                if m.holds { "holds" } else { "DOES NOT HOLD" },
                m.figure
            ),
            Err(e) => eprintln!("{}: not measured: {e}", case.name),
        }
        rows.push(report::Row { case, result });
    }
    let mut command = "cargo xtask attack".to_owned();
    if opts.quick {
        command.push_str(" --quick");
    }
    if opts.allocator != Allocator::DEFAULT {
        command.push_str(&format!(" --allocator {}", opts.allocator.name()));
    }
    if opts.case.is_none() {
        let info = report::RunInfo::gather(command, opts.quick, nofile, opts.allocator);
        report::write(&info, &rows)?;
    }
    let failing: Vec<&str> = rows.iter().filter(|r| !r.holds()).map(|r| r.case.name).collect();
    if failing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} of {} cases do not hold: {}",
            failing.len(),
            rows.len(),
            failing.join(", ")
        ))
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
        let o = parse(&["--quick", "--case", "smuggling"]).unwrap();
        assert!(o.quick && !o.list);
        assert_eq!(o.case.as_deref(), Some("smuggling"));
        assert!(parse(&["--list"]).unwrap().list);
        assert!(parse(&["--case"]).is_err());
        assert!(parse(&["--case", "nope"]).unwrap_err().contains("h2-ping-idle"));
        assert!(parse(&["--bogus"]).is_err());
        assert_eq!(parse(&[]).unwrap().allocator, Allocator::DEFAULT);
        assert_eq!(parse(&["--allocator", "jemalloc"]).unwrap().allocator, Allocator::Jemalloc);
        assert!(parse(&["--allocator"]).is_err());
        assert!(parse(&["--allocator", "tcmalloc"]).is_err());
    }

    #[test]
    fn case_names_are_unique_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for case in CASES {
            assert!(seen.insert(case.name), "{} twice", case.name);
            assert!(
                case.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            );
            assert!(!case.sends.is_empty() && !case.holds.is_empty());
        }
        assert_eq!(CASES.len(), 19);
    }
}
