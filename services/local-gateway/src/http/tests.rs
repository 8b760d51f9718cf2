use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

use super::*;
use crate::config::CognitoSettings;

const API: &str = r#"
paths:
  /things/{id}:
    get: { operationId: echo, security: [] }
    post: { operationId: broken, security: [] }
  /guarded:
    get: { operationId: echo, security: [{ cognito: [] }] }
"#;

/// Fake functions behind the invoke API: `echo` answers with the event it got as the body, `broken` fails.
async fn functions(invocations: Arc<AtomicUsize>) -> String {
    let app = axum::Router::new()
        .route(
            "/echo",
            axum::routing::post(move |event: axum::body::Bytes| {
                invocations.fetch_add(1, Ordering::SeqCst);
                async move {
                    json!({
                        "statusCode": 200,
                        "headers": {"content-type": "application/json"},
                        "multiValueHeaders": {"x-from": ["echo"]},
                        "body": String::from_utf8_lossy(&event),
                        "isBase64Encoded": false,
                    })
                    .to_string()
                }
            }),
        )
        .route(
            "/broken",
            axum::routing::post(|| async {
                (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "crashed")
            }),
        );
    serve(app).await
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap()
    });
    url
}

async fn gateway(invocations: Arc<AtomicUsize>) -> String {
    let base = functions(invocations).await;
    let http = reqwest::Client::new();
    let (echo, broken) = (format!("{base}/echo"), format!("{base}/broken"));
    let api = Api {
        routes: Routes::from_yaml(API).unwrap(),
        authorizer: Authorizer::new(
            CognitoSettings {
                jwks_url: "http://127.0.0.1:9/jwks.json".into(),
                issuer: "https://issuer.example".into(),
                client_id: "client".into(),
            },
            http.clone(),
        ),
        invoker: Invoker::new(http, [("echo", echo.as_str()), ("broken", broken.as_str())]),
        stage: "local".into(),
        account_id: "123456789012".into(),
    };
    serve(router(Arc::new(api))).await
}

#[tokio::test]
async fn a_request_reaches_the_function_as_a_proxy_event_and_its_response_comes_back() {
    let url = gateway(Arc::default()).await;

    let response = reqwest::get(format!("{url}/things/42?verbose=1"))
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-from"], "echo");
    let request_id = response.headers()["x-amzn-requestid"]
        .to_str()
        .unwrap()
        .to_owned();
    let event: Value = response.json().await.unwrap();
    assert_eq!(event["resource"], "/things/{id}");
    assert_eq!(event["pathParameters"], json!({"id": "42"}));
    assert_eq!(event["queryStringParameters"], json!({"verbose": "1"}));
    assert_eq!(event["requestContext"]["requestId"], request_id.as_str());
    assert_eq!(event["requestContext"]["identity"]["sourceIp"], "127.0.0.1");
    assert!(event["requestContext"].get("authorizer").is_none());
}

#[tokio::test]
async fn a_failing_function_is_a_502_problem() {
    let url = gateway(Arc::default()).await;

    let response = reqwest::Client::new()
        .post(format!("{url}/things/42"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 502);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["message"], "Internal server error");
    assert_eq!(problem["instance"], "/things/42");
}

#[tokio::test]
async fn a_guarded_operation_without_a_token_is_refused_before_the_function_runs() {
    let invocations = Arc::new(AtomicUsize::new(0));
    let url = gateway(invocations.clone()).await;

    let response = reqwest::get(format!("{url}/guarded")).await.unwrap();

    assert_eq!(response.status(), 401);
    assert_eq!(invocations.load(Ordering::SeqCst), 0);
}
