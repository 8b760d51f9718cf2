//! A throwaway PostgreSQL server that speaks TLS with a certificate from a throwaway CA: what RDS with
//! `rds.force_ssl` looks like to a client, on loopback, so the functions' TLS settings can be tested.

use std::io;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// A certificate authority that exists only for one test.
pub struct TestCa {
    cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// A server certificate and its private key, both PEM.
pub struct ServerCert {
    pub cert_pem: String,
    pub key_pem: String,
}

impl TestCa {
    /// A fresh self-signed CA named `name`, with its own key.
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::default();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("generate a CA key");
        let cert = params.self_signed(&key).expect("self-sign the CA");
        Self {
            cert_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// The CA certificate, PEM: what `PGSSLROOTCERT` names.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// A server certificate signed by this CA whose subject alternative names are exactly `dns_names`.
    pub fn server_cert(&self, dns_names: &[&str]) -> ServerCert {
        let names: Vec<String> = dns_names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names).expect("valid DNS names");
        params
            .distinguished_name
            .push(DnType::CommonName, dns_names[0]);
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().expect("generate a server key");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("sign the server certificate");
        ServerCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    /// Writes the CA certificate to `dir/<file>` and returns its path.
    pub fn write_cert(&self, dir: &Path, file: &str) -> io::Result<PathBuf> {
        let path = dir.join(file);
        std::fs::write(&path, &self.cert_pem)?;
        Ok(path)
    }
}

/// A PostgreSQL server with `ssl=on` on a free loopback port (listening on `localhost`), trust
/// authentication for `postgres`, in a temporary directory; stopped and removed on drop.
pub struct TlsPostgres {
    dir: PathBuf,
    port: u16,
}

impl TlsPostgres {
    /// initdb, install `cert`, start the server and wait until it accepts connections. As root (PostgreSQL
    /// refuses to run as root) the server runs as the `postgres` user, which then owns the directory.
    pub fn start(cert: &ServerCert) -> io::Result<Self> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "pg-tls-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)?;
        let server = Self {
            dir,
            port: free_port()?,
        };
        std::fs::write(server.dir.join("server.crt"), &cert.cert_pem)?;
        std::fs::write(server.dir.join("server.key"), &cert.key_pem)?;
        set_mode(&server.dir.join("server.key"), 0o600)?;
        if is_root()? {
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&server.dir))?;
        }
        let data = server.data();
        run(pg_command("initdb")?
            .args(["-U", "postgres", "--auth=trust", "--no-sync", "-D"])
            .arg(&data))?;
        let conf = format!(
            "\nport = {port}\nlisten_addresses = 'localhost'\nunix_socket_directories = '{dir}'\n\
             ssl = on\nssl_cert_file = '{dir}/server.crt'\nssl_key_file = '{dir}/server.key'\nfsync = off\n",
            port = server.port,
            dir = server.dir.display(),
        );
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))?;
        io::Write::write_all(&mut file, conf.as_bytes())?;
        run(pg_command("pg_ctl")?
            .args(["-w", "-t", "60", "-D"])
            .arg(&data)
            .arg("-l")
            .arg(server.dir.join("server.log"))
            .arg("start"))?;
        Ok(server)
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `postgres://postgres@<host>:<port>/postgres`.
    pub fn url(&self, host: &str) -> String {
        format!("postgres://postgres@{host}:{}/postgres", self.port)
    }

    /// The temporary directory (certificates written here are removed with the server).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }
}

impl Drop for TlsPostgres {
    fn drop(&mut self) {
        if let Ok(mut stop) = pg_command("pg_ctl") {
            let _ = run(stop
                .args(["-w", "-m", "immediate", "-D"])
                .arg(self.data())
                .arg("stop"));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A PostgreSQL binary, run as `postgres` through `runuser` when we are root.
fn pg_command(name: &str) -> io::Result<Command> {
    let program = pg_bin(name);
    if is_root()? {
        let mut wrapped = Command::new("runuser");
        wrapped.args(["-u", "postgres", "--"]).arg(program);
        Ok(wrapped)
    } else {
        Ok(Command::new(program))
    }
}

/// Debian keeps initdb, pg_ctl and postgres outside PATH, under `/usr/lib/postgresql/<version>/bin`.
fn pg_bin(name: &str) -> PathBuf {
    let installed = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|version| version.path().join("bin").join(name))
        .find(|candidate| candidate.exists());
    installed.unwrap_or_else(|| PathBuf::from(name))
}

fn is_root() -> io::Result<bool> {
    let out = Command::new("id").arg("-u").output()?;
    Ok(out.stdout.trim_ascii() == b"0")
}

fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn run(cmd: &mut Command) -> io::Result<()> {
    let out = cmd.output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "{cmd:?} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )))
    }
}
