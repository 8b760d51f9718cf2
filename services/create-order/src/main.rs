//! create-order: `POST /orders` behind API Gateway; stores the order and its outbox row, publishes to queue 1.

use order_core::{bootstrap, http, topology};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bootstrap::serve_http(&topology::CREATE_ORDER, http::create_order).await
}
