//! The lifecycle moves, each one transaction composed of the store's primitives and decided here through the
//! domain ("when does an order become confirmed?" is answered in this file):
//! - reserve (pending → confirmed | rejected) and commit (confirmed → fulfilled) take a whole batch of orders:
//!   every order row and then every product row is locked once for the batch, the orders are decided one
//!   after another against the locked stock in memory (each whole or not at all), and the sums are written;
//! - cancel (pending | confirmed → cancelled, by the customer or by expiry) takes one order.
//!
//! An order that has already moved on (a duplicate or late delivery, a cancel that won the race) is left as
//! it is and reported as already handled.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr};
use uuid::Uuid;

use crate::domain::{
    self, CancellationReason, CustomerId, LowStock, Money, Order, OrderId, OrderLine, OrderStatus,
    RejectionReason,
};
use crate::messages::{Event, TraceContext};
use crate::store::{StatusChange, StatusDetail, StockMove, fulfilment, outbox, stock};

/// What reserving did to one order.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum ReserveOutcome {
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

/// What committing did to one order.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum CommitOutcome {
    /// `accepted_at` is when the order was created, for the accept → fulfilled latency; `low_stock` lists
    /// the products of this order that the batch left low.
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
pub(super) enum CancelOutcome {
    /// Cancelled now (`released` says whether a reservation was given back).
    Cancelled { order: Order, released: bool },
    /// It was cancelled before: the same order, unchanged.
    AlreadyCancelled(Order),
    /// Rejected or fulfilled: too late to cancel.
    NotCancellable(OrderStatus),
    /// No such order (for this customer, when one is given).
    OrderNotFound,
}

/// The orders of `ids` that can make the move to `to`, locked, in the order of `ids` (duplicates once); the
/// others get `already(status)` or `missing` in `outcomes`.
async fn lock_movable<T>(
    txn: &sea_orm::DatabaseTransaction,
    ids: &[OrderId],
    to: OrderStatus,
    outcomes: &mut HashMap<OrderId, T>,
    already: fn(OrderStatus) -> T,
    missing: fn() -> T,
) -> Result<Vec<(Order, domain::Transition)>, DbErr> {
    let mut locked: HashMap<OrderId, Order> = fulfilment::lock_orders(txn, ids)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let mut movable = Vec::new();
    for id in ids {
        if outcomes.contains_key(id) || movable.iter().any(|(o, _): &(Order, _)| o.id == *id) {
            continue;
        }
        match locked.remove(id) {
            None => drop(outcomes.insert(*id, missing())),
            Some(order) => match order.status.transition_to(to) {
                Ok(transition) => movable.push((order, transition)),
                Err(_) => drop(outcomes.insert(*id, already(order.status))),
            },
        }
    }
    Ok(movable)
}

/// The products the lines of `orders` need, with their summed quantities.
fn quantities<'a>(
    lines: impl IntoIterator<Item = &'a OrderLine>,
) -> BTreeMap<domain::ProductId, i32> {
    let mut sums = BTreeMap::new();
    for line in lines {
        *sums.entry(line.product_id).or_default() +=
            i32::try_from(line.quantity).unwrap_or(i32::MAX);
    }
    sums
}

