//! The functions of `order_contract::topology::FUNCTIONS` under `cargo lambda watch` (the Lambda runtime API
//! and invoke API on one loopback port), with the environment Terraform and compose.yaml give them: DB
//! credentials from the function's own Secrets Manager secret (its role), never `DATABASE_URL`.
//!
//! `cargo lambda watch` runs every function with one env file, so the one variable that differs per function,
//! `DB_SECRET_ARN`, comes from the workspace Cargo.toml (`[workspace.metadata.lambda.bin.<function>.env]`),
//! which cargo-lambda applies over the env file when it starts that function.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use order_contract::topology::{FUNCTIONS, Function, Queue};

use super::aws::init::Resources;
use super::database::Server;
use crate::proc::{self, Background};
use crate::{events, http, tools};

/// A warm-up includes `cargo run`'s freshness check and the function's init; compiling is done before.
const WARM_UP: Duration = Duration::from_secs(300);

/// Builds the function binaries exactly as `cargo lambda watch` runs them, `cargo run --bin <function>` (no
/// `-p`, which resolves features differently), so its `cargo run` finds them fresh; then the gateway and the
/// migrations, each the way it is run (`-p`).
pub fn build(root: &Path) -> Result<()> {
    let mut functions = tools::cargo(root);
    functions.arg("build");
    for function in FUNCTIONS {
        functions.args(["--bin", function.name]);
    }
    proc::run(&mut functions)?;
    for package in ["local-gateway", "migration"] {
        proc::run(tools::cargo(root).args(["build", "-p", package]))?;
    }
    Ok(())
}

/// The variables every function gets (compose.yaml's `x-function-env` plus the queue and relay settings), but
/// `DB_SECRET_ARN`: a function without its own never falls back to another's login, it fails its warm-up.
pub fn environment(
    aws_env: Vec<(&'static str, String)>,
    db: &Server,
    database: &str,
    aws: &Resources,
) -> Vec<(String, String)> {
    let fixed: [(&str, &str); 13] = [
        ("DB_HOST", &db.host),
        ("DB_PORT", &db.port),
        ("DB_NAME", database),
        // Locally TLS to PostgreSQL is off, as in compose: a server with `ssl = on` (Debian's default) would
        // otherwise get a TLS handshake under sqlx's default `prefer`.
        ("PGSSLMODE", "disable"),
        ("DB_MAX_CONNECTIONS", "2"),
        (Queue::Orders.url_variable(), &aws.orders_queue_url),
        (Queue::Stock.url_variable(), &aws.stock_queue_url),
        ("OUTBOX_MIN_AGE_SECONDS", "5"),
        ("OUTBOX_BATCH_SIZE", "100"),
        ("RUST_LOG", "info"),
        ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=local"),
        ("OTEL_TRACES_SAMPLER", "always_on"),
        // otlp-sink is on loopback and the trace tests read what it got: on a loaded 2-core machine a debug
        // build's export can take longer than the 300 ms bound meant for AWS, and dropped spans fail them.
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "5000"),
    ];
    aws_env
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .chain(
            fixed
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        )
        .collect()
}

/// `cargo lambda watch`, which runs every function, and what it takes to start it again on the same port.
pub struct Host {
    watch: Mutex<Option<Background>>,
    cmd: Mutex<Command>,
    port: u16,
    log: PathBuf,
}

impl Host {
    /// Starts `cargo lambda watch` on a free port; returns it and the invoke API's base URL.
    pub fn start(
        root: &Path,
        venv: &Path,
        vars: &[(String, String)],
        hot_reload: bool,
        log_dir: &Path,
    ) -> Result<(Self, String)> {
        let env_file = write_env_file(vars, log_dir)?;
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
        tools::without_cargo_run_env(&mut cmd); // it runs `cargo run` for each function
        // The functions inherit this environment: nothing may point them anywhere but the secret and the emulators.
        for inherited in [
            "DATABASE_URL",
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_SESSION_TOKEN",
        ] {
            cmd.env_remove(inherited);
        }
        let host = Self {
            watch: Mutex::new(None),
            cmd: Mutex::new(cmd),
            port,
            log: log_dir.join("functions.log"),
        };
        host.spawn(false)?;
        Ok((host, format!("http://127.0.0.1:{port}")))
    }

