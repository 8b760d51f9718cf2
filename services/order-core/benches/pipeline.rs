//! `cargo xtask bench pipeline`: pushes N orders through create → process → update on local PostgreSQL and
//! prints orders/s and the accept → fulfilled lag. Not a test: it asserts nothing about time.
//!
//! The queues are the SQS emulator (`BENCH_QUEUES=sqs`) or in-process channels behind the same
//! `MessageSender` port (`BENCH_QUEUES=channel`): then the figure is our code and PostgreSQL alone, with the
//! real handlers, the real SQS event shape and the edge's one-`SendMessageBatch`-per-batch publishing.
//!
//! Environment (set by xtask): `BENCH_DATABASE_URL` (a migrated, seeded, otherwise empty database),
//! `AWS_ENDPOINT_URL` (sqs mode), `BENCH_ORDERS` (2000), `BENCH_CLIENTS` (16), `BENCH_CONSUMERS` (4 per queue; 0 measures create-order alone),
//! `BENCH_PRODUCTS` (5: the seeded ones; 1 puts every order on one product, a flash sale; more adds products),
//! `BENCH_COMMIT_LATENCY_MS` (0; otherwise every write transaction waits this long at its commit, with its
//! locks held, as a Multi-AZ RDS commit waits for the standby: see [`emulate_commit_latency`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::DeleteMessageBatchRequestEntry;
use order_core::config::DbSettings;
use order_core::db::Db;
use order_core::publisher::{MessageSender, OutgoingMessage, SqsSender};
use order_core::service::{Deps, OrderService};
use order_core::topology::Queue;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;

