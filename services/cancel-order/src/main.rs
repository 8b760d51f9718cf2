//! cancel-order: `POST /orders/{id}/cancel` behind API Gateway; cancels the caller's open order and releases
//! its stock.

use order_core::{bootstrap, http, topology};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bootstrap::serve_http(&topology::CANCEL_ORDER, http::cancel_order).await
}
