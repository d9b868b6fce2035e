//! nginx in front of the instances: the site configuration (the file
//! `examples/deploy/nginx.conf` ships, with other ports), the main
//! configuration that runs it from a temporary directory, and the process.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::child::{self, Guarded};
use crate::bench::probe;
use crate::util;

/// How long nginx leaves an instance alone after a failed connection:
/// long enough that a restarting instance costs one failed attempt per
/// nginx worker, short enough that it gets traffic soon after it is back.
pub const FAIL_TIMEOUT_SECS: u64 = 2;

/// The ports `examples/deploy/nginx.conf` uses: nginx on 80, the
/// instances on 8081–8083.
pub const SHIPPED: (&str, [u16; 3]) = ("80", [8081, 8082, 8083]);

/// The site: an upstream of Mambo instances on 127.0.0.1 `ports` and a
/// server on `listen` that proxies to them, with comments that say why.
/// It goes in nginx's `http` block (`/etc/nginx/conf.d/mambo.conf`).
pub fn site(listen: &str, ports: &[u16]) -> String {
    let servers: String = ports
        .iter()
        .map(|port| {
            format!("    server 127.0.0.1:{port} max_fails=1 fail_timeout={FAIL_TIMEOUT_SECS}s;\n")
        })
        .collect();
    format!(
        "\
# Mambo behind nginx: several instances of one service, restarted one at a
# time (SIGTERM, start again, wait until it answers, next) without failing a
# request. Goes in nginx's `http` block, e.g. /etc/nginx/conf.d/mambo.conf.
# `cargo xtask restart` runs this configuration with ports of its own; a
# test in xtask/src/restart/nginx.rs keeps this file and it the same.

upstream mambo {{
    # A refused or reset connection marks an instance down for fail_timeout,
    # so while one restarts nginx sends its requests straight to the others
    # instead of trying it first each time.
{servers}
    # Idle connections kept open to the instances, per nginx worker: no TCP
    # handshake per request.
    keepalive 32;
    # Below Mambo's keep-alive and header read timeouts (30 s by default):
    # nginx closes an idle connection before Mambo does, so it never sends a
    # request into a connection the other end is closing.
    keepalive_timeout 20s;
}}

server {{
    listen {listen};

    location / {{
        proxy_pass http://mambo;
        # Keep-alive to the upstream needs HTTP/1.1 and no `Connection: close`.
        proxy_http_version 1.1;
        proxy_set_header Connection \"\";
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;

        # A draining instance refuses new connections and closes idle ones;
        # a request that meets either (or a 502/503 answer, or no answer in
        # time) is sent to the next instance. nginx does not resend a POST or
        # PATCH it has already sent (`non_idempotent` is not set), so none is
        # applied twice: such a request that meets a closing connection is a
        # 502 for its client, which the 20 s keepalive_timeout above keeps
        # rare.
        proxy_next_upstream error timeout http_502 http_503;
        proxy_next_upstream_tries 3;
        proxy_next_upstream_timeout 10s;
        # On one host or one network a connect takes well under a second; a
        # longer wait is an instance that is gone.
        proxy_connect_timeout 1s;
    }}
}}
"
    )
}

/// The main configuration that runs `site` in the foreground with its pid
/// file, logs and temporary files under `dir`.
pub fn main_conf(dir: &Path, site: &str) -> String {
    let dir = dir.display();
    let site: String = site
        .lines()
        .map(|line| if line.is_empty() { "\n".to_owned() } else { format!("    {line}\n") })
        .collect();
    format!(
        "\
daemon off;
master_process on;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;

events {{
    worker_connections 4096;
}}

http {{
    access_log off;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;

{site}}}
"
    )
}

/// Starts nginx on 127.0.0.1:`port` in front of the instances on `ports`,
/// with everything under `dir`, and waits until `ready` answers 200
/// through it (10 s at most).
pub fn start(dir: &Path, port: u16, ports: &[u16], ready: &str) -> Result<Guarded, String> {
    let conf = dir.join("nginx.conf");
    let text = main_conf(dir, &site(&format!("127.0.0.1:{port}"), ports));
    std::fs::write(&conf, text).map_err(|e| format!("{}: {e}", conf.display()))?;
    let command = |extra: &[&str]| {
        let mut cmd = Command::new("nginx");
        cmd.arg("-p").arg(dir).arg("-c").arg(&conf).arg("-e").arg(dir.join("error.log"));
        cmd.args(extra).stdout(Stdio::null());
        cmd
    };
    util::run(&mut command(&["-t", "-q"]))?;
    let mut nginx = Guarded::spawn("nginx", command(&[]))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = nginx.exited()? {
            return Err(format!("nginx exited at start ({status}); see {}", dir.display()));
        }
        if probe::request(port, "GET", ready).is_ok_and(|r| r.status == 200) {
            return Ok(nginx);
        }
        if Instant::now() > deadline {
            return Err(format!("nginx did not answer GET {ready} on port {port} within 10 s"));
        }
        child::pause(Duration::from_millis(50))?;
    }
}

/// The lines of nginx's error log about its upstreams (each one a request
/// nginx had to send elsewhere, or could not).
pub fn upstream_errors(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("error.log"))
        .unwrap_or_default()
        .lines()
        .filter(|line| line.contains("upstream"))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_file_is_the_configuration_the_xtask_runs() {
        let path = util::root().join("examples/deploy/nginx.conf");
        let shipped = std::fs::read_to_string(&path).unwrap();
        let (listen, ports) = SHIPPED;
        assert_eq!(
            shipped,
            site(listen, &ports),
            "examples/deploy/nginx.conf drifted from restart::nginx::site; \
             regenerate it with `cargo xtask restart --write-nginx-conf`"
        );
    }

    #[test]
    fn the_site_lists_every_instance_and_retries_on_failure() {
        let site = site("127.0.0.1:9000", &[9001, 9002, 9003]);
        for port in [9001, 9002, 9003] {
            assert!(
                site.contains(&format!("server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;"))
            );
        }
        assert!(site.contains("listen 127.0.0.1:9000;"));
        assert!(site.contains("proxy_next_upstream error timeout http_502 http_503;"));
        assert!(site.contains("keepalive 32;"));
    }

    #[test]
    fn the_main_configuration_keeps_everything_in_its_directory() {
        let conf = main_conf(Path::new("/tmp/x"), "upstream u {\n\n}\n");
        assert!(conf.starts_with("daemon off;\n"));
        assert!(conf.contains("pid /tmp/x/nginx.pid;"));
        assert!(conf.contains("proxy_temp_path /tmp/x/proxy;"));
        assert!(conf.ends_with("    upstream u {\n\n    }\n}\n"));
    }
}
