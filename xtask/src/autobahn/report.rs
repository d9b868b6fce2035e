//! Reading the suite's `index.json` and writing the summary.
//!
//! Each case has a `behavior` (the protocol exchange) and a
//! `behaviorClose` (the closing handshake), each one of `OK`,
//! `NON-STRICT` (allowed by the RFC, not the strictest reading),
//! `INFORMATIONAL` (no verdict, e.g. which close code was sent),
//! `UNIMPLEMENTED` (an optional feature the server does not offer:
//! permessage-deflate, sections 12 and 13), and `FAILED` (or
//! `WRONG CODE`, `UNCLEAN` for the close).

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One case's verdicts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    /// The case id, e.g. `6.4.3`.
    pub id: String,
    pub behavior: String,
    pub close: String,
    pub duration_ms: u64,
}

/// What the summary says about the run.
pub struct Context<'a> {
    pub command: &'a str,
    pub suite_version: String,
    pub seconds: f64,
}

/// The cases of the only agent in `index.json`, in case order.
pub fn parse(index: &str) -> Result<Vec<CaseResult>, String> {
    let json: serde_json::Value =
        serde_json::from_str(index).map_err(|e| format!("index.json: {e}"))?;
    let agents = json.as_object().ok_or("index.json: not an object")?;
    let (_, cases) = agents.iter().next().ok_or("index.json: no agent")?;
    let cases = cases.as_object().ok_or("index.json: the agent's cases are not an object")?;
    let mut results: Vec<CaseResult> = cases
        .iter()
        .map(|(id, case)| CaseResult {
            id: id.clone(),
            behavior: case["behavior"].as_str().unwrap_or("?").to_owned(),
            close: case["behaviorClose"].as_str().unwrap_or("?").to_owned(),
            duration_ms: case["duration"].as_u64().unwrap_or(0),
        })
        .collect();
    results.sort_by_key(|case| case_key(&case.id));
    Ok(results)
}

fn case_key(id: &str) -> Vec<u32> {
    id.split('.').map(|part| part.parse().unwrap_or(u32::MAX)).collect()
}

fn is_failure(verdict: &str) -> bool {
    !matches!(verdict, "OK" | "NON-STRICT" | "INFORMATIONAL" | "UNIMPLEMENTED")
}

/// The ids of the cases that failed, exchange or close.
pub fn failed(results: &[CaseResult]) -> Vec<String> {
    results
        .iter()
        .filter(|case| is_failure(&case.behavior) || is_failure(&case.close))
        .map(|case| case.id.clone())
        .collect()
}

/// What the suite tests in each section.
fn section_name(section: &str) -> &'static str {
    match section {
        "1" => "framing (text and binary payloads)",
        "2" => "pings and pongs",
        "3" => "reserved bits",
        "4" => "opcodes",
        "5" => "fragmentation",
        "6" => "UTF-8 handling",
        "7" => "close handshake",
        "9" => "limits and performance (up to 16 MiB messages)",
        "10" => "miscellaneous (auto-fragmentation)",
        "12" => "permessage-deflate: payloads",
        "13" => "permessage-deflate: parameters",
        _ => "",
    }
}

