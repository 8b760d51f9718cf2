//! The soak's clients: orders, duplicate submissions and cancels through the gateway, retrying what a fault
//! broke with the same `Idempotency-Key`. Each client signs in to Cognito at the start and again every
//! [`SIGN_IN_EVERY`] orders, as an app refreshes its tokens, so sign-ins meet the Cognito restarts.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Result;

use native_stack::aws::cognito;
use native_stack::http;

/// Concurrent clients.
pub const CLIENTS: usize = 16;
/// Tries per request before a client gives up (a PostgreSQL restart takes a few seconds).
const TRIES: usize = 60;
const BACKOFF: Duration = Duration::from_millis(250);
const TIMEOUT: Duration = Duration::from_secs(35);
/// Orders between two sign-ins of a client.
const SIGN_IN_EVERY: usize = 10;

/// What the clients did and saw.
#[derive(Debug, Default)]
pub struct Load {
    /// Orders the API accepted (202), by id.
    pub accepted: BTreeSet<String>,
    /// Orders placed whose every try failed: the order may or may not exist.
    pub gave_up: usize,
    /// Requests refused with a 4xx (none expected).
    pub refused: Vec<String>,
    /// Resends with the same key, and those that answered another order id (must be none).
    pub duplicates: usize,
    pub duplicate_mismatches: Vec<String>,
    /// Cancels answered 200, answered 409 (already fulfilled or rejected), or given up.
    pub cancelled: usize,
    pub cancel_refused: usize,
    pub cancel_gave_up: usize,
    /// Tries repeated after a 5xx or a broken connection.
    pub retries: usize,
    /// Sign-ins that got a token, tries repeated because Cognito was down, and sign-ins given up (the client
    /// then goes on with its previous token, still valid).
    pub sign_ins: usize,
    pub sign_in_retries: usize,
    pub sign_ins_given_up: usize,
}

impl fmt::Display for Load {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} accepted, {} given up, {} refused; {} duplicate submissions ({} answered another order); \
             cancels: {} done, {} too late (409), {} given up; {} retries after a fault; \
             {} sign-ins ({} retries, {} given up)",
            self.accepted.len(),
            self.gave_up,
            self.refused.len(),
            self.duplicates,
            self.duplicate_mismatches.len(),
            self.cancelled,
            self.cancel_refused,
            self.cancel_gave_up,
            self.retries,
            self.sign_ins,
            self.sign_in_retries,
            self.sign_ins_given_up
        )
    }
}

/// A small deterministic generator per client (the soak prints its seed).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    /// xorshift64*: uniform enough for picking products and faults.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Where the clients sign in and send their requests.
pub struct Endpoints<'a> {
    pub gateway: &'a str,
    pub cognito: &'a str,
    pub client_id: &'a str,
}

/// Places `orders` orders from [`CLIENTS`] threads, each starting with `token`, and returns what happened.
pub fn place(
    to: &Endpoints<'_>,
    token: &str,
    products: &[String],
    orders: usize,
    seed: u64,
) -> Load {
    let next = AtomicUsize::new(0);
    let load = Mutex::new(Load::default());
    std::thread::scope(|scope| {
        for client in 0..CLIENTS {
            let (next, load) = (&next, &load);
            scope.spawn(move || {
                let mut rng = Rng::new(seed ^ (client as u64 + 1).wrapping_mul(0x9e37_79b9));
                let mut token = token.to_owned();
                let mut placed = 0;
                while next.fetch_add(1, Ordering::Relaxed) < orders {
                    let mut mine = Load::default();
                    if placed % SIGN_IN_EVERY == 0 {
                        sign_in(to, &mut token, &mut mine);
                    }
                    one_order(to.gateway, &token, products, &mut rng, &mut mine);
                    placed += 1;
                    merge(&mut load.lock().unwrap(), mine);
                }
            });
        }
    });
    load.into_inner().unwrap()
}

/// A new ID token from Cognito into `token`, retried like the API's requests while Cognito is down.
fn sign_in(to: &Endpoints<'_>, token: &mut String, load: &mut Load) {
    for attempt in 0..TRIES {
        if attempt > 0 {
            load.sign_in_retries += 1;
            std::thread::sleep(BACKOFF);
        }
        if let Ok(id_token) = cognito::sign_in(to.cognito, to.client_id, Duration::from_secs(10)) {
            *token = id_token;
            load.sign_ins += 1;
            return;
        }
    }
    load.sign_ins_given_up += 1;
}

