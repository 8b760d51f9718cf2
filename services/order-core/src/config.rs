//! Configuration read once at init from the environment.
//!
//! Every variable the code reads goes through the readers of [`order_contract::config`] with a literal name, or
//! is a queue URL variable named by the topology table; `tests/contract` relies on that to check Terraform and
//! compose.yaml set each one.

use std::time::Duration;

use sea_orm::sqlx::postgres::PgSslMode;
use secrecy::SecretString;

pub use order_contract::config::{ConfigError, optional, parsed, parsed_or, required};

/// Where the database credentials come from.
#[derive(Clone, Debug)]
pub enum DbSource {
    /// A full URL (`DATABASE_URL`): tests and the native local stack.
    Url(SecretString),
    /// The RDS-managed secret `{username, password}` plus where the database lives: AWS and compose.
    Secret {
        secret_arn: String,
        host: String,
        port: u16,
        name: String,
    },
}

/// Database settings shared by every function.
#[derive(Clone, Debug)]
pub struct DbSettings {
    pub source: DbSource,
    /// Pool size per execution environment: one Lambda handles one event at a time, so 2 is plenty.
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// TLS to the database, applied over whatever the URL says.
    pub tls: DbTls,
}

impl DbSettings {
    /// Reads `DATABASE_URL`, or else `DB_SECRET_ARN`, `DB_HOST`, `DB_PORT`, `DB_NAME`; and [`DbTls::from_env`].
    pub fn from_env() -> Result<Self, ConfigError> {
        let source = match optional("DATABASE_URL") {
            Some(url) => DbSource::Url(SecretString::from(url)),
            None => DbSource::Secret {
                secret_arn: required("DB_SECRET_ARN")?,
                host: required("DB_HOST")?,
                port: parsed("DB_PORT")?,
                name: required("DB_NAME")?,
            },
        };
        Ok(Self {
            source,
            max_connections: parsed_or("DB_MAX_CONNECTIONS", 2)?,
            acquire_timeout: Duration::from_secs(parsed_or("DB_ACQUIRE_TIMEOUT_SECONDS", 5)?),
            tls: DbTls::from_env()?,
        })
    }

    /// Settings for a plain URL (tests, tools).
    pub fn from_url(url: impl Into<String>) -> Self {
        Self {
            source: DbSource::Url(SecretString::from(url.into())),
            max_connections: 5,
            acquire_timeout: Duration::from_secs(5),
            tls: DbTls::default(),
        }
    }
}

/// TLS to the database, from the libpq variables `PGSSLMODE` and `PGSSLROOTCERT`.
///
/// sqlx reads both variables itself, but an `sslmode` it cannot parse silently becomes `prefer` (sqlx-postgres
/// 0.9 `PgConnectOptions::new_without_pgpass`), which accepts any certificate: a typo in the deployment would
/// turn verification off without a word. So they are read here, strictly, once at init, and
/// [`crate::db::Db::connect`] applies them over the URL; an unknown mode or an unreadable CA bundle fails the
/// init instead.
#[derive(Clone, Debug, Default)]
pub struct DbTls {
    /// `None`: the URL's `sslmode`, else sqlx's default (`prefer`).
    pub mode: Option<PgSslMode>,
    /// The PEM CA bundle the server certificate must chain to (read from the file at init). `None`: sqlx's
    /// built-in public roots.
    pub root_cert_pem: Option<Vec<u8>>,
}

impl DbTls {
    /// Reads `PGSSLMODE` and `PGSSLROOTCERT` (both optional: unset locally, TLS off).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::parse(
            optional("PGSSLMODE").as_deref(),
            optional("PGSSLROOTCERT").as_deref(),
        )
    }

    /// Parses a libpq `sslmode` (`disable`, `allow`, `prefer`, `require`, `verify-ca`, `verify-full`) and
    /// reads the CA bundle at `root_cert`, a path holding at least one PEM certificate.
    pub fn parse(mode: Option<&str>, root_cert: Option<&str>) -> Result<Self, ConfigError> {
        let invalid = |name: &str, reason: String| ConfigError::Invalid {
            name: name.to_owned(),
            reason,
        };
        let mode = mode
            .map(|raw| match raw.trim() {
                "disable" => Ok(PgSslMode::Disable),
                "allow" => Ok(PgSslMode::Allow),
                "prefer" => Ok(PgSslMode::Prefer),
                "require" => Ok(PgSslMode::Require),
                "verify-ca" => Ok(PgSslMode::VerifyCa),
                "verify-full" => Ok(PgSslMode::VerifyFull),
                other => Err(invalid("PGSSLMODE", format!("unknown sslmode {other:?}"))),
            })
            .transpose()?;
        let root_cert_pem = root_cert
            .map(|path| read_pem_bundle("PGSSLROOTCERT", path))
            .transpose()?;
        Ok(Self {
            mode,
            root_cert_pem,
        })
    }
}

