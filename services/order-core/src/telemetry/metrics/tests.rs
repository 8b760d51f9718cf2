use serde_json::Value;

use super::*;

/// Units CloudWatch accepts in `MetricDefinition.Unit`.
const UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// The rules of the EMF specification (CloudWatch "Specification: Embedded metric format"): `_aws` with an
/// integer millisecond `Timestamp` and a non-empty `CloudWatchMetrics` array; each directive has a `Namespace`,
/// `Dimensions` (arrays of at most 30 keys, each a top-level string member) and 1 to 100 `Metrics` (a `Name`
/// that is a top-level number member, an optional `Unit` from the allowed list).
fn validate(line: &str) -> Result<Value, String> {
    let record: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let root = record.as_object().ok_or("not an object")?;
    let aws = root
        .get("_aws")
        .and_then(Value::as_object)
        .ok_or("no _aws object")?;
    let timestamp = aws
        .get("Timestamp")
        .and_then(Value::as_u64)
        .ok_or("Timestamp not an integer")?;
    // Milliseconds since the epoch: after 2020 and not in seconds or microseconds.
    if !(1_577_836_800_000..4_102_444_800_000).contains(&timestamp) {
        return Err(format!("Timestamp {timestamp} is not epoch milliseconds"));
    }
    let directives = aws
        .get("CloudWatchMetrics")
        .and_then(Value::as_array)
        .ok_or("no CloudWatchMetrics")?;
    if directives.is_empty() {
        return Err("CloudWatchMetrics is empty".into());
    }
    for directive in directives {
        let namespace = directive["Namespace"].as_str().ok_or("no Namespace")?;
        if namespace.is_empty() || namespace.len() > 255 {
            return Err("Namespace length".into());
        }
        validate_dimensions(directive, root)?;
        validate_metrics(directive, root)?;
    }
    Ok(record)
}

/// A directive's `Dimensions`: arrays of at most 30 keys, each naming a top-level string member.
fn validate_dimensions(
    directive: &Value,
    root: &serde_json::Map<String, Value>,
) -> Result<(), String> {
    for set in directive["Dimensions"].as_array().ok_or("no Dimensions")? {
        let keys = set.as_array().ok_or("a dimension set is not an array")?;
        if keys.len() > 30 {
            return Err("more than 30 dimensions".into());
        }
        for key in keys {
            let key = key.as_str().ok_or("a dimension key is not a string")?;
            let value = root.get(key).and_then(Value::as_str);
            if !value.is_some_and(|v| !v.is_empty() && v.len() <= 1024) {
                return Err(format!("dimension {key} is not a top-level string"));
            }
        }
    }
    Ok(())
}

/// A directive's 1 to 100 `Metrics`: each `Name` a top-level number member, its `Unit` (if any) a CloudWatch unit.
fn validate_metrics(
    directive: &Value,
    root: &serde_json::Map<String, Value>,
) -> Result<(), String> {
    let metrics = directive["Metrics"].as_array().ok_or("no Metrics")?;
    if metrics.is_empty() || metrics.len() > 100 {
        return Err("Metrics must hold 1 to 100 definitions".into());
    }
    for metric in metrics {
        let name = metric["Name"].as_str().ok_or("a metric has no Name")?;
        if name.is_empty() || name.len() > 255 {
            return Err("metric Name length".into());
        }
        if !root.get(name).is_some_and(Value::is_number) {
            return Err(format!("metric {name} is not a top-level number"));
        }
        if let Some(unit) = metric.get("Unit")
            && !unit.as_str().is_some_and(|u| UNITS.contains(&u))
        {
            return Err(format!("unit {unit} is not a CloudWatch unit"));
        }
    }
    Ok(())
}

fn reason_for(dimension: &str) -> &'static str {
    if dimension == PATH {
        "relay"
    } else {
        "out_of_stock"
    }
}

