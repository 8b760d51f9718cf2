//! The HTTP functions against real PostgreSQL, driven by real API Gateway REST proxy events.

mod support;

use serde_json::{Value, json};
use support::{ApiEvent, HOODIE, MUG, TEE, spawn_app};

const ALICE: &str = "9a6c1f44-4d1b-4f7e-9a1e-1d2f3c4b5a69";
const BOB: &str = "1f0e2d3c-0000-4000-8000-00000000b0b0";

fn problem_type(body: &Value) -> &str {
    body["type"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches(order_core::http::PROBLEM_BASE)
}

#[tokio::test]
async fn the_recorded_api_gateway_event_creates_a_pending_order_for_its_cognito_caller() {
    let app = spawn_app().await;
    let event: Value =
        serde_json::from_str(include_str!("fixtures/apigw_rest_post_orders.json")).unwrap();
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();

    let response = support::answer(
        order_core::http::respond(request, |req| {
            order_core::http::create_order(app.orders(), req)
        })
        .await,
    );

    assert_eq!(response.status, 202);
    let id = response.json["id"].as_str().unwrap();
    assert_eq!(response.headers["location"], format!("/orders/{id}"));
    assert_eq!(response.json["status"], "pending");
    assert_eq!(response.json["items"][0]["quantity"], 2);
    assert_eq!(
        response.json["total"],
        Value::Null,
        "prices are captured when the order is processed"
    );
    let owner = app
        .scalar_i64(&format!(
            "SELECT count(*) FROM orders WHERE id = '{id}' AND customer_id = '{ALICE}'"
        ))
        .await;
    assert_eq!(owner, 1);
}

#[tokio::test]
async fn create_writes_the_order_and_its_outbox_message_together() {
    let app = spawn_app().await;

    let created = app
        .create(
            ALICE,
            json!([{"product_id": TEE, "quantity": 1}, {"product_id": MUG, "quantity": 3}]),
        )
        .await;

    assert_eq!(created.status, 202);
    let id = created.json["id"].as_str().unwrap();
    let outbox = app
        .scalar_i64(&format!("SELECT count(*) FROM outbox WHERE destination = 'orders' AND payload->>'order_id' = '{id}' AND payload->>'type' = 'OrderCreated' AND (payload->>'version')::int = 1"))
        .await;
    assert_eq!(outbox, 1);
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT count(*) FROM order_line WHERE order_id = '{id}'"
        ))
        .await,
        2
    );
}

#[tokio::test]
async fn create_get_and_list_round_trip() {
    let app = spawn_app().await;
    let created = app
        .create(ALICE, json!([{"product_id": MUG, "quantity": 2}]))
        .await;
    let id = created.json["id"].as_str().unwrap().to_owned();

    let one = app
        .get(
            ApiEvent::new("GET", "/orders/{id}", &format!("/orders/{id}"))
                .by(ALICE)
                .path_param("id", &id),
        )
        .await;
    let list = app
        .get(ApiEvent::new("GET", "/orders", "/orders").by(ALICE))
        .await;

    assert_eq!(one.status, 200);
    assert_eq!(one.json, created.json);
    assert_eq!(list.status, 200);
    assert_eq!(list.json["orders"].as_array().unwrap().len(), 1);
    assert_eq!(list.json["orders"][0], created.json);
    assert_eq!(list.json["next_cursor"], Value::Null);
}

#[tokio::test]
async fn the_same_idempotency_key_and_body_returns_the_original_order() {
    let app = spawn_app().await;
    let body =
        json!({"items": [{"product_id": TEE, "quantity": 1}, {"product_id": MUG, "quantity": 1}]})
            .to_string();
    let reordered =
        json!({"items": [{"product_id": MUG, "quantity": 1}, {"product_id": TEE, "quantity": 1}]})
            .to_string();
    let post = |b: &str| {
        ApiEvent::new("POST", "/orders", "/orders")
            .by(ALICE)
            .header("Idempotency-Key", "key-1")
            .body(b)
    };

    let first = app.post_order(post(&body)).await;
    let again = app.post_order(post(&reordered)).await;

    assert_eq!(first.status, 202);
    assert_eq!(again.status, 202);
    assert_eq!(again.json["id"], first.json["id"]);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(app.scalar_i64("SELECT count(*) FROM orders").await, 1);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM outbox").await, 1);
}

