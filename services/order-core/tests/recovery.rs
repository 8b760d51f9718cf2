//! Recovery: cancelling an order, expiring stalled ones, and late or redriven messages, against real PostgreSQL
//! and the SQS emulator, including cancel racing the consumers.

mod support;

use std::time::Duration;

use order_core::config::RelaySettings;
use order_core::domain::OrderId;
use order_core::messages::Event;
use order_core::service::{OrderService, ServiceError};
use serde_json::{Value, json};
use support::{HOODIE, TEE, TestApp, spawn_app};

const ALICE: &str = "9a6c1f44-4d1b-4f7e-9a1e-1d2f3c4b5a69";
const BOB: &str = "1f0e2d3c-0000-4000-8000-00000000b0b0";

fn problem_type(body: &Value) -> &str {
    body["type"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches(order_core::http::PROBLEM_BASE)
}

async fn order(app: &TestApp, items: Value) -> String {
    let answer = app.create(ALICE, items).await;
    assert_eq!(answer.status, 202, "{}", answer.json);
    answer.json["id"].as_str().unwrap().to_owned()
}

/// Runs queue 1 once: the pending orders become confirmed (or rejected).
async fn process_all(app: &TestApp) {
    let service = app.orders();
    app.pump(&app.orders_queue, |e| {
        let service = service.clone();
        async move { service.process_order(&e).await }
    })
    .await;
}

fn expire_now() -> RelaySettings {
    RelaySettings {
        min_age: Duration::ZERO,
        expire_after: Duration::ZERO,
        ..Default::default()
    }
}

#[tokio::test]
async fn cancelling_a_pending_order_cancels_it_and_leaves_stock_alone() {
    let app = spawn_app().await;
    let id = order(&app, json!([{"product_id": TEE, "quantity": 2}])).await;

    let answer = app.cancel(ALICE, &id).await;

    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["status"], "cancelled");
    assert_eq!(answer.json["cancellation_reason"], "customer");
    assert_eq!(app.stock(TEE).await, (500, 0));
}

#[tokio::test]
async fn cancelling_a_confirmed_order_releases_its_reservation_in_the_same_transaction() {
    let app = spawn_app().await;
    let id = order(&app, json!([{"product_id": TEE, "quantity": 3}])).await;
    process_all(&app).await;
    assert_eq!(app.status(&id).await, "confirmed");
    assert_eq!(app.stock(TEE).await, (500, 3));

    let answer = app.cancel(ALICE, &id).await;

    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["status"], "cancelled");
    assert_eq!(
        app.stock(TEE).await,
        (500, 0),
        "the reservation is released"
    );
}

#[tokio::test]
async fn cancelling_twice_returns_the_same_order() {
    let app = spawn_app().await;
    let id = order(&app, json!([{"product_id": TEE, "quantity": 1}])).await;

    let first = app.cancel(ALICE, &id).await;
    let second = app.cancel(ALICE, &id).await;

    assert_eq!((first.status, second.status), (200, 200));
    assert_eq!(first.json, second.json, "the repeat changes nothing");
}

#[tokio::test]
async fn cancelling_a_fulfilled_order_is_a_409_problem() {
    let app = spawn_app().await;
    let id = order(&app, json!([{"product_id": TEE, "quantity": 1}])).await;
    app.drain().await;
    assert_eq!(app.status(&id).await, "fulfilled");

    let answer = app.cancel(ALICE, &id).await;

    assert_eq!(answer.status, 409, "{}", answer.json);
    assert_eq!(problem_type(&answer.json), "order-not-cancellable");
    assert_eq!(app.status(&id).await, "fulfilled");
    assert_eq!(app.stock(TEE).await, (499, 0));
}

#[tokio::test]
async fn cancelling_another_customers_order_is_a_404_like_a_missing_one() {
    let app = spawn_app().await;
    let id = order(&app, json!([{"product_id": TEE, "quantity": 1}])).await;

    let bobs = app.cancel(BOB, &id).await;
    let missing = app.cancel(ALICE, &OrderId::new().to_string()).await;

    assert_eq!((bobs.status, missing.status), (404, 404));
    assert_eq!(problem_type(&bobs.json), "order-not-found");
    assert_eq!(bobs.json["detail"], missing.json["detail"]);
    assert_eq!(app.status(&id).await, "pending", "Bob changed nothing");
}

#[tokio::test]
async fn late_messages_for_a_cancelled_order_are_acknowledged_without_effect() {
    let app = spawn_app().await;
    let id = order(&app, json!([{"product_id": TEE, "quantity": 2}])).await;
    assert_eq!(app.cancel(ALICE, &id).await.status, 200);
    let order_id = OrderId::parse(&id).unwrap();
    let service = app.orders();

    let created = service
        .process_order(&Event::OrderCreated { order_id })
        .await;
    let confirmed = service
        .update_stock(&Event::OrderConfirmed { order_id })
        .await;

    assert!(created.is_ok() && confirmed.is_ok(), "both acknowledged");
    assert_eq!(app.status(&id).await, "cancelled");
    assert_eq!(app.stock(TEE).await, (500, 0));
}

