//! Sending messages to SQS: a small port so the outbox does not depend on the SDK's types.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use uuid::Uuid;

use crate::messages::TraceContext;

/// One message to send: its outbox id, JSON body, and the trace context of the transaction that wrote it.
#[derive(Clone, Debug)]
pub struct OutgoingMessage {
    pub id: Uuid,
    pub body: String,
    pub trace: TraceContext,
}

/// Message attribute carrying the outbox row id (consumers log it; duplicates share it).
pub const OUTBOX_ID_ATTRIBUTE: &str = "outbox_id";

/// Sends up to ten messages to one queue.
#[async_trait]
pub trait MessageSender: Send + Sync {
    /// Per message, whether the queue accepted it; `Err` when the whole call failed.
    async fn send_batch(
        &self,
        queue_url: &str,
        messages: &[OutgoingMessage],
    ) -> anyhow::Result<Vec<bool>>;
}

/// [`MessageSender`] over `SendMessageBatch`.
pub struct SqsSender {
    client: aws_sdk_sqs::Client,
}

impl SqsSender {
    pub fn new(client: aws_sdk_sqs::Client) -> Self {
        Self { client }
    }
}

/// How long one `SendMessageBatch` attempt may take, and the whole call with its retries. A committed order
/// answers 202 whatever SQS does: past this bound the message stays in the outbox for the relay.
pub const SEND_ATTEMPT_TIMEOUT: Duration = Duration::from_millis(500);
pub const SEND_TIMEOUT: Duration = Duration::from_millis(1500);

/// The SQS client the functions publish with: the shared AWS configuration plus the send bounds above.
pub fn sqs_client(aws: &aws_config::SdkConfig) -> aws_sdk_sqs::Client {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(SEND_ATTEMPT_TIMEOUT)
        .operation_attempt_timeout(SEND_ATTEMPT_TIMEOUT)
        .operation_timeout(SEND_TIMEOUT)
        .build();
    let config = aws_sdk_sqs::config::Builder::from(aws)
        .timeout_config(timeouts)
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

fn string_attribute(value: &str) -> anyhow::Result<MessageAttributeValue> {
    Ok(MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()?)
}

#[async_trait]
impl MessageSender for SqsSender {
    async fn send_batch(
        &self,
        queue_url: &str,
        messages: &[OutgoingMessage],
    ) -> anyhow::Result<Vec<bool>> {
        let mut entries = Vec::with_capacity(messages.len());
        for (i, message) in messages.iter().enumerate() {
            let mut entry = SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(&message.body)
                .message_attributes(
                    OUTBOX_ID_ATTRIBUTE,
                    string_attribute(&message.id.to_string())?,
                );
            for (key, value) in &message.trace {
                entry = entry.message_attributes(key, string_attribute(value)?);
            }
            entries.push(entry.build()?);
        }
        let out = self
            .client
            .send_message_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| anyhow::anyhow!(aws_sdk_sqs::error::DisplayErrorContext(e)))?;
        let mut accepted = vec![false; messages.len()];
        for ok in out.successful() {
            if let Ok(i) = ok.id().parse::<usize>()
                && let Some(slot) = accepted.get_mut(i)
            {
                *slot = true;
            }
        }
        for failed in out.failed() {
            tracing::warn!(
                entry = failed.id(),
                code = failed.code(),
                "SQS refused a message"
            );
        }
        Ok(accepted)
    }
}
