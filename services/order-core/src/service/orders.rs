//! The HTTP use cases: create, read, list and cancel the caller's orders.

use super::{OrderService, ServiceError};
use crate::domain::{
    CancellationReason, CustomerId, IdempotencyKey, NewOrder, Order, OrderId, OrderStatus,
};
use crate::store::{self, CancelOutcome, CreateOutcome, OrderPage};
use crate::telemetry::{self, metrics};

/// The outcome of `create`.
pub struct Created {
    pub order: Order,
    /// True when this answers a retried request with the same `Idempotency-Key`.
    pub replayed: bool,
}

impl OrderService {
    /// Stores the order with its outbox row, then tries to publish it at once.
    #[tracing::instrument(name = "create order", skip_all)]
    pub async fn create(
        &self,
        customer: &CustomerId,
        key: Option<&IdempotencyKey>,
        order: &NewOrder,
    ) -> Result<Created, ServiceError> {
        let trace = &telemetry::current_trace_context();
        let outcome =
            self.deps
                .db
                .run(|conn| async move {
                    store::orders::create(&conn, customer, key, order, trace).await
                })
                .await?;
        match outcome {
            CreateOutcome::Created { order, outbox_id } => {
                tracing::info!(order_id = %order.id, "order accepted");
                metrics::count(metrics::ORDERS_ACCEPTED, 1);
                self.publish(vec![outbox_id], "create-order").await;
                Ok(Created {
                    order,
                    replayed: false,
                })
            }
            CreateOutcome::Replayed(order) => Ok(Created {
                order,
                replayed: true,
            }),
            CreateOutcome::KeyReused => Err(ServiceError::IdempotencyKeyReused),
            CreateOutcome::UnknownProducts(ids) => Err(ServiceError::UnknownProducts(ids)),
        }
    }

    /// The caller's order.
    pub async fn get(&self, customer: &CustomerId, id: OrderId) -> Result<Order, ServiceError> {
        self.deps
            .db
            .run(|conn| async move { store::orders::get(&conn, customer, id).await })
            .await?
            .ok_or(ServiceError::OrderNotFound)
    }

    /// A page of the caller's orders.
    pub async fn list(
        &self,
        customer: &CustomerId,
        status: Option<OrderStatus>,
        after: Option<OrderId>,
        limit: u64,
    ) -> Result<OrderPage, ServiceError> {
        Ok(
            self.deps
                .db
                .run(|conn| async move {
                    store::orders::list(&conn, customer, status, after, limit).await
                })
                .await?,
        )
    }

    /// Cancels the caller's open order and releases its stock. Cancelling a cancelled order answers it again.
    #[tracing::instrument(name = "cancel order", skip_all, fields(order_id = %id))]
    pub async fn cancel(&self, customer: &CustomerId, id: OrderId) -> Result<Order, ServiceError> {
        let reason = CancellationReason::Customer;
        let outcome = self
            .deps
            .db
            .run(|conn| async move {
                store::fulfilment::cancel(&conn, id, Some(customer), reason).await
            })
            .await?;
        match outcome {
            CancelOutcome::Cancelled { order, released } => {
                tracing::info!(released, "order cancelled by the customer");
                metrics::count_with(
                    metrics::ORDERS_CANCELLED,
                    metrics::REASON,
                    reason.as_str(),
                    1,
                );
                Ok(order)
            }
            CancelOutcome::AlreadyCancelled(order) => Ok(order),
            CancelOutcome::NotCancellable(status) => Err(ServiceError::NotCancellable(status)),
            CancelOutcome::OrderNotFound => Err(ServiceError::OrderNotFound),
        }
    }
}
