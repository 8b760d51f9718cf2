use lambda_http::request::RequestContext;
use lambda_http::{RequestExt, RequestPayloadExt};

use super::*;
use crate::openapi::Operation;

fn operation() -> Operation {
    Operation {
        function: "get-orders".into(),
        requires_token: true,
    }
}

fn matched<'a>(operation: &'a Operation, id: Option<&str>) -> Matched<'a> {
    Matched {
        resource: if id.is_some() {
            "/orders/{id}"
        } else {
            "/orders"
        },
        path_parameters: id
            .map(|id| HashMap::from([("id".to_owned(), id.to_owned())]))
            .unwrap_or_default(),
        operation,
    }
}

fn context(claims: Option<Map<String, Value>>) -> Context<'static> {
    Context {
        request_id: "req-1",
        stage: "local",
        account_id: "123456789012",
        source_ip: "127.0.0.1".into(),
        claims,
        trace_header: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"
            .into(),
    }
}

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(*name, HeaderValue::from_static(value));
    }
    map
}

#[test]
fn the_event_carries_route_claims_and_request_id_where_api_gateway_puts_them() {
    let op = operation();
    let claims = json!({"sub": "6762b34f-4e26-4a8e-a032-35a1e58e1b1c", "token_use": "id"});
    let hdrs = headers(&[
        ("host", "127.0.0.1:3000"),
        ("accept", "application/json"),
        ("x-multi", "a"),
        ("x-multi", "b"),
    ]);

    let event = proxy_event(
        &Method::GET,
        "/orders/o-1",
        Some("a=1&a=2&b=x%20y"),
        &hdrs,
        b"",
        &matched(&op, Some("o-1")),
        context(claims.as_object().cloned()),
    );
    let json = serde_json::to_value(&event).unwrap();

    assert_eq!(json["resource"], "/orders/{id}");
    assert_eq!(json["path"], "/orders/o-1");
    assert_eq!(json["httpMethod"], "GET");
    assert_eq!(json["pathParameters"], json!({"id": "o-1"}));
    assert_eq!(json["queryStringParameters"], json!({"a": "2", "b": "x y"}));
    assert_eq!(
        json["multiValueQueryStringParameters"],
        json!({"a": ["1", "2"], "b": ["x y"]})
    );
    assert_eq!(json["multiValueHeaders"]["x-multi"], json!(["a", "b"]));
    assert_eq!(json["headers"]["accept"], "application/json");
    assert_eq!(json["requestContext"]["resourcePath"], "/orders/{id}");
    assert_eq!(json["requestContext"]["path"], "/local/orders/o-1");
    assert_eq!(json["requestContext"]["stage"], "local");
    assert_eq!(json["requestContext"]["requestId"], "req-1");
    assert_eq!(
        json["requestContext"]["authorizer"],
        json!({"claims": claims})
    );
    assert_eq!(json["requestContext"]["identity"]["sourceIp"], "127.0.0.1");
    assert_eq!(json["body"], Value::Null);
    assert_eq!(json["isBase64Encoded"], false);
}

#[test]
fn the_functions_http_runtime_reads_the_event_as_an_api_gateway_rest_request() {
    let op = operation();
    let claims = json!({"sub": "6762b34f-4e26-4a8e-a032-35a1e58e1b1c"});
    let body = br#"{"items":[]}"#;
    let hdrs = headers(&[
        ("host", "127.0.0.1:3000"),
        ("content-type", "application/json"),
    ]);
    let event = proxy_event(
        &Method::POST,
        "/orders",
        Some("status=pending"),
        &hdrs,
        body,
        &matched(&op, None),
        context(claims.as_object().cloned()),
    );

    let request = lambda_http::request::from_str(&serde_json::to_string(&event).unwrap()).unwrap();

    let Some(RequestContext::ApiGatewayV1(cx)) = request.request_context_ref() else {
        panic!(
            "not a REST API request: {:?}",
            request.request_context_ref()
        )
    };
    assert_eq!(cx.authorizer.fields["claims"]["sub"], claims["sub"]);
    assert_eq!(cx.resource_path.as_deref(), Some("/orders"));
    assert_eq!(
        request
            .query_string_parameters_ref()
            .and_then(|q| q.first("status")),
        Some("pending")
    );
    assert_eq!(
        request.payload::<Value>().unwrap(),
        Some(json!({"items": []}))
    );
    assert_eq!(request.method(), Method::POST);
}

#[test]
fn a_body_that_is_not_utf8_is_passed_base64_encoded() {
    let op = operation();

    let event = proxy_event(
        &Method::POST,
        "/orders",
        None,
        &HeaderMap::new(),
        &[0xff, 0x00],
        &matched(&op, None),
        context(None),
    );

    assert_eq!(event.body.as_deref(), Some("/wA="));
    assert!(event.is_base64_encoded);
    assert!(
        serde_json::to_value(&event).unwrap()["requestContext"]
            .get("authorizer")
            .is_none()
    );
}

