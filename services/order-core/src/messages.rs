//! The queue message schema, shared by producers and consumers: versioned JSON, one place.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::domain::OrderId;
use crate::topology::Queue;

/// The schema version this code writes and reads.
pub const VERSION: u32 = 1;

/// What happened, tagged by `type`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum Event {
    /// An order was accepted and waits to be priced (queue 1).
    OrderCreated { order_id: OrderId },
    /// An order's stock was reserved and awaits commitment (queue 2).
    OrderConfirmed { order_id: OrderId },
}

impl Event {
    pub fn order_id(&self) -> OrderId {
        match self {
            Self::OrderCreated { order_id } | Self::OrderConfirmed { order_id } => *order_id,
        }
    }

    /// The queue this event travels on.
    pub fn queue(&self) -> Queue {
        match self {
            Self::OrderCreated { .. } => Queue::Orders,
            Self::OrderConfirmed { .. } => Queue::Stock,
        }
    }

    /// The wire form: `{"version":1,"type":"OrderCreated","order_id":"…"}`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).expect("events serialize");
        value["version"] = VERSION.into();
        value
    }
}

/// A message body that cannot be processed, ever: retrying will not help, so it goes to the DLQ.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    #[error("message body is not valid JSON: {0}")]
    NotJson(serde_json::Error),
    #[error("unsupported message version {0:?}")]
    UnsupportedVersion(Option<u64>),
    #[error("message does not match the schema: {0}")]
    Schema(serde_json::Error),
}

/// Parses a wire message, refusing versions this code does not know.
pub fn parse(body: &str) -> Result<Event, MessageError> {
    let mut value: serde_json::Value = serde_json::from_str(body).map_err(MessageError::NotJson)?;
    let version = value.get("version").and_then(serde_json::Value::as_u64);
    if version != Some(u64::from(VERSION)) {
        return Err(MessageError::UnsupportedVersion(version));
    }
    if let Some(map) = value.as_object_mut() {
        map.remove("version");
    }
    serde_json::from_value(value).map_err(MessageError::Schema)
}

/// W3C trace context carried beside a message (`traceparent`, `tracestate`).
pub type TraceContext = HashMap<String, String>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_with_their_version() {
        let event = Event::OrderCreated {
            order_id: OrderId::new(),
        };
        let wire = event.to_json();
        assert_eq!(wire["version"], 1);
        assert_eq!(wire["type"], "OrderCreated");
        assert_eq!(parse(&wire.to_string()).unwrap(), event);
    }

    #[test]
    fn unknown_versions_and_shapes_are_refused() {
        let id = OrderId::new();
        for body in [
            "not json".to_owned(),
            format!(r#"{{"type":"OrderCreated","order_id":"{id}"}}"#),
            format!(r#"{{"version":2,"type":"OrderCreated","order_id":"{id}"}}"#),
            format!(r#"{{"version":1,"type":"OrderShipped","order_id":"{id}"}}"#),
            r#"{"version":1,"type":"OrderCreated","order_id":"nope"}"#.to_owned(),
            format!(r#"{{"version":1,"type":"OrderCreated","order_id":"{id}","extra":1}}"#),
        ] {
            assert!(parse(&body).is_err(), "{body} should be refused");
        }
    }
}
