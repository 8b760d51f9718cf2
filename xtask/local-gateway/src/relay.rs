//! The EventBridge schedule: invokes the outbox relay every `RELAY_INTERVAL_SECONDS` with a scheduled event.
//! Runs never overlap: a tick that comes while the relay still runs waits for it.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::config::scheduled_function;
use crate::invoke::Invoker;

/// The outbox relay's Lambda timeout.
const RELAY_TIMEOUT: Duration = Duration::from_secs(60);

/// Invokes the relay on schedule until `shutdown`; an invocation in progress finishes first.
pub async fn run(
    invoker: Invoker,
    interval: Duration,
    region: String,
    account_id: String,
    shutdown: CancellationToken,
) {
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    tracing::info!(every = ?interval, function = scheduled_function().name, "schedule started");
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            _ = ticker.tick() => {}
        }
        let event = scheduled_event(&region, &account_id, chrono::Utc::now());
        match invoker
            .invoke::<Value>(scheduled_function().name, &event, RELAY_TIMEOUT)
            .await
        {
            Ok(report) if report["published"].as_u64().unwrap_or(0) > 0 => {
                tracing::info!(%report, "outbox relay published");
            }
            Ok(report) => tracing::debug!(%report, "outbox relay ran"),
            Err(e) => tracing::error!(error = %e, "outbox relay invocation failed"),
        }
    }
    tracing::info!("schedule stopped");
}

/// The event an EventBridge `rate(...)` rule delivers.
pub fn scheduled_event(region: &str, account_id: &str, at: chrono::DateTime<chrono::Utc>) -> Value {
    json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "region": region,
        "resources": [format!("arn:aws:events:{region}:{account_id}:rule/{}", scheduled_function().name)],
        "detail": {},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheduled_event_has_eventbridges_shape() {
        let at = chrono::DateTime::from_timestamp(1_764_115_200, 0).unwrap();

        let event = scheduled_event("us-east-1", "123456789012", at);

        assert_eq!(event["detail-type"], "Scheduled Event");
        assert_eq!(event["source"], "aws.events");
        assert_eq!(event["time"], "2025-11-26T00:00:00Z");
        assert_eq!(
            event["resources"][0],
            "arn:aws:events:us-east-1:123456789012:rule/outbox-relay"
        );
        assert_eq!(event["detail"], json!({}));
    }
}
