//! Stock primitives inside the caller's transaction: lock products in a fixed order, move stock, record the
//! prices orders were confirmed at. They decide nothing.

use std::collections::{BTreeMap, HashMap};

use entity::{order_line, product_info};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::domain::{OrderId, ProductId, ProductStock};

/// Locks `products` in ascending id order (two transactions never wait on each other in a cycle) and reads
/// them. Products not in the catalogue are absent from the map.
#[tracing::instrument(name = "SELECT product_info FOR UPDATE", skip_all, fields(db.system = "postgresql", db.operation.name = "SELECT FOR UPDATE", db.collection.name = "product_info"))]
pub async fn lock_products(
    txn: &DatabaseTransaction,
    products: impl IntoIterator<Item = ProductId>,
) -> Result<HashMap<ProductId, ProductStock>, DbErr> {
    let ids: Vec<Uuid> = products.into_iter().map(|p| p.0).collect();
    Ok(product_info::Entity::find()
        .filter(product_info::Column::Id.is_in(ids))
        .order_by_asc(product_info::Column::Id)
        .lock_exclusive()
        .all(txn)
        .await?
        .into_iter()
        .map(|p| (ProductId(p.id), product_from_row(p)))
        .collect())
}

/// The three ways stock moves.
#[derive(Clone, Copy, Debug)]
pub enum StockMove {
    /// reserved += quantity
    Reserve,
    /// on_hand -= quantity, reserved -= quantity
    Commit,
    /// reserved -= quantity
    Release,
}

/// Applies `how` with each product's summed quantity (one statement per product, in id order); returns the
/// updated products. The CHECK constraints (`0 <= stock_reserved <= stock_on_hand`) are the last line of
/// defence.
#[tracing::instrument(name = "UPDATE product_info", skip_all, fields(products = quantities.len(), db.system = "postgresql", db.operation.name = "UPDATE", db.collection.name = "product_info"))]
pub async fn move_stock(
    txn: &DatabaseTransaction,
    quantities: &BTreeMap<ProductId, i32>,
    how: StockMove,
) -> Result<Vec<ProductStock>, DbErr> {
    use product_info::Column::{StockOnHand, StockReserved, UpdatedAt};
    let mut updated = Vec::with_capacity(quantities.len());
    for (product, &q) in quantities {
        let mut update = product_info::Entity::update_many()
            .col_expr(UpdatedAt, Expr::current_timestamp())
            .filter(product_info::Column::Id.eq(product.0));
        update = match how {
            StockMove::Reserve => update.col_expr(StockReserved, Expr::col(StockReserved).add(q)),
            StockMove::Release => update.col_expr(StockReserved, Expr::col(StockReserved).sub(q)),
            StockMove::Commit => update
                .col_expr(StockOnHand, Expr::col(StockOnHand).sub(q))
                .col_expr(StockReserved, Expr::col(StockReserved).sub(q)),
        };
        updated.extend(
            update
                .exec_with_returning(txn)
                .await?
                .into_iter()
                .map(product_from_row),
        );
    }
    Ok(updated)
}

/// Records on every line of `orders` the current catalogue price of its product, in one statement (the
/// caller holds the product locks, so it is the price the order was priced at).
pub async fn capture_prices(txn: &DatabaseTransaction, orders: &[OrderId]) -> Result<(), DbErr> {
    if orders.is_empty() {
        return Ok(());
    }
    let placeholders: Vec<String> = (1..=orders.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "UPDATE {lines} AS l SET unit_price_minor = p.price_minor FROM {products} AS p \
         WHERE p.id = l.product_id AND l.order_id IN ({})",
        placeholders.join(", "),
        lines = sea_orm::EntityName::table_name(&order_line::Entity),
        products = sea_orm::EntityName::table_name(&product_info::Entity),
    );
    let values = orders.iter().map(|o| o.0.into());
    txn.execute_raw(Statement::from_sql_and_values(
        txn.get_database_backend(),
        sql,
        values,
    ))
    .await?;
    Ok(())
}

fn product_from_row(p: product_info::Model) -> ProductStock {
    ProductStock {
        id: ProductId(p.id),
        sku: p.sku,
        price_minor: p.price_minor,
        currency: p.currency,
        on_hand: p.stock_on_hand,
        reserved: p.stock_reserved,
        low_stock_threshold: p.low_stock_threshold,
    }
}
