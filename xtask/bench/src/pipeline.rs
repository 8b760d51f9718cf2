//! `cargo xtask bench pipeline`: orders through the whole pipeline (order-core's `pipeline` bench) with
//! in-process queues (our code and PostgreSQL alone; create-order alone; one hot product against 100, also with
//! an emulated 3 ms commit latency: `cargo xtask bench flash` runs those alone) and on the
//! SQS emulator (LocalStack, as compose runs it, and moto, the fallback), then pgbench running the same SQL, and each throughput as a ratio of it.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use super::{field, output};
use crate::pgbench::Protocol;
use native_stack::aws::{Emulators, SqsEmulator, localstack};
use native_stack::tools::python;
use native_stack::{database, postgres};

/// The flash-sale rows alone (`cargo xtask bench flash`): one hot product against a hundred, in-process
/// queues, without and with an emulated 3 ms commit latency.
pub fn flash(root: &Path) -> Result<()> {
    let (admin_url, _pg) = postgres::server(root)?;
    let nowhere = native_stack::aws::env("http://127.0.0.1:9");
    let run = |name: &str, env: &[(&str, &str)]| run_bench(root, &admin_url, name, env, &nowhere);
    flash_sale(&run).map(|_| ())
}

/// One bench run: its name and environment in, its output back.
type RunBench<'a> = dyn Fn(&str, &[(&str, &str)]) -> Result<String> + 'a;

/// Runs one hot product and a hundred products side by side, with no added commit latency and with 3 ms
/// (`BENCH_COMMIT_LATENCY_MS`), prints the ratios, and returns the two runs without latency.
fn flash_sale(run: &RunBench<'_>) -> Result<(String, String)> {
    let mut outs = Vec::new();
    for latency in ["0", "3"] {
        for products in ["1", "100"] {
            let name = format!("in-process, {products} product(s), {latency} ms commit latency");
            let env = [
                ("BENCH_QUEUES", "channel"),
                ("BENCH_PRODUCTS", products),
                ("BENCH_COMMIT_LATENCY_MS", latency),
            ];
            outs.push(run(&name, &env)?);
        }
    }
    let rate = |out: &str| {
        field(out, "orders_per_second").context("no orders_per_second in the bench's output")
    };
    for (latency, pair) in ["no added", "3 ms"].iter().zip(outs.chunks(2)) {
        let (hot, spread) = (rate(&pair[0])?, rate(&pair[1])?);
        println!(
            "{:<35}{hot:.0} orders/s on one product, {spread:.0} on 100 = {:.2}x (target >= 0.9x)",
            format!("flash sale, {latency} commit latency:"),
            hot / spread
        );
    }
    let mut outs = outs.into_iter();
    Ok((
        outs.next().unwrap_or_default(),
        outs.next().unwrap_or_default(),
    ))
}

/// `cargo xtask bench pipeline`: every row (in-process, flash sale, each SQS emulator), then pgbench's limits
/// and each throughput as a ratio of them.
pub fn pipeline(root: &Path) -> Result<()> {
    let venv = python::venv(root, ".venv", "xtask/requirements.txt")?;
    let (admin_url, _pg) = postgres::server(root)?;
    // The in-process runs never call AWS; their SDK clients point at a refused loopback port all the same.
    let nowhere = native_stack::aws::env("http://127.0.0.1:9");
    let run = |name: &str, env: &[(&str, &str)]| run_bench(root, &admin_url, name, env, &nowhere);
    eprintln!("== pipeline benchmark (release build; the first build takes several minutes)");
    let create_alone = run(
        "create-order alone, in-process queues",
        &[("BENCH_QUEUES", "channel"), ("BENCH_CONSUMERS", "0")],
    )?;
    let in_process = run("in-process queues", &[("BENCH_QUEUES", "channel")])?;
    let (hot, spread) = flash_sale(&run)?;
    let on_emulators = on_emulators(root, &admin_url, &venv)?;

    let (limit, create_limit) = pgbench_limits(root, &admin_url)?;
    let in_process_rows = [
        (
            "create-order alone (in-process)",
            &create_alone,
            "accepted_per_second",
            create_limit,
        ),
        (
            "end to end (in-process queues)",
            &in_process,
            "orders_per_second",
            limit,
        ),
        (
            "end to end, one hot product",
            &hot,
            "orders_per_second",
            limit,
        ),
        (
            "end to end, 100 products",
            &spread,
            "orders_per_second",
            limit,
        ),
    ];
    print_ratios(&in_process_rows, &on_emulators, limit, create_limit)?;
    print_sqs_calls(&on_emulators);
    Ok(())
}