const SEEDED: [&str; 5] = [
    "0193a000-0000-7000-8000-000000000001",
    "0193a000-0000-7000-8000-000000000002",
    "0193a000-0000-7000-8000-000000000003",
    "0193a000-0000-7000-8000-000000000004",
    "0193a000-0000-7000-8000-000000000005",
];

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    {
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        let only = tracing_subscriber::filter::Targets::new()
            .with_target("order_core::service::fulfilment", tracing::Level::DEBUG);
        tracing_subscriber::registry()
            .with(tracing_subscriber::Layer::with_filter(LockHolds, only))
            .init();
    }
    let url = std::env::var("BENCH_DATABASE_URL")
        .map_err(|_| anyhow::anyhow!("run through `cargo xtask bench pipeline`"))?;
    let orders = env_num("BENCH_ORDERS", 2000);
    let clients = env_num("BENCH_CLIENTS", 16);
    let consumers = env_num("BENCH_CONSUMERS", 4);

    let channel = std::env::var("BENCH_QUEUES").is_ok_and(|q| q == "channel");
    let product_count = env_num("BENCH_PRODUCTS", SEEDED.len()).max(1);

    let mut settings = DbSettings::from_url(&url);
    settings.max_connections = (clients + 2 * consumers) as u32;
    let db = Db::connect(settings, None).await?;
    let conn = db.conn().await;
    let products = products(&conn, product_count).await?;
    conn.execute_unprepared(
        "UPDATE product_info SET stock_on_hand = 100000000, stock_reserved = 0",
    )
    .await?;
    let commit_latency_ms = env_num("BENCH_COMMIT_LATENCY_MS", 0);
    emulate_commit_latency(&conn, commit_latency_ms).await?;

    let done = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    let (deps, sqs_ceiling, cleanup) = if channel {
        let (sender, receivers) = ChannelSender::new(["chan://orders", "chan://stock"]);
        let deps = Deps {
            db,
            sender: Arc::new(sender.clone()),
            queues: Arc::new(
                [
                    (Queue::Orders, "chan://orders".to_owned()),
                    (Queue::Stock, "chan://stock".to_owned()),
                ]
                .into(),
            ),
        };
        for (url, rx) in receivers {
            let queue = if url.ends_with("orders") {
                Queue::Orders
            } else {
                Queue::Stock
            };
            for _ in 0..consumers {
                workers.push(tokio::spawn(consume_channel(
                    rx.clone(),
                    sender.clone(),
                    url.clone(),
                    queue,
                    deps.clone(),
                    done.clone(),
                )));
            }
        }
        (deps, None, None)
    } else {
        let aws = aws_config::load_from_env().await;
        let sqs = aws_sdk_sqs::Client::new(&aws);
        let run = uuid::Uuid::new_v4().simple().to_string();
        let q1 = create_queue(&sqs, &format!("bench-{run}-orders")).await?;
        let q2 = create_queue(&sqs, &format!("bench-{run}-stock")).await?;
        let deps = Deps {
            db,
            sender: Arc::new(CountingSender(SqsSender::new(sqs.clone()))),
            queues: Arc::new([(Queue::Orders, q1.clone()), (Queue::Stock, q2.clone())].into()),
        };
        let sqs_ceiling = sqs_calls_per_second(&sqs, &q1, clients).await?;
        sqs.purge_queue().queue_url(&q1).send().await?;
        for _ in 0..consumers {
            for (url, queue) in [(&q1, Queue::Orders), (&q2, Queue::Stock)] {
                workers.push(tokio::spawn(consume(
                    sqs.clone(),
                    url.clone(),
                    queue,
                    deps.clone(),
                    done.clone(),
                )));
            }
        }
        (deps, Some(sqs_ceiling), Some((sqs, q1, q2)))
    };

    eprintln!(
        "pushing {orders} orders with {clients} concurrent clients, {consumers} consumers per queue, {} products, {commit_latency_ms} ms commit latency, queues: {}",
        products.len(),
        if channel {
            "in-process channels"
        } else {
            "SQS emulator"
        }
    );
    let started = Instant::now();
    let service = OrderService::new(deps.clone());
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let products = Arc::new(products);
    let mut producers = Vec::new();
    for c in 0..clients {
        let (service, next, products) = (service.clone(), next.clone(), products.clone());
        producers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= orders {
                    break;
                }
                let lines = (1 + n % 3).min(products.len());
                let items: Vec<_> = (0..lines)
                    .map(|i| json!({"product_id": products[(n + i) % products.len()], "quantity": 1 + (n % 4)}))
                    .collect();
                let request = api_event(&format!("bench-customer-{c}"), &json!({"items": items}).to_string());
                let response = order_core::http::respond(request, |r| order_core::http::create_order(service.clone(), r)).await;
                assert_eq!(response.status(), 202, "create failed");
            }
        }));
    }
    for p in producers {
        p.await?;
    }
    let accepted = started.elapsed();
    if consumers == 0 {
        // create-order alone: nothing consumes, so only the accept phase is measured.
        println!(
            "accept phase:      {:.2} s ({:.0} orders/s accepted, no consumers)",
            accepted.as_secs_f64(),
            orders as f64 / accepted.as_secs_f64()
        );
        println!(
            "BENCH_RESULT accepted_per_second={:.1}",
            orders as f64 / accepted.as_secs_f64()
        );
        return Ok(());
    }

    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let fulfilled = count(
            &conn,
            "SELECT count(*) FROM orders WHERE status = 'fulfilled'",
        )
        .await?;
        if fulfilled as usize >= orders || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let finished = started.elapsed();
    done.store(true, Ordering::Relaxed);
    for w in workers {
        let _ = w.await;
    }

    let lags = lags_ms(&conn).await?;
    let fulfilled = lags.len();
    let per_second = fulfilled as f64 / finished.as_secs_f64();
    let pct = |p: f64| lags[((lags.len() as f64 - 1.0) * p).round() as usize];
    println!("orders:            {fulfilled} fulfilled of {orders}");
    println!(
        "accept phase:      {:.2} s ({:.0} orders/s accepted)",
        accepted.as_secs_f64(),
        orders as f64 / accepted.as_secs_f64()
    );
    println!("end to end:        {:.2} s", finished.as_secs_f64());
    println!("throughput:        {per_second:.0} orders/s (accept → fulfilled)");
    println!(
        "lag p50 / p99:     {:.0} ms / {:.0} ms (accept → fulfilled)",
        pct(0.5),
        pct(0.99)
    );
    println!("{}", batch_lines());
    println!("{}", lock_hold_lines());
    if let Some(sqs_ceiling) = sqs_ceiling {
        let [sends, receives, deletes] = SQS_CALLS.each_ref().map(|c| c.load(Ordering::Relaxed));
        println!(
            "SQS calls:         {:.2} per order ({sends} SendMessageBatch, {receives} ReceiveMessage that got messages, {deletes} DeleteMessageBatch)",
            (sends + receives + deletes) as f64 / orders as f64
        );
        println!(
            "SQS emulator:      {sqs_ceiling:.0} SendMessage calls/s alone ({clients} clients); each order costs 2 sends plus batched receives and deletes"
        );
    }
    println!(
        "BENCH_RESULT orders_per_second={per_second:.1} accepted_per_second={:.1} p50_ms={:.1} p99_ms={:.1}",
        orders as f64 / accepted.as_secs_f64(),
        pct(0.5),
        pct(0.99)
    );
    if let Some((sqs, q1, q2)) = cleanup {
        let _ = sqs.delete_queue().queue_url(&q1).send().await;
        let _ = sqs.delete_queue().queue_url(&q2).send().await;
    }
    Ok(())
}

