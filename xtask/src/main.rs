//! Developer commands: `cargo xtask test | lint | static | fuzz | up | bench | trace | soak | topology | image-replay | preflight`.
//!
//! Each sets up what it needs on a fresh machine by itself: the Python venvs (moto, cargo-lambda, checkers, LocalStack),
//! PostgreSQL (the one at `DATABASE_URL`, the one on 127.0.0.1:5432, or a private cluster under `target/`),
//! and the emulators on free loopback ports.
//!
//! xtask only orchestrates; the tools are crates of their own beside it (the tooling wing):
//! - `native-stack`: the stack as processes (`up`, and what `test`, the benches and the soak run against), with
//!   the process supervisor, the Python venvs and docker-compose;
//! - `soak`: the stack under load and faults, then its books checked;
//! - `bench`: `bench pipeline | flush | coldstart`, with its minimal Lambda Runtime API for the cold starts;
//! - `trace-viewer`: a trace from the native stack's span file as a waterfall;
//! - `preflight`: read-only checks of an AWS account before the first apply;
//! - `local-gateway`, `dev-support`, `hello-lambda`: run by the stack, the tests and the benches.
//!
//! Here: [`checks`] (`test`, `lint`, `static`, `fuzz`, `image-replay`) and [`topology`].

mod checks;
mod topology;

use anyhow::{Result, bail};

const USAGE: &str = "usage: cargo xtask <command>

  test [nextest args]  everything CI runs: unit, integration and static checks
  lint                 cargo fmt --check, one HTTP/TLS/crypto stack per function, clippy -D warnings
  static               Dockerfile, compose, Terraform and contract checks only
  fuzz [--max-examples N] [st run options]  schemathesis against the native stack from docs/openapi.yaml:
                       no 5xx, responses as documented, no state change from a rejected request (default 500)
  up                   the whole stack as local processes (no Docker)
  bench [pipeline|flash|flush|coldstart|api]  benchmarks (figures only, no assertions on time)
  trace <order-id | trace-id> [spans file]  a trace from the native stack's spans as a waterfall
  soak [--orders N]    orders from 16 clients under random faults, then the books checked (5,000 by default)
  topology [--check]   write infra/topology.json from order_contract::topology (--check: fail if stale)
  image-replay [scratch dir]  the Dockerfile's build steps on the host, from the dockerignored context (slow)
  preflight [--region R] [--var-file F]  read-only checks of your AWS account before the first terraform apply:
                       concurrency, zones, quotas, Transaction Search; each failure prints its fix (aws CLI v2)";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = native_stack::tools::repo_root()?;
    match args.first().map(String::as_str) {
        Some("test") => checks::test(&root, &args[1..]),
        Some("lint") => checks::lint(&root),
        Some("static") => checks::static_checks(&root),
        Some("fuzz") => checks::fuzz(&root, &args[1..]),
        Some("up") => native_stack::up::up(&root),
        Some("bench") => bench::bench(&root, &args[1..]),
        Some("trace") => trace_viewer::trace(&root, &args[1..]),
        Some("soak") => soak::soak(&root, &args[1..]),
        Some("topology") => topology::topology(&root, &args[1..]),
        Some("image-replay") => checks::image_replay(&root, &args[1..]),
        Some("preflight") => preflight::run(&root, &args[1..]),
        _ => {
            eprintln!("{USAGE}");
            bail!("unknown command {:?}", args.first())
        }
    }
}
