//! The Lambda handler against a real PostgreSQL: each test gets a fresh, empty database.

use std::sync::Arc;

use lambda_runtime::{Context, LambdaEvent};
use migrate_db::{Report, Request, lambda};
use migration::sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use migration::{Migrator, MigratorTrait};
use order_core::config::DbSettings;
use order_core::db::Db;
use serde_json::json;

/// Where to create throwaway databases (same default as order-core's tests).
fn admin_url() -> String {
    std::env::var("TEST_DATABASE_ADMIN_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// An empty database named `t_<32 hex>`, which `cargo xtask` drops after the run.
struct EmptyDb {
    db: Arc<Db>,
    conn: DatabaseConnection,
}

async fn empty_db() -> EmptyDb {
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(admin_url())
        .await
        .expect("PostgreSQL must be reachable");
    admin
        .execute_unprepared(&format!(r#"CREATE DATABASE "{name}""#))
        .await
        .expect("create test database");
    let (base, _) = admin_url()
        .rsplit_once('/')
        .map(|(base, db)| (base.to_owned(), db.to_owned()))
        .expect("admin URL has a database path");
    let url = format!("{base}/{name}");
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
    lambda::handle(db, LambdaEvent::new(request, Context::default()))
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
