//! outbox-relay's scheduled run: publish what the writers could not, expire orders that stalled, and measure
//! the two stall gauges.

use std::time::{Duration, Instant};

use crate::config::RelaySettings;
use crate::domain::CancellationReason;
use crate::store::maintenance::{self, StallGauges};
use crate::store::outbox::{self, PublishReport, Selection};

use super::fulfilment::{self, CancelOutcome};
use crate::telemetry::metrics;

use super::{OrderService, ServiceError};

/// Batches one relay invocation publishes at most.
pub const MAX_RELAY_PASSES: usize = 50;
/// Time kept in hand before the invocation's deadline: a pass (claim, send with its bounded timeout, mark)
/// fits comfortably in it, and the expiry sweep and the gauges after it too. An invocation whose whole budget
/// is short (an emulator's deadline, a small timeout) keeps a quarter of it instead: see [`margin_for`].
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(10);

/// The time kept in hand for an invocation that had `budget` left when it started: [`DEADLINE_MARGIN`], or a
/// quarter of the budget when that is less, so a short budget still leaves room for passes. A deadline already
/// past claims nothing.
pub fn margin_for(budget: Duration) -> Duration {
    DEADLINE_MARGIN.min(budget / 4)
}
/// Orders one relay invocation expires at most (the next run continues).
pub const MAX_EXPIRIES: u64 = 500;

/// What one scheduled run did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RelayReport {
    pub publish: PublishReport,
    pub expired: usize,
    pub gauges: StallGauges,
}

impl OrderService {
    /// The relay's whole run. Messages it could not publish are in the report (`publish.failed`); the scheduled
    /// edge turns them into an invocation error so Lambda's `Errors` alarm fires too.
    pub async fn relay(&self, settings: RelaySettings) -> Result<RelayReport, ServiceError> {
        self.relay_until(settings, None).await
    }

    /// [`relay`](Self::relay) that stops claiming outbox rows once `deadline` is less than [`DEADLINE_MARGIN`]
    /// away (the invocation's deadline: the rest waits for the next scheduled run).
    #[tracing::instrument(skip_all)]
    pub async fn relay_until(
        &self,
        settings: RelaySettings,
        deadline: Option<Instant>,
    ) -> Result<RelayReport, ServiceError> {
        let publish = self.publish_due(settings, deadline).await?;
        let expired = self.expire(settings).await?;
        let gauges = self
            .deps
            .db
            .run(|conn| async move { maintenance::stall_gauges(&conn, settings.stall_after).await })
            .await?;
        metrics::seconds(
            metrics::OUTBOX_OLDEST_AGE_SECONDS,
            gauges.oldest_unpublished_seconds,
        );
        metrics::count(metrics::STALLED_ORDERS, gauges.stalled_orders);
        metrics::count(metrics::OUTBOX_STUCK_ROWS, gauges.stuck_outbox_rows);
        let report = RelayReport {
            publish,
            expired,
            gauges,
        };
        tracing::info!(?report, "relay run done");
        Ok(report)
    }

    /// Publishes due outbox rows in bounded passes until none is left or SQS refuses.
    async fn publish_due(
        &self,
        settings: RelaySettings,
        deadline: Option<Instant>,
    ) -> Result<PublishReport, ServiceError> {
        let deps = &self.deps;
        let mut total = PublishReport::default();
        let margin = deadline.map(|d| margin_for(d.saturating_duration_since(Instant::now())));
        for _ in 0..MAX_RELAY_PASSES {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if let (Some(left), Some(margin)) = (left, margin)
                && (left.is_zero() || left < margin)
            {
                tracing::warn!(
                    left_ms = left.as_millis() as u64,
                    margin_ms = margin.as_millis() as u64,
                    "stopping before the invocation deadline; the next run continues"
                );
                break;
            }
            let selection = Selection::Due {
                min_age: settings.min_age,
                limit: settings.batch_size,
            };
            let report = deps
                .db
                .run(|conn| {
                    let selection = selection.clone();
                    async move {
                        outbox::publish(&conn, deps.sender.as_ref(), &deps.queues, selection).await
                    }
                })
                .await?;
            total.published += report.published;
            total.failed += report.failed;
            if report.published == 0 || report.failed > 0 {
                break;
            }
        }
        metrics::count_with(
            metrics::MESSAGES_PUBLISHED,
            metrics::PATH,
            "relay",
            total.published as u64,
        );
        metrics::count(metrics::RELAY_FAILURES, total.failed as u64);
        Ok(total)
    }

    /// Cancels orders still open after `ORDER_EXPIRY_MINUTES` and releases their stock, each in its own
    /// transaction (the same locks as the consumers, so a racing delivery simply finds it cancelled).
    async fn expire(&self, settings: RelaySettings) -> Result<usize, ServiceError> {
        let db = &self.deps.db;
        let due = db
            .run(|conn| async move {
                maintenance::open_orders_older_than(&conn, settings.expire_after, MAX_EXPIRIES)
                    .await
            })
            .await?;
        let mut expired = 0;
        for id in due {
            let reason = CancellationReason::Expired;
            let outcome = db
                .run(|conn| async move { fulfilment::cancel(&conn, id, None, reason).await })
                .await?;
            if let CancelOutcome::Cancelled { released, .. } = outcome {
                tracing::warn!(order_id = %id, released, "order expired");
                expired += 1;
            }
        }
        metrics::count_with(
            metrics::ORDERS_CANCELLED,
            metrics::REASON,
            "expired",
            expired as u64,
        );
        Ok(expired)
    }
}
