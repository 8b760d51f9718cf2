//! SQS batch handling: one span per message, per-message failures, panics caught per message.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures::FutureExt;
use opentelemetry::trace::TraceContextExt;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::messages::{self, Event};
use crate::service::ServiceError;
use crate::telemetry;
use crate::topology::Queue;

/// Why a queue message failed. Either way it is reported in `batchItemFailures`: transient failures succeed on
/// redelivery, permanent ones reach the DLQ after `maxReceiveCount`. Nothing is acknowledged that was not done.
#[derive(Debug, thiserror::Error)]
pub enum MessageFailure {
    #[error("permanent: {0}")]
    Permanent(String),
    #[error("transient: {0}")]
    Transient(String),
}

impl From<ServiceError> for MessageFailure {
    fn from(err: ServiceError) -> Self {
        let transient = err.is_transient();
        let text = format!("{:#}", anyhow::Error::from(err));
        if transient {
            Self::Transient(text)
        } else {
            Self::Permanent(text)
        }
    }
}

/// Runs `handler` for each message and reports the ones that did not succeed, so SQS redelivers them (and
/// dead-letters them after `maxReceiveCount`). Messages are handled one after another: one Lambda environment
/// holds a pool of two connections. The handlers see the whole batch ([`crate::service::batch`]), so the
/// use cases may move all its orders in one transaction; each message is still reported on its own.
pub async fn handle_batch<F, Fut>(
    queue: Queue,
    event: SqsEvent,
    batch_span: &tracing::Span,
    handler: F,
) -> SqsBatchResponse
where
    F: Fn(Event) -> Fut,
    Fut: Future<Output = Result<(), ServiceError>>,
{
    let mut response = SqsBatchResponse::default();
    // Every message's span first: the batch's transaction writes each order's outbox row in the trace of the
    // message that carried it.
    let messages: Vec<_> = event
        .records
        .into_iter()
        .map(|record| {
            let message_id = record.message_id.clone().unwrap_or_default();
            let span = message_span(queue, &message_id, &record, batch_span);
            let parsed = messages::parse(record.body.as_deref().unwrap_or_default());
            (message_id, span, parsed)
        })
        .collect();
    let batch = messages
        .iter()
        .filter_map(|(_, span, parsed)| {
            let event = parsed.as_ref().ok()?.clone();
            Some((event, telemetry::span_trace_context(span)))
        })
        .collect();
    let handling = async {
        for (message_id, span, parsed) in messages {
            let outcome = handle_message(parsed, &handler)
                .instrument(span.clone())
                .await;
            if let Err(failure) = outcome {
                span.in_scope(
                    || tracing::error!(error = %failure, "message failed; SQS will redeliver it"),
                );
                let mut item = BatchItemFailure::default();
                item.item_identifier = message_id;
                response.batch_item_failures.push(item);
            }
        }
    };
    // Boxed: without it the futures nest too deep for the compiler's layout query in a consumer's main.
    crate::service::batch::scope(batch, Box::pin(handling)).await;
    response
}

/// The consumer span of one message: a child of its producer, which the batch span links to. The producer is
/// ours, so its context is continued and recorded whatever its sampled flag says.
fn message_span(
    queue: Queue,
    message_id: &str,
    record: &SqsMessage,
    batch_span: &tracing::Span,
) -> tracing::Span {
    let span = tracing::info_span!(
        "process message",
        otel.name = format!("{queue} process"),
        otel.kind = "consumer",
        messaging.system = "aws_sqs",
        messaging.operation.type = "process",
        messaging.destination.name = queue.name(),
        messaging.message.id = message_id,
        trace_id = tracing::field::Empty,
        order_id = tracing::field::Empty,
    );
    let producer = telemetry::extract_own(&trace_attributes(record));
    let producer_span = producer.span().span_context().clone();
    if producer_span.is_valid() {
        batch_span.add_link(producer_span);
    }
    telemetry::adopt(&span, producer);
    span
}

/// Runs the handler on one parsed message; a malformed body or a panic is a permanent failure.
async fn handle_message<F, Fut>(
    parsed: Result<Event, messages::MessageError>,
    handler: &F,
) -> Result<(), MessageFailure>
where
    F: Fn(Event) -> Fut,
    Fut: Future<Output = Result<(), ServiceError>>,
{
    let event = parsed.map_err(|e| MessageFailure::Permanent(e.to_string()))?;
    tracing::Span::current().record("order_id", tracing::field::display(event.order_id()));
    match AssertUnwindSafe(handler(event)).catch_unwind().await {
        Ok(result) => result.map_err(MessageFailure::from),
        Err(panic) => Err(MessageFailure::Permanent(format!(
            "panicked: {}",
            panic_message(&panic)
        ))),
    }
}

fn trace_attributes(record: &SqsMessage) -> HashMap<String, String> {
    ["traceparent", "tracestate"]
        .into_iter()
        .filter_map(|key| {
            let value = record.message_attributes.get(key)?.string_value.clone()?;
            Some((key.to_owned(), value))
        })
        .collect()
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}
