//! Paths, child processes and the small helpers every command shares.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Sends SIGTERM to `child`, a process this program started and has not
/// reaped yet (so its pid cannot name another process).
pub fn sigterm(child: &std::process::Child) -> Result<(), String> {
    let pid = libc::pid_t::try_from(child.id()).map_err(|e| e.to_string())?;
    // SAFETY: kill(2) has no memory effects; the pid is our own unreaped
    // child's, as the `&Child` (not yet waited for) shows.
    if unsafe { libc::kill(pid, libc::SIGTERM) } != 0 {
        return Err(format!("kill -TERM {pid}: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

/// Parses a command's only option, `[--quick]`: whether it was given.
pub fn quick_flag(args: &[String]) -> Result<bool, String> {
    let mut quick = false;
    for arg in args {
        match arg.as_str() {
            "--quick" => quick = true,
            other => return Err(format!("unexpected `{other}`; see `cargo xtask help`")),
        }
    }
    Ok(quick)
}

/// The main workspace root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace root")
        .to_path_buf()
}

/// The peers workspace, `xtask/bench-peers/`.
pub fn peers_dir() -> PathBuf {
    root().join("xtask/bench-peers")
}

/// Where suites leave their raw data and markdown sections (`bench-results/`, gitignored).
pub fn results_dir() -> PathBuf {
    let dir = root().join("bench-results");
    std::fs::create_dir_all(&dir).expect("bench-results/ is writable");
    dir
}

/// Runs `cmd`, echoing it first; an error names the command.
pub fn run(cmd: &mut Command) -> Result<(), String> {
    eprintln!("$ {}", show(cmd));
    let status = cmd.status().map_err(|e| format!("{}: {e}", show(cmd)))?;
    status.success().then_some(()).ok_or_else(|| format!("`{}` failed ({status})", show(cmd)))
}

/// Runs `cmd` and returns its stdout; stderr goes to the terminal.
pub fn output(cmd: &mut Command) -> Result<String, String> {
    eprintln!("$ {}", show(cmd));
    let out = cmd.stderr(Stdio::inherit()).output().map_err(|e| format!("{}: {e}", show(cmd)))?;
    if !out.status.success() {
        return Err(format!("`{}` failed ({})", show(cmd), out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The first line of `program args…`'s output, or `"unknown"`.
pub fn version_of(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| {
            let text = if o.stdout.is_empty() { o.stderr } else { o.stdout };
            String::from_utf8_lossy(&text).lines().next().unwrap_or("unknown").trim().to_owned()
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// A command line as a copy-pasteable string.
pub fn show(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        let arg = arg.to_string_lossy();
        if arg.contains([' ', '"', '\'']) || arg.is_empty() {
            s.push_str(&format!(" '{arg}'"));
        } else {
            s.push(' ');
            s.push_str(&arg);
        }
    }
    s
}

/// Whether `program` is on `PATH`.
pub fn has(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Makes sure `program` exists, installing Debian package `package` with apt-get
/// (and saying so) when it does not.
pub fn ensure_tool(program: &str, package: &str) -> Result<(), String> {
    if has(program) {
        return Ok(());
    }
    eprintln!("`{program}` is missing: installing the Debian package `{package}` with apt-get");
    run(Command::new("apt-get").arg("update").arg("-qq"))?;
    run(Command::new("apt-get").args(["install", "-y", "-qq", package]))?;
    has(program)
        .then_some(())
        .ok_or_else(|| format!("`{program}` still missing after installing `{package}`"))
}

/// `cargo` in the peers workspace (its own `target/`, its own lock file).
pub fn peers_cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(peers_dir()).env_remove("CARGO_TARGET_DIR");
    cmd
}

/// `cargo` in the main workspace.
pub fn main_cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

/// The main workspace's target directory (`CARGO_TARGET_DIR` or `target/`).
pub fn main_target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"))
}

/// Median of `values` (the mean of the two middle ones for an even count); 0 when empty.
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 { v[mid] } else { (v[mid - 1] + v[mid]) / 2.0 }
}

/// `cargo xtask expand [PACKAGE]`: a crate's library after macro expansion,
/// `mambo-examples` by default (the hello and todo routers).
///
/// Uses cargo-expand when it is installed (it formats with prettyplease);
/// otherwise asks the installed compiler directly for
/// `-Zunpretty=expanded`, which stable rustc allows under
/// `RUSTC_BOOTSTRAP=1`, so no nightly toolchain is needed.
pub fn expand(package: Option<&str>) -> Result<(), String> {
    let package = package.unwrap_or("mambo-examples");
    if has("cargo-expand") {
        return run(main_cargo().args(["expand", "-p", package, "--lib"]));
    }
    run(main_cargo().env("RUSTC_BOOTSTRAP", "1").args([
        "rustc",
        "--quiet",
        "-p",
        package,
        "--lib",
        "--",
        "-Zunpretty=expanded",
    ]))
}

/// `cargo xtask routes`: runs `hello --routes`, which prints the router's `ROUTES`.
pub fn routes() -> Result<(), String> {
    let out = main_cargo()
        .args(["run", "--quiet", "-p", "mambo-examples", "--bin", "hello", "--", "--routes"])
        .output()
        .map_err(|e| format!("cargo run: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || text.trim().is_empty() {
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        return Err("the `hello` example printed no route table. `cargo xtask routes` runs\n\
             \x20   cargo run -p mambo-examples --bin hello -- --routes\n\
             and expects `hello` to print `Api::ROUTES` (method, pattern, handler per line)\n\
             and exit when given `--routes`."
            .into());
    }
    print!("{text}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
    }

    #[test]
    fn bench_data_copies_match_the_tests_data() {
        for file in ["github_routes.txt", "github_requests.txt"] {
            let original = std::fs::read_to_string(root().join("tests/data").join(file)).unwrap();
            let copy = std::fs::read_to_string(peers_dir().join("data").join(file)).unwrap();
            assert_eq!(
                original, copy,
                "xtask/bench-peers/data/{file} drifted from tests/data/{file}"
            );
        }
    }

    #[test]
    fn wrk_script_paths_are_get_requests_of_the_set() {
        let requests =
            std::fs::read_to_string(root().join("tests/data/github_requests.txt")).unwrap();
        let script = std::fs::read_to_string(peers_dir().join("wrk/github.lua")).unwrap();
        let paths: Vec<&str> = script
            .lines()
            .filter_map(|l| l.trim().strip_prefix('"')?.strip_suffix("\","))
            .collect();
        assert_eq!(paths.len(), 50);
        for path in paths {
            assert!(requests.lines().any(|l| l == format!("GET {path}")), "{path}");
        }
    }
}
