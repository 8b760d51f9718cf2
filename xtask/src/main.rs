//! Developer commands: `cargo xtask test | lint | up | bench`.
//!
//! Each sets up what it needs on a fresh machine by itself: the Python venvs (moto, cargo-lambda, checkers),
//! PostgreSQL (the one at `DATABASE_URL`, the one on 127.0.0.1:5432, or a private cluster under `target/`),
//! and the emulators on free loopback ports.

mod bench;
mod checks;
mod env;
mod http;
mod proc;
mod stack;
mod up;

use anyhow::{Result, bail};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = env::repo_root()?;
    match args.first().map(String::as_str) {
        Some("test") => checks::test(&root, &args[1..]),
        Some("lint") => checks::lint(&root),
        Some("static") => checks::static_checks(&root),
        Some("up") => up::up(&root),
        Some("bench") => bench::bench(&root, &args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n  test [nextest args]  everything CI runs: unit, integration and static checks\n  lint                 cargo fmt --check and clippy -D warnings\n  static               Dockerfile, compose, Terraform and contract checks only
  up                   the whole stack as local processes (no Docker)
  bench [pipeline|flush|coldstart]  benchmarks (figures only, no assertions on time)"
            );
            bail!("unknown command {:?}", args.first())
        }
    }
}