fn merge(into: &mut Load, from: Load) {
    into.accepted.extend(from.accepted);
    into.gave_up += from.gave_up;
    into.refused.extend(from.refused);
    into.duplicates += from.duplicates;
    into.duplicate_mismatches.extend(from.duplicate_mismatches);
    into.cancelled += from.cancelled;
    into.cancel_refused += from.cancel_refused;
    into.cancel_gave_up += from.cancel_gave_up;
    into.retries += from.retries;
    into.sign_ins += from.sign_ins;
    into.sign_in_retries += from.sign_in_retries;
    into.sign_ins_given_up += from.sign_ins_given_up;
}

/// One order: create (with a key), maybe resend it, maybe cancel it.
fn one_order(gateway: &str, token: &str, products: &[String], rng: &mut Rng, load: &mut Load) {
    let key = format!("soak-{:016x}{:016x}", rng.next(), rng.next());
    let body = order_body(products, rng);
    let url = format!("{gateway}/orders");
    let headers = [
        ("Authorization", token),
        ("Content-Type", "application/json"),
        ("Idempotency-Key", key.as_str()),
    ];
    let Some(reply) = with_retries("POST", &url, &headers, &body, load) else {
        load.gave_up += 1;
        return;
    };
    let Some(id) = accepted_id(&reply) else {
        load.refused
            .push(format!("POST /orders {}: {}", reply.status, reply.body));
        return;
    };
    load.accepted.insert(id.clone());

    if rng.below(5) == 0 {
        load.duplicates += 1;
        match with_retries("POST", &url, &headers, &body, load) {
            Some(again) if accepted_id(&again).as_deref() == Some(id.as_str()) => {}
            Some(again) => load.duplicate_mismatches.push(format!(
                "key {key}: {id} then {} {}",
                again.status, again.body
            )),
            None => load.gave_up += 1,
        }
    }
    if rng.below(6) == 0 {
        cancel(gateway, &id, &headers[..1], load);
    }
}

/// A create-order body: one or two lines on neighbouring products, quantities 1 to 3, drawn from `rng`.
fn order_body(products: &[String], rng: &mut Rng) -> String {
    let first = rng.below(products.len() as u64) as usize;
    let lines = 1 + rng.below(2) as usize;
    let items: Vec<_> = (0..lines)
        .map(|i| {
            serde_json::json!({
                "product_id": products[(first + i) % products.len()],
                "quantity": 1 + rng.below(3),
            })
        })
        .collect();
    serde_json::json!({ "items": items }).to_string()
}

/// Cancels order `id` (with the retries every request gets) and counts how that went.
fn cancel(gateway: &str, id: &str, auth: &[(&str, &str)], load: &mut Load) {
    let url = format!("{gateway}/orders/{id}/cancel");
    match with_retries("POST", &url, auth, "", load) {
        Some(r) if r.status == 200 => load.cancelled += 1,
        Some(r) if r.status == 409 => load.cancel_refused += 1,
        Some(r) => load
            .refused
            .push(format!("POST /orders/{id}/cancel {}: {}", r.status, r.body)),
        None => load.cancel_gave_up += 1,
    }
}

/// The order id of a 202 or 200 answer (a replay of the same key answers the original order).
fn accepted_id(reply: &http::Reply) -> Option<String> {
    if !matches!(reply.status, 200 | 202) {
        return None;
    }
    let body: serde_json::Value = serde_json::from_str(&reply.body).ok()?;
    body["id"].as_str().map(str::to_owned)
}

/// Sends until the answer is neither a 5xx nor a 429 nor a broken connection, at most [`TRIES`] times.
fn with_retries(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
    load: &mut Load,
) -> Option<http::Reply> {
    for attempt in 0..TRIES {
        if attempt > 0 {
            load.retries += 1;
            std::thread::sleep(BACKOFF);
        }
        let reply: Result<http::Reply> = http::send(method, url, headers, body, TIMEOUT);
        match reply {
            Ok(r) if r.status < 500 && r.status != 429 => return Some(r),
            _ => continue,
        }
    }
    None
}
