//! The trace view against a small span file: two traces, one found by trace id, both by order id (the
//! `tracing` field `order_id` and the convention `order.id`), nesting, and bars.

use super::spans::{find, parse};
use super::waterfall::{BAR_WIDTH, bar, rows};
use super::*;

const FIXTURE: &str = include_str!("fixture.jsonl");
const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const ORDER: &str = "0193a000-0000-7000-8000-0000000000aa";

fn outline(trace: &[spans::Span]) -> Vec<(usize, String, f64, f64, String)> {
    rows(trace)
        .unwrap()
        .into_iter()
        .map(|r| (r.depth, r.name, r.start_ms, r.duration_ms, r.status))
        .collect()
}

#[test]
fn a_trace_id_finds_its_spans_nested_under_their_parents_and_sorted_by_start() {
    let spans = parse(FIXTURE).unwrap();

    let traces = find(&spans, TRACE).unwrap();

    assert_eq!(traces.len(), 1);
    let expected = [
        (0, "POST /orders", 0.0, 30.0, "ok"),
        (1, "INSERT orders", 5.0, 15.0, "unset"),
        (1, "orders publish", 22.0, 6.0, "unset"),
        (2, "orders process", 40.0, 40.0, "ok"),
        (3, "stock process", 90.0, 10.0, "error"),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(d, n, s, l, st)| (*d, n.to_string(), *s, *l, st.to_string()))
        .collect();
    assert_eq!(outline(&traces[0]), expected);
}

#[test]
fn an_order_id_finds_the_trace_of_its_spans_under_either_attribute_name() {
    let spans = parse(FIXTURE).unwrap();

    let by_order_id = find(&spans, ORDER).unwrap();
    let by_dotted = find(&spans, "0193A000-0000-7000-8000-0000000000BB").unwrap();

    assert_eq!(by_order_id.len(), 1);
    assert_eq!(by_order_id[0][0].trace_id, TRACE);
    assert_eq!(by_order_id[0].len(), 5);
    assert_eq!(by_dotted.len(), 1);
    assert_eq!(by_dotted[0][0].name, "GET /orders/{id}");
}

#[test]
fn an_unknown_id_is_a_clear_error() {
    let error = show(FIXTURE, "no-such-order").unwrap_err().to_string();

    assert!(error.contains("no trace no-such-order"), "{error}");
    assert!(error.contains("among 6 spans"), "{error}");
}

#[test]
fn the_waterfall_indents_children_and_draws_bars_to_scale() {
    let out = show(FIXTURE, TRACE).unwrap();
    let lines: Vec<&str> = out.lines().collect();

    assert_eq!(lines[0], format!("trace {TRACE}: 5 spans, 100.0 ms"));
    assert!(lines[1].starts_with("service"), "{out}");
    assert!(
        lines[2].starts_with("create-order   POST /orders "),
        "{out}"
    );
    assert!(lines[5].contains("    orders process"), "{out}");
    assert!(lines[6].contains("      stock process") && lines[6].contains("error"));
    // 100 ms over 40 columns: POST /orders is the first 12 columns, stock process the last 4.
    assert!(lines[2].ends_with(&format!("|{}{}|", "█".repeat(12), " ".repeat(28))));
    assert!(lines[6].ends_with(&format!("|{}{}|", " ".repeat(36), "█".repeat(4))));
}

#[test]
fn bars_are_at_least_one_column_and_never_run_past_the_end() {
    let full = bar(0.0, 10.0, 10.0);
    let instant = bar(5.0, 0.0, 10.0);
    let at_end = bar(10.0, 0.0, 10.0);
    let empty_trace = bar(0.0, 0.0, 0.0);

    let columns = |b: &str| b.chars().count() - 2;
    assert_eq!(full, format!("|{}|", "█".repeat(BAR_WIDTH)));
    assert_eq!(instant.chars().filter(|c| *c == '█').count(), 1);
    assert_eq!(instant.find('█'), Some(1 + BAR_WIDTH / 2));
    assert!(at_end.ends_with("█|"));
    assert!(empty_trace.starts_with("|█"));
    for b in [full, instant, at_end, empty_trace] {
        assert_eq!(columns(&b), BAR_WIDTH);
    }
}

#[test]
fn a_span_file_from_before_timings_is_reported_not_drawn() {
    let old = r#"{"service":"a","trace_id":"t","span_id":"s","parent_span_id":"","name":"n","kind":1,"attributes":{}}"#;

    let error = show(old, "t").unwrap_err().to_string();

    assert!(error.contains("no timings"), "{error}");
}

#[test]
fn an_order_placed_while_the_gateway_did_not_sample_is_found_with_its_whole_trace() {
    // As otlp-sink writes them now: the request's trace starts at create-order's server span (a root, linked to
    // the gateway's unsampled X-Ray context); lambda_runtime's invoke span is a trace of its own.
    let order = "0193a000-0000-7000-8000-0000000000cc";
    let line = |service: &str, trace: &str, id: &str, parent: &str, name: &str, start: u64| {
        format!(
            r#"{{"service":"{service}","trace_id":"{trace}","span_id":"{id}","parent_span_id":"{parent}","name":"{name}","kind":2,"start_unix_nano":{start},"end_unix_nano":{end},"status":"unset","attributes":{{"order.id":"{order}"}},"links":[{{"trace_id":"5759e988bd862e3fe1be46a994272793","span_id":"53995c3f42cd8ad8","sampled":false,"attributes":{{"link.source":"x-amzn-trace-id"}}}}],"otlp_bytes":300}}"#,
            end = start + 1_000_000
        )
    };
    let ours = "11111111111111111111111111111111";
    let text = [
        line("create-order", ours, "a1a1a1a1a1a1a1a1", "", "POST /orders", 1),
        line("create-order", ours, "a2a2a2a2a2a2a2a2", "a1a1a1a1a1a1a1a1", "orders publish", 2),
        line("process-order", ours, "a3a3a3a3a3a3a3a3", "a2a2a2a2a2a2a2a2", "orders process", 3),
        line("process-order", ours, "a4a4a4a4a4a4a4a4", "a3a3a3a3a3a3a3a3", "stock publish", 4),
        line("update-stock", ours, "a5a5a5a5a5a5a5a5", "a4a4a4a4a4a4a4a4", "stock process", 5),
        r#"{"service":"create-order","trace_id":"22222222222222222222222222222222","span_id":"b1b1b1b1b1b1b1b1","parent_span_id":"","name":"Lambda runtime invoke","kind":1,"start_unix_nano":0,"end_unix_nano":9,"status":"unset","attributes":{}}"#.to_owned(),
    ]
    .join("\n");

    let traces = find(&parse(&text).unwrap(), order).unwrap();

    assert_eq!(traces.len(), 1);
    let names: Vec<_> = outline(&traces[0])
        .into_iter()
        .map(|r| (r.0, r.1))
        .collect();
    assert_eq!(
        names,
        [
            (0, "POST /orders".to_owned()),
            (1, "orders publish".to_owned()),
            (2, "orders process".to_owned()),
            (3, "stock publish".to_owned()),
            (4, "stock process".to_owned()),
        ]
    );
    assert!(show(&text, order).unwrap().contains("update-stock"));
}