/// Outbox relay tuning (`outbox-relay` only). `Default` is the documented defaults.
#[derive(Clone, Copy, Debug)]
pub struct RelaySettings {
    /// Rows younger than this are left to the publisher that wrote them.
    pub min_age: Duration,
    pub batch_size: u64,
    /// Open orders older than this are cancelled with reason `expired` (`ORDER_EXPIRY_MINUTES`).
    pub expire_after: Duration,
    /// Open orders older than this count as stalled in the gauge the alarm watches (`ORDER_STALL_MINUTES`).
    pub stall_after: Duration,
}

impl Default for RelaySettings {
    fn default() -> Self {
        Self {
            min_age: Duration::from_secs(5),
            batch_size: 100,
            expire_after: Duration::from_secs(30 * 60),
            stall_after: Duration::from_secs(10 * 60),
        }
    }
}

impl RelaySettings {
    /// Reads `OUTBOX_MIN_AGE_SECONDS` (default 5), `OUTBOX_BATCH_SIZE` (100), `ORDER_EXPIRY_MINUTES` (30) and
    /// `ORDER_STALL_MINUTES` (10).
    pub fn from_env() -> Result<Self, ConfigError> {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        Ok(Self {
            min_age: Duration::from_secs(parsed_or("OUTBOX_MIN_AGE_SECONDS", 5)?),
            batch_size: parsed_or("OUTBOX_BATCH_SIZE", 100)?,
            expire_after: minutes(parsed_or("ORDER_EXPIRY_MINUTES", 30)?),
            stall_after: minutes(parsed_or("ORDER_STALL_MINUTES", 10)?),
        })
    }
}

/// Reads the PEM bundle at `path`, named by the variable `name`: it must be readable and hold at least one
/// certificate, or the init fails (`PGSSLROOTCERT`, `AWS_CA_BUNDLE`).
pub fn read_pem_bundle(name: &str, path: &str) -> Result<Vec<u8>, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        name: name.to_owned(),
        reason,
    };
    let pem =
        std::fs::read(path.trim()).map_err(|e| invalid(format!("cannot read {path}: {e}")))?;
    let has_certificate = pem
        .windows(b"-----BEGIN CERTIFICATE-----".len())
        .any(|w| w == b"-----BEGIN CERTIFICATE-----");
    if has_certificate {
        Ok(pem)
    } else {
        Err(invalid(format!("{path} holds no PEM certificate")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_tls_variables_leave_the_url_and_sqlx_defaults_alone() {
        let tls = DbTls::parse(None, None).unwrap();
        assert!(tls.mode.is_none() && tls.root_cert_pem.is_none());
    }

    #[test]
    fn every_libpq_sslmode_parses_and_a_typo_fails_the_init_instead_of_turning_verification_off() {
        for (raw, mode) in [
            ("disable", PgSslMode::Disable),
            ("allow", PgSslMode::Allow),
            ("prefer", PgSslMode::Prefer),
            ("require", PgSslMode::Require),
            ("verify-ca", PgSslMode::VerifyCa),
            (" verify-full ", PgSslMode::VerifyFull),
        ] {
            let parsed = DbTls::parse(Some(raw), None).unwrap().mode;
            // PgSslMode has no PartialEq.
            assert_eq!(format!("{parsed:?}"), format!("{:?}", Some(mode)), "{raw}");
        }
        for typo in ["verify_full", "VERIFY-FULL", "full", "true"] {
            let err = DbTls::parse(Some(typo), None).unwrap_err();
            assert!(err.to_string().contains("PGSSLMODE"), "{typo}: {err}");
        }
    }

    #[test]
    fn a_missing_or_certificate_less_ca_bundle_fails_the_init() {
        let missing = DbTls::parse(Some("verify-full"), Some("/nonexistent/ca.pem")).unwrap_err();
        assert!(missing.to_string().contains("PGSSLROOTCERT"), "{missing}");

        let path = std::env::temp_dir().join(format!("not-a-ca-{}.pem", std::process::id()));
        std::fs::write(&path, "hello").unwrap();
        let empty = DbTls::parse(Some("verify-full"), path.to_str()).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert!(empty.to_string().contains("no PEM certificate"), "{empty}");
    }
}
