//! What the profile tests share: a server on a real socket, a plain
//! HTTP/1.1 client, and the pprof decoder.

// Each test binary that includes this uses part of it.
#![allow(dead_code)]

use std::io::Read as _;
use std::net::SocketAddr;
use std::time::Duration;

use pprof::protos::{Message as _, Profile};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The longest any one request of a test may take: a 2 s profile, plus
/// symbolizing the test binary on a loaded machine.
pub const STEP: Duration = Duration::from_secs(60);

/// Serves `router` on `127.0.0.1:0` until the test's runtime ends.
pub fn serve<R: mambo::Router>(router: R) -> SocketAddr {
    let listening = mambo::Server::bind("127.0.0.1:0").listen().unwrap();
    let addr = listening.local_addr();
    tokio::spawn(listening.serve(router));
    addr
}

/// An answer: status, headers (names lower-cased) and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }

    /// The JSON error's `code`.
    pub fn code(&self) -> u64 {
        let json: serde_json::Value = serde_json::from_slice(&self.body).unwrap();
        json["code"].as_u64().unwrap()
    }
}

/// `GET path` on its own connection, read to the end.
pub async fn get(addr: SocketAddr, path: &str) -> Answer {
    tokio::time::timeout(STEP, async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        parse(&raw)
    })
    .await
    .unwrap_or_else(|_| panic!("GET {path} took longer than {STEP:?}"))
}

fn parse(raw: &[u8]) -> Answer {
    let end = raw.windows(4).position(|window| window == b"\r\n\r\n").expect("no end of head");
    let head = std::str::from_utf8(&raw[..end]).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap();
            (name.trim().to_ascii_lowercase(), value.trim().to_owned())
        })
        .collect();
    let body = raw[end + 4..].to_vec();
    let answer = Answer { status, headers, body };
    let length: usize = answer.header("content-length").expect("a full body").parse().unwrap();
    assert_eq!(answer.body.len(), length);
    answer
}

/// Gunzips and decodes a pprof `profile.proto`.
pub fn decode(gzipped: &[u8]) -> Profile {
    assert_eq!(&gzipped[..2], b"\x1f\x8b", "gzip magic");
    let mut proto = Vec::new();
    flate2::read::GzDecoder::new(gzipped).read_to_end(&mut proto).unwrap();
    Profile::decode(proto.as_slice()).unwrap()
}

/// The names of the functions of a profile's samples, leaf first, one
/// list per sample.
pub fn stacks(profile: &Profile) -> Vec<Vec<&str>> {
    let name_of_location = |id: u64| {
        let location = profile.location.iter().find(|location| location.id == id).unwrap();
        let function_id = location.line[0].function_id;
        let function = profile.function.iter().find(|function| function.id == function_id).unwrap();
        profile.string_table[function.name as usize].as_str()
    };
    profile
        .sample
        .iter()
        .map(|sample| sample.location_id.iter().map(|&id| name_of_location(id)).collect())
        .collect()
}
