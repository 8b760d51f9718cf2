//! Tracing set up once per function: JSON logs, OpenTelemetry over OTLP/HTTP when configured, W3C and X-Ray
//! propagation.
//!
//! Configured only by the standard variables: `RUST_LOG`, `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_SERVICE_NAME`,
//! `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`. Without an endpoint, spans are not exported but trace ids
//! still flow through messages and logs.

use std::collections::HashMap;

use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry::{Context, global};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{EnvFilter, layer::SubscriberExt, util::SubscriberInitExt};

use crate::config::optional;
use crate::messages::TraceContext;

/// Keeps the tracer provider alive; flush it at the end of every invocation.
#[derive(Clone)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Exports what the invocation produced before Lambda may freeze the environment.
    pub fn flush(&self) {
        if let Some(provider) = &self.provider
            && let Err(e) = provider.force_flush()
        {
            tracing::warn!(error = %e, "span export failed");
        }
    }

    /// Flushes and stops the exporter (SIGTERM).
    pub fn shutdown(&self) {
        if let Some(provider) = &self.provider {
            let _ = provider.shutdown();
        }
    }
}

/// Installs the global subscriber and propagator. Call once, first thing in `main`.
pub fn init(service: &'static str) -> Telemetry {
    global::set_text_map_propagator(TextMapCompositePropagator::new(vec![Box::new(
        TraceContextPropagator::new(),
    )]));
    let provider = optional("OTEL_EXPORTER_OTLP_ENDPOINT").and_then(|_| {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()
            .map_err(|e| eprintln!("OTLP exporter disabled: {e}"))
            .ok()?;
        let name = optional("OTEL_SERVICE_NAME").unwrap_or_else(|| service.to_owned());
        Some(
            SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(Resource::builder().with_service_name(name).build())
                .build(),
        )
    });
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(true)
        .with_target(false);
    let registry = tracing_subscriber::registry().with(filter).with(fmt);
    let result = match &provider {
        Some(p) => {
            global::set_tracer_provider(p.clone());
            registry
                .with(tracing_opentelemetry::layer().with_tracer(p.tracer(service)))
                .try_init()
        }
        None => registry
            .with(
                tracing_opentelemetry::layer().with_tracer(
                    opentelemetry_sdk::trace::SdkTracerProvider::builder()
                        .build()
                        .tracer(service),
                ),
            )
            .try_init(),
    };
    // Tests call init more than once per process; the first subscriber wins.
    let _ = result;
    Telemetry { provider }
}

/// The current span's context as W3C headers, to store in the outbox and send as message attributes.
pub fn current_trace_context() -> TraceContext {
    let cx = tracing::Span::current().context();
    let mut carrier = HashMap::new();
    global::get_text_map_propagator(|p| p.inject_context(&cx, &mut carrier));
    carrier
}

/// A context from W3C headers; anything malformed yields an empty context (a fresh trace), never an error.
pub fn extract(carrier: &HashMap<String, String>) -> Context {
    global::get_text_map_propagator(|p| p.extract(carrier))
}

/// The caller's context from HTTP headers: W3C `traceparent`/`tracestate`, else API Gateway's
/// `X-Amzn-Trace-Id` (X-Ray format). Malformed values start a fresh trace.
pub fn extract_http(headers: &lambda_http::http::HeaderMap) -> Context {
    let carrier: HashMap<String, String> = headers
        .iter()
        .filter(|(_, v)| v.len() <= 1024)
        .filter_map(|(k, v)| Some((k.as_str().to_ascii_lowercase(), v.to_str().ok()?.to_owned())))
        .collect();
    let w3c = extract(&carrier);
    if w3c.span().span_context().is_valid() {
        return w3c;
    }
    opentelemetry_aws::trace::XrayPropagator::new().extract(&carrier)
}

/// Makes `span` a child of the remote `parent` and records its trace id for the JSON logs.
pub fn adopt(span: &tracing::Span, parent: Context) {
    if parent.span().span_context().is_valid() {
        let _ = span.set_parent(parent);
    }
    let trace_id = span.context().span().span_context().trace_id();
    span.record("trace_id", tracing::field::display(trace_id));
}

/// The W3C propagator alone (tests).
pub fn w3c() -> impl TextMapPropagator {
    TraceContextPropagator::new()
}
