//! The series behind the gateway breakdown: timed requests, and what the gateway's access log and the exported
//! spans say about the same requests.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Result, bail};
use serde_json::{Value, json};

use crate::percentile;
use native_stack::http;

/// Measured requests per series, after `WARM_UP` unmeasured ones.
const REQUESTS: usize = 200;
const WARM_UP: usize = 20;
const TIMEOUT: Duration = Duration::from_secs(60);

/// Where the requests go and where their traces land.
pub struct Target {
    pub gateway: String,
    pub authorization: String,
    /// get-orders' Invoke API URL under `cargo lambda watch`.
    pub invoke: String,
    /// The proxy event posted to it directly.
    pub event: String,
    pub gateway_log: PathBuf,
    pub spans: PathBuf,
}

/// The p50 of each series and source, in ms.
pub struct Figures {
    pub client: f64,
    /// The same request without a token: the gateway answers 401 itself (no JWT to verify, no invocation).
    pub refused: f64,
    pub gateway_whole: f64,
    pub authorize: f64,
    pub invoke: f64,
    /// The handler's server span and its store span; `None` with export off.
    pub spans: Option<(f64, f64)>,
    pub direct: f64,
}

/// Every series, one after the other; `spans`: whether the function exports them.
pub fn measure(target: &Target, spans: bool) -> Result<Figures> {
    let log_from = std::fs::metadata(&target.gateway_log)?.len();
    let spans_from = unix_nanos();
    let client = timed(|| through_gateway(target, true))?;
    std::thread::sleep(Duration::from_millis(500)); // the last export lands
    let access = access_log(target, log_from)?;
    let spans = match spans {
        true => Some(handler_spans(target, spans_from)?),
        false => None,
    };
    Ok(Figures {
        client,
        refused: timed(|| through_gateway(target, false))?,
        gateway_whole: p50(access.iter().map(|a| a[0]).collect()),
        authorize: p50(access.iter().map(|a| a[1]).collect()),
        invoke: p50(access.iter().map(|a| a[2]).collect()),
        spans,
        direct: timed(|| invoke_directly(target))?,
    })
}

/// The API Gateway proxy event the gateway builds for the demo user's `GET /orders` (the claims trimmed to `sub`).
pub fn event(sub: &str) -> String {
    json!({
        "resource": "/orders", "path": "/orders", "httpMethod": "GET",
        "headers": {"accept": "*/*", "host": "127.0.0.1"},
        "multiValueHeaders": {"accept": ["*/*"], "host": ["127.0.0.1"]},
        "queryStringParameters": null, "multiValueQueryStringParameters": null,
        "pathParameters": null, "stageVariables": null,
        "requestContext": {
            "resourcePath": "/orders", "httpMethod": "GET", "path": "/local/orders",
            "stage": "local", "requestId": "bench-api", "accountId": "000000000000",
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": {"claims": {"sub": sub, "token_use": "id"}},
        },
        "body": null, "isBase64Encoded": false,
    })
    .to_string()
}

/// `GET /orders` through the gateway, with the token (200 expected) or without (401).
fn through_gateway(target: &Target, with_token: bool) -> Result<()> {
    let (headers, expected): (&[(&str, &str)], u16) = match with_token {
        true => (&[("Authorization", &target.authorization)], 200),
        false => (&[], 401),
    };
    let reply = http::send("GET", &target.gateway, headers, "", TIMEOUT)?;
    if reply.status != expected {
        bail!(
            "GET /orders answered {}: {}",
            reply.status,
            reply.body.trim()
        );
    }
    Ok(())
}

fn invoke_directly(target: &Target) -> Result<()> {
    let reply = http::post_json(&target.invoke, &target.event, TIMEOUT)?;
    let answer: Value = serde_json::from_str(&reply.body).unwrap_or_default();
    if reply.status != 200 || answer["statusCode"] != 200 {
        bail!(
            "the direct invoke answered {}: {}",
            reply.status,
            reply.body.trim()
        );
    }
    Ok(())
}

/// The p50 latency of `REQUESTS` requests (after `WARM_UP`), back to back, in ms.
fn timed(request: impl Fn() -> Result<()>) -> Result<f64> {
    let mut latencies = Vec::with_capacity(REQUESTS);
    for i in 0..WARM_UP + REQUESTS {
        let started = Instant::now();
        request()?;
        if i >= WARM_UP {
            latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    Ok(p50(latencies))
}

/// `[elapsed, authorize, invoke]` in ms of each `GET /orders` the gateway logged after byte `from` of its log,
/// the warm-up's included (same requests, same figures).
fn access_log(target: &Target, from: u64) -> Result<Vec<[f64; 3]>> {
    let log = std::fs::read(&target.gateway_log)?;
    let text = String::from_utf8_lossy(&log[(from as usize).min(log.len())..]);
    let micros = |line: &str, key: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .and_then(|v| v.parse::<f64>().ok())
            .map(|us| us / 1000.0)
    };
    let rows: Vec<[f64; 3]> = text
        .lines()
        .filter(|l| l.contains("path=/orders") && l.contains("status=200"))
        .filter_map(|l| {
            Some([
                micros(l, "elapsed_us=")?,
                micros(l, "authorize_us=")?,
                micros(l, "invoke_us=")?,
            ])
        })
        .collect();
    if rows.is_empty() {
        bail!("no timed GET /orders in {}", target.gateway_log.display());
    }
    Ok(rows)
}

/// p50 of get-orders' server spans (`GET /orders`) and of its store spans (`SELECT orders`) that started after
/// `from` (Unix ns), in ms.
fn handler_spans(target: &Target, from: u128) -> Result<(f64, f64)> {
    let text = std::fs::read_to_string(&target.spans)?;
    let (mut server, mut store) = (Vec::new(), Vec::new());
    for span in text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
    {
        let start = span["start_unix_nano"].as_u64().unwrap_or(0);
        let end = span["end_unix_nano"].as_u64().unwrap_or(0);
        if span["service"] != "get-orders" || u128::from(start) < from {
            continue;
        }
        let ms = end.saturating_sub(start) as f64 / 1e6;
        match span["name"].as_str() {
            Some("GET /orders") => server.push(ms),
            Some("SELECT orders") => store.push(ms),
            _ => {}
        }
    }
    if server.is_empty() {
        bail!("no get-orders server span in {}", target.spans.display());
    }
    Ok((p50(server), p50(store)))
}

fn p50(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    percentile(&values, 50.0)
}

fn unix_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}
