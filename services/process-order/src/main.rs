//! process-order: consumes queue 1; prices and reserves stock, confirms or rejects, publishes to queue 2.

use order_core::{bootstrap, topology};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    bootstrap::serve_sqs(&topology::PROCESS_ORDER, |service, event| async move {
        service.process_order(&event).await
    })
    .await
}
