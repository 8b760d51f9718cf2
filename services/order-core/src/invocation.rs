//! The span of one Lambda invocation, built in one place for every trigger: the `faas.*` and `cloud.*`
//! attributes every invocation has, plus empty slots the trigger's part fills (`http.*`, `messaging.*`).

use std::sync::atomic::{AtomicBool, Ordering};

use tracing::field::Empty;

/// What invoked the function (OpenTelemetry `faas.trigger`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// API Gateway: a server span.
    Http,
    /// An SQS batch: a consumer span.
    PubSub,
    /// An EventBridge schedule.
    Timer,
    /// A direct invoke (migrate-db from `terraform apply`).
    Other,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::PubSub => "pubsub",
            Self::Timer => "timer",
            Self::Other => "other",
        }
    }

    fn kind(self) -> &'static str {
        match self {
            Self::Http => "server",
            Self::PubSub => "consumer",
            Self::Timer | Self::Other => "internal",
        }
    }
}

/// The invocation span. `name` becomes the exported span name (`POST /orders`, `process-order invoke`).
pub fn span(trigger: Trigger, name: String, invocation_id: &str) -> tracing::Span {
    tracing::info_span!(
        "invocation",
        otel.name = name,
        otel.kind = trigger.kind(),
        faas.trigger = trigger.as_str(),
        faas.invocation_id = invocation_id,
        faas.coldstart = coldstart(),
        cloud.provider = "aws",
        cloud.region = region(),
        http.request.method = Empty,
        http.route = Empty,
        url.path = Empty,
        http.response.status_code = Empty,
        request_id = Empty,
        messaging.system = Empty,
        messaging.batch.message_count = Empty,
        trace_id = Empty,
        order_id = Empty,
    )
}

static COLD: AtomicBool = AtomicBool::new(true);

/// `faas.coldstart`: true for the first invocation of this execution environment only.
fn coldstart() -> bool {
    COLD.swap(false, Ordering::Relaxed)
}

fn region() -> String {
    crate::config::optional("AWS_REGION").unwrap_or_default()
}
