//! Verified TLS to the database, as in AWS (`PGSSLMODE=verify-full`, `PGSSLROOTCERT` = the CA bundle), against a
//! throwaway PostgreSQL with `ssl=on` and a certificate for `localhost` from a throwaway CA. Every connection goes
//! through `Db::connect`, the functions' own path, with the settings `DbTls::from_env` would read.
//!
//! No process-wide environment variable is set: the tests hand `DbTls::parse` the values instead.

use std::time::Duration;

use dev_support::postgres_tls::{TestCa, TlsPostgres};
use order_core::config::{DbSettings, DbTls};
use order_core::db::Db;
use sea_orm::{ConnectionTrait, DbErr, Statement};

/// A server whose certificate names only `localhost`, signed by the returned CA.
fn server_for_localhost() -> (TestCa, TlsPostgres) {
    let ca = TestCa::new("order-core test CA");
    let server = TlsPostgres::start(&ca.server_cert(&["localhost"])).expect("start PostgreSQL");
    (ca, server)
}

/// Connects to `host` on `server` with `PGSSLMODE=mode` and `PGSSLROOTCERT` = `ca`'s certificate (if any), and
/// asks the server whether this session is encrypted.
async fn session_is_encrypted(
    server: &TlsPostgres,
    host: &str,
    mode: &str,
    ca: Option<&TestCa>,
) -> Result<bool, DbErr> {
    let ca_path = ca.map(|ca| {
        let file = format!("ca-{}.pem", uuid::Uuid::new_v4());
        ca.write_cert(server.dir(), &file).unwrap()
    });
    let mut settings = DbSettings::from_url(server.url(host));
    settings.tls = DbTls::parse(Some(mode), ca_path.as_deref().and_then(|p| p.to_str())).unwrap();
    settings.acquire_timeout = Duration::from_secs(10);
    let db = Db::connect(settings, None).await.unwrap();
    let row = db
        .conn()
        .await
        .query_one_raw(Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        ))
        .await?
        .expect("pg_stat_ssl has a row for every backend");
    db.close().await;
    Ok(row.try_get_by_index::<bool>(0).unwrap())
}

fn assert_refused(result: Result<bool, DbErr>, why: &str) {
    let err = result.expect_err("the connection must be refused");
    let text = format!("{err:?}");
    assert!(text.contains(why), "expected {why}, got {text}");
}

#[tokio::test]
async fn verify_full_with_the_right_ca_and_host_name_connects_over_tls() {
    let (ca, server) = server_for_localhost();

    let encrypted = session_is_encrypted(&server, "localhost", "verify-full", Some(&ca)).await;

    assert!(encrypted.unwrap(), "the session must be encrypted");
}

#[tokio::test]
async fn verify_full_refuses_a_server_certificate_from_another_ca() {
    let (_ca, server) = server_for_localhost();
    let unrelated = TestCa::new("an unrelated CA");

    let result = session_is_encrypted(&server, "localhost", "verify-full", Some(&unrelated)).await;

    assert_refused(result, "UnknownIssuer");
}

#[tokio::test]
async fn verify_full_refuses_a_certificate_that_does_not_name_the_host_connected_to() {
    let (ca, server) = server_for_localhost();

    // The certificate names `localhost` only; 127.0.0.1 is the same server under another name.
    let by_address = session_is_encrypted(&server, "127.0.0.1", "verify-full", Some(&ca)).await;
    // verify-ca skips the name check: the chain alone is fine, so the name is what verify-full refused.
    let chain_only = session_is_encrypted(&server, "127.0.0.1", "verify-ca", Some(&ca)).await;

    assert_refused(by_address, "NotValidForName");
    assert!(chain_only.unwrap());
}

#[tokio::test]
async fn verify_full_refuses_a_certificate_issued_for_another_host_name() {
    let ca = TestCa::new("order-core test CA");
    let server = TlsPostgres::start(&ca.server_cert(&["db.other.example"])).unwrap();

    let result = session_is_encrypted(&server, "localhost", "verify-full", Some(&ca)).await;

    assert_refused(result, "NotValidForName");
}

#[tokio::test]
async fn sslmode_disable_still_connects_in_plain_text_as_locally() {
    let (_ca, server) = server_for_localhost();

    let encrypted = session_is_encrypted(&server, "localhost", "disable", None).await;

    assert!(!encrypted.unwrap(), "disable must not negotiate TLS");
}
