//! The transactional outbox: a message committed with the state change it announces, published afterwards.

use sea_orm::entity::prelude::*;

/// One row of `outbox`. `published_at` is `NULL` until a publisher has handed it to SQS.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Logical destination (`orders` = queue 1, `stock` = queue 2), mapped to a queue URL by configuration.
    pub destination: String,
    pub payload: Json,
    /// W3C trace context (`traceparent`, `tracestate`) of the transaction that wrote the row.
    pub trace_context: Json,
    pub created_at: DateTimeWithTimeZone,
    pub published_at: Option<DateTimeWithTimeZone>,
    pub attempts: i32,
    /// A failed row is not retried before this (exponential back-off per row).
    pub next_attempt_at: DateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
