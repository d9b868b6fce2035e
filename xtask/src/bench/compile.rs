//! `bench compile`: clean and incremental build times of generated 10-, 200-
//! and 1 000-route apps, Mambo vs the same routes in axum, with hyperfine.
//! The 10-route point is the small app a user starts with, where the fixed
//! cost of the expansion shows rather than its cost per route.
//!
//! "Clean" rebuilds the app crate itself from scratch (`cargo clean -p app`,
//! dependencies stay built: they are the same for every run and would drown
//! the difference); "incremental" edits one handler body between builds.
//! Both are `cargo build` (dev profile), as a developer iterates.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::Options;
use super::report::Table;
use crate::util;

/// Path of route `i`: every fourth is static, the others take an id, every
/// third of those a second param.
fn pattern(i: usize) -> String {
    match i % 4 {
        0 => format!("/api/res{i}"),
        1 | 2 => format!("/api/res{i}/:id"),
        _ => format!("/api/res{i}/:id/items/:item"),
    }
}

/// The Mambo app's `src/main.rs`, written the way DESIGN.md shows a Mambo program.
fn mambo_source(routes: usize) -> String {
    let mut s = String::from("use mambo::prelude::*;\n\n");
    for i in 0..routes {
        let p = pattern(i);
        let (args, body) = match i % 4 {
            0 => (String::new(), format!("format!(\"h{i} edit-0\")")),
            1 | 2 => ("id: u64".to_owned(), format!("format!(\"h{i} {{id}} edit-0\")")),
            _ => (
                "id: u64, item: &str".to_owned(),
                format!("format!(\"h{i} {{id}} {{item}} edit-0\")"),
            ),
        };
        s.push_str(&format!(
            "#[route(GET \"{p}\")]\nasync fn h{i}({args}) -> String {{\n    {body}\n}}\n\n"
        ));
    }
    let names: Vec<String> = (0..routes).map(|i| format!("h{i}")).collect();
    s.push_str(&format!(
        "mambo::router! {{\n    pub struct App {{\n        state: (),\n        routes: [{}],\n    }}\n}}\n\n\
         #[tokio::main]\nasync fn main() -> std::io::Result<()> {{\n    \
         mambo::Server::bind(\"127.0.0.1:8080\").serve(App::new(())).await\n}}\n",
        names.join(", ")
    ));
    s
}

/// The axum app's `src/main.rs`: the same routes and bodies.
fn axum_source(routes: usize) -> String {
    let mut s = String::from("use axum::extract::Path;\nuse axum::routing::get;\n\n");
    for i in 0..routes {
        let (args, body) = match i % 4 {
            0 => (String::new(), format!("format!(\"h{i} edit-0\")")),
            1 | 2 => ("Path(id): Path<u64>".to_owned(), format!("format!(\"h{i} {{id}} edit-0\")")),
            _ => (
                "Path((id, item)): Path<(u64, String)>".to_owned(),
                format!("format!(\"h{i} {{id}} {{item}} edit-0\")"),
            ),
        };
        s.push_str(&format!("async fn h{i}({args}) -> String {{\n    {body}\n}}\n\n"));
    }
    s.push_str("#[tokio::main]\nasync fn main() -> std::io::Result<()> {\n    let app = axum::Router::new()");
    for i in 0..routes {
        let p = pattern(i).replace(":id", "{id}").replace(":item", "{item}");
        s.push_str(&format!("\n        .route(\"{p}\", get(h{i}))"));
    }
    s.push_str(
        ";\n    let listener = tokio::net::TcpListener::bind(\"127.0.0.1:8080\").await?;\n    \
         axum::serve(listener, app).await\n}\n",
    );
    s
}

fn write_app(dir: &Path, name: &str, deps: &str, source: &str) -> Result<(), String> {
    std::fs::create_dir_all(dir.join("src")).map_err(|e| e.to_string())?;
    let manifest = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\n{deps}\n[workspace]\n"
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("src/main.rs"), source).map_err(|e| e.to_string())
}

/// Mean and standard deviation (s) of the first result of a hyperfine JSON export.
fn mean_stddev(json: &str) -> Option<(f64, f64)> {
    let num = |key: &str| -> Option<f64> {
        let rest = &json[json.find(key)? + key.len()..];
        rest[..rest.find([',', '}'])?].trim().parse().ok()
    };
    Some((num("\"mean\":")?, num("\"stddev\":").unwrap_or(0.0)))
}

/// hyperfine's arguments for one kind of build (`clean` or `incremental`)
/// of the app `name`, before `--export-json`.
fn hyperfine_args(name: &str, kind: &str, runs: u32) -> Vec<String> {
    let (prepare, warmup) = if kind == "clean" {
        (format!("cargo clean -p {name}"), 0)
    } else {
        // `0,/re/` (GNU sed): only the first match in the file, i.e. one
        // handler's body. One edit and build unmeasured first: the first
        // build after the clean ones takes 1.3–2.7× the next (both
        // frameworks), which is not what an edit costs a developer at work.
        let edit = r#"sed -i -E '0,/edit-[0-9]+/s//edit-'"$(date +%s%N)"'/' src/main.rs"#;
        (edit.to_owned(), 1)
    };
    ["--runs", &runs.to_string(), "--warmup", &warmup.to_string(), "--prepare", &prepare]
        .map(str::to_owned)
        .to_vec()
}

