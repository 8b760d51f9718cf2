//! Business metrics as CloudWatch Embedded Metric Format (EMF) records: one JSON object per line on stdout,
//! beside the JSON logs; CloudWatch Logs turns them into metrics, so emitting one costs no API call.
//!
//! Namespace `OrderBackend`, dimensions `Service` = `order-backend` and `Function` = the function name (set by
//! [`init`], which `telemetry::init` calls), plus one optional dimension per record (`Reason`, `Path`).
//! The names and units are the session plan's table; [`DOCUMENTED`] lists them for tests and dashboards.

use std::io::Write;
use std::sync::{Mutex, OnceLock};

use serde_json::{Map, Value, json};

/// The one namespace of every metric.
pub const NAMESPACE: &str = "OrderBackend";
/// The `Service` dimension's value.
pub const SERVICE: &str = "order-backend";

pub const ORDERS_ACCEPTED: &str = "OrdersAccepted";
pub const ORDERS_REJECTED: &str = "OrdersRejected";
pub const ORDERS_FULFILLED: &str = "OrdersFulfilled";
pub const ORDERS_CANCELLED: &str = "OrdersCancelled";
pub const FULFILMENT_LATENCY: &str = "FulfilmentLatency";
pub const MESSAGES_PUBLISHED: &str = "MessagesPublished";
pub const RELAY_FAILURES: &str = "RelayFailures";
pub const OUTBOX_OLDEST_AGE_SECONDS: &str = "OutboxOldestAgeSeconds";
pub const STALLED_ORDERS: &str = "StalledOrders";
pub const LOW_STOCK_EVENTS: &str = "LowStockEvents";
/// Unpublished outbox rows that failed at least five times (a row the relay keeps backing off).
pub const OUTBOX_STUCK_ROWS: &str = "OutboxStuckRows";

/// The extra dimension of `OrdersRejected` and `OrdersCancelled` (`out_of_stock`, `customer`, `expired`, …).
pub const REASON: &str = "Reason";
/// The extra dimension of `MessagesPublished`: `create-order`, `process-order` or `relay`.
pub const PATH: &str = "Path";

/// A CloudWatch unit (only those the metrics use).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
    Seconds,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Count => "Count",
            Self::Milliseconds => "Milliseconds",
            Self::Seconds => "Seconds",
        }
    }
}

/// Every documented metric: name, unit and extra dimension.
pub const DOCUMENTED: [(&str, Unit, Option<&str>); 11] = [
    (ORDERS_ACCEPTED, Unit::Count, None),
    (ORDERS_REJECTED, Unit::Count, Some(REASON)),
    (ORDERS_FULFILLED, Unit::Count, None),
    (ORDERS_CANCELLED, Unit::Count, Some(REASON)),
    (FULFILMENT_LATENCY, Unit::Milliseconds, None),
    (MESSAGES_PUBLISHED, Unit::Count, Some(PATH)),
    (RELAY_FAILURES, Unit::Count, None),
    (OUTBOX_OLDEST_AGE_SECONDS, Unit::Seconds, None),
    (STALLED_ORDERS, Unit::Count, None),
    (LOW_STOCK_EVENTS, Unit::Count, None),
    (OUTBOX_STUCK_ROWS, Unit::Count, None),
];

static FUNCTION: OnceLock<String> = OnceLock::new();
/// Records kept in-process instead of printed, while a test captures them.
static CAPTURED: Mutex<Option<Vec<Value>>> = Mutex::new(None);

/// Names the `Function` dimension (the first call wins). Without it, `AWS_LAMBDA_FUNCTION_NAME` is used.
pub fn init(function: &str) {
    let _ = FUNCTION.set(function.to_owned());
}

fn function() -> &'static str {
    FUNCTION.get_or_init(|| {
        crate::config::optional("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|| "unknown".into())
    })
}

/// Adds `value` to a `Count` metric.
pub fn count(name: &str, value: u64) {
    emit(name, Unit::Count, value as f64, None);
}

/// Adds `value` to a `Count` metric with one more dimension, e.g. `(REASON, "out_of_stock")`.
pub fn count_with(name: &str, dimension: &str, dimension_value: &str, value: u64) {
    emit(
        name,
        Unit::Count,
        value as f64,
        Some((dimension, dimension_value)),
    );
}

/// Records a duration in milliseconds.
pub fn milliseconds(name: &str, ms: f64) {
    emit(name, Unit::Milliseconds, ms, None);
}

/// Records a value in seconds (a gauge such as the oldest outbox row's age).
pub fn seconds(name: &str, s: f64) {
    emit(name, Unit::Seconds, s, None);
}

/// Writes one record: to stdout in one write, or to the capture while a test holds one.
pub fn emit(name: &str, unit: Unit, value: f64, extra: Option<(&str, &str)>) {
    if !value.is_finite() {
        return; // EMF values are numbers; JSON has no NaN or infinity
    }
    let record = record(name, unit, value, extra, function(), now_ms());
    if let Ok(mut captured) = CAPTURED.lock()
        && let Some(records) = captured.as_mut()
    {
        records.push(record);
        return;
    }
    let mut line = record.to_string();
    line.push('\n');
    let _ = std::io::stdout().lock().write_all(line.as_bytes());
}

/// The EMF record of one value.
pub fn record(
    name: &str,
    unit: Unit,
    value: f64,
    extra: Option<(&str, &str)>,
    function: &str,
    timestamp_ms: u64,
) -> Value {
    let mut dimensions = vec!["Service", "Function"];
    let mut members = Map::new();
    members.insert("Service".into(), SERVICE.into());
    members.insert("Function".into(), function.into());
    if let Some((dimension, dimension_value)) = extra {
        dimensions.push(dimension);
        members.insert(dimension.into(), dimension_value.into());
    }
    // Whole numbers stay integers in the JSON (`1`, not `1.0`).
    let number = if value.fract() == 0.0 && value.abs() < 9e15 {
        json!(value as i64)
    } else {
        json!(value)
    };
    members.insert(name.into(), number);
    members.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [dimensions],
                "Metrics": [{"Name": name, "Unit": unit.as_str()}],
            }],
        }),
    );
    Value::Object(members)
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Test support: from now on, records are kept in this process instead of printed.
pub fn capture() {
    if let Ok(mut captured) = CAPTURED.lock() {
        captured.get_or_insert_with(Vec::new);
    }
}

/// Test support: the records captured so far (and clears them).
pub fn take_captured() -> Vec<Value> {
    CAPTURED
        .lock()
        .map(|mut c| c.as_mut().map(std::mem::take).unwrap_or_default())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
