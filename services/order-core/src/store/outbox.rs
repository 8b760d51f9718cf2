//! The transactional outbox: rows written with the state change, handed to SQS afterwards.
//!
//! Publishing claims rows with `FOR UPDATE SKIP LOCKED` inside a transaction, sends them, marks the ones SQS
//! accepted and commits: two publishers (the writer and the relay, or two relays) never send the same row at the
//! same time. A publisher that dies after sending but before committing leaves the row unpublished, so it is
//! sent again: delivery is at-least-once and the consumers are idempotent.

use std::collections::HashMap;
use std::time::Duration;

use entity::outbox;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, LockBehavior, LockType, SimpleExpr},
};
use uuid::Uuid;

use crate::messages::{Event, TraceContext};
use crate::publisher::{MessageSender, OutgoingMessage};
use crate::telemetry;
use crate::topology::Queue;

/// Writes `event` to the outbox inside the caller's transaction.
pub async fn enqueue<C: ConnectionTrait>(
    txn: &C,
    event: &Event,
    trace: &TraceContext,
) -> Result<Uuid, DbErr> {
    let id = Uuid::now_v7();
    outbox::Entity::insert(outbox::ActiveModel {
        id: Set(id),
        destination: Set(event.queue().name().to_owned()),
        payload: Set(event.to_json()),
        trace_context: Set(serde_json::to_value(trace).unwrap_or_default()),
        created_at: NotSet,
        published_at: Set(None),
        attempts: Set(0),
        next_attempt_at: NotSet,
    })
    .exec_without_returning(txn)
    .await?;
    Ok(id)
}

/// Writes `events` (each with the trace context of the message it answers) to the outbox inside the caller's
/// transaction, in one statement; returns their ids in the same order.
pub async fn enqueue_many<C: ConnectionTrait>(
    txn: &C,
    events: &[(Event, TraceContext)],
) -> Result<Vec<Uuid>, DbErr> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = events.iter().map(|_| Uuid::now_v7()).collect();
    let rows = events
        .iter()
        .zip(&ids)
        .map(|((event, trace), id)| outbox::ActiveModel {
            id: Set(*id),
            destination: Set(event.queue().name().to_owned()),
            payload: Set(event.to_json()),
            trace_context: Set(serde_json::to_value(trace).unwrap_or_default()),
            created_at: NotSet,
            published_at: Set(None),
            attempts: Set(0),
            next_attempt_at: NotSet,
        });
    outbox::Entity::insert_many(rows)
        .exec_without_returning(txn)
        .await?;
    Ok(ids)
}

/// Which rows a publisher takes.
#[derive(Clone, Debug)]
pub enum Selection {
    /// These rows, right after the transaction that wrote them.
    Ids(Vec<Uuid>),
    /// Rows older than `min_age` still unpublished, oldest first (the relay).
    Due { min_age: Duration, limit: u64 },
}

/// What one publishing pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PublishReport {
    pub published: usize,
    pub failed: usize,
}

/// Queue URL per queue; a publisher only takes rows for the queues it knows.
pub type QueueUrls = HashMap<Queue, String>;

/// Claims the selected unpublished rows, sends them and marks those SQS accepted, in one transaction.
#[tracing::instrument(name = "outbox publish", skip_all, fields(selection = ?selection, db.system = "postgresql", db.operation.name = "SELECT FOR UPDATE SKIP LOCKED", db.collection.name = "outbox"))]
pub async fn publish(
    conn: &DatabaseConnection,
    sender: &dyn MessageSender,
    queues: &QueueUrls,
    selection: Selection,
) -> Result<PublishReport, DbErr> {
    let txn = crate::db::begin(conn).await?;
    let by_relay = matches!(selection, Selection::Due { .. });
    let rows = claim(&txn, queues, selection).await?;
    let claimed = rows.iter().map(Claimed::new).collect::<Vec<_>>();
    let (sent, failed) = send(sender, queues, &claimed).await;
    mark_published(&txn, &sent).await?;
    if by_relay {
        back_off(&txn, &failed).await?;
    }
    txn.commit().await?;
    Ok(PublishReport {
        published: sent.len(),
        failed: failed.len(),
    })
}

/// Locks the selected unpublished rows for this transaction; rows another publisher holds are skipped.
async fn claim(
    txn: &DatabaseTransaction,
    queues: &QueueUrls,
    selection: Selection,
) -> Result<Vec<outbox::Model>, DbErr> {
    let destinations: Vec<&str> = queues.keys().map(|q| q.name()).collect();
    let query = outbox::Entity::find()
        .filter(outbox::Column::PublishedAt.is_null())
        .filter(outbox::Column::Destination.is_in(destinations))
        .order_by_asc(outbox::Column::CreatedAt)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    let query = match selection {
        Selection::Ids(ids) => query.filter(outbox::Column::Id.is_in(ids)),
        Selection::Due { min_age, limit } => query
            .filter(Expr::cust_with_values(
                "created_at < now() - make_interval(secs => $1)",
                [min_age.as_secs_f64()],
            ))
            .filter(Expr::cust("next_attempt_at <= now()"))
            .limit(limit),
    };
    query.all(txn).await
}

