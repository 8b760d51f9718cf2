//! `cargo xtask bench [pipeline|flash|flush|coldstart|api]`: benchmarks that print figures; they assert nothing about time.

mod api;
mod coldstart;
mod pgbench;
mod pipeline;
mod runtime_api;

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use native_stack::proc;

pub fn bench(root: &Path, args: &[String]) -> Result<()> {
    let which = args.first().map(String::as_str).unwrap_or("all");
    match which {
        "pipeline" => pipeline::pipeline(root),
        "flash" => pipeline::flash(root),
        "flush" => flush(root),
        "coldstart" => coldstart::coldstart(root),
        "api" => api::api(root),
        "all" => pipeline::pipeline(root)
            .and_then(|()| flush(root))
            .and_then(|()| coldstart::coldstart(root))
            .and_then(|()| api::api(root)),
        other => {
            bail!("unknown benchmark {other}: pipeline | flash | flush | coldstart | api | all")
        }
    }
}

/// What exporting spans after the response costs the client and the environment, against collectors that
/// answer after 0, 20 or 50 ms or never (order-core's `flush` bench, in the `flush-bench` profile: release
/// optimisation without fat LTO, since it measures waiting).
fn flush(root: &Path) -> Result<()> {
    eprintln!(
        "== span export after the response: client latency, spans delivered, environment busy"
    );
    let out = output(
        Command::new("cargo")
            .args(["bench", "-q", "--profile", "flush-bench"])
            .args(["-p", "order-core", "--bench", "flush"])
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

/// The number after `key=` in a bench's output.
fn field(out: &str, key: &str) -> Option<f64> {
    out.split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse().ok())
}
