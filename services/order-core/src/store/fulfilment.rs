//! Order-row primitives for the lifecycle moves, inside the caller's transaction: lock orders, write a status
//! change. The moves themselves (which status, why, with which stock) are decided in `service/`.
//!
//! Lock order, kept by every move: order rows first, in ascending id order, then the products (see
//! `stock::lock_products`), also in ascending id order; two moves never wait on each other in a cycle, and a
//! delivery racing a cancel serializes on the order row and the later one sees the new status.

use chrono::{DateTime, SubsecRound, Utc};
use entity::orders;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityName, EntityTrait, QueryFilter,
    QueryOrder, QueryResult, QuerySelect, Statement, Value,
};
use uuid::Uuid;

use crate::domain::{
    CancellationReason, CustomerId, Money, Order, OrderId, RejectionReason, Transition,
};

/// Locks one order row and reads the order. With `customer`, only that customer's order is found (another
/// customer's order is as missing as an unknown one).
pub async fn lock_order(
    txn: &DatabaseTransaction,
    id: OrderId,
    customer: Option<&CustomerId>,
) -> Result<Option<Order>, DbErr> {
    let mut query = orders::Entity::find_by_id(id.0);
    if let Some(customer) = customer {
        query = query.filter(orders::Column::CustomerId.eq(customer.as_str()));
    }
    let rows = query.lock_exclusive().all(txn).await?;
    Ok(super::orders::with_lines(txn, rows).await?.pop())
}

/// Locks the rows of `ids` in ascending id order and reads the orders; unknown ids are absent.
#[tracing::instrument(name = "SELECT orders FOR UPDATE", skip_all, fields(orders = ids.len(), db.system = "postgresql", db.operation.name = "SELECT FOR UPDATE", db.collection.name = "orders"))]
pub async fn lock_orders(txn: &DatabaseTransaction, ids: &[OrderId]) -> Result<Vec<Order>, DbErr> {
    let rows = orders::Entity::find()
        .filter(orders::Column::Id.is_in(ids.iter().map(|id| id.0)))
        .order_by_asc(orders::Column::Id)
        .lock_exclusive()
        .all(txn)
        .await?;
    super::orders::with_lines(txn, rows).await
}

/// One status change to write, with what the new status records.
#[derive(Clone, Debug)]
pub struct StatusChange {
    pub id: OrderId,
    /// The move; only [`crate::domain::OrderStatus::transition_to`] makes one.
    pub transition: Transition,
    pub detail: StatusDetail,
}

/// What a status records besides itself.
#[derive(Clone, Copy, Debug)]
pub enum StatusDetail {
    None,
    /// Confirmed at this total.
    Total(Money),
    Rejected(RejectionReason),
    Cancelled(CancellationReason),
}

/// Writes `changes` in one statement and returns the time written as `updated_at`. This is the only status
/// write after an order's insert: it takes a [`Transition`] (so the lifecycle allowed the move) and updates a
/// row only if it still has the transition's `from` status; if any row did not, nothing is kept (the
/// caller's transaction fails) and the error names the order.
#[tracing::instrument(name = "UPDATE orders", skip_all, fields(orders = changes.len(), db.system = "postgresql", db.operation.name = "UPDATE", db.collection.name = "orders"))]
pub async fn write_statuses(
    txn: &DatabaseTransaction,
    changes: &[StatusChange],
) -> Result<DateTime<Utc>, DbErr> {
    // Microseconds: what the column keeps, so the caller's copy equals what a later read returns.
    let now = Utc::now().trunc_subsecs(6);
    if changes.is_empty() {
        return Ok(now);
    }
    let (sql, values) = update_statement(now, changes);
    let written = txn
        .query_all_raw(Statement::from_sql_and_values(
            txn.get_database_backend(),
            sql,
            values,
        ))
        .await?;
    if written.len() != changes.len() {
        return Err(stale_change(&written, changes));
    }
    Ok(now)
}

