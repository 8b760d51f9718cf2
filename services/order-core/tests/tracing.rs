//! One trace per order: spans exported in-process (in-memory exporter) while an order goes through
//! create-order, queue 1, process-order, queue 2 and update-stock on real PostgreSQL and the SQS emulator.

mod support;

use std::collections::HashMap;
use std::sync::OnceLock;

use opentelemetry::trace::{SpanId, SpanKind, TraceId, TracerProvider as _};
use opentelemetry::{KeyValue, global};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use order_core::config::RelaySettings;
use serde_json::json;
use support::{ApiEvent, TEE, TestApp, spawn_app};
use tracing_subscriber::layer::SubscriberExt;

const ALICE: &str = "9a6c1f44-4d1b-4f7e-9a1e-1d2f3c4b5a69";

/// One exporter for the whole test binary (the subscriber is process-global); tests filter by trace id.
fn exporter() -> &'static (InMemorySpanExporter, SdkTracerProvider) {
    static EXPORTER: OnceLock<(InMemorySpanExporter, SdkTracerProvider)> = OnceLock::new();
    EXPORTER.get_or_init(|| {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        global::set_text_map_propagator(TraceContextPropagator::new());
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::set_global_default(subscriber).expect("first subscriber");
        (exporter, provider)
    })
}

fn spans_of(trace: TraceId) -> Vec<SpanData> {
    let (exporter, provider) = exporter();
    provider.force_flush().unwrap();
    exporter
        .get_finished_spans()
        .unwrap()
        .into_iter()
        .filter(|s| s.span_context.trace_id() == trace)
        .collect()
}

fn attr(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv: &KeyValue| kv.value.to_string())
}

fn named<'a>(spans: &'a [SpanData], name: &str) -> Vec<&'a SpanData> {
    spans.iter().filter(|s| s.name == name).collect()
}

fn one<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    let found = named(spans, name);
    assert_eq!(
        found.len(),
        1,
        "exactly one `{name}` span in {:?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    found[0]
}

/// True when `ancestor` is on `span`'s parent chain.
fn descends_from(spans: &[SpanData], span: &SpanData, ancestor: SpanId) -> bool {
    let by_id: HashMap<SpanId, &SpanData> = spans
        .iter()
        .map(|s| (s.span_context.span_id(), s))
        .collect();
    let mut parent = span.parent_span_id;
    for _ in 0..64 {
        if parent == ancestor {
            return true;
        }
        match by_id.get(&parent) {
            Some(p) => parent = p.parent_span_id,
            None => return false,
        }
    }
    false
}

async fn post(app: &TestApp, event: ApiEvent) -> support::Answer {
    let service = app.orders();
    support::answer(
        order_core::http::serve(event.request(), |req| {
            order_core::http::create_order(service, req)
        })
        .await,
    )
}

/// Runs both consumers the way `bootstrap::serve_sqs` does, with an invocation span around each batch.
async fn consume(app: &TestApp) {
    for _ in 0..2 {
        let batch = tracing::info_span!("invocation", otel.kind = "consumer");
        let messages = app.receive(&app.orders_queue, 30).await;
        let event = support::sqs_event(&messages, &app.orders_queue.arn);
        let deps = app.deps.clone();
        let r = order_core::sqs::handle_batch(
            order_core::topology::Queue::Orders,
            event,
            &batch,
            |e| {
                let deps = deps.clone();
                async move {
                    order_core::service::OrderService::new(deps.clone())
                        .process_order(&e)
                        .await
                }
            },
        )
        .await;
        assert!(r.batch_item_failures.is_empty());
        drop(batch);
        let batch = tracing::info_span!("invocation", otel.kind = "consumer");
        let messages = app.receive(&app.stock_queue, 30).await;
        let event = support::sqs_event(&messages, &app.stock_queue.arn);
        let deps = app.deps.clone();
        let r =
            order_core::sqs::handle_batch(order_core::topology::Queue::Stock, event, &batch, |e| {
                let deps = deps.clone();
                async move {
                    order_core::service::OrderService::new(deps.clone())
                        .update_stock(&e)
                        .await
                }
            })
            .await;
        assert!(r.batch_item_failures.is_empty());
    }
}

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

