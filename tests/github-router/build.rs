//! Writes one `#[route]` handler per line of a route table, and a router
//! listing them all, into `$OUT_DIR/<name>.rs`. Each handler answers its
//! route's pattern as plain text (the benchmark contract of
//! `xtask/bench-peers/README.md`).

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
    for (file, router) in [("github_routes.txt", "GithubApi"), ("overlap_routes.txt", "OverlapApi")]
    {
        let path = data.join(file);
        println!("cargo::rerun-if-changed={}", path.display());
        let table =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join(format!("{router}.rs"));
        std::fs::write(out, generate(&table, router, &[], None)).unwrap();
        if router == "GithubApi" {
            let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("BenchApi.rs");
            let code = generate(
                &table,
                "BenchApi",
                &HELLO_ROUTES,
                Some(("BenchLayerApi", "BenchMetricsApi")),
            );
            std::fs::write(out, code).unwrap();
        }
    }
}

/// The hello endpoints of the benchmark contract, served beside the GitHub
/// set by `BenchApi` (the same code as `examples/src/hello.rs`).
const HELLO_ROUTES: [&str; 4] = ["plaintext", "json", "user_post", "ping"];

const HELLO_HANDLERS: &str = r#"
/// `Hello, World!` as plain text.
#[mambo::route(GET "/plaintext")]
pub async fn plaintext() -> &'static str {
    "Hello, World!"
}

/// The `/json` body.
#[derive(serde::Serialize)]
pub struct Message {
    /// Always "Hello, World!".
    pub message: &'static str,
}

/// `{"message":"Hello, World!"}`.
#[mambo::route(GET "/json")]
pub async fn json() -> mambo::Json<Message> {
    mambo::Json(Message { message: "Hello, World!" })
}

/// `user {id} post {slug}`.
#[mambo::route(GET "/user/:id/post/:slug")]
pub async fn user_post(id: u64, slug: &str) -> String {
    format!("user {id} post {slug}")
}

/// The `/ping` body.
#[derive(serde::Serialize)]
pub struct Status {
    /// Always "ok".
    pub status: &'static str,
}

/// `{"status":"ok"}`.
#[mambo::route(GET "/ping")]
pub async fn ping() -> mambo::Json<Status> {
    mambo::Json(Status { status: "ok" })
}
"#;

/// The tower layer of the layered router: a real tower-http layer that
/// works on every response (the header is never there already, so it is
/// inserted each time) and changes nothing the benchmark contract checks
/// (status, `content-type`, body).
const LAYER: &str = r#"layer(::tower_http::set_header::SetResponseHeaderLayer::if_not_present(
            ::mambo::header::HeaderName::from_static("x-bench-layer"),
            ::mambo::header::HeaderValue::from_static("1"),
        ))"#;

/// A parameter name as a Rust identifier (`ref` → `r#ref`).
fn ident(name: &str) -> String {
    const KEYWORDS: [&str; 8] = ["ref", "type", "match", "mod", "use", "fn", "impl", "move"];
    if KEYWORDS.contains(&name) { format!("r#{name}") } else { name.to_owned() }
}

/// The handlers of `table` (and `extra_routes`, the hello endpoints) and a
/// router `router` listing them all; with `variants`, two more routers of
/// those names over the same routes: one behind [`LAYER`], one recording
/// metrics (exposed on `/internal/metrics`).
fn generate(
    table: &str,
    router: &str,
    extra_routes: &[&str],
    variants: Option<(&str, &str)>,
) -> String {
    let mut code = String::new();
    let mut names: Vec<String> = extra_routes.iter().map(|r| r.to_string()).collect();
    if !extra_routes.is_empty() {
        code.push_str(HELLO_HANDLERS);
    }
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
            "/// `{method} {pattern}`\n#[mambo::route({method} {pattern:?})]\npub async fn {name}({}) -> &'static str {{ {} {:?} }}\n",
            args.join(", "),
            uses.join(" "),
            pattern,
        )
        .unwrap();
        names.push(name);
        rows.push(format!("({method:?}, {pattern:?})"));
    }
    writeln!(code, "mambo::router! {{\n    /// Every route of the table.\n    pub struct {router} {{\n        routes: [{}],\n    }}\n}}", names.join(", ")).unwrap();
    if let Some((layered, metered)) = variants {
        writeln!(code, "mambo::router! {{\n    /// `{router}` behind one tower layer, for measuring what a layer costs.\n    pub struct {layered} {{\n        middleware: [{LAYER}],\n        routes: [{}],\n    }}\n}}", names.join(", ")).unwrap();
        writeln!(code, "mambo::router! {{\n    /// `{router}` recording per-route metrics, for measuring what they cost.\n    pub struct {metered} {{\n        routes: [{}],\n        scope \"/internal\" {{ metrics: \"/metrics\" }},\n    }}\n}}", names.join(", ")).unwrap();
    }
    if extra_routes.is_empty() {
        writeln!(code, "/// `(method, pattern)` of each route, in `ROUTES` order.\npub const TABLE: &[(&str, &str)] = &[{}];", rows.join(", ")).unwrap();
    }
    code
}
