use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

use super::*;
use crate::testing::{JwksServer, KEY, KID, access_claims, bearer, id_claims, now, sign};

const API: &str = r#"
paths:
  /things/{id}:
    get: { operationId: echo, security: [] }
    post: { operationId: broken, security: [] }
  /things:
    put: { operationId: slow, security: [] }
    post: { operationId: echo, security: [] }
  /guarded:
    get: { operationId: echo, security: [{ cognito: [] }] }
"#;

/// Fake functions behind the invoke API: `echo` answers with the event it got as the body, `broken` fails,
/// `slow` takes a minute.
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
        )
        .route(
            "/slow",
            axum::routing::post(|| async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                "{}"
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

/// The gateway in front of the fake functions, its authorizer trusting `jwks`.
async fn gateway_with(invocations: Arc<AtomicUsize>, jwks: &JwksServer) -> String {
    let base = functions(invocations).await;
    let http = reqwest::Client::new();
    let urls = ["echo", "broken", "slow"].map(|f| (f, format!("{base}/{f}")));
    let api = Api {
        routes: Routes::from_yaml(API).unwrap(),
        authorizer: Authorizer::new(jwks.settings(), http.clone()),
        invoker: Invoker::new(http, urls.iter().map(|(f, u)| (*f, u.as_str()))),
        stage: "local".into(),
        account_id: "123456789012".into(),
        integration_timeout: Duration::from_millis(500),
        tracing: crate::xray::Tracing::new(crate::xray::SamplingRule::AWS_DEFAULT),
    };
    serve(router(Arc::new(api))).await
}

async fn gateway(invocations: Arc<AtomicUsize>) -> String {
    gateway_with(invocations, &JwksServer::start().await).await
}

/// Asserts the answer is the problem of `slug` with `status`, in Terraform's shape, and returns it.
async fn assert_problem(response: reqwest::Response, status: u16, slug: &str) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let request_id = response.headers()["x-amzn-requestid"]
        .to_str()
        .unwrap()
        .to_owned();
    let problem: Value = response.json().await.unwrap();
    let mut fields: Vec<&str> = problem
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, ["detail", "request_id", "status", "title", "type"]);
    assert_eq!(
        problem["type"],
        format!("https://problems.orders.example/{slug}")
    );
    assert_eq!(problem["status"], status);
    assert_eq!(problem["request_id"], request_id.as_str());
    problem
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

/// The event the echo function received for `GET /things/42` sent with one extra header.
async fn event_with_header(client: &reqwest::Client, url: &str, name: &str, value: &str) -> Value {
    client
        .get(format!("{url}/things/42"))
        .header(name, value)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn every_event_carries_an_x_ray_trace_header_and_the_clients_other_headers() {
    let url = gateway(Arc::default()).await;
    let client = reqwest::Client::new();

    let plain = event_with_header(
        &client,
        &url,
        "traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    )
    .await;
    let passed = event_with_header(
        &client,
        &url,
        "X-Amzn-Trace-Id",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
    )
    .await;

    let header = plain["headers"]["x-amzn-trace-id"].as_str().unwrap();
    assert!(
        header.starts_with("Root=1-")
            && header.contains(";Parent=")
            && header.contains(";Sampled="),
        "{header}"
    );
    assert_eq!(
        plain["headers"]["traceparent"],
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    );
    let header = passed["headers"]["x-amzn-trace-id"].as_str().unwrap();
    assert!(header.starts_with("Root=1-5759e988-bd862e3fe1be46a994272793;Parent="));
    assert!(
        !header.contains("53995c3f42cd8ad8") && header.ends_with(";Sampled=0"),
        "{header}"
    );
    assert_eq!(
        passed["multiValueHeaders"]["x-amzn-trace-id"],
        json!([header])
    );
}

#[tokio::test]
async fn repeated_query_parameters_reach_the_function_all_in_multi_value_and_the_last_in_single() {
    let url = gateway(Arc::default()).await;

    let response = reqwest::get(format!(
        "{url}/things/42?status=pending&limit=5&status=fulfilled&q=a%20b&status="
    ))
    .await
    .unwrap();

    let event: Value = response.json().await.unwrap();
    assert_eq!(
        event["multiValueQueryStringParameters"],
        json!({"status": ["pending", "fulfilled", ""], "limit": ["5"], "q": ["a b"]})
    );
    assert_eq!(
        event["queryStringParameters"],
        json!({"status": "", "limit": "5", "q": "a b"})
    );
}

#[tokio::test]
async fn without_a_query_string_or_path_parameters_those_maps_are_null_as_in_aws() {
    let url = gateway(Arc::default()).await;

    let response = reqwest::Client::new()
        .post(format!("{url}/things"))
        .send()
        .await
        .unwrap();

    let event: Value = response.json().await.unwrap();
    assert_eq!(event["resource"], "/things");
    assert_eq!(event["queryStringParameters"], Value::Null);
    assert_eq!(event["multiValueQueryStringParameters"], Value::Null);
    assert_eq!(event["pathParameters"], Value::Null);
    assert_eq!(event["stageVariables"], Value::Null);
}

#[tokio::test]
async fn a_failing_function_is_the_integration_failure_response() {
    let url = gateway(Arc::default()).await;

    let response = reqwest::Client::new()
        .post(format!("{url}/things/42"))
        .send()
        .await
        .unwrap();

    assert_problem(response, 502, "bad-gateway").await;
}

#[tokio::test]
async fn a_function_that_outlives_the_integration_timeout_is_the_integration_timeout_response() {
    let url = gateway(Arc::default()).await;

    let response = reqwest::Client::new()
        .put(format!("{url}/things"))
        .send()
        .await
        .unwrap();

    assert_problem(response, 504, "gateway-timeout").await;
}

#[tokio::test]
async fn unknown_paths_and_unknown_methods_are_both_missing_authentication_token() {
    let invocations = Arc::new(AtomicUsize::new(0));
    let url = gateway(invocations.clone()).await;
    let client = reqwest::Client::new();

    let unknown_path = client.get(format!("{url}/nothing")).send().await.unwrap();
    let unknown_method = client
        .delete(format!("{url}/things/42"))
        .send()
        .await
        .unwrap();
    let guarded_wrong_method = client.post(format!("{url}/guarded")).send().await.unwrap();
    // With a bearer token AWS words its message differently (it reads the header as a SigV4 one), but it is
    // the same gateway response, so the same problem here: the template has no message.
    let unknown_path_with_a_token = client
        .get(format!("{url}/nothing"))
        .header("authorization", bearer(&sign(&id_claims(), KEY, KID)))
        .send()
        .await
        .unwrap();

    for response in [
        unknown_path,
        unknown_method,
        guarded_wrong_method,
        unknown_path_with_a_token,
    ] {
        assert_eq!(
            response.headers()["x-amzn-errortype"],
            "MissingAuthenticationTokenException"
        );
        assert!(response.headers().get("allow").is_none());
        assert_problem(response, 404, "route-not-found").await;
    }
    assert_eq!(invocations.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_body_over_10_mb_is_the_request_too_large_response() {
    let invocations = Arc::new(AtomicUsize::new(0));
    let url = gateway(invocations.clone()).await;

    let response = reqwest::Client::new()
        .post(format!("{url}/things"))
        .body(vec![b'x'; MAX_BODY_BYTES + 1])
        .send()
        .await
        .unwrap();

    assert_problem(response, 413, "payload-too-large").await;
    assert_eq!(invocations.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_guarded_operation_without_a_token_is_refused_before_the_function_runs() {
    let invocations = Arc::new(AtomicUsize::new(0));
    let url = gateway(invocations.clone()).await;

    let response = reqwest::get(format!("{url}/guarded")).await.unwrap();

    assert_eq!(
        response.headers()["x-amzn-errortype"],
        "UnauthorizedException"
    );
    assert_problem(response, 401, "unauthenticated").await;
    assert_eq!(invocations.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_id_token_passes_and_its_claims_reach_the_function() {
    let url = gateway(Arc::default()).await;
    let token = sign(&id_claims(), KEY, KID);

    let response = reqwest::Client::new()
        .get(format!("{url}/guarded"))
        .header("authorization", bearer(&token))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    let event: Value = response.json().await.unwrap();
    let claims = &event["requestContext"]["authorizer"]["claims"];
    assert_eq!(claims["token_use"], "id");
    assert_eq!(claims["aud"], crate::testing::CLIENT);
}

#[tokio::test]
async fn an_access_token_or_an_expired_id_token_gets_the_same_401_as_no_token() {
    let invocations = Arc::new(AtomicUsize::new(0));
    let url = gateway(invocations.clone()).await;
    let mut expired = id_claims();
    expired["exp"] = json!(now() - 1);
    let client = reqwest::Client::new();
    let mut bodies = Vec::new();

    for authorization in [
        Some(bearer(&sign(&access_claims(), KEY, KID))),
        Some(sign(&access_claims(), KEY, KID)),
        Some(bearer(&sign(&expired, KEY, KID))),
        None,
    ] {
        let mut request = client.get(format!("{url}/guarded"));
        if let Some(value) = &authorization {
            request = request.header("authorization", value);
        }
        let problem = assert_problem(request.send().await.unwrap(), 401, "unauthenticated").await;
        bodies.push(json!({"title": problem["title"], "detail": problem["detail"]}));
    }

    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
    assert_eq!(invocations.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_unreachable_user_pool_is_the_authorizer_configuration_error_response() {
    let jwks = JwksServer::start().await;
    jwks.set_status(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    let url = gateway_with(Arc::default(), &jwks).await;

    let response = reqwest::Client::new()
        .get(format!("{url}/guarded"))
        .header("authorization", bearer(&sign(&id_claims(), KEY, KID)))
        .send()
        .await
        .unwrap();

    assert_problem(response, 500, "internal").await;
}
