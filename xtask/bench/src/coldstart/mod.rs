//! `cargo xtask bench coldstart`: cold start, binary size and idle RSS of the release function binaries beside a
//! hello-world `lambda_runtime` binary, then warm `GET /orders` latency through the local gateway. Figures
//! only; nothing here asserts anything about time.
//!
//! The release binaries are run under xtask's own minimal Lambda Runtime API ([`crate::runtime_api`]), not
//! under `cargo lambda watch`: that one starts functions with `cargo run` (a debug build plus cargo's freshness
//! check), which would measure cargo rather than the binary.

mod phases;
mod run;
mod tls;
mod warm;

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};

use super::percentile as p;
use native_stack::aws::init::role_secret_name;
use native_stack::events::{self, Probe};
use native_stack::{self as stack, Options, Stack};
use native_stack::{proc, tools};
use order_contract::topology::FUNCTIONS;
use run::{MEMORY_MB, Measured};

/// The baseline binary.
const HELLO: &str = "hello-lambda";
/// The function whose first invocation does the most (reads and publishes the outbox).
const RELAY: &str = "outbox-relay";
/// Cold starts per binary.
const RUNS: usize = 10;
/// The bare rustls client whose two handshakes the TLS run's target allows for.
const BARE_TLS: &str = "bare-tls";

/// One binary's figures.
struct Row {
    bin: &'static str,
    size: u64,
    runs: Vec<Measured>,
}

pub fn coldstart(root: &Path) -> Result<()> {
    let binaries = binaries();
    eprintln!(
        "== coldstart: release build of the functions and hello-lambda (slow: lto, codegen-units=1)"
    );
    let mut build = tools::cargo(root);
    build.args(["build", "--release"]);
    for (bin, _) in &binaries {
        build.args(["--bin", bin]);
    }
    build.args(["--bin", BARE_TLS]);
    proc::run(&mut build)?;

    eprintln!(
        "== coldstart: the native stack (PostgreSQL, the AWS emulators, cargo lambda watch, local gateway)"
    );
    let options = Options {
        database: "bench_coldstart",
        fresh_database: true,
        gateway_port: None,
        hot_reload: false,
        xray_sampling: stack::XraySampling::AWS_DEFAULT,
    };
    let stack = stack::start(root, &options)?;
    let rows = binaries
        .iter()
        .map(|(bin, probe)| measure(root, &stack, bin, probe, None))
        .collect::<Result<Vec<_>>>()?;
    print_table(&rows)?;
    print_phases(&rows)?;

    eprintln!(
        "== coldstart with the handshakes AWS charges: Secrets Manager over HTTPS, PostgreSQL with verify-full"
    );
    let emulator = run::read_env_file(&stack.log_dir.join("functions.env"))?
        .into_iter()
        .find_map(|(k, v)| (k == "AWS_ENDPOINT_URL").then_some(v))
        .context("functions.env names no AWS_ENDPOINT_URL")?;
    let handshakes = tls::Handshakes::start(root, &emulator)?;
    let tls_rows = binaries
        .iter()
        .filter(|(bin, _)| *bin != HELLO)
        .map(|(bin, probe)| measure(root, &stack, bin, probe, Some(&handshakes)))
        .collect::<Result<Vec<_>>>()?;
    let bare = handshakes.bare(root, RUNS)?;
    print_tls(&rows, &tls_rows, &bare)?;
    drop(handshakes);
    warm::warm_latency(&stack)?;
    drop(stack);
    Ok(())
}

/// The binaries measured, the baseline first, each with the event it gets.
fn binaries() -> Vec<(&'static str, Probe)> {
    let functions = FUNCTIONS
        .iter()
        .map(|f| (f.name, events::probe(f.trigger, "xtask-coldstart")));
    [(HELLO, events::echo())]
        .into_iter()
        .chain(functions)
        .collect()
}