#[tokio::test]
async fn one_trace_follows_an_order_from_the_http_request_through_both_queues() {
    exporter();
    let app = spawn_app().await;
    let event = ApiEvent::new("POST", "/orders", "/orders")
        .by(ALICE)
        .header("traceparent", &format!("00-{TRACE}-{CALLER_SPAN}-01"))
        .body(&json!({"items": [{"product_id": TEE, "quantity": 1}]}).to_string());

    let answer = post(&app, event).await;
    assert_eq!(answer.status, 202);
    consume(&app).await;
    assert_eq!(
        app.status(answer.json["id"].as_str().unwrap()).await,
        "fulfilled"
    );

    let spans = spans_of(TraceId::from_hex(TRACE).unwrap());
    let server = one(&spans, "POST /orders");
    assert_eq!(
        server.parent_span_id,
        SpanId::from_hex(CALLER_SPAN).unwrap(),
        "continues the caller's trace"
    );
    assert_eq!(server.span_kind, SpanKind::Server);
    assert_eq!(attr(server, "faas.trigger").as_deref(), Some("http"));
    assert_eq!(attr(server, "faas.coldstart").as_deref(), Some("true"));
    assert_eq!(attr(server, "cloud.provider").as_deref(), Some("aws"));
    assert_eq!(
        attr(server, "http.response.status_code").as_deref(),
        Some("202")
    );
    let server_id = server.span_context.span_id();

    let insert = one(&spans, "INSERT orders");
    assert_eq!(attr(insert, "db.system").as_deref(), Some("postgresql"));
    assert!(descends_from(&spans, insert, server_id));
    assert!(
        !named(&spans, "begin").is_empty(),
        "SeaORM's own query spans are in the trace too"
    );

    let publish1 = one(&spans, "orders publish");
    let process = one(&spans, "orders process");
    let publish2 = one(&spans, "stock publish");
    let update = one(&spans, "stock process");
    assert_eq!(publish1.span_kind, SpanKind::Producer);
    assert_eq!(process.span_kind, SpanKind::Consumer);
    assert!(
        descends_from(&spans, publish1, server_id),
        "create-order's publish is in the request's trace"
    );
    assert_eq!(
        process.parent_span_id,
        publish1.span_context.span_id(),
        "process-order continues the producer"
    );
    assert!(descends_from(
        &spans,
        publish2,
        process.span_context.span_id()
    ));
    assert_eq!(
        update.parent_span_id,
        publish2.span_context.span_id(),
        "update-stock continues process-order"
    );
    for consumer in [process, update] {
        assert_eq!(
            attr(consumer, "messaging.system").as_deref(),
            Some("aws_sqs")
        );
        assert!(attr(consumer, "messaging.message.id").is_some_and(|id| !id.is_empty()));
        assert!(attr(consumer, "messaging.destination.name").is_some());
    }
    let reserve = one(&spans, "reserve stock");
    assert!(descends_from(
        &spans,
        reserve,
        process.span_context.span_id()
    ));
    assert_eq!(
        attr(reserve, "db.collection.name").as_deref(),
        Some("product_info")
    );
    let commit = one(&spans, "commit stock");
    assert!(descends_from(&spans, commit, update.span_context.span_id()));

    // The batch (invocation) spans are separate traces that link to each message's producer.
    let (exporter, _) = exporter();
    let all = exporter.get_finished_spans().unwrap();
    let linked = all
        .iter()
        .filter(|s| s.name == "invocation")
        .flat_map(|s| s.links.links.iter())
        .any(|l| l.span_context.span_id() == publish1.span_context.span_id());
    assert!(linked, "the batch span links to the message's producer");
}

