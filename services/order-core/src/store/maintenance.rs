//! What the relay's scheduled run reads besides the outbox: orders to expire, and the two stall gauges.

use std::time::Duration;

use entity::{orders, outbox};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityName, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};
use uuid::Uuid;

use super::status_to_db;
use crate::domain::{OrderId, OrderStatus};

/// Open ([`OrderStatus::is_open`]) orders created more than `older_than` ago, oldest first, at most `limit`.
pub async fn open_orders_older_than(
    conn: &DatabaseConnection,
    older_than: Duration,
    limit: u64,
) -> Result<Vec<OrderId>, DbErr> {
    let open = OrderStatus::ALL
        .into_iter()
        .filter(|s| s.is_open())
        .map(status_to_db);
    Ok(orders::Entity::find()
        .select_only()
        .column(orders::Column::Id)
        .filter(orders::Column::Status.is_in(open))
        .filter(created_before(older_than))
        .order_by_asc(orders::Column::CreatedAt)
        .limit(limit)
        .into_tuple::<Uuid>()
        .all(conn)
        .await?
        .into_iter()
        .map(OrderId)
        .collect())
}

/// The gauges the stall alarms watch.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StallGauges {
    /// Age of the oldest unpublished outbox row, 0 when the outbox is drained.
    pub oldest_unpublished_seconds: f64,
    /// Orders still `pending`/`confirmed` after the stall threshold.
    pub stalled_orders: u64,
    /// Unpublished outbox rows that failed at least [`crate::store::outbox::STUCK_AFTER_ATTEMPTS`] times.
    pub stuck_outbox_rows: u64,
}

#[derive(FromQueryResult)]
struct GaugeRow {
    oldest: Option<f64>,
    stalled: i64,
    stuck: i64,
}

/// Reads both gauges in one round trip; both scans use partial indexes on the open rows.
pub async fn stall_gauges(
    conn: &DatabaseConnection,
    stall_after: Duration,
) -> Result<StallGauges, DbErr> {
    let sql = format!(
        "SELECT \
           (SELECT EXTRACT(EPOCH FROM now() - min(created_at))::float8 FROM {outbox} WHERE published_at IS NULL) AS oldest, \
           (SELECT count(*) FROM {orders} WHERE status IN ({open}) \
              AND created_at < now() - make_interval(secs => $1)) AS stalled, \
           (SELECT count(*) FROM {outbox} WHERE published_at IS NULL AND attempts >= $2) AS stuck",
        outbox = outbox::Entity.table_name(),
        orders = orders::Entity.table_name(),
        open = open_statuses_sql(),
    );
    let stmt = Statement::from_sql_and_values(
        conn.get_database_backend(),
        sql,
        [
            stall_after.as_secs_f64().into(),
            crate::store::outbox::STUCK_AFTER_ATTEMPTS.into(),
        ],
    );
    let row = GaugeRow::find_by_statement(stmt)
        .one(conn)
        .await?
        .unwrap_or(GaugeRow {
            oldest: None,
            stalled: 0,
            stuck: 0,
        });
    Ok(StallGauges {
        oldest_unpublished_seconds: row.oldest.unwrap_or(0.0).max(0.0),
        stalled_orders: u64::try_from(row.stalled).unwrap_or(0),
        stuck_outbox_rows: u64::try_from(row.stuck).unwrap_or(0),
    })
}

/// The open statuses as an SQL list (`'pending', 'confirmed'`): constants, as the partial indexes on the open
/// rows spell them, so the planner can use them.
fn open_statuses_sql() -> String {
    let open: Vec<String> = OrderStatus::ALL
        .into_iter()
        .filter(|s| s.is_open())
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    open.join(", ")
}

fn created_before(age: Duration) -> sea_orm::sea_query::SimpleExpr {
    sea_orm::sea_query::Expr::cust_with_values(
        "created_at < now() - make_interval(secs => $1)",
        [age.as_secs_f64()],
    )
}