/// Makes every transaction that writes `orders` or `outbox` wait `ms` at its commit, once per transaction,
/// while it still holds its locks: a deferred constraint trigger runs at COMMIT, before the locks are
/// released. This is what a synchronous standby costs (Multi-AZ RDS waits for it before the commit returns).
/// Installed in the bench's own database only; 0 removes it.
async fn emulate_commit_latency(
    conn: &sea_orm::DatabaseConnection,
    ms: usize,
) -> anyhow::Result<()> {
    for table in ["orders", "outbox"] {
        conn.execute_unprepared(&format!(
            "DROP TRIGGER IF EXISTS bench_commit_latency ON {table}"
        ))
        .await?;
    }
    if ms == 0 {
        return Ok(());
    }
    conn.execute_unprepared(&format!(
        "CREATE OR REPLACE FUNCTION bench_commit_latency() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN \
           IF current_setting('bench.commit_waited', true) IS DISTINCT FROM 'yes' THEN \
             PERFORM set_config('bench.commit_waited', 'yes', true); \
             PERFORM pg_sleep({seconds}); \
           END IF; \
           RETURN NULL; \
         END $$",
        seconds = ms as f64 / 1000.0
    ))
    .await?;
    for table in ["orders", "outbox"] {
        conn.execute_unprepared(&format!(
            "CREATE CONSTRAINT TRIGGER bench_commit_latency AFTER INSERT OR UPDATE ON {table} \
             DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bench_commit_latency()"
        ))
        .await?;
    }
    Ok(())
}

/// Product lock hold per batch in microseconds, per step (reserve, commit), from the use cases'
/// `product locks released` debug events.
static LOCK_HOLDS: std::sync::Mutex<[Vec<u64>; 2]> =
    std::sync::Mutex::new([Vec::new(), Vec::new()]);

/// Collects the `held_us` of `product locks released` events into [`LOCK_HOLDS`].
struct LockHolds;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for LockHolds {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        #[derive(Default)]
        struct Held(Option<usize>, Option<u64>);
        impl tracing::field::Visit for Held {
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                if field.name() == "step" {
                    self.0 = Some(usize::from(value == "commit"));
                }
            }
            fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
                if field.name() == "held_us" {
                    self.1 = Some(value);
                }
            }
            fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
        }
        let mut held = Held::default();
        event.record(&mut held);
        if let (Some(step), Some(us)) = (held.0, held.1) {
            LOCK_HOLDS.lock().unwrap()[step].push(us);
        }
    }
}

/// One line per step: mean, p50 and p99 of the product lock hold per batch.
fn lock_hold_lines() -> String {
    let mut holds = LOCK_HOLDS.lock().unwrap();
    ["reserve", "commit"]
        .iter()
        .zip(holds.iter_mut())
        .map(|(step, us)| {
            us.sort_unstable();
            let n = us.len().max(1);
            let at = |p: f64| us.get(((n - 1) as f64 * p) as usize).copied().unwrap_or(0) as f64 / 1000.0;
            format!(
                "product locks held per {step} batch: mean {:.2} ms, p50 {:.2}, p99 {:.2} ({} batches)",
                us.iter().sum::<u64>() as f64 / n as f64 / 1000.0,
                at(0.5),
                at(0.99),
                us.len()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// How many SendMessage calls per second the emulator answers on its own: the ceiling the pipeline runs into.
async fn sqs_calls_per_second(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    clients: usize,
) -> anyhow::Result<f64> {
    let per_client = 40;
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (sqs, url) = (sqs.clone(), url.to_owned());
            tokio::spawn(async move {
                for _ in 0..per_client {
                    sqs.send_message()
                        .queue_url(&url)
                        .message_body("{}")
                        .send()
                        .await?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for t in tasks {
        t.await??;
    }
    Ok((clients * per_client) as f64 / started.elapsed().as_secs_f64())
}

async fn count(conn: &sea_orm::DatabaseConnection, sql: &str) -> anyhow::Result<i64> {
    let row = conn
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql.to_owned()))
        .await?
        .unwrap();
    Ok(row.try_get_by_index::<i64>(0)?)
}

async fn lags_ms(conn: &sea_orm::DatabaseConnection) -> anyhow::Result<Vec<f64>> {
    let rows = conn
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT (EXTRACT(EPOCH FROM (updated_at - created_at)) * 1000)::float8 FROM orders WHERE status = 'fulfilled' ORDER BY 1".to_owned(),
        ))
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| r.try_get_by_index::<f64>(0).ok())
        .collect())
}

/// One consumer: what a Lambda event source mapping does, with batches of ten.
async fn consume(
    sqs: aws_sdk_sqs::Client,
    url: String,
    queue: Queue,
    deps: Deps,
    done: Arc<AtomicBool>,
) {
    while !done.load(Ordering::Relaxed) {
        let Ok(out) = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_attribute_names("All")
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
            .send()
            .await
        else {
            continue;
        };
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            continue;
        }
        SQS_CALLS[1].fetch_add(1, Ordering::Relaxed);
        let event = dev_support::sqs_event(
            &messages,
            "arn:aws:sqs:us-east-1:000000000000:bench",
            "us-east-1",
        );
        let response = handle(queue, event, &deps).await;
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        let entries: Vec<_> = messages
            .iter()
            .enumerate()
            .filter(|(_, m)| !failed.contains(m.message_id.as_ref().unwrap()))
            .map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(m.receipt_handle.clone().unwrap())
                    .build()
                    .unwrap()
            })
            .collect();
        if !entries.is_empty() {
            SQS_CALLS[2].fetch_add(1, Ordering::Relaxed);
            let _ = sqs
                .delete_message_batch()
                .queue_url(&url)
                .set_entries(Some(entries))
                .send()
                .await;
        }
    }
}