#[tokio::test]
async fn the_same_idempotency_key_with_a_different_body_is_refused() {
    let app = spawn_app().await;
    let post = |q: i64| {
        ApiEvent::new("POST", "/orders", "/orders")
            .by(ALICE)
            .header("Idempotency-Key", "key-1")
            .body(&json!({"items": [{"product_id": TEE, "quantity": q}]}).to_string())
    };

    assert_eq!(app.post_order(post(1)).await.status, 202);
    let reused = app.post_order(post(2)).await;

    assert_eq!(reused.status, 422);
    assert_eq!(problem_type(&reused.json), "idempotency-key-reused");
    assert_eq!(app.scalar_i64("SELECT count(*) FROM orders").await, 1);
}

#[tokio::test]
async fn concurrent_requests_with_one_idempotency_key_create_one_order() {
    let app = spawn_app().await;
    let post = || {
        ApiEvent::new("POST", "/orders", "/orders")
            .by(ALICE)
            .header("Idempotency-Key", "race")
            .body(&json!({"items": [{"product_id": TEE, "quantity": 1}]}).to_string())
    };

    let answers = futures::future::join_all((0..8).map(|_| app.post_order(post()))).await;

    let ids: std::collections::HashSet<_> = answers.iter().map(|a| a.json["id"].clone()).collect();
    assert!(answers.iter().all(|a| a.status == 202));
    assert_eq!(ids.len(), 1);
    assert_eq!(app.scalar_i64("SELECT count(*) FROM orders").await, 1);
}

#[tokio::test]
async fn an_idempotency_key_is_scoped_to_its_customer() {
    let app = spawn_app().await;
    let post = |who: &str| {
        ApiEvent::new("POST", "/orders", "/orders")
            .by(who)
            .header("Idempotency-Key", "shared")
            .body(&json!({"items": [{"product_id": TEE, "quantity": 1}]}).to_string())
    };

    let a = app.post_order(post(ALICE)).await;
    let b = app.post_order(post(BOB)).await;

    assert_eq!((a.status, b.status), (202, 202));
    assert_ne!(a.json["id"], b.json["id"]);
}

