//! Orders: insert one (inside the caller's transaction), find one by idempotency key, check products exist,
//! read one, list one customer's orders.

use std::collections::{HashMap, HashSet};

use entity::{order_line, orders, product_info};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use uuid::Uuid;

use super::status_to_db;
use crate::domain::{CustomerId, IdempotencyKey, NewOrder, Order, OrderId, OrderStatus, ProductId};

/// What inserting an order did.
#[derive(Debug)]
pub enum Inserted {
    /// The order, read back inside the transaction (nothing need touch the database after the commit).
    Created(Order),
    /// The customer already has an order under this idempotency key (a racing request inserted it first);
    /// the transaction is aborted.
    KeyTaken,
}

/// An order found by its idempotency key, with the fingerprint of the request that created it.
#[derive(Debug)]
pub struct Keyed {
    pub order: Order,
    pub fingerprint: String,
}

/// A page of orders, newest first.
#[derive(Debug)]
pub struct OrderPage {
    pub orders: Vec<Order>,
    /// The last order's id when more may follow.
    pub next_after: Option<OrderId>,
}

const IDEMPOTENCY_CONSTRAINT: &str = "orders_customer_idempotency_key";

/// The customer's order created under `key`, if any.
pub async fn find_by_key(
    conn: &DatabaseConnection,
    customer: &CustomerId,
    key: &IdempotencyKey,
) -> Result<Option<Keyed>, DbErr> {
    let existing = orders::Entity::find()
        .filter(orders::Column::CustomerId.eq(customer.as_str()))
        .filter(orders::Column::IdempotencyKey.eq(key.as_str()))
        .one(conn)
        .await?;
    let Some(existing) = existing else {
        return Ok(None);
    };
    let fingerprint = existing.request_hash.clone();
    let order = with_lines(conn, vec![existing]).await?.pop();
    Ok(order.map(|order| Keyed { order, fingerprint }))
}

/// The products of `order` that are not in the catalogue.
pub async fn unknown_products(
    conn: &DatabaseConnection,
    order: &NewOrder,
) -> Result<Vec<ProductId>, DbErr> {
    let wanted: Vec<Uuid> = order.lines().iter().map(|l| l.product_id.0).collect();
    let known: HashSet<Uuid> = product_info::Entity::find()
        .select_only()
        .column(product_info::Column::Id)
        .filter(product_info::Column::Id.is_in(wanted.clone()))
        .into_tuple::<Uuid>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    Ok(wanted
        .into_iter()
        .filter(|id| !known.contains(id))
        .map(ProductId)
        .collect())
}

/// Inserts a pending order and its lines inside the caller's transaction.
#[tracing::instrument(name = "INSERT orders", skip_all, fields(customer.hash = %crate::telemetry::customer_hash(customer), db.system = "postgresql", db.operation.name = "INSERT", db.collection.name = "orders"))]
pub async fn insert(
    txn: &DatabaseTransaction,
    customer: &CustomerId,
    key: Option<&IdempotencyKey>,
    order: &NewOrder,
    fingerprint: &str,
) -> Result<Inserted, DbErr> {
    let id = OrderId::new();
    let row = orders::Entity::insert(orders::ActiveModel {
        id: Set(id.0),
        customer_id: Set(customer.as_str().to_owned()),
        status: Set(status_to_db(OrderStatus::Pending)),
        total_minor: Set(None),
        currency: Set(None),
        rejection_reason: Set(None),
        cancellation_reason: Set(None),
        idempotency_key: Set(key.map(|k| k.as_str().to_owned())),
        request_hash: Set(fingerprint.to_owned()),
        created_at: NotSet,
        updated_at: NotSet,
    })
    .exec_with_returning(txn)
    .await;
    let row = match row {
        Ok(row) => row,
        Err(e) if crate::db::violated_constraint(&e).as_deref() == Some(IDEMPOTENCY_CONSTRAINT) => {
            return Ok(Inserted::KeyTaken);
        }
        Err(e) => return Err(e),
    };
    let lines: Vec<order_line::ActiveModel> = order
        .lines()
        .iter()
        .zip(1..)
        .map(|(line, line_no)| order_line::ActiveModel {
            order_id: Set(id.0),
            line_no: Set(line_no),
            product_id: Set(line.product_id.0),
            quantity: Set(line.quantity.get() as i32),
            unit_price_minor: Set(None),
        })
        .collect();
    order_line::Entity::insert_many(lines).exec(txn).await?;
    let order = with_lines(txn, vec![row])
        .await?
        .pop()
        .ok_or_else(|| DbErr::RecordNotFound(id.to_string()))?;
    Ok(Inserted::Created(order))
}

