//! The soak's products, the wait for the pipeline to drain, and the books at the end.

use std::fmt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::clients::Load;
use native_stack::Stack;

/// Three products of the soak's own, with scarce stock: about half the orders can be served.
pub struct Products {
    pub ids: Vec<String>,
    pub initial: i64,
    database_url: String,
}

impl Products {
    pub fn create(database_url: &str, orders: usize) -> Result<Self> {
        let initial = (orders / 2).max(5) as i64;
        let run = std::process::id();
        let ids: Vec<String> = (1..=3)
            .map(|n| format!("0193c000-0000-7000-8000-{run:08}{n:04}"))
            .collect();
        for (n, id) in ids.iter().enumerate() {
            sql(
                database_url,
                &format!(
                    "INSERT INTO product_info (id, sku, name, price_minor, currency, stock_on_hand, \
                     stock_reserved, low_stock_threshold) VALUES ('{id}', 'SOAK-{run}-{n}', 'Soak product {n}', \
                     1000, 'EUR', {initial}, 0, 0)"
                ),
            )?;
        }
        Ok(Self {
            ids,
            initial,
            database_url: database_url.to_owned(),
        })
    }

    fn list(&self) -> String {
        self.ids
            .iter()
            .map(|id| format!("'{id}'"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The soak's orders: those with a line on one of its products.
    fn orders_where(&self) -> String {
        format!(
            "EXISTS (SELECT 1 FROM order_line l WHERE l.order_id = o.id AND l.product_id IN ({}))",
            self.list()
        )
    }
}

/// What the drain did.
pub struct Drain {
    pub redriven: usize,
}

/// Waits until no soak order is pending or confirmed and no soak outbox row is unpublished; redrives the DLQs
/// (receive, send to the source queue, delete) whenever orders are still open and a DLQ holds messages.
pub fn drain(stack: &Stack, products: &Products, timeout: Duration) -> Result<Drain> {
    let started = Instant::now();
    let mut redriven = 0;
    let mut last_redrive = Instant::now();
    loop {
        let open = count(
            &products.database_url,
            &format!(
                "SELECT count(*) FROM orders o WHERE status IN ('pending', 'confirmed') AND {}",
                products.orders_where()
            ),
        );
        let unpublished = count(
            &products.database_url,
            &format!(
                "SELECT count(*) FROM outbox b WHERE published_at IS NULL AND EXISTS (SELECT 1 FROM orders o \
                 WHERE o.id::text = b.payload->>'order_id' AND {})",
                products.orders_where()
            ),
        );
        match (open, unpublished) {
            (Ok(0), Ok(0)) => return Ok(Drain { redriven }),
            (open, unpublished) if started.elapsed() > timeout => bail!(
                "the pipeline did not drain within {timeout:?}: open orders {open:?}, unpublished rows {unpublished:?}"
            ),
            _ => {}
        }
        if last_redrive.elapsed() > Duration::from_secs(15) {
            redriven += redrive(stack)?;
            last_redrive = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Moves every DLQ message back to its queue, as the runbook's redrive does; returns how many.
fn redrive(stack: &Stack) -> Result<usize> {
    let mut moved = 0;
    for queue in &stack.queue_urls {
        let dlq = format!("{queue}-dlq");
        loop {
            let messages = receive_dead_letters(stack, &dlq)?;
            if messages.is_empty() {
                break;
            }
            for m in messages {
                move_back(stack, queue, &dlq, &m)?;
                moved += 1;
            }
        }
    }
    if moved > 0 {
        eprintln!("   redrove {moved} dead-lettered messages");
    }
    Ok(moved)
}

/// Up to ten messages from the dead-letter queue `dlq`, with their attributes; none once it is empty.
fn receive_dead_letters(stack: &Stack, dlq: &str) -> Result<Vec<serde_json::Value>> {
    let out = awslocal(
        stack,
        &[
            "sqs",
            "receive-message",
            "--queue-url",
            dlq,
            "--max-number-of-messages",
            "10",
            "--message-attribute-names",
            "All",
            "--output",
            "json",
        ],
    )?;
    let reply: serde_json::Value =
        serde_json::from_str(if out.trim().is_empty() { "{}" } else { &out })
            .context("receive-message answered something not JSON")?;
    Ok(reply["Messages"].as_array().cloned().unwrap_or_default())
}

/// Sends one dead-lettered message `m` back to `queue` with its attributes, then deletes it from `dlq`.
fn move_back(stack: &Stack, queue: &str, dlq: &str, m: &serde_json::Value) -> Result<()> {
    let mut send = vec![
        "sqs".to_owned(),
        "send-message".to_owned(),
        "--queue-url".to_owned(),
        queue.to_owned(),
        "--message-body".to_owned(),
        m["Body"].as_str().unwrap_or_default().to_owned(),
    ];
    if let Some(attributes) = m.get("MessageAttributes") {
        send.push("--message-attributes".to_owned());
        send.push(attributes.to_string());
    }
    awslocal(stack, &send.iter().map(String::as_str).collect::<Vec<_>>())?;
    awslocal(
        stack,
        &[
            "sqs",
            "delete-message",
            "--queue-url",
            dlq,
            "--receipt-handle",
            m["ReceiptHandle"].as_str().unwrap_or_default(),
        ],
    )?;
    Ok(())
}

fn awslocal(stack: &Stack, args: &[&str]) -> Result<String> {
    let root = stack
        .log_dir
        .parent()
        .and_then(Path::parent)
        .context("the stack's log dir is not under target/")?;
    let path = format!(
        "{}:{}:{}",
        root.join("xtask/bin").display(),
        root.join(".venv/bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("awslocal")
        .args(args)
        .env("PATH", path)
        .envs(stack.aws_env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .context("awslocal")?;
    if !out.status.success() {
        bail!(
            "awslocal {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The state of the soak's orders and products at the end.
#[derive(Debug)]
pub struct Books {
    pub orders: i64,
    pub fulfilled: i64,
    pub rejected: i64,
    pub cancelled: i64,
    pub open: i64,
    pub accepted_missing: Vec<String>,
    pub keys_with_two_orders: i64,
    /// Per product: (id, on hand, reserved, fulfilled quantity).
    pub stock: Vec<(String, i64, i64, i64)>,
    pub initial: i64,
    pub unpublished: i64,
}

impl Books {
    pub fn read(database_url: &str, products: &Products, load: &Load) -> Result<Self> {
        let by = |status: &str| {
            count(
                database_url,
                &format!(
                    "SELECT count(*) FROM orders o WHERE status = '{status}' AND {}",
                    products.orders_where()
                ),
            )
        };
        let orders = count(
            database_url,
            &format!(
                "SELECT count(*) FROM orders o WHERE {}",
                products.orders_where()
            ),
        )?;
        let stock = read_stock(database_url, products)?;
        Ok(Self {
            orders,
            fulfilled: by("fulfilled")?,
            rejected: by("rejected")?,
            cancelled: by("cancelled")?,
            open: count(
                database_url,
                &format!(
                    "SELECT count(*) FROM orders o WHERE status IN ('pending', 'confirmed') AND {}",
                    products.orders_where()
                ),
            )?,
            accepted_missing: missing(database_url, load)?,
            keys_with_two_orders: count(
                database_url,
                &format!(
                    "SELECT count(*) FROM (SELECT customer_id, idempotency_key FROM orders o WHERE {} \
                     AND idempotency_key IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1) k",
                    products.orders_where()
                ),
            )?,
            stock,
            initial: products.initial,
            unpublished: unpublished(database_url, products)?,
        })
    }

    /// Every check of the soak; the first failure names what broke.
    pub fn verify(&self, load: &Load) -> Result<()> {
        let mut failures = self.order_failures(load);
        failures.extend(load_failures(load));
        failures.extend(self.stock_failures());
        if failures.is_empty() {
            Ok(())
        } else {
            bail!(
                "soak: the books do not balance:\n  {}",
                failures.join("\n  ")
            )
        }
    }

    /// The order-count checks: every order terminal, every accepted order stored, no more than were sent, one
    /// order per idempotency key.
    fn order_failures(&self, load: &Load) -> Vec<String> {
        let mut failures = Vec::new();
        let terminal = self.fulfilled + self.rejected + self.cancelled;
        if self.open != 0 || terminal != self.orders {
            failures.push(format!(
                "{} orders, {terminal} in a terminal state, {} open",
                self.orders, self.open
            ));
        }
        if !self.accepted_missing.is_empty() {
            failures.push(format!(
                "accepted orders not stored: {:?}",
                self.accepted_missing
            ));
        }
        let accepted = load.accepted.len() as i64;
        if self.orders < accepted || self.orders > accepted + load.gave_up as i64 {
            failures.push(format!(
                "{} orders stored for {accepted} accepted and {} given up",
                self.orders, load.gave_up
            ));
        }
        if self.keys_with_two_orders != 0 {
            failures.push(format!(
                "{} idempotency keys made two orders",
                self.keys_with_two_orders
            ));
        }
        failures
    }

    /// The stock checks: per product, on hand + fulfilled = initial and nothing reserved; the outbox drained.
    fn stock_failures(&self) -> Vec<String> {
        let mut failures = Vec::new();
        for (id, on_hand, reserved, fulfilled) in &self.stock {
            if on_hand + fulfilled != self.initial || *reserved != 0 {
                failures.push(format!(
                    "product {id}: on hand {on_hand} + fulfilled {fulfilled} != initial {} or reserved {reserved} != 0",
                    self.initial
                ));
            }
        }
        if self.unpublished != 0 {
            failures.push(format!("{} outbox rows unpublished", self.unpublished));
        }
        failures
    }
}

/// The client-side checks: resends answered with the same order, sign-ins recovered, no request refused.
fn load_failures(load: &Load) -> Vec<String> {
    let mut failures = Vec::new();
    if !load.duplicate_mismatches.is_empty() {
        failures.push(format!(
            "resends answered another order: {:?}",
            load.duplicate_mismatches
        ));
    }
    if load.sign_ins_given_up != 0 {
        failures.push(format!(
            "{} sign-ins given up: Cognito did not come back",
            load.sign_ins_given_up
        ));
    }
    if !load.refused.is_empty() {
        failures.push(format!("requests refused: {:?}", load.refused));
    }
    failures
}

/// Per product of the soak: (id, on hand, reserved, fulfilled quantity).
fn read_stock(database_url: &str, products: &Products) -> Result<Vec<(String, i64, i64, i64)>> {
    let mut stock = Vec::new();
    for id in &products.ids {
        let on_hand = count(
            database_url,
            &format!("SELECT stock_on_hand FROM product_info WHERE id = '{id}'"),
        )?;
        let reserved = count(
            database_url,
            &format!("SELECT stock_reserved FROM product_info WHERE id = '{id}'"),
        )?;
        let fulfilled = count(
            database_url,
            &format!(
                "SELECT coalesce(sum(l.quantity), 0) FROM order_line l JOIN orders o ON o.id = l.order_id \
                 WHERE o.status = 'fulfilled' AND l.product_id = '{id}'"
            ),
        )?;
        stock.push((id.clone(), on_hand, reserved, fulfilled));
    }
    Ok(stock)
}

/// How many outbox rows of the soak's orders are still unpublished.
fn unpublished(database_url: &str, products: &Products) -> Result<i64> {
    count(
        database_url,
        &format!(
            "SELECT count(*) FROM outbox b WHERE published_at IS NULL AND EXISTS (SELECT 1 FROM orders o \
             WHERE o.id::text = b.payload->>'order_id' AND {})",
            products.orders_where()
        ),
    )
}

impl fmt::Display for Books {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} orders stored: {} fulfilled, {} rejected, {} cancelled, {} open; {} keys with two orders; \
             {} outbox rows unpublished; stock per product (initial {}): ",
            self.orders,
            self.fulfilled,
            self.rejected,
            self.cancelled,
            self.open,
            self.keys_with_two_orders,
            self.unpublished,
            self.initial
        )?;
        for (n, (_, on_hand, reserved, fulfilled)) in self.stock.iter().enumerate() {
            write!(
                f,
                "{}on hand {on_hand} + fulfilled {fulfilled}, reserved {reserved}",
                if n == 0 { "" } else { "; " }
            )?;
        }
        Ok(())
    }
}

/// One integer from a query, retried while PostgreSQL comes back from a restart.
fn count(database_url: &str, query: &str) -> Result<i64> {
    let mut last = None;
    for _ in 0..40 {
        let out = Command::new("psql")
            .arg(database_url)
            .args(["-qAt", "-c", query])
            .output()
            .context("psql is required")?;
        if out.status.success() {
            let text = String::from_utf8_lossy(&out.stdout);
            return text
                .trim()
                .parse()
                .with_context(|| format!("{query}: not a number: {text}"));
        }
        last = Some(String::from_utf8_lossy(&out.stderr).into_owned());
        std::thread::sleep(Duration::from_millis(250));
    }
    bail!("{query}: {}", last.unwrap_or_default())
}

fn sql(database_url: &str, statement: &str) -> Result<()> {
    count(
        database_url,
        &format!("WITH x AS ({statement} RETURNING 1) SELECT count(*) FROM x"),
    )
    .map(|_| ())
}

/// The accepted order ids that are not in the database (must be none: a 202 is a promise).
fn missing(database_url: &str, load: &Load) -> Result<Vec<String>> {
    let mut missing = Vec::new();
    let ids: Vec<&String> = load.accepted.iter().collect();
    for chunk in ids.chunks(500) {
        let list = chunk
            .iter()
            .map(|id| format!("('{id}'::uuid)"))
            .collect::<Vec<_>>()
            .join(", ");
        let out = Command::new("psql")
            .arg(database_url)
            .args([
                "-qAt",
                "-c",
                &format!(
                    "SELECT v.id FROM (VALUES {list}) v(id) WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = v.id)"
                ),
            ])
            .output()
            .context("psql is required")?;
        if !out.status.success() {
            bail!("psql: {}", String::from_utf8_lossy(&out.stderr));
        }
        missing.extend(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_owned),
        );
    }
    Ok(missing)
}
