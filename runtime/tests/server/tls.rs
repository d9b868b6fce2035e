//! HTTPS with ALPN: HTTP/2 and HTTP/1.1 negotiated on one port.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use mambo::server::rustls::{self, ClientConfig, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::support::{App, H1, H2, TestServer, bounded};

/// A self-signed certificate for `localhost`, written as PEM files.
struct Cert {
    dir: PathBuf,
    der: rustls::pki_types::CertificateDer<'static>,
}

impl Cert {
    fn generate(name: &str) -> Self {
        let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let dir =
            std::env::temp_dir().join(format!("mambo-tls-test-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("cert.pem"), generated.cert.pem()).unwrap();
        std::fs::write(dir.join("key.pem"), generated.signing_key.serialize_pem()).unwrap();
        Cert { dir, der: generated.cert.der().clone() }
    }

    fn client(&self, alpn: &[&[u8]]) -> TlsConnector {
        let mut roots = RootCertStore::empty();
        roots.add(self.der.clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        TlsConnector::from(Arc::new(config))
    }
}

impl Drop for Cert {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn connect(connector: &TlsConnector, addr: SocketAddr) -> TlsStream<TcpStream> {
    let tcp = bounded(TcpStream::connect(addr)).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    bounded(connector.connect(name, tcp)).await.expect("TLS handshake")
}

#[tokio::test]
async fn tls_negotiates_h2_or_http1_by_alpn() {
    let cert = Cert::generate("alpn");
    let (cert_pem, key_pem) = (cert.dir.join("cert.pem"), cert.dir.join("key.pem"));
    let server = TestServer::start(|s| s.tls(cert_pem, key_pem), App::default());

    let tls = connect(&cert.client(&[b"h2", b"http/1.1"]), server.addr).await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let mut h2 = H2::over(tls).await;
    let answer = h2.get("/conn").await;
    assert_eq!(answer.version, http::Version::HTTP_2);
    assert!(answer.body.contains("secure=true"), "{}", answer.body);

    let tls = connect(&cert.client(&[b"http/1.1"]), server.addr).await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let mut h1 = H1::over(tls).await;
    let first = h1.get("/conn").await;
    assert_eq!(first.version, http::Version::HTTP_11);
    assert!(first.body.contains("secure=true"), "{}", first.body);
    assert_eq!(h1.get("/hello").await.body, "hello", "keep-alive over TLS");

    // Plain HTTP on the TLS port gets no answer.
    let plain = crate::support::raw(server.addr, b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(!plain.contains("hello"), "{plain}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn missing_tls_files_fail_listen() {
    let err = mambo::Server::bind("127.0.0.1:0")
        .tls("/nonexistent/cert.pem", "/nonexistent/key.pem")
        .listen()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
}
