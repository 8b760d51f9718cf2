//! The function as a process under a minimal Lambda Runtime API: `next` hands out queued events (and, with none
//! queued, keeps the function waiting, idle, as Lambda does), `response` and `error` are reported to the test.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{ACCESS_KEY, REGION, SECRET_KEY, SESSION_TOKEN, World, serve};

/// Cold start (connecting the pool) plus one invocation, on a busy machine.
const ANSWER_WITHIN: Duration = Duration::from_secs(60);

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
