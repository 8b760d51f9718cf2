//! The static checks of the deployment files: Dockerfile (hadolint), compose.yaml, Terraform (fmt, checkov,
//! `terraform test`, the provider schemas), the contract between code, Terraform, compose and OpenAPI, and the
//! deploy guide (its shell blocks shellchecked and run against recording stubs).

use std::path::Path;
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
