//! The queue consumers' use cases: price and reserve (queue 1), commit the stock (queue 2). Inside an SQS
//! batch ([`super::batch`]) the batch's orders move in one transaction; each message still gets its own
//! order's outcome.
//!
//! Both are idempotent: a duplicate or late delivery (the order already moved on, or was cancelled) is
//! acknowledged without effect.

use super::fulfilment::{self, CommitOutcome, ReserveOutcome};
use super::{OrderService, ServiceError, batch};
use crate::domain::OrderId;
use crate::messages::Event;
use crate::telemetry::{self, metrics};

impl OrderService {
    /// process-order: prices the order and reserves its stock, or rejects it; publishes to queue 2.
    #[tracing::instrument(skip_all, fields(order_id = %event.order_id()))]
    pub async fn process_order(&self, event: &Event) -> Result<(), ServiceError> {
        let Event::OrderCreated { order_id: id } = *event else {
            return Err(ServiceError::UnexpectedMessage(format!(
                "process-order cannot handle {event:?}"
            )));
        };
        // The queue 2 messages of everything the transaction confirmed go out with it, whichever message
        // ran it: a later message of the batch that fails does not hold its order's message back.
        let reserve = |orders: Vec<(OrderId, _)>| async move {
            let orders = &orders;
            let db = &self.deps.db;
            let outcomes = db
                .run(|conn| async move { fulfilment::reserve(&conn, orders).await })
                .await?;
            let confirmed = outcomes.values().filter_map(|o| match o {
                ReserveOutcome::Confirmed { outbox_id, .. } => Some(*outbox_id),
                _ => None,
            });
            self.publish(confirmed.collect(), "process-order").await;
            Ok::<_, ServiceError>(outcomes)
        };
        let outcome = match batch::outcome(event, reserve).await {
            Some(outcome) => outcome?,
            None => reserve(vec![(id, telemetry::current_trace_context())])
                .await?
                .remove(&id)
                .unwrap_or(ReserveOutcome::OrderNotFound),
        };
        match outcome {
            ReserveOutcome::Confirmed { total, .. } => {
                tracing::info!(total_minor = total.amount_minor, currency = %total.currency, "order confirmed");
            }
            ReserveOutcome::Rejected(reason) => {
                tracing::info!(reason = reason.as_str(), "order rejected");
                metrics::count_with(
                    metrics::ORDERS_REJECTED,
                    metrics::REASON,
                    reason.as_str(),
                    1,
                );
            }
            ReserveOutcome::AlreadyHandled(status) => {
                tracing::info!(%status, "duplicate or late delivery: the order is no longer pending")
            }
            ReserveOutcome::OrderNotFound => return Err(ServiceError::OrderNotFound),
        }
        Ok(())
    }

    /// update-stock: commits the reserved stock of a confirmed order.
    #[tracing::instrument(skip_all, fields(order_id = %event.order_id()))]
    pub async fn update_stock(&self, event: &Event) -> Result<(), ServiceError> {
        let Event::OrderConfirmed { order_id: id } = *event else {
            return Err(ServiceError::UnexpectedMessage(format!(
                "update-stock cannot handle {event:?}"
            )));
        };
        let commit = |orders: Vec<(OrderId, crate::messages::TraceContext)>| async move {
            let ids: Vec<OrderId> = orders.into_iter().map(|(id, _)| id).collect();
            let (ids, db) = (&ids, &self.deps.db);
            Ok::<_, ServiceError>(
                db.run(|conn| async move { fulfilment::commit(&conn, ids).await })
                    .await?,
            )
        };
        let outcome = match batch::outcome(event, commit).await {
            Some(outcome) => outcome?,
            None => commit(vec![(id, Default::default())])
                .await?
                .remove(&id)
                .unwrap_or(CommitOutcome::OrderNotFound),
        };
        match outcome {
            CommitOutcome::Fulfilled {
                low_stock,
                accepted_at,
            } => log_fulfilled(low_stock, accepted_at),
            CommitOutcome::AlreadyHandled(status) => {
                tracing::info!(%status, "duplicate or late delivery: the order is not confirmed")
            }
            CommitOutcome::OrderNotFound => return Err(ServiceError::OrderNotFound),
        }
        Ok(())
    }
}

/// The log lines and metrics of a fulfilled order: its accept-to-fulfilled latency, and one warning per
/// product of it that the batch left low.
fn log_fulfilled(
    low_stock: Vec<crate::domain::LowStock>,
    accepted_at: chrono::DateTime<chrono::Utc>,
) {
    let latency = chrono::Utc::now() - accepted_at;
    tracing::info!(latency_ms = latency.num_milliseconds(), "order fulfilled");
    metrics::count(metrics::ORDERS_FULFILLED, 1);
    metrics::milliseconds(
        metrics::FULFILMENT_LATENCY,
        latency.num_milliseconds() as f64,
    );
    for p in low_stock {
        tracing::warn!(
            event = "low_stock",
            product_id = %p.product_id,
            sku = p.sku,
            available = p.available,
            threshold = p.threshold,
            "stock is running low"
        );
        metrics::count(metrics::LOW_STOCK_EVENTS, 1);
    }
}
