//! Moving an order through its lifecycle, each move in one transaction, idempotent under redelivery:
//! reserve (pending → confirmed | rejected), commit (confirmed → fulfilled), cancel (pending | confirmed →
//! cancelled, by the customer or by expiry).
//!
//! Every move locks the order row first (two deliveries, or a delivery and a cancel, serialize there and the
//! later one sees the new status), then the order's products in ascending id order (two orders never wait on
//! each other in a cycle). CHECK constraints (`0 <= stock_reserved <= stock_on_hand`) are the last line of
//! defence.

use chrono::{DateTime, Utc};
use entity::{order_line, orders};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::stock::{StockMove, adjust_stock, capture_prices, lock_products, low_stock, quotes};
use super::{outbox, status_from_db, status_to_db};
use crate::domain::pricing;
use crate::domain::{
    CancellationReason, CustomerId, Money, Order, OrderId, OrderStatus, RejectionReason,
};
use crate::messages::{Event, TraceContext};

/// What reserving did.
#[derive(Debug, PartialEq, Eq)]
pub enum ReserveOutcome {
    /// Stock reserved, prices captured; `outbox_id` is the queue 2 message.
    Confirmed {
        total: Money,
        outbox_id: Uuid,
    },
    Rejected(RejectionReason),
    /// The order had already left `pending` (a duplicate delivery, or it was cancelled): nothing done.
    AlreadyHandled(OrderStatus),
    /// No such order: the message can never succeed.
    OrderNotFound,
}

/// A product whose free stock fell below its threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LowStock {
    pub product_id: Uuid,
    pub sku: String,
    pub available: i32,
    pub threshold: i32,
}

/// What committing did.
#[derive(Debug, PartialEq, Eq)]
pub enum CommitOutcome {
    /// `accepted_at` is when the order was created, for the accept → fulfilled latency.
    Fulfilled {
        low_stock: Vec<LowStock>,
        accepted_at: DateTime<Utc>,
    },
    /// The order is not `confirmed` (already fulfilled, cancelled, or never confirmed): nothing done.
    AlreadyHandled(OrderStatus),
    OrderNotFound,
}

/// What cancelling did.
#[derive(Debug, PartialEq, Eq)]
pub enum CancelOutcome {
    /// Cancelled now (`released` says whether a reservation was given back).
    Cancelled { order: Order, released: bool },
    /// It was cancelled before: the same order, unchanged.
    AlreadyCancelled(Order),
    /// Rejected or fulfilled: too late to cancel.
    NotCancellable(OrderStatus),
    /// No such order (for this customer, when one is given).
    OrderNotFound,
}

/// Prices the order and reserves its stock, or rejects it; writes the queue 2 message on confirmation.
#[tracing::instrument(name = "reserve stock", skip_all, fields(order_id = %id, db.system = "postgresql", db.operation.name = "UPDATE", db.collection.name = "product_info"))]
pub async fn reserve(
    conn: &DatabaseConnection,
    id: OrderId,
    trace: &TraceContext,
) -> Result<ReserveOutcome, DbErr> {
    let txn = crate::db::begin(conn).await?;
    let Some(order) = lock_order(&txn, id, None).await? else {
        return Ok(ReserveOutcome::OrderNotFound);
    };
    let status = status_from_db(order.status);
    if status != OrderStatus::Pending {
        return Ok(ReserveOutcome::AlreadyHandled(status));
    }
    let lines = lines_of(&txn, id).await?;
    let products = lock_products(&txn, &lines).await?;
    let outcome = match pricing::price(&quotes(&lines, &products)) {
        Err(e) => {
            let reason = e.rejection();
            let mut row = transition(id, OrderStatus::Rejected);
            row.rejection_reason = Set(Some(reason.as_str().to_owned()));
            orders::Entity::update(row).exec(&txn).await?;
            ReserveOutcome::Rejected(reason)
        }
        Ok(total) => {
            adjust_stock(&txn, &lines, StockMove::Reserve).await?;
            capture_prices(&txn, &lines, &products).await?;
            let mut row = transition(id, OrderStatus::Confirmed);
            row.total_minor = Set(Some(total.amount_minor));
            row.currency = Set(Some(total.currency.to_string()));
            orders::Entity::update(row).exec(&txn).await?;
            let event = Event::OrderConfirmed { order_id: id };
            let outbox_id = outbox::enqueue(&txn, &event, trace).await?;
            ReserveOutcome::Confirmed { total, outbox_id }
        }
    };
    txn.commit().await?;
    Ok(outcome)
}

