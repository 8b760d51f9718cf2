//! otlp-sink: a dev-only OTLP/HTTP trace receiver for the native stack (where Jaeger, a container, cannot run).
//!
//! Decodes `POST /v1/traces` (protobuf) and appends one JSON line per span to `OTLP_SINK_FILE`:
//! `{service, trace_id, span_id, parent_span_id, name, kind, start_unix_nano, end_unix_nano, status, attributes,
//! links, otlp_bytes}` (`status`: `unset`, `ok` or `error`; `links`: `{trace_id, span_id, sampled, attributes}`
//! each; `otlp_bytes`: the span's size in the OTLP protobuf, for cost estimates). The end-to-end tests read it to check that one trace covers an order's
//! whole life; `cargo xtask trace` and `jq` read it for people.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::{Map, json};

fn text(value: &Option<AnyValue>) -> serde_json::Value {
    match value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(s)) => json!(s),
        Some(Value::BoolValue(b)) => json!(b),
        Some(Value::IntValue(i)) => json!(i),
        Some(Value::DoubleValue(d)) => json!(d),
        other => json!(format!("{other:?}")),
    }
}

/// The span status code as a word (OTLP: 0 unset, 1 ok, 2 error).
fn status(span: &Span) -> &'static str {
    match span.status.as_ref().map(|s| s.code) {
        Some(1) => "ok",
        Some(2) => "error",
        _ => "unset",
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn attributes(attributes: &[KeyValue]) -> Map<String, serde_json::Value> {
    attributes
        .iter()
        .map(|kv| (kv.key.clone(), text(&kv.value)))
        .collect()
}

/// A span's links (OTLP `flags`: the low byte is the W3C trace flags, bit 0 "sampled").
fn links(span: &Span) -> Vec<serde_json::Value> {
    span.links
        .iter()
        .map(|link| {
            json!({
                "trace_id": hex(&link.trace_id),
                "span_id": hex(&link.span_id),
                "sampled": link.flags & 1 == 1,
                "attributes": attributes(&link.attributes),
            })
        })
        .collect()
}

/// One JSON line per span in `request`.
fn lines(request: &ExportTraceServiceRequest) -> Vec<String> {
    let mut out = Vec::new();
    for resource in &request.resource_spans {
        let service = resource
            .resource
            .as_ref()
            .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
            .map(|kv| text(&kv.value))
            .unwrap_or(json!("unknown"));
        for scope in &resource.scope_spans {
            for span in &scope.spans {
                out.push(
                    json!({
                        "service": service,
                        "trace_id": hex(&span.trace_id),
                        "span_id": hex(&span.span_id),
                        "parent_span_id": hex(&span.parent_span_id),
                        "name": span.name,
                        "kind": span.kind,
                        "start_unix_nano": span.start_time_unix_nano,
                        "end_unix_nano": span.end_time_unix_nano,
                        "status": status(span),
                        "attributes": attributes(&span.attributes),
                        "links": links(span),
                        "otlp_bytes": span.encoded_len(),
                    })
                    .to_string(),
                );
            }
        }
    }
    out
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr = std::env::var("OTLP_SINK_ADDR").unwrap_or_else(|_| "127.0.0.1:4318".to_owned());
    let path = std::env::var("OTLP_SINK_FILE").unwrap_or_else(|_| "spans.jsonl".to_owned());
    let file = Arc::new(Mutex::new(
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?,
    ));
    let app = axum::Router::new().route(
        "/v1/traces",
        post(move |body: Bytes| {
            let file = file.clone();
            async move {
                let Ok(request) = ExportTraceServiceRequest::decode(body) else {
                    return (StatusCode::BAD_REQUEST, Vec::new());
                };
                let mut file = file.lock().expect("sink file");
                for line in lines(&request) {
                    let _ = writeln!(file, "{line}");
                }
                let _ = file.flush();
                // An empty ExportTraceServiceResponse encodes to no bytes.
                (StatusCode::OK, Vec::new())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("otlp-sink: listening on {addr}, writing {path}");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