/// Prices and reserves each pending order of `orders` (with the trace context of the message that carried
/// it), or rejects it, in one transaction; writes a queue 2 message per confirmed order.
#[tracing::instrument(name = "reserve stock", skip_all, fields(orders = orders.len(), db.system = "postgresql", db.operation.name = "UPDATE", db.collection.name = "product_info"))]
pub(super) async fn reserve(
    conn: &DatabaseConnection,
    orders: &[(OrderId, TraceContext)],
) -> Result<HashMap<OrderId, ReserveOutcome>, DbErr> {
    let txn = crate::db::begin(conn).await?;
    let ids: Vec<OrderId> = orders.iter().map(|(id, _)| *id).collect();
    let mut outcomes = HashMap::new();
    let pending = lock_movable(
        &txn,
        &ids,
        OrderStatus::Confirmed,
        &mut outcomes,
        ReserveOutcome::AlreadyHandled,
        || ReserveOutcome::OrderNotFound,
    )
    .await?;
    let wanted = pending
        .iter()
        .flat_map(|(o, _)| &o.lines)
        .map(|l| l.product_id);
    let mut products = stock::lock_products(&txn, wanted).await?;
    let locked = Instant::now();
    let (changes, confirmed) = decide_reservations(&mut products, &pending, &mut outcomes)?;
    let reserved = quantities(confirmed.iter().flat_map(|(o, _)| &o.lines));
    stock::move_stock(&txn, &reserved, StockMove::Reserve).await?;
    let confirmed_ids: Vec<OrderId> = confirmed.iter().map(|(o, _)| o.id).collect();
    stock::capture_prices(&txn, &confirmed_ids).await?;
    fulfilment::write_statuses(&txn, &changes).await?;
    let events = confirmed_events(orders, &confirmed_ids);
    let outbox_ids = outbox::enqueue_many(&txn, &events).await?;
    txn.commit().await?;
    locks_released("reserve", locked, orders.len());
    for ((order, total), outbox_id) in confirmed.into_iter().zip(outbox_ids) {
        outcomes.insert(order.id, ReserveOutcome::Confirmed { total, outbox_id });
    }
    Ok(outcomes)
}

/// A batch decided: every status change, and the confirmed orders with their totals.
type Decided<'a> = (Vec<StatusChange>, Vec<(&'a Order, Money)>);

/// Decides each pending order, one after another, against the locked stock in memory: reserved whole (with
/// its total) or rejected (its reason also goes to `outcomes`); returns every status change and the confirmed
/// orders with their totals.
fn decide_reservations<'a>(
    products: &mut HashMap<domain::ProductId, domain::ProductStock>,
    pending: &'a [(Order, domain::Transition)],
    outcomes: &mut HashMap<OrderId, ReserveOutcome>,
) -> Result<Decided<'a>, DbErr> {
    let (mut changes, mut confirmed) = (Vec::new(), Vec::new());
    for (order, to_confirmed) in pending {
        let change = match domain::stock::reserve(products, &order.lines) {
            Ok(total) => {
                confirmed.push((order, total));
                StatusChange {
                    id: order.id,
                    transition: *to_confirmed,
                    detail: StatusDetail::Total(total),
                }
            }
            Err(e) => {
                let reason = e.rejection();
                outcomes.insert(order.id, ReserveOutcome::Rejected(reason));
                let transition = order
                    .status
                    .transition_to(OrderStatus::Rejected)
                    .map_err(forbidden)?;
                StatusChange {
                    id: order.id,
                    transition,
                    detail: StatusDetail::Rejected(reason),
                }
            }
        };
        changes.push(change);
    }
    Ok((changes, confirmed))
}

/// The queue 2 message of each confirmed order, with the trace context of the message that carried it in.
fn confirmed_events(
    orders: &[(OrderId, TraceContext)],
    confirmed_ids: &[OrderId],
) -> Vec<(Event, TraceContext)> {
    let trace_of = |id: OrderId| {
        orders
            .iter()
            .find(|(o, _)| *o == id)
            .map(|(_, t)| t.clone())
    };
    confirmed_ids
        .iter()
        .map(|&id| {
            (
                Event::OrderConfirmed { order_id: id },
                trace_of(id).unwrap_or_default(),
            )
        })
        .collect()
}

