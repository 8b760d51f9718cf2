//! The static checks of the deployment files: Dockerfile (hadolint), compose.yaml, Terraform (fmt, checkov,
//! `terraform test`, the provider schemas) and the contract between code, Terraform, compose and OpenAPI.

use std::path::Path;
use std::process::Command;

use anyhow::{Result, bail};

use crate::proc;
use crate::tools::{compose, python};

/// Dockerfile (hadolint), compose.yaml (docker-compose config), Terraform (fmt, checkov) and the contract
/// between code, Terraform, compose and the OpenAPI document.
pub fn static_checks(root: &Path) -> Result<()> {
    let venv = python::venv(root, ".venv", "xtask/requirements.txt")?;
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
        "terraform test (every provider-free module with tests/: openapi, preflight)",
        module_tests(root),
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

/// `terraform init` + `terraform test` in every module under infra/modules with a `tests/` directory (those
/// modules need no provider, so both run offline).
fn module_tests(root: &Path) -> Result<()> {
    let mut modules: Vec<_> = std::fs::read_dir(root.join("infra/modules"))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.join("tests").is_dir())
        .collect();
    modules.sort();
    for module in modules {
        let chdir = format!("-chdir={}", module.strip_prefix(root)?.display());
        proc::run(
            Command::new("terraform")
                .args([&chdir, "init", "-input=false", "-backend=false"])
                .current_dir(root),
        )?;
        proc::run(
            Command::new("terraform")
                .args([&chdir, "test"])
                .current_dir(root),
        )?;
    }
    Ok(())
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
