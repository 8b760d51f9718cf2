//! The HTTP use cases: create, read, list and cancel the caller's orders.

use sea_orm::{DatabaseConnection, DbErr};
use uuid::Uuid;

use super::fulfilment::{self, CancelOutcome};
use super::{OrderService, ServiceError};
use crate::domain::{
    CancellationReason, CustomerId, IdempotencyKey, NewOrder, Order, OrderId, OrderStatus,
};
use crate::messages::{Event, TraceContext};
use crate::store::{self, Inserted, OrderPage, outbox};
use crate::telemetry::{self, metrics};

/// The outcome of `create`.
pub struct Created {
    pub order: Order,
    /// True when this answers a retried request with the same `Idempotency-Key`.
    pub replayed: bool,
}

impl OrderService {
    /// Stores the order with its outbox row, then tries to publish it at once. A retried request (the same
    /// `Idempotency-Key` and the same body) answers the original order; the same key with another body is
    /// refused.
    #[tracing::instrument(name = "create order", skip_all)]
    pub async fn create(
        &self,
        customer: &CustomerId,
        key: Option<&IdempotencyKey>,
        order: &NewOrder,
    ) -> Result<Created, ServiceError> {
        let fingerprint = &order.fingerprint();
        if let Some(key) = key
            && let Some(created) = self.replay(customer, key, fingerprint).await?
        {
            return Ok(created);
        }
        let missing = self
            .deps
            .db
            .run(|conn| async move { store::orders::unknown_products(&conn, order).await })
            .await?;
        if !missing.is_empty() {
            return Err(ServiceError::UnknownProducts(missing));
        }
        let trace = &telemetry::current_trace_context();
        let inserted = self
            .deps
            .db
            .run(
                |conn| async move { insert(&conn, customer, key, order, fingerprint, trace).await },
            )
            .await?;
        let Some((order, outbox_id)) = inserted else {
            // Two requests with the same key raced and the other one won: answer as a replay of it.
            let key = key.expect("the idempotency key is only taken when there is one");
            return self
                .replay(customer, key, fingerprint)
                .await?
                .ok_or(ServiceError::Internal(anyhow::anyhow!(
                    "the idempotency key was taken, but its order is gone"
                )));
        };
        tracing::info!(order_id = %order.id, "order accepted");
        metrics::count(metrics::ORDERS_ACCEPTED, 1);
        self.publish(vec![outbox_id], "create-order").await;
        Ok(Created {
            order,
            replayed: false,
        })
    }

    /// The answer to a request whose key was seen before: its order if the request is the same, a refusal if
    /// not; `None` if the key is new.
    async fn replay(
        &self,
        customer: &CustomerId,
        key: &IdempotencyKey,
        fingerprint: &str,
    ) -> Result<Option<Created>, ServiceError> {
        let found = self
            .deps
            .db
            .run(|conn| async move { store::orders::find_by_key(&conn, customer, key).await })
            .await?;
        match found {
            None => Ok(None),
            Some(keyed) if keyed.fingerprint != fingerprint => {
                Err(ServiceError::IdempotencyKeyReused)
            }
            Some(keyed) => Ok(Some(Created {
                order: keyed.order,
                replayed: true,
            })),
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
            .run(|conn| async move { fulfilment::cancel(&conn, id, Some(customer), reason).await })
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

/// Inserts the pending order and its `OrderCreated` outbox row in one transaction; `None` when the key was
/// taken by a racing request. Nothing touches the database after the commit, so `Db::run` may safely re-run
/// this after a credential failure (it can only have happened before the commit).
async fn insert(
    conn: &DatabaseConnection,
    customer: &CustomerId,
    key: Option<&IdempotencyKey>,
    order: &NewOrder,
    fingerprint: &str,
    trace: &TraceContext,
) -> Result<Option<(Order, Uuid)>, DbErr> {
    let txn = crate::db::begin(conn).await?;
    let Inserted::Created(order) =
        store::orders::insert(&txn, customer, key, order, fingerprint).await?
    else {
        return Ok(None);
    };
    let outbox_id =
        outbox::enqueue(&txn, &Event::OrderCreated { order_id: order.id }, trace).await?;
    txn.commit().await?;
    Ok(Some((order, outbox_id)))
}