#[tokio::test]
async fn an_order_whose_queue_2_message_is_dead_lettered_expires_and_a_later_redrive_changes_nothing()
 {
    let app = spawn_app().await;
    let id = order(&app, json!([{"product_id": HOODIE, "quantity": 4}])).await;
    process_all(&app).await;
    assert_eq!(app.stock(HOODIE).await, (10, 4));
    // update-stock fails on every delivery until SQS moves the message to the DLQ.
    for _ in 0..6 {
        let messages = app.receive(&app.stock_queue, 0).await;
        app.deliver(&app.stock_queue, messages, |_| async {
            Err(ServiceError::Internal(anyhow::anyhow!("simulated outage")))
        })
        .await;
    }
    let dead = app.receive_dlq(&app.stock_queue).await;
    assert_eq!(dead.len(), 1, "the queue 2 message is dead-lettered");

    let report = OrderService::new(app.deps.clone())
        .relay(expire_now())
        .await
        .unwrap();

    assert_eq!(report.expired, 1);
    assert_eq!(app.status(&id).await, "cancelled");
    assert_eq!(
        app.scalar_text(&format!(
            "SELECT cancellation_reason FROM orders WHERE id = '{id}'"
        ))
        .await,
        "expired"
    );
    assert_eq!(
        app.stock(HOODIE).await,
        (10, 0),
        "the reservation is released"
    );

    // The DLQ message is redriven (moved back to queue 2, as start-message-move-task does) and update-stock
    // consumes it: acknowledged, nothing moves.
    app.redrive(&app.stock_queue, dead).await;
    let service = app.orders();
    let (handled, failed) = app
        .pump(&app.stock_queue, |e| {
            let service = service.clone();
            async move { service.update_stock(&e).await }
        })
        .await;
    assert_eq!((handled, failed), (1, 0));
    assert_eq!(app.status(&id).await, "cancelled");
    assert_eq!(app.stock(HOODIE).await, (10, 0));
}

