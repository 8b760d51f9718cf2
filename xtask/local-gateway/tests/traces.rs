//! One trace per order, seen from outside: the real function binaries (under `cargo lambda watch`) export their
//! spans over OTLP/HTTP to the stack's `otlp-sink`, which `cargo xtask test` points them at; these tests read what
//! it received. Run outside `cargo xtask test`, they fail and say so.

mod support;

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{Value, json};
use support::stack;
use uuid::Uuid;

const TEE: Uuid = Uuid::from_u128(0x0193a000_0000_7000_8000_000000000002);
const BOUND: Duration = Duration::from_secs(120);

fn spans_file() -> String {
    std::env::var("E2E_SPANS_FILE")
        .expect("E2E_SPANS_FILE is not set: run these tests with `cargo xtask test`")
}

/// The spans of `trace` received so far.
fn spans_of(trace: &str) -> Vec<Value> {
    std::fs::read_to_string(spans_file())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|s| s["trace_id"] == trace)
        .collect()
}

/// Waits until spans from every one of `services` arrived in `trace`, and returns them all.
async fn trace_covering(trace: &str, services: &[&str]) -> Vec<Value> {
    let deadline = Instant::now() + BOUND;
    loop {
        let spans = spans_of(trace);
        let seen: BTreeSet<String> = spans
            .iter()
            .filter_map(|s| s["service"].as_str().map(str::to_owned))
            .collect();
        if services.iter().all(|s| seen.contains(*s)) {
            return spans;
        }
        assert!(
            Instant::now() < deadline,
            "trace {trace} has spans from {seen:?}, not all of {services:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn place_order(token: &str, traceparent: &str) -> String {
    let response = reqwest::Client::new()
        .post(format!("{}/orders", stack().gateway))
        .bearer_auth(token)
        .header("traceparent", traceparent)
        .json(&json!({"items": [{"product_id": TEE, "quantity": 1}]}))
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(response.status(), 202);
    let order: Value = response.json().await.unwrap();
    order["id"].as_str().unwrap().to_owned()
}

async fn wait_fulfilled(token: &str, id: &str) {
    let deadline = Instant::now() + BOUND;
    loop {
        let order: Value = reqwest::Client::new()
            .get(format!("{}/orders/{id}", stack().gateway))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if order["status"] == "fulfilled" {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "order {id} not fulfilled within {BOUND:?}: {order}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn by_name<'a>(spans: &'a [Value], service: &str, name: &str) -> Vec<&'a Value> {
    spans
        .iter()
        .filter(|s| s["service"] == service && s["name"] == name)
        .collect()
}

/// True when `ancestor` is on `span`'s parent chain within `spans`.
fn descends_from(spans: &[Value], span: &Value, ancestor: &str) -> bool {
    let by_id: HashMap<&str, &Value> = spans
        .iter()
        .map(|s| (s["span_id"].as_str().unwrap(), s))
        .collect();
    let mut parent = span["parent_span_id"].as_str().unwrap_or_default();
    for _ in 0..64 {
        if parent == ancestor {
            return true;
        }
        match by_id.get(parent) {
            Some(p) => parent = p["parent_span_id"].as_str().unwrap_or_default(),
            None => return false,
        }
    }
    false
}

fn new_trace() -> (String, String) {
    let trace = Uuid::new_v4().simple().to_string();
    let parent = Uuid::new_v4().simple().to_string()[..16].to_owned();
    (trace, parent)
}

#[tokio::test]
async fn one_trace_covers_create_order_process_order_and_update_stock() {
    let token = stack().sign_in().await.id;
    let (trace, caller) = new_trace();

    let id = place_order(&token, &format!("00-{trace}-{caller}-01")).await;
    wait_fulfilled(&token, &id).await;

    let spans = trace_covering(&trace, &["create-order", "process-order", "update-stock"]).await;
    let server = by_name(&spans, "create-order", "POST /orders");
    assert_eq!(server.len(), 1, "{spans:#?}");
    assert_eq!(
        server[0]["parent_span_id"],
        caller.as_str(),
        "continues the caller's trace"
    );
    assert_eq!(server[0]["attributes"]["order_id"], id.as_str());
    let server_id = server[0]["span_id"].as_str().unwrap();
    let processed = by_name(&spans, "process-order", "orders process");
    let updated = by_name(&spans, "update-stock", "stock process");
    assert_eq!(
        (processed.len(), updated.len()),
        (1, 1),
        "each message processed once: {spans:#?}"
    );
    assert!(
        descends_from(&spans, processed[0], server_id),
        "process-order hangs under the HTTP request"
    );
    assert!(descends_from(
        &spans,
        updated[0],
        processed[0]["span_id"].as_str().unwrap()
    ));
    assert_eq!(processed[0]["attributes"]["messaging.system"], "aws_sqs");
}

#[tokio::test]
async fn a_relay_published_orders_trace_still_starts_at_its_http_request() {
    let token = stack().sign_in().await.id;
    let sqs = sqs_client().await;
    let url = sqs
        .get_queue_url()
        .queue_name("orders")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::RedrivePolicy)
        .attribute_names(QueueAttributeName::VisibilityTimeout)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default();
    let (trace, caller) = new_trace();

    // Queue 1 is down while the order is placed: create-order answers 202 and keeps the message in its outbox.
    sqs.delete_queue().queue_url(&url).send().await.unwrap();
    let id = place_order(&token, &format!("00-{trace}-{caller}-01")).await;
    sqs.create_queue()
        .queue_name("orders")
        .set_attributes(Some(attributes))
        .send()
        .await
        .unwrap();
    wait_fulfilled(&token, &id).await;

    let spans = trace_covering(
        &trace,
        &[
            "create-order",
            "outbox-relay",
            "process-order",
            "update-stock",
        ],
    )
    .await;
    let server = by_name(&spans, "create-order", "POST /orders");
    assert_eq!(server.len(), 1);
    assert_eq!(server[0]["parent_span_id"], caller.as_str());
    let server_id = server[0]["span_id"].as_str().unwrap();
    let relayed = by_name(&spans, "outbox-relay", "orders publish");
    assert!(!relayed.is_empty(), "the relay published it: {spans:#?}");
    assert!(
        relayed.iter().all(|p| descends_from(&spans, p, server_id)),
        "the relay's publish is in the request's trace"
    );
    let processed = by_name(&spans, "process-order", "orders process");
    assert!(
        processed
            .iter()
            .any(|p| relayed.iter().any(|r| r["span_id"] == p["parent_span_id"]))
    );
}

async fn sqs_client() -> aws_sdk_sqs::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(stack().sqs_endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .load()
        .await;
    aws_sdk_sqs::Client::new(&config)
}
