//! The two dev-only servers of the stack: otlp-sink, the trace receiver, and the local gateway (API Gateway,
//! the Cognito authorizer, the SQS event source mappings and the relay's schedule).

use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use order_contract::topology::{FUNCTIONS, Queue};

use super::Stack;
use super::aws::cognito;
use super::aws::init::Resources;
use super::functions::invoke_url;
use crate::proc::{self, Background};
use crate::tools;

/// How the gateway is tuned: compose.yaml's `local-gateway` values.
const GATEWAY_TUNING: [(&str, &str); 4] = [
    ("SQS_BATCH_SIZE", "10"),
    ("SQS_VISIBILITY_TIMEOUT_SECONDS", "60"),
    ("SQS_WAIT_SECONDS", "10"),
    ("RELAY_INTERVAL_SECONDS", "5"),
];
/// Compiling and starting the gateway on a cold machine can take a while.
const GATEWAY_START: Duration = Duration::from_secs(600);

/// The dev-only OTLP receiver the functions export to (Jaeger plays this part under compose).
pub fn start_otlp_sink(root: &Path, stack: &Stack) -> Result<(Background, String)> {
    let _ = std::fs::remove_file(&stack.spans_file);
    let port = proc::free_port()?;
    let mut cmd = tools::cargo(root);
    cmd.args([
        "run",
        "--quiet",
        "-p",
        "local-gateway",
        "--bin",
        "otlp-sink",
    ])
    .env("OTLP_SINK_ADDR", format!("127.0.0.1:{port}"))
    .env("OTLP_SINK_FILE", &stack.spans_file);
    let mut sink = Background::spawn("otlp-sink", &mut cmd, &stack.log_dir.join("otlp-sink.log"))?;
    proc::wait_for_port(port, Duration::from_secs(120), Some(&mut sink))?;
    Ok((sink, format!("http://127.0.0.1:{port}")))
}

/// `wanted` if it is free, else (or if `None`) a free port.
pub fn port(wanted: Option<u16>) -> Result<u16> {
    match wanted {
        Some(port) if TcpListener::bind(("127.0.0.1", port)).is_ok() => Ok(port),
        Some(port) => {
            let free = proc::free_port()?;
            eprintln!("== port {port} is taken: the gateway uses {free} instead");
            Ok(free)
        }
        None => proc::free_port(),
    }
}

/// Starts the gateway on `port`, every function of the table behind its invoke URL.
pub fn start(
    root: &Path,
    stack: &Stack,
    cognito_endpoint: &str,
    aws: &Resources,
    (invoke_base, port): (&str, u16),
    xray: super::XraySampling,
) -> Result<Background> {
    let mut cmd = tools::cargo(root);
    cmd.args(["run", "--quiet", "-p", "local-gateway"])
        .env_remove("DATABASE_URL")
        .env("GATEWAY_LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("OPENAPI_PATH", root.join("docs/openapi.yaml"))
        .env("COGNITO_JWKS_URL", cognito::jwks_url(cognito_endpoint))
        .env("COGNITO_ISSUER", &stack.issuer)
        .env("COGNITO_CLIENT_ID", &stack.client_id)
        .env(Queue::Orders.url_variable(), &aws.orders_queue_url)
        .env(Queue::Stock.url_variable(), &aws.stock_queue_url)
        .env("RUST_LOG", "info")
        .env("GATEWAY_XRAY_RESERVOIR", xray.reservoir.to_string())
        .env("GATEWAY_XRAY_FIXED_RATE", xray.fixed_rate.to_string())
        .envs(GATEWAY_TUNING)
        .envs(stack.aws_env.clone());
    for function in &FUNCTIONS {
        cmd.env(
            function.invoke_url_variable(),
            invoke_url(invoke_base, function.name),
        );
    }
    let log = stack.log_dir.join("gateway.log");
    let mut gateway = Background::spawn("local-gateway", &mut cmd, &log)?;
    proc::wait_for_port(port, GATEWAY_START, Some(&mut gateway))
        .with_context(|| format!("the gateway did not start; see {}", log.display()))?;
    Ok(gateway)
}
