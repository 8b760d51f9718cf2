use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use tracing_subscriber::layer::SubscriberExt;

use super::*;

/// Runs `spans` under the OpenTelemetry layer with a batch processor over `Scrubbing`, flushes once (as
/// `Telemetry::flush` does) and returns what the exporter received.
fn exported(spans: impl FnOnce()) -> Vec<SpanData> {
    let memory = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(Scrubbing::new(memory.clone()))
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    tracing::subscriber::with_default(subscriber, spans);
    provider.force_flush().unwrap();
    memory.get_finished_spans().unwrap()
}

fn attr(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

fn named<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    spans
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no span {name}"))
}

const SUB: &str = "9a6c1f44-4d1b-4f7e-9a1e-1d2f3c4b5a69";
const ORDER: &str = "0193a000-0000-7000-8000-00000000abcd";

#[test]
fn every_span_under_an_order_carries_order_id_even_when_recorded_late() {
    let spans = exported(|| {
        let request = tracing::info_span!("http request", order_id = tracing::field::Empty);
        let _r = request.enter();
        {
            let insert = tracing::info_span!("INSERT orders");
            let _i = insert.enter();
            tracing::info_span!("query").in_scope(|| ());
        }
        request.record("order_id", ORDER);
    });

    for name in ["http request", "INSERT orders", "query"] {
        assert_eq!(
            attr(named(&spans, name), ORDER_ID).as_deref(),
            Some(ORDER),
            "{name}"
        );
    }
    assert_eq!(
        attr(named(&spans, "http request"), "order_id").as_deref(),
        Some(ORDER)
    );
}

#[test]
fn a_span_over_several_orders_gets_no_order_id_but_each_message_keeps_its_own() {
    let spans = exported(|| {
        let batch = tracing::info_span!("invocation");
        let _b = batch.enter();
        for (n, order) in ["o-1", "o-2"].iter().enumerate() {
            let message = tracing::info_span!("process message", order_id = *order, n);
            let _m = message.enter();
            tracing::info_span!("reserve stock", n).in_scope(|| ());
        }
    });

    assert_eq!(attr(named(&spans, "invocation"), ORDER_ID), None);
    let reserves: Vec<_> = spans.iter().filter(|s| s.name == "reserve stock").collect();
    let mut orders: Vec<_> = reserves
        .iter()
        .map(|s| attr(s, ORDER_ID).unwrap())
        .collect();
    orders.sort();
    assert_eq!(orders, ["o-1", "o-2"]);
}

#[test]
fn the_customer_sub_never_leaves_as_an_attribute_only_its_hash() {
    let spans = exported(|| {
        let select = tracing::info_span!("SELECT orders", customer_id = SUB, limit = 20);
        select.in_scope(|| tracing::info!(customer_id = SUB, "listed"));
    });

    let span = named(&spans, "SELECT orders");
    let everything = format!("{:?}", span.attributes) + &format!("{:?}", span.events);
    assert!(!everything.contains(SUB), "the sub leaked: {everything}");
    assert_eq!(attr(span, "customer_id"), None);
    assert_eq!(attr(span, CUSTOMER_HASH), Some(customer_hash(SUB)));
    assert_eq!(
        span.events[0]
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == CUSTOMER_HASH)
            .map(|kv| kv.value.to_string()),
        Some(customer_hash(SUB))
    );
}

#[test]
fn the_hash_is_salted_stable_and_sixteen_bytes_of_hex() {
    let hash = salted_hash("pepper", SUB);
    assert_eq!(hash.len(), 32);
    assert!(
        hash.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_eq!(hash, salted_hash("pepper", SUB));
    assert_ne!(hash, salted_hash("salt", SUB));
    assert_ne!(hash, salted_hash("pepper", "another-sub"));
    let customer = CustomerId::parse(SUB).unwrap();
    assert_eq!(customer_hash(&customer), customer_hash(SUB));
}
