//! `cargo xtask up`: the whole stack as local processes (no Docker) until Ctrl-C; see [`crate`].

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::aws::cognito::{self, DEMO_PASSWORD, DEMO_USERNAME};
use super::{Options, Stack};

/// Starts the stack, prints how to use it, and stops it on Ctrl-C (or SIGTERM), or when a part of it dies.
pub fn up(root: &Path) -> Result<()> {
    let (stop, stopped) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = stop.send(());
    })
    .context("Failed to install the Ctrl-C handler")?;

    let started = Instant::now();
    let options = Options {
        database: "orders",
        fresh_database: false,
        gateway_port: Some(3000),
        hot_reload: true,
        xray_sampling: super::XraySampling::AWS_DEFAULT,
    };
    let mut stack = super::start(root, &options)?;
    print_usage(&stack, started.elapsed(), root);

    loop {
        match stopped.recv_timeout(Duration::from_secs(1)) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                eprintln!("\n== stopping the local stack");
                return Ok(());
            }
            Err(RecvTimeoutError::Timeout) => {
                if let Err(e) = stack.check_alive() {
                    return Err(e).with_context(|| {
                        format!(
                            "the local stack stopped; logs in {}",
                            stack.log_dir.display()
                        )
                    });
                }
            }
        }
    }
}

fn print_usage(stack: &Stack, took: Duration, root: &Path) {
    let api = &stack.gateway_url;
    let logs = stack
        .log_dir
        .strip_prefix(root)
        .unwrap_or(&stack.log_dir)
        .display();
    let sign_in = cognito::sign_in_body(&stack.client_id);
    println!(
        r#"
Local stack ready in {took:.0?}.

  API           {api}   (routes: docs/openapi.yaml; every operation needs a token)
  SQS, Secrets  {sqs}   ({sqs_name})
  Cognito       {aws}   (moto)
  User pool     {pool}, app client {client}
  Database      {db}
  Logs          {logs}/functions.log, {logs}/gateway.log, target/{sqs_log}, target/moto-cognito.log
  Traces        {spans}   (one JSON span per line; cargo xtask trace <order-id>)

Get an ID token for the demo user ({DEMO_USERNAME} / {DEMO_PASSWORD}):

  TOKEN=$(curl -s {aws}/ -H 'Content-Type: application/x-amz-json-1.1' \
    -H 'X-Amz-Target: AWSCognitoIdentityProviderService.InitiateAuth' \
    -d '{sign_in}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["AuthenticationResult"]["IdToken"])')

Place an order (2 black T-shirts), then list your orders:

  curl -si {api}/orders -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{{"items":[{{"product_id":"0193a000-0000-7000-8000-000000000001","quantity":2}}]}}'
  curl -s {api}/orders -H "Authorization: Bearer $TOKEN"

Functions restart when their code changes. Ctrl-C stops everything."#,
        aws = stack.cognito_endpoint,
        sqs = stack.sqs_endpoint,
        sqs_name = stack.sqs_emulator.name(),
        sqs_log = stack.sqs_emulator.log(),
        pool = stack.user_pool_id,
        client = stack.client_id,
        db = stack.database_url,
        spans = stack.spans_file.display(),
    );
}
