//! `cargo xtask fuzz`: schemathesis generates requests from docs/openapi.yaml for every operation and sends them
//! through the native stack's gateway with the demo user's ID token. Checks: no 5xx, every response as the
//! document says (status code, content type, headers, body schema, problem+json included), and no stored state
//! changed by a rejected request (`xtask/fuzz/hooks.py`, reading the stack's PostgreSQL around each call).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use native_stack::aws::cognito;
use native_stack::{self as stack, Stack};
use native_stack::{proc, tools};

/// Examples per operation in `cargo xtask test` (bounded: about a minute on two cores).
pub const TEST_EXAMPLES: u32 = 100;
/// A fixed seed in `cargo xtask test`: the same requests on every run, so CI is repeatable.
pub const TEST_SEED: u64 = 20261204;
/// Examples per operation in `cargo xtask fuzz` unless `--max-examples` says otherwise.
const FUZZ_EXAMPLES: u32 = 500;
/// The checks every response goes through; the last is ours (hooks.py). Not `positive_data_acceptance`: a
/// request the schema allows may still break a rule the schema cannot say (an unknown product is 422, a cursor
/// this API did not issue is 400), both documented. Not `unsupported_method`: it wants 405, and API Gateway
/// REST answers a method a resource lacks like an unknown path (MISSING_AUTHENTICATION_TOKEN, our 404
/// `route-not-found`), as the local gateway does.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
response_headers_conformance,response_schema_conformance,negative_data_rejection,missing_required_header,\
ignored_auth,use_after_free,ensure_resource_availability,rejected_requests_change_nothing";

/// `cargo xtask fuzz [--max-examples N] [more st run options]`: starts the stack and fuzzes it.
pub fn fuzz(root: &Path, args: &[String]) -> Result<()> {
    let options = stack::Options {
        database: "orders_fuzz",
        fresh_database: true,
        gateway_port: None,
        hot_reload: false,
        xray_sampling: stack::XraySampling::AWS_DEFAULT,
    };
    let stack = stack::start(root, &options)?;
    let mut args = args.to_vec();
    if !args
        .iter()
        .any(|a| a.starts_with("--max-examples") || a == "-n")
    {
        args.extend(["--max-examples".to_owned(), FUZZ_EXAMPLES.to_string()]);
    }
    run(root, &stack, &args)
}

/// Runs schemathesis against a running stack, one worker (the state check compares before and after each
/// call), with `extra` options for `st run`.
pub fn run(root: &Path, stack: &Stack, extra: &[String]) -> Result<()> {
    let token = cognito::sign_in(
        &stack.cognito_endpoint,
        &stack.client_id,
        Duration::from_secs(30),
    )
    .context("Failed to sign the demo user in for the fuzzer")?;
    // The state check must see a change before its silence means anything.
    proc::run(
        Command::new(root.join(".venv/bin/python"))
            .arg(root.join("xtask/fuzz/selftest.py"))
            .env("FUZZ_DATABASE_URL", &stack.database_url),
    )?;
    let report_dir = root.join("target/fuzz");
    let mut cmd = Command::new(root.join(".venv/bin/st"));
    cmd.current_dir(root)
        .args(["run", "docs/openapi.yaml", "--url", &stack.gateway_url])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", CHECKS, "--workers", "1"])
        .args(["--generation-database", "none", "--no-color"])
        .args(["--report", "junit", "--report-dir"])
        .arg(&report_dir)
        .args(extra)
        .env("SCHEMATHESIS_HOOKS", "hooks")
        .env("PYTHONPATH", root.join("xtask/fuzz"))
        .env("FUZZ_DATABASE_URL", &stack.database_url);
    tools::without_cargo_run_env(&mut cmd);
    eprintln!(
        "== fuzzing {} from docs/openapi.yaml ({})",
        stack.gateway_url,
        extra.join(" ")
    );
    let started = Instant::now();
    // Not proc::run: it would echo the token.
    let status = cmd
        .status()
        .context("Failed to start schemathesis (.venv/bin/st)")?;
    eprintln!(
        "== fuzzing took {:.1}s; JUnit report in {}",
        started.elapsed().as_secs_f64(),
        report_dir.display()
    );
    if !status.success() {
        bail!(
            "schemathesis found responses that break docs/openapi.yaml or the state check ({status})"
        );
    }
    Ok(())
}
