//! The database pool for one execution environment, with RDS-managed credentials from Secrets Manager.
//!
//! The secret is fetched once at init and cached for the life of the environment. When PostgreSQL rejects
//! the password (the secret was rotated), [`Db::run`] fetches it again once and retries.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbErr, RuntimeErr,
    TransactionTrait,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::RwLock;

use crate::config::{DbSettings, DbSource, DbTls};
use crate::init_clock::InitClock;

/// The pool and where its credentials come from.
pub struct Db {
    settings: DbSettings,
    secrets: Option<aws_sdk_secretsmanager::Client>,
    conn: RwLock<DatabaseConnection>,
}

/// A database login as Secrets Manager holds it: the RDS-managed master secret and the per-function role
/// secrets share this shape.
#[derive(Deserialize)]
pub struct Credentials {
    pub username: String,
    pub password: SecretString,
}

/// Reads the current version (`AWSCURRENT`) of the secret `secret_id` (a name or an ARN) as
/// `{username, password}`.
pub async fn read_credentials(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
) -> anyhow::Result<Credentials> {
    // AWSCURRENT is what Secrets Manager returns by default; saying it keeps an emulator that forgets to move
    // its default after a rotation (moto) honest.
    let out = client
        .get_secret_value()
        .secret_id(secret_id)
        .version_stage("AWSCURRENT")
        .send()
        .await
        .context("Failed to read the database secret")?;
    let raw = out
        .secret_string()
        .context("the database secret has no string value")?;
    serde_json::from_str(raw).context("the database secret is not {username, password}")
}

impl Db {
    /// Builds the pool; connections open lazily, so a slow database does not fail the Lambda init (the
    /// functions open their first one at init with [`Self::warm_up`], which only logs a failure).
    pub async fn connect(
        settings: DbSettings,
        secrets: Option<aws_sdk_secretsmanager::Client>,
    ) -> anyhow::Result<Arc<Self>> {
        let url = Self::login_url(&settings, secrets.as_ref()).await?;
        Self::with_login(settings, secrets, url).await
    }

    /// The first half of [`Self::connect`]: the login URL, reading the secret if the settings name one.
    pub async fn login_url(
        settings: &DbSettings,
        secrets: Option<&aws_sdk_secretsmanager::Client>,
    ) -> anyhow::Result<SecretString> {
        resolve_url(settings, secrets).await
    }

    /// The second half of [`Self::connect`]: the (lazy) pool for a login URL from [`Self::login_url`].
    pub async fn with_login(
        settings: DbSettings,
        secrets: Option<aws_sdk_secretsmanager::Client>,
        url: SecretString,
    ) -> anyhow::Result<Arc<Self>> {
        let conn = open(&settings, &url).await?;
        Ok(Arc::new(Self {
            settings,
            secrets,
            conn: RwLock::new(conn),
        }))
    }

    /// Opens one connection and runs a first query, at init: the TCP and TLS handshakes, the login and the
    /// server's first answer then happen before the first event, not on its request path. A failure is
    /// logged, not fatal: the database may come back before the first event, and the pool retries then.
    pub async fn warm_up(&self, clock: &mut InitClock) {
        let pool = self.conn().await.get_postgres_connection_pool().clone();
        let mut connection = match pool.acquire().await {
            Ok(connection) => connection,
            Err(e) => {
                clock.mark("pool_connect");
                tracing::warn!(error = %e, "init: could not open a database connection");
                return;
            }
        };
        clock.mark("pool_connect");
        let first = sea_orm::sqlx::query("SELECT 1")
            .execute(&mut *connection)
            .await;
        clock.mark("first_query");
        if let Err(e) = first {
            tracing::warn!(error = %e, "init: the first query failed");
        }
    }

    /// A handle on the current pool (cheap: the pool is reference-counted).
    pub async fn conn(&self) -> DatabaseConnection {
        self.conn.read().await.clone()
    }

    /// Runs `op`; if the database refused our credentials, re-fetches the secret once and runs it again, unless
    /// `op` had begun a transaction by then.
    ///
    /// Credentials are checked only when a connection is opened. A rejected password before `op` began any
    /// transaction means nothing was written, and running it again is safe. After one began (through
    /// [`begin`], the only way the store opens transactions; clippy's `disallowed-methods` keeps it so),
    /// that transaction may have committed before a later statement needed a new connection: `op` is not run
    /// again and its error is returned, so a committed transaction is never run a second time. The callers
    /// are idempotent and retried whole (SQS redelivery, the client's retry with its idempotency key).
    pub async fn run<T, E, F, Fut>(&self, op: F) -> Result<T, E>
    where
        F: Fn(DatabaseConnection) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: AsDbErr,
    {
        let attempt = Attempt::default();
        let first = ATTEMPT.scope(attempt.clone(), op(self.conn().await)).await;
        match first {
            Err(e) if e.as_db_err().is_some_and(is_auth_failure) && self.secrets.is_some() => {
                if attempt.began.load(Ordering::SeqCst) {
                    tracing::warn!(
                        "database rejected the cached credentials after a transaction began; not re-running"
                    );
                    return Err(e);
                }
                tracing::warn!("database rejected the cached credentials; re-fetching the secret");
                if let Err(refresh) = self.refresh().await {
                    tracing::error!(error = %refresh, "could not refresh database credentials");
                    return Err(e);
                }
                op(self.conn().await).await
            }
            other => other,
        }
    }