    fn spawn(&self, append: bool) -> Result<()> {
        let mut cmd = self.cmd.lock().unwrap_or_else(|e| e.into_inner());
        let mut watch =
            Background::spawn_logging("cargo lambda watch", &mut cmd, &self.log, append)?;
        proc::wait_for_port(self.port, Duration::from_secs(60), Some(&mut watch))?;
        *self.watch.lock().unwrap_or_else(|e| e.into_inner()) = Some(watch);
        Ok(())
    }

    /// Kills every function process at once (`SIGKILL`, mid-invocation or not) and `cargo lambda watch` with
    /// them, then starts it again on the same port: what a crashed execution environment is in Lambda. (Killing
    /// one function mid-invocation is not enough: `cargo lambda watch` never answers that function again.)
    pub fn crash_and_restart(&self) -> Result<usize> {
        let killed = {
            let mut watch = self.watch.lock().unwrap_or_else(|e| e.into_inner());
            let Some(old) = watch.take() else {
                bail!("cargo lambda watch is not running");
            };
            let children = proc::pgrep(&["-P", &old.pid().to_string()]);
            for pid in &children {
                // A child that exited meanwhile is no error.
                let _ = Command::new("kill")
                    .args(["-KILL", pid])
                    .stderr(std::process::Stdio::null())
                    .status();
            }
            drop(old);
            children.len()
        };
        self.spawn(true)?;
        Ok(killed)
    }

    /// The Invoke API's base URL (what [`invoke_url`] takes).
    pub fn invoke_base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Fails, naming it, if `cargo lambda watch` has exited.
    pub fn check_alive(&self) -> Result<()> {
        match self
            .watch
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            Some(watch) => watch.check_alive(),
            None => bail!("cargo lambda watch is not running"),
        }
    }
}

/// An env file, not --env-var: values may contain commas, which --env-var splits on. Single quotes keep them
/// literal (an unquoted `=` in a value is a parse error).
fn write_env_file(vars: &[(String, String)], log_dir: &Path) -> Result<std::path::PathBuf> {
    if let Some((k, _)) = vars.iter().find(|(_, v)| v.contains('\'')) {
        bail!("{k} contains a single quote, which the env file cannot carry");
    }
    let env_file = log_dir.join("functions.env");
    let text: String = vars.iter().map(|(k, v)| format!("{k}='{v}'\n")).collect();
    std::fs::write(&env_file, text)?;
    Ok(env_file)
}

/// The Lambda Invoke API URL of `function`.
pub fn invoke_url(base: &str, function: &str) -> String {
    format!("{base}/2015-03-31/functions/{function}/invocations")
}

/// Invokes every function once with a harmless event (in parallel), so each is running, has read its secret
/// and answers before the gateway opens.
pub fn warm_up(base: &str, log_dir: &Path) -> Result<()> {
    let functions = FUNCTIONS;
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = functions
            .iter()
            .map(|f| s.spawn(move || warm_up_one(base, f)))
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().expect("warm-up thread").err())
            .map(|e| format!("{e:#}"))
            .collect()
    });
    if !failures.is_empty() {
        bail!(
            "functions failed to start (see {}):\n  {}",
            log_dir.join("functions.log").display(),
            failures.join("\n  ")
        );
    }
    Ok(())
}

fn warm_up_one(base: &str, function: &Function) -> Result<()> {
    let name = function.name;
    let probe = events::probe(function.trigger, "xtask-warm-up");
    let reply = http::post_json(&invoke_url(base, name), &probe.event, WARM_UP)
        .with_context(|| format!("{name}: no answer"))?;
    if reply.status != 200 || !(probe.answered)(&reply.body) {
        bail!(
            "{name} answered {} (expected {}): {}",
            reply.status,
            probe.expected,
            reply.body.trim()
        );
    }
    eprintln!("   {name}: ready");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::init::role_secret_name;

    #[test]
    fn each_function_gets_its_own_db_secret_from_the_workspace_manifest() {
        let manifest = include_str!("../../../Cargo.toml");
        for function in FUNCTIONS {
            let table = format!("[workspace.metadata.lambda.bin.{}.env]", function.name);
            let entry = format!(r#"DB_SECRET_ARN = "{}""#, role_secret_name(function.name));
            let after = manifest
                .split_once(&table)
                .unwrap_or_else(|| panic!("Cargo.toml has no {table}"))
                .1;
            let body = after.split("\n[").next().unwrap_or_default();
            assert!(body.contains(&entry), "{table} must set {entry}");
        }
    }
}
