//! One trace per order: spans exported in-process (in-memory exporter) while an order goes through
//! create-order, queue 1, process-order, queue 2 and update-stock on real PostgreSQL and the SQS emulator.

mod support;

use std::collections::HashMap;
use std::sync::OnceLock;

use aws_lambda_events::sqs::SqsEvent;
use opentelemetry::trace::{SpanId, SpanKind, TraceId, TracerProvider as _};
use opentelemetry::{KeyValue, global};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use order_core::config::RelaySettings;
use order_core::topology::Queue;
use serde_json::json;
use support::{ApiEvent, TEE, TestApp, spawn_app};
use tracing::Instrument;
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

/// Runs one consumer batch the way `bootstrap::serve_sqs` does, with an invocation span around it; `edit`
/// changes the event first (what an older producer would have sent).
async fn run_consumer(app: &TestApp, queue: &support::TestQueue, edit: impl Fn(&mut SqsEvent)) {
    let batch = tracing::info_span!("invocation", otel.kind = "consumer");
    let messages = app.receive(queue, 30).await;
    let mut event = support::sqs_event(&messages, &queue.arn);
    edit(&mut event);
    let (deps, kind) = (app.deps.clone(), queue.kind());
    let r = order_core::sqs::handle_batch(kind, event, &batch, |e| {
        let service = order_core::service::OrderService::new(deps.clone());
        async move {
            match kind {
                Queue::Orders => service.process_order(&e).await,
                Queue::Stock => service.update_stock(&e).await,
            }
        }
    })
    .await;
    assert!(r.batch_item_failures.is_empty());
}

/// Runs both consumers until both queues are drained of this test's messages.
async fn consume(app: &TestApp) {
    for _ in 0..2 {
        run_consumer(app, &app.orders_queue, |_| {}).await;
        run_consumer(app, &app.stock_queue, |_| {}).await;
    }
}

/// The one server span that created `order`.
fn server_span_of(order: &str) -> SpanData {
    let (exporter, provider) = exporter();
    provider.force_flush().unwrap();
    let found: Vec<SpanData> = exporter
        .get_finished_spans()
        .unwrap()
        .into_iter()
        .filter(|s| s.name == "POST /orders" && attr(s, "order_id").as_deref() == Some(order))
        .collect();
    assert_eq!(found.len(), 1, "one server span for order {order}");
    found.into_iter().next().unwrap()
}

/// An order's trace, found the way the runbook finds it: by the order id.
struct OrderTrace {
    server: SpanData,
    spans: Vec<SpanData>,
}

/// Places an order, runs both consumers and returns the order's trace, after checking that it is one trace
/// our side started and that it covers create-order, process-order and update-stock.
async fn place_and_fulfil(app: &TestApp, event: ApiEvent) -> OrderTrace {
    let answer = post(app, event).await;
    assert_eq!(answer.status, 202);
    consume(app).await;
    let order = answer.json["id"].as_str().unwrap();
    assert_eq!(app.status(order).await, "fulfilled");
    let server = server_span_of(order);
    let spans = spans_of(server.span_context.trace_id());
    assert_eq!(
        server.parent_span_id,
        SpanId::INVALID,
        "the request starts its own trace"
    );
    let server_id = server.span_context.span_id();
    for name in [
        "orders publish",
        "orders process",
        "reserve stock",
        "stock publish",
        "stock process",
        "commit stock",
    ] {
        assert!(
            descends_from(&spans, one(&spans, name), server_id),
            "`{name}` is in the request's trace"
        );
    }
    OrderTrace { server, spans }
}

/// The server span's links: where each came from, its trace and span id, and whether it said "sampled".
fn links(span: &SpanData) -> Vec<(String, TraceId, SpanId, bool)> {
    span.links
        .links
        .iter()
        .map(|l| {
            let source = l
                .attributes
                .iter()
                .find(|kv| kv.key.as_str() == order_core::telemetry::LINK_SOURCE)
                .map(|kv| kv.value.to_string())
                .unwrap_or_default();
            let sc = &l.span_context;
            (source, sc.trace_id(), sc.span_id(), sc.is_sampled())
        })
        .collect()
}

fn link(source: &str, trace: &str, span: &str, sampled: bool) -> (String, TraceId, SpanId, bool) {
    (
        source.to_owned(),
        TraceId::from_hex(trace).unwrap(),
        SpanId::from_hex(span).unwrap(),
        sampled,
    )
}

/// `POST /orders` for one tee, with no trace header at all (the fixture's X-Ray header removed).
fn order_event() -> ApiEvent {
    ApiEvent::new("POST", "/orders", "/orders")
        .by(ALICE)
        .without_header("X-Amzn-Trace-Id")
        .body(&json!({"items": [{"product_id": TEE, "quantity": 1}]}).to_string())
}

