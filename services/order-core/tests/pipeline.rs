//! The asynchronous half against real PostgreSQL and the SQS emulator: outbox → queue 1 → process-order →
//! queue 2 → update-stock, under duplicates, concurrency, outages and poison messages.

mod support;

use std::time::Duration;

use order_core::config::RelaySettings;
use order_core::service::{Deps, ServiceError};
use order_core::store::outbox;
use serde_json::json;
use support::{ConnectionTrait, HOODIE, MUG, TEE, TestApp, spawn_app};

const ALICE: &str = "9a6c1f44-4d1b-4f7e-9a1e-1d2f3c4b5a69";

fn process(
    deps: &Deps,
) -> impl Fn(
    order_core::messages::Event,
) -> std::pin::Pin<Box<dyn Future<Output = Result<(), ServiceError>> + Send>> {
    let deps = deps.clone();
    move |e| {
        let deps = deps.clone();
        Box::pin(async move {
            order_core::service::OrderService::new(deps.clone())
                .process_order(&e)
                .await
        })
    }
}

fn update(
    deps: &Deps,
) -> impl Fn(
    order_core::messages::Event,
) -> std::pin::Pin<Box<dyn Future<Output = Result<(), ServiceError>> + Send>> {
    let deps = deps.clone();
    move |e| {
        let deps = deps.clone();
        Box::pin(async move {
            order_core::service::OrderService::new(deps.clone())
                .update_stock(&e)
                .await
        })
    }
}

async fn relay_now(deps: &Deps) -> outbox::PublishReport {
    support::relay(
        deps,
        RelaySettings {
            min_age: Duration::ZERO,
            batch_size: 100,
            ..Default::default()
        },
    )
    .await
    .expect("relay")
}

