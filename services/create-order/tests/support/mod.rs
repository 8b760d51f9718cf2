//! The real create-order binary under a minimal Lambda Runtime API (an axum server on loopback), with a fresh
//! PostgreSQL database (migrations and demo catalogue) and a fresh queue on the SQS emulator that
//! `cargo xtask test` runs (`AWS_ENDPOINT_URL`); plus an OTLP/HTTP receiver that records every request.
#![allow(dead_code)] // each test binary uses a part

pub mod sigv4;

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use uuid::Uuid;

/// The static credentials the function runs with (Lambda gives a function its role's credentials this way).
pub const ACCESS_KEY: &str = "AKIDTELEMETRYTEST";
pub const SECRET_KEY: &str = "telemetry/test/secret/key/0123456789abcdef";
pub const SESSION_TOKEN: &str = "telemetry-test-session-token";
pub const REGION: &str = "us-east-1";
/// The caller's Cognito `sub` in the API Gateway event.
pub const SUB: &str = "9a6c1f44-4d1b-4f7e-9a1e-1d2f3c4b5a69";
/// Cold start (connecting the pool) plus one invocation, on a busy machine.
const ANSWER_WITHIN: Duration = Duration::from_secs(60);

/// A fresh database with the demo catalogue and a fresh orders queue.
pub struct World {
    pub database_url: String,
    pub queue_url: String,
    pub aws_endpoint: String,
}

