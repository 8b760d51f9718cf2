//! The native local stack, as processes: PostgreSQL, the AWS emulators, the functions under
//! `cargo lambda watch`, and the local gateway; the same topology and variables as compose.yaml.
//! `cargo xtask up` runs it for people, `cargo xtask test` for the end-to-end tests.

pub mod aws;
pub mod database;
pub mod events;
pub mod functions;
mod gateway;
pub mod http;
pub mod postgres;
pub mod proc;
pub mod tools;
pub mod up;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;

use crate::proc::Background;
use crate::tools::python;
use aws::cognito::{self, DEMO_PASSWORD, DEMO_USERNAME};
use aws::{Emulators, REGION};

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
    /// The gateway's X-Ray sampling rule: which requests reach the functions with `Sampled=1`.
    pub xray_sampling: XraySampling,
}

/// An X-Ray sampling rule for the local gateway (its `GATEWAY_XRAY_RESERVOIR` and `GATEWAY_XRAY_FIXED_RATE`).
#[derive(Clone, Copy, Debug)]
pub struct XraySampling {
    pub reservoir: u32,
    pub fixed_rate: f64,
}

impl XraySampling {
    /// X-Ray's default rule, which API Gateway applies in AWS: 1 request per second, then 5 %.
    pub const AWS_DEFAULT: Self = Self {
        reservoir: 1,
        fixed_rate: 0.05,
    };
    /// `Sampled=0` on every request.
    pub const NEVER: Self = Self {
        reservoir: 0,
        fixed_rate: 0.0,
    };
}

