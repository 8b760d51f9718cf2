//! PostgreSQL through SeaORM: transaction-scoped primitives (lock, read, write, enqueue) over orders, stock and
//! the outbox, which `service/` composes and decides with. Rows become domain types here and nowhere else.

pub mod fulfilment;
pub mod maintenance;
pub mod orders;
pub mod outbox;
pub mod stock;

pub use fulfilment::{StatusChange, StatusDetail};
pub use orders::{Inserted, Keyed, OrderPage};
pub use stock::StockMove;

use chrono::Utc;
use entity::order_line;
use entity::orders as order_row;

use crate::domain::{
    CancellationReason, Currency, Money, Order, OrderId, OrderLine, OrderStatus, ProductId,
    RejectionReason,
};

/// The storage form of a status.
pub(crate) fn status_to_db(status: OrderStatus) -> order_row::OrderStatus {
    match status {
        OrderStatus::Pending => order_row::OrderStatus::Pending,
        OrderStatus::Confirmed => order_row::OrderStatus::Confirmed,
        OrderStatus::Rejected => order_row::OrderStatus::Rejected,
        OrderStatus::Fulfilled => order_row::OrderStatus::Fulfilled,
        OrderStatus::Cancelled => order_row::OrderStatus::Cancelled,
    }
}

/// The domain form of a stored status.
pub(crate) fn status_from_db(status: order_row::OrderStatus) -> OrderStatus {
    match status {
        order_row::OrderStatus::Pending => OrderStatus::Pending,
        order_row::OrderStatus::Confirmed => OrderStatus::Confirmed,
        order_row::OrderStatus::Rejected => OrderStatus::Rejected,
        order_row::OrderStatus::Fulfilled => OrderStatus::Fulfilled,
        order_row::OrderStatus::Cancelled => OrderStatus::Cancelled,
    }
}

/// A stored order and its lines (in line order) as the domain sees it. The CHECK constraints guarantee the
/// reason columns hold known values; an unknown one reads as absent rather than failing the read.
pub(crate) fn order_from_row(row: order_row::Model, lines: Vec<order_line::Model>) -> Order {
    let currency = row
        .currency
        .as_deref()
        .and_then(|c| Currency::parse(c).ok());
    let money = |minor: Option<i64>| minor.zip(currency).and_then(|(m, c)| Money::new(m, c).ok());
    Order {
        id: OrderId(row.id),
        status: status_from_db(row.status),
        lines: lines
            .into_iter()
            .map(|l| OrderLine {
                product_id: ProductId(l.product_id),
                quantity: u32::try_from(l.quantity).unwrap_or_default(),
                unit_price: money(l.unit_price_minor),
            })
            .collect(),
        total: money(row.total_minor),
        rejection_reason: row.rejection_reason.as_deref().and_then(rejection_from_db),
        cancellation_reason: row
            .cancellation_reason
            .as_deref()
            .and_then(cancellation_from_db),
        created_at: row.created_at.with_timezone(&Utc),
        updated_at: row.updated_at.with_timezone(&Utc),
    }
}

fn rejection_from_db(raw: &str) -> Option<RejectionReason> {
    serde_json::from_value(serde_json::Value::String(raw.to_owned())).ok()
}

fn cancellation_from_db(raw: &str) -> Option<CancellationReason> {
    serde_json::from_value(serde_json::Value::String(raw.to_owned())).ok()
}
