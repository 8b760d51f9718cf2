//! Reserving and committing stock for an order, each in one transaction, idempotent under redelivery.
//!
//! Both steps lock the order row first (two deliveries of one message serialize there, and the second sees the
//! new status), then the products in ascending id order (two orders never wait on each other in a cycle).

use std::collections::HashMap;

use entity::{order_line, orders, product_info};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::domain::{Currency, Money, OrderId, OrderStatus, RejectionReason};
use crate::messages::{Event, TraceContext};
use crate::store::outbox;

/// What reserving did.
#[derive(Debug, PartialEq, Eq)]
pub enum ReserveOutcome {
    /// Stock reserved, prices captured; `outbox_id` is the queue 2 message.
    Confirmed {
        total: Money,
        outbox_id: Uuid,
    },
    Rejected(RejectionReason),
    /// The order had already left `pending`: a duplicate delivery.
    AlreadyProcessed(OrderStatus),
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
    Fulfilled {
        low_stock: Vec<LowStock>,
    },
    /// The order is not `confirmed` (already fulfilled, or never confirmed): nothing to move.
    NothingToDo(OrderStatus),
    OrderNotFound,
}

async fn lock_order(
    txn: &DatabaseTransaction,
    id: OrderId,
) -> Result<Option<orders::Model>, DbErr> {
    orders::Entity::find_by_id(id.0)
        .lock_exclusive()
        .one(txn)
        .await
}

async fn lines_of(txn: &DatabaseTransaction, id: OrderId) -> Result<Vec<order_line::Model>, DbErr> {
    order_line::Entity::find()
        .filter(order_line::Column::OrderId.eq(id.0))
        .order_by_asc(order_line::Column::LineNo)
        .all(txn)
        .await
}

/// Locks the products of `lines` in ascending id order.
async fn lock_products(
    txn: &DatabaseTransaction,
    lines: &[order_line::Model],
) -> Result<HashMap<Uuid, product_info::Model>, DbErr> {
    let ids: Vec<Uuid> = lines.iter().map(|l| l.product_id).collect();
    Ok(product_info::Entity::find()
        .filter(product_info::Column::Id.is_in(ids))
        .order_by_asc(product_info::Column::Id)
        .lock_exclusive()
        .all(txn)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect())
}

/// Prices the order and reserves its stock, or rejects it; writes the queue 2 message on confirmation.
#[tracing::instrument(name = "reserve stock", skip_all, fields(order_id = %id, db.system = "postgresql", db.operation.name = "UPDATE", db.collection.name = "product_info"))]
pub async fn reserve(
    conn: &DatabaseConnection,
    id: OrderId,
    trace: &TraceContext,
) -> Result<ReserveOutcome, DbErr> {
    let txn = conn.begin().await?;
    let Some(order) = lock_order(&txn, id).await? else {
        return Ok(ReserveOutcome::OrderNotFound);
    };
    if order.status != OrderStatus::Pending {
        return Ok(ReserveOutcome::AlreadyProcessed(order.status));
    }
    let lines = lines_of(&txn, id).await?;
    let products = lock_products(&txn, &lines).await?;
    let outcome = match price(&lines, &products) {
        Err(reason) => {
            set_status(&txn, id, OrderStatus::Rejected, None, Some(reason)).await?;
            ReserveOutcome::Rejected(reason)
        }
        Ok(total) => {
            for line in &lines {
                product_info::Entity::update_many()
                    .col_expr(
                        product_info::Column::StockReserved,
                        Expr::col(product_info::Column::StockReserved).add(line.quantity),
                    )
                    .col_expr(product_info::Column::UpdatedAt, Expr::current_timestamp())
                    .filter(product_info::Column::Id.eq(line.product_id))
                    .exec(&txn)
                    .await?;
                order_line::Entity::update(order_line::ActiveModel {
                    order_id: Set(line.order_id),
                    line_no: Set(line.line_no),
                    unit_price_minor: Set(Some(products[&line.product_id].price_minor)),
                    ..Default::default()
                })
                .exec(&txn)
                .await?;
            }
            set_status(&txn, id, OrderStatus::Confirmed, Some(total), None).await?;
            let outbox_id =
                outbox::enqueue(&txn, &Event::OrderConfirmed { order_id: id }, trace).await?;
            ReserveOutcome::Confirmed { total, outbox_id }
        }
    };
    txn.commit().await?;
    Ok(outcome)
}

