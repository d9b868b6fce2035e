//! Thread-per-core and multi-thread modes both serve and both shut down.

use std::collections::HashSet;

use crate::support::{App, H1, H2, TestServer};

#[tokio::test]
async fn thread_per_core_serves_on_its_own_worker_threads() {
    let server = TestServer::start(|s| s.thread_per_core().workers(2), App::default());
    let mut threads = HashSet::new();
    for _ in 0..40 {
        let answer = H1::connect(server.addr).await.get("/thread").await;
        assert!(answer.body.starts_with("mambo-worker-"), "{}", answer.body);
        threads.insert(answer.body);
    }
    // SO_REUSEPORT spreads connections by their address hash: with 40
    // connections both workers get some.
    #[cfg(target_os = "linux")]
    assert_eq!(threads.len(), 2, "{threads:?}");
    assert_eq!(H2::connect(server.addr).await.get("/version").await.body, "HTTP/2.0");
    assert_eq!(H1::connect(server.addr).await.get("/panic").await.status, 500);
    assert_eq!(H1::connect(server.addr).await.get("/hello").await.body, "hello");
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_thread_serves_on_the_callers_runtime() {
    let server = TestServer::start(|s| s.multi_thread(), App::default());
    for _ in 0..5 {
        let answer = H1::connect(server.addr).await.get("/thread").await;
        // The caller's runtime names its threads (`tokio-rt-worker`).
        assert!(answer.body.starts_with("tokio-"), "{}", answer.body);
    }
    assert_eq!(H2::connect(server.addr).await.get("/version").await.body, "HTTP/2.0");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn thread_per_core_with_a_given_listener_shares_it() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = mambo::Server::from_listener(listener)
        .thread_per_core()
        .workers(2)
        .with_graceful_shutdown(async {
            let _ = stopped.await;
        });
    let task = tokio::spawn(server.serve(App::default()));
    for _ in 0..10 {
        let answer = H1::connect(addr).await.get("/thread").await;
        assert!(answer.body.starts_with("mambo-worker-"), "{}", answer.body);
    }
    stop.send(()).unwrap();
    crate::support::bounded(task).await.unwrap().unwrap();
}
