//! `test`, `lint` and the static checks of the deployment files.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{env, proc, stack};

/// Everything CI runs. Extra arguments go to nextest (e.g. a test filter).
///
/// The native stack comes first: its PostgreSQL and moto serve the integration tests, and all of it (the
/// functions under `cargo lambda watch` behind the local gateway) the end-to-end tests, which get its
/// coordinates as `E2E_*` variables.
pub fn test(root: &Path, extra: &[String]) -> Result<()> {
    let options = stack::Options {
        database: "orders_e2e",
        fresh_database: true,
        gateway_port: None,
        hot_reload: false,
    };
    let stack = stack::start(root, &options)?;
    env::drop_test_databases(&stack.admin_url)?;
    eprintln!(
        "== PostgreSQL: {}\n== AWS emulator: {}\n== gateway: {}",
        stack.admin_url, stack.aws_endpoint, stack.gateway_url
    );

    let mut cmd = if proc::succeeds(Command::new("cargo").args(["nextest", "--version"])) {
        let mut c = Command::new("cargo");
        c.args(["nextest", "run", "--workspace", "--no-fail-fast"]);
        c
    } else {
        let mut c = Command::new("cargo");
        c.args(["test", "--workspace", "--no-fail-fast"]);
        c
    };
    stack::without_cargo_run_env(&mut cmd);
    cmd.args(extra)
        .current_dir(root)
        .env("TEST_DATABASE_ADMIN_URL", &stack.admin_url)
        .envs(stack.e2e_env());
    for (k, v) in env::aws_env(&stack.aws_endpoint) {
        cmd.env(k, v);
    }
    let tests = proc::run(&mut cmd);
    drop(stack);
    tests?;
    if extra.is_empty() {
        static_checks(root)?;
    }
    Ok(())
}

/// `cargo fmt --check` and clippy with warnings as errors.
pub fn lint(root: &Path) -> Result<()> {
    proc::run(
        Command::new("cargo")
            .args(["fmt", "--all", "--", "--check"])
            .current_dir(root),
    )?;
    proc::run(
        Command::new("cargo")
            .args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ])
            .current_dir(root),
    )
}

/// Dockerfile (hadolint), compose.yaml (docker-compose config), Terraform (fmt, checkov) and the contract
/// between code, Terraform, compose and the OpenAPI document.
pub fn static_checks(root: &Path) -> Result<()> {
    let venv = env::venv(root, ".venv", "xtask/requirements.txt")?;
    let mut failures = Vec::new();
    let mut check = |name: &str, result: Result<()>| {
        match &result {
            Ok(()) => eprintln!("== {name}: ok"),
            Err(e) => eprintln!("== {name}: FAILED: {e:#}"),
        }
        if result.is_err() {
            failures.push(name.to_owned());
        }
    };

    check(
        "containers (hadolint, docker-compose config)",
        containers(root, &venv),
    );
    check(
        "terraform fmt",
        proc::run(
            Command::new("terraform")
                .args(["fmt", "-check", "-recursive", "infra"])
                .current_dir(root),
        ),
    );
    check("checkov", checkov(root));
    check(
        "terraform test (OpenAPI → API Gateway body, provider-free module)",
        proc::run(
            Command::new("terraform")
                .args([
                    "-chdir=infra/modules/openapi",
                    "init",
                    "-input=false",
                    "-backend=false",
                ])
                .current_dir(root),
        )
        .and_then(|()| {
            proc::run(
                Command::new("terraform")
                    .args(["-chdir=infra/modules/openapi", "test"])
                    .current_dir(root),
            )
        }),
    );
    check(
        "contract self-test",
        proc::run(
            Command::new(venv.join("bin/python"))
                .arg("tests/contract/check_contract.py")
                .arg("--self-test")
                .current_dir(root),
        ),
    );
    check(
        "contract (code ↔ Terraform ↔ compose ↔ OpenAPI)",
        proc::run(
            Command::new(venv.join("bin/python"))
                .arg("tests/contract/check_contract.py")
                .arg(root)
                .current_dir(root),
        ),
    );
    check(
        "terraform schema self-test",
        proc::run(
            Command::new(venv.join("bin/python"))
                .arg("tests/terraform-schema/check_schema.py")
                .arg("--self-test")
                .current_dir(root),
        ),
    );
    check(
        "terraform schema (infra/ against the provider bindings)",
        proc::run(
            Command::new(venv.join("bin/python"))
                .arg("tests/terraform-schema/check_schema.py")
                .arg(root)
                .current_dir(root),
        ),
    );
    if failures.is_empty() {
        eprintln!("static-checks: {} passed, 0 failed", 8);
        Ok(())
    } else {
        bail!("static checks failed: {}", failures.join(", "))
    }
}

fn containers(root: &Path, venv: &Path) -> Result<()> {
    if !proc::succeeds(Command::new("docker-compose").arg("version")) {
        eprintln!("== installing Debian's docker-compose (static compose validation only)");
        proc::run(Command::new("apt-get").args(["update", "-qq"]))?;
        proc::run(
            Command::new("apt-get")
                .args(["install", "-y", "-qq", "docker-compose"])
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )
        .context("docker-compose is needed to validate compose.yaml")?;
    }
    proc::run(
        Command::new("bash")
            .arg("docker/check.sh")
            .arg(root)
            .arg(venv)
            .current_dir(root),
    )
}

fn checkov(root: &Path) -> Result<()> {
    let venv = env::venv(root, ".venv-checkov", "xtask/requirements-checkov.txt")?;
    proc::run(
        Command::new(venv.join("bin/checkov"))
            .args([
                "-d",
                "infra",
                "--framework",
                "terraform",
                "--skip-download",
                "--quiet",
                "--compact",
            ])
            .current_dir(root),
    )
}
