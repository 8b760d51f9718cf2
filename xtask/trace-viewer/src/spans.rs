//! The native stack's span file (otlp-sink's JSON lines) and finding one trace in it, by trace id or order id.

use std::collections::BTreeSet;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::{Map, Value};

/// One span, as otlp-sink writes it.
#[derive(Clone, Debug, Deserialize)]
pub struct Span {
    pub service: String,
    pub trace_id: String,
    pub span_id: String,
    /// Empty for a root span.
    #[serde(default)]
    pub parent_span_id: String,
    pub name: String,
    /// Absent in files written before otlp-sink recorded timings.
    pub start_unix_nano: Option<u64>,
    pub end_unix_nano: Option<u64>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub attributes: Map<String, Value>,
}

impl Span {
    /// The order this span is about, if any (`order_id` from `tracing` fields, `order.id` by convention).
    pub fn order_id(&self) -> Option<&str> {
        ["order.id", "order_id"]
            .iter()
            .find_map(|key| self.attributes.get(*key).and_then(Value::as_str))
    }

    /// Start and end, in nanoseconds since the epoch.
    pub fn times(&self) -> Result<(u64, u64)> {
        match (self.start_unix_nano, self.end_unix_nano) {
            (Some(start), Some(end)) => Ok((start, end.max(start))),
            _ => bail!(
                "span {} has no timings: the span file predates otlp-sink's timings; restart the stack",
                self.span_id
            ),
        }
    }
}

/// Reads every span of a JSON-lines file; blank lines are skipped, a malformed line is an error.
pub fn parse(text: &str) -> Result<Vec<Span>> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line).with_context(|| format!("line {}: not a span", i + 1))
        })
        .collect()
}

/// The traces `id` names: itself if it is a trace id in the file, else every trace with a span about order
/// `id`. Each trace's spans, traces by their first span's start.
pub fn find(spans: &[Span], id: &str) -> Result<Vec<Vec<Span>>> {
    let id = id.trim().to_ascii_lowercase();
    let trace_ids: BTreeSet<&str> = if spans.iter().any(|s| s.trace_id == id) {
        BTreeSet::from([id.as_str()])
    } else {
        spans
            .iter()
            .filter(|s| s.order_id().is_some_and(|o| o.eq_ignore_ascii_case(&id)))
            .map(|s| s.trace_id.as_str())
            .collect()
    };
    if trace_ids.is_empty() {
        bail!(
            "no trace {id} and no span with order id {id} among {} spans",
            spans.len()
        );
    }
    let mut traces: Vec<Vec<Span>> = trace_ids
        .into_iter()
        .map(|t| spans.iter().filter(|s| s.trace_id == t).cloned().collect())
        .collect();
    traces.sort_by_key(|t: &Vec<Span>| t.iter().filter_map(|s| s.start_unix_nano).min());
    Ok(traces)
}
