//! create-order: `POST /orders` behind API Gateway; stores the order and its outbox row, publishes to queue 1.

use order_core::{bootstrap, config, http, messages::Destination};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let orders_queue = config::required("ORDERS_QUEUE_URL")?;
    bootstrap::serve_http(
        "create-order",
        vec![(Destination::Orders, orders_queue)],
        http::create_order,
    )
    .await
}