fn hyperfine(dir: &Path, name: &str, kind: &str, runs: u32) -> Result<(f64, f64), String> {
    let json = dir.join(format!("hyperfine-{kind}.json"));
    let mut cmd = Command::new("hyperfine");
    cmd.current_dir(dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .args(hyperfine_args(name, kind, runs))
        .arg("--export-json")
        .arg(&json)
        .arg("cargo build --quiet");
    util::run(&mut cmd)?;
    let text = std::fs::read_to_string(&json).map_err(|e| e.to_string())?;
    mean_stddev(&text).ok_or_else(|| format!("unreadable {}", json.display()))
}

/// Runs the suite and writes `bench-results/compile.md`.
pub fn run(opts: &Options) -> Result<(), String> {
    util::ensure_tool("hyperfine", "hyperfine")?;
    let runs = if opts.quick { 2 } else { 3 };
    let sizes: &[usize] = if opts.quick { &[10, 200] } else { &[10, 200, 1000] };
    let base: PathBuf = util::results_dir().join("compile");
    let runtime = util::root().join("runtime");
    let mut t = Table::new(&[
        "app",
        "routes",
        "clean build (app crate)",
        "incremental (one handler edited)",
    ]);
    let mut notes = Vec::new();
    for &routes in sizes {
        for framework in ["mambo", "axum"] {
            let name = format!("{framework}-{routes}");
            let dir = base.join(&name);
            let (deps, source) = if framework == "mambo" {
                (
                    format!(
                        "mambo = {{ path = \"{}\" }}\ntokio = {{ version = \"1\", features = [\"full\"] }}\n",
                        runtime.display()
                    ),
                    mambo_source(routes),
                )
            } else {
                (
                    "axum = \"0.8\"\ntokio = { version = \"1\", features = [\"full\"] }\n"
                        .to_owned(),
                    axum_source(routes),
                )
            };
            write_app(&dir, &name, &deps, &source)?;
            // Dependencies first, untimed, so every timed build sees the same warm cache.
            let warm = util::run(
                Command::new("cargo")
                    .current_dir(&dir)
                    .env("CARGO_TARGET_DIR", dir.join("target"))
                    .args(["build", "--quiet"]),
            );
            if let Err(e) = warm {
                notes.push(format!("{name}: does not build yet ({e}); see {}", dir.display()));
                t.row(vec![framework.into(), routes.to_string(), "—".into(), "—".into()]);
                continue;
            }
            let clean = hyperfine(&dir, &name, "clean", runs)?;
            let incr = hyperfine(&dir, &name, "incremental", runs)?;
            let fmt = |(m, s): (f64, f64)| format!("{m:.2} s ± {s:.2}");
            t.row(vec![framework.into(), routes.to_string(), fmt(clean), fmt(incr)]);
        }
    }
    let mut md = format!(
        "## Compile time\n\n\
         Generated apps (`bench-results/compile/<framework>-<routes>/`), the same routes and handler \
         bodies in both frameworks; `cargo build` (dev profile), hyperfine mean ± σ of {runs} runs. \
         Clean = `cargo clean -p <app>` first (dependencies stay built); incremental = one handler \
         body edited between builds, after one such edit and build unmeasured (the first build \
         after the clean ones is much slower than the next, in both frameworks).\n\n{}\n",
        t.render()
    );
    for n in notes {
        md.push_str(&format!("- {n}\n"));
    }
    md.push_str(
        "\nCommands (in each app's directory, `CARGO_TARGET_DIR=./target`):\n\n```sh\n\
         hyperfine --runs N --prepare 'cargo clean -p <app>' 'cargo build --quiet'\n\
         hyperfine --runs N --warmup 1 --prepare \"sed -i -E '0,/edit-[0-9]+/s//edit-'\\\"$(date +%s%N)\\\"'/' src/main.rs\" 'cargo build --quiet'\n```\n",
    );
    std::fs::write(util::results_dir().join("compile.md"), &md).map_err(|e| e.to_string())?;
    println!("{md}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_apps_have_every_route() {
        let m = mambo_source(8);
        assert_eq!(m.matches("#[route(GET").count(), 8);
        assert!(m.contains("\"/api/res3/:id/items/:item\""));
        let a = axum_source(8);
        assert_eq!(a.matches(".route(").count(), 8);
        assert!(a.contains("\"/api/res3/{id}/items/{item}\""));
    }

    #[test]
    fn reads_hyperfine_export() {
        let json =
            r#"{"results":[{"command":"cargo build","mean":1.25,"stddev":0.05,"median":1.2}]}"#;
        assert_eq!(mean_stddev(json), Some((1.25, 0.05)));
    }

    #[test]
    fn incremental_builds_are_timed_after_one_unmeasured_edit() {
        let args = |kind| hyperfine_args("mambo-10", kind, 3).join(" ");
        let incremental = args("incremental");
        assert!(incremental.starts_with("--runs 3 --warmup 1 --prepare sed -i"), "{incremental}");
        assert_eq!(args("clean"), "--runs 3 --warmup 0 --prepare cargo clean -p mambo-10");
    }
}