/// Moves the reserved quantities out of stock and marks the order `fulfilled`.
#[tracing::instrument(name = "commit stock", skip_all, fields(order_id = %id, db.system = "postgresql", db.operation.name = "UPDATE", db.collection.name = "product_info"))]
pub async fn commit(conn: &DatabaseConnection, id: OrderId) -> Result<CommitOutcome, DbErr> {
    let txn = crate::db::begin(conn).await?;
    let Some(order) = lock_order(&txn, id, None).await? else {
        return Ok(CommitOutcome::OrderNotFound);
    };
    let status = status_from_db(order.status);
    if status != OrderStatus::Confirmed {
        return Ok(CommitOutcome::AlreadyHandled(status));
    }
    let lines = lines_of(&txn, id).await?;
    lock_products(&txn, &lines).await?;
    let updated = adjust_stock(&txn, &lines, StockMove::Commit).await?;
    orders::Entity::update(transition(id, OrderStatus::Fulfilled))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(CommitOutcome::Fulfilled {
        low_stock: updated.into_iter().filter_map(low_stock).collect(),
        accepted_at: order.created_at.with_timezone(&Utc),
    })
}

/// Cancels an open order and releases its reservation, if it has one. With `customer`, only that customer's
/// order is found (another customer's order is as missing as an unknown one).
#[tracing::instrument(name = "cancel order", skip_all, fields(order_id = %id, reason = reason.as_str(), db.system = "postgresql", db.operation.name = "UPDATE", db.collection.name = "orders"))]
pub async fn cancel(
    conn: &DatabaseConnection,
    id: OrderId,
    customer: Option<&CustomerId>,
    reason: CancellationReason,
) -> Result<CancelOutcome, DbErr> {
    let txn = crate::db::begin(conn).await?;
    let Some(order) = lock_order(&txn, id, customer).await? else {
        return Ok(CancelOutcome::OrderNotFound);
    };
    let status = status_from_db(order.status);
    if status == OrderStatus::Cancelled {
        return Ok(CancelOutcome::AlreadyCancelled(read(&txn, order).await?));
    }
    if !status.can_become(OrderStatus::Cancelled) {
        return Ok(CancelOutcome::NotCancellable(status));
    }
    let lines = lines_of(&txn, id).await?;
    let released = status.holds_reservation();
    if released {
        lock_products(&txn, &lines).await?;
        adjust_stock(&txn, &lines, StockMove::Release).await?;
    }
    let mut row = transition(id, OrderStatus::Cancelled);
    row.cancellation_reason = Set(Some(reason.as_str().to_owned()));
    let cancelled = orders::Entity::update(row).exec(&txn).await?;
    let order = super::order_from_row(cancelled, lines);
    txn.commit().await?;
    Ok(CancelOutcome::Cancelled { order, released })
}

async fn lock_order(
    txn: &DatabaseTransaction,
    id: OrderId,
    customer: Option<&CustomerId>,
) -> Result<Option<orders::Model>, DbErr> {
    let mut query = orders::Entity::find_by_id(id.0);
    if let Some(customer) = customer {
        query = query.filter(orders::Column::CustomerId.eq(customer.as_str()));
    }
    query.lock_exclusive().one(txn).await
}

async fn lines_of(txn: &DatabaseTransaction, id: OrderId) -> Result<Vec<order_line::Model>, DbErr> {
    order_line::Entity::find()
        .filter(order_line::Column::OrderId.eq(id.0))
        .order_by_asc(order_line::Column::LineNo)
        .all(txn)
        .await
}

async fn read(txn: &DatabaseTransaction, row: orders::Model) -> Result<Order, DbErr> {
    let lines = lines_of(txn, OrderId(row.id)).await?;
    Ok(super::order_from_row(row, lines))
}

/// The row update that moves order `id` to `status` (the caller checked the move is allowed).
fn transition(id: OrderId, status: OrderStatus) -> orders::ActiveModel {
    orders::ActiveModel {
        id: Set(id.0),
        status: Set(status_to_db(status)),
        updated_at: Set(Utc::now().into()),
        ..Default::default()
    }
}
