//! An HTTPS front for a plain-HTTP emulator: TLS with a certificate from a throwaway CA ([`TestCa`]), the
//! bytes passed through to the emulator unchanged. What an AWS endpoint looks like to a client that must
//! complete a TLS handshake before its first request (`cargo xtask bench coldstart`, the `AWS_CA_BUNDLE` test).
//!
//! [`TestCa`]: crate::postgres_tls::TestCa

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;

use crate::postgres_tls::ServerCert;

/// The front, listening on `localhost` (127.0.0.1 and, where the host has it, ::1) until dropped.
pub struct HttpsProxy {
    port: u16,
    stop: Option<oneshot::Sender<()>>,
}

impl HttpsProxy {
    /// Serves TLS with `cert` and relays each connection to `upstream` (`host:port`, plain TCP).
    pub fn start(cert: &ServerCert, upstream: &str) -> io::Result<Self> {
        let certs = CertificateDer::pem_slice_iter(cert.cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(io::Error::other)?;
        let key =
            PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes()).map_err(io::Error::other)?;
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(io::Error::other)?;
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let v4 = std::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
        let port = v4.local_addr()?.port();
        // `localhost` may resolve to ::1 first; where the host has no IPv6 loopback, 127.0.0.1 alone serves.
        let v6 = std::net::TcpListener::bind(SocketAddr::from((Ipv6Addr::LOCALHOST, port))).ok();
        let (stop, stopped) = oneshot::channel();
        let upstream = upstream.to_owned();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::spawn(move || {
            runtime.block_on(async move {
                let mut accepts = Vec::new();
                for listener in std::iter::once(v4).chain(v6) {
                    listener.set_nonblocking(true)?;
                    let listener = TcpListener::from_std(listener)?;
                    let (acceptor, upstream) = (acceptor.clone(), upstream.clone());
                    accepts.push(tokio::spawn(serve(listener, acceptor, upstream)));
                }
                let _ = stopped.await;
                accepts.iter().for_each(tokio::task::JoinHandle::abort);
                io::Result::Ok(())
            })
        });
        Ok(Self {
            port,
            stop: Some(stop),
        })
    }

    /// The port on `localhost`.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `https://localhost:<port>`: an endpoint URL for the AWS SDK (`AWS_ENDPOINT_URL_<SERVICE>`).
    pub fn url(&self) -> String {
        format!("https://localhost:{}", self.port)
    }
}

impl Drop for HttpsProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn serve(listener: TcpListener, acceptor: TlsAcceptor, upstream: String) {
    while let Ok((client, _)) = listener.accept().await {
        let (acceptor, upstream) = (acceptor.clone(), upstream.clone());
        tokio::spawn(async move {
            let _ = relay(client, &acceptor, &upstream).await;
        });
    }
}

async fn relay(client: TcpStream, acceptor: &TlsAcceptor, upstream: &str) -> io::Result<()> {
    client.set_nodelay(true)?;
    let mut tls = acceptor.accept(client).await?;
    let mut server = TcpStream::connect(upstream).await?;
    server.set_nodelay(true)?;
    tokio::io::copy_bidirectional(&mut tls, &mut server).await?;
    Ok(())
}
