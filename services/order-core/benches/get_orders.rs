//! `cargo xtask bench api`: get-orders' two reads through the real handler, in-process, at 1 and 16 clients,
//! to set beside pgbench running the same SQL. Not a test: it asserts nothing about time.
//!
//! Method. Each request starts as the text of an API Gateway REST proxy event (the full event of
//! `tests/fixtures/apigw_rest_post_orders.json`, turned into a GET, with the claims the Cognito authorizer
//! passes) and ends as the proxy response serialized to JSON, what the runtime posts back. In between it takes
//! the path `get-orders`'s `main` wires: `lambda_http`'s deserializer and `Adapter`, `order_core::http::serve`
//! (the server span, problem+json), `order_core::http::get_orders`, the service and the store, on the real
//! telemetry subscriber (JSON logs, OpenTelemetry spans built; export off, as it happens after the response).
//! Left out: the Lambda Runtime API's round trips and the export itself (the gateway breakdown covers them).
//!
//! "list 20" is `GET /orders` (the default page: 20 orders of two lines, and a cursor); "get one" is
//! `GET /orders/{id}`. Both read what `xtask/bench/get_orders_seed.sql` wrote (the reader's 100 orders among
//! 1,100), as do pgbench's `get_orders_list.sql` and `get_orders_one.sql`, which hold the statement this
//! handler sends for each (captured with `log_min_duration_sample = 0`). Each client is a task sending one request at a
//! time; the pool has one connection per client, as pgbench has. Per case: 1 s of warm-up, then
//! `BENCH_SECONDS` (10) measured.
//!
//! Environment (set by xtask): `BENCH_DATABASE_URL` (migrated, seeded with the file above), `BENCH_SECONDS`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Context, LambdaEvent, Service, service_fn};
use order_core::config::DbSettings;
use order_core::db::Db;
use order_core::publisher::{MessageSender, OutgoingMessage};
use order_core::service::{Deps, OrderService};
use serde_json::{Value, json};

/// The customer whose orders are read (the seed's `bench-reader`).
const READER: &str = "bench-reader";
/// One of the reader's orders (n = 550 in the seed).
const ONE: &str = "0193b000-0000-7000-8000-000000000226";
const CLIENTS: [usize; 2] = [1, 16];
const WARM_UP: Duration = Duration::from_secs(1);

/// get-orders publishes nothing; its `Deps` still need a sender.
struct Nowhere;

