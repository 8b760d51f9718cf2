//! Least privilege on real PostgreSQL: each function logs in as its own role (created by the migrations), which
//! can do its own job and nothing more; no role can change the schema.

mod support;

use std::time::Duration;

use migration::FUNCTION_ROLES;
use order_core::config::RelaySettings;
use order_core::db::sqlstate;
use order_core::messages::Event;
use order_core::service::OrderService;
use order_core::topology::FUNCTIONS;
use sea_orm::{Database, DatabaseConnection, DbErr};
use serde_json::json;
use support::{ApiEvent, ConnectionTrait, HOODIE, MUG, TEE, TestApp, TestQueue, spawn_app, url_as};

const ALICE: &str = "9a6c1f44-4d1b-4f7e-9a1e-1d2f3c4b5a69";
const INSUFFICIENT_PRIVILEGE: &str = "42501";

async fn connect_as(app: &TestApp, function: &str) -> DatabaseConnection {
    let login = migration::login_of(function).expect("a function role");
    Database::connect(url_as(&app.db_url, &login))
        .await
        .expect("the role can log in")
}

async fn refused(conn: &DatabaseConnection, sql: &str) -> DbErr {
    conn.execute_unprepared(sql)
        .await
        .expect_err(&format!("{sql} must be refused"))
}

fn assert_denied(err: &DbErr, what: &str) {
    assert_eq!(
        sqlstate(err).as_deref(),
        Some(INSUFFICIENT_PRIVILEGE),
        "{what}: {err}"
    );
}

async fn process_all(app: &TestApp) -> (usize, usize) {
    let deps = app.deps.clone();
    app.pump(&app.orders_queue, move |e: Event| {
        let deps = deps.clone();
        async move { OrderService::new(deps).process_order(&e).await }
    })
    .await
}

async fn update_all(app: &TestApp) -> (usize, usize) {
    let deps = app.deps.clone();
    app.pump(&app.stock_queue, move |e: Event| {
        let deps = deps.clone();
        async move { OrderService::new(deps).update_stock(&e).await }
    })
    .await
}

