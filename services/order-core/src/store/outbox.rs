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
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
    sea_query::{Expr, ExprTrait, LockBehavior, LockType},
};
use uuid::Uuid;

use crate::messages::{Destination, Event, TraceContext};
use crate::publisher::{MessageSender, OutgoingMessage};
use crate::telemetry;

/// Writes `event` to the outbox inside the caller's transaction.
pub async fn enqueue<C: ConnectionTrait>(
    txn: &C,
    event: &Event,
    trace: &TraceContext,
) -> Result<Uuid, DbErr> {
    let id = Uuid::now_v7();
    outbox::Entity::insert(outbox::ActiveModel {
        id: Set(id),
        destination: Set(event.destination().as_str().to_owned()),
        payload: Set(event.to_json()),
        trace_context: Set(serde_json::to_value(trace).unwrap_or_default()),
        created_at: NotSet,
        published_at: Set(None),
        attempts: Set(0),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(id)
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

/// Queue URL per destination; a publisher only takes rows whose destination it knows.
pub type Routes = HashMap<Destination, String>;

/// Claims the selected unpublished rows, sends them and marks those SQS accepted.
#[tracing::instrument(name = "outbox publish", skip_all, fields(selection = ?selection, db.system = "postgresql", db.operation.name = "SELECT FOR UPDATE SKIP LOCKED", db.collection.name = "outbox"))]
pub async fn publish(
    conn: &DatabaseConnection,
    sender: &dyn MessageSender,
    routes: &Routes,
    selection: Selection,
) -> Result<PublishReport, DbErr> {
    let destinations: Vec<&str> = routes.keys().map(|d| d.as_str()).collect();
    let txn = conn.begin().await?;
    let mut query = outbox::Entity::find()
        .filter(outbox::Column::PublishedAt.is_null())
        .filter(outbox::Column::Destination.is_in(destinations))
        .order_by_asc(outbox::Column::CreatedAt)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    query = match selection {
        Selection::Ids(ids) => query.filter(outbox::Column::Id.is_in(ids)),
        Selection::Due { min_age, limit } => query
            .filter(Expr::cust_with_values(
                "created_at < now() - make_interval(secs => $1)",
                [min_age.as_secs_f64()],
            ))
            .limit(limit),
    };
    let rows = query.all(&txn).await?;
    let mut report = PublishReport::default();
    let mut by_destination: HashMap<&str, Vec<OutgoingMessage>> = HashMap::new();
    // One producer span per message, a child of the transaction that wrote the row: a relay-published message
    // stays in the original request's trace, and the relay shows up in it.
    let mut producer_spans = Vec::with_capacity(rows.len());
    for row in &rows {
        let span = tracing::info_span!(
            "publish",
            otel.name = format!("{} publish", row.destination),
            otel.kind = "producer",
            messaging.system = "aws_sqs",
            messaging.operation.type = "send",
            messaging.destination.name = row.destination.as_str(),
            outbox_id = %row.id,
            trace_id = tracing::field::Empty,
        );
        let written_by: TraceContext =
            serde_json::from_value(row.trace_context.clone()).unwrap_or_default();
        telemetry::adopt(&span, telemetry::extract(&written_by));
        by_destination
            .entry(row.destination.as_str())
            .or_default()
            .push(OutgoingMessage {
                id: row.id,
                body: row.payload.to_string(),
                trace: telemetry::span_trace_context(&span),
            });
        producer_spans.push(span);
    }
    let mut sent = Vec::new();
    let mut failed = Vec::new();
    for (destination, messages) in by_destination {
        let url = Destination::parse(destination).and_then(|d| routes.get(&d));
        let Some(url) = url else { continue };
        for chunk in messages.chunks(10) {
            match sender.send_batch(url, chunk).await {
                Ok(results) => {
                    for (message, ok) in chunk.iter().zip(results) {
                        if ok {
                            sent.push(message.id)
                        } else {
                            failed.push(message.id)
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), queue = url, "publishing to SQS failed; the outbox keeps the messages");
                    failed.extend(chunk.iter().map(|m| m.id));
                }
            }
        }
    }
    if !sent.is_empty() {
        report.published = sent.len();
        outbox::Entity::update_many()
            .col_expr(outbox::Column::PublishedAt, Expr::current_timestamp())
            .col_expr(
                outbox::Column::Attempts,
                Expr::col(outbox::Column::Attempts).add(1),
            )
            .filter(outbox::Column::Id.is_in(sent))
            .exec(&txn)
            .await?;
    }
    if !failed.is_empty() {
        report.failed = failed.len();
        outbox::Entity::update_many()
            .col_expr(
                outbox::Column::Attempts,
                Expr::col(outbox::Column::Attempts).add(1),
            )
            .filter(outbox::Column::Id.is_in(failed))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    drop(producer_spans);
    Ok(report)
}

/// Rows still waiting to be published (monitoring and tests).
pub async fn pending_count(conn: &DatabaseConnection) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    outbox::Entity::find()
        .filter(outbox::Column::PublishedAt.is_null())
        .count(conn)
        .await
}
