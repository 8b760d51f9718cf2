//! The native local stack, as processes: PostgreSQL, moto (SQS, Secrets Manager, Cognito), the five functions
//! under `cargo lambda watch`, and the local gateway; the same topology and variables as compose.yaml.
//! `cargo xtask up` runs it for people, `cargo xtask test` for the end-to-end tests.

mod database;
mod emulators;
mod functions;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::env;
use crate::proc::{self, Background};

/// The region everything is created in.
pub const REGION: &str = "us-east-1";
/// The demo user docker/cognito/init.py creates.
pub const DEMO_USERNAME: &str = "demo@example.com";
pub const DEMO_PASSWORD: &str = "Demo-Password-1";

/// How the gateway is tuned: compose.yaml's `local-gateway` values.
const GATEWAY_TUNING: [(&str, &str); 4] = [
    ("SQS_BATCH_SIZE", "10"),
    ("SQS_VISIBILITY_TIMEOUT_SECONDS", "60"),
    ("SQS_WAIT_SECONDS", "10"),
    ("RELAY_INTERVAL_SECONDS", "5"),
];
/// Compiling and starting the gateway on a cold machine can take a while.
const GATEWAY_START: Duration = Duration::from_secs(600);

/// What kind of stack to start.
pub struct Options {
    /// The database the functions use; created if missing.
    pub database: &'static str,
    /// Drop and recreate the database first (tests start from the seed alone).
    pub fresh_database: bool,
    /// The gateway's port; `None` picks a free one.
    pub gateway_port: Option<u16>,
    /// Let `cargo lambda watch` rebuild and restart a function when its code changes.
    pub hot_reload: bool,
}

/// A running stack. Dropping it stops every process, the gateway first.
pub struct Stack {
    pub gateway_url: String,
    pub aws_endpoint: String,
    pub user_pool_id: String,
    pub client_id: String,
    pub issuer: String,
    /// The `postgres` database of the server (for creating databases).
    pub admin_url: String,
    /// The functions' database, for tools and tests (the functions themselves read the secret).
    pub database_url: String,
    /// The logs of the functions and the gateway.
    pub log_dir: PathBuf,
    /// moto's Cognito signing key (a public test fixture) as PEM, and its key id, for tests that forge tokens.
    pub signing_key: Option<(PathBuf, String)>,
    /// Where otlp-sink writes the spans the functions export (one JSON object per line).
    pub spans_file: PathBuf,
    processes: Vec<Background>,
}

impl Stack {
    /// The variables the end-to-end tests read.
    pub fn e2e_env(&self) -> Vec<(&'static str, String)> {
        let mut vars = vec![
            ("E2E_GATEWAY_URL", self.gateway_url.clone()),
            ("E2E_AWS_ENDPOINT", self.aws_endpoint.clone()),
            ("E2E_AWS_REGION", REGION.to_owned()),
            ("E2E_USER_POOL_ID", self.user_pool_id.clone()),
            ("E2E_CLIENT_ID", self.client_id.clone()),
            ("E2E_COGNITO_ISSUER", self.issuer.clone()),
            ("E2E_DATABASE_URL", self.database_url.clone()),
            ("E2E_DEMO_USERNAME", DEMO_USERNAME.to_owned()),
            ("E2E_DEMO_PASSWORD", DEMO_PASSWORD.to_owned()),
            ("E2E_SPANS_FILE", self.spans_file.display().to_string()),
        ];
        if let Some((pem, kid)) = &self.signing_key {
            vars.push(("E2E_COGNITO_SIGNING_KEY", pem.display().to_string()));
            vars.push(("E2E_COGNITO_SIGNING_KID", kid.clone()));
        }
        vars
    }

    /// Fails, naming the process, if any part of the stack has exited.
    pub fn check_alive(&mut self) -> Result<()> {
        self.processes
            .iter_mut()
            .try_for_each(Background::check_alive)
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        while let Some(process) = self.processes.pop() {
            eprintln!("== stopping {}", process.name);
            drop(process);
        }
    }
}

