//! Init, as the real create-order binary runs it: each phase logged in order in the `init phases` record, and
//! the first database connection opened (and queried) before the first event arrives, off its request path.
//! A database that cannot be reached at init does not fail it: the function still asks for events and
//! answers them with a problem, as it would for an outage later.
//!
//! Needs PostgreSQL and the SQS emulator: run with `cargo xtask test`.

mod support;

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, DatabaseBackend, Statement};
use support::{Function, World, post_order_event};

/// What the function logs as its init's phases, in order.
const PHASES: [&str; 7] = [
    "telemetry",
    "aws_config",
    "clients",
    "secret_fetch",
    "pool_connect",
    "first_query",
    "extension",
];

/// The `init phases` record, once the function has logged it.
async fn init_record(function: &Function) -> serde_json::Value {
    let until = Instant::now() + Duration::from_secs(60);
    while Instant::now() < until {
        let record = function
            .log_text()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|l| l["message"] == "init phases");
        if let Some(record) = record {
            return record;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no init phases record\n{}", function.log_text());
}

fn phase_names(record: &serde_json::Value) -> Vec<String> {
    let phases: Vec<serde_json::Value> =
        serde_json::from_str(record["phases"].as_str().expect("phases is a string")).unwrap();
    phases
        .iter()
        .map(|p| {
            assert!(p["wall_ms"].as_f64().unwrap() >= 0.0, "{p}");
            assert!(p["cpu_ms"].as_f64().unwrap() >= 0.0, "{p}");
            p["name"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn init_logs_its_phases_and_connects_before_the_first_event() {
    // Arrange
    let world = World::new().await;
    let database = world.database_url.rsplit_once('/').unwrap().1.to_owned();

    // Act: start the function, give it no event.
    let mut function = Function::start(&world, &[("OTEL_TRACES_EXPORTER", "none")]).await;
    let record = init_record(&function).await;

    // Assert: the phases in order, and a session of the function's already open on its database.
    assert_eq!(phase_names(&record), PHASES, "{record}");
    assert_eq!(record["function"], "create-order");
    assert!(record["main_unix_us"].as_u64().unwrap() > 0);
    let admin = Database::connect(&world.database_url).await.unwrap();
    let sessions = admin
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            format!(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = '{database}' AND pid <> pg_backend_pid()"
            ),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(
        sessions, 1,
        "the warm-up connection is open before any event"
    );
    // And the first event is served on it.
    assert_eq!(function.invoke(post_order_event()).await.status(), 202);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_down_at_init_does_not_fail_it() {
    // Arrange: a database URL nothing listens on.
    let world = World::new().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = format!("postgres://postgres@127.0.0.1:{port}/nowhere");

    // Act
    let mut function = Function::start(
        &world,
        &[
            ("OTEL_TRACES_EXPORTER", "none"),
            ("DATABASE_URL", unreachable.as_str()),
            ("DB_ACQUIRE_TIMEOUT_SECONDS", "1"),
        ],
    )
    .await;
    let record = init_record(&function).await;
    let answer = function.invoke(post_order_event()).await;

    // Assert: init went through every phase up to the failed connection (no first query, then the span export
    // extension), warned, and the event got a problem, not a crash.
    let expected: Vec<&str> = PHASES[..5].iter().chain(&PHASES[6..]).copied().collect();
    assert_eq!(phase_names(&record), expected, "{record}");
    assert!(
        function
            .log_text()
            .contains("init: could not open a database connection"),
        "{}",
        function.log_text()
    );
    assert_eq!(answer.status(), 503, "{answer:?}");
}
