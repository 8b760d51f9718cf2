//! Orders: create (with its outbox row, in one transaction), read one, list one customer's orders.

use std::collections::{HashMap, HashSet};

use entity::{order_line, orders, product_info};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::status_to_db;
use crate::domain::{CustomerId, IdempotencyKey, NewOrder, Order, OrderId, OrderStatus, ProductId};
use crate::messages::{Event, TraceContext};
use crate::store::outbox;

/// What `create` did.
#[derive(Debug)]
pub enum CreateOutcome {
    /// A new order; `outbox_id` is the message announcing it, still to be published.
    Created { order: Order, outbox_id: Uuid },
    /// The same key and the same request were seen before: the original order.
    Replayed(Order),
    /// The key was used before for a different request.
    KeyReused,
    /// Some products are not in the catalogue.
    UnknownProducts(Vec<ProductId>),
}

/// A page of orders, newest first.
#[derive(Debug)]
pub struct OrderPage {
    pub orders: Vec<Order>,
    /// The last order's id when more may follow.
    pub next_after: Option<OrderId>,
}

const IDEMPOTENCY_CONSTRAINT: &str = "orders_customer_idempotency_key";

/// Stores a pending order, its lines and its `OrderCreated` outbox row in one transaction.
#[tracing::instrument(name = "INSERT orders", skip_all, fields(customer.hash = %crate::telemetry::customer_hash(customer), db.system = "postgresql", db.operation.name = "INSERT", db.collection.name = "orders"))]
pub async fn create(
    conn: &DatabaseConnection,
    customer: &CustomerId,
    key: Option<&IdempotencyKey>,
    order: &NewOrder,
    trace: &TraceContext,
) -> Result<CreateOutcome, DbErr> {
    let fingerprint = order.fingerprint();
    if let Some(key) = key
        && let Some(outcome) = replay(conn, customer, key, &fingerprint).await?
    {
        return Ok(outcome);
    }
    let missing = unknown_products(conn, order).await?;
    if !missing.is_empty() {
        return Ok(CreateOutcome::UnknownProducts(missing));
    }
    match insert(conn, customer, key, order, &fingerprint, trace).await {
        Ok(created) => Ok(created),
        // Two requests with the same key raced; the other one won. Answer as a replay of it.
        Err(e) if crate::db::violated_constraint(&e).as_deref() == Some(IDEMPOTENCY_CONSTRAINT) => {
            let key = key.expect("the idempotency constraint only fires with a key");
            replay(conn, customer, key, &fingerprint).await?.ok_or(e)
        }
        Err(e) => Err(e),
    }
}

async fn replay(
    conn: &DatabaseConnection,
    customer: &CustomerId,
    key: &IdempotencyKey,
    fingerprint: &str,
) -> Result<Option<CreateOutcome>, DbErr> {
    let existing = orders::Entity::find()
        .filter(orders::Column::CustomerId.eq(customer.as_str()))
        .filter(orders::Column::IdempotencyKey.eq(key.as_str()))
        .one(conn)
        .await?;
    let Some(existing) = existing else {
        return Ok(None);
    };
    if existing.request_hash != fingerprint {
        return Ok(Some(CreateOutcome::KeyReused));
    }
    let mut views = with_lines(conn, vec![existing]).await?;
    Ok(views.pop().map(CreateOutcome::Replayed))
}

async fn unknown_products(
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

async fn insert(
    conn: &DatabaseConnection,
    customer: &CustomerId,
    key: Option<&IdempotencyKey>,
    order: &NewOrder,
    fingerprint: &str,
    trace: &TraceContext,
) -> Result<CreateOutcome, DbErr> {
    let id = OrderId::new();
    let txn = crate::db::begin(conn).await?;
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
    .exec_with_returning(&txn)
    .await?;
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
    order_line::Entity::insert_many(lines).exec(&txn).await?;
    let outbox_id = outbox::enqueue(&txn, &Event::OrderCreated { order_id: id }, trace).await?;
    // Read back inside the transaction: nothing touches the database after the commit, so `Db::run` may
    // safely re-run this operation after a credential failure (it can only have happened before the commit).
    let order = with_lines(&txn, vec![row])
        .await?
        .pop()
        .ok_or_else(|| DbErr::RecordNotFound(id.to_string()))?;
    txn.commit().await?;
    Ok(CreateOutcome::Created { order, outbox_id })
}

/// The customer's order, or `None` (also for another customer's order: no existence oracle).
#[tracing::instrument(name = "SELECT orders", skip_all, fields(order_id = %id, db.system = "postgresql", db.operation.name = "SELECT", db.collection.name = "orders"))]
pub async fn get(
    conn: &DatabaseConnection,
    customer: &CustomerId,
    id: OrderId,
) -> Result<Option<Order>, DbErr> {
    let row = orders::Entity::find_by_id(id.0)
        .filter(orders::Column::CustomerId.eq(customer.as_str()))
        .one(conn)
        .await?;
    Ok(with_lines(conn, row.into_iter().collect()).await?.pop())
}

/// One page of the customer's orders, newest first, strictly older than `after`.
#[tracing::instrument(name = "SELECT orders", skip_all, fields(customer.hash = %crate::telemetry::customer_hash(customer), limit, db.system = "postgresql", db.operation.name = "SELECT", db.collection.name = "orders"))]
pub async fn list(
    conn: &DatabaseConnection,
    customer: &CustomerId,
    status: Option<OrderStatus>,
    after: Option<OrderId>,
    limit: u64,
) -> Result<OrderPage, DbErr> {
    let mut query = orders::Entity::find()
        .filter(orders::Column::CustomerId.eq(customer.as_str()))
        .order_by_desc(orders::Column::Id)
        .limit(limit + 1);
    if let Some(status) = status {
        query = query.filter(orders::Column::Status.eq(status_to_db(status)));
    }
    if let Some(after) = after {
        query = query.filter(orders::Column::Id.lt(after.0));
    }
    let mut rows = query.all(conn).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let orders = with_lines(conn, rows).await?;
    let next_after = more.then(|| orders.last().map(|o| o.id)).flatten();
    Ok(OrderPage { orders, next_after })
}

/// Loads the lines of `rows` in one query and assembles the views, keeping the order of `rows`.
async fn with_lines<C: ConnectionTrait>(
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
