//! A Prometheus server of our own on 127.0.0.1, scraping the todo service
//! every second, and the few calls of its HTTP API the checks need.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::http::{Client, query_escape};
use crate::restart::child::{self, Guarded};

/// The scrape interval, which is also the resolution of every check.
pub const SCRAPE_INTERVAL: Duration = Duration::from_secs(1);

/// The job name the configuration gives the todo service.
pub const JOB: &str = "todo";

/// How long Prometheus may take to start answering.
const START_WITHIN: Duration = Duration::from_secs(20);

/// The scrape configuration: the todo service at 127.0.0.1:`target_port`,
/// its metrics route behind `token`.
pub fn config(target_port: u16, metrics_path: &str, token: &str) -> String {
    let secs = SCRAPE_INTERVAL.as_secs();
    format!(
        "# Written by `cargo xtask observe`.\n\
         global:\n  scrape_interval: {secs}s\n  scrape_timeout: {secs}s\n  evaluation_interval: {secs}s\n\
         scrape_configs:\n\
         \x20 - job_name: {JOB}\n\
         \x20   metrics_path: {metrics_path}\n\
         \x20   authorization:\n\
         \x20     type: Bearer\n\
         \x20     credentials: {token}\n\
         \x20   static_configs:\n\
         \x20     - targets: ['127.0.0.1:{target_port}']\n"
    )
}

/// A running Prometheus; stopped when dropped.
pub struct Prometheus {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// The command line it was started with.
    pub command: String,
    log: PathBuf,
    client: Client,
    // Last: dropped after the rest.
    _process: Guarded,
}

/// One element of an instant vector (or a scalar, with no labels).
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Its value (`NaN` and the infinities included).
    pub value: f64,
}

impl Prometheus {
    /// Starts `prometheus` with `config` in `dir` (its configuration and
    /// storage), listening on 127.0.0.1:`port`, and waits until it is ready.
    pub fn start(dir: &Path, port: u16, config: &str) -> Result<Prometheus, String> {
        let config_file = dir.join("prometheus.yml");
        std::fs::write(&config_file, config)
            .map_err(|e| format!("{}: {e}", config_file.display()))?;
        let log = dir.join("prometheus.log");
        let log_file =
            std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let mut cmd = Command::new("prometheus");
        cmd.arg(format!("--config.file={}", config_file.display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(log_file);
        let command = crate::util::show(&cmd);
        let process = Guarded::spawn("prometheus", cmd)?;
        let mut prometheus = Prometheus {
            port,
            command,
            log,
            client: Client::new(port, Duration::from_secs(10)),
            _process: process,
        };
        let deadline = Instant::now() + START_WITHIN;
        loop {
            if let Some(status) = prometheus._process.exited()? {
                return Err(format!("prometheus exited ({status}):\n{}", prometheus.log_tail()));
            }
            if prometheus.client.get("/-/ready", &[]).is_ok_and(|a| a.status == 200) {
                return Ok(prometheus);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "prometheus not ready within {START_WITHIN:?}:\n{}",
                    prometheus.log_tail()
                ));
            }
            child::pause(Duration::from_millis(100))?;
        }
    }

    /// The last lines Prometheus logged.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Evaluates `promql` at `at` (Unix seconds), or now.
    pub fn query(&mut self, promql: &str, at: Option<f64>) -> Result<Vec<Sample>, String> {
        let mut path = format!("/api/v1/query?query={}", query_escape(promql));
        if let Some(at) = at {
            path.push_str(&format!("&time={at:.3}"));
        }
        let answer = self.client.get(&path, &[])?;
        parse_response(&answer.text()).map_err(|e| format!("query `{promql}`: {e}"))
    }