/// Builds, starts and waits for every part; on failure, what was started is stopped again.
pub fn start(root: &Path, options: &Options) -> Result<Stack> {
    let clock = Instant::now();
    let step = |what: &str| eprintln!("== [{:>5.1}s] {what}", clock.elapsed().as_secs_f64());
    let log_dir = root.join("target/local-stack");
    std::fs::create_dir_all(&log_dir)?;

    step("building the functions, the gateway and the migrations");
    functions::build(root)?;
    let venv = env::venv(root, ".venv", "xtask/requirements.txt")?;
    let (admin_url, postgres) = env::postgres(root)?;
    let (aws_endpoint, moto) = env::moto(root, &venv)?;
    let mut stack = Stack {
        gateway_url: String::new(),
        aws_endpoint,
        user_pool_id: String::new(),
        client_id: String::new(),
        issuer: String::new(),
        database_url: database::url(&admin_url, options.database)?,
        admin_url,
        spans_file: log_dir.join("spans.jsonl"),
        log_dir,
        signing_key: None,
        processes: postgres.into_iter().chain([moto]).collect(),
    };
    step(&format!(
        "PostgreSQL {} and moto {}",
        stack.admin_url, stack.aws_endpoint
    ));

    step(
        "queues, DLQs and the DB secret (docker/localstack/init-aws.sh), user pool and demo user (docker/cognito/init.py)",
    );
    let server = database::Server::parse(&stack.admin_url)?;
    let aws = emulators::bootstrap(root, &venv, &stack.aws_endpoint, &server, &stack.log_dir)?;
    stack.user_pool_id = aws.user_pool_id.clone();
    stack.client_id = aws.client_id.clone();
    stack.issuer = format!(
        "https://cognito-idp.{REGION}.amazonaws.com/{}",
        aws.user_pool_id
    );
    stack.signing_key = emulators::moto_signing_key(root, &venv, &stack.log_dir);
    if stack.signing_key.is_none() {
        eprintln!(
            "   warning: moto's signing key not found; the tests that forge tokens will fail"
        );
    }

    step(&format!(
        "database {}: migrations and demo catalogue",
        options.database
    ));
    database::prepare(root, &stack.admin_url, options)?;

    step("trace receiver: otlp-sink (OTLP/HTTP) writing target/local-stack/spans.jsonl");
    let (sink, otlp_endpoint) = start_otlp_sink(root, &stack)?;
    stack.processes.push(sink);

    step("functions: cargo lambda watch, one warm-up invocation each");
    let mut function_env =
        functions::environment(&stack.aws_endpoint, &server, options.database, &aws);
    function_env.push(("OTEL_EXPORTER_OTLP_ENDPOINT".to_owned(), otlp_endpoint));
    let (watch, invoke_base) = functions::start(
        root,
        &venv,
        &function_env,
        options.hot_reload,
        &stack.log_dir,
    )?;
    stack.processes.push(watch);
    functions::warm_up(&invoke_base, &stack.log_dir)?;

    step("local gateway");
    let port = gateway_port(options.gateway_port)?;
    let gateway = start_gateway(root, &stack, &aws, &invoke_base, port)?;
    stack.processes.push(gateway);
    stack.gateway_url = format!("http://127.0.0.1:{port}");
    step("ready");
    Ok(stack)
}

/// `cargo` in the workspace, without the variables `cargo run` set for xtask itself: some build scripts track
/// them (ring's `CARGO_MANIFEST_DIR`), so inheriting them would rebuild half the tree that a plain `cargo build`
/// in a shell left fresh, and the other way round.
pub fn cargo(root: &Path) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root);
    without_cargo_run_env(&mut cmd);
    cmd
}

/// Removes what `cargo run` adds to a program's environment (see [`cargo`]).
pub fn without_cargo_run_env(cmd: &mut Command) {
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let set_by_cargo_run = name.starts_with("CARGO_PKG_")
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_CRATE_NAME",
                "CARGO_BIN_NAME",
                "CARGO_PRIMARY_PACKAGE",
            ]
            .contains(&name.as_ref());
        if set_by_cargo_run {
            cmd.env_remove(name.as_ref());
        }
    }
}

/// The dev-only OTLP receiver the functions export to (Jaeger plays this part under compose).
fn start_otlp_sink(root: &Path, stack: &Stack) -> Result<(Background, String)> {
    let _ = std::fs::remove_file(&stack.spans_file);
    let port = proc::free_port()?;
    let mut cmd = cargo(root);
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

fn gateway_port(wanted: Option<u16>) -> Result<u16> {
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

fn start_gateway(
    root: &Path,
    stack: &Stack,
    aws: &emulators::Resources,
    invoke_base: &str,
    port: u16,
) -> Result<Background> {
    let mut cmd = cargo(root);
    cmd.args(["run", "--quiet", "-p", "local-gateway"])
        .env_remove("DATABASE_URL")
        .env("GATEWAY_LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("OPENAPI_PATH", root.join("docs/openapi.yaml"))
        .env("COGNITO_JWKS_URL", emulators::jwks_url(&stack.aws_endpoint))
        .env("COGNITO_ISSUER", &stack.issuer)
        .env("COGNITO_CLIENT_ID", &stack.client_id)
        .env("ORDERS_QUEUE_URL", &aws.orders_queue_url)
        .env("STOCK_QUEUE_URL", &aws.stock_queue_url)
        .env("RUST_LOG", "info")
        .envs(GATEWAY_TUNING)
        .envs(env::aws_env(&stack.aws_endpoint));
    for function in functions::FUNCTIONS {
        cmd.env(
            functions::invoke_url_variable(function),
            functions::invoke_url(invoke_base, function),
        );
    }
    let log = stack.log_dir.join("gateway.log");
    let mut gateway = Background::spawn("local-gateway", &mut cmd, &log)?;
    proc::wait_for_port(port, GATEWAY_START, Some(&mut gateway))
        .with_context(|| format!("the gateway did not start; see {}", log.display()))?;
    Ok(gateway)
}
