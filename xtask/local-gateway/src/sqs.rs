//! The SQS event source mappings: long-poll a queue, invoke its consumer with a real `SqsEvent`, and delete
//! only what the consumer did not report in `batchItemFailures`. Everything else is left to the queue's
//! visibility timeout and redrive policy (→ DLQ), as in AWS.

use std::time::Duration;

use aws_lambda_events::sqs::SqsBatchResponse;
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName, QueueAttributeName,
};
use dev_support::sqs_event;
use tokio_util::sync::CancellationToken;

use crate::config::{PollSettings, QueueMapping};
use crate::invoke::Invoker;

/// Back-off after a failed receive.
const RETRY_AFTER: Duration = Duration::from_secs(2);

/// One queue → function mapping.
pub struct Poller {
    sqs: aws_sdk_sqs::Client,
    invoker: Invoker,
    mapping: QueueMapping,
    settings: PollSettings,
    queue_arn: String,
    region: String,
}

impl Poller {
    /// Looks up the queue's ARN (the events' `eventSourceARN`).
    pub async fn new(
        sqs: aws_sdk_sqs::Client,
        invoker: Invoker,
        mapping: QueueMapping,
        settings: PollSettings,
        region: String,
    ) -> anyhow::Result<Self> {
        let queue_arn = queue_arn(&sqs, &mapping.queue_url).await?;
        Ok(Self {
            sqs,
            invoker,
            mapping,
            settings,
            queue_arn,
            region,
        })
    }

    /// The queue's ARN.
    pub fn queue_arn(&self) -> &str {
        &self.queue_arn
    }

    /// Polls until `shutdown`; a batch already received is delivered and settled first.
    pub async fn run(self, shutdown: CancellationToken) {
        tracing::info!(queue = %self.mapping.queue_url, function = self.mapping.function, "polling");
        loop {
            let received = tokio::select! {
                () = shutdown.cancelled() => break,
                received = self.receive() => received,
            };
            match received {
                Ok(messages) if messages.is_empty() => {}
                Ok(messages) => self.deliver(&messages).await,
                Err(e) => {
                    tracing::warn!(queue = %self.mapping.queue_url, error = %e, "receive failed; retrying");
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(RETRY_AFTER) => {}
                    }
                }
            }
        }
        tracing::info!(queue = %self.mapping.queue_url, "stopped polling");
    }

    async fn receive(&self) -> anyhow::Result<Vec<Message>> {
        let out = self
            .sqs
            .receive_message()
            .queue_url(&self.mapping.queue_url)
            .max_number_of_messages(self.settings.batch_size)
            .wait_time_seconds(self.settings.wait.as_secs() as i32)
            .visibility_timeout(self.settings.visibility_timeout.as_secs() as i32)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await?;
        Ok(out.messages.unwrap_or_default())
    }

    async fn deliver(&self, messages: &[Message]) {
        let function = self.mapping.function;
        let event = sqs_event(messages, &self.queue_arn, &self.region);
        let timeout = self.settings.visibility_timeout;
        let response = self
            .invoker
            .invoke::<Option<SqsBatchResponse>>(function, &event, timeout)
            .await;
        let settled = match response {
            Err(e) => {
                tracing::error!(function, error = %e, messages = messages.len(), "invocation failed; nothing deleted");
                return;
            }
            Ok(response) => to_delete(messages, &response.unwrap_or_default()),
        };
        let Some(done) = settled else {
            tracing::error!(
                function,
                "batchItemFailures names unknown messages; the whole batch failed"
            );
            return;
        };
        let failed = messages.len() - done.len();
        if failed > 0 {
            tracing::warn!(
                function,
                failed,
                "messages reported failed; SQS will redeliver them"
            );
        }
        if let Err(e) = self.delete(&done).await {
            tracing::error!(function, error = %e, "could not delete handled messages; they will be redelivered");
        }
    }

    async fn delete(&self, messages: &[&Message]) -> anyhow::Result<()> {
        if messages.is_empty() {
            return Ok(());
        }
        let entries = messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let out = self
            .sqs
            .delete_message_batch()
            .queue_url(&self.mapping.queue_url)
            .set_entries(Some(entries))
            .send()
            .await?;
        if !out.failed().is_empty() {
            anyhow::bail!("{} deletes failed: {:?}", out.failed().len(), out.failed());
        }
        Ok(())
    }
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> anyhow::Result<String> {
    let out = sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("Failed to read the attributes of {queue_url}: {e}"))?;
    out.attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("{queue_url} has no QueueArn"))
}

/// The messages to delete: all but the reported failures. `None` when a failure names no message of the batch,
/// which Lambda treats as the whole batch failing.
pub fn to_delete<'a>(
    messages: &'a [Message],
    response: &SqsBatchResponse,
) -> Option<Vec<&'a Message>> {
    let ids: Vec<&str> = messages.iter().filter_map(|m| m.message_id()).collect();
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    if failed.iter().any(|f| !ids.contains(f)) {
        return None;
    }
    Some(
        messages
            .iter()
            .filter(|m| !failed.contains(&m.message_id().unwrap_or_default()))
            .collect(),
    )
}

#[cfg(test)]
mod tests;