#[test]
fn every_documented_metric_is_a_valid_emf_record_with_its_name_unit_and_dimensions() {
    init("outbox-relay");
    capture();

    for (name, unit, extra) in DOCUMENTED {
        match (unit, extra) {
            (Unit::Count, None) => count(name, 2),
            (Unit::Count, Some(dimension)) => count_with(name, dimension, reason_for(dimension), 2),
            (Unit::Milliseconds, _) => milliseconds(name, 1234.5),
            (Unit::Seconds, _) => seconds(name, 61.0),
        }
    }

    let records = take_captured();
    for (name, unit, extra) in DOCUMENTED {
        let record = records
            .iter()
            .find(|r| r.get(name).is_some())
            .unwrap_or_else(|| panic!("{name} was not emitted"));
        let line = record.to_string();
        let record = validate(&line).unwrap_or_else(|e| panic!("{name}: {e}: {line}"));
        let directive = &record["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "OrderBackend");
        let mut dimensions = vec!["Service", "Function"];
        dimensions.extend(extra);
        assert_eq!(
            directive["Dimensions"],
            serde_json::json!([dimensions]),
            "{name}"
        );
        assert_eq!(
            directive["Metrics"],
            serde_json::json!([{"Name": name, "Unit": unit.as_str()}])
        );
        assert_eq!(record["Service"], "order-backend");
        assert_eq!(record["Function"], "outbox-relay");
        if let Some(dimension) = extra {
            assert_eq!(record[dimension], reason_for(dimension));
        }
    }
    let accepted = records
        .iter()
        .find(|r| r.get(ORDERS_ACCEPTED).is_some())
        .unwrap();
    assert_eq!(
        accepted[ORDERS_ACCEPTED].to_string(),
        "2",
        "counts are plain integers"
    );
}

#[test]
fn the_documented_names_are_the_plan_s_table() {
    let names: Vec<&str> = DOCUMENTED.iter().map(|(name, _, _)| *name).collect();
    assert_eq!(
        names,
        [
            "OrdersAccepted",
            "OrdersRejected",
            "OrdersFulfilled",
            "OrdersCancelled",
            "FulfilmentLatency",
            "MessagesPublished",
            "RelayFailures",
            "OutboxOldestAgeSeconds",
            "StalledOrders",
            "LowStockEvents",
            "OutboxStuckRows",
        ]
    );
}

#[test]
fn a_record_is_one_line_and_carries_the_time_it_was_made() {
    let record = record(
        ORDERS_CANCELLED,
        Unit::Count,
        1.0,
        Some((REASON, "expired")),
        "outbox-relay",
        1_800_000_000_123,
    );
    let line = record.to_string();
    assert!(!line.contains('\n'));
    assert_eq!(
        validate(&line).unwrap()["_aws"]["Timestamp"],
        1_800_000_000_123_u64
    );
    assert_eq!(record["Reason"], "expired");
}

#[test]
fn the_validator_rejects_what_cloudwatch_would_drop() {
    let good = record(
        ORDERS_ACCEPTED,
        Unit::Count,
        1.0,
        None,
        "create-order",
        1_800_000_000_000,
    )
    .to_string();
    assert!(validate(&good).is_ok());
    for (broken, why) in [
        (
            good.replace("\"Function\":\"create-order\",", ""),
            "a dimension without its member",
        ),
        (
            good.replace("\"OrdersAccepted\":1", "\"OrdersAccepted\":\"1\""),
            "a metric that is not a number",
        ),
        (
            good.replace("\"Unit\":\"Count\"", "\"Unit\":\"Orders\""),
            "an unknown unit",
        ),
        (
            good.replace("1800000000000", "1800000000"),
            "a timestamp in seconds",
        ),
        (good.replace("\"_aws\"", "\"aws\""), "no _aws"),
    ] {
        assert!(validate(&broken).is_err(), "accepted {why}: {broken}");
    }
}

#[test]
fn values_that_json_cannot_carry_are_not_emitted() {
    capture();
    milliseconds(FULFILMENT_LATENCY, f64::NAN);
    seconds(OUTBOX_OLDEST_AGE_SECONDS, f64::INFINITY);
    assert!(
        take_captured()
            .iter()
            .all(|r| r.get(FULFILMENT_LATENCY).is_none()
                && r.get(OUTBOX_OLDEST_AGE_SECONDS).is_none())
    );
}
