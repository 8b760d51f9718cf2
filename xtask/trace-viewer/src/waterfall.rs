//! A trace as a waterfall: one row per span, children indented under their parent and sorted by start, with
//! the start offset from the trace's start, the duration, the status and a bar drawn to scale.

use std::collections::HashMap;
use std::fmt::Write;

use anyhow::Result;

use super::spans::Span;

/// Columns of the bar.
pub const BAR_WIDTH: usize = 40;

/// One row of the waterfall.
#[derive(Debug, PartialEq)]
pub struct Row {
    pub depth: usize,
    pub service: String,
    pub name: String,
    /// Milliseconds from the trace's start.
    pub start_ms: f64,
    pub duration_ms: f64,
    pub status: String,
}

/// The spans of one trace in display order: depth first, siblings by start. A span whose parent is not in the
/// file (the caller's, say) is a root.
pub fn rows(spans: &[Span]) -> Result<Vec<Row>> {
    let mut timed = Vec::with_capacity(spans.len());
    for span in spans {
        timed.push((span, span.times()?));
    }
    timed.sort_by_key(|(span, (start, _))| (*start, span.span_id.clone()));
    let origin = timed.first().map_or(0, |(_, (start, _))| *start);
    let present: HashMap<&str, ()> = spans.iter().map(|s| (s.span_id.as_str(), ())).collect();
    let mut children: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, (span, _)) in timed.iter().enumerate() {
        let parent = span.parent_span_id.as_str();
        let key = if present.contains_key(parent) {
            parent
        } else {
            ""
        };
        children.entry(key).or_default().push(i);
    }
    let mut out = Vec::with_capacity(timed.len());
    let mut stack: Vec<(usize, usize)> = children
        .get("")
        .into_iter()
        .flatten()
        .rev()
        .map(|&i| (i, 0))
        .collect();
    while let Some((i, depth)) = stack.pop() {
        let (span, (start, end)) = timed[i];
        out.push(Row {
            depth,
            service: span.service.clone(),
            name: span.name.clone(),
            start_ms: (start - origin) as f64 / 1e6,
            duration_ms: (end - start) as f64 / 1e6,
            status: span.status.clone().unwrap_or_else(|| "unset".to_owned()),
        });
        let below = children.get(span.span_id.as_str()).into_iter().flatten();
        stack.extend(below.rev().map(|&c| (c, depth + 1)));
    }
    Ok(out)
}

/// The bar of a span starting `start_ms` into a trace of `total_ms`, lasting `duration_ms`: at least one
/// column, never past the end.
pub fn bar(start_ms: f64, duration_ms: f64, total_ms: f64) -> String {
    let scale = if total_ms > 0.0 {
        BAR_WIDTH as f64 / total_ms
    } else {
        0.0
    };
    let offset = ((start_ms * scale).round() as usize).min(BAR_WIDTH - 1);
    let length = ((duration_ms * scale).round() as usize).clamp(1, BAR_WIDTH - offset);
    format!(
        "|{}{}{}|",
        " ".repeat(offset),
        "█".repeat(length),
        " ".repeat(BAR_WIDTH - offset - length)
    )
}

/// The waterfall as text: a header line, column titles, one line per row.
pub fn render(trace_id: &str, rows: &[Row]) -> String {
    let total = rows
        .iter()
        .map(|r| r.start_ms + r.duration_ms)
        .fold(0.0, f64::max);
    let name_width = rows
        .iter()
        .map(|r| 2 * r.depth + r.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    let service_width = rows
        .iter()
        .map(|r| r.service.len())
        .max()
        .unwrap_or(0)
        .max(7);
    let mut out = format!("trace {trace_id}: {} spans, {total:.1} ms\n", rows.len());
    let _ = writeln!(
        out,
        "{:<service_width$}  {:<name_width$}  {:>10}  {:>10}  {:<6}  bar",
        "service", "span", "start", "duration", "status"
    );
    for r in rows {
        let name = format!("{}{}", "  ".repeat(r.depth), r.name);
        let _ = writeln!(
            out,
            "{:<service_width$}  {:<name_width$}  {:>7.1} ms  {:>7.1} ms  {:<6}  {}",
            r.service,
            name,
            r.start_ms,
            r.duration_ms,
            r.status,
            bar(r.start_ms, r.duration_ms, total)
        );
    }
    out
}
