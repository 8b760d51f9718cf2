//! `bare-tls <ca.pem> <https port> <postgres port>`: what the two TLS handshakes of a function's init cost
//! a bare rustls client (aws-lc-rs, as the functions use), in a fresh process, as one JSON line.
//!
//! Each handshake builds its own client configuration trusting `ca.pem` (the functions build two: the AWS
//! SDK's and sqlx's), connects to `localhost`, and completes TLS: to an HTTPS endpoint, and to PostgreSQL
//! after its `SSLRequest`. CPU is this process's (`CLOCK_PROCESS_CPUTIME_ID`); wall includes the peers.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore};

/// PostgreSQL's `SSLRequest`: length 8, code 80877103.
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, ca, https_port, pg_port] = args.as_slice() else {
        eprintln!("usage: bare-tls <ca.pem> <https port> <postgres port>");
        std::process::exit(2);
    };
    let ca = std::fs::read(ca)?;
    let https = measure(|| {
        let tcp = connect(https_port)?;
        handshake(config(&ca)?, tcp)
    })?;
    let postgres = measure(|| {
        let mut tcp = connect(pg_port)?;
        tcp.write_all(&SSL_REQUEST)?;
        let mut answer = [0u8; 1];
        tcp.read_exact(&mut answer)?;
        if answer[0] != b'S' {
            return Err(io::Error::other("the server refused TLS"));
        }
        handshake(config(&ca)?, tcp)
    })?;
    println!(
        r#"{{"https_cpu_ms":{:.3},"https_wall_ms":{:.3},"postgres_cpu_ms":{:.3},"postgres_wall_ms":{:.3},"process_cpu_ms":{:.3}}}"#,
        ms(https.0),
        ms(https.1),
        ms(postgres.0),
        ms(postgres.1),
        ms(cpu()), // everything since exec, the process start-up included
    );
    Ok(())
}

/// CPU and wall time of `step`.
fn measure(step: impl FnOnce() -> io::Result<()>) -> io::Result<(Duration, Duration)> {
    let (cpu0, wall0) = (cpu(), Instant::now());
    step()?;
    Ok((cpu() - cpu0, wall0.elapsed()))
}

fn connect(port: &str) -> io::Result<TcpStream> {
    let tcp = TcpStream::connect(format!("localhost:{port}"))?;
    tcp.set_nodelay(true)?;
    Ok(tcp)
}

/// A client configuration trusting the PEM certificates in `ca` alone.
fn config(ca: &[u8]) -> io::Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    let certs = CertificateDer::pem_slice_iter(ca)
        .collect::<Result<Vec<_>, _>>()
        .map_err(io::Error::other)?;
    roots.add_parsable_certificates(certs);
    let config = ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(io::Error::other)?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Completes a TLS handshake with `localhost` over `tcp`.
fn handshake(config: Arc<ClientConfig>, mut tcp: TcpStream) -> io::Result<()> {
    let name = ServerName::try_from("localhost")
        .map_err(io::Error::other)?
        .to_owned();
    let mut tls = ClientConnection::new(config, name).map_err(io::Error::other)?;
    while tls.is_handshaking() {
        tls.complete_io(&mut tcp)?;
    }
    while tls.wants_write() {
        tls.write_tls(&mut tcp)?;
    }
    Ok(())
}

/// This process's CPU time so far, all threads.
fn cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant the kernel always knows.
    if unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) } != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
