//! Stock movements for an order's lines: locking the products in a fixed order, quoting them for pricing,
//! and the three ways reserved and on-hand stock move.

use std::collections::HashMap;

use entity::{order_line, product_info};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::fulfilment::LowStock;
use crate::domain::pricing::{LineQuote, ProductQuote};

/// Locks the products of `lines` in ascending id order.
pub(super) async fn lock_products(
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

pub(super) fn quotes(
    lines: &[order_line::Model],
    products: &HashMap<Uuid, product_info::Model>,
) -> Vec<LineQuote> {
    lines
        .iter()
        .map(|line| LineQuote {
            quantity: u32::try_from(line.quantity).unwrap_or(u32::MAX),
            product: products.get(&line.product_id).map(|p| ProductQuote {
                price_minor: p.price_minor,
                currency: p.currency.clone(),
                available: i64::from(p.stock_on_hand) - i64::from(p.stock_reserved),
            }),
        })
        .collect()
}

/// The three ways stock moves for an order's lines.
#[derive(Clone, Copy)]
pub(super) enum StockMove {
    /// reserved += quantity
    Reserve,
    /// on_hand -= quantity, reserved -= quantity
    Commit,
    /// reserved -= quantity
    Release,
}

/// Applies `how` to every line's product; returns the updated products.
pub(super) async fn adjust_stock(
    txn: &DatabaseTransaction,
    lines: &[order_line::Model],
    how: StockMove,
) -> Result<Vec<product_info::Model>, DbErr> {
    use product_info::Column::{StockOnHand, StockReserved, UpdatedAt};
    let mut updated = Vec::with_capacity(lines.len());
    for line in lines {
        let q = line.quantity;
        let mut update = product_info::Entity::update_many()
            .col_expr(UpdatedAt, Expr::current_timestamp())
            .filter(product_info::Column::Id.eq(line.product_id));
        update = match how {
            StockMove::Reserve => update.col_expr(StockReserved, Expr::col(StockReserved).add(q)),
            StockMove::Release => update.col_expr(StockReserved, Expr::col(StockReserved).sub(q)),
            StockMove::Commit => update
                .col_expr(StockOnHand, Expr::col(StockOnHand).sub(q))
                .col_expr(StockReserved, Expr::col(StockReserved).sub(q)),
        };
        updated.extend(update.exec_with_returning(txn).await?);
    }
    Ok(updated)
}

/// Records the unit price each line was confirmed at.
pub(super) async fn capture_prices(
    txn: &DatabaseTransaction,
    lines: &[order_line::Model],
    products: &HashMap<Uuid, product_info::Model>,
) -> Result<(), DbErr> {
    for line in lines {
        order_line::Entity::update(order_line::ActiveModel {
            order_id: Set(line.order_id),
            line_no: Set(line.line_no),
            unit_price_minor: Set(products.get(&line.product_id).map(|p| p.price_minor)),
            ..Default::default()
        })
        .exec(txn)
        .await?;
    }
    Ok(())
}

pub(super) fn low_stock(p: product_info::Model) -> Option<LowStock> {
    let available = p.stock_on_hand - p.stock_reserved;
    (available < p.low_stock_threshold).then_some(LowStock {
        product_id: p.id,
        sku: p.sku,
        available,
        threshold: p.low_stock_threshold,
    })
}
