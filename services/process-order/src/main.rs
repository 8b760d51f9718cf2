//! process-order: consumes queue 1; prices and reserves stock, confirms or rejects, publishes to queue 2.

use order_core::{bootstrap, config, messages::Destination, service};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let stock_queue = config::required("STOCK_QUEUE_URL")?;
    bootstrap::serve_sqs(
        "process-order",
        "orders",
        vec![(Destination::Stock, stock_queue)],
        |deps, event| async move { service::process_order(&deps, &event).await },
    )
    .await
}
