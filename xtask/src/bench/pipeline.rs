//! `cargo xtask bench pipeline`: orders through the whole pipeline (order-core's `pipeline` bench, on the SQS
//! emulator), then pgbench running the same SQL, and our throughput as a ratio of it.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use super::output;
use crate::stack::{aws::Emulators, database, postgres};
use crate::tools::python;

pub fn pipeline(root: &Path) -> Result<()> {
    let venv = python::venv(root, ".venv", "xtask/requirements.txt")?;
    let (admin_url, _pg) = postgres::server(root)?;
    let (emulators, _emulators) = Emulators::start(root, &venv)?;
    let db_url = database::prepare(root, &admin_url, "bench_pipeline", true)?;

    eprintln!("== pipeline benchmark (release build; the first build takes several minutes)");
    let mut cmd = Command::new("cargo");
    cmd.args(["bench", "-q", "-p", "order-core", "--bench", "pipeline"])
        .current_dir(root)
        .env("BENCH_DATABASE_URL", &db_url)
        .env("RUST_LOG", "warn")
        .envs(emulators.env());
    let out = output(&mut cmd)?;
    print!("{out}");
    let ours = field(&out, "orders_per_second").context("the pipeline bench printed no result")?;

    let limit = pgbench(root, &db_url)?;
    println!(
        "pgbench limit:     {limit:.0} orders/s (the same SQL, no SQS, no Lambda event handling)"
    );
    println!(
        "ratio:             {:.2} of the database's limit",
        ours / limit
    );
    Ok(())
}

/// pgbench's tps for xtask/bench/order_pipeline.sql at `BENCH_CLIENTS` (16) clients for 20 s.
fn pgbench(root: &Path, db_url: &str) -> Result<f64> {
    let clients = std::env::var("BENCH_CLIENTS").unwrap_or_else(|_| "16".into());
    eprintln!("== pgbench: the same transactions, {clients} clients, 20 s");
    let pg = output(
        Command::new("pgbench")
            .args(["-n", "-c", &clients, "-j", "2", "-T", "20", "-f"])
            .arg(root.join("xtask/bench/order_pipeline.sql"))
            .arg(db_url),
    )?;
    pg.lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("pgbench printed no tps")
}

/// The number after `key=` in the bench's output.
fn field(out: &str, key: &str) -> Option<f64> {
    out.split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse().ok())
}
