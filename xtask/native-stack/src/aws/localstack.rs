//! LocalStack in host mode (no Docker) for SQS and Secrets Manager, as compose.yaml's `localstack` service:
//! `localstack-core` from PyPI in `.venv-localstack`, which needs Python >= 3.13.
//!
//! It runs `python -m localstack.runtime.main` on a loopback port with path-style queue URLs (compose's
//! `SQS_ENDPOINT_STRATEGY=path`). `DNS_ADDRESS=0`, `SKIP_SSL_CERT_DOWNLOAD=1` and `DISABLE_EVENTS=1` keep it
//! from binding port 53, downloading a certificate and sending analytics: nothing leaves loopback.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::http;
use crate::proc::{self, Background};
use crate::tools::python;

/// Python's minor version LocalStack 2026.3 needs (3.13).
pub const MIN_PYTHON_MINOR: u32 = 13;

/// LocalStack's log, under `target/`.
pub const LOG: &str = "localstack.log";

/// How long LocalStack may take to answer its health check with SQS and Secrets Manager available.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// Installs `.venv-localstack` with a Python >= 3.13 when needed, starts LocalStack on a free port and waits
/// until SQS and Secrets Manager answer; returns its endpoint.
pub fn start(root: &Path, python: &Path) -> Result<(String, Background)> {
    let venv = python::venv_with(
        root,
        ".venv-localstack",
        "xtask/requirements-localstack.txt",
        python,
    )?;
    let port = proc::free_port()?;
    let endpoint = format!("http://127.0.0.1:{port}");
    // Its state (none persists: a restart starts empty, as compose's LocalStack without a volume).
    let state = root.join("target/localstack").join(port.to_string());
    let _ = std::fs::remove_dir_all(&state);
    std::fs::create_dir_all(&state)?;
    let listen = format!("127.0.0.1:{port}");
    let mut server = Background::spawn_logging(
        "localstack",
        Command::new(venv.join("bin/python"))
            .args(["-m", "localstack.runtime.main"])
            .env("OVERRIDE_IN_DOCKER", "0")
            .env("FILESYSTEM_ROOT", &state)
            .env("GATEWAY_LISTEN", &listen)
            .env("LOCALSTACK_HOST", &listen)
            .env("SERVICES", "sqs,secretsmanager")
            .env("SQS_ENDPOINT_STRATEGY", "path")
            .env("DNS_ADDRESS", "0")
            .env("SKIP_SSL_CERT_DOWNLOAD", "1")
            .env("DISABLE_EVENTS", "1")
            .env("AWS_DEFAULT_REGION", super::REGION)
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ENDPOINT_URL"),
        &root.join("target").join(LOG),
        false,
    )?;
    let started = Instant::now();
    proc::wait_for_port(port, START_TIMEOUT, Some(&mut server))?;
    wait_until_ready(
        &endpoint,
        &mut server,
        START_TIMEOUT.saturating_sub(started.elapsed()),
    )?;
    Ok((endpoint, server))
}

/// Polls `/_localstack/health` until both services say `available` or `running`.
fn wait_until_ready(endpoint: &str, server: &mut Background, within: Duration) -> Result<()> {
    let deadline = Instant::now() + within;
    let url = format!("{endpoint}/_localstack/health");
    let mut last = String::new();
    while Instant::now() < deadline {
        server.check_alive()?;
        if let Ok(reply) = http::send("GET", &url, &[], "", Duration::from_secs(2)) {
            if reply.status == 200 && ready(&reply.body) {
                return Ok(());
            }
            last = reply.body;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("LocalStack did not report SQS and Secrets Manager ready within {within:?}: {last}")
}

fn ready(health: &str) -> bool {
    let Ok(health) = serde_json::from_str::<serde_json::Value>(health) else {
        return false;
    };
    ["sqs", "secretsmanager"].iter().all(|service| {
        matches!(
            health["services"][service].as_str(),
            Some("available" | "running")
        )
    })
}

/// The Python LocalStack runs with, if this machine has one (>= 3.13); looked for once per process.
pub fn python() -> Option<std::path::PathBuf> {
    static FOUND: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    FOUND
        .get_or_init(|| python::at_least(MIN_PYTHON_MINOR))
        .clone()
}

/// Fails with the reason when `python` cannot run LocalStack.
pub fn require_python() -> Result<std::path::PathBuf> {
    python().with_context(|| {
        format!(
            "LocalStack needs Python >= 3.{MIN_PYTHON_MINOR} (python3.{MIN_PYTHON_MINOR} on PATH or under pyenv); none found"
        )
    })
}

#[cfg(test)]
mod tests {
    use crate::tools::repo_root;

    /// The version after `prefix` on the first line that has it.
    fn version_after(text: &str, prefix: &str) -> Option<String> {
        text.lines()
            .find_map(|line| line.trim().strip_prefix(prefix))
            .map(|rest| rest.trim().to_owned())
    }

    #[test]
    fn the_native_localstack_is_the_version_compose_runs() {
        let root = repo_root().unwrap();
        let compose = std::fs::read_to_string(root.join("compose.yaml")).unwrap();
        let requirements =
            std::fs::read_to_string(root.join("xtask/requirements-localstack.txt")).unwrap();
        let image = version_after(&compose, "image: localstack/localstack:")
            .expect("compose.yaml runs a localstack/localstack image with a tag");
        let package = version_after(&requirements, "localstack-core[runtime]==")
            .expect("xtask/requirements-localstack.txt pins localstack-core[runtime]");
        assert_eq!(
            package, image,
            "the native stack's LocalStack (xtask/requirements-localstack.txt) must be compose.yaml's"
        );
    }

    #[test]
    fn health_is_ready_only_when_both_services_are() {
        let health = |sqs: &str, sm: &str| {
            format!(
                r#"{{"services": {{"sqs": "{sqs}", "secretsmanager": "{sm}", "s3": "disabled"}}}}"#
            )
        };
        assert!(super::ready(&health("available", "running")));
        assert!(super::ready(&health("running", "available")));
        assert!(!super::ready(&health("available", "disabled")));
        assert!(!super::ready(&health("error", "running")));
        assert!(!super::ready("not json"));
    }
}