#[tokio::test]
async fn listing_pages_through_all_orders_newest_first_without_overlap() {
    let app = spawn_app().await;
    let mut created = Vec::new();
    for q in 1..=7 {
        created.push(
            app.create(ALICE, json!([{"product_id": TEE, "quantity": q}]))
                .await
                .json["id"]
                .clone(),
        );
    }
    app.create(BOB, json!([{"product_id": TEE, "quantity": 1}]))
        .await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut params = vec![("limit", "3")];
        if let Some(c) = &cursor {
            params.push(("cursor", c));
        }
        let page = app
            .get(
                ApiEvent::new("GET", "/orders", "/orders")
                    .by(ALICE)
                    .query(&params),
            )
            .await;
        assert_eq!(page.status, 200);
        pages += 1;
        seen.extend(
            page.json["orders"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["id"].clone()),
        );
        match page.json["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }

    created.reverse();
    assert_eq!(pages, 3);
    assert_eq!(
        seen, created,
        "all of Alice's orders, newest first, each once"
    );
}

#[tokio::test]
async fn listing_filters_by_status() {
    let app = spawn_app().await;
    app.create(ALICE, json!([{"product_id": TEE, "quantity": 1}]))
        .await;
    app.create(ALICE, json!([{"product_id": HOODIE, "quantity": 1000}]))
        .await;
    app.drain().await;

    let rejected = app
        .get(
            ApiEvent::new("GET", "/orders", "/orders")
                .by(ALICE)
                .query(&[("status", "rejected")]),
        )
        .await;

    let orders = rejected.json["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["status"], "rejected");
    assert_eq!(orders[0]["rejection_reason"], "out_of_stock");
}

#[tokio::test]
async fn another_customers_order_is_not_found_exactly_like_a_missing_one() {
    let app = spawn_app().await;
    let id = app
        .create(ALICE, json!([{"product_id": TEE, "quantity": 1}]))
        .await
        .json["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let missing = uuid::Uuid::now_v7().to_string();
    let get = |who: &str, id: &str| {
        ApiEvent::new("GET", "/orders/{id}", &format!("/orders/{id}"))
            .by(who)
            .path_param("id", id)
    };

    let bobs_view = app.get(get(BOB, &id)).await;
    let nothing = app.get(get(BOB, &missing)).await;
    let bobs_list = app
        .get(ApiEvent::new("GET", "/orders", "/orders").by(BOB))
        .await;

    assert_eq!(bobs_view.status, 404);
    assert_eq!(problem_type(&bobs_view.json), "order-not-found");
    assert_eq!(bobs_view.json["detail"], nothing.json["detail"]);
    assert_eq!(bobs_list.json["orders"], json!([]));
}

#[tokio::test]
async fn requests_without_cognito_claims_are_unauthenticated() {
    let app = spawn_app().await;

    let post = app
        .post_order(
            ApiEvent::new("POST", "/orders", "/orders")
                .anonymous()
                .body(r#"{"items":[]}"#),
        )
        .await;
    let list = app
        .get(ApiEvent::new("GET", "/orders", "/orders").anonymous())
        .await;

    for answer in [post, list] {
        assert_eq!(answer.status, 401);
        assert_eq!(problem_type(&answer.json), "unauthenticated");
        assert_eq!(answer.headers["content-type"], "application/problem+json");
    }
}

#[tokio::test]
async fn every_bad_create_request_gets_its_documented_problem() {
    let app = spawn_app().await;
    let too_many: Vec<Value> = (0..51)
        .map(|n| json!({"product_id": uuid::Uuid::from_u128(n), "quantity": 1}))
        .collect();
    let big = format!(
        r#"{{"items":[{{"product_id":"{TEE}","quantity":1}}],"pad":"{}"}}"#,
        "x".repeat(70_000)
    );
    let cases: Vec<(&str, String, u16, &str)> = vec![
        ("malformed JSON", "{\"items\": [".into(), 400, "malformed-json"),
        ("not JSON at all", "items=1".into(), 400, "malformed-json"),
        ("empty body", "".into(), 400, "malformed-json"),
        ("wrong type", json!({"items": [{"product_id": TEE, "quantity": "two"}]}).to_string(), 400, "invalid-body"),
        ("fractional quantity", json!({"items": [{"product_id": TEE, "quantity": 1.5}]}).to_string(), 400, "invalid-body"),
        ("bad product uuid", json!({"items": [{"product_id": "tee", "quantity": 1}]}).to_string(), 400, "invalid-body"),
        ("unknown field", json!({"items": [{"product_id": TEE, "quantity": 1}], "customer_id": BOB}).to_string(), 400, "invalid-body"),
        ("client price", json!({"items": [{"product_id": TEE, "quantity": 1, "unit_price": 1}]}).to_string(), 400, "invalid-body"),
        ("missing items", "{}".into(), 400, "invalid-body"),
        ("oversized body", big, 413, "payload-too-large"),
        ("no items", json!({"items": []}).to_string(), 422, "validation-failed"),
        ("51 items", json!({"items": too_many}).to_string(), 422, "validation-failed"),
        ("zero quantity", json!({"items": [{"product_id": TEE, "quantity": 0}]}).to_string(), 422, "validation-failed"),
        ("quantity over 1000", json!({"items": [{"product_id": TEE, "quantity": 1001}]}).to_string(), 422, "validation-failed"),
        ("duplicate product", json!({"items": [{"product_id": TEE, "quantity": 1}, {"product_id": TEE, "quantity": 2}]}).to_string(), 422, "validation-failed"),
        ("unknown product", json!({"items": [{"product_id": uuid::Uuid::nil(), "quantity": 1}]}).to_string(), 422, "unknown-product"),
    ];

    for (what, body, status, kind) in cases {
        let answer = app
            .post_order(
                ApiEvent::new("POST", "/orders", "/orders")
                    .by(ALICE)
                    .body(&body),
            )
            .await;
        assert_eq!(answer.status, status, "{what}: {}", answer.json);
        assert_eq!(problem_type(&answer.json), kind, "{what}");
        assert_eq!(
            answer.headers["content-type"], "application/problem+json",
            "{what}"
        );
        assert_eq!(answer.json["status"], status, "{what}");
        assert!(
            answer.json["request_id"]
                .as_str()
                .is_some_and(|r| !r.is_empty()),
            "{what}"
        );
        assert!(
            answer.json["detail"].is_string() && answer.json["title"].is_string(),
            "{what}"
        );
    }
    assert_eq!(
        app.scalar_i64("SELECT count(*) FROM orders").await,
        0,
        "no bad request stored anything"
    );
}

#[tokio::test]
async fn bad_headers_get_their_documented_problem() {
    let app = spawn_app().await;
    let body = json!({"items": [{"product_id": TEE, "quantity": 1}]}).to_string();

    let key = app
        .post_order(
            ApiEvent::new("POST", "/orders", "/orders")
                .by(ALICE)
                .header("Idempotency-Key", "has spaces")
                .body(&body),
        )
        .await;
    let media = app
        .post_order(
            ApiEvent::new("POST", "/orders", "/orders")
                .by(ALICE)
                .header("Content-Type", "text/plain")
                .body(&body),
        )
        .await;

    assert_eq!(
        (key.status, problem_type(&key.json)),
        (400, "invalid-idempotency-key")
    );
    assert_eq!(
        (media.status, problem_type(&media.json)),
        (415, "unsupported-media-type")
    );
}

#[tokio::test]
async fn every_bad_read_request_gets_its_documented_problem() {
    let app = spawn_app().await;
    let list = |params: &[(&str, &str)]| {
        ApiEvent::new("GET", "/orders", "/orders")
            .by(ALICE)
            .query(params)
    };
    let cases = vec![
        (
            "bad order id",
            ApiEvent::new("GET", "/orders/{id}", "/orders/nope")
                .by(ALICE)
                .path_param("id", "nope"),
            400,
            "invalid-order-id",
        ),
        (
            "garbage cursor",
            list(&[("cursor", "%%%")]),
            400,
            "invalid-cursor",
        ),
        (
            "forged cursor",
            list(&[("cursor", "djIuMTIz")]),
            400,
            "invalid-cursor",
        ),
        (
            "limit zero",
            list(&[("limit", "0")]),
            400,
            "invalid-query-parameter",
        ),
        (
            "limit too big",
            list(&[("limit", "101")]),
            400,
            "invalid-query-parameter",
        ),
        (
            "limit not a number",
            list(&[("limit", "ten")]),
            400,
            "invalid-query-parameter",
        ),
        (
            "unknown status",
            list(&[("status", "shipped")]),
            400,
            "invalid-query-parameter",
        ),
        (
            "unknown parameter",
            list(&[("customer_id", BOB)]),
            400,
            "invalid-query-parameter",
        ),
        (
            "wrong method",
            ApiEvent::new("DELETE", "/orders", "/orders").by(ALICE),
            405,
            "method-not-allowed",
        ),
    ];

    for (what, event, status, kind) in cases {
        let answer = app.get(event).await;
        assert_eq!(answer.status, status, "{what}: {}", answer.json);
        assert_eq!(problem_type(&answer.json), kind, "{what}");
    }
}

#[tokio::test]
async fn an_unreachable_database_is_a_503_problem_not_a_panic() {
    let app = spawn_app().await;
    let broken = support::unavailable_deps(&app.sqs, &app.orders_queue, &app.stock_queue).await;
    let service = order_core::service::OrderService::new(broken);
    let event = ApiEvent::new("GET", "/orders", "/orders").by(ALICE);

    let answer = support::answer(
        order_core::http::respond(event.request(), |req| {
            order_core::http::get_orders(service, req)
        })
        .await,
    );

    assert_eq!(answer.status, 503);
    assert_eq!(problem_type(&answer.json), "service-unavailable");
}

#[tokio::test]
async fn a_repeated_single_valued_query_parameter_is_a_400_not_a_silent_pick() {
    let app = spawn_app().await;
    for (name, values) in [("status", ["pending", "fulfilled"]), ("limit", ["5", "5"])] {
        let answer = app
            .get(
                ApiEvent::new("GET", "/orders", "/orders")
                    .by(ALICE)
                    .repeated_query(name, &values),
            )
            .await;

        assert_eq!(answer.status, 400, "{name}: {}", answer.json);
        assert_eq!(problem_type(&answer.json), "invalid-query-parameter");
    }
}