    /// The single value of `promql` at `at`; `None` for an empty vector.
    pub fn value(&mut self, promql: &str, at: Option<f64>) -> Result<Option<f64>, String> {
        let samples = self.query(promql, at)?;
        match samples.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one.value)),
            more => Err(format!("query `{promql}`: {} series, expected one", more.len())),
        }
    }

    /// Waits until `up{job="todo"}` is 1: Prometheus has scraped the service.
    pub fn wait_up(&mut self, within: Duration) -> Result<(), String> {
        let deadline = Instant::now() + within;
        let query = format!(r#"up{{job="{JOB}"}}"#);
        loop {
            if self.value(&query, None)? == Some(1.0) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "`{query}` not 1 within {within:?} (see the targets page, \
                     http://127.0.0.1:{}/targets):\n{}",
                    self.port,
                    self.log_tail()
                ));
            }
            child::pause(Duration::from_millis(200))?;
        }
    }

    /// Waits until two successful scrapes have started after `after` (Unix
    /// seconds): the second one saw everything that was answered by then,
    /// even a counter the server bumps just after the answer leaves.
    pub fn wait_scrapes_after(&mut self, after: f64, within: Duration) -> Result<f64, String> {
        let deadline = Instant::now() + within;
        let query = format!(r#"timestamp(up{{job="{JOB}"}} == 1)"#);
        // A scrape is stamped when it starts; one stamped more than an
        // interval after `after` has a predecessor that also started after it.
        let wanted = after + SCRAPE_INTERVAL.as_secs_f64();
        loop {
            if let Some(t) = self.value(&query, None)?
                && t > wanted
            {
                return Ok(t);
            }
            if Instant::now() > deadline {
                return Err(format!("no two scrapes after {after:.3} within {within:?}"));
            }
            child::pause(Duration::from_millis(200))?;
        }
    }
}

/// The samples of an `/api/v1/query` answer (an instant vector or a
/// scalar), or the error Prometheus gave.
pub fn parse_response(json: &str) -> Result<Vec<Sample>, String> {
    let doc: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("not JSON ({e}): {json:.200}"))?;
    if doc["status"] != "success" {
        return Err(format!(
            "{}: {}",
            doc["errorType"].as_str().unwrap_or("error"),
            doc["error"].as_str().unwrap_or(json)
        ));
    }
    let data = &doc["data"];
    match data["resultType"].as_str() {
        Some("vector") => data["result"]
            .as_array()
            .ok_or("`result` is not an array")?
            .iter()
            .map(|item| {
                let labels = item["metric"]
                    .as_object()
                    .ok_or("`metric` is not an object")?
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect();
                Ok(Sample { labels, value: point_value(&item["value"])? })
            })
            .collect(),
        Some("scalar") => {
            Ok(vec![Sample { labels: BTreeMap::new(), value: point_value(&data["result"])? }])
        }
        other => Err(format!("result type {other:?}, expected a vector or a scalar")),
    }
}

/// The value of a `[<unix time>, "<value>"]` pair. Prometheus writes values
/// as strings so that `NaN`, `+Inf` and `-Inf` survive JSON.
fn point_value(point: &serde_json::Value) -> Result<f64, String> {
    let text = point[1].as_str().ok_or_else(|| format!("bad sample {point}"))?;
    text.parse::<f64>().map_err(|_| format!("bad sample value {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_vectors_scalars_and_special_values() {
        let json = r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"le":"0.001"},"value":[1700000000.5,"12"]},
            {"metric":{"le":"+Inf"},"value":[1700000000.5,"+Inf"]},
            {"metric":{},"value":[1700000000.5,"NaN"]}]}}"#;
        let samples = parse_response(json).unwrap();
        assert_eq!(samples.len(), 3);
        assert_eq!(samples[0].labels["le"], "0.001");
        assert_eq!(samples[0].value, 12.0);
        assert_eq!(samples[1].value, f64::INFINITY);
        assert!(samples[2].value.is_nan() && samples[2].labels.is_empty());
        let scalar = r#"{"status":"success","data":{"resultType":"scalar","result":[1.5,"-Inf"]}}"#;
        assert_eq!(parse_response(scalar).unwrap()[0].value, f64::NEG_INFINITY);
        let empty = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert!(parse_response(empty).unwrap().is_empty());
    }

    #[test]
    fn reports_prometheus_errors() {
        let json = r#"{"status":"error","errorType":"bad_data","error":"parse error at char 4"}"#;
        assert_eq!(parse_response(json).unwrap_err(), "bad_data: parse error at char 4");
        let matrix = r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
        assert!(parse_response(matrix).unwrap_err().contains("matrix"));
        assert!(parse_response("<html>").unwrap_err().starts_with("not JSON"));
    }

    #[test]
    fn config_scrapes_the_service_with_the_token() {
        let yml = config(4321, "/internal/metrics", "t0k");
        for line in [
            "  scrape_interval: 1s",
            "  scrape_timeout: 1s",
            "  - job_name: todo",
            "    metrics_path: /internal/metrics",
            "      type: Bearer",
            "      credentials: t0k",
            "      - targets: ['127.0.0.1:4321']",
        ] {
            assert!(yml.lines().any(|l| l == line), "{line:?} missing from\n{yml}");
        }
    }
}
