//! `POST /orders/{id}/cancel` (cancel-order).

use lambda_http::{Body, Request, Response};

use super::view::OrderView;
use super::{ApiError, caller, json_response, order_id_parameter};
use crate::service::OrderService;

/// Cancels the caller's open order and answers it: `200` with the cancelled order (again on a repeat), `409`
/// when it is already rejected or fulfilled, `404` when the caller has no such order.
pub async fn cancel_order(service: OrderService, req: Request) -> Result<Response<Body>, ApiError> {
    let customer = caller(&req)?;
    let id = order_id_parameter(&req)?.ok_or(ApiError::RouteNotFound)?;
    let order = service.cancel(&customer, id).await?;
    Ok(json_response(200, &OrderView::from(order)))
}
