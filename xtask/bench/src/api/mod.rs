//! `cargo xtask bench api`: the API at the database's pace. get-orders' two reads ("list 20", "get one")
//! through the real handler in-process (order-core's `get_orders` bench: event JSON in, response JSON out) at 1
//! and 16 clients, beside pgbench sending the same statement at the same clients, each as a ratio of it (target
//! ≥ 0.7); then one warm `GET /orders` through the local gateway, component by component ([`gateway`]).
//!
//! Both sides read one database seeded by `xtask/bench/get_orders_seed.sql`. pgbench runs the statement the
//! handler sends, as the handler sends it: with the extended protocol and the statement prepared once per
//! connection (sqlx's statement cache), so `-M prepared`; one transaction of the script is one request. What
//! pgbench leaves out is ours alone: the event's JSON, the spans, the pool's checks (sqlx pings a connection
//! when it is checked out and again when it is returned: a round trip each), the rows decoded into the domain
//! and the response's JSON.

mod gateway;

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use super::{field, output};
use crate::pgbench::{self, Protocol};
use native_stack::{database, postgres, proc};

/// The orders both sides read.
const SEED: &str = "xtask/bench/get_orders_seed.sql";
/// The bench's own database (the shared server holds others).
const DATABASE: &str = "bench_api";
/// Seconds per measured case, for the handler and for pgbench alike.
const SECONDS: u64 = 10;
const CLIENTS: [usize; 2] = [1, 16];
/// The target: the handler at no less than this share of pgbench's rate.
const TARGET: f64 = 0.7;
/// Each case: its label, its key in the bench's `BENCH_RESULT` line, pgbench's script.
const CASES: [(&str, &str, &str); 2] = [
    ("list 20", "list", "get_orders_list.sql"),
    ("get one", "get", "get_orders_one.sql"),
];

pub fn api(root: &Path) -> Result<()> {
    let (admin_url, _pg) = postgres::server(root)?;
    let db_url = database::prepare(root, &admin_url, DATABASE, true)?;
    psql_file(&db_url, &root.join(SEED))?;
    eprintln!("== get-orders in-process (release build; the first build takes several minutes)");
    let handler = output(
        Command::new("cargo")
            .args(["bench", "-q", "-p", "order-core", "--bench", "get_orders"])
            .current_dir(root)
            .env("BENCH_DATABASE_URL", &db_url)
            .env("BENCH_SECONDS", SECONDS.to_string())
            .env("OTEL_TRACES_EXPORTER", "none")
            .env("RUST_LOG", "info"),
    )?;
    println!("-- get-orders in-process, through the real handler\n{handler}");
    let mut rows = Vec::new();
    for (label, key, script) in CASES {
        for clients in CLIENTS {
            let ours = field(&handler, &format!("{key}_c{clients}"))
                .with_context(|| format!("no {key}_c{clients} in the bench's output"))?;
            let limit = pgbench::tps(root, &db_url, script, clients, SECONDS, Protocol::Prepared)?;
            rows.push((label, clients, ours, limit));
        }
    }
    print_ratios(&rows);
    gateway::breakdown(root)
}

/// Runs the SQL file `file` on `db_url`, stopping at the first error.
fn psql_file(db_url: &str, file: &Path) -> Result<()> {
    proc::run(
        Command::new("psql")
            .arg(db_url)
            .args(["-qv", "ON_ERROR_STOP=1", "-f"])
            .arg(file),
    )
}

/// One line per case: the handler's rate, pgbench's, the ratio and the verdict.
fn print_ratios(rows: &[(&str, usize, f64, f64)]) {
    println!("\nget-orders in-process against pgbench, the same statement ({SECONDS} s each):");
    for (label, clients, ours, limit) in rows {
        let ratio = ours / limit;
        let verdict = if ratio >= TARGET { "met" } else { "NOT met" };
        println!(
            "{:<22}{ours:>7.0} requests/s, pgbench {limit:>7.0} tps = {ratio:.2}x (target >= {TARGET}x: {verdict})",
            format!("{label}, {clients:>2} client(s):")
        );
    }
}
