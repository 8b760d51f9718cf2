//! Tracing set up once per function: JSON logs, OpenTelemetry over OTLP/HTTP (to CloudWatch, SigV4-signed, or to
//! a collector), W3C and X-Ray propagation; and the EMF business metrics ([`metrics`]).
//!
//! Configured by the standard variables (`RUST_LOG`, `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TIMEOUT`,
//! `OTEL_TRACES_EXPORTER`, `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`) plus
//! `AWS_OTLP_TRACES_ENDPOINT` and `TELEMETRY_HASH_SALT`; see [`export`] for where spans go. Without a destination,
//! spans are not exported but trace ids still flow through messages and logs.

mod edge;
pub mod export;
mod json_log;
pub mod metrics;
mod privacy;
mod sigv4;

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

pub use edge::{LINK_SOURCE, caller_contexts, extract_own, start_at_edge};
pub use privacy::{CUSTOMER_HASH, Customer, ORDER_ID, customer_hash};

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
    metrics::init(service);
    let settings = export::Settings::from_env();
    let provider = export::exporter(&settings.destination(), settings.timeout())
        .map_err(|e| eprintln!("OTLP exporter disabled: {e}"))
        .ok()
        .flatten()
        .map(|exporter| {
            let name = optional("OTEL_SERVICE_NAME").unwrap_or_else(|| service.to_owned());
            SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(Resource::builder().with_service_name(name).build())
                .build()
        });
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt::layer()
        .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
        .event_format(json_log::JsonLog);
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
    span_trace_context(&tracing::Span::current())
}

/// `span`'s context as W3C headers. Empty values are left out: the propagator writes `tracestate: ""` when
/// the context has none, and SQS refuses a message attribute with an empty value.
pub fn span_trace_context(span: &tracing::Span) -> TraceContext {
    let cx = span.context();
    let mut carrier = HashMap::new();
    global::get_text_map_propagator(|p| p.inject_context(&cx, &mut carrier));
    carrier.retain(|_, value: &mut String| !value.is_empty());
    carrier
}

/// A context from W3C headers; anything malformed yields an empty context (a fresh trace), never an error.
pub fn extract(carrier: &HashMap<String, String>) -> Context {
    // The SDK's propagator accepts ids of the wrong length; W3C says to ignore such a header, so check it first.
    match carrier.get("traceparent") {
        Some(tp) if well_formed_traceparent(tp) => {
            let mut carrier = carrier.clone();
            if carrier
                .get("tracestate")
                .is_some_and(|ts| ts.len() > MAX_TRACESTATE)
            {
                carrier.remove("tracestate");
            }
            TraceContextPropagator::new().extract(&carrier)
        }
        _ => Context::new(),
    }
}

/// Longest `tracestate` kept (32 members of 256 bytes would be 8 KiB; real ones are far shorter).
const MAX_TRACESTATE: usize = 512;

/// `version-traceid-parentid-flags` with exact lengths in lower-case hex, not version `ff`, non-zero ids.
fn well_formed_traceparent(value: &str) -> bool {
    let parts: Vec<&str> = value.trim().split('-').collect();
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let zero = |s: &str| s.bytes().all(|b| b == b'0');
    match parts.as_slice() {
        [version, trace, parent, flags, rest @ ..] => {
            hex(version, 2)
                && *version != "ff"
                && (*version != "00" || rest.is_empty())
                && hex(trace, 32)
                && !zero(trace)
                && hex(parent, 16)
                && !zero(parent)
                && hex(flags, 2)
        }
        _ => false,
    }
}

/// Makes `span` a child of the remote `parent` and records its trace id for the JSON logs.
pub fn adopt(span: &tracing::Span, parent: Context) {
    if parent.span().span_context().is_valid() {
        let _ = span.set_parent(parent);
    }
    let trace_id = span.context().span().span_context().trace_id();
    span.record("trace_id", tracing::field::display(trace_id));
}

#[cfg(test)]
mod tests {
    use super::well_formed_traceparent;

    #[test]
    fn only_well_formed_traceparents_are_trusted() {
        assert!(well_formed_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        ));
        assert!(well_formed_traceparent(
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future"
        ));
        for bad in [
            "00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "",
        ] {
            assert!(!well_formed_traceparent(bad), "{bad}");
        }
    }
}
