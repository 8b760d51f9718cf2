//! update-stock: consumes queue 2; commits the reserved stock and marks the order fulfilled.

use order_core::{bootstrap, topology};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    bootstrap::serve_sqs(&topology::UPDATE_STOCK, |service, event| async move {
        service.update_stock(&event).await
    })
    .await
}