impl World {
    pub async fn new() -> Self {
        let aws_endpoint = std::env::var("AWS_ENDPOINT_URL").expect(
            "AWS_ENDPOINT_URL is not set: these tests need the SQS emulator; run them with `cargo xtask test`",
        );
        let admin = std::env::var("TEST_DATABASE_ADMIN_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let name = format!("t_{}", Uuid::new_v4().simple());
        let server = Database::connect(&admin)
            .await
            .expect("PostgreSQL must be reachable");
        server
            .execute_unprepared(&format!(r#"CREATE DATABASE "{name}""#))
            .await
            .expect("create the test database");
        let database_url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
        let conn = Database::connect(&database_url).await.unwrap();
        Migrator::up(&conn, None).await.expect("migrations run");
        conn.execute_unprepared(migration::SEED_SQL)
            .await
            .expect("seed");
        let sqs = aws_sdk_sqs::Client::from_conf(
            aws_sdk_sqs::Config::builder()
                .behavior_version_latest()
                .endpoint_url(&aws_endpoint)
                .region(aws_sdk_sqs::config::Region::new(REGION))
                .credentials_provider(aws_sdk_sqs::config::Credentials::new(
                    "test", "test", None, None, "test",
                ))
                .build(),
        );
        let queue_url = sqs
            .create_queue()
            .queue_name(format!("{name}-orders"))
            .send()
            .await
            .expect("the SQS emulator answers CreateQueue")
            .queue_url
            .unwrap();
        Self {
            database_url,
            queue_url,
            aws_endpoint,
        }
    }
}

/// An API Gateway REST event for `POST /orders` by [`SUB`]: one T-shirt.
pub fn post_order_event() -> String {
    let mut event: Value = serde_json::from_str(include_str!(
        "../../../order-core/tests/fixtures/apigw_rest_post_orders.json"
    ))
    .unwrap();
    event["requestContext"]["authorizer"]["claims"]["sub"] = json!(SUB);
    event["requestContext"]["requestId"] = json!(Uuid::new_v4().to_string());
    event.to_string()
}

/// What the function answered, and how long the invocation took (event handed out → response received).
#[derive(Debug)]
pub struct Answer {
    pub body: Value,
    pub took: Duration,
}

impl Answer {
    pub fn status(&self) -> u64 {
        self.body["statusCode"].as_u64().unwrap_or(0)
    }
}

enum Reported {
    Served(Instant),
    Response(Instant, String),
    Error(String),
}

#[derive(Clone)]
struct Runtime {
    events: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<(String, String)>>>,
    reports: mpsc::UnboundedSender<Reported>,
}

/// The function as a process, with its runtime API.
pub struct Function {
    child: Child,
    events: mpsc::UnboundedSender<(String, String)>,
    reports: mpsc::UnboundedReceiver<Reported>,
    log: std::path::PathBuf,
}

impl Function {
    /// Starts `target/<profile>/create-order` with Terraform's kind of environment plus `extra`.
    pub async fn start(world: &World, extra: &[(&str, &str)]) -> Self {
        let (events, queued) = mpsc::unbounded_channel();
        let (reported, reports) = mpsc::unbounded_channel();
        let runtime = Runtime {
            events: Arc::new(tokio::sync::Mutex::new(queued)),
            reports: reported,
        };
        let api = serve(runtime_api(runtime)).await;
        let log = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("create-order-{}.log", Uuid::new_v4().simple()));
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_create-order"))
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", api.trim_start_matches("http://"))
            .env("AWS_LAMBDA_FUNCTION_NAME", "create-order")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/01/01/[$LATEST]telemetry",
            )
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/create-order")
            .env("AWS_REGION", REGION)
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .env("AWS_SESSION_TOKEN", SESSION_TOKEN)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ENDPOINT_URL", &world.aws_endpoint)
            .env("DATABASE_URL", &world.database_url)
            .env("ORDERS_QUEUE_URL", &world.queue_url)
            .env("RUST_LOG", "info")
            .envs(extra.iter().copied())
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("the create-order binary starts");
        Self {
            child,
            events,
            reports,
            log,
        }
    }

    /// Sends one event and waits for the function's answer.
    pub async fn invoke(&mut self, event: String) -> Answer {
        let id = Uuid::new_v4().to_string();
        self.events.send((id, event)).unwrap();
        let mut served = None;
        loop {
            let report = tokio::time::timeout(ANSWER_WITHIN, self.reports.recv()).await;
            match report {
                Ok(Some(Reported::Served(at))) => served = Some(at),
                Ok(Some(Reported::Response(at, body))) => {
                    let took = at - served.expect("served before answered");
                    let body = serde_json::from_str(&body).expect("a JSON answer");
                    return Answer { body, took };
                }
                Ok(Some(Reported::Error(what))) => panic!("{what}\n{}", self.log_text()),
                _ => panic!("no answer within {ANSWER_WITHIN:?}\n{}", self.log_text()),
            }
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn runtime_api(runtime: Runtime) -> Router {
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(response),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(error))
        .with_state(runtime)
}

/// Hands out the next queued event; with none queued the function waits here, idle, as in Lambda.
async fn next(State(runtime): State<Runtime>) -> Response {
    let Some((id, event)) = runtime.events.lock().await.recv().await else {
        return axum::http::StatusCode::GONE.into_response();
    };
    let _ = runtime.reports.send(Reported::Served(Instant::now()));
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 10_000;
    let arn = format!("arn:aws:lambda:{REGION}:000000000000:function:create-order");
    (
        [
            ("content-type", "application/json".to_owned()),
            ("lambda-runtime-aws-request-id", id),
            ("lambda-runtime-deadline-ms", deadline.to_string()),
            ("lambda-runtime-invoked-function-arn", arn),
        ],
        event,
    )
        .into_response()
}

async fn response(
    State(runtime): State<Runtime>,
    Path(_id): Path<String>,
    body: Bytes,
) -> Response {
    let body = String::from_utf8_lossy(&body).into_owned();
    let _ = runtime
        .reports
        .send(Reported::Response(Instant::now(), body));
    (axum::http::StatusCode::ACCEPTED, r#"{"status":"OK"}"#).into_response()
}

async fn error(State(runtime): State<Runtime>, uri: Uri, body: Bytes) -> Response {
    let what = format!("{uri}: {}", String::from_utf8_lossy(&body));
    let _ = runtime.reports.send(Reported::Error(what));
    (axum::http::StatusCode::ACCEPTED, r#"{"status":"OK"}"#).into_response()
}

/// One request as the OTLP receiver got it.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// An OTLP/HTTP receiver on loopback: records each request, answers 200 with an empty export response.
pub struct Receiver {
    pub url: String,
    requests: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub async fn start() -> Self {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = requests.clone();
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let recorded = recorded.clone();
                async move {
                    recorded.lock().unwrap().push(Received {
                        method: method.to_string(),
                        path: uri.path().to_owned(),
                        headers,
                        body,
                    });
                    ([("content-type", "application/x-protobuf")], Bytes::new())
                }
            },
        );
        let base = serve(app).await;
        Self {
            url: format!("{base}/v1/traces"),
            requests,
        }
    }

    pub fn requests(&self) -> Vec<Received> {
        self.requests.lock().unwrap().clone()
    }
}

/// One exported span: its name, ids and string attributes.
#[derive(Debug)]
pub struct ExportedSpan {
    pub name: String,
    pub trace_id: Vec<u8>,
    pub span_id: Vec<u8>,
    pub parent_span_id: Vec<u8>,
    pub attributes: HashMap<String, String>,
}

/// Decodes the OTLP/HTTP protobuf bodies the receiver got.
pub fn spans(requests: &[Received]) -> Vec<ExportedSpan> {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
    use prost::Message;
    let mut spans = Vec::new();
    for request in requests {
        let export =
            ExportTraceServiceRequest::decode(request.body.as_ref()).expect("OTLP protobuf");
        for span in export
            .resource_spans
            .into_iter()
            .flat_map(|r| r.scope_spans)
            .flat_map(|s| s.spans)
        {
            let attributes = span
                .attributes
                .into_iter()
                .map(|kv| {
                    let value = match kv.value.and_then(|v| v.value) {
                        Some(Any::StringValue(s)) => s,
                        other => format!("{other:?}"),
                    };
                    (kv.key, value)
                })
                .collect();
            spans.push(ExportedSpan {
                name: span.name,
                trace_id: span.trace_id,
                span_id: span.span_id,
                parent_span_id: span.parent_span_id,
                attributes,
            });
        }
    }
    spans
}

/// Serves `app` on a free loopback port; returns its base URL.
async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// A collector that accepts connections and never answers: each is held open until the test ends.
pub fn black_hole() -> (String, Arc<Mutex<usize>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(Mutex::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            *counter.lock().unwrap() += 1;
            held.push(stream);
        }
    });
    (format!("http://127.0.0.1:{port}/v1/traces"), accepted)
}
