use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::*;

/// Terraform's `gateway_problems` rows: `NAME = { status = 401, slug = "…", title = "…", detail = "…" }`.
fn terraform_table() -> BTreeMap<String, (u16, String, String, String)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../infra/modules/openapi/main.tf"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let quoted = |row: &str, field: &str| -> String {
        let start = row.find(&format!("{field} = \"")).expect(field) + field.len() + 4;
        row[start..].split('"').next().unwrap().to_owned()
    };
    text.lines()
        .filter_map(|line| {
            let (name, row) = line.trim().split_once(" = { status = ")?;
            let name = name.trim();
            let status = row.split(',').next()?.trim().parse().ok()?;
            let fields = (
                quoted(row, "slug"),
                quoted(row, "title"),
                quoted(row, "detail"),
            );
            Some((name.to_owned(), (status, fields.0, fields.1, fields.2)))
        })
        .collect()
}

async fn json_body(response: Response<Body>) -> Value {
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn every_gateway_response_answers_what_terraform_configures_for_it() {
    let terraform = terraform_table();

    let names: BTreeSet<&str> = ResponseType::ALL.iter().map(|t| t.name()).collect();
    assert_eq!(names.len(), ResponseType::ALL.len());
    assert_eq!(
        names,
        terraform
            .keys()
            .map(String::as_str)
            .collect::<BTreeSet<_>>(),
        "the gateway and Terraform know different response types"
    );
    for response_type in ResponseType::ALL {
        let r = response_type.response();
        let (status, slug, title, detail) = &terraform[response_type.name()];
        assert_eq!(
            (r.status.as_u16(), r.slug, r.title, r.detail),
            (*status, slug.as_str(), title.as_str(), detail.as_str()),
            "{}",
            response_type.name()
        );
    }
}

#[test]
fn terraforms_problem_type_base_is_the_gateways() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../infra/modules/openapi/variables.tf"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let block = &text[text
        .find("variable \"problem_type_base_url\"")
        .expect("the variable")..];
    let default = block.split("default").nth(1).expect("a default");
    let value = default.split('"').nth(1).expect("a quoted default");

    assert_eq!(value, PROBLEM_BASE);
}

#[test]
fn the_issues_gateway_responses_are_all_in_the_table() {
    let required = [
        "DEFAULT_4XX",
        "DEFAULT_5XX",
        "THROTTLED",
        "WAF_FILTERED",
        "ACCESS_DENIED",
        "BAD_REQUEST_BODY",
        "BAD_REQUEST_PARAMETERS",
        "QUOTA_EXCEEDED",
        "RESOURCE_NOT_FOUND",
        "MISSING_AUTHENTICATION_TOKEN",
        "UNAUTHORIZED",
        "EXPIRED_TOKEN",
        "INTEGRATION_FAILURE",
        "INTEGRATION_TIMEOUT",
        "REQUEST_TOO_LARGE",
    ];

    for name in required {
        let found = ResponseType::ALL.iter().find(|t| t.name() == name);
        let response = found.unwrap_or_else(|| panic!("{name}")).response();
        assert!(
            response.status.is_client_error() || response.status.is_server_error(),
            "{name}"
        );
        assert!(
            !response.slug.is_empty() && !response.title.is_empty(),
            "{name}"
        );
    }
}

#[test]
fn each_answer_the_gateway_gives_itself_is_the_gateway_response_aws_gives() {
    let cases = [
        (
            GatewayProblem::NoSuchMethod,
            "MISSING_AUTHENTICATION_TOKEN",
            404,
            "route-not-found",
        ),
        (
            GatewayProblem::Unauthorized,
            "UNAUTHORIZED",
            401,
            "unauthenticated",
        ),
        (
            GatewayProblem::AuthorizerUnavailable,
            "AUTHORIZER_CONFIGURATION_ERROR",
            500,
            "internal",
        ),
        (
            GatewayProblem::RequestTooLarge,
            "REQUEST_TOO_LARGE",
            413,
            "payload-too-large",
        ),
        (
            GatewayProblem::IntegrationFailure,
            "INTEGRATION_FAILURE",
            502,
            "bad-gateway",
        ),
        (
            GatewayProblem::IntegrationTimeout,
            "INTEGRATION_TIMEOUT",
            504,
            "gateway-timeout",
        ),
    ];

    for (problem, name, status, slug) in cases {
        let parts = problem.parts();
        assert_eq!(problem.response_type().name(), name, "{problem:?}");
        assert_eq!(parts, problem.response_type().response(), "{problem:?}");
        assert_eq!(
            (parts.status.as_u16(), parts.slug),
            (status, slug),
            "{problem:?}"
        );
    }
}

#[tokio::test]
async fn a_gateway_problem_has_exactly_the_shape_of_terraforms_template() {
    for problem in [
        GatewayProblem::NoSuchMethod,
        GatewayProblem::Unauthorized,
        GatewayProblem::AuthorizerUnavailable,
        GatewayProblem::RequestTooLarge,
        GatewayProblem::IntegrationFailure,
        GatewayProblem::IntegrationTimeout,
    ] {
        let parts = problem.parts();

        let response = problem.into_response("req-1");

        assert_eq!(response.status(), parts.status);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let body = json_body(response).await;
        assert_eq!(
            body,
            json!({
                "type": format!("https://problems.orders.example/{}", parts.slug),
                "title": parts.title,
                "status": parts.status.as_u16(),
                "detail": parts.detail,
                "request_id": "req-1",
            }),
            "{problem:?}"
        );
    }
}

#[test]
fn refusals_carry_api_gateways_error_type_header() {
    let unauthorized = GatewayProblem::Unauthorized.into_response("r");
    let no_method = GatewayProblem::NoSuchMethod.into_response("r");

    assert_eq!(
        unauthorized.headers()["x-amzn-errortype"],
        "UnauthorizedException"
    );
    assert_eq!(
        no_method.headers()["x-amzn-errortype"],
        "MissingAuthenticationTokenException"
    );
    assert!(no_method.headers().get("allow").is_none());
}
