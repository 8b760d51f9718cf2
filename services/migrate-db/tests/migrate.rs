//! The Lambda handler against a real PostgreSQL: each test gets a fresh, empty database.

mod support;

use std::sync::Arc;

use lambda_runtime::{Context, LambdaEvent};
use migrate_db::roles::RolePasswords;
use migrate_db::{Report, Request, lambda};
use migration::sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use migration::{Migrator, MigratorTrait};
use order_core::config::DbSettings;
use order_core::db::Db;
use serde_json::json;
use support::secrets_client;

/// Where to create throwaway databases (same default as order-core's tests).
/// An empty database of its own (`dev_support::database`), which `cargo xtask` drops after the run.
struct EmptyDb {
    db: Arc<Db>,
    conn: DatabaseConnection,
}

async fn empty_db() -> EmptyDb {
    let url = dev_support::database::FreshDatabase::empty().await.url;
    let db = Db::connect(DbSettings::from_url(url.clone()), None)
        .await
        .expect("pool for the test database");
    let conn = Database::connect(&url)
        .await
        .expect("connect to test database");
    EmptyDb { db, conn }
}

/// Invokes the handler the way the runtime does: from the JSON payload.
async fn invoke(db: &Db, payload: serde_json::Value) -> Report {
    let request: Request = serde_json::from_value(payload).expect("payload parses");
    lambda::handle(db, None, LambdaEvent::new(request, Context::default()))
        .await
        .expect("migration run succeeds")
}

async fn count(conn: &DatabaseConnection, sql: &str) -> i64 {
    let row = conn
        .query_one_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .expect("query runs")
        .expect("one row");
    row.try_get_by_index(0).expect("a count")
}

fn all_migration_names() -> Vec<String> {
    Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect()
}

#[tokio::test]
async fn first_run_applies_every_migration_and_a_second_run_applies_none() {
    // Arrange
    let test = empty_db().await;

    // Act
    let first = invoke(&test.db, json!({"seed": false})).await;
    let second = invoke(&test.db, json!({})).await;

    // Assert
    let names = all_migration_names();
    assert_eq!(
        first,
        Report {
            pending_before: names.len(),
            applied: names,
            seeded: false,
            passwords_set: vec![],
        }
    );
    let tables = count(
        &test.conn,
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' \
         AND table_name IN ('product_info', 'orders', 'order_line', 'outbox')",
    )
    .await;
    assert_eq!(tables, 4);
    assert_eq!(
        count(&test.conn, "SELECT count(*) FROM product_info").await,
        0,
        "no seed unless asked"
    );
    assert_eq!(second, Report::default());
}

#[tokio::test]
async fn seeding_loads_the_catalogue_once_however_often_it_runs() {
    // Arrange
    let test = empty_db().await;

    // Act
    let first = invoke(&test.db, json!({"seed": true})).await;
    let after_first = count(&test.conn, "SELECT count(*) FROM product_info").await;
    let second = invoke(&test.db, json!({"seed": true})).await;
    let after_second = count(&test.conn, "SELECT count(*) FROM product_info").await;

    // Assert
    assert!(first.seeded && second.seeded);
    assert_eq!(first.applied, all_migration_names());
    assert!(second.applied.is_empty());
    assert!(after_first > 0, "the demo catalogue is loaded");
    assert_eq!(after_second, after_first, "a second seed adds no rows");
}

#[tokio::test]
async fn an_unreachable_database_is_a_lambda_error_naming_the_step() {
    // Arrange: a closed loopback port, so nothing leaves the machine.
    let mut settings = DbSettings::from_url("postgres://postgres@127.0.0.1:9/none");
    settings.acquire_timeout = std::time::Duration::from_secs(1);
    let db = Db::connect(settings, None).await.expect("lazy pool");

    // Act
    let error = lambda::handle(
        &db,
        None,
        LambdaEvent::new(Request::default(), Context::default()),
    )
    .await
    .expect_err("no database, no migration");

    // Assert
    let diagnostic = lambda_runtime::Diagnostic::from(error);
    assert_eq!(diagnostic.error_type, "MigrationStatusError");
    assert!(
        diagnostic
            .error_message
            .starts_with("Failed to read the migration status"),
        "{}",
        diagnostic.error_message
    );
}

async fn secret(client: &aws_sdk_secretsmanager::Client, username: &str, password: &str) -> String {
    client
        .create_secret()
        .name(format!("roles-test/{}", uuid::Uuid::new_v4().simple()))
        .secret_string(json!({"username": username, "password": password}).to_string())
        .send()
        .await
        .expect("the Secrets Manager emulator must be running (use `cargo xtask test`)")
        .arn
        .expect("an ARN")
}

