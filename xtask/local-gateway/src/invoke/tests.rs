use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use super::*;

/// A fake invoke API: answers with `reply` after `delay`, counting how many invocations overlap.
struct FakeFunction {
    url: String,
    max_in_flight: Arc<AtomicUsize>,
}

async fn fake(reply: (StatusCode, HeaderMap, String), delay: Duration) -> FakeFunction {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let max_in_flight = Arc::new(AtomicUsize::new(0));
    let (now, max) = (in_flight.clone(), max_in_flight.clone());
    let app = axum::Router::new().fallback(move || {
        let (now, max, reply) = (now.clone(), max.clone(), reply.clone());
        async move {
            let current = now.fetch_add(1, Ordering::SeqCst) + 1;
            max.fetch_max(current, Ordering::SeqCst);
            tokio::time::sleep(delay).await;
            now.fetch_sub(1, Ordering::SeqCst);
            reply
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/2015-03-31/functions/f/invocations",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    FakeFunction { url, max_in_flight }
}

fn ok(body: Value) -> (StatusCode, HeaderMap, String) {
    (StatusCode::OK, HeaderMap::new(), body.to_string())
}

fn invoker(url: &str) -> Invoker {
    Invoker::new(reqwest::Client::new(), [("f", url)])
}

const LONG: Duration = Duration::from_secs(30);

#[tokio::test]
async fn the_functions_response_is_parsed() {
    let function = fake(ok(json!({"statusCode": 200})), Duration::ZERO).await;

    let reply: Value = invoker(&function.url)
        .invoke("f", &json!({}), LONG)
        .await
        .unwrap();

    assert_eq!(reply, json!({"statusCode": 200}));
}

#[tokio::test]
async fn concurrent_invocations_of_one_function_run_one_at_a_time() {
    let function = fake(ok(json!({})), Duration::from_millis(50)).await;
    let invoker = invoker(&function.url);

    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let invoker = invoker.clone();
        calls.spawn(async move { invoker.invoke::<Value>("f", &json!({}), LONG).await });
    }
    let results = calls.join_all().await;

    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(function.max_in_flight.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn function_errors_are_reported_as_such() {
    let mut header = HeaderMap::new();
    header.insert("x-amz-function-error", "Unhandled".parse().unwrap());
    let unhandled = fake(
        (StatusCode::OK, header, r#"{"errorMessage":"boom"}"#.into()),
        Duration::ZERO,
    )
    .await;
    let server_error = fake(
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            HeaderMap::new(),
            "crashed".into(),
        ),
        Duration::ZERO,
    )
    .await;
    let init_error = fake(
        ok(json!({"errorType": "Runtime.ExitError", "errorMessage": "exit 1"})),
        Duration::ZERO,
    )
    .await;

    for url in [&unhandled.url, &server_error.url, &init_error.url] {
        let result = invoker(url).invoke::<Value>("f", &json!({}), LONG).await;
        assert!(
            matches!(result, Err(InvokeError::Function { .. })),
            "{url}: {result:?}"
        );
    }
}

#[tokio::test]
async fn a_function_that_does_not_answer_in_time_times_out() {
    let function = fake(ok(json!({})), Duration::from_secs(30)).await;

    let result = invoker(&function.url)
        .invoke::<Value>("f", &json!({}), Duration::from_millis(200))
        .await;

    assert!(
        matches!(result, Err(InvokeError::Timeout { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn unknown_functions_and_unparseable_responses_are_errors() {
    let function = fake(ok(json!("not a proxy response")), Duration::ZERO).await;
    let invoker = invoker(&function.url);

    let unknown = invoker.invoke::<Value>("g", &json!({}), LONG).await;
    let unparseable = invoker
        .invoke::<aws_lambda_events::apigw::ApiGatewayProxyResponse>("f", &json!({}), LONG)
        .await;

    assert!(
        matches!(unknown, Err(InvokeError::UnknownFunction(_))),
        "{unknown:?}"
    );
    assert!(
        matches!(unparseable, Err(InvokeError::Response { .. })),
        "{unparseable:?}"
    );
}

#[test]
fn lambda_error_payloads_are_told_apart_from_responses() {
    assert!(is_error_payload(
        br#"{"errorType":"Runtime.ExitError","errorMessage":"exit 1"}"#
    ));
    assert!(!is_error_payload(br#"{"statusCode":500,"body":"x"}"#));
    assert!(!is_error_payload(br#"{"batchItemFailures":[]}"#));
    assert!(!is_error_payload(b"null"));
}

#[test]
fn long_error_payloads_are_cut_for_the_log() {
    let long = "é".repeat(MAX_ERROR_PAYLOAD + 10);
    assert_eq!(
        truncated(long.as_bytes()).chars().count(),
        MAX_ERROR_PAYLOAD + 1
    );
}