async fn order(app: &TestApp, items: serde_json::Value) -> String {
    let answer = app.create(ALICE, items).await;
    assert_eq!(answer.status, 202, "{}", answer.json);
    answer.json["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_order_flows_from_pending_to_fulfilled_and_stock_drops_by_its_quantities() {
    let app = spawn_app().await;
    let (tee_before, _) = app.stock(TEE).await;
    let (mug_before, _) = app.stock(MUG).await;
    let id = order(
        &app,
        json!([{"product_id": TEE, "quantity": 3}, {"product_id": MUG, "quantity": 2}]),
    )
    .await;
    assert_eq!(app.status(&id).await, "pending");
    assert_eq!(
        app.scalar_i64("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            .await,
        0,
        "create-order published at once"
    );

    let (handled, failed) = app.pump(&app.orders_queue, process(&app.deps)).await;
    assert_eq!((handled, failed), (1, 0));
    assert_eq!(app.status(&id).await, "confirmed");
    assert_eq!(app.stock(TEE).await, (tee_before, 3));
    let total = app
        .scalar_i64(&format!("SELECT total_minor FROM orders WHERE id = '{id}'"))
        .await;
    assert_eq!(total, 3 * 1999 + 2 * 1250);

    let (handled, failed) = app.pump(&app.stock_queue, update(&app.deps)).await;
    assert_eq!((handled, failed), (1, 0));
    assert_eq!(app.status(&id).await, "fulfilled");
    assert_eq!(app.stock(TEE).await, (tee_before - 3, 0));
    assert_eq!(app.stock(MUG).await, (mug_before - 2, 0));
}

#[tokio::test]
async fn delivering_every_message_several_times_and_out_of_order_changes_nothing_more() {
    let app = spawn_app().await;
    let (tee_before, _) = app.stock(TEE).await;
    let a = order(&app, json!([{"product_id": TEE, "quantity": 1}])).await;
    let b = order(
        &app,
        json!([{"product_id": TEE, "quantity": 2}, {"product_id": MUG, "quantity": 1}]),
    )
    .await;

    // Queue 1: take both messages, then deliver them three times, newest first.
    let mut first = app.receive(&app.orders_queue, 60).await;
    assert_eq!(first.len(), 2);
    first.reverse();
    for _ in 0..3 {
        let event = support::sqs_event(&first, &app.orders_queue.arn);
        let response = order_core::sqs::handle_batch(
            order_core::topology::Queue::Orders,
            event,
            &tracing::Span::none(),
            process(&app.deps),
        )
        .await;
        assert!(response.batch_item_failures.is_empty());
    }
    // Queue 2: both confirmations, delivered twice, then a stale queue 1 duplicate after fulfilment.
    let second = app.receive(&app.stock_queue, 60).await;
    assert_eq!(
        second.len(),
        2,
        "one confirmation per order, however often queue 1 was delivered"
    );
    for _ in 0..2 {
        let event = support::sqs_event(&second, &app.stock_queue.arn);
        let response = order_core::sqs::handle_batch(
            order_core::topology::Queue::Stock,
            event,
            &tracing::Span::none(),
            update(&app.deps),
        )
        .await;
        assert!(response.batch_item_failures.is_empty());
    }
    let late = support::sqs_event(&first, &app.orders_queue.arn);
    order_core::sqs::handle_batch(
        order_core::topology::Queue::Orders,
        late,
        &tracing::Span::none(),
        process(&app.deps),
    )
    .await;

    assert_eq!(app.status(&a).await, "fulfilled");
    assert_eq!(app.status(&b).await, "fulfilled");
    assert_eq!(app.stock(TEE).await, (tee_before - 3, 0));
    assert_eq!(
        app.scalar_i64("SELECT count(*) FROM outbox WHERE destination = 'stock'")
            .await,
        2
    );
}

#[tokio::test]
async fn a_hundred_concurrent_orders_for_ten_units_sell_exactly_ten() {
    let app = spawn_app().await;
    app.conn
        .execute_unprepared(&format!(
            "UPDATE product_info SET stock_on_hand = 10 WHERE id = '{HOODIE}'"
        ))
        .await
        .unwrap();
    // Half the orders list the two products in one order, half in the other: lock ordering must prevent deadlock.
    let mut ids = Vec::new();
    for n in 0..100 {
        let items = if n % 2 == 0 {
            json!([{"product_id": HOODIE, "quantity": 1}, {"product_id": MUG, "quantity": 1}])
        } else {
            json!([{"product_id": MUG, "quantity": 1}, {"product_id": HOODIE, "quantity": 1}])
        };
        ids.push(order(&app, items).await);
    }

    let outcomes = futures::future::join_all(ids.iter().map(|id| {
        let deps = app.deps.clone();
        let event = order_core::messages::Event::OrderCreated {
            order_id: order_core::domain::OrderId::parse(id).unwrap(),
        };
        tokio::spawn(async move {
            order_core::service::OrderService::new(deps.clone())
                .process_order(&event)
                .await
        })
    }))
    .await;
    app.drain().await;

    let failures: Vec<_> = outcomes
        .into_iter()
        .map(|r| r.unwrap())
        .filter_map(Result::err)
        .collect();
    assert!(failures.is_empty(), "no deadlocks or errors: {failures:?}");
    assert_eq!(
        app.scalar_i64("SELECT count(*) FROM orders WHERE status = 'fulfilled'")
            .await,
        10
    );
    assert_eq!(app.scalar_i64("SELECT count(*) FROM orders WHERE status = 'rejected' AND rejection_reason = 'out_of_stock'").await, 90);
    assert_eq!(app.stock(HOODIE).await, (0, 0));
    let (_, mug_reserved) = app.stock(MUG).await;
    assert_eq!(mug_reserved, 0);
}

#[tokio::test]
async fn orders_accepted_while_the_queue_is_down_are_published_by_the_relay_once() {
    let app = spawn_app().await;
    let down = support::TestQueue {
        url: format!("{}-gone", app.orders_queue.url),
        ..app.orders_queue.clone()
    };
    let offline = support::deps_for(&app.db_url, &app.sqs, &down, &app.stock_queue).await;
    let service = order_core::service::OrderService::new(offline);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let event = support::ApiEvent::new("POST", "/orders", "/orders")
            .by(ALICE)
            .body(&json!({"items": [{"product_id": TEE, "quantity": 1}]}).to_string());
        let answer = support::answer(
            order_core::http::respond(event.request(), |r| {
                order_core::http::create_order(service.clone(), r)
            })
            .await,
        );
        assert_eq!(answer.status, 202, "the API answers even when SQS does not");
        ids.push(answer.json["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(outbox::pending_count(&app.conn).await.unwrap(), 3);
    assert!(app.receive(&app.orders_queue, 0).await.is_empty());

    // The queue is back: the relay publishes everything once; a second pass finds nothing.
    let first = relay_now(&app.deps).await;
    let second = relay_now(&app.deps).await;
    app.drain().await;

    assert_eq!((first.published, first.failed), (3, 0));
    assert_eq!(second.published, 0);
    assert_eq!(outbox::pending_count(&app.conn).await.unwrap(), 0);
    for id in &ids {
        assert_eq!(app.status(id).await, "fulfilled");
    }
    let (_, reserved) = app.stock(TEE).await;
    assert_eq!(reserved, 0);
    assert_eq!(
        app.scalar_i64("SELECT count(*) FROM outbox WHERE destination = 'stock'")
            .await,
        3,
        "each processed once"
    );
}

#[tokio::test]
async fn a_crash_between_commit_and_publish_is_healed_by_the_relay() {
    let app = spawn_app().await;
    let customer = order_core::domain::CustomerId::parse(ALICE).unwrap();
    let new = order_core::domain::NewOrder::parse([(TEE, 2)]).unwrap();
    // The store commits the order and its outbox row; the process "dies" before publishing.
    let (order, _) = app.create_unpublished(&customer, &new).await;
    assert!(app.receive(&app.orders_queue, 0).await.is_empty());

    let young = support::relay(
        &app.deps,
        RelaySettings {
            min_age: Duration::from_secs(3600),
            batch_size: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        young.published, 0,
        "rows younger than the minimum age are left to their writer"
    );
    let report = relay_now(&app.deps).await;
    app.drain().await;

    assert_eq!(report.published, 1);
    assert_eq!(app.status(&order.id.to_string()).await, "fulfilled");
}

#[tokio::test]
async fn two_relays_running_at_once_never_send_a_row_twice() {
    let app = spawn_app().await;
    let customer = order_core::domain::CustomerId::parse(ALICE).unwrap();
    for q in 1..=25 {
        let new = order_core::domain::NewOrder::parse([(MUG, q)]).unwrap();
        app.create_unpublished(&customer, &new).await;
    }
    let settings = RelaySettings {
        min_age: Duration::ZERO,
        batch_size: 5,
        ..Default::default()
    };

    let (a, b) = tokio::join!(
        support::relay(&app.deps, settings),
        support::relay(&app.deps, settings)
    );

    assert_eq!(a.unwrap().published + b.unwrap().published, 25);
    let mut received = 0;
    loop {
        let batch = app.receive(&app.orders_queue, 60).await;
        if batch.is_empty() {
            break;
        }
        received += batch.len();
    }
    assert_eq!(received, 25);
}

#[tokio::test]
async fn a_poison_message_lands_in_the_dlq_and_the_rest_of_its_batch_is_processed() {
    let app = spawn_app().await;
    let good = order(&app, json!([{"product_id": TEE, "quantity": 1}])).await;
    for body in [
        "this is not json",
        r#"{"version":99,"type":"OrderCreated","order_id":"0193a000-0000-7000-8000-000000000001"}"#,
    ] {
        app.sqs
            .send_message()
            .queue_url(&app.orders_queue.url)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }

    // Receive with visibility 0 so failures come straight back, as after a visibility timeout.
    let mut failures = 0;
    for _ in 0..10 {
        let messages = app.receive(&app.orders_queue, 0).await;
        if messages.is_empty() {
            break;
        }
        failures += app
            .deliver(&app.orders_queue, messages, process(&app.deps))
            .await
            .1;
    }

    assert_eq!(app.status(&good).await, "confirmed");
    assert_eq!(
        failures,
        2 * 3,
        "each poison message was reported on every one of its maxReceiveCount deliveries"
    );
    let dead = app
        .sqs
        .receive_message()
        .queue_url(&app.orders_queue.dlq_url)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    let bodies: Vec<_> = dead
        .messages
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.body)
        .collect();
    assert_eq!(
        bodies.len(),
        2,
        "both poison messages are in the DLQ: {bodies:?}"
    );
}

#[tokio::test]
async fn a_panic_in_one_message_fails_only_that_message() {
    let app = spawn_app().await;
    let a = order(&app, json!([{"product_id": TEE, "quantity": 1}])).await;
    let b = order(&app, json!([{"product_id": MUG, "quantity": 1}])).await;
    let messages = app.receive(&app.orders_queue, 0).await;
    let deps = app.deps.clone();
    let b_id = b.clone();

    let (handled, failed) = app
        .deliver(&app.orders_queue, messages, move |e| {
            let deps = deps.clone();
            let explode = e.order_id().to_string() == b_id;
            async move {
                if explode {
                    panic!("simulated bug");
                }
                order_core::service::OrderService::new(deps.clone())
                    .process_order(&e)
                    .await
            }
        })
        .await;

    assert_eq!((handled, failed), (1, 1), "b's message failed on its own");
    assert_eq!(app.status(&a).await, "confirmed");
    // a's message moved the whole batch in one transaction, b's order with it; b's message is still
    // reported failed, and its redelivery is a duplicate that changes nothing.
    assert_eq!(app.status(&b).await, "confirmed");
    app.drain().await;
    assert_eq!(app.status(&b).await, "fulfilled");
    assert_eq!(
        app.stock(MUG).await.1,
        0,
        "b's stock was reserved and committed once"
    );
}

#[tokio::test]
async fn messages_that_meet_an_unavailable_database_fail_and_succeed_on_redelivery() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for q in 1..=3 {
        ids.push(order(&app, json!([{"product_id": TEE, "quantity": q}])).await);
    }
    let messages = app.receive(&app.orders_queue, 0).await;
    assert_eq!(messages.len(), 3);
    let unavailable =
        support::unavailable_deps(&app.sqs, &app.orders_queue, &app.stock_queue).await;

    // The batch's one transaction meets a database that cannot be reached: every message it covered fails
    // (none is acknowledged), not only the one whose handler ran it.
    let (handled, failed) = app
        .deliver(&app.orders_queue, messages, move |e| {
            let deps = unavailable.clone();
            async move {
                order_core::service::OrderService::new(deps.clone())
                    .process_order(&e)
                    .await
            }
        })
        .await;
    assert_eq!((handled, failed), (0, 3));

    // Redelivery (visibility 0 in this test) with the database back.
    app.drain().await;
    for id in &ids {
        assert_eq!(app.status(id).await, "fulfilled");
    }
    let (_, reserved) = app.stock(TEE).await;
    assert_eq!(reserved, 0);
}

#[tokio::test]
async fn a_black_hole_sqs_still_answers_202_within_the_send_bound_and_leaves_the_row_to_the_relay()
{
    let app = spawn_app().await;
    // Connections are accepted by the kernel's backlog and never answered.
    let hole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(format!("http://{}", hole.local_addr().unwrap()))
        .region(aws_config::Region::new(support::REGION))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .load()
        .await;
    let stalled = order_core::publisher::sqs_client(&config);
    let deps = support::deps_for(&app.db_url, &stalled, &app.orders_queue, &app.stock_queue).await;
    let service = order_core::service::OrderService::new(deps);
    let event = support::ApiEvent::new("POST", "/orders", "/orders")
        .by(ALICE)
        .body(&json!({"items": [{"product_id": TEE, "quantity": 1}]}).to_string());

    let started = std::time::Instant::now();
    let answer = support::answer(
        order_core::http::respond(event.request(), |r| {
            order_core::http::create_order(service, r)
        })
        .await,
    );
    let took = started.elapsed();

    eprintln!("create-order answered in {took:?} with SQS a black hole");
    assert_eq!(answer.status, 202, "{}", answer.json);
    assert!(
        took < order_core::publisher::SEND_TIMEOUT + Duration::from_secs(3),
        "bounded by the send timeout, took {took:?}"
    );
    assert_eq!(
        outbox::pending_count(&app.conn).await.unwrap(),
        1,
        "the relay's to publish"
    );
    drop(hole);
}

/// Counts the `SendMessageBatch` calls that reach SQS.
struct CountingSender {
    inner: order_core::publisher::SqsSender,
    calls: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

#[async_trait::async_trait]
impl order_core::publisher::MessageSender for CountingSender {
    async fn send_batch(
        &self,
        queue_url: &str,
        messages: &[order_core::publisher::OutgoingMessage],
    ) -> anyhow::Result<Vec<bool>> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.send_batch(queue_url, messages).await
    }
}

#[tokio::test]
async fn a_batch_of_ten_confirmations_reaches_queue_2_in_one_send_message_batch_call() {
    // Arrange: ten orders on queue 1, and process-order as its edge runs it: one deferring service per batch.
    let app = spawn_app().await;
    for _ in 0..10 {
        order(&app, json!([{"product_id": TEE, "quantity": 1}])).await;
    }
    let mut messages = Vec::new();
    while messages.len() < 10 {
        let more = app.receive(&app.orders_queue, 60).await;
        assert!(!more.is_empty(), "queue 1 holds the ten orders");
        messages.extend(more);
    }
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut deps = app.deps.clone();
    deps.sender = std::sync::Arc::new(CountingSender {
        inner: order_core::publisher::SqsSender::new(app.sqs.clone()),
        calls: calls.clone(),
    });
    let service = order_core::service::OrderService::new(deps).deferring();

    // Act
    let event = support::sqs_event(&messages, &app.orders_queue.arn);
    let response = order_core::sqs::handle_batch(
        app.orders_queue.kind(),
        event,
        &tracing::Span::none(),
        |e| {
            let service = service.clone();
            async move { service.process_order(&e).await }
        },
    )
    .await;
    let sent_during_the_batch = calls.load(std::sync::atomic::Ordering::SeqCst);
    service.publish_deferred("process-order").await;

    // Assert
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert_eq!(
        sent_during_the_batch, 0,
        "nothing is sent before the batch ends"
    );
    assert_eq!(
        calls.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "one SendMessageBatch for the ten confirmations"
    );
    let mut on_queue_2 = 0;
    loop {
        let got = app.receive(&app.stock_queue, 60).await.len();
        if got == 0 {
            break;
        }
        on_queue_2 += got;
    }
    assert_eq!(on_queue_2, 10);
    assert_eq!(
        app.scalar_i64("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            .await,
        0
    );
}

#[tokio::test]
async fn a_batch_mixing_orders_that_fit_with_orders_that_do_not_confirms_exactly_the_ones_that_fit()
{
    let app = spawn_app().await;
    app.conn
        .execute_unprepared(&format!(
            "UPDATE product_info SET stock_on_hand = 5 WHERE id = '{HOODIE}'"
        ))
        .await
        .unwrap();
    // In batch order against 5 hoodies: 2 fit, 4 do not (3 left), 3 fit, 1 + a mug does not (0 left), a mug
    // alone fits.
    let mut ids = Vec::new();
    for items in [
        json!([{"product_id": HOODIE, "quantity": 2}]),
        json!([{"product_id": HOODIE, "quantity": 4}]),
        json!([{"product_id": HOODIE, "quantity": 3}]),
        json!([{"product_id": MUG, "quantity": 1}, {"product_id": HOODIE, "quantity": 1}]),
        json!([{"product_id": MUG, "quantity": 1}]),
    ] {
        ids.push(order(&app, items).await);
    }
    let (mug_on_hand, _) = app.stock(MUG).await;
    let mut messages = app.receive(&app.orders_queue, 0).await;
    assert_eq!(messages.len(), 5);
    let position = |m: &aws_sdk_sqs::types::Message| {
        let body = m.body.clone().unwrap_or_default();
        ids.iter().position(|id| body.contains(id.as_str()))
    };
    messages.sort_by_key(position);
    // The first order's message again: a duplicate inside the batch changes nothing.
    messages.push(messages[0].clone());

    let (handled, failed) = app
        .deliver(&app.orders_queue, messages, process(&app.deps))
        .await;

    assert_eq!((handled, failed), (6, 0));
    let statuses = futures::future::join_all(ids.iter().map(|id| app.status(id))).await;
    assert_eq!(
        statuses,
        [
            "confirmed",
            "rejected",
            "confirmed",
            "rejected",
            "confirmed"
        ]
    );
    assert_eq!(app.stock(HOODIE).await, (5, 5), "2 + 3 reserved");
    assert_eq!(
        app.stock(MUG).await,
        (mug_on_hand, 1),
        "the rejected order's mug is free"
    );
    assert_eq!(
        app.scalar_i64("SELECT count(*) FROM outbox WHERE destination = 'stock'")
            .await,
        3,
        "one queue 2 message per confirmed order"
    );
    app.drain().await;
    let statuses = futures::future::join_all(ids.iter().map(|id| app.status(id))).await;
    assert_eq!(
        statuses,
        [
            "fulfilled",
            "rejected",
            "fulfilled",
            "rejected",
            "fulfilled"
        ]
    );
    assert_eq!(app.stock(HOODIE).await, (0, 0));
    assert_eq!(app.stock(MUG).await, (mug_on_hand - 1, 0));
}

#[tokio::test]
async fn a_hundred_orders_for_ten_units_in_concurrent_batches_sell_exactly_ten() {
    let app = spawn_app().await;
    app.conn
        .execute_unprepared(&format!(
            "UPDATE product_info SET stock_on_hand = 10 WHERE id = '{HOODIE}'"
        ))
        .await
        .unwrap();
    for n in 0..100 {
        let items = if n % 2 == 0 {
            json!([{"product_id": HOODIE, "quantity": 1}, {"product_id": MUG, "quantity": 1}])
        } else {
            json!([{"product_id": MUG, "quantity": 1}, {"product_id": HOODIE, "quantity": 1}])
        };
        order(&app, items).await;
    }
    let mut batches = Vec::new();
    while batches.iter().map(Vec::len).sum::<usize>() < 100 {
        let messages = app.receive(&app.orders_queue, 30).await;
        assert!(!messages.is_empty(), "every message is received");
        batches.push(messages);
    }

    // Ten consumers at once, each with its own batch: the batches' transactions race for the same rows.
    let outcomes = futures::future::join_all(
        batches
            .into_iter()
            .map(|messages| app.deliver(&app.orders_queue, messages, process(&app.deps))),
    )
    .await;
    app.drain().await;

    let failed: usize = outcomes.iter().map(|(_, failed)| failed).sum();
    assert_eq!(failed, 0, "no deadlocks or errors");
    assert_eq!(
        app.scalar_i64("SELECT count(*) FROM orders WHERE status = 'fulfilled'")
            .await,
        10
    );
    assert_eq!(app.scalar_i64("SELECT count(*) FROM orders WHERE status = 'rejected' AND rejection_reason = 'out_of_stock'").await, 90);
    assert_eq!(app.stock(HOODIE).await, (0, 0));
    assert_eq!(app.stock(MUG).await.1, 0);
}

#[tokio::test]
async fn a_status_write_whose_move_the_order_no_longer_allows_changes_nothing() {
    use order_core::domain::{OrderId, OrderStatus};
    use order_core::store::{StatusChange, StatusDetail, fulfilment};
    let app = spawn_app().await;
    let id = order(&app, json!([{"product_id": TEE, "quantity": 1}])).await;
    app.drain().await;
    assert_eq!(app.status(&id).await, "fulfilled");

    // The guard: the lifecycle has no move out of a terminal status, so no Transition can be made for one.
    assert!(
        OrderStatus::Fulfilled
            .transition_to(OrderStatus::Cancelled)
            .is_err()
    );
    // The store's one status write: a transition made from a status the order has left (a writer that did
    // not hold the order's lock) is refused, and its transaction keeps nothing.
    let stale = OrderStatus::Confirmed
        .transition_to(OrderStatus::Cancelled)
        .unwrap();
    let txn = order_core::db::begin(&app.conn).await.unwrap();
    let change = StatusChange {
        id: OrderId::parse(&id).unwrap(),
        transition: stale,
        detail: StatusDetail::None,
    };
    let err = fulfilment::write_statuses(&txn, &[change])
        .await
        .unwrap_err();
    drop(txn);

    assert!(err.to_string().contains("is no longer confirmed"), "{err}");
    assert_eq!(app.status(&id).await, "fulfilled");
}
