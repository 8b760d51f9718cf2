//! Harmless Lambda events, one per kind of trigger: each makes a function start, read its configuration and
//! answer without changing anything. The stack's warm-up and the cold-start bench send them.

use order_contract::topology::Trigger;
use serde_json::{Value, json};

/// An event and a check of the function's answer to it.
pub struct Probe {
    pub event: String,
    /// Whether the answer (the invocation's response body) is the expected one.
    pub answered: fn(&str) -> bool,
    /// What [`answered`](Self::answered) looks for, for error messages.
    pub expected: &'static str,
}

/// The probe for a function with this trigger.
pub fn probe(trigger: Trigger, request_id: &str) -> Probe {
    match trigger {
        // No claims: the function answers 401 (or 405 for a method it does not serve) before any database work.
        Trigger::Http => Probe {
            event: http_event("GET", request_id).to_string(),
            answered: |body| {
                serde_json::from_str::<Value>(body)
                    .is_ok_and(|v| matches!(v["statusCode"].as_u64(), Some(401 | 405)))
            },
            expected: "statusCode 401 or 405",
        },
        Trigger::Queue(_) => Probe {
            event: json!({"Records": []}).to_string(),
            answered: |body| body.contains("batchItemFailures"),
            expected: "batchItemFailures",
        },
        // The relay reads the outbox: proves the secret and the database work.
        Trigger::Schedule { .. } => Probe {
            event: scheduled_event(request_id).to_string(),
            answered: |body| body.contains("published"),
            expected: "published",
        },
    }
}

/// The echo event for hello-lambda, the cold-start baseline.
pub fn echo() -> Probe {
    Probe {
        event: json!({"hello": "world"}).to_string(),
        answered: |body| body.contains("\"hello\""),
        expected: "the event echoed",
    }
}

/// An API Gateway (REST) proxy event for `/orders` without an authorizer context.
fn http_event(method: &str, request_id: &str) -> Value {
    json!({
        "resource": "/orders", "path": "/orders", "httpMethod": method,
        "headers": {}, "multiValueHeaders": {},
        "queryStringParameters": null, "multiValueQueryStringParameters": null,
        "pathParameters": null, "stageVariables": null,
        "requestContext": {
            "resourcePath": "/orders", "httpMethod": method, "path": "/local/orders",
            "stage": "local", "requestId": request_id, "identity": {},
        },
        "body": null, "isBase64Encoded": false,
    })
}

/// An EventBridge scheduled event.
fn scheduled_event(id: &str) -> Value {
    json!({
        "version": "0", "id": id, "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "1970-01-01T00:00:00Z", "region": "us-east-1",
        "resources": [], "detail": {},
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use order_contract::topology::{FUNCTIONS, Queue};

    #[test]
    fn every_function_of_the_table_gets_a_probe_that_recognises_its_answer() {
        let http = probe(Trigger::Http, "r");
        let queue = probe(Trigger::Queue(Queue::Orders), "r");
        let schedule = probe(Trigger::Schedule { every_seconds: 60 }, "r");

        assert!((http.answered)(r#"{"statusCode":401,"body":""}"#));
        assert!(!(http.answered)(r#"{"statusCode":500}"#));
        assert!((queue.answered)(r#"{"batchItemFailures":[]}"#));
        assert!((schedule.answered)(r#"{"published":0,"failed":0}"#));
        for f in FUNCTIONS {
            assert!(serde_json::from_str::<Value>(&probe(f.trigger, "r").event).is_ok());
        }
    }
}
