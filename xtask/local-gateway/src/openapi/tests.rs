use super::*;

/// The repository's own document: what compose and `cargo xtask up` serve.
const API: &str = include_str!("../../../../docs/openapi.yaml");

const SPECIFIC: &str = r#"
openapi: 3.1.0
security:
  - cognito: []
paths:
  /orders/{id}:
    parameters:
      - { name: id, in: path, required: true }
    get: { operationId: get-orders }
    delete: { operationId: cancel-order }
  /orders/mine:
    get: { operationId: my-orders }
  /health:
    get:
      operationId: health
      security: []
  /open-or-signed:
    get:
      operationId: either
      security: [{}, { cognito: [] }]
"#;

fn found<'a>(routes: &'a Routes, method: &str, path: &str) -> Matched<'a> {
    match routes.resolve(method, path) {
        Resolution::Found(m) => m,
        other => panic!("{method} {path}: {other:?}"),
    }
}

#[test]
fn every_operation_of_the_api_routes_to_the_function_its_operation_id_names() {
    let routes = Routes::from_yaml(API).unwrap();

    let create = found(&routes, "POST", "/orders");
    let list = found(&routes, "GET", "/orders");
    let one = found(
        &routes,
        "GET",
        "/orders/0193a000-0000-7000-8000-000000000001",
    );

    assert_eq!(
        (create.resource, create.operation.function.as_str()),
        ("/orders", "create-order")
    );
    assert_eq!(
        (list.resource, list.operation.function.as_str()),
        ("/orders", "get-orders")
    );
    assert_eq!(one.resource, "/orders/{id}");
    assert_eq!(one.operation.function, "get-orders");
    assert_eq!(
        one.path_parameters["id"],
        "0193a000-0000-7000-8000-000000000001"
    );
    assert!(list.path_parameters.is_empty());
}

#[test]
fn every_operation_of_the_api_requires_a_cognito_token() {
    let routes = Routes::from_yaml(API).unwrap();

    for (method, path) in [
        ("POST", "/orders"),
        ("GET", "/orders"),
        ("GET", "/orders/x"),
    ] {
        assert!(
            found(&routes, method, path).operation.requires_token,
            "{method} {path}"
        );
    }
}

#[test]
fn unknown_paths_are_not_found_and_known_paths_list_their_methods() {
    let routes = Routes::from_yaml(API).unwrap();

    assert_eq!(routes.resolve("GET", "/products"), Resolution::NotFound);
    assert_eq!(routes.resolve("GET", "/orders/a/b"), Resolution::NotFound);
    assert_eq!(routes.resolve("GET", "/orders/"), Resolution::NotFound);
    assert_eq!(
        routes.resolve("DELETE", "/orders"),
        Resolution::MethodNotAllowed {
            allowed: vec!["GET".into(), "POST".into()]
        }
    );
    assert_eq!(
        routes.resolve("POST", "/orders/x"),
        Resolution::MethodNotAllowed {
            allowed: vec!["GET".into()]
        }
    );
}

#[test]
fn methods_match_case_insensitively_and_parameters_are_percent_decoded() {
    let routes = Routes::from_yaml(API).unwrap();

    let m = found(&routes, "get", "/orders/a%20b%2Fc");

    assert_eq!(m.path_parameters["id"], "a b/c");
}

#[test]
fn a_literal_segment_wins_over_a_parameter() {
    let routes = Routes::from_yaml(SPECIFIC).unwrap();

    assert_eq!(
        found(&routes, "GET", "/orders/mine").operation.function,
        "my-orders"
    );
    assert_eq!(
        found(&routes, "GET", "/orders/other").operation.function,
        "get-orders"
    );
    assert_eq!(
        routes.resolve("DELETE", "/orders/mine"),
        Resolution::MethodNotAllowed {
            allowed: vec!["GET".into()]
        }
    );
}

#[test]
fn an_empty_security_list_or_an_empty_requirement_allows_anonymous_calls() {
    let routes = Routes::from_yaml(SPECIFIC).unwrap();

    assert!(!found(&routes, "GET", "/health").operation.requires_token);
    assert!(
        !found(&routes, "GET", "/open-or-signed")
            .operation
            .requires_token
    );
    assert!(
        found(&routes, "DELETE", "/orders/1")
            .operation
            .requires_token
    );
}

#[test]
fn documents_the_gateway_cannot_serve_are_refused() {
    let no_id = "paths:\n  /a:\n    get: { summary: x }\n";
    let api_key = "paths:\n  /a:\n    get: { operationId: f, security: [{ apiKey: [] }] }\n";

    assert!(matches!(
        Routes::from_yaml(no_id),
        Err(OpenApiError::MissingOperationId(_))
    ));
    assert!(matches!(
        Routes::from_yaml(api_key),
        Err(OpenApiError::UnsupportedScheme { .. })
    ));
    assert!(matches!(
        Routes::from_yaml("paths: 3"),
        Err(OpenApiError::Parse(_))
    ));
}

#[test]
fn the_api_names_only_functions_the_gateway_can_invoke() {
    let routes = Routes::from_yaml(API).unwrap();

    for function in routes.functions() {
        assert!(
            order_contract::topology::function(function).is_some(),
            "{function}"
        );
    }
}
