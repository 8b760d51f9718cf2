//! `GET /orders` and `GET /orders/{id}` (get-orders).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use lambda_http::{Body, Request, RequestExt, Response, http::Method};
use serde::Serialize;

use super::{ApiError, caller, json_response};
use crate::domain::{OrderId, OrderStatus};
use crate::service::OrderService;
use crate::store::OrderView;

/// Page size when `limit` is absent.
pub const DEFAULT_LIMIT: u64 = 20;
/// Largest `limit`.
pub const MAX_LIMIT: u64 = 100;

#[derive(Serialize)]
struct Page {
    orders: Vec<OrderView>,
    next_cursor: Option<String>,
}

/// Routes to one order (`{id}` path parameter present) or the list.
pub async fn get_orders(service: OrderService, req: Request) -> Result<Response<Body>, ApiError> {
    if req.method() != Method::GET {
        return Err(ApiError::MethodNotAllowed);
    }
    let customer = caller(&req)?;
    let id = req
        .path_parameters_ref()
        .and_then(|p| p.first("id"))
        .map(str::to_owned);
    match id {
        Some(raw) => {
            let id = OrderId::parse(&raw).ok_or(ApiError::InvalidOrderId(raw))?;
            tracing::Span::current().record("order_id", tracing::field::display(id));
            let order = service
                .get(&customer, id)
                .await?
                .ok_or(ApiError::OrderNotFound)?;
            Ok(json_response(200, &order))
        }
        None if req.uri().path().trim_end_matches('/').ends_with("/orders") => {
            let query = ListQuery::parse(&req)?;
            let page = service
                .list(&customer, query.status, query.after, query.limit)
                .await?;
            let next_cursor = page.next_after.map(encode_cursor);
            Ok(json_response(
                200,
                &Page {
                    orders: page.orders,
                    next_cursor,
                },
            ))
        }
        None => Err(ApiError::RouteNotFound),
    }
}

struct ListQuery {
    limit: u64,
    status: Option<OrderStatus>,
    after: Option<OrderId>,
}

impl ListQuery {
    fn parse(req: &Request) -> Result<Self, ApiError> {
        let params = req.query_string_parameters_ref();
        let mut query = Self {
            limit: DEFAULT_LIMIT,
            status: None,
            after: None,
        };
        let Some(params) = params else {
            return Ok(query);
        };
        for (name, value) in params.iter() {
            match name {
                "limit" => {
                    query.limit = value
                        .parse()
                        .ok()
                        .filter(|n| (1..=MAX_LIMIT).contains(n))
                        .ok_or_else(|| {
                            ApiError::InvalidQuery(format!("limit must be 1 to {MAX_LIMIT}"))
                        })?;
                }
                "status" => query.status = Some(parse_status(value)?),
                "cursor" => query.after = Some(decode_cursor(value)?),
                other => {
                    return Err(ApiError::InvalidQuery(format!(
                        "unknown query parameter `{other}`"
                    )));
                }
            }
        }
        Ok(query)
    }
}

fn parse_status(raw: &str) -> Result<OrderStatus, ApiError> {
    Ok(match raw {
        "pending" => OrderStatus::Pending,
        "confirmed" => OrderStatus::Confirmed,
        "rejected" => OrderStatus::Rejected,
        "fulfilled" => OrderStatus::Fulfilled,
        "cancelled" => OrderStatus::Cancelled,
        _ => {
            return Err(ApiError::InvalidQuery(
                "status must be one of pending, confirmed, rejected, fulfilled, cancelled".into(),
            ));
        }
    })
}

const CURSOR_PREFIX: &str = "v1.";

/// Opaque to clients: base64url of `v1.<last order id>`.
fn encode_cursor(after: OrderId) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{after}"))
}

fn decode_cursor(raw: &str) -> Result<OrderId, ApiError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| ApiError::InvalidCursor)?;
    let text = String::from_utf8(bytes).map_err(|_| ApiError::InvalidCursor)?;
    text.strip_prefix(CURSOR_PREFIX)
        .and_then(OrderId::parse)
        .ok_or(ApiError::InvalidCursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let id = OrderId::new();
        assert_eq!(decode_cursor(&encode_cursor(id)).unwrap(), id);
        for bad in [
            "",
            "!!!",
            "djEubm90LWEtdXVpZA",
            &URL_SAFE_NO_PAD.encode(id.to_string()),
        ] {
            assert!(
                matches!(decode_cursor(bad), Err(ApiError::InvalidCursor)),
                "{bad}"
            );
        }
    }
}