/// The order's total at current prices, or why it cannot be confirmed.
fn price(
    lines: &[order_line::Model],
    products: &HashMap<Uuid, product_info::Model>,
) -> Result<Money, RejectionReason> {
    let mut total: Option<Money> = None;
    let mut short = false;
    for line in lines {
        let product = products
            .get(&line.product_id)
            .ok_or(RejectionReason::UnknownProduct)?;
        let currency =
            Currency::parse(&product.currency).map_err(|_| RejectionReason::CurrencyMismatch)?;
        let unit = Money::new(product.price_minor, currency)
            .map_err(|_| RejectionReason::CurrencyMismatch)?;
        let amount = unit
            .times(line.quantity as u32)
            .map_err(|_| RejectionReason::CurrencyMismatch)?;
        total = Some(match total {
            None => amount,
            Some(t) => t
                .plus(amount)
                .map_err(|_| RejectionReason::CurrencyMismatch)?,
        });
        short |= product.stock_on_hand - product.stock_reserved < line.quantity;
    }
    if short {
        return Err(RejectionReason::OutOfStock);
    }
    total.ok_or(RejectionReason::UnknownProduct)
}

async fn set_status(
    txn: &DatabaseTransaction,
    id: OrderId,
    status: OrderStatus,
    total: Option<Money>,
    reason: Option<RejectionReason>,
) -> Result<(), DbErr> {
    orders::Entity::update(orders::ActiveModel {
        id: Set(id.0),
        status: Set(status),
        total_minor: Set(total.map(|t| t.amount_minor)),
        currency: Set(total.map(|t| t.currency.to_string())),
        rejection_reason: Set(reason.map(|r| r.as_str().to_owned())),
        updated_at: Set(chrono::Utc::now().into()),
        ..Default::default()
    })
    .exec(txn)
    .await?;
    Ok(())
}

/// Moves the reserved quantities out of stock and marks the order `fulfilled`.
#[tracing::instrument(name = "commit stock", skip_all, fields(order_id = %id, db.system = "postgresql", db.operation.name = "UPDATE", db.collection.name = "product_info"))]
pub async fn commit(conn: &DatabaseConnection, id: OrderId) -> Result<CommitOutcome, DbErr> {
    let txn = conn.begin().await?;
    let Some(order) = lock_order(&txn, id).await? else {
        return Ok(CommitOutcome::OrderNotFound);
    };
    if order.status != OrderStatus::Confirmed {
        return Ok(CommitOutcome::NothingToDo(order.status));
    }
    let lines = lines_of(&txn, id).await?;
    lock_products(&txn, &lines).await?;
    let mut low_stock = Vec::new();
    for line in &lines {
        let updated = product_info::Entity::update_many()
            .col_expr(
                product_info::Column::StockOnHand,
                Expr::col(product_info::Column::StockOnHand).sub(line.quantity),
            )
            .col_expr(
                product_info::Column::StockReserved,
                Expr::col(product_info::Column::StockReserved).sub(line.quantity),
            )
            .col_expr(product_info::Column::UpdatedAt, Expr::current_timestamp())
            .filter(product_info::Column::Id.eq(line.product_id))
            .exec_with_returning(&txn)
            .await?;
        for p in updated {
            let available = p.stock_on_hand - p.stock_reserved;
            if available < p.low_stock_threshold {
                low_stock.push(LowStock {
                    product_id: p.id,
                    sku: p.sku,
                    available,
                    threshold: p.low_stock_threshold,
                });
            }
        }
    }
    orders::Entity::update(orders::ActiveModel {
        id: Set(id.0),
        status: Set(OrderStatus::Fulfilled),
        updated_at: Set(chrono::Utc::now().into()),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    txn.commit().await?;
    Ok(CommitOutcome::Fulfilled { low_stock })
}