#[async_trait::async_trait]
impl MessageSender for Nowhere {
    async fn send_batch(&self, _: &str, _: &[OutgoingMessage]) -> anyhow::Result<Vec<bool>> {
        anyhow::bail!("get-orders publishes nothing")
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = order_core::telemetry::init("get-orders");
    let url = std::env::var("BENCH_DATABASE_URL")
        .map_err(|_| anyhow::anyhow!("run through `cargo xtask bench api`"))?;
    let seconds = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let mut settings = DbSettings::from_url(&url);
    settings.max_connections = *CLIENTS.iter().max().unwrap_or(&1) as u32;
    let service = OrderService::new(Deps {
        db: Db::connect(settings, None).await?,
        sender: Arc::new(Nowhere),
        queues: Arc::default(),
    });
    let cases = [
        ("list", event("/orders", "/orders", None)),
        (
            "get",
            event("/orders/{id}", &format!("/orders/{ONE}"), Some(ONE)),
        ),
    ];
    check(&service, &cases[0].1, 20).await?;
    check(&service, &cases[1].1, 0).await?;
    let mut results = Vec::new();
    for (name, event) in &cases {
        for clients in CLIENTS {
            let run = measure(&service, event, clients, Duration::from_secs(seconds)).await?;
            println!(
                "{name:<5} {clients:>2} client(s): {:>7.0} requests/s, p50 {:.2} ms, p99 {:.2} ms, {} bytes of JSON out",
                run.rate, run.p50_ms, run.p99_ms, run.bytes
            );
            results.push(format!("{name}_c{clients}={:.1}", run.rate));
        }
    }
    println!("BENCH_RESULT {}", results.join(" "));
    service.deps.db.close().await;
    Ok(())
}

/// The proxy event's JSON text for `GET <path>` on `resource`, as the reader.
fn event(resource: &str, path: &str, id: Option<&str>) -> String {
    let mut event: Value = serde_json::from_str(include_str!(
        "../tests/fixtures/apigw_rest_post_orders.json"
    ))
    .expect("the fixture is JSON");
    event["resource"] = json!(resource);
    event["path"] = json!(path);
    event["httpMethod"] = json!("GET");
    event["body"] = Value::Null;
    event["pathParameters"] = id.map_or(Value::Null, |id| json!({ "id": id }));
    let context = &mut event["requestContext"];
    context["resourcePath"] = json!(resource);
    context["httpMethod"] = json!("GET");
    context["path"] = json!(format!("/prod{path}"));
    context["authorizer"]["claims"]["sub"] = json!(READER);
    context["authorizer"]["claims"]["cognito:username"] = json!(READER);
    event.to_string()
}

/// One request: event text in, the response's JSON out, as the runtime would post it.
async fn invoke(service: &OrderService, event: &str) -> anyhow::Result<Vec<u8>> {
    let service = service.clone();
    let mut adapter = Adapter::from(service_fn(move |req: lambda_http::Request| {
        let service = service.clone();
        async move {
            let response =
                order_core::http::serve(req, |req| order_core::http::get_orders(service, req))
                    .await;
            Ok::<_, std::convert::Infallible>(response)
        }
    }));
    let payload: LambdaRequest = serde_json::from_str(event)?;
    let mut context = Context::default();
    context.request_id = uuid::Uuid::new_v4().to_string();
    let response = adapter.call(LambdaEvent::new(payload, context)).await?;
    Ok(serde_json::to_vec(&response)?)
}

/// Fails unless the event is answered 200 with `orders` orders (0: a single order) of two lines each.
async fn check(service: &OrderService, event: &str, orders: usize) -> anyhow::Result<()> {
    let out: Value = serde_json::from_slice(&invoke(service, event).await?)?;
    anyhow::ensure!(out["statusCode"] == 200, "answered {out}");
    let body: Value = serde_json::from_str(out["body"].as_str().unwrap_or_default())?;
    let lines = |order: &Value| order["items"].as_array().map_or(0, Vec::len);
    let full = match orders {
        0 => lines(&body) == 2,
        n => {
            let page = body["orders"].as_array().cloned().unwrap_or_default();
            page.len() == n && page.iter().all(|o| lines(o) == 2) && body["next_cursor"].is_string()
        }
    };
    anyhow::ensure!(full, "unexpected body (is the database seeded?): {body}");
    Ok(())
}

/// What one case measured.
struct Run {
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
    bytes: usize,
}

/// `clients` tasks sending `event` one request at a time: after `WARM_UP`, for `length`.
async fn measure(
    service: &OrderService,
    event: &str,
    clients: usize,
    length: Duration,
) -> anyhow::Result<Run> {
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Instant::now() + WARM_UP + length;
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (service, event, measuring) =
                (service.clone(), event.to_owned(), measuring.clone());
            tokio::spawn(async move {
                let (mut latencies, mut bytes) = (Vec::new(), 0);
                while Instant::now() < stop {
                    let started = Instant::now();
                    bytes = invoke(&service, &event).await?.len();
                    if measuring.load(Ordering::Relaxed) {
                        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
                    }
                }
                anyhow::Ok((latencies, bytes))
            })
        })
        .collect();
    tokio::time::sleep(WARM_UP).await;
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    let (mut latencies, mut bytes) = (Vec::new(), 0);
    for task in tasks {
        let (mine, size) = task.await??;
        latencies.extend(mine);
        bytes = size;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let at = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    Ok(Run {
        rate: latencies.len() as f64 / elapsed,
        p50_ms: at(0.5),
        p99_ms: at(0.99),
        bytes,
    })
}
