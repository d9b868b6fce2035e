//! `Multipart` over a real socket: `curl -F` uploads (text fields and
//! files, and a 100 MiB file streamed to disk in bounded memory), and raw
//! HTTP/1.1 requests for every way a client can get it wrong, each checked
//! for its status and JSON error code.
//!
//! The server runs in the test process, so its memory is this process's:
//! the big upload samples `VmRSS` from `/proc/self/status` every few
//! milliseconds while `curl` (another process) sends the file, and checks
//! the highest sample against the one taken just before.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mambo::multipart::{Multipart, MultipartError, MultipartLimits};
use mambo::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Held by each test, so that the others do not allocate while the big
/// upload measures this process's memory.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Where `/upload` stores the file.
#[derive(Clone)]
struct Dir(PathBuf);

/// Every field, in order: name, file name, content type, size, and the text
/// (for a text field) or a checksum (for a file).
#[route(POST "/echo")]
async fn echo(mut multipart: Multipart) -> Result<Json<serde_json::Value>, MultipartError> {
    let mut fields = Vec::new();
    while let Some(field) = multipart.next_field().await? {
        let name = field.name().map(str::to_owned);
        let file_name = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(str::to_owned);
        let value = if file_name.is_some() {
            let bytes = field.bytes().await?;
            serde_json::json!({ "size": bytes.len(), "checksum": checksum(&bytes).to_string() })
        } else {
            serde_json::json!(field.text().await?)
        };
        fields.push(serde_json::json!({
            "name": name, "file_name": file_name, "content_type": content_type, "value": value,
        }));
    }
    Ok(Json(serde_json::json!(fields)))
}

/// Streams the `file` field to `upload.bin`, chunk by chunk; answers with
/// the size written and the most bytes one chunk held.
#[route(POST "/upload", body_limit = "200MiB")]
async fn upload(State(dir): State<Dir>, mut multipart: Multipart) -> Result<String, Error> {
    let mut written = 0u64;
    let mut largest_chunk = 0;
    while let Some(mut field) = multipart.next_field().await.map_err(to_error)? {
        if field.name() != Some("file") {
            continue;
        }
        let mut file = tokio::fs::File::create(dir.0.join("upload.bin")).await.map_err(io)?;
        while let Some(chunk) = field.chunk().await.map_err(to_error)? {
            largest_chunk = largest_chunk.max(chunk.len());
            written += chunk.len() as u64;
            file.write_all(&chunk).await.map_err(io)?;
        }
        file.flush().await.map_err(io)?;
    }
    Ok(format!("{written} {largest_chunk}"))
}

/// Tight limits: 4 fields of at most 1 KiB each, 64 KiB in all.
#[route(POST "/limited", body_limit = "64KiB")]
async fn limited(multipart: Multipart) -> Result<String, MultipartError> {
    let limits = MultipartLimits::new().max_fields(4).field_size(1024);
    let mut multipart = multipart.with_limits(limits);
    let mut total = 0;
    while let Some(field) = multipart.next_field().await? {
        total += field.bytes().await?.len();
    }
    Ok(total.to_string())
}

fn to_error(error: MultipartError) -> Error {
    Error::new(error.status(), error.message())
}

fn io(error: std::io::Error) -> Error {
    Error::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
}

mambo::router! {
    struct App {
        state: Dir,
        routes: [echo, upload, limited],
    }
}

/// A server on a free port; its address, and its task to abort.
async fn serve(dir: &Path) -> (String, tokio::task::JoinHandle<()>) {
    let listening = mambo::Server::bind("127.0.0.1:0").listen().unwrap();
    let addr = listening.local_addr().to_string();
    let app = App::new(Dir(dir.to_owned()));
    let task = tokio::spawn(async move {
        let _ = listening.serve(app).await;
    });
    (addr, task)
}

/// A fresh directory for one test.
fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mambo-multipart-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// FNV-1a over 8-byte words (and the tail byte by byte): order-sensitive,
/// and quick enough in a debug build for 100 MiB.
fn checksum(bytes: &[u8]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        hash = (hash ^ u64::from_le_bytes(word.try_into().unwrap())).wrapping_mul(0x100_0000_01b3);
    }
    for &byte in words.remainder() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3);
    }
    hash
}