/// SQS API calls the pipeline made on the emulator: SendMessageBatch, ReceiveMessage that returned messages
/// (what Lambda's event source mapping does, not billed to the functions), DeleteMessageBatch.
static SQS_CALLS: [std::sync::atomic::AtomicUsize; 3] =
    [const { std::sync::atomic::AtomicUsize::new(0) }; 3];

/// [`SqsSender`], counting its calls in [`SQS_CALLS`].
struct CountingSender(SqsSender);

#[async_trait::async_trait]
impl MessageSender for CountingSender {
    async fn send_batch(
        &self,
        queue_url: &str,
        messages: &[OutgoingMessage],
    ) -> anyhow::Result<Vec<bool>> {
        SQS_CALLS[0].fetch_add(1, Ordering::Relaxed);
        self.0.send_batch(queue_url, messages).await
    }
}

/// What the SQS edge does with one batch (`bootstrap::serve_sqs`): the real handler per message, and the
/// batch's outbox rows sent together at its end.
async fn handle(
    queue: Queue,
    event: aws_lambda_events::sqs::SqsEvent,
    deps: &Deps,
) -> aws_lambda_events::sqs::SqsBatchResponse {
    let service = OrderService::new(deps.clone()).deferring();
    let (started, size) = (Instant::now(), event.records.len());
    let response = order_core::sqs::handle_batch(queue, event, &tracing::Span::none(), |e| {
        let service = service.clone();
        async move {
            match queue {
                Queue::Orders => service.process_order(&e).await,
                Queue::Stock => service.update_stock(&e).await,
            }
        }
    })
    .await;
    let stats = &BATCHES[queue as usize];
    stats[0].fetch_add(1, Ordering::Relaxed);
    stats[1].fetch_add(size, Ordering::Relaxed);
    stats[2].fetch_add(started.elapsed().as_micros() as usize, Ordering::Relaxed);
    let path = match queue {
        Queue::Orders => "process-order",
        Queue::Stock => "update-stock",
    };
    service.publish_deferred(path).await;
    response
}

/// Per queue (orders, stock): batches handled, messages in them, microseconds spent in their handlers (the
/// batch's transaction is most of it: an upper bound of how long it holds its product locks).
static BATCHES: [[std::sync::atomic::AtomicUsize; 3]; 2] =
    [const { [const { std::sync::atomic::AtomicUsize::new(0) }; 3] }; 2];

