//! The use cases, as methods of [`OrderService`]: what each function does, independent of how the event
//! arrived. They return [`ServiceError`]; `http/` maps it to a problem, `sqs.rs` to a batch-item failure.

pub mod batch;
mod fulfilment;
mod orders;
mod pipeline;
mod relay;

use std::sync::{Arc, Mutex};

pub use orders::Created;
pub use relay::{DEADLINE_MARGIN, RelayReport, margin_for};

use crate::db::Db;
use crate::domain::{OrderStatus, ProductId};
use crate::publisher::MessageSender;
use crate::store::outbox::{self, QueueUrls, Selection};
use crate::telemetry::metrics;

/// What the use cases need: the pool, and where and how to publish.
#[derive(Clone)]
pub struct Deps {
    pub db: Arc<Db>,
    pub sender: Arc<dyn MessageSender>,
    pub queues: Arc<QueueUrls>,
}

/// Every use case of the order backend.
#[derive(Clone)]
pub struct OrderService {
    pub deps: Deps,
    /// Outbox rows written during an SQS batch, sent together when it ends ([`Self::deferring`]); `None`: each
    /// use case sends its rows right after its commit.
    deferred: Option<Arc<Mutex<Vec<uuid::Uuid>>>>,
}

impl OrderService {
    pub fn new(deps: Deps) -> Self {
        Self {
            deps,
            deferred: None,
        }
    }

    /// A service for one SQS batch: the outbox rows its use cases write are collected, not sent, and
    /// [`Self::publish_deferred`] sends them all at the end, in `SendMessageBatch` calls of ten, instead of one
    /// `SendMessage` per message. Until then they are safe in the outbox like any row (the relay's fallback).
    pub fn deferring(&self) -> Self {
        Self {
            deps: self.deps.clone(),
            deferred: Some(Arc::default()),
        }
    }

    /// Sends the rows collected since [`Self::deferring`], for the metric `path`.
    pub async fn publish_deferred(&self, path: &'static str) {
        let ids = match &self.deferred {
            Some(deferred) => {
                std::mem::take(&mut *deferred.lock().unwrap_or_else(|e| e.into_inner()))
            }
            None => return,
        };
        if !ids.is_empty() {
            self.deps.publish_now(ids, path).await;
        }
    }

    /// Sends freshly written outbox rows now, or collects them when this service is [`Self::deferring`].
    async fn publish(&self, ids: Vec<uuid::Uuid>, path: &'static str) {
        if ids.is_empty() {
            return;
        }
        match &self.deferred {
            Some(deferred) => deferred
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(ids),
            None => self.deps.publish_now(ids, path).await,
        }
    }
}

/// Why a use case did not do what was asked, whatever the trigger.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Some products are not in the catalogue.
    #[error("unknown products: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))]
    UnknownProducts(Vec<ProductId>),
    /// The `Idempotency-Key` was used before for a different request.
    #[error("this idempotency key was already used for a different order")]
    IdempotencyKeyReused,
    /// No such order (for this customer).
    #[error("no such order")]
    OrderNotFound,
    /// The order has reached a status it cannot be cancelled from.
    #[error("the order is {0} and can no longer be cancelled")]
    NotCancellable(OrderStatus),
    /// A queue message that this function does not handle: it never will.
    #[error("unexpected message: {0}")]
    UnexpectedMessage(String),
    /// The database could not be reached or the transaction was aborted (deadlock, failover): retry later.
    #[error("the database is unavailable")]
    Unavailable(#[source] sea_orm::DbErr),
    /// Anything else.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ServiceError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

impl From<sea_orm::DbErr> for ServiceError {
    fn from(err: sea_orm::DbErr) -> Self {
        if crate::db::is_transient(&err) {
            Self::Unavailable(err)
        } else {
            Self::Internal(err.into())
        }
    }
}

impl Deps {
    /// Hands freshly written outbox rows to SQS, for the metric `path` (the function publishing). A failure is
    /// logged, not returned: the rows are safe in the outbox and the relay publishes them later.
    pub async fn publish_now(&self, ids: Vec<uuid::Uuid>, path: &'static str) {
        let conn = self.db.conn().await;
        let selection = Selection::Ids(ids);
        match outbox::publish(&conn, self.sender.as_ref(), &self.queues, selection).await {
            Ok(report) => {
                metrics::count_with(
                    metrics::MESSAGES_PUBLISHED,
                    metrics::PATH,
                    path,
                    report.published as u64,
                );
                if report.failed > 0 {
                    tracing::warn!(
                        failed = report.failed,
                        "left messages in the outbox for the relay"
                    );
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not publish from the outbox; the relay will")
            }
        }
    }
}
