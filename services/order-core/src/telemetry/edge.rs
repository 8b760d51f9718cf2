//! Where a trace starts and where it is continued.
//!
//! - At the public edge (API Gateway's requests) nothing the caller sends is trusted: the server span starts a
//!   new trace that our sampler decides, and the caller's W3C `traceparent` and X-Ray `X-Amzn-Trace-Id`
//!   contexts become span links (the OpenTelemetry API's "public endpoint" case, Go's `otelhttp.WithPublicEndpoint`).
//!   API Gateway passes a client's `X-Amzn-Trace-Id` through, so its header is the caller's too.
//! - Behind our own queues and outbox the context is ours: it is continued, and recorded whatever its sampled
//!   flag says, so a message from an older deployment (flags `00`) still lands in its order's trace. The
//!   sampling decision for an order is made once, at the edge.

use std::collections::HashMap;

use lambda_http::http::HeaderMap;
use opentelemetry::trace::{SpanContext, TraceContextExt, TraceFlags, TraceState};
use opentelemetry::{Context, KeyValue};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The link attribute naming the header a caller's context came from (`traceparent` or `x-amzn-trace-id`).
pub const LINK_SOURCE: &str = "link.source";
/// Longest header value read at the edge; anything longer is the caller's noise, not a context.
const MAX_HEADER: usize = 1024;

/// Makes `span` the root of a new trace and links it to each valid context the caller sent. Malformed values
/// add no link and never fail the request.
pub fn start_at_edge(span: &tracing::Span, headers: &HeaderMap) {
    // An explicit empty parent: not the caller's, nor whatever `tracing` span happens to be current.
    let _ = span.set_parent(Context::new());
    for (source, context) in caller_contexts(headers) {
        span.add_link_with_attributes(context, vec![KeyValue::new(LINK_SOURCE, source)]);
    }
    super::adopt(span, Context::new());
}

/// The caller's valid contexts, W3C first. Only the trace id, span id and flags are kept: `tracestate` is the
/// caller's free text and has no place in our traces.
pub fn caller_contexts(headers: &HeaderMap) -> Vec<(&'static str, SpanContext)> {
    let carrier: HashMap<String, String> = headers
        .iter()
        .filter(|(_, v)| v.len() <= MAX_HEADER)
        .filter_map(|(k, v)| Some((k.as_str().to_ascii_lowercase(), v.to_str().ok()?.to_owned())))
        .collect();
    let w3c = carrier
        .get("traceparent")
        .map(|tp| super::extract(&HashMap::from([("traceparent".to_owned(), tp.clone())])))
        .map(|cx| cx.span().span_context().clone());
    let xray = carrier
        .get("x-amzn-trace-id")
        .and_then(|value| opentelemetry_aws::trace::xray_propagator::span_context_from_str(value));
    [("traceparent", w3c), ("x-amzn-trace-id", xray)]
        .into_iter()
        .filter_map(|(source, sc)| Some((source, sc.filter(SpanContext::is_valid)?)))
        .map(|(source, sc)| (source, without_state(&sc)))
        .collect()
}

fn without_state(sc: &SpanContext) -> SpanContext {
    SpanContext::new(
        sc.trace_id(),
        sc.span_id(),
        sc.trace_flags(),
        true,
        TraceState::NONE,
    )
}

/// A context we wrote ourselves (a queue message's attributes, an outbox row), to continue: the W3C headers
/// as [`super::extract`] reads them, marked sampled so the span is recorded whatever the flags said.
pub fn extract_own(carrier: &HashMap<String, String>) -> Context {
    let cx = super::extract(carrier);
    let sc = cx.span().span_context().clone();
    if !sc.is_valid() || sc.is_sampled() {
        return cx;
    }
    let sampled = SpanContext::new(
        sc.trace_id(),
        sc.span_id(),
        sc.trace_flags() | TraceFlags::SAMPLED,
        sc.is_remote(),
        sc.trace_state().clone(),
    );
    Context::new().with_remote_span_context(sampled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::HeaderValue;
    use opentelemetry::trace::{SpanId, TraceId};

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn both_header_forms_become_links_without_the_callers_tracestate() {
        let found = caller_contexts(&headers(&[
            (
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
            ),
            ("tracestate", "vendor=secret"),
            (
                "X-Amzn-Trace-Id",
                "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
            ),
        ]));
        let ids: Vec<_> = found
            .iter()
            .map(|(s, sc)| (*s, sc.trace_id(), sc.span_id(), sc.is_sampled()))
            .collect();
        assert_eq!(
            ids,
            [
                (
                    "traceparent",
                    TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
                    SpanId::from_hex("00f067aa0ba902b7").unwrap(),
                    false
                ),
                (
                    "x-amzn-trace-id",
                    TraceId::from_hex("5759e988bd862e3fe1be46a994272793").unwrap(),
                    SpanId::from_hex("53995c3f42cd8ad8").unwrap(),
                    false
                ),
            ]
        );
        assert!(
            found
                .iter()
                .all(|(_, sc)| sc.trace_state().header().is_empty())
        );
    }

    #[test]
    fn malformed_or_missing_contexts_give_no_link() {
        for pairs in [
            vec![],
            vec![("traceparent", "garbage;;;==")],
            vec![("x-amzn-trace-id", "Root=1-nothex;Sampled=1")],
            vec![(
                "x-amzn-trace-id",
                "Root=1-5759e988-bd862e3fe1be46a994272793",
            )],
        ] {
            assert!(caller_contexts(&headers(&pairs)).is_empty(), "{pairs:?}");
        }
    }

    #[test]
    fn our_own_unsampled_context_is_continued_as_sampled() {
        let carrier = HashMap::from([(
            "traceparent".to_owned(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00".to_owned(),
        )]);
        let cx = extract_own(&carrier);
        let sc = cx.span().span_context().clone();
        assert_eq!(
            sc.trace_id(),
            TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap()
        );
        assert_eq!(sc.span_id(), SpanId::from_hex("00f067aa0ba902b7").unwrap());
        assert!(sc.is_sampled() && sc.is_remote());
        assert!(
            !extract_own(&HashMap::new())
                .span()
                .span_context()
                .is_valid()
        );
    }
}
