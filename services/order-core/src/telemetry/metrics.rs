//! PLACEHOLDER until the telemetry branch lands: CloudWatch EMF metrics API (names from the plan).

pub const ORDERS_ACCEPTED: &str = "OrdersAccepted";
pub const ORDERS_REJECTED: &str = "OrdersRejected";
pub const ORDERS_FULFILLED: &str = "OrdersFulfilled";
pub const ORDERS_CANCELLED: &str = "OrdersCancelled";
pub const FULFILMENT_LATENCY: &str = "FulfilmentLatency";
pub const MESSAGES_PUBLISHED: &str = "MessagesPublished";
pub const RELAY_FAILURES: &str = "RelayFailures";
pub const OUTBOX_OLDEST_AGE: &str = "OutboxOldestAgeSeconds";
pub const STALLED_ORDERS: &str = "StalledOrders";
pub const LOW_STOCK_EVENTS: &str = "LowStockEvents";

pub fn count(_name: &'static str, _value: usize) {}
pub fn count_with(_name: &'static str, _dimension: &'static str, _value: &str, _count: usize) {}
pub fn milliseconds(_name: &'static str, _ms: f64) {}
pub fn seconds(_name: &'static str, _s: f64) {}
