//! A function role's password rotation (Secrets Manager's alternating users) against a real PostgreSQL and the
//! Secrets Manager emulator: the four steps through the Lambda handler, as Secrets Manager invokes them.
//!
//! The test server trusts loopback logins, so "the new password logs in" is shown the way PostgreSQL decides
//! it: the SCRAM verifier stored for the login is the one of the password in the secret.
//! Roles are cluster-wide and tests run at once: each test rotates a role of its own.

mod support;

use std::sync::Arc;

use base64::Engine;
use lambda_runtime::{Context, LambdaEvent};
use migrate_db::roles::RolePasswords;
use migrate_db::rotation::{RotationEvent, Rotator, Step};
use migrate_db::{Request, lambda};
use migration::sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use order_core::config::{DbSettings, DbSource};
use order_core::db::Db;
use serde_json::json;
use support::secrets_client;

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_ADMIN_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A fresh database (`t_<32 hex>`, dropped by `cargo xtask` after the run): its URL and the master pool.
async fn fresh_database() -> (String, Arc<Db>, DatabaseConnection) {
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(admin_url()).await.expect("PostgreSQL");
    admin
        .execute_unprepared(&format!(r#"CREATE DATABASE "{name}""#))
        .await
        .expect("create test database");
    let (base, _) = admin_url()
        .rsplit_once('/')
        .map(|(b, _)| (b.to_owned(), ()))
        .unwrap();
    let url = format!("{base}/{name}");
    let db = Db::connect(DbSettings::from_url(url.clone()), None)
        .await
        .unwrap();
    let conn = Database::connect(&url).await.unwrap();
    (url, db, conn)
}

/// `url` with `login` as its user (the server trusts loopback, so no password).
fn url_as(url: &str, login: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{login}@{host}")
}

/// What a function is configured with: its secret, the database's host, port and name.
fn function_settings(url: &str, secret_arn: &str) -> DbSettings {
    let rest = url.split_once("://").unwrap().1;
    let host_port_db = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let (host_port, name) = host_port_db.split_once('/').unwrap();
    let (host, port) = host_port.split_once(':').unwrap();
    let mut settings = DbSettings::from_url("unused");
    settings.source = DbSource::Secret {
        secret_arn: secret_arn.to_owned(),
        host: host.to_owned(),
        port: port.parse().unwrap(),
        name: name.to_owned(),
    };
    settings
}

async fn text(conn: &DatabaseConnection, sql: &str) -> String {
    let row = conn
        .query_one_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .expect("query runs")
        .expect("one row");
    row.try_get_by_index(0).expect("text")
}

async fn verifier(conn: &DatabaseConnection, login: &str) -> String {
    text(
        conn,
        &format!("SELECT coalesce(rolpassword, '') FROM pg_authid WHERE rolname = '{login}'"),
    )
    .await
}

/// Whether PostgreSQL would accept `password` for `login`: the stored SCRAM verifier is the password's.
async fn password_logs_in(conn: &DatabaseConnection, login: &str, password: &str) -> bool {
    let stored = verifier(conn, login).await;
    let Some((_, rest)) = stored.split_once('$') else {
        return false;
    };
    let (head, _) = rest.split_once('$').unwrap();
    let (iterations, salt) = head.split_once(':').unwrap();
    let salt = base64::engine::general_purpose::STANDARD
        .decode(salt)
        .unwrap();
    migrate_db::scram::verifier(password, &salt, iterations.parse().unwrap()) == stored
}

async fn secret_value(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
    stage: &str,
) -> serde_json::Value {
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .version_stage(stage)
        .send()
        .await
        .expect("the version exists");
    serde_json::from_str(out.secret_string().unwrap()).unwrap()
}

/// One role's world: a migrated database whose role secret names `<role>_user`, its password set.
struct World {
    url: String,
    master: Arc<Db>,
    conn: DatabaseConnection,
    client: aws_sdk_secretsmanager::Client,
    roles: RolePasswords,
    arn: String,
    role: &'static str,
}

async fn world(function: &str) -> World {
    let (url, master, conn) = fresh_database().await;
    let client = secrets_client().await;
    let role = migration::role_of(function).unwrap();
    let arn = client
        .create_secret()
        .name(format!("rotation-test/{}", uuid::Uuid::new_v4().simple()))
        .secret_string(
            json!({"username": migration::login_of(function).unwrap(), "password": "first-password"})
                .to_string(),
        )
        .send()
        .await
        .expect("the Secrets Manager emulator must be running (use `cargo xtask test`)")
        .arn
        .unwrap();
    let roles = RolePasswords::new(client.clone(), [(role.to_owned(), arn.clone())].into());
    migrate_db::run(&master, Some(&roles), Request::default())
        .await
        .expect("migrates and sets the first login's password");
    World {
        url,
        master,
        conn,
        client,
        roles,
        arn,
        role,
    }
}

impl World {
    /// One step, through the Lambda handler, as Secrets Manager invokes it.
    async fn step(&self, step: Step, token: &str) {
        let event = RotationEvent {
            step,
            secret_id: self.arn.clone(),
            client_request_token: token.to_owned(),
            rotation_token: None,
        };
        lambda::rotate(
            &self.master,
            Some(&self.roles),
            &DbSettings::from_url(self.url.clone()),
            LambdaEvent::new(event, Context::default()),
        )
        .await
        .unwrap_or_else(|e| panic!("{step:?}: {e}"));
    }

    async fn current(&self) -> (String, String) {
        let value = secret_value(&self.client, &self.arn, "AWSCURRENT").await;
        (
            value["username"].as_str().unwrap().to_owned(),
            value["password"].as_str().unwrap().to_owned(),
        )
    }
}

async fn reads_orders(conn: &DatabaseConnection) -> bool {
    conn.execute_unprepared("SELECT count(*) FROM orders")
        .await
        .is_ok()
}

async fn function_reads_orders(db: &Db) -> bool {
    db.run(|conn| async move {
        conn.execute_unprepared("SELECT count(*) FROM orders")
            .await
            .map(|_| ())
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn two_rotations_flip_the_login_and_never_touch_the_one_in_use() {
    // Arrange: a session of the first login, and a function that cached the secret (both hold `_user`).
    let w = world("get-orders").await;
    let [user, clone] = migration::login_users(w.role);
    let old_session = Database::connect(url_as(&w.url, &user)).await.unwrap();
    let function = Db::connect(function_settings(&w.url, &w.arn), Some(w.client.clone()))
        .await
        .unwrap();
    assert!(function_reads_orders(&function).await);
    let user_verifier = verifier(&w.conn, &user).await;
    assert!(password_logs_in(&w.conn, &user, "first-password").await);

    // Act: the first rotation, step by step; the login in use keeps working after each step.
    let token = uuid::Uuid::new_v4().to_string();
    for step in Step::ALL {
        w.step(step, &token).await;
        assert!(
            reads_orders(&old_session).await,
            "{step:?}: the old session"
        );
        assert!(
            function_reads_orders(&function).await,
            "{step:?}: the cached login"
        );
        assert_eq!(
            verifier(&w.conn, &user).await,
            user_verifier,
            "{step:?}: never the login in use"
        );
        if step == Step::CreateSecret {
            assert_eq!(
                w.current().await.0,
                user,
                "still current until finishSecret"
            );
        }
    }
    let (after_first, first_password) = w.current().await;
    let clone_verifier = verifier(&w.conn, &clone).await;
    let previous = secret_value(&w.client, &w.arn, "AWSPREVIOUS").await;
    let first_login_kept_its_password = password_logs_in(&w.conn, &user, "first-password").await;
    let new_environment = Db::connect(function_settings(&w.url, &w.arn), Some(w.client.clone()))
        .await
        .unwrap();
    let new_environment_logs_in_as =
        text(&new_environment.conn().await, "SELECT current_user::text").await;

    // A retried step changes nothing; then the second rotation.
    w.step(Step::FinishSecret, &token).await;
    w.step(Step::CreateSecret, &token).await;
    let rotator = Rotator {
        roles: &w.roles,
        master: &w.master,
        settings: &DbSettings::from_url(w.url.clone()),
    };
    rotator.rotate(&w.arn).await.expect("the second rotation");
    let (after_second, second_password) = w.current().await;

    // Assert
    assert_eq!(after_first, clone, "the first rotation flips to the clone");
    assert_eq!(
        new_environment_logs_in_as, clone,
        "a new execution environment logs in as the clone"
    );
    assert_eq!(
        previous["username"],
        user.as_str(),
        "the old version is AWSPREVIOUS"
    );
    assert!(
        password_logs_in(&w.conn, &clone, &first_password).await,
        "the new password logs in"
    );
    assert!(first_login_kept_its_password, "the old login is untouched");
    assert_eq!(after_second, user, "the second rotation flips back");
    assert!(password_logs_in(&w.conn, &user, &second_password).await);
    assert!(
        !password_logs_in(&w.conn, &user, "first-password").await,
        "its old password is gone"
    );
    assert_eq!(
        verifier(&w.conn, &clone).await,
        clone_verifier,
        "the clone in use is untouched"
    );
    assert!(
        reads_orders(&old_session).await,
        "sessions survive every rotation"
    );
    assert!(function_reads_orders(&function).await);
    let member = text(
        &w.conn,
        &format!(
            "SELECT string_agg(m.rolname, ',' ORDER BY m.rolname) FROM pg_auth_members a \
                  JOIN pg_roles m ON m.oid = a.member WHERE a.roleid = '{}'::regrole",
            w.role
        ),
    )
    .await;
    assert_eq!(
        member,
        format!("{clone},{user}"),
        "both logins are members of the role"
    );
}

#[tokio::test]
async fn a_secret_that_is_no_function_roles_is_refused_and_left_as_it_was() {
    // Arrange
    let w = world("outbox-relay").await;
    let stranger = w
        .client
        .create_secret()
        .name(format!("rotation-test/{}", uuid::Uuid::new_v4().simple()))
        .secret_string(json!({"username": "postgres", "password": "master"}).to_string())
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    let rotator = Rotator {
        roles: &w.roles,
        master: &w.master,
        settings: &DbSettings::from_url(w.url.clone()),
    };
    let before = verifier(&w.conn, "postgres").await;

    // Act
    let error = rotator.rotate(&stranger).await.unwrap_err();

    // Assert
    assert_eq!(error.kind(), "RotationError");
    assert_eq!(
        secret_value(&w.client, &stranger, "AWSCURRENT").await["username"],
        "postgres"
    );
    assert_eq!(verifier(&w.conn, "postgres").await, before);
}

/// On a server that checks the function logins' passwords (`TEST_SCRAM_DATABASE_URL`: a database whose
/// `pg_hba.conf` says `scram-sha-256` for them; the master user may be trusted), with
/// `cargo nextest run -p migrate-db --test rotation --run-ignored only`.
#[tokio::test]
#[ignore = "needs a PostgreSQL that checks passwords: TEST_SCRAM_DATABASE_URL"]
async fn after_two_rotations_a_function_holding_the_first_login_is_refused_refetches_and_fails_nothing()
 {
    // Arrange: the function logs in with its secret's password and keeps the credentials.
    let url = std::env::var("TEST_SCRAM_DATABASE_URL").expect("TEST_SCRAM_DATABASE_URL");
    let master = Db::connect(DbSettings::from_url(url.clone()), None)
        .await
        .unwrap();
    let client = secrets_client().await;
    let role = migration::role_of("process-order").unwrap();
    let arn = client
        .create_secret()
        .name(format!("rotation-test/{}", uuid::Uuid::new_v4().simple()))
        .secret_string(
            json!({"username": migration::login_of("process-order").unwrap(), "password": "first-password"})
                .to_string(),
        )
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    let roles = RolePasswords::new(client.clone(), [(role.to_owned(), arn.clone())].into());
    migrate_db::run(&master, Some(&roles), Request::default())
        .await
        .unwrap();
    let function = Db::connect(function_settings(&url, &arn), Some(client.clone()))
        .await
        .unwrap();
    assert!(
        function_reads_orders(&function).await,
        "logs in with the first password"
    );
    let rotator = Rotator {
        roles: &roles,
        master: &master,
        settings: &DbSettings::from_url(url.clone()),
    };

    // Act: two rotations change the first login's password; its sessions end (an idle timeout, a failover).
    rotator.rotate(&arn).await.unwrap();
    assert!(
        function_reads_orders(&function).await,
        "after one rotation the cached login still works"
    );
    rotator.rotate(&arn).await.unwrap();
    let [user, _] = migration::login_users(role);
    let admin = Database::connect(&url).await.unwrap();
    admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{user}'"
        ))
        .await
        .unwrap();

    // Assert: the cached password is refused, the secret fetched again, and the operation succeeds.
    assert!(function_reads_orders(&function).await, "no request fails");
    let now = text(&function.conn().await, "SELECT current_user::text").await;
    assert_eq!(now, user, "logged in again with the login's new password");
}
