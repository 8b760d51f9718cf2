//! The API's response shapes (docs/openapi.yaml `Order`), built from domain orders.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::{
    CancellationReason, Money, Order, OrderId, OrderStatus, ProductId, RejectionReason,
};

/// An order as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrderView {
    pub id: OrderId,
    pub status: OrderStatus,
    pub items: Vec<OrderLineView>,
    pub total: Option<Money>,
    pub rejection_reason: Option<RejectionReason>,
    pub cancellation_reason: Option<CancellationReason>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One line as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrderLineView {
    pub product_id: ProductId,
    pub quantity: u32,
    /// Captured when the order is priced; `null` while pending.
    pub unit_price: Option<Money>,
}

impl From<Order> for OrderView {
    fn from(order: Order) -> Self {
        Self {
            id: order.id,
            status: order.status,
            items: order
                .lines
                .into_iter()
                .map(|l| OrderLineView {
                    product_id: l.product_id,
                    quantity: l.quantity,
                    unit_price: l.unit_price,
                })
                .collect(),
            total: order.total,
            rejection_reason: order.rejection_reason,
            cancellation_reason: order.cancellation_reason,
            created_at: order.created_at,
            updated_at: order.updated_at,
        }
    }
}

/// A page of the caller's orders.
#[derive(Serialize)]
pub struct PageView {
    pub orders: Vec<OrderView>,
    pub next_cursor: Option<String>,
}