/// A claimed row ready to send, with its producer span: a child of the transaction that wrote the row, so a
/// relay-published message stays in the original request's trace and the relay shows up in it.
struct Claimed {
    queue: Option<Queue>,
    message: OutgoingMessage,
    _span: tracing::Span,
}

impl Claimed {
    fn new(row: &outbox::Model) -> Self {
        let span = tracing::info_span!(
            "publish",
            otel.name = format!("{} publish", row.destination),
            otel.kind = "producer",
            messaging.system = "aws_sqs",
            messaging.operation.type = "send",
            messaging.destination.name = row.destination.as_str(),
            outbox_id = %row.id,
            order_id = tracing::field::Empty,
            trace_id = tracing::field::Empty,
        );
        if let Some(order_id) = row.payload.get("order_id").and_then(|v| v.as_str()) {
            span.record("order_id", order_id);
        }
        let written_by: TraceContext =
            serde_json::from_value(row.trace_context.clone()).unwrap_or_default();
        telemetry::adopt(&span, telemetry::extract_own(&written_by));
        let message = OutgoingMessage {
            id: row.id,
            body: row.payload.to_string(),
            trace: telemetry::span_trace_context(&span),
        };
        Self {
            queue: Queue::parse(&row.destination),
            message,
            _span: span,
        }
    }
}

/// Sends the claimed rows in batches of ten per queue; returns the ids SQS accepted and the ids it did not.
async fn send(
    sender: &dyn MessageSender,
    queues: &QueueUrls,
    claimed: &[Claimed],
) -> (Vec<Uuid>, Vec<Uuid>) {
    let mut by_queue: HashMap<Queue, Vec<OutgoingMessage>> = HashMap::new();
    for c in claimed {
        if let Some(queue) = c.queue {
            by_queue.entry(queue).or_default().push(c.message.clone());
        }
    }
    let (mut sent, mut failed) = (Vec::new(), Vec::new());
    for (queue, messages) in by_queue {
        let Some(url) = queues.get(&queue) else {
            continue;
        };
        for chunk in messages.chunks(10) {
            let accepted = match sender.send_batch(url, chunk).await {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), queue = url, "publishing to SQS failed; the outbox keeps the messages");
                    vec![false; chunk.len()]
                }
            };
            for (message, ok) in chunk.iter().zip(accepted) {
                if ok { &mut sent } else { &mut failed }.push(message.id);
            }
        }
    }
    (sent, failed)
}

/// Longest wait before a failing row is tried again.
pub const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);
/// A row that failed this many times counts as stuck (the `OutboxStuckRows` gauge and its alarm).
pub const STUCK_AFTER_ATTEMPTS: i32 = 5;

/// Marks the sent rows published, counting the attempt.
async fn mark_published(txn: &DatabaseTransaction, ids: &[Uuid]) -> Result<(), DbErr> {
    count_attempt(
        txn,
        ids,
        Expr::current_timestamp(),
        outbox::Column::PublishedAt,
    )
    .await
}

/// Counts a failed relay attempt on each row: it waits 2^attempts seconds (at most [`MAX_BACKOFF`]) before the
/// relay takes it again, so a row that keeps failing does not hold up the rows behind it. A writer's own
/// publish right after its commit does not back off: the relay is the fallback for exactly that failure.
async fn back_off(txn: &DatabaseTransaction, ids: &[Uuid]) -> Result<(), DbErr> {
    let next = Expr::cust_with_values(
        "now() + make_interval(secs => least(power(2, attempts + 1), $1))",
        [MAX_BACKOFF.as_secs_f64()],
    );
    count_attempt(txn, ids, next, outbox::Column::NextAttemptAt).await
}

/// One more attempt on each of `ids`, with `column` set to `value`.
async fn count_attempt(
    txn: &DatabaseTransaction,
    ids: &[Uuid],
    value: SimpleExpr,
    column: outbox::Column,
) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    outbox::Entity::update_many()
        .col_expr(
            outbox::Column::Attempts,
            Expr::col(outbox::Column::Attempts).add(1),
        )
        .col_expr(column, value)
        .filter(outbox::Column::Id.is_in(ids.to_vec()))
        .exec(txn)
        .await?;
    Ok(())
}

/// Rows still waiting to be published (monitoring and tests).
pub async fn pending_count(conn: &DatabaseConnection) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    outbox::Entity::find()
        .filter(outbox::Column::PublishedAt.is_null())
        .count(conn)
        .await
}
