//! The handshakes AWS charges at init, on loopback: Secrets Manager over HTTPS (the emulator behind an HTTPS
//! front, [`HttpsProxy`]) and PostgreSQL with `verify-full` (a throwaway server with `ssl = on`,
//! [`TlsPostgres`], migrated as the stack's database is), both with certificates from one throwaway CA that
//! the functions trust for the run (`AWS_CA_BUNDLE`, `PGSSLROOTCERT`), and what the same two handshakes cost a
//! bare rustls client (`bare-tls`), measured beside them.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use dev_support::https_proxy::HttpsProxy;
use dev_support::postgres_tls::{TestCa, TlsPostgres};
use serde::Deserialize;

use native_stack::database;

/// The database the functions open in the TLS runs.
const DATABASE: &str = "bench_coldstart_tls";

/// The two TLS peers and the CA the functions trust for the run.
pub struct Handshakes {
    ca_path: PathBuf,
    postgres: TlsPostgres,
    proxy: HttpsProxy,
}

/// What the two handshakes cost a bare rustls client in a fresh process (`bare-tls`'s line).
#[derive(Clone, Debug, Deserialize)]
pub struct Bare {
    pub https_cpu_ms: f64,
    pub https_wall_ms: f64,
    pub postgres_cpu_ms: f64,
    pub postgres_wall_ms: f64,
    pub process_cpu_ms: f64,
}

impl Handshakes {
    /// Starts the TLS PostgreSQL (migrated and seeded) and the HTTPS front of `emulator` (`http://host:port`).
    pub fn start(root: &Path, emulator: &str) -> Result<Self> {
        let ca = TestCa::new("xtask coldstart CA");
        let cert = ca.server_cert(&["localhost"]);
        let postgres = TlsPostgres::start(&cert).context("Failed to start the TLS PostgreSQL")?;
        let ca_path = ca.write_cert(postgres.dir(), "coldstart-ca.pem")?;
        // As root the server's directory belongs to `postgres`; the functions only read the CA file.
        let upstream = emulator.trim_start_matches("http://").trim_end_matches('/');
        let proxy =
            HttpsProxy::start(&cert, upstream).context("Failed to start the HTTPS front")?;
        database::prepare(root, &postgres.url("localhost"), DATABASE, true)?;
        Ok(Self {
            ca_path,
            postgres,
            proxy,
        })
    }

    /// `function_env` with Secrets Manager over HTTPS and PostgreSQL over `verify-full`, both to `localhost`.
    pub fn env(&self, function_env: &[(String, String)]) -> Vec<(String, String)> {
        let ca = self.ca_path.display().to_string();
        let overrides = [
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", self.proxy.url()),
            ("AWS_CA_BUNDLE", ca.clone()),
            ("DB_HOST", "localhost".to_owned()),
            ("DB_PORT", self.postgres.port().to_string()),
            ("DB_NAME", DATABASE.to_owned()),
            ("PGSSLMODE", "verify-full".to_owned()),
            ("PGSSLROOTCERT", ca),
        ];
        let mut env: Vec<(String, String)> = function_env
            .iter()
            .filter(|(k, _)| !overrides.iter().any(|(name, _)| name == k))
            .cloned()
            .collect();
        env.extend(overrides.map(|(k, v)| (k.to_owned(), v)));
        env
    }

    /// `runs` fresh `bare-tls` processes against the same two peers.
    pub fn bare(&self, root: &Path, runs: usize) -> Result<Vec<Bare>> {
        let path = root.join("target/release/bare-tls");
        (0..runs)
            .map(|_| {
                let out = Command::new(&path)
                    .arg(&self.ca_path)
                    .arg(self.proxy.port().to_string())
                    .arg(self.postgres.port().to_string())
                    .output()
                    .with_context(|| format!("Failed to run {}", path.display()))?;
                if !out.status.success() {
                    anyhow::bail!(
                        "bare-tls failed: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    );
                }
                serde_json::from_slice(&out.stdout).context("bare-tls printed no figures")
            })
            .collect()
    }
}
