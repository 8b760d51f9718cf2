//! The function's own account of its init: the `init phases` log record (order-core's
//! `order_core::init_clock`), read back from a cold start's log and set against what the bench saw from outside.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use serde::Deserialize;

/// The phases that wait on something outside the process: the emulator (Secrets Manager), PostgreSQL and the
/// Runtime API (registering the span export extension).
pub const EXTERNAL: [&str; 4] = ["secret_fetch", "pool_connect", "first_query", "extension"];

/// One phase as the function logged it.
#[derive(Clone, Debug, Deserialize)]
pub struct Phase {
    pub name: String,
    pub wall_ms: f64,
    pub cpu_ms: f64,
}

impl Phase {
    /// Wall time not spent on the CPU: the round trip, for an external phase.
    pub fn waited_ms(&self) -> f64 {
        (self.wall_ms - self.cpu_ms).max(0.0)
    }
}

/// What the function logged, with the two phases only the outside sees.
#[derive(Clone, Debug)]
pub struct Logged {
    /// exec → the first line of `main`'s init (loading the binary and starting the tokio runtime).
    pub exec_to_main_ms: f64,
    /// In order: telemetry, aws_config, clients, secret_fetch, pool_connect, first_query, extension.
    pub phases: Vec<Phase>,
}

impl Logged {
    /// The external phases' round trips (wall minus CPU), summed.
    pub fn round_trips_ms(&self) -> f64 {
        self.phases
            .iter()
            .filter(|p| EXTERNAL.contains(&p.name.as_str()))
            .map(Phase::waited_ms)
            .sum()
    }

    /// Everything from exec to the end of the last phase.
    pub fn logged_ms(&self) -> f64 {
        self.exec_to_main_ms + self.phases.iter().map(|p| p.wall_ms).sum::<f64>()
    }
}

#[derive(Deserialize)]
struct Record {
    message: String,
    main_unix_us: u64,
    phases: String,
}

/// Reads the `init phases` record from `log`, `None` for a binary that logs none (hello-lambda).
pub fn read(log: &Path, spawned: SystemTime) -> Result<Option<Logged>> {
    let text = std::fs::read_to_string(log)?;
    let Some(record) = text
        .lines()
        .filter(|l| l.contains("\"init phases\""))
        .find_map(|l| serde_json::from_str::<Record>(l).ok())
        .filter(|r| r.message == "init phases")
    else {
        return Ok(None);
    };
    let spawned_us = spawned.duration_since(UNIX_EPOCH)?.as_micros() as u64;
    let exec_to_main = Duration::from_micros(record.main_unix_us.saturating_sub(spawned_us));
    Ok(Some(Logged {
        exec_to_main_ms: exec_to_main.as_secs_f64() * 1000.0,
        phases: serde_json::from_str(&record.phases)
            .context("the init phases record's `phases` is not a JSON array of phases")?,
    }))
}