/// The markdown summary.
pub fn summary(results: &[CaseResult], cx: &Context<'_>) -> String {
    let mut totals: BTreeMap<&str, usize> = BTreeMap::new();
    for case in results {
        *totals.entry(verdict(case)).or_default() += 1;
    }
    let mut md = String::new();
    let _ = writeln!(md, "# Autobahn TestSuite: Mambo's WebSocket\n");
    let _ = writeln!(
        md,
        "`{}` ran the Autobahn TestSuite {} (`wstest -m fuzzingclient`) against \
         `mambo-bench-ws --autobahn` (Mambo's `ws` feature, tokio-tungstenite 0.30 \
         underneath; the echo route of `tests/src/bin/bench_ws.rs`, with 64 MiB message \
         and frame limits) on 127.0.0.1, in {:.0} s. The suite's own per-case reports \
         are in `index.json` beside this file.\n",
        cx.command, cx.suite_version, cx.seconds
    );
    let total: Vec<String> = totals.iter().map(|(v, n)| format!("{n} {v}")).collect();
    let _ = writeln!(md, "**{} cases: {}.**\n", results.len(), total.join(", "));
    let _ = writeln!(
        md,
        "| section | what | cases | OK | NON-STRICT | INFORMATIONAL | UNIMPLEMENTED | FAILED |"
    );
    let _ = writeln!(md, "|---|---|---:|---:|---:|---:|---:|---:|");
    let mut sections: Vec<&str> = Vec::new();
    for case in results {
        let section = case.id.split('.').next().unwrap_or("");
        if !sections.contains(&section) {
            sections.push(section);
        }
    }
    for section in sections {
        let cases: Vec<&CaseResult> =
            results.iter().filter(|case| case.id.split('.').next() == Some(section)).collect();
        let count = |v: &str| cases.iter().filter(|case| verdict(case) == v).count();
        let _ = writeln!(
            md,
            "| {section} | {} | {} | {} | {} | {} | {} | {} |",
            section_name(section),
            cases.len(),
            count("OK"),
            count("NON-STRICT"),
            count("INFORMATIONAL"),
            count("UNIMPLEMENTED"),
            count("FAILED"),
        );
    }
    let notable: Vec<&CaseResult> = results
        .iter()
        .filter(|case| verdict(case) != "OK" && verdict(case) != "UNIMPLEMENTED")
        .collect();
    if !notable.is_empty() {
        let _ = writeln!(md, "\nEvery case not plainly OK (permessage-deflate aside):\n");
        let _ = writeln!(md, "| case | behaviour | close |");
        let _ = writeln!(md, "|---|---|---|");
        for case in notable {
            let _ = writeln!(md, "| {} | {} | {} |", case.id, case.behavior, case.close);
        }
    }
    let _ = writeln!(
        md,
        "\nNON-STRICT (6.4.3, 6.4.4): the invalid UTF-8 arrives in chops of one frame, and \
         the suite would like the connection failed at the chop that holds it; \
         tungstenite checks a frame once it is whole, so it fails at the frame's end \
         (RFC 6455 allows both). INFORMATIONAL cases have no verdict (what a server does \
         after a close, a close code the RFC leaves undefined). UNIMPLEMENTED: \
         permessage-deflate (sections 12 and 13) is not offered; neither tungstenite nor \
         fastwebsockets implements it."
    );
    md
}

/// The case's overall verdict: FAILED if either part failed, else the
/// exchange's.
fn verdict(case: &CaseResult) -> &str {
    if is_failure(&case.behavior) || is_failure(&case.close) {
        "FAILED"
    } else {
        case.behavior.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = r#"{"mambo": {
        "1.1.1": {"behavior": "OK", "behaviorClose": "OK", "duration": 2},
        "10.1.1": {"behavior": "OK", "behaviorClose": "OK", "duration": 3},
        "6.4.3": {"behavior": "NON-STRICT", "behaviorClose": "OK", "duration": 5},
        "2.1": {"behavior": "OK", "behaviorClose": "UNCLEAN", "duration": 1},
        "12.1.1": {"behavior": "UNIMPLEMENTED", "behaviorClose": "UNIMPLEMENTED", "duration": 0}
    }}"#;

    #[test]
    fn cases_are_in_numeric_order() {
        let ids: Vec<String> = parse(INDEX).unwrap().into_iter().map(|case| case.id).collect();
        assert_eq!(ids, ["1.1.1", "2.1", "6.4.3", "10.1.1", "12.1.1"]);
    }

    #[test]
    fn an_unclean_close_fails_and_non_strict_does_not() {
        assert_eq!(failed(&parse(INDEX).unwrap()), ["2.1"]);
    }

    #[test]
    fn the_summary_counts_each_verdict_per_section() {
        let results = parse(INDEX).unwrap();
        let cx = Context {
            command: "cargo xtask autobahn",
            suite_version: "0.8.2".into(),
            seconds: 1.0,
        };
        let md = summary(&results, &cx);
        assert!(md.contains("**5 cases: 1 FAILED, 1 NON-STRICT, 2 OK, 1 UNIMPLEMENTED.**"), "{md}");
        assert!(md.contains("| 6 | UTF-8 handling | 1 | 0 | 1 | 0 | 0 | 0 |"), "{md}");
        assert!(md.contains("| 2.1 | OK | UNCLEAN |"), "{md}");
    }
}