fn trace_id(hex: &str) -> TraceId {
    TraceId::from_hex(hex).unwrap()
}

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";
const XRAY_ROOT: &str = "1-5759e988-bd862e3fe1be46a994272793";
const XRAY_TRACE: &str = "5759e988bd862e3fe1be46a994272793";
const XRAY_PARENT: &str = "53995c3f42cd8ad8";

#[tokio::test]
async fn a_request_without_trace_headers_gets_one_trace_over_all_three_functions() {
    exporter();
    let app = spawn_app().await;

    // Inside a span, as lambda_runtime's `Lambda runtime invoke` span surrounds every invocation.
    let runtime = tracing::info_span!("Lambda runtime invoke");
    let trace = place_and_fulfil(&app, order_event())
        .instrument(runtime)
        .await;

    assert!(links(&trace.server).is_empty());
}

#[tokio::test]
async fn a_traceparent_marked_not_sampled_is_linked_and_the_order_is_still_traced() {
    exporter();
    let app = spawn_app().await;
    let event = order_event().header("traceparent", &format!("00-{TRACE}-{CALLER_SPAN}-00"));

    let trace = place_and_fulfil(&app, event).await;

    assert_ne!(trace.server.span_context.trace_id(), trace_id(TRACE));
    assert_eq!(
        links(&trace.server),
        [link("traceparent", TRACE, CALLER_SPAN, false)]
    );
}

