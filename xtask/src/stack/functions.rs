//! The five functions under `cargo lambda watch` (the Lambda runtime API and invoke API on one loopback
//! port), with the environment Terraform and compose.yaml give them: DB credentials from the Secrets Manager
//! secret, never `DATABASE_URL`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::database::Server;
use super::emulators::{DB_SECRET_NAME, Resources};
use crate::proc::{self, Background};
use crate::{env, http};

/// Every function, by crate (= binary = `operationId`) name.
pub const FUNCTIONS: [&str; 5] = [
    "create-order",
    "get-orders",
    "process-order",
    "update-stock",
    "outbox-relay",
];
/// A warm-up includes `cargo run`'s freshness check and the function's init; compiling is done before.
const WARM_UP: Duration = Duration::from_secs(300);

/// Builds the function binaries exactly as `cargo lambda watch` runs them, `cargo run --bin <function>` (no
/// `-p`, which resolves features differently), so its `cargo run` finds them fresh; then the gateway and the
/// migrations, each the way it is run (`-p`).
pub fn build(root: &Path) -> Result<()> {
    let mut functions = super::cargo(root);
    functions.arg("build");
    for function in FUNCTIONS {
        functions.args(["--bin", function]);
    }
    proc::run(&mut functions)?;
    for package in ["local-gateway", "migration"] {
        proc::run(super::cargo(root).args(["build", "-p", package]))?;
    }
    Ok(())
}

/// The variables every function gets (compose.yaml's `x-function-env` plus the queue and relay settings).
pub fn environment(
    endpoint: &str,
    db: &Server,
    database: &str,
    aws: &Resources,
) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = env::aws_env(endpoint)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let fixed = [
        ("DB_SECRET_ARN", DB_SECRET_NAME),
        ("DB_HOST", &db.host),
        ("DB_PORT", &db.port),
        ("DB_NAME", database),
        ("DB_MAX_CONNECTIONS", "2"),
        ("ORDERS_QUEUE_URL", &aws.orders_queue_url),
        ("STOCK_QUEUE_URL", &aws.stock_queue_url),
        ("OUTBOX_MIN_AGE_SECONDS", "5"),
        ("OUTBOX_BATCH_SIZE", "100"),
        ("RUST_LOG", "info"),
        ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=local"),
        ("OTEL_TRACES_SAMPLER", "parentbased_always_on"),
    ];
    vars.extend(
        fixed
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    vars
}

/// Starts `cargo lambda watch` on a free port; returns it and the invoke API's base URL.
pub fn start(
    root: &Path,
    venv: &Path,
    vars: &[(String, String)],
    hot_reload: bool,
    log_dir: &Path,
) -> Result<(Background, String)> {
    // An env file, not --env-var: values may contain commas, which --env-var splits on. Single quotes keep
    // them literal (an unquoted `=` in a value is a parse error).
    if let Some((k, _)) = vars.iter().find(|(_, v)| v.contains('\'')) {
        bail!("{k} contains a single quote, which the env file cannot carry");
    }
    let env_file = log_dir.join("functions.env");
    let text: String = vars.iter().map(|(k, v)| format!("{k}='{v}'\n")).collect();
    std::fs::write(&env_file, text)?;
    let port = proc::free_port()?;
    let mut cmd = Command::new(venv.join("bin/cargo-lambda"));
    cmd.args([
        "lambda",
        "watch",
        "--invoke-address",
        "127.0.0.1",
        "--invoke-port",
    ])
    .arg(port.to_string())
    .arg("--env-file")
    .arg(&env_file)
    .current_dir(root);
    if !hot_reload {
        cmd.arg("--ignore-changes");
    }
    super::without_cargo_run_env(&mut cmd); // it runs `cargo run` for each function
    // The functions inherit this environment: nothing may point them anywhere but the secret and moto.
    for inherited in [
        "DATABASE_URL",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
    ] {
        cmd.env_remove(inherited);
    }
    let mut watch = Background::spawn(
        "cargo lambda watch",
        &mut cmd,
        &log_dir.join("functions.log"),
    )?;
    proc::wait_for_port(port, Duration::from_secs(60), Some(&mut watch))?;
    Ok((watch, format!("http://127.0.0.1:{port}")))
}

/// `INVOKE_URL_CREATE_ORDER` for `create-order` (what the gateway reads).
pub fn invoke_url_variable(function: &str) -> String {
    format!(
        "INVOKE_URL_{}",
        function.to_ascii_uppercase().replace('-', "_")
    )
}

/// The Lambda Invoke API URL of `function`.
pub fn invoke_url(base: &str, function: &str) -> String {
    format!("{base}/2015-03-31/functions/{function}/invocations")
}

/// Invokes every function once with a harmless event (in parallel), so each is running, has read its secret
/// and answers before the gateway opens.
pub fn warm_up(base: &str, log_dir: &Path) -> Result<()> {
    let results: Vec<Result<()>> = std::thread::scope(|s| {
        let handles: Vec<_> = FUNCTIONS
            .iter()
            .map(|f| s.spawn(move || warm_up_one(base, f)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("warm-up thread"))
            .collect()
    });
    let failures: Vec<String> = results
        .into_iter()
        .filter_map(|r| r.err().map(|e| format!("{e:#}")))
        .collect();
    if !failures.is_empty() {
        bail!(
            "functions failed to start (see {}):\n  {}",
            log_dir.join("functions.log").display(),
            failures.join("\n  ")
        );
    }
    Ok(())
}

fn warm_up_one(base: &str, function: &str) -> Result<()> {
    let (event, expect) = match function {
        // No claims: the function answers 401 without touching the database.
        "create-order" => (http_event("POST"), "\"statusCode\":401"),
        "get-orders" => (http_event("GET"), "\"statusCode\":401"),
        "process-order" | "update-stock" => (r#"{"Records":[]}"#.to_owned(), "batchItemFailures"),
        // Reads the outbox: proves the secret and the database work.
        _ => (scheduled_event(), "published"),
    };
    let reply = http::post_json(&invoke_url(base, function), &event, WARM_UP)
        .with_context(|| format!("{function}: no answer"))?;
    if reply.status != 200 || !reply.body.contains(expect) {
        bail!(
            "{function} answered {}: {}",
            reply.status,
            reply.body.trim()
        );
    }
    eprintln!("   {function}: ready");
    Ok(())
}

fn http_event(method: &str) -> String {
    format!(
        r#"{{"resource":"/orders","path":"/orders","httpMethod":"{method}","headers":{{}},"multiValueHeaders":{{}},
        "queryStringParameters":null,"multiValueQueryStringParameters":null,"pathParameters":null,
        "stageVariables":null,"requestContext":{{"resourcePath":"/orders","httpMethod":"{method}",
        "path":"/local/orders","stage":"local","requestId":"xtask-warm-up","identity":{{}}}},
        "body":null,"isBase64Encoded":false}}"#
    )
}

fn scheduled_event() -> String {
    r#"{"version":"0","id":"xtask-warm-up","detail-type":"Scheduled Event","source":"aws.events",
    "account":"123456789012","time":"1970-01-01T00:00:00Z","region":"us-east-1","resources":[],"detail":{}}"#
        .to_owned()
}