/// A running stack. Dropping it stops every process, the gateway first.
pub struct Stack {
    pub gateway_url: String,
    /// Which program emulates SQS and Secrets Manager, where, and its process (the soak freezes it).
    pub sqs_emulator: aws::SqsEmulator,
    pub sqs_endpoint: String,
    pub sqs_pid: u32,
    /// Where Cognito is emulated.
    pub cognito_endpoint: String,
    /// The variables that point every AWS SDK client at the emulators.
    pub aws_env: Vec<(&'static str, String)>,
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
    /// Queue 1 and queue 2 (each redrives to `<url>-dlq`).
    pub queue_urls: [String; 2],
    /// `cargo lambda watch` with every function (the soak crashes and restarts it).
    pub functions: Option<std::sync::Arc<functions::Host>>,
    /// Cognito's moto (the soak crashes and restarts it).
    pub cognito_emulator: Option<std::sync::Arc<aws::cognito::Emulator>>,
    processes: Vec<Background>,
}

impl Stack {
    /// The variables the end-to-end tests read.
    pub fn e2e_env(&self) -> Vec<(&'static str, String)> {
        let mut vars = vec![
            ("E2E_GATEWAY_URL", self.gateway_url.clone()),
            ("E2E_COGNITO_ENDPOINT", self.cognito_endpoint.clone()),
            ("E2E_SQS_ENDPOINT", self.sqs_endpoint.clone()),
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
        if let Some(functions) = &self.functions {
            functions.check_alive()?;
        }
        if let Some(cognito) = &self.cognito_emulator {
            cognito.check_alive()?;
        }
        self.processes
            .iter_mut()
            .try_for_each(Background::check_alive)
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // The gateway (started last) first, then the functions, then what they use.
        if let Some(gateway) = self.processes.pop() {
            eprintln!("== stopping {}", gateway.name);
            drop(gateway);
        }
        if self.functions.take().is_some() {
            eprintln!("== stopping cargo lambda watch");
        }
        if self.cognito_emulator.take().is_some() {
            eprintln!("== stopping moto (Cognito)");
        }
        while let Some(process) = self.processes.pop() {
            eprintln!("== stopping {}", process.name);
            drop(process);
        }
    }
}

/// Prints each step with the time since the start.
struct Steps(Instant);

impl Steps {
    fn step(&self, what: &str) {
        eprintln!("== [{:>5.1}s] {what}", self.0.elapsed().as_secs_f64());
    }
}

/// Builds, starts and waits for every part; on failure, what was started is stopped again.
pub fn start(root: &Path, options: &Options) -> Result<Stack> {
    let steps = Steps(Instant::now());
    let log_dir = root.join("target/local-stack");
    std::fs::create_dir_all(&log_dir)?;

    steps.step("building the functions, the gateway and the migrations");
    functions::build(root)?;
    let venv = python::venv(root, ".venv", "xtask/requirements.txt")?;
    let (admin_url, postgres) = postgres::server(root)?;
    let (emulators, emulator_processes) = Emulators::start(root, &venv)?;
    let mut stack = Stack {
        gateway_url: String::new(),
        sqs_emulator: emulators.sqs_emulator,
        sqs_endpoint: emulators.sqs.clone(),
        sqs_pid: emulators.sqs_pid,
        cognito_endpoint: emulators.cognito.clone(),
        aws_env: emulators.env(),
        user_pool_id: String::new(),
        client_id: String::new(),
        issuer: String::new(),
        database_url: database::url(&admin_url, options.database)?,
        admin_url,
        spans_file: log_dir.join("spans.jsonl"),
        queue_urls: Default::default(),
        functions: None,
        cognito_emulator: Some(emulators.cognito_emulator.clone()),
        log_dir,
        signing_key: None,
        processes: postgres.into_iter().chain(emulator_processes).collect(),
    };
    steps.step(&format!(
        "PostgreSQL {}, {}",
        stack.admin_url,
        emulators.describe()
    ));
    run_parts(root, &venv, options, &emulators, &mut stack, &steps)?;
    steps.step("ready");
    Ok(stack)
}

/// The emulators' resources (queues, secrets, user pool, demo user), recorded on the stack.
fn emulated_resources(
    root: &Path,
    venv: &Path,
    emulators: &Emulators,
    server: &database::Server,
    stack: &mut Stack,
) -> Result<aws::init::Resources> {
    let aws = aws::init::bootstrap(root, venv, emulators, server, &stack.log_dir)?;
    emulators.cognito_emulator.remember(&aws.user_pool);
    stack.user_pool_id = aws.user_pool.user_pool_id.clone();
    stack.client_id = aws.user_pool.client_id.clone();
    stack.issuer = cognito::issuer(&stack.user_pool_id);
    stack.queue_urls = [aws.orders_queue_url.clone(), aws.stock_queue_url.clone()];
    stack.signing_key = aws::init::moto_signing_key(root, venv, &stack.log_dir);
    if stack.signing_key.is_none() {
        eprintln!(
            "   warning: moto's signing key not found; the tests that forge tokens will fail"
        );
    }
    Ok(aws)
}

/// Everything after the services: the emulated resources, the database, the trace sink, the functions and
/// the gateway.
fn run_parts(
    root: &Path,
    venv: &Path,
    options: &Options,
    emulators: &Emulators,
    stack: &mut Stack,
    steps: &Steps,
) -> Result<()> {
    steps.step(
        "queues, DLQs, the DB secret and one per function role (docker/localstack/init-aws.sh), user pool and demo user (docker/cognito/init.py)",
    );
    let server = database::Server::parse(&stack.admin_url)?;
    let aws = emulated_resources(root, venv, emulators, &server, stack)?;

    steps.step(&format!(
        "database {}: migrations and demo catalogue",
        options.database
    ));
    database::prepare(
        root,
        &stack.admin_url,
        options.database,
        options.fresh_database,
    )?;
    database::set_role_passwords(&stack.admin_url, &server)?;

    steps.step("trace receiver: otlp-sink (OTLP/HTTP) writing target/local-stack/spans.jsonl");
    let (sink, otlp_endpoint) = gateway::start_otlp_sink(root, stack)?;
    stack.processes.push(sink);

    steps.step("functions: cargo lambda watch, one warm-up invocation each");
    let invoke_base = start_functions(root, venv, options, &server, &aws, otlp_endpoint, stack)?;

    steps.step("local gateway");
    start_gateway(root, options, emulators, &aws, &invoke_base, stack)
}

/// Starts the functions with their environment (the trace sink at `otlp_endpoint`), records them on the
/// stack, and invokes each once to warm it up; returns the base URL they are invoked at.
fn start_functions(
    root: &Path,
    venv: &Path,
    options: &Options,
    server: &database::Server,
    aws: &aws::init::Resources,
    otlp_endpoint: String,
    stack: &mut Stack,
) -> Result<String> {
    let mut function_env =
        functions::environment(stack.aws_env.clone(), server, options.database, aws);
    function_env.push(("OTEL_EXPORTER_OTLP_ENDPOINT".to_owned(), otlp_endpoint));
    let (host, invoke_base) = functions::Host::start(
        root,
        venv,
        &function_env,
        options.hot_reload,
        &stack.log_dir,
    )?;
    stack.functions = Some(std::sync::Arc::new(host));
    functions::warm_up(&invoke_base, &stack.log_dir)?;
    Ok(invoke_base)
}

/// Starts the local gateway in front of the functions at `invoke_base` and records its URL on the stack.
fn start_gateway(
    root: &Path,
    options: &Options,
    emulators: &Emulators,
    aws: &aws::init::Resources,
    invoke_base: &str,
    stack: &mut Stack,
) -> Result<()> {
    let port = gateway::port(options.gateway_port)?;
    let gateway = gateway::start(
        root,
        stack,
        &emulators.cognito,
        aws,
        (invoke_base, port),
        options.xray_sampling,
    )?;
    stack.processes.push(gateway);
    stack.gateway_url = format!("http://127.0.0.1:{port}");
    Ok(())
}
