//! The SQS batch being handled, known to the consumers' use cases so they move all its orders in one
//! transaction: each product's row lock is then taken, and its commit waited for, once per batch instead of
//! once per order (a flash sale puts every order on one product).
//!
//! `sqs::handle_batch` still calls the handler once per message, in order, and reports each message on its
//! own. The first message of a kind runs the batch's transaction for every message of that kind; each
//! message then takes its own order's outcome. What the batch did not cover (no batch, an order seen twice,
//! an order the batch could not decide) runs alone, exactly as a message outside a batch.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::mem::discriminant;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;

use crate::domain::OrderId;
use crate::messages::{Event, TraceContext};

use super::ServiceError;

/// The messages of one batch and what its transaction decided.
pub struct Batch {
    /// The parsed messages, in batch order, each with its message span's trace context.
    messages: Vec<(Event, TraceContext)>,
    /// `None` until the batch ran; then the outcome per order (a `HashMap<OrderId, T>`), or how it failed.
    ran: tokio::sync::Mutex<Option<Result<Box<dyn Any + Send>, Failure>>>,
}

/// How the batch's transaction failed.
struct Failure {
    transient: bool,
    error: String,
}

tokio::task_local! {
    static CURRENT: Arc<Batch>;
}

/// Runs `handling` (the per-message loop) with `messages` as the current batch.
pub async fn scope<F: Future>(messages: Vec<(Event, TraceContext)>, handling: F) -> F::Output {
    let batch = Arc::new(Batch {
        messages,
        ran: tokio::sync::Mutex::new(None),
    });
    CURRENT.scope(batch, handling).await
}

/// `event`'s outcome from the current batch: on the first call, `run` moves every order of the batch whose
/// message is of `event`'s kind, and each call takes its own order's outcome once. `None` when `event` is not
/// covered: no current batch, its outcome already taken (a duplicate message), or the batch failed for a
/// reason that retrying alone may avoid (a permanent error: one order must not fail the others).
/// A transient failure fails every message the batch covered: none of them is acknowledged.
pub(super) async fn outcome<T, F, Fut>(event: &Event, run: F) -> Option<Result<T, ServiceError>>
where
    T: Send + 'static,
    F: FnOnce(Vec<(OrderId, TraceContext)>) -> Fut,
    Fut: Future<Output = Result<HashMap<OrderId, T>, ServiceError>>,
{
    let batch = CURRENT.try_with(Arc::clone).ok()?;
    let id = event.order_id();
    let mut ran = batch.ran.lock().await;
    if ran.is_none() {
        let covered = batch.covered(event);
        if !covered.iter().any(|(order, _)| *order == id) {
            return None;
        }
        *ran = Some(match AssertUnwindSafe(run(covered)).catch_unwind().await {
            Ok(Ok(outcomes)) => Ok(Box::new(outcomes)),
            Ok(Err(e)) => Err(Failure {
                transient: e.is_transient(),
                error: format!("{:#}", anyhow::Error::from(e)),
            }),
            // A bug one order triggers: each message runs alone, so only that order's message fails.
            Err(_) => Err(Failure {
                transient: false,
                error: "the batch panicked".to_owned(),
            }),
        });
    }
    match ran.as_mut()? {
        Ok(outcomes) => outcomes
            .downcast_mut::<HashMap<OrderId, T>>()?
            .remove(&id)
            .map(Ok),
        Err(failure) if failure.transient && batch.covered(event).iter().any(|(o, _)| *o == id) => {
            let error = sea_orm::DbErr::Custom(format!(
                "the batch's transaction failed: {}",
                failure.error
            ));
            Some(Err(ServiceError::Unavailable(error)))
        }
        Err(failure) => {
            tracing::warn!(
                error = failure.error,
                "the batch's transaction failed; this message runs alone"
            );
            None
        }
    }
}

impl Batch {
    /// The orders of the messages of `event`'s kind, in batch order, with their trace contexts.
    fn covered(&self, event: &Event) -> Vec<(OrderId, TraceContext)> {
        self.messages
            .iter()
            .filter(|(e, _)| discriminant(e) == discriminant(event))
            .map(|(e, trace)| (e.order_id(), trace.clone()))
            .collect()
    }
}
