//! Writes one `#[route]` handler per line of a route table, and a router
//! listing them all, into `$OUT_DIR/<name>.rs`.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
    for (file, router) in [("github_routes.txt", "GithubApi"), ("overlap_routes.txt", "OverlapApi")] {
        let path = data.join(file);
        println!("cargo::rerun-if-changed={}", path.display());
        let table = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join(format!("{router}.rs"));
        std::fs::write(out, generate(&table, router)).unwrap();
    }
}

/// A parameter name as a Rust identifier (`ref` → `r#ref`).
fn ident(name: &str) -> String {
    const KEYWORDS: [&str; 8] = ["ref", "type", "match", "mod", "use", "fn", "impl", "move"];
    if KEYWORDS.contains(&name) { format!("r#{name}") } else { name.to_owned() }
}

fn generate(table: &str, router: &str) -> String {
    let mut code = String::new();
    let mut names = Vec::new();
    let mut rows = Vec::new();
    for (index, line) in table.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let (method, pattern) = line.trim().split_once(' ').expect("METHOD /pattern");
        let name = format!("r{index}");
        let args: Vec<String> = pattern
            .split('/')
            .filter_map(|seg| seg.strip_prefix(':').or_else(|| seg.strip_prefix('*')))
            .map(|param| format!("{}: &str", ident(param)))
            .collect();
        let uses: Vec<String> = pattern
            .split('/')
            .filter_map(|seg| seg.strip_prefix(':').or_else(|| seg.strip_prefix('*')))
            .map(|param| format!("let _ = {};", ident(param)))
            .collect();
        writeln!(
            code,
            "#[mambo::route({method} {pattern:?})]\npub async fn {name}({}) -> &'static str {{ {} {:?} }}\n",
            args.join(", "),
            uses.join(" "),
            format!("{method} {pattern}"),
        )
        .unwrap();
        names.push(name);
        rows.push(format!("({method:?}, {pattern:?})"));
    }
    writeln!(code, "mambo::router! {{\n    /// Every route of the table.\n    pub struct {router} {{\n        routes: [{}],\n    }}\n}}", names.join(", ")).unwrap();
    writeln!(code, "/// `(method, pattern)` of each route, in `ROUTES` order.\npub const TABLE: &[(&str, &str)] = &[{}];", rows.join(", ")).unwrap();
    code
}
