//! One JSON object per log line, carrying the OpenTelemetry `trace_id` and `span_id` of the current span beside
//! the event's fields and those of the spans it happened in (`request_id`, `order_id`, …).

use std::fmt;

use opentelemetry::trace::TraceContextExt;
use serde_json::{Map, Value};
use tracing::{Event, Subscriber, field::Field};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// The event formatter installed by [`super::init`].
pub struct JsonLog;

impl<S, N> FormatEvent<S, N> for JsonLog
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut line = Map::new();
        line.insert(
            "timestamp".into(),
            Value::String(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        );
        line.insert(
            "level".into(),
            Value::String(event.metadata().level().to_string()),
        );
        // Ids first, while no span extension is borrowed: looking them up may build the OpenTelemetry span.
        insert_trace_ids(&mut line, ctx);
        // Span fields, outermost first, so inner spans win (e.g. the message's order_id).
        insert_span_fields(&mut line, ctx);
        let mut visitor = Visitor(&mut line);
        event.record(&mut visitor);
        line.insert(
            "target".into(),
            Value::String(event.metadata().target().to_owned()),
        );
        writeln!(writer, "{}", Value::Object(line))
    }
}

/// The OpenTelemetry `trace_id` and `span_id` of the current span, when it has a valid span context.
fn insert_trace_ids<S, N>(line: &mut Map<String, Value>, ctx: &FmtContext<'_, S, N>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    if let Some(id) = ctx.lookup_current().map(|s| s.id()) {
        let cx =
            tracing::dispatcher::get_default(|d| tracing_opentelemetry::get_otel_context(&id, d));
        if let Some(cx) = cx {
            let sc = cx.span().span_context().clone();
            if sc.is_valid() {
                line.insert("trace_id".into(), Value::String(sc.trace_id().to_string()));
                line.insert("span_id".into(), Value::String(sc.span_id().to_string()));
            }
        }
    }
}

/// The fields of the spans the event happened in (`otel.*` left out), and the innermost span's name as `span`.
fn insert_span_fields<S, N>(line: &mut Map<String, Value>, ctx: &FmtContext<'_, S, N>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    if let Some(scope) = ctx.event_scope() {
        for span in scope.from_root() {
            if let Some(fields) = span.extensions().get::<FormattedFields<N>>()
                && let Ok(Value::Object(map)) = serde_json::from_str::<Value>(fields)
            {
                for (k, v) in map {
                    if !k.starts_with("otel.") {
                        line.insert(k, v);
                    }
                }
            }
            line.insert("span".into(), Value::String(span.name().to_owned()));
        }
    }
}

struct Visitor<'a>(&'a mut Map<String, Value>);

impl tracing::field::Visit for Visitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .insert(field.name().into(), Value::String(value.to_owned()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), Value::String(format!("{value:?}")));
    }
}