/// The customer's order, or `None` (also for another customer's order: no existence oracle). One statement:
/// the order joined to its lines.
#[tracing::instrument(name = "SELECT orders", skip_all, fields(order_id = %id, db.system = "postgresql", db.operation.name = "SELECT", db.collection.name = "orders"))]
pub async fn get(
    conn: &DatabaseConnection,
    customer: &CustomerId,
    id: OrderId,
) -> Result<Option<Order>, DbErr> {
    let query =
        orders::Entity::find_by_id(id.0).filter(orders::Column::CustomerId.eq(customer.as_str()));
    Ok(joined_with_lines(conn, query).await?.pop())
}

/// One page of the customer's orders, newest first, strictly older than `after`. One statement: the page's ids
/// (a subquery on the `(customer_id, id DESC)` index, one more than `limit` to tell whether more follow),
/// joined to the orders and their lines.
#[tracing::instrument(name = "SELECT orders", skip_all, fields(customer.hash = %crate::telemetry::customer_hash(customer), limit, db.system = "postgresql", db.operation.name = "SELECT", db.collection.name = "orders"))]
pub async fn list(
    conn: &DatabaseConnection,
    customer: &CustomerId,
    status: Option<OrderStatus>,
    after: Option<OrderId>,
    limit: u64,
) -> Result<OrderPage, DbErr> {
    let mut page = orders::Entity::find()
        .select_only()
        .column(orders::Column::Id)
        .filter(orders::Column::CustomerId.eq(customer.as_str()))
        .order_by_desc(orders::Column::Id)
        .limit(limit + 1);
    if let Some(status) = status {
        page = page.filter(orders::Column::Status.eq(status_to_db(status)));
    }
    if let Some(after) = after {
        page = page.filter(orders::Column::Id.lt(after.0));
    }
    let query = orders::Entity::find()
        .filter(orders::Column::Id.in_subquery(page.into_query()))
        .order_by_desc(orders::Column::Id);
    let mut orders = joined_with_lines(conn, query).await?;
    let more = orders.len() as u64 > limit;
    orders.truncate(limit as usize);
    let next_after = more.then(|| orders.last().map(|o| o.id)).flatten();
    Ok(OrderPage { orders, next_after })
}

/// Runs `query` joined to the lines (a LEFT JOIN, lines in `line_no` order) and assembles the orders, keeping
/// the query's order: one statement, one round trip, where a second query for the lines costs another round
/// trip and another pooled connection (each checked out and back with its own ping).
async fn joined_with_lines(
    conn: &DatabaseConnection,
    query: sea_orm::Select<orders::Entity>,
) -> Result<Vec<Order>, DbErr> {
    let rows = query
        .find_also_related(order_line::Entity)
        .order_by_asc(order_line::Column::LineNo)
        .all(conn)
        .await?;
    let mut assembled: Vec<(orders::Model, Vec<order_line::Model>)> = Vec::new();
    for (order, line) in rows {
        match assembled.last_mut() {
            Some((last, lines)) if last.id == order.id => lines.extend(line),
            _ => assembled.push((order, line.into_iter().collect())),
        }
    }
    Ok(assembled
        .into_iter()
        .map(|(row, lines)| super::order_from_row(row, lines))
        .collect())
}

/// Loads the lines of `rows` in one query and assembles the views, keeping the order of `rows`.
pub(super) async fn with_lines<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<orders::Model>,
) -> Result<Vec<Order>, DbErr> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut lines: HashMap<Uuid, Vec<order_line::Model>> = HashMap::new();
    for line in order_line::Entity::find()
        .filter(order_line::Column::OrderId.is_in(ids))
        .order_by_asc(order_line::Column::OrderId)
        .order_by_asc(order_line::Column::LineNo)
        .all(conn)
        .await?
    {
        lines.entry(line.order_id).or_default().push(line);
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let own_lines = lines.remove(&row.id).unwrap_or_default();
            super::order_from_row(row, own_lines)
        })
        .collect())
}
