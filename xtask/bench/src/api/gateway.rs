//! One warm `GET /orders` through the local gateway, component by component.
//!
//! Method: the native stack as `cargo xtask up` runs it (get-orders a debug build under `cargo lambda watch`,
//! exporting its spans to otlp-sink after each response; the gateway in front, verifying the demo user's ID
//! token), on the bench's own database. One client, one request at a time, `REQUESTS` per series after
//! `WARM_UP`; every figure is a median (p50), in ms:
//! - client: the client's latency through the gateway (as `bench coldstart`'s warm row), one connection per request;
//! - gateway, authorizer, invocation: the gateway's access log (`elapsed_us`, `authorize_us`: JWT verification
//!   against the cached JWKS; `invoke_us`: the Invoke API's round trip);
//! - direct: the same request's event posted straight to `cargo lambda watch`'s Invoke API, no gateway;
//! - handler: get-orders' server span (`GET /orders`) as otlp-sink received it, and its store span (the SQL);
//! - paced: the same series with `PAUSE` between requests, so the export after each response is over before
//!   the next request arrives. Back-to-back minus paced is what the export adds: the function asks for its next
//!   event only once its spans are exported.
//!
//! Components: client to gateway (HTTP on loopback) = client − gateway's whole; the gateway's own work = whole −
//! authorizer − invocation; the runtime emulator = invocation − handler span (its HTTP hops, the event handed
//! to the runtime and the response posted back, and lambda_http's conversions in the debug build).

mod series;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};
use base64::Engine;

use native_stack::aws::cognito;
use native_stack::{Options, Stack, XraySampling, functions, proc};
use series::{Figures, Target};

const OPTIONS: Options = Options {
    database: "bench_api_stack",
    fresh_database: true,
    gateway_port: None,
    hot_reload: false,
    xray_sampling: XraySampling::AWS_DEFAULT,
};
const TIMEOUT: Duration = Duration::from_secs(60);

/// Prints the breakdown for the demo user's empty list and for a full page of 20, with get-orders exporting its
/// spans, then (restarted) with export off.
pub fn breakdown(root: &Path) -> Result<()> {
    eprintln!("== api: the native stack, for GET /orders through the gateway");
    let stack = native_stack::start(root, &OPTIONS)?;
    let token = cognito::sign_in(&stack.cognito_endpoint, &stack.client_id, TIMEOUT)?;
    let sub = subject(&token)?;
    let functions = stack
        .functions
        .as_ref()
        .context("the stack runs no functions")?;
    let target = Target {
        gateway: format!("{}/orders", stack.gateway_url),
        authorization: format!("Bearer {token}"),
        invoke: functions::invoke_url(&functions.invoke_base(), "get-orders"),
        event: series::event(&sub),
        gateway_log: stack.log_dir.join("gateway.log"),
        spans: stack.spans_file.clone(),
    };
    println!("{}", LEGEND.trim_end());
    let empty_on = series::measure(&target, true)?;
    seed_for(root, &stack, &sub)?;
    let full_on = series::measure(&target, true)?;
    export_off(&stack)?;
    let full_off = series::measure(&target, false)?;
    psql(&stack, &UNSEED.replace("{sub}", &sub))?;
    let empty_off = series::measure(&target, false)?;
    print_table(&[
        ("empty list", &empty_on, &empty_off),
        ("list 20", &full_on, &full_off),
    ]);
    Ok(())
}

/// Restarts the functions (`cargo lambda watch` and every function process, as a crash would) with span export
/// off: `OTEL_TRACES_EXPORTER=none` wins over the collector (order_core::telemetry::export).
fn export_off(stack: &Stack) -> Result<()> {
    let env_file = stack.log_dir.join("functions.env");
    let mut vars = std::fs::read_to_string(&env_file)?;
    vars.push_str("OTEL_TRACES_EXPORTER='none'\n");
    std::fs::write(&env_file, vars)?;
    stack
        .functions
        .as_ref()
        .context("the stack runs no functions")?
        .crash_and_restart()?;
    Ok(())
}

/// Removes what [`seed_for`] added for `{sub}`.
const UNSEED: &str = "DELETE FROM order_line WHERE order_id IN (SELECT id FROM orders WHERE customer_id = '{sub}'); \
                      DELETE FROM orders WHERE customer_id = '{sub}';";

fn psql(stack: &Stack, sql: &str) -> Result<()> {
    proc::run(Command::new("psql").arg(&stack.database_url).args([
        "-qv",
        "ON_ERROR_STOP=1",
        "-c",
        sql,
    ]))
}

const LEGEND: &str = "
GET /orders through the local gateway, by component: the demo user's ID token, get-orders a DEBUG build under
cargo lambda watch, exporting its spans to otlp-sink after each response, then restarted with export off.
1 client, one request at a time, p50 in ms of each series (xtask/bench/src/api/gateway.rs has the method).
The demo user's empty list (as bench coldstart's warm row), then 100 orders seeded for them (a page of 20).
";

/// The Cognito `sub` of an ID token (its payload is trusted here: the gateway verifies it).
fn subject(token: &str) -> Result<String> {
    let payload = token.split('.').nth(1).context("not a JWT")?;
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('='))?,
    )?;
    claims["sub"]
        .as_str()
        .map(str::to_owned)
        .context("no sub in the ID token")
}

/// The get-orders seed, with the demo user as the reader.
fn seed_for(root: &Path, stack: &Stack, sub: &str) -> Result<()> {
    let seed = std::fs::read_to_string(root.join(super::SEED))?;
    let file = stack.log_dir.join("get_orders_seed_demo.sql");
    std::fs::write(&file, seed.replace("bench-reader", sub))?;
    super::psql_file(&stack.database_url, &file)
}

/// One row per case and export setting; the components, then the export's share.
fn print_table(rows: &[(&str, &Figures, &Figures)]) {
    println!(
        "\n{:<24}{:>7}{:>8}{:>10}{:>8}{:>7}{:>8}{:>9}{:>8}{:>7}{:>8}",
        "p50 ms",
        "client",
        "no-token",
        "client-gw",
        "gateway",
        "authz",
        "invoke",
        "emulator",
        "handler",
        "SQL",
        "direct"
    );
    for (label, on, off) in rows {
        for (export, f) in [("on", on), ("off", off)] {
            let (handler, sql) = f.spans.map_or(("-".into(), "-".into()), |(h, s)| {
                (format!("{h:.2}"), format!("{s:.2}"))
            });
            let emulator = f
                .spans
                .map_or("-".into(), |(h, _)| format!("{:.2}", f.invoke - h));
            println!(
                "{:<24}{:>7.2}{:>8.2}{:>10.2}{:>8.2}{:>7.2}{:>8.2}{emulator:>9}{handler:>8}{sql:>7}{:>8.2}",
                format!("{label}, export {export}"),
                f.client,
                f.refused,
                f.client - f.gateway_whole,
                f.gateway_whole - f.authorize - f.invoke,
                f.authorize,
                f.invoke,
                f.direct,
            );
        }
    }
    let shares: Vec<String> = rows
        .iter()
        .map(|(label, on, off)| format!("{label} {:+.2} ms", on.client - off.client))
        .collect();
    println!(
        "export's share (client, export on minus off): {}",
        shares.join(", ")
    );
}