/// The end-to-end runs on each SQS emulator found (LocalStack if its Python is there, then moto), by name.
fn on_emulators(root: &Path, admin_url: &str, venv: &Path) -> Result<Vec<(&'static str, String)>> {
    // One emulator at a time, so the other takes no CPU meanwhile.
    let on_emulator = |emulator: SqsEmulator| -> Result<String> {
        let (emulators, _processes) = Emulators::start_with(root, venv, emulator)?;
        run_bench(
            root,
            admin_url,
            &format!("SQS emulator: {}", emulator.name()),
            &[("BENCH_QUEUES", "sqs")],
            &emulators.env(),
        )
    };
    let mut on_emulators = Vec::new();
    if localstack::python().is_some() {
        on_emulators.push(("LocalStack", on_emulator(SqsEmulator::LocalStack)?));
    } else {
        println!("-- SQS emulator: LocalStack not run (it needs Python >= 3.13; none found)");
    }
    on_emulators.push(("moto", on_emulator(SqsEmulator::Moto)?));
    Ok(on_emulators)
}

/// One `order-core` pipeline bench run on a freshly prepared database: its name, environment and AWS
/// endpoints in, its output (also printed) back.
fn run_bench(
    root: &Path,
    admin_url: &str,
    name: &str,
    env: &[(&str, &str)],
    aws: &[(&str, String)],
) -> Result<String> {
    let db_url = database::prepare(root, admin_url, "bench_pipeline", true)?;
    eprintln!("== pipeline: {name}");
    let mut cmd = Command::new("cargo");
    cmd.args(["bench", "-q", "-p", "order-core", "--bench", "pipeline"])
        .current_dir(root)
        .env("BENCH_DATABASE_URL", &db_url)
        .env("RUST_LOG", "warn")
        .envs(aws.iter().map(|(k, v)| (*k, v.as_str())))
        .envs(env.iter().copied());
    let out = output(&mut cmd)?;
    println!("-- {name}\n{out}");
    Ok(out)
}

/// pgbench's orders/s for the whole pipeline's SQL and for create-order's alone, on a fresh database.
fn pgbench_limits(root: &Path, admin_url: &str) -> Result<(f64, f64)> {
    let db_url = database::prepare(root, admin_url, "bench_pipeline", true)?;
    // As the bench does: stock that never runs out, so every transaction is the happy path.
    native_stack::proc::run(Command::new("psql").arg(&db_url).args([
        "-qc",
        "UPDATE product_info SET stock_on_hand = 100000000, stock_reserved = 0",
    ]))?;
    let limit = pgbench(root, &db_url, "order_pipeline.sql")?;
    let create_limit = pgbench(root, &db_url, "order_create.sql")?;
    Ok((limit, create_limit))
}

/// One row of the summary: its label, the bench output, the field to read and the pgbench limit it is a ratio of.
type Row<'a> = (&'a str, &'a String, &'a str, f64);

/// Prints pgbench's limits, then each row's throughput as a ratio of its limit, the emulator rows last.
fn print_ratios(
    in_process_rows: &[Row<'_>],
    on_emulators: &[(&str, String)],
    limit: f64,
    create_limit: f64,
) -> Result<()> {
    let ratio = |out: &str, key: &str, of: f64| -> Result<String> {
        let value = field(out, key).with_context(|| format!("no {key} in the bench's output"))?;
        Ok(format!(
            "{value:.0} orders/s = {:.2} of pgbench",
            value / of
        ))
    };
    println!(
        "pgbench limit:     {limit:.0} orders/s whole pipeline, {create_limit:.0}/s create-order's transactions (the same SQL, no queues, no Lambda event handling)"
    );
    let mut rows = in_process_rows.to_vec();
    let emulator_labels: Vec<String> = on_emulators
        .iter()
        .map(|(emulator, _)| format!("end to end ({emulator} SQS)"))
        .collect();
    for ((_, out), label) in on_emulators.iter().zip(&emulator_labels) {
        rows.push((label.as_str(), out, "orders_per_second", limit));
    }
    for (label, out, key, of) in rows {
        println!("{:<35}{}", format!("{label}:"), ratio(out, key, of)?);
    }
    Ok(())
}

/// Prints the SQS call counts each emulator run reported, if it did.
fn print_sqs_calls(on_emulators: &[(&str, String)]) {
    for (emulator, out) in on_emulators {
        if let Some(calls) = out
            .lines()
            .find_map(|l| l.trim().strip_prefix("SQS calls:"))
        {
            println!(
                "{:<35}{}",
                format!("SQS calls on {emulator}:"),
                calls.trim()
            );
        }
    }
}

/// pgbench's tps for `xtask/bench/<script>` at `BENCH_CLIENTS` (16) clients for 20 s.
fn pgbench(root: &Path, db_url: &str, script: &str) -> Result<f64> {
    let clients = std::env::var("BENCH_CLIENTS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(16);
    crate::pgbench::tps(root, db_url, script, clients, 20, Protocol::Simple)
}