/// One line per queue: how many batches, their mean size and mean handling time.
fn batch_lines() -> String {
    ["process-order", "update-stock"]
        .iter()
        .zip(&BATCHES)
        .map(|(function, [batches, messages, micros])| {
            let n = batches.load(Ordering::Relaxed).max(1) as f64;
            format!(
                "batches {function}: {} of mean size {:.1}, mean {:.2} ms each (handler, transaction, commit)",
                batches.load(Ordering::Relaxed),
                messages.load(Ordering::Relaxed) as f64 / n,
                micros.load(Ordering::Relaxed) as f64 / n / 1000.0
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn create_queue(sqs: &aws_sdk_sqs::Client, name: &str) -> anyhow::Result<String> {
    Ok(sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await?
        .queue_url
        .unwrap_or_default())
}

/// The products orders are spread over: the seeded ones, or as many more as asked for (a copy of the first).
async fn products(conn: &sea_orm::DatabaseConnection, count: usize) -> anyhow::Result<Vec<String>> {
    let mut products: Vec<String> = SEEDED.iter().take(count).map(|p| (*p).to_owned()).collect();
    for n in products.len()..count {
        let id = format!("0193b000-0000-7000-8000-{n:012}");
        conn.execute_unprepared(&format!(
            "INSERT INTO product_info (id, sku, name, price_minor, currency, stock_on_hand, stock_reserved, low_stock_threshold) \
             VALUES ('{id}', 'BENCH-{n}', 'Bench product {n}', 1000, 'EUR', 0, 0, 0) ON CONFLICT (id) DO NOTHING"
        ))
        .await?;
        products.push(id);
    }
    Ok(products)
}

/// The in-process queues: a [`MessageSender`] over channels, one per queue URL. Each message gets an id, a
/// receipt handle and the attributes SQS would carry, so consumers see the event shape Lambda delivers.
#[derive(Clone)]
struct ChannelSender {
    queues: Arc<HashMap<String, tokio::sync::mpsc::UnboundedSender<aws_sdk_sqs::types::Message>>>,
}

type SharedReceiver =
    Arc<tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<aws_sdk_sqs::types::Message>>>;

impl ChannelSender {
    fn new<const N: usize>(urls: [&str; N]) -> (Self, Vec<(String, SharedReceiver)>) {
        let mut queues = HashMap::new();
        let mut receivers = Vec::new();
        for url in urls {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            queues.insert(url.to_owned(), tx);
            receivers.push((url.to_owned(), Arc::new(tokio::sync::Mutex::new(rx))));
        }
        (
            Self {
                queues: Arc::new(queues),
            },
            receivers,
        )
    }

    fn push(&self, url: &str, message: aws_sdk_sqs::types::Message) -> bool {
        self.queues
            .get(url)
            .is_some_and(|q| q.send(message).is_ok())
    }
}

#[async_trait::async_trait]
impl MessageSender for ChannelSender {
    async fn send_batch(
        &self,
        queue_url: &str,
        messages: &[OutgoingMessage],
    ) -> anyhow::Result<Vec<bool>> {
        Ok(messages
            .iter()
            .map(|m| {
                let mut message = aws_sdk_sqs::types::Message::builder()
                    .message_id(uuid::Uuid::new_v4().to_string())
                    .receipt_handle(uuid::Uuid::new_v4().to_string())
                    .body(&m.body);
                for (key, value) in &m.trace {
                    message = message.message_attributes(
                        key,
                        aws_sdk_sqs::types::MessageAttributeValue::builder()
                            .data_type("String")
                            .string_value(value)
                            .build()
                            .expect("a string attribute"),
                    );
                }
                self.push(queue_url, message.build())
            })
            .collect())
    }
}

/// One consumer of an in-process queue: up to ten messages per batch; failed ones go back on the queue.
async fn consume_channel(
    rx: SharedReceiver,
    sender: ChannelSender,
    url: String,
    queue: Queue,
    deps: Deps,
    done: Arc<AtomicBool>,
) {
    while !done.load(Ordering::Relaxed) {
        let mut messages = Vec::new();
        {
            let mut rx = rx.lock().await;
            match tokio::time::timeout(Duration::from_millis(200), rx.recv()).await {
                Ok(Some(first)) => messages.push(first),
                _ => continue,
            }
            while messages.len() < 10 {
                match rx.try_recv() {
                    Ok(m) => messages.push(m),
                    Err(_) => break,
                }
            }
        }
        let event = dev_support::sqs_event(
            &messages,
            "arn:aws:sqs:us-east-1:000000000000:bench",
            "us-east-1",
        );
        let response = handle(queue, event, &deps).await;
        for failure in response.batch_item_failures {
            if let Some(m) = messages
                .iter()
                .find(|m| m.message_id.as_deref() == Some(failure.item_identifier.as_str()))
            {
                sender.push(&url, m.clone());
            }
        }
    }
}

fn api_event(customer: &str, body: &str) -> lambda_http::Request {
    let event = json!({
        "resource": "/orders", "path": "/orders", "httpMethod": "POST",
        "headers": {"content-type": "application/json"},
        "multiValueHeaders": {"content-type": ["application/json"]},
        "requestContext": {
            "resourcePath": "/orders", "httpMethod": "POST", "path": "/orders", "stage": "bench",
            "requestId": uuid::Uuid::new_v4().to_string(), "accountId": "0", "apiId": "bench",
            "identity": {}, "authorizer": {"claims": {"sub": customer}}
        },
        "body": body, "isBase64Encoded": false
    });
    lambda_http::request::from_str(&event.to_string()).expect("valid event")
}