    async fn refresh(&self) -> anyhow::Result<()> {
        let url = resolve_url(&self.settings, self.secrets.as_ref()).await?;
        let fresh = open(&self.settings, &url).await?;
        let old = std::mem::replace(&mut *self.conn.write().await, fresh);
        let _ = old.close().await;
        Ok(())
    }

    /// Closes the pool (shutdown).
    pub async fn close(&self) {
        let _ = self.conn().await.close().await;
    }
}

/// What [`Db::run`] knows of the operation it runs: whether it began a transaction.
#[derive(Clone, Default)]
struct Attempt {
    began: Arc<AtomicBool>,
}

tokio::task_local! {
    static ATTEMPT: Attempt;
}

/// Begins a transaction on `conn`, noting it for the [`Db::run`] this runs under (if any), which then never
/// runs the operation a second time.
#[allow(clippy::disallowed_methods)] // the one place allowed to begin a transaction
pub async fn begin(conn: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let txn = conn.begin().await?;
    let _ = ATTEMPT.try_with(|a| a.began.store(true, Ordering::SeqCst));
    Ok(txn)
}

/// Errors that may wrap a database error, so [`Db::run`] can spot a rejected password.
pub trait AsDbErr {
    fn as_db_err(&self) -> Option<&DbErr>;
}

impl AsDbErr for DbErr {
    fn as_db_err(&self) -> Option<&DbErr> {
        Some(self)
    }
}

/// SQLSTATE of a database error, if the server sent one.
pub fn sqlstate(err: &DbErr) -> Option<String> {
    let runtime = match err {
        DbErr::Conn(r) | DbErr::Exec(r) | DbErr::Query(r) => r,
        _ => return None,
    };
    match runtime {
        RuntimeErr::SqlxError(e) => e
            .as_database_error()
            .and_then(|d| d.code())
            .map(|c| c.into_owned()),
        _ => None,
    }
}

/// Name of the violated constraint, if any.
pub fn violated_constraint(err: &DbErr) -> Option<String> {
    let runtime = match err {
        DbErr::Exec(r) | DbErr::Query(r) => r,
        _ => return None,
    };
    match runtime {
        RuntimeErr::SqlxError(e) => e
            .as_database_error()
            .and_then(|d| d.constraint())
            .map(str::to_owned),
        _ => None,
    }
}

/// `28P01 invalid_password` / `28000 invalid_authorization_specification`.
pub fn is_auth_failure(err: &DbErr) -> bool {
    matches!(sqlstate(err).as_deref(), Some("28P01" | "28000"))
}

/// True when the database could not be reached or the connection broke: retrying later may succeed.
pub fn is_transient(err: &DbErr) -> bool {
    if matches!(err, DbErr::ConnectionAcquire(_) | DbErr::Conn(_)) {
        return true;
    }
    // connection exception, insufficient resources, operator intervention, transaction rollback (deadlock)
    matches!(
        sqlstate(err).as_deref().map(|s| &s[..2]),
        Some("08" | "53" | "57" | "40")
    )
}

async fn resolve_url(
    settings: &DbSettings,
    secrets: Option<&aws_sdk_secretsmanager::Client>,
) -> anyhow::Result<SecretString> {
    match &settings.source {
        DbSource::Url(url) => Ok(url.clone()),
        DbSource::Secret {
            secret_arn,
            host,
            port,
            name,
        } => {
            let client =
                secrets.context("DB_SECRET_ARN is set but no Secrets Manager client was given")?;
            let secret = read_credentials(client, secret_arn).await?;
            Ok(SecretString::from(format!(
                "postgres://{}:{}@{host}:{port}/{name}",
                urlencode(&secret.username),
                urlencode(secret.password.expose_secret()),
            )))
        }
    }
}

async fn open(settings: &DbSettings, url: &SecretString) -> anyhow::Result<DatabaseConnection> {
    // sqlx 0.9 builds its `verify-ca` verifier with the process-wide rustls provider. With one provider compiled
    // in (aws-lc-rs, for sqlx, the AWS SDK and reqwest alike; `cargo xtask lint` keeps it that way) rustls would
    // pick it by itself, but with two it panics on the first connection: install it explicitly, so a second
    // provider brought in by a future dependency cannot turn into a crash. `Err` = already set.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let mut options = ConnectOptions::new(url.expose_secret().to_owned());
    options
        .max_connections(settings.max_connections)
        .min_connections(0)
        .acquire_timeout(settings.acquire_timeout)
        .connect_timeout(settings.acquire_timeout)
        .connect_lazy(true)
        .sqlx_logging(false);
    let tls = settings.tls.clone();
    options.map_sqlx_postgres_opts(move |pg| apply_tls(&tls, pg));
    Database::connect(options)
        .await
        .context("Failed to set up the database pool")
}

/// `PGSSLMODE` and `PGSSLROOTCERT` as read at init win over the URL (and over sqlx's own lenient reading).
fn apply_tls(tls: &DbTls, mut pg: PgConnectOptions) -> PgConnectOptions {
    if let Some(mode) = tls.mode {
        pg = pg.ssl_mode(mode);
    }
    if let Some(pem) = &tls.root_cert_pem {
        pg = pg.ssl_root_cert_from_pem(pem.clone());
    }
    pg
}

/// Percent-encodes a URL userinfo component (RDS passwords contain any printable character).
pub fn urlencode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::urlencode;

    #[test]
    fn userinfo_is_percent_encoded() {
        assert_eq!(urlencode("p@ss:w/rd%"), "p%40ss%3Aw%2Frd%25");
        assert_eq!(urlencode("plain-1_2.3~"), "plain-1_2.3~");
    }
}