async fn verifier(conn: &DatabaseConnection, role: &str) -> String {
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            format!("SELECT coalesce(rolpassword, '') FROM pg_authid WHERE rolname = '{role}'"),
        ))
        .await
        .expect("query runs")
        .expect("the role exists");
    row.try_get_by_index(0).expect("text")
}

#[tokio::test]
async fn each_function_roles_password_is_set_from_its_own_secret_after_migrating() {
    // Arrange: the cluster-wide role is shared with concurrent tests, which never set its password.
    let test = empty_db().await;
    let client = secrets_client().await;
    let role = "orders_update_stock";
    // The secret names one of the role's two logins (a NOLOGIN group role itself).
    let login = "orders_update_stock_user";
    let first = secret(&client, login, "first-pa$$'word").await;
    let second = secret(&client, login, "second-password").await;
    let roles =
        |arn: &str| RolePasswords::new(client.clone(), [(role.to_owned(), arn.to_owned())].into());

    // Act
    let report = migrate_db::run(&test.db, Some(&roles(&first)), Request::default())
        .await
        .expect("migrates and sets the password");
    let after_first = verifier(&test.conn, login).await;
    migrate_db::run(&test.db, Some(&roles(&second)), Request::default())
        .await
        .expect("a rotated secret is applied by the next run");
    let after_second = verifier(&test.conn, login).await;

    // Assert
    assert_eq!(report.passwords_set, vec![role.to_owned()]);
    assert!(after_first.starts_with("SCRAM-SHA-256$"), "{after_first}");
    assert!(after_second.starts_with("SCRAM-SHA-256$"));
    assert_ne!(
        after_first, after_second,
        "the new secret's password replaced the old"
    );
}

#[tokio::test]
async fn a_secret_written_before_the_logins_existed_moves_to_the_first_login_with_its_password() {
    // Arrange: the secret names the role itself, as Terraform wrote it before the roles became groups.
    let test = empty_db().await;
    let client = secrets_client().await;
    let role = "orders_cancel_order";
    let legacy = secret(&client, role, "kept-password").await;
    let roles = RolePasswords::new(client.clone(), [(role.to_owned(), legacy.clone())].into());

    // Act
    migrate_db::run(&test.db, Some(&roles), Request::default())
        .await
        .expect("migrates and adopts the secret");

    // Assert
    let value: serde_json::Value = serde_json::from_str(
        client
            .get_secret_value()
            .secret_id(&legacy)
            .send()
            .await
            .unwrap()
            .secret_string()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        value,
        json!({"username": "orders_cancel_order_user", "password": "kept-password"})
    );
    assert!(
        verifier(&test.conn, "orders_cancel_order_user")
            .await
            .starts_with("SCRAM-SHA-256$")
    );
}

#[tokio::test]
async fn a_role_secret_naming_another_user_fails_the_run_and_sets_nothing() {
    // Arrange
    let test = empty_db().await;
    let client = secrets_client().await;
    let wrong = secret(&client, "postgres", "take-over").await;
    let roles = RolePasswords::new(
        client.clone(),
        [("orders_get_orders".to_owned(), wrong)].into(),
    );
    let before = verifier(&test.conn, "postgres").await;

    // Act
    let error = lambda::handle(
        &test.db,
        Some(&roles),
        LambdaEvent::new(Request::default(), Context::default()),
    )
    .await
    .expect_err("a mismatched secret is refused");

    // Assert
    assert_eq!(
        lambda_runtime::Diagnostic::from(error).error_type,
        "RoleSecretError"
    );
    assert_eq!(verifier(&test.conn, "postgres").await, before);
}

#[tokio::test]
async fn our_scram_verifier_is_the_one_postgresql_computes_for_the_same_password_and_salt() {
    use base64::Engine;
    // Arrange: a throwaway role whose password PostgreSQL hashes itself.
    let test = empty_db().await;
    let role = format!("t_scram_{}", uuid::Uuid::new_v4().simple());
    let password = "Zq3-random+Password_With.Punctuation!";
    test.conn
        .execute_unprepared(&format!(
            "SET password_encryption = 'scram-sha-256'; CREATE ROLE {role} PASSWORD '{password}'"
        ))
        .await
        .expect("create the role");
    let theirs = verifier(&test.conn, &role).await;
    test.conn
        .execute_unprepared(&format!("DROP ROLE {role}"))
        .await
        .expect("drop the role");

    // Act: ours, with PostgreSQL's salt and iteration count.
    let (head, _) = theirs.split_once('$').unwrap().1.split_once('$').unwrap();
    let (iterations, salt) = head.split_once(':').unwrap();
    let salt = base64::engine::general_purpose::STANDARD
        .decode(salt)
        .unwrap();
    let ours = migrate_db::scram::verifier(password, &salt, iterations.parse().unwrap());

    // Assert
    assert_eq!(ours, theirs);
}
