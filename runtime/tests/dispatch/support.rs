//! A server on 127.0.0.1 for the socket tests, and raw HTTP/1.1 exchanges.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use mambo::{Router, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The longest any single step of a test may take.
pub const STEP: Duration = Duration::from_secs(10);

/// Runs `future` or fails the test after [`STEP`].
pub async fn bounded<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(STEP, future).await.expect("the test step timed out")
}

/// A server serving one router until dropped (then shut down gracefully).
pub struct TestServer {
    pub addr: SocketAddr,
    _stop: oneshot::Sender<()>,
    _task: JoinHandle<std::io::Result<()>>,
}

impl TestServer {
    /// Serves `router` on a free port with `configure`'s settings.
    pub fn start<R: Router>(configure: impl FnOnce(Server) -> Server, router: R) -> Self {
        let (stop, stopped) = oneshot::channel::<()>();
        let listening = configure(Server::bind("127.0.0.1:0"))
            .with_graceful_shutdown(async {
                stopped.await.ok();
            })
            .listen()
            .expect("listen on 127.0.0.1:0");
        let addr = listening.local_addr();
        TestServer { addr, _stop: stop, _task: tokio::spawn(listening.serve(router)) }
    }
}

/// A response read off the wire: the head as text, and every byte after it.
#[derive(Debug)]
pub struct Raw {
    pub head: String,
    pub body: Vec<u8>,
}

impl Raw {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.head[9..12].parse().expect("a status line")
    }

    /// The value of header `name` (lower case), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

/// Sends `request` (which should say `connection: close`), then reads
/// until the server closes the connection.
pub async fn exchange(addr: SocketAddr, request: &[u8]) -> Raw {
    let mut stream = bounded(TcpStream::connect(addr)).await.expect("connect");
    bounded(stream.write_all(request)).await.expect("write");
    read_response(&mut stream).await
}

/// Reads until the server closes `stream`, and splits the head off.
pub async fn read_response(stream: &mut TcpStream) -> Raw {
    let mut out = Vec::new();
    // A reset after the response still leaves the response read.
    let _ = bounded(stream.read_to_end(&mut out)).await;
    let end = out.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head") + 4;
    let head = String::from_utf8(out[..end].to_vec()).expect("an ASCII head");
    Raw { head, body: out[end..].to_vec() }
}
