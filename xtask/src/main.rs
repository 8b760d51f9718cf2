//! Developer commands: `cargo xtask test | lint | static | fuzz | up | bench | trace | soak | image-replay`.
//!
//! Each sets up what it needs on a fresh machine by itself: the Python venvs (moto, cargo-lambda, checkers, LocalStack),
//! PostgreSQL (the one at `DATABASE_URL`, the one on 127.0.0.1:5432, or a private cluster under `target/`),
//! and the emulators on free loopback ports.
//!
//! - [`tools`]: cargo, the Python venvs, docker-compose;
//! - [`checks`]: `test`, `lint`, `static`, `fuzz` (schemathesis from the OpenAPI document), `image-replay` (the image build's steps without an engine);
//! - [`stack`]: the native stack (`up`, and what `test` and the benches run against);
//! - [`bench`]: `bench pipeline | flush | coldstart`, with [`runtime_api`] for the cold starts;
//! - [`trace`]: a trace from the native stack's span file as a waterfall;
//! - [`soak`]: the stack under load and faults, then its books checked.

mod bench;
mod checks;
mod events;
mod http;
mod proc;
mod runtime_api;
mod soak;
mod stack;
mod tools;
mod trace;

use anyhow::{Result, bail};

const USAGE: &str = "usage: cargo xtask <command>

  test [nextest args]  everything CI runs: unit, integration and static checks
  lint                 cargo fmt --check, one HTTP/TLS/crypto stack per function, clippy -D warnings
  static               Dockerfile, compose, Terraform and contract checks only
  fuzz [--max-examples N] [st run options]  schemathesis against the native stack from docs/openapi.yaml:
                       no 5xx, responses as documented, no state change from a rejected request (default 500)
  up                   the whole stack as local processes (no Docker)
  bench [pipeline|flash|flush|coldstart]  benchmarks (figures only, no assertions on time)
  trace <order-id | trace-id> [spans file]  a trace from the native stack's spans as a waterfall
  soak [--orders N]    orders from 16 clients under random faults, then the books checked (5,000 by default)
  image-replay [scratch dir]  the Dockerfile's build steps on the host, from the dockerignored context (slow)";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = tools::repo_root()?;
    match args.first().map(String::as_str) {
        Some("test") => checks::test(&root, &args[1..]),
        Some("lint") => checks::lint(&root),
        Some("static") => checks::static_checks(&root),
        Some("fuzz") => checks::fuzz(&root, &args[1..]),
        Some("up") => stack::up::up(&root),
        Some("bench") => bench::bench(&root, &args[1..]),
        Some("trace") => trace::trace(&root, &args[1..]),
        Some("soak") => soak::soak(&root, &args[1..]),
        Some("image-replay") => checks::image_replay(&root, &args[1..]),
        _ => {
            eprintln!("{USAGE}");
            bail!("unknown command {:?}", args.first())
        }
    }
}
