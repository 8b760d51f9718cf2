//! `cargo xtask soak [--orders N]`: the native stack under load and faults, then the books checked.
//!
//! 16 clients place orders through the local gateway (the demo user's ID token, signed in again every 10
//! orders) on three products with scarce stock, resend some with the same `Idempotency-Key`, and cancel some.
//! Meanwhile faults are injected at random ([`chaos`]): the function processes killed (`SIGKILL`,
//! mid-invocation or idle), PostgreSQL stopped fast and restarted, Cognito's moto killed and restarted, the SQS
//! emulator frozen for two seconds. Clients retry 5xx and broken connections with the same
//! key, as the API asks. When the clients are done and the faults stop, the soak waits for the pipeline to
//! drain (redriving a DLQ, as the runbook says, if a message was dead-lettered) and checks ([`books`]):
//! every accepted order is in exactly one terminal state, no key made two orders, no outbox row is left, and
//! per product `on_hand + fulfilled quantities = initial stock` with `reserved = 0` (a message applied twice
//! would break it). `cargo xtask test` runs 300 orders; the full run is by hand.

mod books;
mod chaos;
mod clients;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use native_stack::{self as stack, Stack, aws::cognito};

/// How long the pipeline may take to drain after the last order.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(600);

/// `cargo xtask soak [--orders N]` (5,000 by default) on a stack of its own.
pub fn soak(root: &Path, args: &[String]) -> Result<()> {
    let orders = match args {
        [] => 5000,
        [flag, n] if flag == "--orders" => n.parse().context("--orders takes a number")?,
        _ => bail!("usage: cargo xtask soak [--orders N]"),
    };
    let mut stack = stack::start(
        root,
        &stack::Options {
            database: "orders_soak",
            fresh_database: true,
            gateway_port: None,
            hot_reload: false,
            xray_sampling: stack::XraySampling::AWS_DEFAULT,
        },
    )?;
    run(&mut stack, orders)
}

/// The soak on a running stack: load with faults, drain, then the books. Fails if any check fails.
pub fn run(stack: &mut Stack, orders: usize) -> Result<()> {
    eprintln!(
        "== soak: {orders} orders from {} clients, faults on",
        clients::CLIENTS
    );
    let products = books::Products::create(&stack.database_url, orders)?;
    let token = cognito::sign_in(
        &stack.cognito_endpoint,
        &stack.client_id,
        Duration::from_secs(10),
    )?;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos() as u64;
    eprintln!("   seed {seed}");

    let started = Instant::now();
    let (load, injected) = place_under_faults(stack, &token, &products.ids, orders, seed)?;
    let placed = started.elapsed();

    let drain = books::drain(stack, &products, DRAIN_TIMEOUT)?;
    let drained = started.elapsed() - placed;
    let books = books::Books::read(&stack.database_url, &products, &load)?;
    stack.check_alive()?;

    println!("soak: {orders} orders, 16 clients, seed {seed}");
    println!("  clients:  {load}");
    println!("  faults:   {injected}");
    println!(
        "  time:     {:.1} s placing, {:.1} s to drain ({} DLQ messages redriven)",
        placed.as_secs_f64(),
        drained.as_secs_f64(),
        drain.redriven
    );
    println!("  outcome:  {books}");
    books.verify(&load)?;
    injected.verify()
}

/// The clients' load with the fault thread running alongside until the clients are done; then every fault
/// is healed. Returns what the clients saw and which faults were injected.
fn place_under_faults(
    stack: &Stack,
    token: &str,
    products: &[String],
    orders: usize,
    seed: u64,
) -> Result<(clients::Load, chaos::Injected)> {
    let stop = Arc::new(AtomicBool::new(false));
    let faults = chaos::Faults::for_stack(stack)?;
    let chaos = {
        let (faults, stop) = (faults.clone(), stop.clone());
        std::thread::spawn(move || chaos::run(&faults, &stop, seed))
    };
    let endpoints = clients::Endpoints {
        gateway: &stack.gateway_url,
        cognito: &stack.cognito_endpoint,
        client_id: &stack.client_id,
    };
    let load = clients::place(&endpoints, token, products, orders, seed);
    stop.store(true, Ordering::Relaxed);
    let injected = chaos
        .join()
        .map_err(|_| anyhow::anyhow!("the fault thread panicked"))?;
    faults.heal()?;
    Ok((load, injected))
}
