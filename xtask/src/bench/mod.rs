//! `cargo xtask bench [pipeline|flash|flush|coldstart]`: benchmarks that print figures; they assert nothing about time.

mod coldstart;
mod pipeline;

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::proc;

pub fn bench(root: &Path, args: &[String]) -> Result<()> {
    let which = args.first().map(String::as_str).unwrap_or("all");
    match which {
        "pipeline" => pipeline::pipeline(root),
        "flash" => pipeline::flash(root),
        "flush" => flush(root),
        "coldstart" => coldstart::coldstart(root),
        "all" => pipeline::pipeline(root)
            .and_then(|()| flush(root))
            .and_then(|()| coldstart::coldstart(root)),
        other => bail!("unknown benchmark {other}: pipeline | flash | flush | coldstart | all"),
    }
}

/// The cost of flushing an invocation's spans, collector on loopback (order-core's `flush` bench).
fn flush(root: &Path) -> Result<()> {
    eprintln!("== span flush cost per invocation, collector on loopback");
    let out = output(
        Command::new("cargo")
            .args(["bench", "-q", "-p", "order-core", "--bench", "flush"])
            .current_dir(root),
    )?;
    print!("{out}");
    Ok(())
}

/// Runs `cmd` and returns its standard output; on failure, its standard error is shown.
fn output(cmd: &mut Command) -> Result<String> {
    eprintln!("$ {}", proc::describe(cmd));
    let out = cmd
        .output()
        .with_context(|| format!("Failed to run {}", proc::describe(cmd)))?;
    if !out.status.success() {
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        bail!("{} exited with {}", proc::describe(cmd), out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], percentile: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (percentile / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