/// Runs `curl -s` with `args`: the body and the status; `None` when curl
/// is not installed.
fn curl(args: &[&str]) -> Option<(u16, String)> {
    let output = std::process::Command::new("curl")
        .args(["-s", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .ok()?;
    assert!(output.status.success(), "curl {args:?}: {output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    let (body, status) = text.rsplit_once('\n').unwrap();
    Some((status.parse().unwrap(), body.to_owned()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_and_file_fields_round_trip_with_curl() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let dir = temp_dir("round-trip");
    let file: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    std::fs::write(dir.join("photo.png"), &file).unwrap();
    let (addr, task) = serve(&dir).await;
    let photo = format!("file=@{};type=image/png", dir.join("photo.png").display());
    let url = format!("http://{addr}/echo");
    let sent = tokio::task::spawn_blocking(move || {
        curl(&["-F", "title=Holidays 2026", "-F", "note=caf\u{e9} \u{2615}", "-F", &photo, &url])
    });
    let Some((status, body)) = sent.await.unwrap() else {
        eprintln!("curl is not installed: skipped");
        return;
    };
    assert_eq!(status, 200, "{body}");
    let fields: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        fields,
        serde_json::json!([
            { "name": "title", "file_name": null, "content_type": null, "value": "Holidays 2026" },
            { "name": "note", "file_name": null, "content_type": null, "value": "caf\u{e9} \u{2615}" },
            {
                "name": "file", "file_name": "photo.png", "content_type": "image/png",
                "value": { "size": 70_000, "checksum": checksum(&file).to_string() },
            },
        ])
    );
    task.abort();
    std::fs::remove_dir_all(dir).unwrap();
}

/// `VmRSS` (what is resident now) or `VmHWM` (the most ever resident) of
/// this process, in bytes.
fn proc_status(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|line| line.starts_with(key)).unwrap();
    let kib: u64 = line[key.len() + 1..].trim().trim_end_matches("kB").trim().parse().unwrap();
    kib * 1024
}

const BIG: usize = 100 * 1024 * 1024;

/// Writes `BIG` pseudo-random bytes to `path`, 1 MiB at a time (so that
/// making it does not raise this process's memory); their checksum.
fn write_big_file(path: &Path) -> u64 {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut block = vec![0u8; 1024 * 1024];
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for _ in 0..BIG / block.len() {
        for word in block.chunks_exact_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            word.copy_from_slice(&state.to_le_bytes());
            hash = (hash ^ state).wrapping_mul(0x100_0000_01b3);
        }
        std::io::Write::write_all(&mut out, &block).unwrap();
    }
    hash
}

/// The checksum of a file, read 1 MiB at a time (word-aligned as
/// `write_big_file` hashed it).
fn checksum_file(path: &Path) -> u64 {
    let mut file = std::fs::File::open(path).unwrap();
    let mut block = vec![0u8; 1024 * 1024];
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    loop {
        let mut filled = 0;
        while filled < block.len() {
            match std::io::Read::read(&mut file, &mut block[filled..]).unwrap() {
                0 => break,
                n => filled += n,
            }
        }
        if filled == 0 {
            return hash;
        }
        assert_eq!(filled % 8, 0);
        for word in block[..filled].chunks_exact(8) {
            hash =
                (hash ^ u64::from_le_bytes(word.try_into().unwrap())).wrapping_mul(0x100_0000_01b3);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100_mib_upload_streams_to_disk_in_bounded_memory() {
    let _serial = ONE_AT_A_TIME.lock().await;
    const MAX_GROWTH: u64 = 16 * 1024 * 1024;
    let dir = temp_dir("big");
    let source = dir.join("source.bin");
    let expected = write_big_file(&source);
    let (addr, task) = serve(&dir).await;

    // Sample the resident set while curl sends the file.
    let before = proc_status("VmRSS");
    let hwm_before = proc_status("VmHWM");
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = std::thread::spawn({
        let done = done.clone();
        move || {
            let mut highest = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                highest = highest.max(proc_status("VmRSS"));
                std::thread::sleep(Duration::from_millis(5));
            }
            highest
        }
    });
    let started = Instant::now();
    let file = format!("file=@{}", source.display());
    let url = format!("http://{addr}/upload");
    let sent = tokio::task::spawn_blocking(move || curl(&["-F", "kind=big", "-F", &file, &url]));
    let sent = tokio::time::timeout(Duration::from_secs(120), sent).await.expect("timed out");
    let elapsed = started.elapsed();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let highest = sampler.join().unwrap();
    let hwm_after = proc_status("VmHWM");
    let Some((status, body)) = sent.unwrap() else {
        eprintln!("curl is not installed: skipped");
        return;
    };
    assert_eq!(status, 200, "{body}");
    let (written, largest_chunk) = body.split_once(' ').unwrap();
    assert_eq!(written.parse::<usize>().unwrap(), BIG);

    let stored = dir.join("upload.bin");
    assert_eq!(std::fs::metadata(&stored).unwrap().len(), BIG as u64);
    assert_eq!(checksum_file(&stored), expected, "the stored file differs");

    let growth = highest.saturating_sub(before);
    eprintln!(
        "100 MiB upload: {elapsed:?}; VmRSS {} KiB before, {} KiB at most during (+{} KiB); \
         VmHWM {} -> {} KiB; largest chunk {largest_chunk} bytes",
        before / 1024,
        highest / 1024,
        growth / 1024,
        hwm_before / 1024,
        hwm_after / 1024,
    );
    assert!(growth < MAX_GROWTH, "resident memory grew by {} KiB", growth / 1024);
    task.abort();
    std::fs::remove_dir_all(dir).unwrap();
}

/// Sends `head` (without the blank line; `content-length` is added unless
/// `chunked`) and `body` over a raw connection; the status and the JSON
/// body of the answer.
async fn raw(addr: &str, path: &str, head: &str, body: &[u8]) -> (u16, serde_json::Value) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let length = if head.contains("transfer-encoding") {
        String::new()
    } else {
        format!("content-length: {}\r\n", body.len())
    };
    let request =
        format!("POST {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\n{head}{length}\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    // The server may answer before reading the whole body; a failed
    // write then is fine, the answer is what counts.
    let _ = stream.write_all(body).await;
    read_answer(stream).await
}

async fn read_answer(mut stream: tokio::net::TcpStream) -> (u16, serde_json::Value) {
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    });
    read.await.expect("no answer");
    let answer = String::from_utf8(answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or_else(|| panic!("{answer:?}"));
    let status = head[9..12].parse().unwrap();
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        dechunk(body)
    } else {
        body.to_owned()
    };
    let json = serde_json::from_str(&body).unwrap_or_else(|_| serde_json::json!(body));
    (status, json)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    out
}

fn form(boundary: &str) -> String {
    format!("content-type: multipart/form-data; boundary={boundary}\r\n")
}

fn part(boundary: &str, name: &str, value: &str) -> String {
    format!("--{boundary}\r\ncontent-disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
}

/// Checks the status and the code, and that the message is there.
#[track_caller]
fn assert_error(answer: (u16, serde_json::Value), status: u16, code: u32) {
    assert_eq!(answer.0, status, "{}", answer.1);
    assert_eq!(answer.1["code"], code, "{}", answer.1);
    assert!(answer.1["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", answer.1);
}

#[tokio::test]
async fn content_types_and_boundaries() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let dir = temp_dir("content-types");
    let (addr, task) = serve(&dir).await;
    let body = format!("{}--b--\r\n", part("b", "a", "1"));
    let body = body.as_bytes();

    // Sanity: the same body with the right header is fine.
    let answer = raw(&addr, "/echo", &form("b"), body).await;
    assert_eq!(answer.0, 200, "{}", answer.1);

    // Wrong, missing, and multipart-but-not-form-data content types.
    assert_error(raw(&addr, "/echo", "content-type: text/plain\r\n", body).await, 415, 41500);
    assert_error(raw(&addr, "/echo", "", body).await, 415, 41500);
    let mixed = "content-type: multipart/mixed; boundary=b\r\n";
    assert_error(raw(&addr, "/echo", mixed, body).await, 415, 41500);
    // No boundary.
    let answer = raw(&addr, "/echo", "content-type: multipart/form-data\r\n", body).await;
    assert_eq!(
        answer.1["message"],
        "`content-type: multipart/form-data` has no `boundary` parameter"
    );
    assert_error(answer, 415, 41500);
    // A boundary that is there but malformed: empty, too long, bad characters.
    assert_error(raw(&addr, "/echo", &form("\"\""), body).await, 400, 40013);
    assert_error(raw(&addr, "/echo", &form(&"x".repeat(71)), body).await, 400, 40013);
    assert_error(raw(&addr, "/echo", &form("a{b}"), body).await, 400, 40013);
    // A valid boundary that the body does not use.
    assert_error(raw(&addr, "/echo", &form("other"), body).await, 400, 40015);
    task.abort();
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn malformed_and_truncated_bodies() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let dir = temp_dir("malformed");
    let (addr, task) = serve(&dir).await;

    // Cut short: no closing boundary, or in the middle of a field's data
    // or of its headers.
    let cut = part("b", "a", "1");
    assert_error(raw(&addr, "/echo", &form("b"), cut.as_bytes()).await, 400, 40015);
    let cut = "--b\r\ncontent-disposition: form-data; name=\"a\"\r\n\r\nhalf a val";
    assert_error(raw(&addr, "/echo", &form("b"), cut.as_bytes()).await, 400, 40015);
    let cut = "--b\r\ncontent-disposition: form-da";
    assert_error(raw(&addr, "/echo", &form("b"), cut.as_bytes()).await, 400, 40015);
    // Empty body.
    assert_error(raw(&addr, "/echo", &form("b"), b"").await, 400, 40015);

    // Field headers that are not headers.
    let bad = "--b\r\nthis is not a header\r\n\r\nx\r\n--b--\r\n";
    assert_error(raw(&addr, "/echo", &form("b"), bad.as_bytes()).await, 400, 40014);

    // The connection ends in the middle of the body: the body could not be read.
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /echo HTTP/1.1\r\nhost: test\r\n{}content-length: 1000\r\n\r\n{}",
        form("b"),
        part("b", "a", "1")
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.shutdown().await.unwrap();
    assert_error(read_answer(stream).await, 400, 40007);

    // A field that is not UTF-8, read as text.
    let mut bad = b"--b\r\ncontent-disposition: form-data; name=\"a\"\r\n\r\n".to_vec();
    bad.extend_from_slice(b"\xff\xfe\r\n--b--\r\n");
    assert_error(raw(&addr, "/echo", &form("b"), &bad).await, 400, 40005);
    task.abort();
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn limits() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let dir = temp_dir("limits");
    let (addr, task) = serve(&dir).await;
    let parts = |n: usize, value: &str| {
        let mut body: String = (0..n).map(|i| part("b", &format!("f{i}"), value)).collect();
        body.push_str("--b--\r\n");
        body
    };

    // At the limits: fine.
    let answer = raw(&addr, "/limited", &form("b"), parts(4, &"x".repeat(1024)).as_bytes()).await;
    assert_eq!(answer, (200, serde_json::json!(4096)));

    // A field flood: one field more than the route allows, and one more
    // than the default 128.
    let answer = raw(&addr, "/limited", &form("b"), parts(5, "x").as_bytes()).await;
    assert_eq!(answer.1["message"], "the multipart body has more than 4 fields");
    assert_error(answer, 400, 40016);
    assert_error(raw(&addr, "/echo", &form("b"), parts(129, "x").as_bytes()).await, 400, 40016);
    let answer = raw(&addr, "/echo", &form("b"), parts(128, "x").as_bytes()).await;
    assert_eq!(answer.0, 200, "{}", answer.1);

    // One field over its limit.
    let body = parts(1, &"x".repeat(1025));
    let answer = raw(&addr, "/limited", &form("b"), body.as_bytes()).await;
    assert_eq!(answer.1["message"], "field `f0` is larger than the limit of 1024 bytes");
    assert_error(answer, 413, 41300);

    // The whole body over the route's 64 KiB: by content-length (refused
    // before reading), and streamed without one.
    let big = parts(70, &"x".repeat(1000));
    let answer = raw(&addr, "/limited", &form("b"), big.as_bytes()).await;
    assert_eq!(answer.1["message"], "request body is larger than the limit of 65536 bytes");
    assert_error(answer, 413, 41300);
    // Streamed without a length (chunked): one 2 MiB field on `/echo`,
    // whose limit is the server's default 2 MiB.
    let chunked = format!("{}transfer-encoding: chunked\r\n", form("b"));
    let huge = parts(1, &"x".repeat(2 * 1024 * 1024));
    let mut body = Vec::new();
    for piece in huge.as_bytes().chunks(64 * 1024) {
        body.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        body.extend_from_slice(piece);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    let answer = raw(&addr, "/echo", &chunked, &body).await;
    assert_eq!(answer.1["message"], "request body is larger than the limit of 2097152 bytes");
    assert_error(answer, 413, 41300);

    // Field headers over the default 8 KiB.
    let long = format!(
        "--b\r\ncontent-disposition: form-data; name=\"a\"\r\nx-long: {}\r\n\r\n1\r\n--b--\r\n",
        "y".repeat(9000)
    );
    assert_error(raw(&addr, "/echo", &form("b"), long.as_bytes()).await, 413, 41300);
    task.abort();
    std::fs::remove_dir_all(dir).unwrap();
}
