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

/// Starts the stack and prints the breakdown for the demo user's empty list, then for a full page of 20.
pub fn breakdown(root: &Path) -> Result<()> {
    eprintln!("== api: the native stack, for GET /orders through the gateway");
    let stack = native_stack::start(root, &OPTIONS)?;
    let token = cognito::sign_in(&stack.cognito_endpoint, &stack.client_id, TIMEOUT)?;
    let sub = subject(&token)?;
    let invoke_base = stack
        .functions
        .as_ref()
        .context("the stack runs no functions")?
        .invoke_base();
    let target = Target {
        gateway: format!("{}/orders", stack.gateway_url),
        authorization: format!("Bearer {token}"),
        invoke: functions::invoke_url(&invoke_base, "get-orders"),
        event: series::event(&sub),
        gateway_log: stack.log_dir.join("gateway.log"),
        spans: stack.spans_file.clone(),
    };
    println!("{}", LEGEND.trim_end());
    let empty = series::measure(&target)?;
    seed_for(root, &stack, &sub)?;
    let full = series::measure(&target)?;
    print_table(&[("empty list", &empty), ("list 20", &full)]);
    Ok(())
}

const LEGEND: &str = "
GET /orders through the local gateway, by component: the demo user's ID token, get-orders a DEBUG build under
cargo lambda watch exporting its spans to otlp-sink after each response. 1 client, one request at a time,
p50 in ms of each series (see xtask/bench/src/api/gateway.rs for the method). First with the demo user's
empty list (as bench coldstart's warm row), then with 100 orders seeded for the demo user (a page of 20).
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
    let seed = std::fs::read_to_string(root.join("xtask/bench/get_orders_seed.sql"))?;
    let file = stack.log_dir.join("get_orders_seed_demo.sql");
    std::fs::write(&file, seed.replace("bench-reader", sub))?;
    proc::run(
        Command::new("psql")
            .arg(&stack.database_url)
            .args(["-qv", "ON_ERROR_STOP=1", "-f"])
            .arg(&file),
    )
}

fn print_table(rows: &[(&str, &Figures)]) {
    println!(
        "\n{:<11}{:>8}{:>8}{:>10}{:>8}{:>8}{:>8}{:>9}{:>8}{:>8}{:>8}{:>8}",
        "p50 ms",
        "client",
        "paced",
        "client-gw",
        "gateway",
        "authz",
        "invoke",
        "emulator",
        "handler",
        "SQL",
        "direct",
        "d.paced"
    );
    for (label, f) in rows {
        println!(
            "{label:<11}{:>8.2}{:>8.2}{:>10.2}{:>8.2}{:>8.2}{:>8.2}{:>9.2}{:>8.2}{:>8.2}{:>8.2}{:>8.2}",
            f.client,
            f.client_paced,
            f.client - f.gateway_whole,
            f.gateway_whole - f.authorize - f.invoke,
            f.authorize,
            f.invoke,
            f.invoke - f.handler,
            f.handler,
            f.sql,
            f.direct,
            f.direct_paced,
        );
    }
    println!(
        "export's share (back-to-back minus paced): {}",
        rows.iter()
            .map(|(label, f)| format!("{label} {:.2} ms", f.client - f.client_paced))
            .collect::<Vec<_>>()
            .join(", ")
    );
}
