//! `Server::reuse_port`: two servers on one port, and the binary swap it
//! exists for.

use std::collections::HashSet;

use mambo::{ConnInfo, IntoResponse, Request, Response, RouteInfo, Router, Server};

use crate::support::{H1, TestServer, bounded};

/// Answers every request with its own name, so a client can tell which
/// server took its connection.
struct Named(&'static str);

impl Router for Named {
    fn routes(&self) -> &'static [RouteInfo] {
        &[]
    }

    async fn handle(&self, _: Request, _: ConnInfo) -> Response {
        self.0.into_response()
    }
}

/// Which server answered each of `connections` fresh connections.
async fn answers(addr: std::net::SocketAddr, connections: usize) -> HashSet<String> {
    let mut names = HashSet::new();
    for _ in 0..connections {
        names.insert(bounded(H1::connect(addr)).await.get("/").await.body);
    }
    names
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_a_port_and_the_second_takes_over_when_the_first_stops() {
    let old = TestServer::start(|s| s.reuse_port(true), Named("old"));
    let new =
        TestServer::start(|_| Server::bind(old.addr).reuse_port(true).multi_thread(), Named("new"));
    assert_eq!(new.addr, old.addr);
    // The kernel hashes each connection's source port to pick a listener:
    // with 40 connections both get some.
    let both: HashSet<String> = ["old", "new"].map(String::from).into();
    assert_eq!(answers(old.addr, 40).await, both);

    old.stop().await.unwrap();
    let only_new: HashSet<String> = ["new"].map(String::from).into();
    assert_eq!(answers(new.addr, 20).await, only_new);
    new.stop().await.unwrap();
}

#[tokio::test]
async fn without_reuse_port_a_second_server_cannot_bind_the_port() {
    let first = TestServer::start(|s| s, Named("first"));
    let second = Server::bind(first.addr).reuse_port(true).listen();
    assert_eq!(second.unwrap_err().kind(), std::io::ErrorKind::AddrInUse);
    first.stop().await.unwrap();
}
