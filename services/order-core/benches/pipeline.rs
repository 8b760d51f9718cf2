//! `cargo xtask bench pipeline`: pushes N orders through create → process → update on local PostgreSQL and the
//! SQS emulator and prints orders/s and the accept → fulfilled lag. Not a test: it asserts nothing about time.
//!
//! Environment (set by xtask): `BENCH_DATABASE_URL` (a migrated, seeded, otherwise empty database),
//! `AWS_ENDPOINT_URL`, `BENCH_ORDERS` (2000), `BENCH_CLIENTS` (16), `BENCH_CONSUMERS` (4 per queue).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::DeleteMessageBatchRequestEntry;
use order_core::config::DbSettings;
use order_core::db::Db;
use order_core::publisher::SqsSender;
use order_core::service::{Deps, OrderService};
use order_core::topology::Queue;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;

const PRODUCTS: [&str; 5] = [
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
    let url = std::env::var("BENCH_DATABASE_URL")
        .map_err(|_| anyhow::anyhow!("run through `cargo xtask bench pipeline`"))?;
    let orders = env_num("BENCH_ORDERS", 2000);
    let clients = env_num("BENCH_CLIENTS", 16);
    let consumers = env_num("BENCH_CONSUMERS", 4);

    let aws = aws_config::load_from_env().await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let run = uuid::Uuid::new_v4().simple().to_string();
    let q1 = sqs
        .create_queue()
        .queue_name(format!("bench-{run}-orders"))
        .send()
        .await?
        .queue_url
        .unwrap();
    let q2 = sqs
        .create_queue()
        .queue_name(format!("bench-{run}-stock"))
        .send()
        .await?
        .queue_url
        .unwrap();
    let mut settings = DbSettings::from_url(&url);
    settings.max_connections = (clients + 2 * consumers) as u32;
    let deps = Deps {
        db: Db::connect(settings, None).await?,
        sender: Arc::new(SqsSender::new(sqs.clone())),
        queues: Arc::new([(Queue::Orders, q1.clone()), (Queue::Stock, q2.clone())].into()),
    };
    let conn = deps.db.conn().await;
    conn.execute_unprepared(
        "UPDATE product_info SET stock_on_hand = 100000000, stock_reserved = 0",
    )
    .await?;

    let sqs_ceiling = sqs_calls_per_second(&sqs, &q1, clients).await?;
    sqs.purge_queue().queue_url(&q1).send().await?;

    let done = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for _ in 0..consumers {
        workers.push(tokio::spawn(consume(
            sqs.clone(),
            q1.clone(),
            deps.clone(),
            done.clone(),
            true,
        )));
        workers.push(tokio::spawn(consume(
            sqs.clone(),
            q2.clone(),
            deps.clone(),
            done.clone(),
            false,
        )));
    }

    eprintln!(
        "pushing {orders} orders with {clients} concurrent clients, {consumers} consumers per queue"
    );
    let started = Instant::now();
    let service = OrderService::new(deps.clone());
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut producers = Vec::new();
    for c in 0..clients {
        let (service, next) = (service.clone(), next.clone());
        producers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= orders {
                    break;
                }
                let lines = 1 + n % 3;
                let items: Vec<_> = (0..lines)
                    .map(|i| json!({"product_id": PRODUCTS[(n + i) % PRODUCTS.len()], "quantity": 1 + (n % 4)}))
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
    println!(
        "SQS emulator:      {sqs_ceiling:.0} SendMessage calls/s alone ({clients} clients); each order costs 2 sends plus batched receives and deletes"
    );
    println!(
        "BENCH_RESULT orders_per_second={per_second:.1} p50_ms={:.1} p99_ms={:.1}",
        pct(0.5),
        pct(0.99)
    );
    let _ = sqs.delete_queue().queue_url(&q1).send().await;
    let _ = sqs.delete_queue().queue_url(&q2).send().await;
    Ok(())
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
    deps: Deps,
    done: Arc<AtomicBool>,
    first: bool,
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
        let event = dev_support::sqs_event(
            &messages,
            "arn:aws:sqs:us-east-1:000000000000:bench",
            "us-east-1",
        );
        let d = deps.clone();
        let response = order_core::sqs::handle_batch(
            if first { Queue::Orders } else { Queue::Stock },
            event,
            &tracing::Span::none(),
            |e| {
                let d = d.clone();
                async move {
                    if first {
                        order_core::service::OrderService::new(d.clone())
                            .process_order(&e)
                            .await
                    } else {
                        order_core::service::OrderService::new(d.clone())
                            .update_stock(&e)
                            .await
                    }
                }
            },
        )
        .await;
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
            let _ = sqs
                .delete_message_batch()
                .queue_url(&url)
                .set_entries(Some(entries))
                .send()
                .await;
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
