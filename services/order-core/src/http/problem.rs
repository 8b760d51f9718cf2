//! The one error type of the HTTP functions, rendered as RFC 9457 `application/problem+json`.

use lambda_http::{Body, Response, http::StatusCode};
use serde_json::json;

pub use order_contract::PROBLEM_BASE;

use crate::service::ServiceError;

/// Everything an HTTP function can answer other than success. Internal details are logged, never returned.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401 `unauthenticated`: no Cognito claims on the request.
    #[error("the request carries no authenticated caller")]
    Unauthenticated,
    /// 400 `malformed-json`: the body is not JSON.
    #[error("the body is not valid JSON: {0}")]
    MalformedJson(String),
    /// 400 `invalid-body`: JSON of the wrong shape (types, unknown or missing fields).
    #[error("the body does not match the schema: {0}")]
    InvalidBody(String),
    /// 413 `payload-too-large`: over the 64 KiB limit.
    #[error("the body is {0} bytes; the limit is 65536")]
    PayloadTooLarge(usize),
    /// 415 `unsupported-media-type`: a body that is not `application/json`.
    #[error("send the body as application/json")]
    UnsupportedMediaType,
    /// 422 `validation-failed`: well-formed but breaks an order rule.
    #[error("{0}")]
    Validation(String),
    /// 422 `unknown-product`: products not in the catalogue.
    #[error("unknown products: {}", .0.join(", "))]
    UnknownProducts(Vec<String>),
    /// 400 `invalid-idempotency-key`.
    #[error("Idempotency-Key must be 1 to 255 visible ASCII characters")]
    InvalidIdempotencyKey,
    /// 422 `idempotency-key-reused`: the key was used for a different request.
    #[error("this Idempotency-Key was already used for a different order")]
    IdempotencyKeyReused,
    /// 400 `invalid-order-id`: the path id is not a UUID.
    #[error("`{0}` is not an order id")]
    InvalidOrderId(String),
    /// 400 `invalid-cursor`.
    #[error("the cursor is not one this API issued")]
    InvalidCursor,
    /// 400 `invalid-query-parameter`.
    #[error("{0}")]
    InvalidQuery(String),
    /// 404 `order-not-found`: no such order for this caller (another customer's order included).
    #[error("no order with this id")]
    OrderNotFound,
    /// 409 `order-not-cancellable`: the order is already rejected or fulfilled.
    #[error("the order is {0} and can no longer be cancelled")]
    NotCancellable(crate::domain::OrderStatus),
    /// 404 `route-not-found`.
    #[error("no such resource")]
    RouteNotFound,
    /// 405 `method-not-allowed`.
    #[error("method not allowed on this resource")]
    MethodNotAllowed,
    /// 503 `service-unavailable`: the database could not be reached; retry later.
    #[error("temporarily unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// 500 `internal`.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// HTTP status of this error.
    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::MalformedJson(_)
            | Self::InvalidBody(_)
            | Self::InvalidIdempotencyKey
            | Self::InvalidOrderId(_)
            | Self::InvalidCursor
            | Self::InvalidQuery(_) => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) | Self::UnknownProducts(_) | Self::IdempotencyKeyReused => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::OrderNotFound | Self::RouteNotFound => StatusCode::NOT_FOUND,
            Self::NotCancellable(_) => StatusCode::CONFLICT,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable slug of the problem `type`.
    pub fn slug(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "unauthenticated",
            Self::MalformedJson(_) => "malformed-json",
            Self::InvalidBody(_) => "invalid-body",
            Self::PayloadTooLarge(_) => "payload-too-large",
            Self::UnsupportedMediaType => "unsupported-media-type",
            Self::Validation(_) => "validation-failed",
            Self::UnknownProducts(_) => "unknown-product",
            Self::InvalidIdempotencyKey => "invalid-idempotency-key",
            Self::IdempotencyKeyReused => "idempotency-key-reused",
            Self::InvalidOrderId(_) => "invalid-order-id",
            Self::InvalidCursor => "invalid-cursor",
            Self::InvalidQuery(_) => "invalid-query-parameter",
            Self::OrderNotFound => "order-not-found",
            Self::NotCancellable(_) => "order-not-cancellable",
            Self::RouteNotFound => "route-not-found",
            Self::MethodNotAllowed => "method-not-allowed",
            Self::Unavailable(_) => "service-unavailable",
            Self::Internal(_) => "internal",
        }
    }

    fn title(&self) -> &'static str {
        self.status_code().canonical_reason().unwrap_or("Error")
    }

    /// The problem document; server-side errors are logged here with their cause and answered generically.
    pub fn into_response(self, instance: &str, request_id: &str) -> Response<Body> {
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(error = ?self, request_id, "request failed");
        } else {
            tracing::info!(problem = self.slug(), detail = %self, request_id, "request refused");
        }
        let mut body = json!({
            "type": format!("{PROBLEM_BASE}{}", self.slug()),
            "title": self.title(),
            "status": status.as_u16(),
            "detail": self.to_string(),
            "instance": instance,
            "request_id": request_id,
        });
        if let Self::UnknownProducts(ids) = &self {
            body["unknown_products"] = json!(ids);
        }
        let mut builder = Response::builder()
            .status(status)
            .header("content-type", "application/problem+json");
        if matches!(self, Self::Unauthenticated) {
            builder = builder.header("www-authenticate", "Bearer");
        }
        builder
            .body(Body::Text(body.to_string()))
            .expect("static headers are valid")
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::UnknownProducts(ids) => {
                Self::UnknownProducts(ids.iter().map(ToString::to_string).collect())
            }
            ServiceError::IdempotencyKeyReused => Self::IdempotencyKeyReused,
            ServiceError::OrderNotFound => Self::OrderNotFound,
            ServiceError::NotCancellable(status) => Self::NotCancellable(status),
            ServiceError::Unavailable(e) => Self::Unavailable(e.into()),
            e @ (ServiceError::UnexpectedMessage(_) | ServiceError::Internal(_)) => {
                Self::Internal(e.into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_carry_type_status_detail_and_request_id() {
        let response = ApiError::InvalidCursor.into_response("/orders", "req-1");
        assert_eq!(response.status(), 400);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let Body::Text(text) = response.body() else {
            panic!("text body")
        };
        let body: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            body["type"],
            "https://problems.orders.example/invalid-cursor"
        );
        assert_eq!(body["status"], 400);
        assert_eq!(body["request_id"], "req-1");
        assert_eq!(body["title"], "Bad Request");
    }

    #[test]
    fn server_errors_hide_their_cause() {
        let response =
            ApiError::Internal(anyhow::anyhow!("password=hunter2")).into_response("/", "r");
        let Body::Text(text) = response.body() else {
            panic!("text body")
        };
        assert!(!text.contains("hunter2"));
    }
}