#[tokio::test]
async fn a_relay_published_order_stays_in_the_trace_of_its_http_request() {
    exporter();
    let app = spawn_app().await;
    let down = support::TestQueue {
        url: format!("{}-gone", app.orders_queue.url),
        ..app.orders_queue.clone()
    };
    let offline = support::deps_for(&app.db_url, &app.sqs, &down, &app.stock_queue).await;
    let trace = "0af7651916cd43dd8448eb211c80319c";
    let event = ApiEvent::new("POST", "/orders", "/orders")
        .by(ALICE)
        .header("traceparent", &format!("00-{trace}-b7ad6b7169203331-01"))
        .body(&json!({"items": [{"product_id": TEE, "quantity": 1}]}).to_string());
    let service = order_core::service::OrderService::new(offline);
    let answer = support::answer(
        order_core::http::serve(event.request(), |req| {
            order_core::http::create_order(service, req)
        })
        .await,
    );
    assert_eq!(answer.status, 202);

    let relay = tracing::info_span!("relay invocation");
    let report = {
        use tracing::Instrument;
        support::relay(
            &app.deps,
            RelaySettings {
                min_age: std::time::Duration::ZERO,
                batch_size: 10,
                ..Default::default()
            },
        )
        .instrument(relay.clone())
        .await
        .unwrap()
    };
    drop(relay);
    assert_eq!(report.published, 1);
    consume(&app).await;

    let spans = spans_of(TraceId::from_hex(trace).unwrap());
    let server = one(&spans, "POST /orders");
    let publishes = named(&spans, "orders publish");
    // The failed attempt in create-order and the relay's successful one both belong to the request's trace.
    assert_eq!(publishes.len(), 2);
    assert!(
        publishes
            .iter()
            .all(|p| descends_from(&spans, p, server.span_context.span_id()))
    );
    let process = one(&spans, "orders process");
    assert!(
        publishes
            .iter()
            .any(|p| p.span_context.span_id() == process.parent_span_id)
    );
    one(&spans, "stock process");
}

#[tokio::test]
async fn hostile_traceparent_values_start_a_fresh_trace_and_never_fail_the_request() {
    exporter();
    let app = spawn_app().await;
    let hostile = [
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7".to_owned(),
        "00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-01".to_owned(),
        "00-zzf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01".to_owned(),
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01".to_owned(),
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
        format!("00-{}-00f067aa0ba902b7-01", "a".repeat(8000)),
        "garbage;;;==".to_owned(),
    ];
    let mut seen = std::collections::HashSet::new();
    for value in hostile {
        let event = ApiEvent::new("POST", "/orders", "/orders")
            .by(ALICE)
            .without_header("X-Amzn-Trace-Id")
            .header("traceparent", &value)
            .header("tracestate", &"k=v,".repeat(2000))
            .body(&json!({"items": [{"product_id": TEE, "quantity": 1}]}).to_string());

        let answer = post(&app, event).await;

        assert_eq!(answer.status, 202, "{value:.40}");
        let (exporter, provider) = exporter();
        provider.force_flush().unwrap();
        let order_id = answer.json["id"].as_str().unwrap().to_owned();
        let server = exporter
            .get_finished_spans()
            .unwrap()
            .into_iter()
            .filter(|s| s.name == "POST /orders")
            .last()
            .unwrap();
        let trace = server.span_context.trace_id();
        assert!(server.span_context.is_valid());
        assert_eq!(
            server.parent_span_id,
            SpanId::INVALID,
            "{value:.40}: a root span, not a child of garbage"
        );
        assert_ne!(trace, TraceId::from_hex(TRACE).unwrap());
        assert!(seen.insert(trace), "each request gets its own fresh trace");
        assert!(!order_id.is_empty());
    }
}

#[tokio::test]
async fn api_gateways_x_ray_header_continues_its_trace_when_there_is_no_traceparent() {
    exporter();
    let app = spawn_app().await;
    let event = ApiEvent::new("POST", "/orders", "/orders")
        .by(ALICE)
        .header(
            "X-Amzn-Trace-Id",
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        )
        .body(&json!({"items": [{"product_id": TEE, "quantity": 1}]}).to_string());

    assert_eq!(post(&app, event).await.status, 202);

    let spans = spans_of(TraceId::from_hex("5759e988bd862e3fe1be46a994272793").unwrap());
    let server = one(&spans, "POST /orders");
    assert_eq!(
        server.parent_span_id,
        SpanId::from_hex("53995c3f42cd8ad8").unwrap()
    );
}

#[test]
fn a_context_without_tracestate_carries_no_empty_attribute() {
    exporter();
    let span = tracing::info_span!("publish");
    let context = order_core::telemetry::span_trace_context(&span);
    assert!(context.contains_key("traceparent"), "{context:?}");
    // SQS refuses a message attribute whose value is empty; real SQS and LocalStack answer 400.
    assert!(context.values().all(|v| !v.is_empty()), "{context:?}");
}
