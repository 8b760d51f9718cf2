//! outbox-relay: scheduled every minute; publishes outbox rows the writers could not hand to SQS, expires
//! orders that stalled, and measures the stall gauges.

use order_core::{bootstrap, config, topology};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let settings = config::RelaySettings::from_env()?;
    bootstrap::serve_scheduled(&topology::OUTBOX_RELAY, settings).await
}
