//! get-orders: `GET /orders` and `GET /orders/{id}` behind API Gateway; the caller's orders only.

use order_core::{bootstrap, http, topology};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bootstrap::serve_http(&topology::GET_ORDERS, http::get_orders).await
}
