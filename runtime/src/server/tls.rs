//! HTTPS: rustls through tokio-rustls, with HTTP/2 and HTTP/1.1 offered by
//! ALPN (in that order, so clients that speak both pick HTTP/2).

use std::fs::File;
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, ServerConfig};

/// Where the TLS settings come from.
#[derive(Debug, Clone)]
pub(crate) enum TlsSource {
    /// A certificate chain and a private key in PEM files, read by `listen`.
    Pem { cert: PathBuf, key: PathBuf },
    /// A configuration built by the caller.
    Config(Arc<ServerConfig>),
}

impl TlsSource {
    /// Builds the acceptor, reading the PEM files if that is the source.
    pub(crate) fn acceptor(&self) -> io::Result<TlsAcceptor> {
        let config = match self {
            TlsSource::Pem { cert, key } => from_pem(cert, key)?,
            TlsSource::Config(config) => with_alpn(config),
        };
        Ok(TlsAcceptor::from(config))
    }
}

/// The protocols offered by ALPN, preferred first.
pub(crate) const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

fn from_pem(cert_path: &Path, key_path: &Path) -> io::Result<Arc<ServerConfig>> {
    let certs = rustls_pemfile::certs(&mut BufReader::new(open(cert_path)?))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| annotate(err, cert_path))?;
    if certs.is_empty() {
        return Err(invalid(format!("no certificate in {}", cert_path.display())));
    }
    let key = rustls_pemfile::private_key(&mut BufReader::new(open(key_path)?))
        .map_err(|err| annotate(err, key_path))?
        .ok_or_else(|| invalid(format!("no private key in {}", key_path.display())))?;
    // An explicit provider: `ServerConfig::builder()` panics when the process
    // links more than one rustls crypto provider and none is installed.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(invalid)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(invalid)?;
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// The caller's configuration, with ALPN added if it offers none.
fn with_alpn(config: &Arc<ServerConfig>) -> Arc<ServerConfig> {
    if !config.alpn_protocols.is_empty() {
        return config.clone();
    }
    let mut config = (**config).clone();
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}

fn open(path: &Path) -> io::Result<File> {
    File::open(path).map_err(|err| annotate(err, path))
}

fn annotate(err: io::Error, path: &Path) -> io::Error {
    io::Error::new(err.kind(), format!("{}: {err}", path.display()))
}

fn invalid(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_names_the_path() {
        let source = TlsSource::Pem {
            cert: "/nonexistent/cert.pem".into(),
            key: "/nonexistent/key.pem".into(),
        };
        let err = source.acceptor().err().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("/nonexistent/cert.pem"), "{err}");
    }

    #[test]
    fn a_file_without_a_certificate_is_invalid_data() {
        let dir = std::env::temp_dir().join(format!("mambo-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a pem file\n").unwrap();
        let source = TlsSource::Pem { cert: empty.clone(), key: empty };
        let err = source.acceptor().err().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("no certificate"), "{err}");
    }
}
