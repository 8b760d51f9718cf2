//! Dev-only pieces shared by the local gateway, the tests and the benchmarks: what AWS builds for the
//! functions, built the same way locally. Never a dependency of a function binary.

#[cfg(feature = "database")]
pub mod database;
#[cfg(feature = "https-proxy")]
pub mod https_proxy;
#[cfg(feature = "postgres-tls")]
pub mod postgres_tls;

use aws_lambda_events::encodings::Base64Data;
use aws_lambda_events::sqs::{SqsEvent, SqsMessage, SqsMessageAttribute};
use aws_sdk_sqs::types::{Message, MessageAttributeValue};

/// The event Lambda's SQS event source mapping sends for messages received with the SDK (receive them with
/// all system and message attributes): the local gateway's pollers, the tests and the benchmarks feed the
/// consumers this one event shape.
pub fn sqs_event(messages: &[Message], queue_arn: &str, region: &str) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = messages
        .iter()
        .map(|m| {
            let mut record = SqsMessage::default();
            record.message_id = m.message_id.clone();
            record.receipt_handle = m.receipt_handle.clone();
            record.body = m.body.clone();
            record.md5_of_body = m.md5_of_body.clone();
            record.md5_of_message_attributes = m.md5_of_message_attributes.clone();
            record.attributes = m
                .attributes()
                .map(|a| {
                    a.iter()
                        .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
                        .collect()
                })
                .unwrap_or_default();
            record.message_attributes = m
                .message_attributes()
                .map(|a| a.iter().map(|(k, v)| (k.clone(), attribute(v))).collect())
                .unwrap_or_default();
            record.event_source = Some("aws:sqs".to_owned());
            record.event_source_arn = Some(queue_arn.to_owned());
            record.aws_region = Some(region.to_owned());
            record
        })
        .collect();
    event
}

fn attribute(value: &MessageAttributeValue) -> SqsMessageAttribute {
    let base64 = |bytes: &[u8]| {
        let mut data = Base64Data::default();
        *data = bytes.to_vec();
        data
    };
    let mut attribute = SqsMessageAttribute::default();
    attribute.data_type = Some(value.data_type().to_owned());
    attribute.string_value = value.string_value.clone();
    attribute.binary_value = value.binary_value.as_ref().map(|b| base64(b.as_ref()));
    attribute.string_list_values = value.string_list_values().to_vec();
    attribute.binary_list_values = value
        .binary_list_values()
        .iter()
        .map(|b| base64(b.as_ref()))
        .collect();
    attribute
}
