//! The queue consumers' use cases: price and reserve (queue 1), commit the stock (queue 2).
//!
//! Both are idempotent: a duplicate or late delivery (the order already moved on, or was cancelled) is
//! acknowledged without effect.

use super::{OrderService, ServiceError};
use crate::messages::Event;
use crate::store::{self, CommitOutcome, ReserveOutcome};
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
        let trace = &telemetry::current_trace_context();
        let outcome = self
            .deps
            .db
            .run(|conn| async move { store::fulfilment::reserve(&conn, id, trace).await })
            .await?;
        match outcome {
            ReserveOutcome::Confirmed { total, outbox_id } => {
                tracing::info!(total_minor = total.amount_minor, currency = %total.currency, "order confirmed");
                self.publish(vec![outbox_id], "process-order").await;
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
        let outcome = self
            .deps
            .db
            .run(|conn| async move { store::fulfilment::commit(&conn, id).await })
            .await?;
        match outcome {
            CommitOutcome::Fulfilled {
                low_stock,
                accepted_at,
            } => {
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
            CommitOutcome::AlreadyHandled(status) => {
                tracing::info!(%status, "duplicate or late delivery: the order is not confirmed")
            }
            CommitOutcome::OrderNotFound => return Err(ServiceError::OrderNotFound),
        }
        Ok(())
    }
}
