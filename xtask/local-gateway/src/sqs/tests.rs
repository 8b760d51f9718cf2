use aws_lambda_events::sqs::SqsEvent;
use aws_sdk_sqs::primitives::Blob;
use aws_sdk_sqs::types::MessageAttributeValue;
use serde_json::json;

use super::*;

fn message(id: &str) -> Message {
    Message::builder()
        .message_id(id)
        .receipt_handle(format!("rh-{id}"))
        .body(format!("{{\"id\":\"{id}\"}}"))
        .attributes(MessageSystemAttributeName::ApproximateReceiveCount, "2")
        .attributes(MessageSystemAttributeName::SentTimestamp, "1764115200000")
        .message_attributes(
            "traceparent",
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
                .build()
                .unwrap(),
        )
        .message_attributes(
            "blob",
            MessageAttributeValue::builder()
                .data_type("Binary")
                .binary_value(Blob::new(b"hi".to_vec()))
                .build()
                .unwrap(),
        )
        .build()
}

fn failures(ids: &[&str]) -> SqsBatchResponse {
    serde_json::from_value(json!({
        "batchItemFailures": ids.iter().map(|id| json!({"itemIdentifier": id})).collect::<Vec<_>>()
    }))
    .unwrap()
}

#[test]
fn the_event_is_what_lambdas_sqs_event_source_mapping_sends() {
    let arn = "arn:aws:sqs:us-east-1:123456789012:orders";

    let event = sqs_event(&[message("m1")], arn, "us-east-1");
    let json = serde_json::to_value(&event).unwrap();

    let record = &json["Records"][0];
    assert_eq!(record["messageId"], "m1");
    assert_eq!(record["receiptHandle"], "rh-m1");
    assert_eq!(record["body"], "{\"id\":\"m1\"}");
    assert_eq!(record["attributes"]["ApproximateReceiveCount"], "2");
    assert_eq!(record["attributes"]["SentTimestamp"], "1764115200000");
    assert_eq!(
        record["messageAttributes"]["traceparent"]["dataType"],
        "String"
    );
    assert_eq!(
        record["messageAttributes"]["traceparent"]["stringValue"],
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    );
    assert_eq!(record["messageAttributes"]["blob"]["binaryValue"], "aGk=");
    assert_eq!(record["eventSource"], "aws:sqs");
    assert_eq!(record["eventSourceARN"], arn);
    assert_eq!(record["awsRegion"], "us-east-1");
    let parsed: SqsEvent = serde_json::from_value(json).unwrap();
    assert_eq!(parsed, event);
}

#[test]
fn only_messages_not_reported_as_failures_are_deleted() {
    let batch = [message("m1"), message("m2"), message("m3")];

    let all = to_delete(&batch, &SqsBatchResponse::default()).unwrap();
    let some = to_delete(&batch, &failures(&["m2"])).unwrap();
    let none = to_delete(&batch, &failures(&["m1", "m2", "m3"])).unwrap();

    let ids = |ms: Vec<&Message>| {
        ms.iter()
            .map(|m| m.message_id().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(all), ["m1", "m2", "m3"]);
    assert_eq!(ids(some), ["m1", "m3"]);
    assert!(none.is_empty());
}

#[test]
fn a_failure_naming_no_message_of_the_batch_fails_the_whole_batch() {
    let batch = [message("m1"), message("m2")];

    assert!(to_delete(&batch, &failures(&["m9"])).is_none());
    assert!(to_delete(&batch, &failures(&[""])).is_none());
}
