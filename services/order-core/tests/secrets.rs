//! Database credentials from Secrets Manager (the emulator: LocalStack, or moto), cached per execution environment and re-fetched once when
//! PostgreSQL rejects them (rotation).

mod support;

use order_core::config::{DbSettings, DbSource};
use order_core::db::Db;
use sea_orm::{ConnectionTrait, DbErr};

async fn secrets_client() -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&support::aws_config().await)
}

fn settings(secret_arn: &str) -> DbSettings {
    let admin = support::admin_url();
    let (rest, _) = admin.rsplit_once('/').unwrap();
    let host_port = rest.rsplit('@').next().unwrap();
    let (host, port) = host_port.split_once(':').unwrap();
    let mut settings = DbSettings::from_url("unused");
    settings.source = DbSource::Secret {
        secret_arn: secret_arn.to_owned(),
        host: host.to_owned(),
        port: port.parse().unwrap(),
        name: "postgres".to_owned(),
    };
    settings
}

/// A new secret holding `secret_string`, and a `Db` that logs in with it (the emulator's client kept for
/// rotating it).
async fn connect_with_secret(
    secret_string: &str,
) -> (std::sync::Arc<Db>, aws_sdk_secretsmanager::Client, String) {
    let client = secrets_client().await;
    let arn = client
        .create_secret()
        .name(format!("db-{}", uuid::Uuid::new_v4()))
        .secret_string(secret_string)
        .send()
        .await
        .expect("Secrets Manager emulator")
        .arn
        .unwrap();
    let db = Db::connect(settings(&arn), Some(client.clone()))
        .await
        .unwrap();
    (db, client, arn)
}

async fn select_one(db: &Db) -> Result<(), DbErr> {
    db.run(|conn| async move { conn.execute_unprepared("SELECT 1").await.map(|_| ()) })
        .await
}

#[tokio::test]
async fn credentials_come_from_the_rds_style_secret() {
    let (db, _, _) =
        connect_with_secret(r#"{"username":"postgres","password":"p@ss:w/rd%"}"#).await;

    select_one(&db)
        .await
        .expect("connects with the secret's credentials");
}

#[tokio::test]
async fn rejected_credentials_are_refetched_once_after_a_rotation() {
    // The environment starts with credentials PostgreSQL will refuse (a role that no longer exists)...
    let (db, client, arn) =
        connect_with_secret(r#"{"username":"rotated_away","password":"old"}"#).await;
    // ...and the secret is rotated after it cached them.
    client
        .put_secret_value()
        .secret_id(&arn)
        .secret_string(r#"{"username":"postgres","password":"new"}"#)
        .send()
        .await
        .unwrap();

    select_one(&db)
        .await
        .expect("re-fetched the secret and retried");
    select_one(&db)
        .await
        .expect("and keeps the new credentials");
}

#[tokio::test]
async fn a_secret_that_stays_wrong_fails_instead_of_looping() {
    let (db, _, _) = connect_with_secret(r#"{"username":"nobody_here","password":"x"}"#).await;

    let err = select_one(&db).await.unwrap_err();

    assert!(order_core::db::is_auth_failure(&err), "{err}");
}

/// Runs `sql` as the server's admin (database `postgres`).
async fn admin(sql: &str) {
    let conn = sea_orm::Database::connect(support::admin_url())
        .await
        .unwrap();
    conn.execute_unprepared(sql).await.unwrap();
    conn.close().await.unwrap();
}

async fn admin_count(table: &str) -> i64 {
    let conn = sea_orm::Database::connect(support::admin_url())
        .await
        .unwrap();
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            format!("SELECT count(*) AS n FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    conn.close().await.unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

/// The secret is rotated after an operation committed its transaction but before its last statement, which
/// needs a new connection: the database then refuses the cached login. `Db::run` must return that error rather
/// than re-fetch the secret and run the operation (and its committed insert) a second time.
#[tokio::test]
async fn a_rotation_after_the_commit_never_runs_the_transaction_again() {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let (old_role, new_role, table) = (
        format!("rot_old_{tag}"),
        format!("rot_new_{tag}"),
        format!("rerun_{tag}"),
    );
    admin(&format!(
        "CREATE ROLE {old_role} LOGIN; CREATE ROLE {new_role} LOGIN; CREATE TABLE {table} (n int); \
         GRANT INSERT, SELECT ON {table} TO {old_role}, {new_role};"
    ))
    .await;
    let (db, client, arn) =
        connect_with_secret(&format!(r#"{{"username":"{old_role}","password":"old"}}"#)).await;
    let rotated = std::sync::atomic::AtomicBool::new(false);
    let rotate = || async {
        // Once: the old login stops working (its sessions end, it may no longer log in) and the secret names the
        // new one.
        if !rotated.swap(true, std::sync::atomic::Ordering::SeqCst) {
            admin(&format!(
                "ALTER ROLE {old_role} NOLOGIN; \
                 SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{old_role}';"
            ))
            .await;
            client
                .put_secret_value()
                .secret_id(&arn)
                .secret_string(format!(r#"{{"username":"{new_role}","password":"new"}}"#))
                .send()
                .await
                .unwrap();
        }
    };

    let (rotate, table) = (&rotate, &table);
    let outcome = db
        .run(|conn| async move {
            let txn = order_core::db::begin(&conn).await?;
            txn.execute_unprepared(&format!("INSERT INTO {table} VALUES (1)"))
                .await?;
            txn.commit().await?;
            rotate().await;
            conn.execute_unprepared(&format!("SELECT count(*) FROM {table}"))
                .await
                .map(|_| ())
        })
        .await;

    let err = outcome.expect_err("the last statement's login was refused");
    assert!(order_core::db::is_auth_failure(&err), "{err}");
    assert_eq!(
        admin_count(table).await,
        1,
        "the committed insert ran once, not again after a re-fetch"
    );
    // The next operation re-fetches the secret and works under the new login.
    select_one(&db).await.expect("the next run re-fetches");
    db.close().await;
    admin(&format!(
        "DROP TABLE {table}; DROP ROLE {old_role}; DROP ROLE {new_role};"
    ))
    .await;
}
