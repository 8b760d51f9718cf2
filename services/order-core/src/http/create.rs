//! `POST /orders` (create-order).

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::view::OrderView;
use super::{ApiError, caller, json_response};
use crate::domain::{IdempotencyKey, NewOrder, ValidationError};
use crate::service::{Created, OrderService};

/// Largest body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateOrderBody {
    items: Vec<ItemBody>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemBody {
    product_id: Uuid,
    quantity: i64,
}

/// Validates the request, stores the order and answers `202 Accepted` with a `Location`.
pub async fn create_order(service: OrderService, req: Request) -> Result<Response<Body>, ApiError> {
    let customer = caller(&req)?;
    let key = req
        .headers()
        .get("idempotency-key")
        .map(|v| {
            v.to_str()
                .map_err(|_| ApiError::InvalidIdempotencyKey)
                .and_then(|s| IdempotencyKey::parse(s).map_err(|_| ApiError::InvalidIdempotencyKey))
        })
        .transpose()?;
    let order = parse_body(&req)?;
    let Created { order, replayed } = service.create(&customer, key.as_ref(), &order).await?;
    let id = order.id;
    tracing::Span::current().record("order_id", tracing::field::display(id));
    let mut response = json_response(202, &OrderView::from(order));
    let headers = response.headers_mut();
    let location = format!("/orders/{id}");
    headers.insert(
        "location",
        location.parse().expect("uuid paths are valid headers"),
    );
    if replayed {
        headers.insert("idempotent-replayed", "true".parse().expect("static"));
    }
    Ok(response)
}

fn parse_body(req: &Request) -> Result<NewOrder, ApiError> {
    if let Some(ct) = req.headers().get("content-type") {
        let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
        let essence = ct.split(';').next().unwrap_or_default().trim();
        if essence != "application/json" && !essence.ends_with("+json") {
            return Err(ApiError::UnsupportedMediaType);
        }
    }
    let bytes: &[u8] = match req.body() {
        Body::Empty => b"",
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => b"",
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge(bytes.len()));
    }
    let body: CreateOrderBody = serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::InvalidBody(e.to_string()),
        _ => ApiError::MalformedJson(e.to_string()),
    })?;
    NewOrder::parse(body.items.into_iter().map(|i| (i.product_id, i.quantity))).map_err(|e| match e
    {
        ValidationError::InvalidIdempotencyKey => ApiError::InvalidIdempotencyKey,
        other => ApiError::Validation(other.to_string()),
    })
}