#[test]
fn a_header_value_that_is_not_utf8_reaches_the_function_read_as_latin1() {
    // Found by `cargo xtask fuzz`: such a value made the event's serialization panic (connection dropped).
    let op = operation();
    let mut hdrs = headers(&[("accept", "application/json")]);
    hdrs.insert(
        "idempotency-key",
        HeaderValue::from_bytes(&[0xd7, 0xf8, 0x9b]).unwrap(),
    );

    let event = proxy_event(
        &Method::POST,
        "/orders",
        None,
        &hdrs,
        b"{}",
        &matched(&op, None),
        context(None),
    );
    let json = event_json(&event);

    assert_eq!(json["headers"]["idempotency-key"], "\u{d7}\u{f8}\u{9b}");
    assert_eq!(
        json["multiValueHeaders"]["idempotency-key"],
        json!(["\u{d7}\u{f8}\u{9b}"])
    );
    assert_eq!(json["headers"]["accept"], "application/json");
    let request = lambda_http::request::from_str(&json.to_string()).unwrap();
    assert!(request.headers()["idempotency-key"].to_str().is_err());
}

fn proxy_response(json: Value) -> ApiGatewayProxyResponse {
    serde_json::from_value(json).unwrap()
}

async fn body_text(response: Response<Body>) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn proxy_responses_become_http_responses_with_merged_headers() {
    let proxy = proxy_response(json!({
        "statusCode": 202,
        "headers": {"content-type": "application/json", "location": "/orders/1", "content-length": "999"},
        "multiValueHeaders": {"set-cookie": ["a=1", "b=2"], "location": ["/orders/1"]},
        "body": "{\"id\":\"1\"}",
        "isBase64Encoded": false
    }));

    let response = http_response(proxy).unwrap();

    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let h = response.headers();
    assert_eq!(h["content-type"], "application/json");
    assert_eq!(h.get_all("location").iter().count(), 1);
    assert_eq!(
        h.get_all("set-cookie").iter().collect::<Vec<_>>(),
        ["a=1", "b=2"]
    );
    assert!(h.get("content-length").is_none());
    assert_eq!(body_text(response).await, "{\"id\":\"1\"}");
}

#[tokio::test]
async fn base64_bodies_are_decoded_and_empty_bodies_stay_empty() {
    let binary =
        proxy_response(json!({"statusCode": 200, "body": "aGk=", "isBase64Encoded": true}));
    let empty = proxy_response(json!({"statusCode": 204}));

    assert_eq!(body_text(http_response(binary).unwrap()).await, "hi");
    assert_eq!(body_text(http_response(empty).unwrap()).await, "");
}

#[test]
fn malformed_proxy_responses_are_refused() {
    let bad_status = proxy_response(json!({"statusCode": 1000, "body": "x"}));
    let bad_base64 =
        proxy_response(json!({"statusCode": 200, "body": "%%%", "isBase64Encoded": true}));

    assert!(http_response(bad_status).is_err());
    assert!(http_response(bad_base64).is_err());
}

#[test]
fn repeated_query_parameters_keep_every_value_in_order_and_the_last_as_the_single_value() {
    let (single, multi) = query_parameters("status=pending&&flag&status=fulfilled&x=%2B1&status=");

    assert_eq!(single["status"], "");
    assert_eq!(single["flag"], "");
    assert_eq!(single["x"], "+1");
    assert_eq!(multi["status"], ["pending", "fulfilled", ""]);
    assert_eq!(multi["flag"], [""]);
    assert_eq!(multi.len(), 3);
}

#[test]
fn the_event_sent_has_null_for_maps_without_entries_and_keeps_the_others() {
    let op = operation();
    let bare = proxy_event(
        &Method::POST,
        "/orders",
        None,
        &HeaderMap::new(),
        b"",
        &matched(&op, None),
        context(None),
    );
    let full = proxy_event(
        &Method::GET,
        "/orders/o-1",
        Some("a=1&a=2"),
        &HeaderMap::new(),
        b"",
        &matched(&op, Some("o-1")),
        context(None),
    );

    let bare = event_json(&bare);
    let full = event_json(&full);

    for field in [
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "pathParameters",
        "stageVariables",
    ] {
        assert_eq!(bare[field], Value::Null, "{field}");
    }
    assert_eq!(full["queryStringParameters"], json!({"a": "2"}));
    assert_eq!(
        full["multiValueQueryStringParameters"],
        json!({"a": ["1", "2"]})
    );
    assert_eq!(full["pathParameters"], json!({"id": "o-1"}));
    let parsed = lambda_http::request::from_str(&bare.to_string()).unwrap();
    assert!(parsed.query_string_parameters_ref().is_none());
}
