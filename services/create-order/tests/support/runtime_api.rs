//! A minimal Lambda Runtime API with the Extensions API, as Lambda sequences them: `next` hands out queued
//! events (with none queued the function waits, idle), and, once an extension has registered, an event is handed
//! out only after that extension has asked for its next event too; the extension then gets the event's INVOKE.
//! Every call is reported to the test with the instant it arrived.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use tokio::sync::{Mutex, Semaphore, mpsc};

use super::REGION;

/// What the function did, when the request arrived.
pub enum Reported {
    /// The runtime asked for the next event.
    Next(Instant),
    /// An event was handed out to the runtime.
    Served(Instant),
    /// The runtime posted a response.
    Response(Instant, String),
    /// The runtime reported an error.
    Error(String),
    /// An extension registered.
    Registered,
    /// The extension asked for its next event (its work for the previous one is done).
    ExtensionNext(Instant),
}

/// How the API behaves.
#[derive(Clone, Copy)]
pub struct Behaviour {
    /// Whether the Extensions API exists (otherwise registering gets 404, as from an emulator without it).
    pub extensions: bool,
    /// Whether a posted response is acknowledged (otherwise the runtime waits for the 202 forever).
    pub acknowledge: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            extensions: true,
            acknowledge: true,
        }
    }
}

#[derive(Clone)]
pub struct Api {
    pub events: Arc<Mutex<mpsc::UnboundedReceiver<(String, String)>>>,
    pub reports: mpsc::UnboundedSender<Reported>,
    pub behaviour: Behaviour,
    registered: Arc<AtomicBool>,
    /// One permit each time the extension asks for its next event.
    extension_idle: Arc<Semaphore>,
    invokes: mpsc::UnboundedSender<String>,
    invoked: Arc<Mutex<mpsc::UnboundedReceiver<String>>>,
}

impl Api {
    pub fn new(
        events: mpsc::UnboundedReceiver<(String, String)>,
        reports: mpsc::UnboundedSender<Reported>,
        behaviour: Behaviour,
    ) -> Self {
        let (invokes, invoked) = mpsc::unbounded_channel();
        Self {
            events: Arc::new(Mutex::new(events)),
            reports,
            behaviour,
            registered: Arc::new(AtomicBool::new(false)),
            extension_idle: Arc::new(Semaphore::new(0)),
            invokes,
            invoked: Arc::new(Mutex::new(invoked)),
        }
    }

    fn report(&self, reported: Reported) {
        let _ = self.reports.send(reported);
    }
}

pub fn router(api: Api) -> Router {
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(response),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(error))
        .route("/2020-01-01/extension/register", post(register))
        .route("/2020-01-01/extension/event/next", get(extension_next))
        .with_state(api)
}

/// Hands out the next queued event once the environment is idle (the extension, if any, has asked for its
/// next event); with none queued the function waits here, idle, as in Lambda.
async fn next(State(api): State<Api>) -> Response {
    api.report(Reported::Next(Instant::now()));
    let Some((id, event)) = api.events.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 10_000;
    let arn = format!("arn:aws:lambda:{REGION}:000000000000:function:create-order");
    if api.registered.load(Ordering::SeqCst) {
        api.extension_idle.acquire().await.unwrap().forget();
        let invoke = json!({"eventType": "INVOKE", "deadlineMs": deadline as u64,
            "requestId": id, "invokedFunctionArn": arn});
        let _ = api.invokes.send(invoke.to_string());
    }
    api.report(Reported::Served(Instant::now()));
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

async fn response(State(api): State<Api>, Path(_id): Path<String>, body: Bytes) -> Response {
    let body = String::from_utf8_lossy(&body).into_owned();
    api.report(Reported::Response(Instant::now(), body));
    if !api.behaviour.acknowledge {
        std::future::pending::<()>().await;
    }
    (StatusCode::ACCEPTED, r#"{"status":"OK"}"#).into_response()
}

async fn error(State(api): State<Api>, uri: Uri, body: Bytes) -> Response {
    let what = format!("{uri}: {}", String::from_utf8_lossy(&body));
    api.report(Reported::Error(what));
    (StatusCode::ACCEPTED, r#"{"status":"OK"}"#).into_response()
}

async fn register(State(api): State<Api>) -> Response {
    if !api.behaviour.extensions {
        return StatusCode::NOT_FOUND.into_response();
    }
    api.registered.store(true, Ordering::SeqCst);
    api.report(Reported::Registered);
    let body = json!({"functionName": "create-order", "functionVersion": "$LATEST", "handler": "bootstrap"});
    (
        [
            ("content-type", "application/json"),
            ("lambda-extension-identifier", "test-extension-id"),
        ],
        body.to_string(),
    )
        .into_response()
}

/// The extension is done with its previous event: the environment may go idle; it waits for the next INVOKE.
async fn extension_next(State(api): State<Api>) -> Response {
    api.report(Reported::ExtensionNext(Instant::now()));
    api.extension_idle.add_permits(1);
    let Some(invoke) = api.invoked.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    (
        [
            ("content-type", "application/json"),
            ("lambda-extension-event-identifier", "test-event"),
        ],
        invoke,
    )
        .into_response()
}