/// The one `UPDATE … FROM (VALUES …)` statement for `changes` and its bind values (`$1` is `now`); each row
/// updates only if the order still has its transition's `from` status.
fn update_statement(now: DateTime<Utc>, changes: &[StatusChange]) -> (String, Vec<Value>) {
    let mut values: Vec<Value> = vec![now.into()];
    let rows: Vec<String> = changes
        .iter()
        .map(|change| {
            let n = values.len();
            values.extend(change_values(change));
            format!(
                "(${}::uuid, ${}::text, ${}::text, ${}::int8, ${}::text, ${}::text, ${}::text)",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5,
                n + 6,
                n + 7
            )
        })
        .collect();
    let sql = format!(
        "UPDATE {orders} AS o SET status = v.next, updated_at = $1{details} \
         FROM (VALUES {}) AS v(id, expected, next, total_minor, currency, rejection, cancellation) \
         WHERE o.id = v.id AND o.status = v.expected RETURNING o.id",
        rows.join(", "),
        orders = orders::Entity.table_name(),
        details = detail_assignments(changes),
    );
    (sql, values)
}

/// The error for a batch in which some row was no longer in its `from` status, naming the first such order.
fn stale_change(written: &[QueryResult], changes: &[StatusChange]) -> DbErr {
    let written: Vec<Uuid> = written
        .iter()
        .filter_map(|r| r.try_get_by_index(0).ok())
        .collect();
    let stale = changes.iter().find(|c| !written.contains(&c.id.0));
    let (id, from) = stale.map_or((Uuid::nil(), ""), |c| {
        (c.id.0, c.transition.from().as_str())
    });
    DbErr::Custom(format!(
        "order {id} is no longer {from}: a status change without the order's lock"
    ))
}

/// The detail columns these changes set, and only those: each function's role may update exactly the columns
/// its moves write (`migration::FUNCTION_ROLES`), so update-stock, which records no detail, assigns none.
fn detail_assignments(changes: &[StatusChange]) -> String {
    let sets = |wanted: fn(&StatusDetail) -> bool| changes.iter().any(|c| wanted(&c.detail));
    let mut assignments = String::new();
    if sets(|d| matches!(d, StatusDetail::Total(_))) {
        assignments.push_str(
            ", total_minor = COALESCE(v.total_minor, o.total_minor), currency = COALESCE(v.currency, o.currency)",
        );
    }
    if sets(|d| matches!(d, StatusDetail::Rejected(_))) {
        assignments.push_str(", rejection_reason = COALESCE(v.rejection, o.rejection_reason)");
    }
    if sets(|d| matches!(d, StatusDetail::Cancelled(_))) {
        assignments
            .push_str(", cancellation_reason = COALESCE(v.cancellation, o.cancellation_reason)");
    }
    assignments
}

fn change_values(change: &StatusChange) -> [Value; 7] {
    let (mut total, mut currency, mut rejection, mut cancellation) = (None, None, None, None);
    match change.detail {
        StatusDetail::None => {}
        StatusDetail::Total(money) => {
            total = Some(money.amount_minor);
            currency = Some(money.currency.to_string());
        }
        StatusDetail::Rejected(reason) => rejection = Some(reason.as_str().to_owned()),
        StatusDetail::Cancelled(reason) => cancellation = Some(reason.as_str().to_owned()),
    }
    [
        change.id.0.into(),
        change.transition.from().as_str().into(),
        change.transition.to().as_str().into(),
        total.into(),
        currency.into(),
        rejection.into(),
        cancellation.into(),
    ]
}

#[cfg(test)]
mod tests {
    /// Every status change goes through [`super::write_statuses`], which takes a `Transition`: no other code
    /// writes the status column (the insert of a new, `pending` order aside). Fails when one does.
    #[test]
    fn no_code_but_the_status_write_changes_an_order_status() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut writers = Vec::new();
        let mut dirs = vec![src.clone()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().map(Result::unwrap) {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                let patterns = ["status: Set(", "Column::Status, ", "SET status"];
                for (n, line) in code.lines().enumerate() {
                    if patterns.iter().any(|p| line.contains(p)) {
                        let file = path.strip_prefix(&src).unwrap().display().to_string();
                        writers.push(format!("{file}:{}: {}", n + 1, line.trim()));
                    }
                }
            }
        }
        writers.sort();
        assert_eq!(
            writers.len(),
            2,
            "status writes outside store/fulfilment.rs write_statuses: {writers:#?}"
        );
        assert!(
            writers[0].starts_with("store/fulfilment.rs:"),
            "{writers:#?}"
        );
        assert!(
            writers[1].starts_with("store/orders.rs:")
                && writers[1].contains("OrderStatus::Pending"),
            "{writers:#?}"
        );
    }
}
