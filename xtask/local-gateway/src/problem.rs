//! The answers the gateway gives itself: API Gateway's gateway responses, each an RFC 9457 problem with the
//! status, slug, title and detail Terraform gives it (`gateway_problems` in infra/modules/openapi/main.tf; a
//! test holds the two tables equal), in the same shape: `type`, `title`, `status`, `detail`, `request_id`.

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode, header};
use serde_json::json;

/// Base of every problem `type`, as in docs/openapi.yaml.
pub use order_contract::PROBLEM_BASE;

/// API Gateway's gateway response types (the `responseType` values of its GatewayResponse API).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResponseType {
    AccessDenied,
    ApiConfigurationError,
    AuthorizerConfigurationError,
    AuthorizerFailure,
    BadRequestBody,
    BadRequestParameters,
    Default4xx,
    Default5xx,
    ExpiredToken,
    IntegrationFailure,
    IntegrationTimeout,
    InvalidApiKey,
    InvalidSignature,
    MissingAuthenticationToken,
    QuotaExceeded,
    RequestTooLarge,
    ResourceNotFound,
    Throttled,
    Unauthorized,
    UnsupportedMediaType,
    WafFiltered,
}

/// The problem a gateway response answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GatewayResponse {
    pub status: StatusCode,
    /// Appended to [`PROBLEM_BASE`] to make the problem `type`.
    pub slug: &'static str,
    pub title: &'static str,
    pub detail: &'static str,
}

const fn row(
    status: u16,
    slug: &'static str,
    title: &'static str,
    detail: &'static str,
) -> GatewayResponse {
    let status = match StatusCode::from_u16(status) {
        Ok(status) => status,
        Err(_) => panic!("not an HTTP status"),
    };
    GatewayResponse {
        status,
        slug,
        title,
        detail,
    }
}

impl ResponseType {
    /// Every type, in the order of the API Gateway documentation.
    pub const ALL: [Self; 21] = [
        Self::AccessDenied,
        Self::ApiConfigurationError,
        Self::AuthorizerConfigurationError,
        Self::AuthorizerFailure,
        Self::BadRequestBody,
        Self::BadRequestParameters,
        Self::Default4xx,
        Self::Default5xx,
        Self::ExpiredToken,
        Self::IntegrationFailure,
        Self::IntegrationTimeout,
        Self::InvalidApiKey,
        Self::InvalidSignature,
        Self::MissingAuthenticationToken,
        Self::QuotaExceeded,
        Self::RequestTooLarge,
        Self::ResourceNotFound,
        Self::Throttled,
        Self::Unauthorized,
        Self::UnsupportedMediaType,
        Self::WafFiltered,
    ];

    /// The table: what each gateway response answers, exactly as Terraform configures it.
    #[rustfmt::skip]
    pub const fn response(self) -> GatewayResponse {
        const FORBIDDEN: GatewayResponse = row(403, "forbidden", "Forbidden", "The caller may not use this operation.");
        const ROUTE_NOT_FOUND: GatewayResponse = row(404, "route-not-found", "Route not found", "No operation matches this method and path.");
        match self {
            Self::Default4xx => row(400, "bad-request", "Bad request", "API Gateway refused the request."),
            Self::Default5xx => row(500, "internal", "Internal error", "API Gateway could not process the request."),
            Self::BadRequestBody => row(400, "invalid-body", "Invalid body", "The request body does not match the operation."),
            Self::BadRequestParameters => row(400, "invalid-parameters", "Invalid parameters", "A required request parameter is missing or invalid."),
            Self::Unauthorized => row(401, "unauthenticated", "Unauthenticated", "A valid Cognito token is required in the Authorization header."),
            Self::ExpiredToken => row(401, "unauthenticated", "Unauthenticated", "The token has expired; sign in again."),
            Self::AccessDenied | Self::InvalidApiKey | Self::InvalidSignature => FORBIDDEN,
            Self::WafFiltered => row(403, "request-blocked", "Request blocked", "The web application firewall blocked the request."),
            Self::MissingAuthenticationToken | Self::ResourceNotFound => ROUTE_NOT_FOUND,
            Self::RequestTooLarge => row(413, "payload-too-large", "Payload too large", "The request is larger than API Gateway accepts."),
            Self::UnsupportedMediaType => row(415, "unsupported-media-type", "Unsupported media type", "The request's Content-Type is not supported."),
            Self::Throttled => row(429, "throttled", "Too many requests", "The API's request rate limit was exceeded; retry with backoff."),
            Self::QuotaExceeded => row(429, "quota-exceeded", "Quota exceeded", "The caller's usage quota is used up."),
            Self::AuthorizerFailure => row(500, "internal", "Internal error", "The authorizer failed."),
            Self::AuthorizerConfigurationError => row(500, "internal", "Internal error", "The authorizer is misconfigured."),
            Self::ApiConfigurationError => row(500, "internal", "Internal error", "The API is misconfigured."),
            Self::IntegrationFailure => row(502, "bad-gateway", "Bad gateway", "The function serving this operation failed or is throttled."),
            Self::IntegrationTimeout => row(504, "gateway-timeout", "Gateway timeout", "The function serving this operation did not answer in time."),
        }
    }