#[tokio::test]
async fn one_trace_follows_an_order_from_the_http_request_through_both_queues() {
    // A client-chosen trace id, marked sampled: kept as a link, never joined.
    exporter();
    let app = spawn_app().await;
    let event = order_event()
        .header("traceparent", &format!("00-{TRACE}-{CALLER_SPAN}-01"))
        .header("tracestate", "client=chosen");

    let OrderTrace { server, spans } = place_and_fulfil(&app, event).await;

    assert_ne!(server.span_context.trace_id(), trace_id(TRACE));
    assert!(
        spans_of(trace_id(TRACE)).is_empty(),
        "nothing of ours joins the client's trace"
    );
    assert_eq!(
        links(&server),
        [link("traceparent", TRACE, CALLER_SPAN, true)]
    );
    assert!(
        server.links.links[0]
            .span_context
            .trace_state()
            .header()
            .is_empty()
    );
    assert_eq!(server.span_kind, SpanKind::Server);
    assert_eq!(attr(&server, "faas.trigger").as_deref(), Some("http"));
    assert_eq!(attr(&server, "faas.coldstart").as_deref(), Some("true"));
    assert_eq!(attr(&server, "cloud.provider").as_deref(), Some("aws"));
    assert_eq!(
        attr(&server, "http.response.status_code").as_deref(),
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
    assert_eq!(
        attr(one(&spans, "reserve stock"), "db.collection.name").as_deref(),
        Some("product_info")
    );

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
async fn an_x_ray_header_saying_not_sampled_is_linked_and_the_order_is_still_traced() {
    exporter();
    let app = spawn_app().await;
    let header = format!("Root={XRAY_ROOT};Parent={XRAY_PARENT};Sampled=0");

    let trace = place_and_fulfil(&app, order_event().header("X-Amzn-Trace-Id", &header)).await;

    assert_ne!(trace.server.span_context.trace_id(), trace_id(XRAY_TRACE));
    assert_eq!(
        links(&trace.server),
        [link("x-amzn-trace-id", XRAY_TRACE, XRAY_PARENT, false)]
    );
}

#[tokio::test]
async fn an_x_ray_header_saying_sampled_is_linked_not_continued() {
    exporter();
    let app = spawn_app().await;
    let header = format!("Root={XRAY_ROOT};Parent={XRAY_PARENT};Sampled=1");

    let trace = place_and_fulfil(&app, order_event().header("X-Amzn-Trace-Id", &header)).await;

    assert_ne!(trace.server.span_context.trace_id(), trace_id(XRAY_TRACE));
    assert!(spans_of(trace_id(XRAY_TRACE)).is_empty());
    assert_eq!(
        links(&trace.server),
        [link("x-amzn-trace-id", XRAY_TRACE, XRAY_PARENT, true)]
    );
}

#[tokio::test]
async fn malformed_trace_headers_add_no_link_and_the_order_is_still_traced() {
    exporter();
    let app = spawn_app().await;
    let event = order_event()
        .header("traceparent", &format!("00-{TRACE}-0000000000000000-01"))
        .header("tracestate", &"k=v,".repeat(2000))
        .header("X-Amzn-Trace-Id", "Root=1-zzzz;Parent=;Sampled=1");

    let trace = place_and_fulfil(&app, event).await;

    assert!(links(&trace.server).is_empty());
    assert_ne!(trace.server.span_context.trace_id(), trace_id(TRACE));
}

/// Rewrites every message's `traceparent` to `value`, as a producer of an older deployment wrote it.
fn with_traceparent(value: &str) -> impl Fn(&mut SqsEvent) + '_ {
    move |event: &mut SqsEvent| {
        for record in &mut event.records {
            let attribute = record
                .message_attributes
                .get_mut("traceparent")
                .expect("our messages carry a traceparent");
            attribute.string_value = Some(value.to_owned());
        }
    }
}

#[tokio::test]
async fn a_queue_message_marked_not_sampled_still_yields_the_consumers_spans_in_its_trace() {
    exporter();
    let app = spawn_app().await;
    let answer = post(&app, order_event()).await;
    assert_eq!(answer.status, 202);
    let (trace, producer) = ("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331");

    // An older deployment's message: its trace was not sampled.
    let old = format!("00-{trace}-{producer}-00");
    run_consumer(&app, &app.orders_queue, with_traceparent(&old)).await;
    run_consumer(&app, &app.stock_queue, |_| {}).await;

    let order = answer.json["id"].as_str().unwrap();
    assert_eq!(app.status(order).await, "fulfilled");
    let spans = spans_of(trace_id(trace));
    let process = one(&spans, "orders process");
    assert_eq!(process.parent_span_id, SpanId::from_hex(producer).unwrap());
    let process_id = process.span_context.span_id();
    assert!(descends_from(
        &spans,
        one(&spans, "reserve stock"),
        process_id
    ));
    assert!(descends_from(
        &spans,
        one(&spans, "stock process"),
        process_id
    ));
}

/// Places an order while queue 1 is down (create-order keeps the message in its outbox) and returns its id.
async fn place_while_queue_1_is_down(app: &TestApp, event: ApiEvent) -> String {
    let down = support::TestQueue {
        url: format!("{}-gone", app.orders_queue.url),
        ..app.orders_queue.clone()
    };
    let offline = support::deps_for(&app.db_url, &app.sqs, &down, &app.stock_queue).await;
    let service = order_core::service::OrderService::new(offline);
    let answer = support::answer(
        order_core::http::serve(event.request(), |req| {
            order_core::http::create_order(service, req)
        })
        .await,
    );
    assert_eq!(answer.status, 202);
    answer.json["id"].as_str().unwrap().to_owned()
}

/// One relay run, inside its own invocation span, that publishes exactly one row.
async fn relay_once(app: &TestApp) {
    let relay = tracing::info_span!("relay invocation");
    let settings = RelaySettings {
        min_age: std::time::Duration::ZERO,
        batch_size: 10,
        ..Default::default()
    };
    let report = support::relay(&app.deps, settings)
        .instrument(relay.clone())
        .await
        .unwrap();
    assert_eq!(report.published, 1);
}

#[tokio::test]
async fn a_relay_published_order_stays_in_the_trace_of_its_http_request() {
    exporter();
    let app = spawn_app().await;
    let event = order_event().header("traceparent", &format!("00-{TRACE}-{CALLER_SPAN}-01"));
    let order = place_while_queue_1_is_down(&app, event).await;

    relay_once(&app).await;
    consume(&app).await;

    let server = server_span_of(&order);
    let spans = spans_of(server.span_context.trace_id());
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
async fn an_outbox_row_marked_not_sampled_is_still_traced_by_the_relay_and_the_consumers() {
    use sea_orm::ConnectionTrait;
    exporter();
    let app = spawn_app().await;
    let order = place_while_queue_1_is_down(&app, order_event()).await;
    let (trace, writer) = ("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331");
    // As an older deployment wrote it: the client's unsampled context.
    let sql = format!(
        r#"UPDATE outbox SET trace_context = '{{"traceparent": "00-{trace}-{writer}-00"}}'::jsonb WHERE payload->>'order_id' = '{order}'"#
    );
    assert_eq!(
        app.conn
            .execute_unprepared(&sql)
            .await
            .unwrap()
            .rows_affected(),
        1
    );

    relay_once(&app).await;
    consume(&app).await;

    assert_eq!(app.status(&order).await, "fulfilled");
    let spans = spans_of(trace_id(trace));
    let publish = one(&spans, "orders publish");
    assert_eq!(publish.parent_span_id, SpanId::from_hex(writer).unwrap());
    let process = one(&spans, "orders process");
    assert_eq!(process.parent_span_id, publish.span_context.span_id());
    assert!(descends_from(
        &spans,
        one(&spans, "stock process"),
        process.span_context.span_id()
    ));
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

#[test]
fn a_context_without_tracestate_carries_no_empty_attribute() {
    exporter();
    let span = tracing::info_span!("publish");
    let context = order_core::telemetry::span_trace_context(&span);
    assert!(context.contains_key("traceparent"), "{context:?}");
    // SQS refuses a message attribute whose value is empty; real SQS and LocalStack answer 400.
    assert!(context.values().all(|v| !v.is_empty()), "{context:?}");
}
