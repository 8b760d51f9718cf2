//! Configuration read once at init from the environment.
//!
//! Every variable the code reads goes through the readers of [`order_contract::config`] with a literal name, or
//! is a queue URL variable named by the topology table; `tests/contract` relies on that to check Terraform and
//! compose.yaml set each one.

use std::time::Duration;

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
}

impl DbSettings {
    /// Reads `DATABASE_URL`, or else `DB_SECRET_ARN`, `DB_HOST`, `DB_PORT`, `DB_NAME`.
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
        })
    }

    /// Settings for a plain URL (tests, tools).
    pub fn from_url(url: impl Into<String>) -> Self {
        Self {
            source: DbSource::Url(SecretString::from(url.into())),
            max_connections: 5,
            acquire_timeout: Duration::from_secs(5),
        }
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