    /// The name API Gateway and Terraform use (`MISSING_AUTHENTICATION_TOKEN`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::AccessDenied => "ACCESS_DENIED",
            Self::ApiConfigurationError => "API_CONFIGURATION_ERROR",
            Self::AuthorizerConfigurationError => "AUTHORIZER_CONFIGURATION_ERROR",
            Self::AuthorizerFailure => "AUTHORIZER_FAILURE",
            Self::BadRequestBody => "BAD_REQUEST_BODY",
            Self::BadRequestParameters => "BAD_REQUEST_PARAMETERS",
            Self::Default4xx => "DEFAULT_4XX",
            Self::Default5xx => "DEFAULT_5XX",
            Self::ExpiredToken => "EXPIRED_TOKEN",
            Self::IntegrationFailure => "INTEGRATION_FAILURE",
            Self::IntegrationTimeout => "INTEGRATION_TIMEOUT",
            Self::InvalidApiKey => "INVALID_API_KEY",
            Self::InvalidSignature => "INVALID_SIGNATURE",
            Self::MissingAuthenticationToken => "MISSING_AUTHENTICATION_TOKEN",
            Self::QuotaExceeded => "QUOTA_EXCEEDED",
            Self::RequestTooLarge => "REQUEST_TOO_LARGE",
            Self::ResourceNotFound => "RESOURCE_NOT_FOUND",
            Self::Throttled => "THROTTLED",
            Self::Unauthorized => "UNAUTHORIZED",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::WafFiltered => "WAF_FILTERED",
        }
    }

    /// API Gateway's `x-amzn-ErrorType` header, for the types whose value is known.
    const fn error_type(self) -> Option<&'static str> {
        match self {
            Self::Unauthorized => Some("UnauthorizedException"),
            Self::MissingAuthenticationToken => Some("MissingAuthenticationTokenException"),
            _ => None,
        }
    }
}

/// A request the gateway answers without (successfully) invoking a function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GatewayProblem {
    /// No resource matches the path, or the resource has no method for this verb: API Gateway REST answers
    /// both with MISSING_AUTHENTICATION_TOKEN ("An API request was made to a method or resource that does not
    /// exist", <https://repost.aws/knowledge-center/api-gateway-authentication-token-errors>), before any
    /// authorizer runs.
    NoSuchMethod,
    /// The Cognito authorizer refused the request: no token, a malformed, forged, expired or foreign one, or
    /// an access token. Expired Cognito tokens are UNAUTHORIZED too: EXPIRED_TOKEN is for expired AWS (SigV4)
    /// credentials (<https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html>).
    Unauthorized,
    /// The authorizer could not reach the user pool's keys (AUTHORIZER_CONFIGURATION_ERROR: "failing to
    /// connect to a custom or Amazon Cognito authorizer").
    AuthorizerUnavailable,
    /// Over API Gateway's 10 MB payload limit.
    RequestTooLarge,
    /// The invocation failed, the function failed, or it returned a malformed proxy response.
    IntegrationFailure,
    /// The function did not answer within the integration timeout.
    IntegrationTimeout,
}

impl GatewayProblem {
    /// The gateway response API Gateway answers with.
    pub const fn response_type(self) -> ResponseType {
        match self {
            Self::NoSuchMethod => ResponseType::MissingAuthenticationToken,
            Self::Unauthorized => ResponseType::Unauthorized,
            Self::AuthorizerUnavailable => ResponseType::AuthorizerConfigurationError,
            Self::RequestTooLarge => ResponseType::RequestTooLarge,
            Self::IntegrationFailure => ResponseType::IntegrationFailure,
            Self::IntegrationTimeout => ResponseType::IntegrationTimeout,
        }
    }

    /// Status, slug, title and detail of the answer.
    pub const fn parts(self) -> GatewayResponse {
        self.response_type().response()
    }

    /// The problem document, as Terraform's template renders it for the request `request_id`.
    pub fn into_response(self, request_id: &str) -> Response<Body> {
        let GatewayResponse {
            status,
            slug,
            title,
            detail,
        } = self.parts();
        let body = json!({
            "type": format!("{PROBLEM_BASE}{slug}"),
            "title": title,
            "status": status.as_u16(),
            "detail": detail,
            "request_id": request_id,
        });
        let mut response = Response::new(Body::from(body.to_string()));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(error_type) = self.response_type().error_type() {
            headers.insert("x-amzn-errortype", HeaderValue::from_static(error_type));
        }
        response
    }
}

#[cfg(test)]
mod tests;