/// `RUNS` cold starts of one binary; with `tls`, against the TLS peers instead of the plain ones.
fn measure(
    root: &Path,
    stack: &Stack,
    bin: &'static str,
    probe: &Probe,
    tls: Option<&tls::Handshakes>,
) -> Result<Row> {
    let mut function_env = run::read_env_file(&stack.log_dir.join("functions.env"))?;
    if bin != HELLO {
        // Each function's own secret, for its own role (what `cargo lambda watch` takes from the workspace
        // Cargo.toml's `[workspace.metadata.lambda.bin.<function>.env]`).
        function_env.push(("DB_SECRET_ARN".to_owned(), role_secret_name(bin)));
    }
    if let Some(tls) = tls {
        function_env = tls.env(&function_env);
    }
    let path = root.join("target/release").join(bin);
    let size = std::fs::metadata(&path)
        .with_context(|| format!("{} is missing", path.display()))?
        .len();
    let suffix = if tls.is_some() { "-tls" } else { "" };
    let log = stack.log_dir.join(format!("coldstart-{bin}{suffix}.log"));
    let runs = (0..RUNS)
        .map(|i| {
            run::cold_start(&path, bin, probe, &function_env, &log, i)
                .with_context(|| format!("{bin}: cold start {i} (log: {})", log.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    eprintln!("   {bin}{suffix}: {RUNS} cold starts");
    Ok(Row { bin, size, runs })
}

fn millis(runs: &[Measured], which: impl Fn(&Measured) -> Duration) -> Vec<f64> {
    let mut v: Vec<f64> = runs
        .iter()
        .map(|r| which(r).as_secs_f64() * 1000.0)
        .collect();
    v.sort_by(f64::total_cmp);
    v
}

const LEGEND: &str = "
cold start: exec -> first event answered, release binaries (workspace release profile: lto, strip,
codegen-units=1), RUNS runs each, one at a time, under xtask's own minimal Lambda Runtime API emulator
on loopback (std only; not cargo lambda's, whose `watch` starts functions with `cargo run` and debug
builds). Env: the stack's functions.env (secret, PostgreSQL, queues, OTLP to otlp-sink) plus
AWS_LAMBDA_*; memory size MEMORY MB is only reported, not enforced. Events: API Gateway GET
/orders without claims (401), SQS with zero records, EventBridge scheduled event for the relay (reads the
outbox), echo for hello-lambda. init = exec -> first GET .../invocation/next; answered = exec -> POST
.../response received. Idle RSS: VmRSS when the second .../next arrives (lower median of the runs).
The rest of the stack was running meanwhile (gateway relay timer, SQS pollers), and so may other builds.
";

fn print_table(rows: &[Row]) -> Result<()> {
    let hello_p50 = rows
        .iter()
        .find(|row| row.bin == HELLO)
        .map(|row| p(&millis(&row.runs, |r| r.answered), 50.0))
        .context("no hello-lambda figures")?;
    let legend = LEGEND
        .replace("RUNS", &RUNS.to_string())
        .replace("MEMORY", MEMORY_MB);
    println!("{legend}");
    println!(
        "{:<14} {:>9} {:>9} {:>11} {:>11} {:>9} {:>13} {:>10}",
        "binary", "init p50", "init min", "answer p50", "answer min", "x hello", "size", "idle RSS"
    );
    for row in rows {
        print_row(row, hello_p50);
    }
    println!("(x hello = answer p50 / hello-lambda's answer p50)");
    for Row { bin, size, .. } in rows {
        println!(
            "size {bin}: {size} bytes ({:.2} MiB)",
            *size as f64 / 1_048_576.0
        );
    }
    Ok(())
}

fn print_row(row: &Row, hello_p50: f64) {
    let init = millis(&row.runs, |r| r.init);
    let answered = millis(&row.runs, |r| r.answered);
    let mut rss: Vec<u64> = row.runs.iter().map(|r| r.rss_kib).collect();
    rss.sort_unstable();
    let rss = rss
        .get(rss.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(0);
    println!(
        "{:<14} {:>7.1}ms {:>7.1}ms {:>9.1}ms {:>9.1}ms {:>9.2} {:>13} {:>6.1}MiB",
        row.bin,
        p(&init, 50.0),
        init[0],
        p(&answered, 50.0),
        answered[0],
        p(&answered, 50.0) / hello_p50,
        format!("{:.2}MiB", row.size as f64 / 1_048_576.0),
        rss as f64 / 1024.0
    );
}

const PHASES_LEGEND: &str = "
init, phase by phase (p50 of the runs, ms; wall/cpu): exec->main is the bench's spawn to the function's first
line of init (loading the binary, starting the tokio runtime), the middle phases are the function's own
`init phases` log record (wall clock / CPU time of all its threads), ready = the first GET .../next minus
all of those (the runtime's own setup). Round trips = wall minus CPU of secret_fetch, pool_connect,
first_query and extension (registering the span export extension): the emulator's, PostgreSQL's and the
Runtime API's share. ours = init minus the round trips.";

/// The phase table and the targets, from the functions' own records.
fn print_phases(rows: &[Row]) -> Result<()> {
    let hello = rows
        .iter()
        .find(|row| row.bin == HELLO)
        .context("no hello-lambda figures")?;
    let hello_init = p(&millis(&hello.runs, |r| r.init), 50.0);
    let hello_answer = p(&millis(&hello.runs, |r| r.answered), 50.0);
    println!("{PHASES_LEGEND}");
    for row in rows.iter().filter(|row| row.bin != HELLO) {
        let logged: Vec<&phases::Logged> =
            row.runs.iter().filter_map(|r| r.logged.as_ref()).collect();
        if logged.len() != row.runs.len() {
            println!(
                "{}: no init phases record in {} of {} runs",
                row.bin,
                row.runs.len() - logged.len(),
                row.runs.len()
            );
            continue;
        }
        print_function_phases(row, &logged);
        let init = p(&millis(&row.runs, |r| r.init), 50.0);
        let answered = p(&millis(&row.runs, |r| r.answered), 50.0);
        let trips = median(logged.iter().map(|l| l.round_trips_ms()));
        let ours = median(
            row.runs
                .iter()
                .zip(&logged)
                .map(|(r, l)| ms(r.init) - l.round_trips_ms()),
        );
        let first_answer = median(row.runs.iter().map(|r| ms(r.answered) - ms(r.init)));
        println!(
            "  init CPU {:.1} (all threads, exec -> first next; hello-lambda {:.1})",
            init_cpu(row),
            init_cpu(hello)
        );
        println!(
            "  init {init:.1} = ours {ours:.1} + round trips {trips:.1}; target ours <= hello init {hello_init:.1} + 3 = {:.1}: {}",
            hello_init + 3.0,
            verdict(ours <= hello_init + 3.0)
        );
        println!(
            "  answered {answered:.1} (first event {first_answer:.1} after init); target <= 3 x hello {hello_answer:.1} + round trips {trips:.1} = {:.1}: {}",
            3.0 * hello_answer + trips,
            verdict(answered <= 3.0 * hello_answer + trips)
        );
        if row.bin == RELAY {
            println!(
                "  target: the relay's first answer within 20 ms of its init ({first_answer:.1}): {}",
                verdict(first_answer <= 20.0)
            );
        }
    }
    Ok(())
}

const TLS_LEGEND: &str = "
with the handshakes AWS charges: the same release binaries and events, but Secrets Manager over HTTPS (the
emulator behind a TLS front on localhost) and PostgreSQL with sslmode=verify-full (a throwaway server with
ssl = on on localhost, migrated as the stack's database), both certificates from one throwaway CA (ECDSA P-256)
that the functions trust for the run (AWS_CA_BUNDLE, PGSSLROOTCERT). init CPU = the process's CPU time, all
threads, from exec to its first GET .../next (clock_getcpuclockid). bare-tls: a bare rustls (aws-lc-rs)
client in a fresh process doing the same two handshakes (its own client config each, as the SDK and sqlx
build theirs), RUNS runs. Target: init CPU <= hello-lambda's init CPU + 3 ms + bare-tls's two handshakes.";

/// The TLS run: init wall and CPU beside the plain run, the phases, and the target against the bare client.
fn print_tls(plain: &[Row], tls: &[Row], bare: &[tls::Bare]) -> Result<()> {
    let hello = plain
        .iter()
        .find(|row| row.bin == HELLO)
        .context("no hello-lambda figures")?;
    let hello_cpu = init_cpu(hello);
    let https = median(bare.iter().map(|b| b.https_cpu_ms));
    let postgres = median(bare.iter().map(|b| b.postgres_cpu_ms));
    println!("{}", TLS_LEGEND.replace("RUNS", &RUNS.to_string()));
    println!(
        "bare-tls, p50 of {} runs: HTTPS handshake {https:.2} ms CPU ({:.2} wall), PostgreSQL SSLRequest + handshake {postgres:.2} ms CPU ({:.2} wall), whole process {:.2} ms CPU",
        bare.len(),
        median(bare.iter().map(|b| b.https_wall_ms)),
        median(bare.iter().map(|b| b.postgres_wall_ms)),
        median(bare.iter().map(|b| b.process_cpu_ms)),
    );
    println!("hello-lambda init CPU p50 {hello_cpu:.2} ms\n");
    println!(
        "{:<14} {:>10} {:>10} {:>11} {:>11} {:>9}",
        "binary", "init plain", "init TLS", "CPU plain", "CPU TLS", "CPU added"
    );
    for row in tls {
        let plain_row = plain
            .iter()
            .find(|p| p.bin == row.bin)
            .context("a TLS row without its plain row")?;
        println!(
            "{:<14} {:>8.1}ms {:>8.1}ms {:>9.2}ms {:>9.2}ms {:>7.2}ms",
            row.bin,
            p(&millis(&plain_row.runs, |r| r.init), 50.0),
            p(&millis(&row.runs, |r| r.init), 50.0),
            init_cpu(plain_row),
            init_cpu(row),
            init_cpu(row) - init_cpu(plain_row)
        );
    }
    println!();
    let allowed = hello_cpu + 3.0 + https + postgres;
    for row in tls {
        let logged: Vec<&phases::Logged> =
            row.runs.iter().filter_map(|r| r.logged.as_ref()).collect();
        if logged.len() == row.runs.len() {
            print_function_phases(row, &logged);
        }
        let cpu = init_cpu(row);
        println!(
            "  init CPU {cpu:.2}; target <= hello {hello_cpu:.2} + 3 + handshakes {:.2} = {allowed:.2}: {} ({:+.2} ms)",
            https + postgres,
            verdict(cpu <= allowed),
            cpu - allowed
        );
    }
    Ok(())
}

/// p50 of the runs' init CPU, ms (NaN if the process could not be read).
fn init_cpu(row: &Row) -> f64 {
    median(row.runs.iter().map(|r| r.init_cpu.map_or(f64::NAN, ms)))
}

fn print_function_phases(row: &Row, logged: &[&phases::Logged]) {
    let mut line = format!(
        "{:<14} exec->main {:.1}",
        row.bin,
        median(logged.iter().map(|l| l.exec_to_main_ms))
    );
    let names: Vec<String> = logged[0].phases.iter().map(|ph| ph.name.clone()).collect();
    for name in &names {
        let of = |which: fn(&phases::Phase) -> f64| {
            median(
                logged
                    .iter()
                    .filter_map(|l| l.phases.iter().find(|ph| &ph.name == name))
                    .map(which),
            )
        };
        line += &format!(
            " | {name} {:.1}/{:.1}",
            of(|ph| ph.wall_ms),
            of(|ph| ph.cpu_ms)
        );
    }
    let ready = median(
        row.runs
            .iter()
            .zip(logged)
            .map(|(r, l)| ms(r.init) - l.logged_ms()),
    );
    println!("{line} | ready {ready:.1}");
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    p(&v, 50.0)
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}
