//! outbox-relay: scheduled every minute; publishes outbox rows the writers could not hand to SQS.

use order_core::{bootstrap, config, messages::Destination};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let queues = vec![
        (Destination::Orders, config::required("ORDERS_QUEUE_URL")?),
        (Destination::Stock, config::required("STOCK_QUEUE_URL")?),
    ];
    let settings = config::RelaySettings::from_env()?;
    bootstrap::serve_scheduled("outbox-relay", queues, settings).await
}
