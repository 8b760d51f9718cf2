//! Warm latency: authenticated `GET /orders` through the local gateway at a few concurrency levels.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};

use crate::percentile;
use native_stack::Stack;
use native_stack::aws::cognito;
use native_stack::http;

/// Warm requests per concurrency level, after `WARM_UP` unmeasured ones.
const REQUESTS: usize = 300;
const WARM_UP: usize = 10;
const CONCURRENCY: [usize; 2] = [1, 16];
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// p50/p99 of authenticated `GET /orders` through the gateway at each concurrency.
pub fn warm_latency(stack: &Stack) -> Result<()> {
    let token = cognito::sign_in(&stack.cognito_endpoint, &stack.client_id, REQUEST_TIMEOUT)?;
    let authorization = format!("Bearer {token}");
    for _ in 0..WARM_UP {
        get_orders(&stack.gateway_url, &authorization)?;
    }
    println!(
        "\nwarm latency: GET /orders with the demo user's ID token (moto InitiateAuth USER_PASSWORD_AUTH) through"
    );
    println!(
        "the local gateway -> cargo lambda watch -> get-orders, which runs as a DEBUG build (cargo lambda watch"
    );
    println!(
        "runs `cargo run`), against the fresh bench_coldstart database (the demo user has no orders: an empty"
    );
    println!(
        "list). {REQUESTS} requests per level after {WARM_UP} unmeasured ones; each client sends one request at a time,"
    );
    println!(
        "one connection per request (no keep-alive; loopback connect included); every answer must be 200.\n"
    );
    println!(
        "{:>8} {:>9} {:>9} {:>9} {:>11}",
        "clients", "p50", "p99", "max", "requests/s"
    );
    for clients in CONCURRENCY {
        let (mut v, elapsed) = measure(clients, &stack.gateway_url, &authorization)?;
        v.sort_by(f64::total_cmp);
        println!(
            "{:>8} {:>7.1}ms {:>7.1}ms {:>7.1}ms {:>11.1}",
            clients,
            percentile(&v, 50.0),
            percentile(&v, 99.0),
            v.last().copied().unwrap_or(f64::NAN),
            v.len() as f64 / elapsed.as_secs_f64()
        );
    }
    Ok(())
}

/// `REQUESTS` requests from `clients` threads; each latency in ms, and the wall time.
fn measure(clients: usize, gateway: &str, authorization: &str) -> Result<(Vec<f64>, Duration)> {
    let next = AtomicUsize::new(0);
    let latencies = Mutex::new(Vec::with_capacity(REQUESTS));
    let client = || -> Result<()> {
        while next.fetch_add(1, Ordering::SeqCst) < REQUESTS {
            let took = get_orders(gateway, authorization)?;
            latencies
                .lock()
                .map_err(|_| anyhow!("poisoned"))?
                .push(took.as_secs_f64() * 1000.0);
        }
        Ok(())
    };
    let started = Instant::now();
    let results: Vec<Result<()>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients).map(|_| s.spawn(client)).collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("client thread"))
            .collect()
    });
    let elapsed = started.elapsed();
    results.into_iter().collect::<Result<Vec<()>>>()?;
    let latencies = latencies.into_inner().map_err(|_| anyhow!("poisoned"))?;
    Ok((latencies, elapsed))
}

fn get_orders(gateway: &str, authorization: &str) -> Result<Duration> {
    let started = Instant::now();
    let reply = http::send(
        "GET",
        &format!("{gateway}/orders"),
        &[("Authorization", authorization)],
        "",
        REQUEST_TIMEOUT,
    )?;
    let took = started.elapsed();
    if reply.status != 200 {
        bail!(
            "GET /orders answered {}: {}",
            reply.status,
            reply.body.trim()
        );
    }
    Ok(took)
}
