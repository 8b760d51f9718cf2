//! `GET /orders` and `GET /orders/{id}` (get-orders).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use lambda_http::{Body, Request, RequestExt, Response, http::Method};

use super::view::{OrderView, PageView};
use super::{ApiError, caller, json_response, order_id_parameter};
use crate::domain::{OrderId, OrderStatus};
use crate::service::OrderService;

/// Page size when `limit` is absent.
pub const DEFAULT_LIMIT: u64 = 20;
/// Largest `limit`.
pub const MAX_LIMIT: u64 = 100;

/// Routes to one order (`{id}` path parameter present) or the list.
pub async fn get_orders(service: OrderService, req: Request) -> Result<Response<Body>, ApiError> {
    if req.method() != Method::GET {
        return Err(ApiError::MethodNotAllowed);
    }
    let customer = caller(&req)?;
    match order_id_parameter(&req)? {
        Some(id) => {
            let order = service.get(&customer, id).await?;
            Ok(json_response(200, &OrderView::from(order)))
        }
        None if req.uri().path().trim_end_matches('/').ends_with("/orders") => {
            let query = ListQuery::parse(&req)?;
            let page = service
                .list(&customer, query.status, query.after, query.limit)
                .await?;
            let page = PageView {
                orders: page.orders.into_iter().map(OrderView::from).collect(),
                next_cursor: page.next_after.map(encode_cursor),
            };
            Ok(json_response(200, &page))
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
            if params.all(name).is_some_and(|values| values.len() > 1) {
                return Err(ApiError::InvalidQuery(format!(
                    "`{name}` may appear only once"
                )));
            }
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
                "status" => {
                    let status = value
                        .parse::<OrderStatus>()
                        .map_err(|e| ApiError::InvalidQuery(e.to_string()))?;
                    query.status = Some(status);
                }
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
