//! `cargo xtask bench [pipeline|flush|coldstart]`: benchmarks that print figures; they assert nothing about time.

mod coldstart;

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{env, proc};

pub fn bench(root: &Path, args: &[String]) -> Result<()> {
    let which = args.first().map(String::as_str).unwrap_or("all");
    match which {
        "pipeline" => pipeline(root),
        "flush" => flush(root),
        "coldstart" => coldstart::coldstart(root),
        "all" => pipeline(root)
            .and_then(|()| flush(root))
            .and_then(|()| coldstart::coldstart(root)),
        other => bail!("unknown benchmark {other}: pipeline | flush | coldstart | all"),
    }
}

/// Orders through the whole pipeline, then pgbench running the same SQL, and our throughput as a ratio of it.
fn pipeline(root: &Path) -> Result<()> {
    let venv = env::venv(root, ".venv", "xtask/requirements.txt")?;
    let (admin_url, _pg) = env::postgres(root)?;
    let (endpoint, _moto) = env::moto(root, &venv)?;
    let db_url = fresh_database(root, &admin_url, "bench_pipeline")?;

    eprintln!("== pipeline benchmark (release build; the first build takes several minutes)");
    let mut cmd = Command::new("cargo");
    cmd.args(["bench", "-q", "-p", "order-core", "--bench", "pipeline"])
        .current_dir(root)
        .env("BENCH_DATABASE_URL", &db_url)
        .env("RUST_LOG", "warn");
    for (k, v) in env::aws_env(&endpoint) {
        cmd.env(k, v);
    }
    let out = output(&mut cmd)?;
    print!("{out}");
    let ours = field(&out, "orders_per_second").context("the pipeline bench printed no result")?;

    let clients = std::env::var("BENCH_CLIENTS").unwrap_or_else(|_| "16".into());
    eprintln!("== pgbench: the same transactions, {clients} clients, 20 s");
    let pg = output(
        Command::new("pgbench")
            .args(["-n", "-c", &clients, "-j", "2", "-T", "20", "-f"])
            .arg(root.join("xtask/bench/order_pipeline.sql"))
            .arg(&db_url),
    )?;
    let limit: f64 = pg
        .lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("pgbench printed no tps")?;
    println!(
        "pgbench limit:     {limit:.0} orders/s (the same SQL, no SQS, no Lambda event handling)"
    );
    println!(
        "ratio:             {:.2} of the database's limit",
        ours / limit
    );
    Ok(())
}

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

/// Drops and recreates `name`, runs the migrations and the seed; returns its URL.
fn fresh_database(root: &Path, admin_url: &str, name: &str) -> Result<String> {
    proc::run(Command::new("psql").arg(admin_url).args([
        "-q",
        "-c",
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    ]))?;
    proc::run(Command::new("psql").arg(admin_url).args([
        "-q",
        "-c",
        &format!("CREATE DATABASE {name}"),
    ]))?;
    let (server, _) = admin_url
        .rsplit_once('/')
        .context("admin URL has a database")?;
    let url = format!("{server}/{name}");
    proc::run(
        Command::new("cargo")
            .args([
                "run",
                "-q",
                "-p",
                "migration",
                "--bin",
                "migration",
                "--",
                "up",
            ])
            .env("DATABASE_URL", &url)
            .current_dir(root),
    )?;
    proc::run(
        Command::new("cargo")
            .args(["run", "-q", "-p", "migration", "--bin", "seed"])
            .env("DATABASE_URL", &url)
            .current_dir(root),
    )?;
    Ok(url)
}

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

fn field(out: &str, key: &str) -> Option<f64> {
    out.split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse().ok())
}
