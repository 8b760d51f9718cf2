//! The checks CI runs: `test` (the native stack, nextest, a bounded fuzz pass, a short soak, then the static
//! checks), `lint` (with [`one_stack`]), the static checks of the deployment files (in [`static_checks`]), and
//! `fuzz` (in [`fuzz`]).

mod fuzz;
mod one_stack;
#[cfg(test)]
mod readme_map;
mod static_checks;

use std::path::Path;
use std::process::Command;

use anyhow::Result;

use native_stack::{self as stack, database};
use native_stack::{proc, tools};

pub use fuzz::fuzz;
pub use one_stack::one_stack;
pub use static_checks::static_checks;

/// Orders in the soak `test` runs (`cargo xtask soak` runs 5,000 by default).
const SOAK_ORDERS: usize = 300;

/// Everything CI runs. Extra arguments go to nextest (e.g. a test filter).
///
/// The native stack comes first: its PostgreSQL and SQS emulator serve the integration tests, and all of it (the
/// functions under `cargo lambda watch` behind the local gateway) the end-to-end tests, which get its
/// coordinates as `E2E_*` variables. Then, unfiltered and green, a bounded `fuzz` pass against the same stack,
/// then a 300-order soak under faults on it (last: it restarts PostgreSQL and crashes the functions), then the
/// static checks.
pub fn test(root: &Path, extra: &[String]) -> Result<()> {
    let options = stack::Options {
        database: "orders_e2e",
        fresh_database: true,
        gateway_port: None,
        hot_reload: false,
        // Every request as API Gateway sends most of them at volume: not sampled. The traces must not care.
        xray_sampling: stack::XraySampling::NEVER,
    };
    let mut stack = stack::start(root, &options)?;
    database::drop_test_databases(&stack.admin_url)?;
    eprintln!(
        "== PostgreSQL: {}\n== AWS emulator: {}\n== gateway: {}",
        stack.admin_url, stack.sqs_endpoint, stack.gateway_url
    );

    let tests = run_tests(root, &stack, extra);
    // A bounded fuzz run while the stack is still up, after the tests (a filtered run skips it).
    let fuzzed = if tests.is_ok() && extra.is_empty() {
        bounded_fuzz(root, &stack)
    } else {
        Ok(())
    };
    // The short soak last, on the same stack: it restarts PostgreSQL and crashes the functions.
    let soak = if extra.is_empty() && tests.is_ok() && fuzzed.is_ok() {
        soak::run(&mut stack, SOAK_ORDERS)
    } else {
        Ok(())
    };
    drop(stack);
    tests?;
    fuzzed?;
    soak?;
    if extra.is_empty() {
        static_checks(root)?;
    }
    Ok(())
}

/// nextest (or `cargo test` without it) over the workspace, against the running stack.
fn run_tests(root: &Path, stack: &stack::Stack, extra: &[String]) -> Result<()> {
    let runner: &[&str] = if proc::succeeds(Command::new("cargo").args(["nextest", "--version"])) {
        &["nextest", "run", "--workspace", "--no-fail-fast"]
    } else {
        &["test", "--workspace", "--no-fail-fast"]
    };
    let mut cmd = Command::new("cargo");
    cmd.args(runner);
    tools::without_cargo_run_env(&mut cmd);
    cmd.args(extra)
        .current_dir(root)
        .env("TEST_DATABASE_ADMIN_URL", &stack.admin_url)
        .envs(stack.e2e_env())
        .envs(stack.aws_env.clone());
    proc::run(&mut cmd)
}

/// The fuzz pass `test` runs: fixed seed, [`fuzz::TEST_EXAMPLES`] examples per operation.
fn bounded_fuzz(root: &Path, stack: &stack::Stack) -> Result<()> {
    let args = [
        "--max-examples".to_owned(),
        fuzz::TEST_EXAMPLES.to_string(),
        "--seed".to_owned(),
        fuzz::TEST_SEED.to_string(),
    ];
    fuzz::run(root, stack, &args)
}

/// `docker/image-replay.sh`: the Dockerfile's build steps run on the host against the build context as
/// `.dockerignore` filters it. A full release build, so run by hand, not by `test`.
pub fn image_replay(root: &Path, extra: &[String]) -> Result<()> {
    let mut cmd = Command::new("bash");
    cmd.arg(root.join("docker/image-replay.sh"))
        .arg(root)
        .args(extra)
        .current_dir(root);
    tools::without_cargo_run_env(&mut cmd);
    proc::run(&mut cmd)
}

/// `cargo fmt --check`, one HTTP/TLS/crypto stack per function binary, and clippy with warnings as errors.
pub fn lint(root: &Path) -> Result<()> {
    proc::run(
        Command::new("cargo")
            .args(["fmt", "--all", "--", "--check"])
            .current_dir(root),
    )?;
    one_stack(root)?;
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
