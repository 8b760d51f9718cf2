//! OTLP/HTTP receivers on loopback: one that records every request, one that never answers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};

use super::serve;

/// One request as the OTLP receiver got it.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// When it had arrived.
    pub at: std::time::Instant,
}

/// An OTLP/HTTP receiver on loopback: records each request, answers 200 with an empty export response.
pub struct Receiver {
    pub url: String,
    requests: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub async fn start() -> Self {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = requests.clone();
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let recorded = recorded.clone();
                async move {
                    recorded.lock().unwrap().push(Received {
                        method: method.to_string(),
                        path: uri.path().to_owned(),
                        headers,
                        body,
                        at: std::time::Instant::now(),
                    });
                    ([("content-type", "application/x-protobuf")], Bytes::new())
                }
            },
        );
        let base = serve(app).await;
        Self {
            url: format!("{base}/v1/traces"),
            requests,
        }
    }

    pub fn requests(&self) -> Vec<Received> {
        self.requests.lock().unwrap().clone()
    }
}

/// One exported span: its name, ids and string attributes.
#[derive(Debug)]
pub struct ExportedSpan {
    pub name: String,
    pub trace_id: Vec<u8>,
    pub span_id: Vec<u8>,
    pub parent_span_id: Vec<u8>,
    pub attributes: HashMap<String, String>,
}

/// Decodes the OTLP/HTTP protobuf bodies the receiver got.
pub fn spans(requests: &[Received]) -> Vec<ExportedSpan> {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
    use prost::Message;
    let mut spans = Vec::new();
    for request in requests {
        let export =
            ExportTraceServiceRequest::decode(request.body.as_ref()).expect("OTLP protobuf");
        for span in export
            .resource_spans
            .into_iter()
            .flat_map(|r| r.scope_spans)
            .flat_map(|s| s.spans)
        {
            let attributes = span
                .attributes
                .into_iter()
                .map(|kv| {
                    let value = match kv.value.and_then(|v| v.value) {
                        Some(Any::StringValue(s)) => s,
                        other => format!("{other:?}"),
                    };
                    (kv.key, value)
                })
                .collect();
            spans.push(ExportedSpan {
                name: span.name,
                trace_id: span.trace_id,
                span_id: span.span_id,
                parent_span_id: span.parent_span_id,
                attributes,
            });
        }
    }
    spans
}

/// A collector that accepts connections and never answers: each is held open until the test ends.
pub fn black_hole() -> (String, Arc<Mutex<usize>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(Mutex::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            *counter.lock().unwrap() += 1;
            held.push(stream);
        }
    });
    (format!("http://127.0.0.1:{port}/v1/traces"), accepted)
}
