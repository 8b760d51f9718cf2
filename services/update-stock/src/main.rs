//! update-stock: consumes queue 2; commits the reserved stock and marks the order fulfilled.

use order_core::{bootstrap, service};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    bootstrap::serve_sqs(
        "update-stock",
        "stock",
        Vec::new(),
        |deps, event| async move { service::update_stock(&deps, &event).await },
    )
    .await
}
