//! Use cases: what each function does, independent of how the event arrived.

use std::sync::Arc;

use crate::db::Db;
use crate::domain::{CustomerId, IdempotencyKey, NewOrder, OrderId, OrderStatus};
use crate::http::ApiError;
use crate::messages::{Destination, Event};
use crate::publisher::MessageSender;
use crate::store::outbox::{self, PublishReport, Routes, Selection};
use crate::store::{self, CommitOutcome, OrderPage, OrderView, ReserveOutcome};
use crate::telemetry;

/// What a function needs: the pool, and where and how to publish.
#[derive(Clone)]
pub struct Deps {
    pub db: Arc<Db>,
    pub sender: Arc<dyn MessageSender>,
    pub routes: Arc<Routes>,
}

impl Deps {
    /// Hands freshly written outbox rows to SQS. A failure is logged, not returned: the rows are safe in the
    /// outbox and the relay publishes them later.
    pub async fn publish_now(&self, ids: Vec<uuid::Uuid>) {
        let conn = self.db.conn().await;
        match outbox::publish(
            &conn,
            self.sender.as_ref(),
            &self.routes,
            Selection::Ids(ids),
        )
        .await
        {
            Ok(report) if report.failed > 0 => {
                tracing::warn!(
                    failed = report.failed,
                    "left messages in the outbox for the relay"
                )
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "could not publish from the outbox; the relay will")
            }
        }
    }
}

/// The outcome of `create`.
pub struct Created {
    pub order: OrderView,
    /// True when this answers a retried request with the same `Idempotency-Key`.
    pub replayed: bool,
}

/// Creating and reading orders (the HTTP functions).
#[derive(Clone)]
pub struct OrderService {
    pub deps: Deps,
}

impl OrderService {
    /// Stores the order with its outbox row, then tries to publish it at once.
    #[tracing::instrument(name = "create order", skip_all)]
    pub async fn create(
        &self,
        customer: &CustomerId,
        key: Option<&IdempotencyKey>,
        order: &NewOrder,
    ) -> Result<Created, ApiError> {
        let trace = &telemetry::current_trace_context();
        let outcome =
            self.deps
                .db
                .run(|conn| async move {
                    store::orders::create(&conn, customer, key, order, trace).await
                })
                .await
                .map_err(ApiError::from_db)?;
        match outcome {
            store::CreateOutcome::Created { order, outbox_id } => {
                tracing::info!(order_id = %order.id, "order accepted");
                self.deps.publish_now(vec![outbox_id]).await;
                Ok(Created {
                    order,
                    replayed: false,
                })
            }
            store::CreateOutcome::Replayed(order) => Ok(Created {
                order,
                replayed: true,
            }),
            store::CreateOutcome::KeyReused => Err(ApiError::IdempotencyKeyReused),
            store::CreateOutcome::UnknownProducts(ids) => Err(ApiError::UnknownProducts(
                ids.iter().map(ToString::to_string).collect(),
            )),
        }
    }

    /// The caller's order.
    pub async fn get(
        &self,
        customer: &CustomerId,
        id: OrderId,
    ) -> Result<Option<OrderView>, ApiError> {
        self.deps
            .db
            .run(|conn| async move { store::orders::get(&conn, customer, id).await })
            .await
            .map_err(ApiError::from_db)
    }

    /// A page of the caller's orders.
    pub async fn list(
        &self,
        customer: &CustomerId,
        status: Option<OrderStatus>,
        after: Option<OrderId>,
        limit: u64,
    ) -> Result<OrderPage, ApiError> {
        self.deps
            .db
            .run(|conn| async move { store::orders::list(&conn, customer, status, after, limit).await })
            .await
            .map_err(ApiError::from_db)
    }
}