async fn unpublished(app: &TestApp) -> i64 {
    app.scalar_i64("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        .await
}

#[test]
fn every_function_has_a_role_and_every_role_a_function() {
    let mut functions: Vec<&str> = FUNCTIONS.iter().map(|f| f.name).collect();
    let mut with_roles: Vec<&str> = FUNCTION_ROLES.iter().map(|r| r.function).collect();
    functions.sort_unstable();
    with_roles.sort_unstable();
    assert_eq!(functions, with_roles);
    for r in &FUNCTION_ROLES {
        let function = order_core::topology::function(r.function).unwrap();
        assert_eq!(
            r.role,
            function.db_role(),
            "xtask and Terraform derive the same name"
        );
        assert_eq!(r.login_users(), function.db_logins(), "and the same logins");
    }
}

#[tokio::test]
async fn get_orders_role_can_read_but_cannot_insert_update_or_delete() {
    let app = spawn_app().await;
    let conn = connect_as(&app, "get-orders").await;

    let insert = refused(
        &conn,
        "INSERT INTO orders (id, customer_id, request_hash) VALUES (gen_random_uuid(), 'x', 'h')",
    )
    .await;
    assert_denied(&insert, "INSERT INTO orders");
    assert_denied(
        &refused(&conn, "INSERT INTO outbox (id, destination, payload) VALUES (gen_random_uuid(), 'orders', '{}')").await,
        "INSERT INTO outbox",
    );
    assert_denied(
        &refused(&conn, "UPDATE orders SET status = 'fulfilled'").await,
        "UPDATE orders",
    );
    assert_denied(
        &refused(&conn, "DELETE FROM order_line").await,
        "DELETE FROM order_line",
    );
    assert_denied(
        &refused(&conn, "SELECT count(*) FROM product_info").await,
        "SELECT product_info (not its business)",
    );
    conn.execute_unprepared("SELECT count(*) FROM orders JOIN order_line ON order_id = id")
        .await
        .expect("it reads orders and their lines");
}

#[tokio::test]
async fn each_role_is_a_nologin_group_whose_two_logins_hold_its_grants_and_none_of_their_own() {
    let app = spawn_app().await;
    for r in &FUNCTION_ROLES {
        let group_logs_in = app
            .scalar_i64(&format!(
                "SELECT count(*) FROM pg_roles WHERE rolname = '{}' AND rolcanlogin",
                r.role
            ))
            .await;
        assert_eq!(group_logs_in, 0, "{} is NOLOGIN", r.role);
        for login in r.login_users() {
            let member = app
                .scalar_i64(&format!(
                    "SELECT count(*) FROM pg_roles WHERE rolname = '{login}' AND rolcanlogin \
                     AND rolinherit AND pg_has_role('{login}', '{}', 'USAGE')",
                    r.role
                ))
                .await;
            assert_eq!(member, 1, "{login} logs in and inherits {}", r.role);
            let own_grants = app
                .scalar_i64(&format!(
                    "SELECT count(*) FROM information_schema.role_table_grants WHERE grantee = '{login}'"
                ))
                .await
                + app
                    .scalar_i64(&format!(
                        "SELECT count(*) FROM information_schema.column_privileges WHERE grantee = '{login}'"
                    ))
                    .await;
            assert_eq!(own_grants, 0, "{login}: every grant is the group's");
            // Either login does what the role may, and no more.
            let conn = Database::connect(url_as(&app.db_url, &login))
                .await
                .unwrap();
            conn.execute_unprepared("SELECT count(*) FROM orders JOIN order_line ON order_id = id")
                .await
                .expect("every role reads orders and their lines");
            assert_denied(
                &refused(&conn, "DELETE FROM orders").await,
                &format!("{login}: DELETE"),
            );
            conn.close().await.unwrap();
        }
    }
}

#[tokio::test]
async fn no_function_role_can_create_alter_drop_or_truncate_a_table() {
    let app = spawn_app().await;
    for r in &FUNCTION_ROLES {
        let conn = connect_as(&app, r.function).await;
        let who = r.role;
        for sql in [
            "CREATE TABLE public.intruder (id int)",
            "CREATE TABLE intruder (id int)",
            "CREATE SCHEMA intruder",
            "CREATE TEMP TABLE intruder (id int)",
            "ALTER TABLE orders ADD COLUMN intruder int",
            "ALTER TABLE product_info DROP CONSTRAINT product_info_reserved_within_on_hand",
            "DROP TABLE outbox",
            "DROP TABLE seaql_migrations",
            "TRUNCATE orders",
            "DELETE FROM orders",
            "CREATE ROLE intruder",
        ] {
            assert_denied(&refused(&conn, sql).await, &format!("{who}: {sql}"));
        }
        let owns = app
            .scalar_i64(&format!(
                "SELECT count(*) FROM pg_class WHERE relowner = '{who}'::regrole"
            ))
            .await;
        assert_eq!(owns, 0, "{who} owns nothing");
        conn.close().await.unwrap();
    }
}

#[tokio::test]
async fn create_order_role_creates_replays_and_publishes_its_own_message() {
    let app = spawn_app().await;
    let create = app.as_function("create-order").await;

    let event = || {
        ApiEvent::new("POST", "/orders", "/orders")
            .by(ALICE)
            .header("Idempotency-Key", "roles-1")
            .body(&json!({"items": [{"product_id": TEE, "quantity": 1}]}).to_string())
    };
    let first = create.post_order(event()).await;
    let replay = create.post_order(event()).await;
    let unknown = create
        .create(
            ALICE,
            json!([{"product_id": "0193a000-0000-7000-8000-0000000000ff", "quantity": 1}]),
        )
        .await;

    assert_eq!(first.status, 202, "{}", first.json);
    assert_eq!(
        replay.json["id"], first.json["id"],
        "the replay reads the order"
    );
    assert_eq!(unknown.status, 422, "{}", unknown.json);
    assert_eq!(
        unpublished(&app).await,
        0,
        "create-order claimed and marked its outbox row itself"
    );
    assert_eq!(app.receive(&app.orders_queue, 30).await.len(), 1);
}

#[tokio::test]
async fn get_orders_role_reads_one_order_and_lists_them() {
    let app = spawn_app().await;
    let created = app
        .create(ALICE, json!([{"product_id": MUG, "quantity": 2}]))
        .await;
    let id = created.json["id"].as_str().unwrap();
    let reader = app.as_function("get-orders").await;

    let one = reader
        .get(
            ApiEvent::new("GET", "/orders/{id}", &format!("/orders/{id}"))
                .by(ALICE)
                .path_param("id", id),
        )
        .await;
    let list = reader
        .get(ApiEvent::new("GET", "/orders", "/orders").by(ALICE))
        .await;

    assert_eq!(one.status, 200, "{}", one.json);
    assert_eq!(one.json["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(list.status, 200, "{}", list.json);
    assert_eq!(list.json["orders"][0]["id"], id);
}

#[tokio::test]
async fn process_order_and_update_stock_roles_move_an_order_to_fulfilled() {
    let app = spawn_app().await;
    let ok = app
        .create(ALICE, json!([{"product_id": HOODIE, "quantity": 3}]))
        .await;
    let too_many = app
        .create(ALICE, json!([{"product_id": MUG, "quantity": 1000}]))
        .await;
    let (ok, too_many) = (
        ok.json["id"].as_str().unwrap().to_owned(),
        too_many.json["id"].as_str().unwrap().to_owned(),
    );
    let process = app.as_function("process-order").await;
    let update = app.as_function("update-stock").await;

    assert_eq!(process_all(&process).await, (2, 0));
    assert_eq!(app.status(&ok).await, "confirmed");
    assert_eq!(app.status(&too_many).await, "rejected");
    assert_eq!(
        unpublished(&app).await,
        0,
        "process-order published its queue 2 row itself"
    );
    assert_eq!(update_all(&update).await, (1, 0));

    assert_eq!(app.status(&ok).await, "fulfilled");
    assert_eq!(app.stock(HOODIE).await, (7, 0));
}

#[tokio::test]
async fn cancel_order_role_cancels_and_releases_the_reservation() {
    let app = spawn_app().await;
    let created = app
        .create(ALICE, json!([{"product_id": HOODIE, "quantity": 2}]))
        .await;
    let id = created.json["id"].as_str().unwrap().to_owned();
    process_all(&app).await;
    assert_eq!(app.stock(HOODIE).await, (10, 2));
    let cancel = app.as_function("cancel-order").await;

    let answer = cancel.cancel(ALICE, &id).await;

    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(app.status(&id).await, "cancelled");
    assert_eq!(app.stock(HOODIE).await, (10, 0));
}

#[tokio::test]
async fn outbox_relay_role_publishes_backs_off_expires_and_measures() {
    let app = spawn_app().await;
    // Two orders whose own publish never happened (written by the store alone, as after a crash).
    for quantity in [1, 2] {
        let created = app
            .create(ALICE, json!([{"product_id": HOODIE, "quantity": quantity}]))
            .await;
        assert_eq!(created.status, 202);
    }
    app.conn
        .execute_unprepared("UPDATE outbox SET published_at = NULL")
        .await
        .unwrap();
    let relay = app.as_function("outbox-relay").await;
    let settings = RelaySettings {
        min_age: Duration::ZERO,
        expire_after: Duration::from_secs(3600),
        ..Default::default()
    };

    // SQS refuses (the queue is gone): the relay backs the rows off.
    let gone = TestQueue {
        url: format!("{}-gone", app.orders_queue.url),
        ..app.orders_queue.clone()
    };
    let broken = support::deps_for(&relay.db_url, &app.sqs, &gone, &app.stock_queue).await;
    let failing = OrderService::new(broken)
        .relay(settings)
        .await
        .expect("a failed send is a report, not an error");
    assert_eq!(failing.publish.failed, 2);
    assert_eq!(
        app.scalar_i64("SELECT count(*) FROM outbox WHERE next_attempt_at > now()")
            .await,
        2
    );

    // Due again: the relay publishes them, then expires the open orders and reads the gauges.
    app.conn
        .execute_unprepared("UPDATE outbox SET next_attempt_at = now()")
        .await
        .unwrap();
    let report = OrderService::new(relay.deps.clone())
        .relay(settings)
        .await
        .unwrap();
    assert_eq!(report.publish.published, 2);
    assert_eq!(report.gauges.stalled_orders, 0);
    // Queue 1 holds each order twice (its writer's send, then the relay's): duplicates change nothing.
    assert_eq!(process_all(&app).await.1, 0);
    assert_eq!(app.stock(HOODIE).await, (10, 3));
    let expiring = OrderService::new(relay.deps.clone())
        .relay(RelaySettings {
            expire_after: Duration::ZERO,
            ..settings
        })
        .await
        .unwrap();

    assert_eq!(expiring.expired, 2);
    assert_eq!(
        app.scalar_i64("SELECT count(*) FROM orders WHERE cancellation_reason = 'expired'")
            .await,
        2
    );
    assert_eq!(app.stock(HOODIE).await, (10, 0), "reservations released");
}

#[tokio::test]
async fn migrating_down_revokes_this_databases_grants_and_leaves_other_databases_alone() {
    use migration::{Migrator, MigratorTrait};
    let here = spawn_app().await;
    let elsewhere = spawn_app().await;
    let can_read = "SELECT has_table_privilege('orders_get_orders', 'orders', 'SELECT')::int";

    // The grants' migration and the alternating logins' one after it (whose `down` leaves the cluster-wide
    // logins alone).
    Migrator::down(&here.conn, Some(2)).await.expect("down");

    assert_eq!(here.scalar_i64(can_read).await, 0, "revoked here");
    assert_eq!(
        elsewhere.scalar_i64(can_read).await,
        1,
        "still granted in the other database, so the role is kept"
    );
    let reader = elsewhere.as_function("get-orders").await;
    let list = reader
        .get(ApiEvent::new("GET", "/orders", "/orders").by(ALICE))
        .await;
    assert_eq!(list.status, 200, "{}", list.json);

    Migrator::up(&here.conn, None).await.expect("up again");
    assert_eq!(here.scalar_i64(can_read).await, 1, "granted again");
}