#[tokio::test]
async fn expiry_leaves_young_and_finished_orders_alone_and_reports_the_stall_gauges() {
    let app = spawn_app().await;
    let done = order(&app, json!([{"product_id": TEE, "quantity": 1}])).await;
    app.drain().await;
    let young = order(&app, json!([{"product_id": TEE, "quantity": 1}])).await;

    let service = OrderService::new(app.deps.clone());
    let report = service
        .relay(RelaySettings {
            min_age: Duration::from_secs(3600),
            ..Default::default()
        })
        .await
        .unwrap();

    assert_eq!(report.expired, 0);
    assert_eq!(app.status(&done).await, "fulfilled");
    assert_eq!(app.status(&young).await, "pending");
    assert_eq!(
        report.gauges.stalled_orders, 0,
        "nothing is older than 10 minutes"
    );
    assert!(
        report.gauges.oldest_unpublished_seconds < 60.0,
        "{:?}",
        report.gauges
    );

    let stalled = service
        .relay(RelaySettings {
            min_age: Duration::from_secs(3600),
            stall_after: Duration::ZERO,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(stalled.gauges.stalled_orders, 1, "the pending order counts");
}

/// Cancel races process-order → update-stock on the same order, 100 times. Whatever wins, each order ends in
/// exactly one terminal state, no reservation leaks or goes negative, and stock is conserved.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancel_racing_the_consumers_conserves_stock_and_ends_every_order_once() {
    let app = spawn_app().await;
    let (initial, _) = app.stock(HOODIE).await;
    let mut ids = Vec::new();
    for round in 0..100 {
        let id = order(&app, json!([{"product_id": HOODIE, "quantity": 1}])).await;
        let order_id = OrderId::parse(&id).unwrap();
        let pipeline = {
            let service = app.orders();
            tokio::spawn(async move {
                service
                    .process_order(&Event::OrderCreated { order_id })
                    .await?;
                service
                    .update_stock(&Event::OrderConfirmed { order_id })
                    .await
            })
        };
        let cancel = {
            let service = app.orders();
            let customer = order_core::domain::CustomerId::parse(ALICE).unwrap();
            tokio::spawn(async move {
                if round % 2 == 0 {
                    tokio::task::yield_now().await;
                }
                service.cancel(&customer, order_id).await
            })
        };
        let (pipeline, cancel) = (pipeline.await.unwrap(), cancel.await.unwrap());
        pipeline.expect("the consumers acknowledge whatever the cancel did");
        match cancel {
            Ok(_) | Err(ServiceError::NotCancellable(_)) => {}
            Err(other) => panic!("round {round}: {other}"),
        }
        ids.push(id);
    }
    // Drain what the normal path published so no message is left behind.
    app.drain().await;

    let statuses = app
        .scalar_i64(
            "SELECT count(*) FROM orders WHERE status IN ('cancelled', 'fulfilled', 'rejected')",
        )
        .await;
    assert_eq!(statuses, 100, "every order is terminal");
    let fulfilled = app
        .scalar_i64(&format!(
            "SELECT coalesce(sum(l.quantity), 0) FROM order_line l JOIN orders o ON o.id = l.order_id \
             WHERE o.status = 'fulfilled' AND l.product_id = '{HOODIE}'"
        ))
        .await;
    let (on_hand, reserved) = app.stock(HOODIE).await;
    assert_eq!(reserved, 0, "no reservation leaked or went negative");
    assert_eq!(on_hand + fulfilled, initial, "stock is conserved");
    assert!(ids.len() == 100);
}

/// Sends through the real SQS emulator, except that SQS "refuses" one outbox row every time (as it refuses a
/// message over its size limit or with invalid characters).
struct RefusesOne {
    inner: order_core::publisher::SqsSender,
    poisoned: uuid::Uuid,
}

#[async_trait::async_trait]
impl order_core::publisher::MessageSender for RefusesOne {
    async fn send_batch(
        &self,
        queue_url: &str,
        messages: &[order_core::publisher::OutgoingMessage],
    ) -> anyhow::Result<Vec<bool>> {
        let others: Vec<_> = messages
            .iter()
            .filter(|m| m.id != self.poisoned)
            .cloned()
            .collect();
        let mut sent = self.inner.send_batch(queue_url, &others).await?.into_iter();
        Ok(messages
            .iter()
            .map(|m| m.id != self.poisoned && sent.next().unwrap_or(false))
            .collect())
    }
}

#[tokio::test]
async fn an_outbox_row_that_keeps_failing_backs_off_and_does_not_block_the_rows_behind_it() {
    let app = spawn_app().await;
    let customer = order_core::domain::CustomerId::parse(ALICE).unwrap();
    let mut ids = Vec::new();
    for _ in 0..4 {
        let new = order_core::domain::NewOrder::parse([(TEE, 1)]).unwrap();
        let (_, outbox_id) = app.create_unpublished(&customer, &new).await;
        ids.push(outbox_id);
    }
    let mut deps = app.deps.clone();
    deps.sender = std::sync::Arc::new(RefusesOne {
        inner: order_core::publisher::SqsSender::new(app.sqs.clone()),
        poisoned: ids[0],
    });
    // One row per pass, oldest first: without back-off the poisoned oldest row would be claimed every time.
    let settings = RelaySettings {
        min_age: Duration::ZERO,
        batch_size: 1,
        ..Default::default()
    };
    let service = OrderService::new(deps);

    let first = service.relay(settings).await.unwrap();
    let mut published = first.publish.published;
    for _ in 0..3 {
        published += service.relay(settings).await.unwrap().publish.published;
    }

    assert_eq!(first.publish.failed, 1, "{first:?}");
    assert_eq!(
        published, 3,
        "the rows behind the failing one are published"
    );
    let waiting = app
        .scalar_i64(&format!(
            "SELECT count(*) FROM outbox WHERE id = '{}' AND published_at IS NULL \
             AND attempts = 1 AND next_attempt_at > now()",
            ids[0]
        ))
        .await;
    assert_eq!(waiting, 1, "the failing row waits for its back-off");
}

#[tokio::test]
async fn the_relay_stops_claiming_rows_near_its_deadline() {
    let app = spawn_app().await;
    let customer = order_core::domain::CustomerId::parse(ALICE).unwrap();
    let new = order_core::domain::NewOrder::parse([(TEE, 1)]).unwrap();
    app.create_unpublished(&customer, &new).await;
    let settings = RelaySettings {
        min_age: Duration::ZERO,
        ..Default::default()
    };
    let service = OrderService::new(app.deps.clone());

    let past = std::time::Instant::now();
    let late = service.relay_until(settings, Some(past)).await.unwrap();
    let far = std::time::Instant::now() + Duration::from_secs(60);
    let in_time = service.relay_until(settings, Some(far)).await.unwrap();

    assert_eq!(late.publish.published, 0, "no time left: nothing claimed");
    assert_eq!(in_time.publish.published, 1);
}

#[test]
fn the_relay_keeps_ten_seconds_in_hand_or_a_quarter_of_a_short_budget() {
    use order_core::service::margin_for;
    assert_eq!(margin_for(Duration::from_secs(60)), Duration::from_secs(10));
    assert_eq!(
        margin_for(Duration::from_secs(2)),
        Duration::from_millis(500)
    );
    assert_eq!(margin_for(Duration::ZERO), Duration::ZERO);
}