/// Why a queue message failed. Either way it is reported in `batchItemFailures`: transient failures succeed on
/// redelivery, permanent ones reach the DLQ after `maxReceiveCount`. Nothing is acknowledged that was not done.
#[derive(Debug, thiserror::Error)]
pub enum MessageFailure {
    #[error("permanent: {0}")]
    Permanent(String),
    #[error("transient: {0}")]
    Transient(#[from] sea_orm::DbErr),
}

/// process-order: prices the order and reserves its stock (queue 1).
#[tracing::instrument(skip_all, fields(order_id = %event.order_id()))]
pub async fn process_order(deps: &Deps, event: &Event) -> Result<(), MessageFailure> {
    let Event::OrderCreated { order_id } = event else {
        return Err(MessageFailure::Permanent(format!(
            "process-order cannot handle {event:?}"
        )));
    };
    let trace = &telemetry::current_trace_context();
    let id = *order_id;
    let outcome = deps
        .db
        .run(|conn| async move { store::fulfilment::reserve(&conn, id, trace).await })
        .await?;
    match outcome {
        ReserveOutcome::Confirmed { total, outbox_id } => {
            tracing::info!(total_minor = total.amount_minor, currency = %total.currency, "order confirmed");
            deps.publish_now(vec![outbox_id]).await;
        }
        ReserveOutcome::Rejected(reason) => {
            tracing::info!(reason = reason.as_str(), "order rejected")
        }
        ReserveOutcome::AlreadyProcessed(status) => {
            tracing::info!(?status, "duplicate delivery: order already processed")
        }
        ReserveOutcome::OrderNotFound => {
            return Err(MessageFailure::Permanent(format!("no order {id}")));
        }
    }
    Ok(())
}

/// update-stock: commits the reserved stock of a confirmed order (queue 2).
#[tracing::instrument(skip_all, fields(order_id = %event.order_id()))]
pub async fn update_stock(deps: &Deps, event: &Event) -> Result<(), MessageFailure> {
    let Event::OrderConfirmed { order_id } = event else {
        return Err(MessageFailure::Permanent(format!(
            "update-stock cannot handle {event:?}"
        )));
    };
    let id = *order_id;
    let outcome = deps
        .db
        .run(|conn| async move { store::fulfilment::commit(&conn, id).await })
        .await?;
    match outcome {
        CommitOutcome::Fulfilled { low_stock } => {
            tracing::info!("order fulfilled");
            for p in low_stock {
                tracing::warn!(
                    event = "low_stock",
                    product_id = %p.product_id,
                    sku = p.sku,
                    available = p.available,
                    threshold = p.threshold,
                    "stock is running low"
                );
            }
        }
        CommitOutcome::NothingToDo(status) => {
            tracing::info!(
                ?status,
                "duplicate delivery or not confirmed: nothing to commit"
            )
        }
        CommitOutcome::OrderNotFound => {
            return Err(MessageFailure::Permanent(format!("no order {id}")));
        }
    }
    Ok(())
}

/// Batches one relay invocation publishes at most.
pub const MAX_RELAY_PASSES: usize = 50;

/// outbox-relay: publishes what the writers could not, in batches, until nothing due is left.
#[tracing::instrument(skip_all)]
pub async fn relay(
    deps: &Deps,
    settings: crate::config::RelaySettings,
) -> anyhow::Result<PublishReport> {
    let mut total = PublishReport::default();
    // Bounded so one invocation ends well inside its timeout under a constant inflow; the next run continues.
    for _ in 0..MAX_RELAY_PASSES {
        let selection = Selection::Due {
            min_age: settings.min_age,
            limit: settings.batch_size,
        };
        let report = deps
            .db
            .run(|conn| {
                let selection = selection.clone();
                async move {
                    outbox::publish(&conn, deps.sender.as_ref(), &deps.routes, selection).await
                }
            })
            .await?;
        total.published += report.published;
        total.failed += report.failed;
        // Stop when a pass found nothing, or SQS is refusing: the next scheduled run tries again.
        if report.published == 0 || report.failed > 0 {
            break;
        }
    }
    tracing::info!(
        published = total.published,
        failed = total.failed,
        "relay pass done"
    );
    Ok(total)
}

/// Routes for the destinations a function publishes to.
pub fn routes(pairs: impl IntoIterator<Item = (Destination, String)>) -> Arc<Routes> {
    Arc::new(pairs.into_iter().collect())
}
