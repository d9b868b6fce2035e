//! The browser script's result, and `docs/e2e/chat.md` made from it.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util;

/// Where the result goes, under the workspace root.
pub const DOC: &str = "docs/e2e/chat.md";

/// What `xtask/e2e/chat.mjs` printed as its last stdout line.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// `browser.version()`, if the browser started.
    pub chromium: Option<String>,
    /// playwright-core's version, from its package.json.
    pub playwright: String,
    /// The checks that passed, in order, with their times in milliseconds.
    pub checks: Vec<(String, u64)>,
    /// The screenshots taken.
    pub screenshots: Vec<String>,
    /// Why the run failed; `None` if every check passed.
    pub error: Option<String>,
}

impl Outcome {
    /// Parses the script's JSON line.
    pub fn parse(line: &str) -> Result<Outcome, String> {
        let value: Value =
            serde_json::from_str(line).map_err(|e| format!("the script's result `{line}`: {e}"))?;
        let text = |v: &Value| v.as_str().map(str::to_owned);
        let checks = value["checks"]
            .as_array()
            .ok_or_else(|| format!("no `checks` in `{line}`"))?
            .iter()
            .map(|c| (text(&c["name"]).unwrap_or_default(), c["ms"].as_u64().unwrap_or(0)))
            .collect();
        let screenshots = value["screenshots"]
            .as_array()
            .map(|list| list.iter().filter_map(text).collect())
            .unwrap_or_default();
        Ok(Outcome {
            chromium: text(&value["chromium"]),
            playwright: text(&value["playwright"]).unwrap_or_else(|| "unknown".to_owned()),
            checks,
            screenshots,
            error: text(&value["error"]),
        })
    }
}

/// What the document is made of.
pub struct Inputs<'a> {
    /// The script's result.
    pub outcome: &'a Outcome,
    /// `node --version`.
    pub node: &'a str,
    /// `chromium --version` (the Debian package's build).
    pub chromium_package: &'a str,
    /// The workspace root, stripped from screenshot paths.
    pub root: &'a Path,
}

/// The markdown of `docs/e2e/chat.md`.
pub fn markdown(inputs: &Inputs<'_>) -> String {
    let outcome = inputs.outcome;
    let verdict = match &outcome.error {
        None => format!("**passed** ({} checks)", outcome.checks.len()),
        Some(error) => format!("**FAILED**: {error}"),
    };
    let mut doc = String::new();
    doc.push_str("# Chat example in a real browser\n\n");
    doc.push_str(
        "Written by `cargo xtask e2e` (see `xtask/src/e2e/`): the `chat` example (release) on \
         127.0.0.1, driven by `xtask/e2e/chat.mjs` through playwright-core in headless Chromium, \
         two pages in two browser contexts. Every step waits at most 10 s.\n\n",
    );
    doc.push_str(&format!("- Date: {}\n", today()));
    doc.push_str(&format!("- Result: {verdict}\n"));
    let chromium = outcome.chromium.as_deref().unwrap_or("did not start");
    doc.push_str(&format!("- Chromium: {chromium} (`{}`)\n", inputs.chromium_package));
    doc.push_str(&format!("- playwright-core: {}\n", outcome.playwright));
    doc.push_str(&format!("- Node.js: {}\n\n", inputs.node));
    doc.push_str("| check | result | time |\n|---|---|---:|\n");
    for (name, ms) in &outcome.checks {
        doc.push_str(&format!("| {} | passed | {ms} ms |\n", escape(name)));
    }
    if let Some(error) = &outcome.error {
        doc.push_str(&format!("| {} | **failed** | |\n", escape(error)));
    }
    if !outcome.screenshots.is_empty() {
        let shots: Vec<String> = outcome
            .screenshots
            .iter()
            .map(|s| {
                let shown = Path::new(s)
                    .strip_prefix(inputs.root)
                    .map_or(s.clone(), |p| p.display().to_string());
                format!("`{shown}`")
            })
            .collect();
        doc.push_str(&format!("\nScreenshots (not committed): {}.\n", shots.join(", ")));
    }
    doc
}

/// A table cell's text: no `|`, one line.
fn escape(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Today's date (UTC), `YYYY-MM-DD`.
fn today() -> String {
    util::version_of("date", &["-u", "+%Y-%m-%d"])
}

/// Writes `doc` to [`DOC`]; returns the path.
pub fn write(doc: &str) -> Result<PathBuf, String> {
    let path = util::root().join(DOC);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(&path, doc).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_renders_a_failure() {
        let line = r#"{"playwright":"1.2.3","chromium":"140.0","checks":[{"name":"a | b","ms":12}],"screenshots":["/r/target/e2e/x.png"],"error":"presence: timeout"}"#;
        let outcome = Outcome::parse(line).unwrap();
        assert_eq!(outcome.checks, [("a | b".to_owned(), 12)]);
        let doc = markdown(&Inputs {
            outcome: &outcome,
            node: "v20",
            chromium_package: "Chromium 140",
            root: Path::new("/r"),
        });
        assert!(doc.contains("**FAILED**: presence: timeout"), "{doc}");
        assert!(doc.contains("| a \\| b | passed | 12 ms |"), "{doc}");
        assert!(doc.contains("`target/e2e/x.png`"), "{doc}");
    }
}
