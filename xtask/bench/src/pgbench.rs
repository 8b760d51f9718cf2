//! pgbench, the yardstick: a script's transactions per second on a database, the ceiling our handlers are
//! measured against.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use super::output;

/// How pgbench sends the script's statements.
#[derive(Clone, Copy, Debug)]
pub enum Protocol {
    /// One query string per statement (pgbench's default).
    Simple,
    /// Parse once, then bind and execute: what sqlx does with its per-connection statement cache.
    Prepared,
}

/// pgbench's tps for `xtask/bench/<script>` at `clients` clients for `seconds`.
pub fn tps(
    root: &Path,
    db_url: &str,
    script: &str,
    clients: usize,
    seconds: u64,
    protocol: Protocol,
) -> Result<f64> {
    eprintln!("== pgbench {script}: {clients} client(s), {seconds} s, {protocol:?} protocol");
    let mode = match protocol {
        Protocol::Simple => "simple",
        Protocol::Prepared => "prepared",
    };
    let pg = output(
        Command::new("pgbench")
            .args(["-n", "-M", mode])
            .args([
                "-c",
                &clients.to_string(),
                "-j",
                &clients.min(2).to_string(),
            ])
            .args(["-T", &seconds.to_string(), "-f"])
            .arg(root.join("xtask/bench").join(script))
            .arg(db_url),
    )?;
    pg.lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("pgbench printed no tps")
}
