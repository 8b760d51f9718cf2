//! The answers the gateway gives itself, as RFC 9457 problems shaped like the gateway responses Terraform
//! configures (`infra/modules/openapi`), plus API Gateway's own `message` field.

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode, header};
use serde_json::json;

/// Base of every problem `type`, as in docs/openapi.yaml.
pub use order_contract::PROBLEM_BASE;

/// A request the gateway answers without (successfully) invoking a function.
#[derive(Debug)]
pub enum GatewayProblem {
    /// 404: no resource matches the path.
    RouteNotFound,
    /// 405: the resource exists, not with this method. Carries the methods it has.
    MethodNotAllowed(Vec<String>),
    /// 401: the Cognito authorizer refused the token (or there was none).
    Unauthorized,
    /// 503: the authorizer could not fetch the user pool's keys.
    AuthorizerUnavailable,
    /// 413: over API Gateway's 10 MB payload limit.
    PayloadTooLarge,
    /// 502: the function failed or returned a malformed proxy response.
    FunctionFailed,
    /// 504: the function did not answer within the integration timeout.
    FunctionTimedOut,
}

impl GatewayProblem {
    fn parts(
        &self,
    ) -> (
        StatusCode,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    ) {
        match self {
            Self::RouteNotFound => (
                StatusCode::NOT_FOUND,
                "route-not-found",
                "Route not found",
                "No operation matches this method and path.",
                "Missing Authentication Token",
            ),
            Self::MethodNotAllowed(_) => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                "This resource does not support this method; see the Allow header.",
                "Method Not Allowed",
            ),
            Self::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Unauthenticated",
                "A valid Cognito token is required in the Authorization header.",
                "Unauthorized",
            ),
            Self::AuthorizerUnavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "service-unavailable",
                "Service unavailable",
                "The authorizer could not reach the user pool; retry later.",
                "Service Unavailable",
            ),
            Self::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Payload too large",
                "API Gateway accepts payloads up to 10 MB.",
                "Request Too Long",
            ),
            Self::FunctionFailed => (
                StatusCode::BAD_GATEWAY,
                "internal",
                "Internal server error",
                "The function failed; its log has the details.",
                "Internal server error",
            ),
            Self::FunctionTimedOut => (
                StatusCode::GATEWAY_TIMEOUT,
                "internal",
                "Endpoint request timed out",
                "The function did not answer within the integration timeout.",
                "Endpoint request timed out",
            ),
        }
    }

    /// The problem document for the request at `instance`.
    pub fn into_response(self, instance: &str, request_id: &str) -> Response<Body> {
        let (status, slug, title, detail, message) = self.parts();
        let body = json!({
            "type": format!("{PROBLEM_BASE}{slug}"),
            "title": title,
            "status": status.as_u16(),
            "detail": detail,
            "instance": instance,
            "request_id": request_id,
            "message": message,
        });
        let mut response = Response::new(Body::from(body.to_string()));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        match self {
            Self::MethodNotAllowed(allowed) => {
                if let Ok(value) = HeaderValue::from_str(&allowed.join(", ")) {
                    headers.insert(header::ALLOW, value);
                }
            }
            Self::Unauthorized => {
                headers.insert(
                    "x-amzn-errortype",
                    HeaderValue::from_static("UnauthorizedException"),
                );
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn json_body(response: Response<Body>) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn unauthorized_is_the_terraform_gateway_response_with_api_gateways_message() {
        let response = GatewayProblem::Unauthorized.into_response("/orders", "req-1");

        assert_eq!(response.status(), 401);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let body = json_body(response).await;
        assert_eq!(
            body["type"],
            "https://problems.orders.example/unauthenticated"
        );
        assert_eq!(body["message"], "Unauthorized");
        assert_eq!(body["request_id"], "req-1");
    }

    #[tokio::test]
    async fn method_not_allowed_lists_the_allowed_methods() {
        let response = GatewayProblem::MethodNotAllowed(vec!["GET".into(), "POST".into()])
            .into_response("/orders", "r");

        assert_eq!(response.status(), 405);
        assert_eq!(response.headers()["allow"], "GET, POST");
        assert_eq!(
            json_body(response).await["type"],
            "https://problems.orders.example/method-not-allowed"
        );
    }
}