/// Moves the reserved quantities of each confirmed order of `ids` out of stock and marks it `fulfilled`, in
/// one transaction.
#[tracing::instrument(name = "commit stock", skip_all, fields(orders = ids.len(), db.system = "postgresql", db.operation.name = "UPDATE", db.collection.name = "product_info"))]
pub(super) async fn commit(
    conn: &DatabaseConnection,
    ids: &[OrderId],
) -> Result<HashMap<OrderId, CommitOutcome>, DbErr> {
    let txn = crate::db::begin(conn).await?;
    let mut outcomes = HashMap::new();
    let confirmed = lock_movable(
        &txn,
        ids,
        OrderStatus::Fulfilled,
        &mut outcomes,
        CommitOutcome::AlreadyHandled,
        || CommitOutcome::OrderNotFound,
    )
    .await?;
    let committed = quantities(confirmed.iter().flat_map(|(o, _)| &o.lines));
    stock::lock_products(&txn, committed.keys().copied()).await?;
    let locked = Instant::now();
    let updated = stock::move_stock(&txn, &committed, StockMove::Commit).await?;
    let changes: Vec<StatusChange> = confirmed
        .iter()
        .map(|(o, transition)| StatusChange {
            id: o.id,
            transition: *transition,
            detail: StatusDetail::None,
        })
        .collect();
    fulfilment::write_statuses(&txn, &changes).await?;
    txn.commit().await?;
    locks_released("commit", locked, ids.len());
    record_fulfilled(&mut outcomes, confirmed, &updated);
    Ok(outcomes)
}

/// Records each committed order as fulfilled in `outcomes`, with the products of its own that the batch left
/// low (`updated` is every product row the batch moved).
fn record_fulfilled(
    outcomes: &mut HashMap<OrderId, CommitOutcome>,
    confirmed: Vec<(Order, domain::Transition)>,
    updated: &[domain::ProductStock],
) {
    let low: Vec<LowStock> = updated.iter().filter_map(|p| p.low_stock()).collect();
    for (order, _) in confirmed {
        let low_stock = low
            .iter()
            .filter(|l| {
                order
                    .lines
                    .iter()
                    .any(|line| line.product_id.0 == l.product_id)
            })
            .cloned()
            .collect();
        let accepted_at = order.created_at;
        outcomes.insert(
            order.id,
            CommitOutcome::Fulfilled {
                low_stock,
                accepted_at,
            },
        );
    }
}

/// Cancels an open order and releases its reservation, if it has one. With `customer`, only that customer's
/// order is found.
#[tracing::instrument(name = "cancel order", skip_all, fields(order_id = %id, reason = reason.as_str(), db.system = "postgresql", db.operation.name = "UPDATE", db.collection.name = "orders"))]
pub(super) async fn cancel(
    conn: &DatabaseConnection,
    id: OrderId,
    customer: Option<&CustomerId>,
    reason: CancellationReason,
) -> Result<CancelOutcome, DbErr> {
    let txn = crate::db::begin(conn).await?;
    let Some(order) = fulfilment::lock_order(&txn, id, customer).await? else {
        return Ok(CancelOutcome::OrderNotFound);
    };
    if order.status == OrderStatus::Cancelled {
        return Ok(CancelOutcome::AlreadyCancelled(order));
    }
    let Ok(transition) = order.status.transition_to(OrderStatus::Cancelled) else {
        return Ok(CancelOutcome::NotCancellable(order.status));
    };
    let released = order.status.holds_reservation();
    if released {
        let held = quantities(&order.lines);
        stock::lock_products(&txn, held.keys().copied()).await?;
        stock::move_stock(&txn, &held, StockMove::Release).await?;
    }
    let change = StatusChange {
        id,
        transition,
        detail: StatusDetail::Cancelled(reason),
    };
    let at = fulfilment::write_statuses(&txn, &[change]).await?;
    txn.commit().await?;
    let order = Order {
        status: OrderStatus::Cancelled,
        cancellation_reason: Some(reason),
        updated_at: at,
        ..order
    };
    Ok(CancelOutcome::Cancelled { order, released })
}

/// How long a batch held its product locks, from taking them to the end of its commit: what a hot product's
/// throughput is bounded by (`docs/capacity.md`, flash sale).
fn locks_released(step: &'static str, locked: Instant, orders: usize) {
    let held_us = locked.elapsed().as_micros() as u64;
    tracing::debug!(step, held_us, orders, "product locks released");
}

/// A move the lifecycle forbids was attempted: a bug, never a client error.
fn forbidden(e: domain::ForbiddenMove) -> DbErr {
    DbErr::Custom(e.to_string())
}
