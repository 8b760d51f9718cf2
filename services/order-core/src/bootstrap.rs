//! Wiring shared by every function's `main`: AWS clients, the pool, and the SIGTERM hook.

use std::sync::Arc;

use crate::config::{DbSettings, DbSource};
use crate::db::Db;
use crate::messages::Destination;
use crate::publisher::SqsSender;
use crate::service::{Deps, routes};
use crate::telemetry::Telemetry;

/// Reads the database settings and builds the pool alone (no queues): for functions that only touch the
/// database. The AWS configuration is loaded only when the credentials come from the secret (`DB_SECRET_ARN`),
/// so a `DATABASE_URL` run makes no AWS call.
pub async fn connect_db() -> anyhow::Result<Arc<Db>> {
    let settings = DbSettings::from_env()?;
    let secrets = match settings.source {
        DbSource::Secret { .. } => Some(aws_sdk_secretsmanager::Client::new(
            &aws_config::load_from_env().await,
        )),
        DbSource::Url(_) => None,
    };
    Db::connect(settings, secrets).await
}

/// Reads the configuration, builds the clients and the pool. `queues` are the destinations this function
/// publishes to, with their URLs (read in the function's `main`).
pub async fn deps(queues: Vec<(Destination, String)>) -> anyhow::Result<Deps> {
    // `AWS_ENDPOINT_URL` (emulators) and the region come from the standard chain.
    let aws = aws_config::load_from_env().await;
    let settings = DbSettings::from_env()?;
    let secrets = matches!(settings.source, DbSource::Secret { .. })
        .then(|| aws_sdk_secretsmanager::Client::new(&aws));
    let db = Db::connect(settings, secrets).await?;
    Ok(Deps {
        db,
        sender: Arc::new(SqsSender::new(aws_sdk_sqs::Client::new(&aws))),
        routes: routes(queues),
    })
}

/// On SIGTERM (Lambda shutdown with an extension, or a local stop) flush spans and close the pool.
pub fn on_shutdown(telemetry: Telemetry, db: Arc<Db>) {
    tokio::spawn(async move {
        let Ok(mut sigterm) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            return;
        };
        sigterm.recv().await;
        tracing::info!("SIGTERM: flushing spans and closing the pool");
        telemetry.shutdown();
        db.close().await;
        std::process::exit(0);
    });
}

static COLD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// `faas.coldstart`: true for the first invocation of this execution environment only.
pub fn coldstart() -> bool {
    COLD.swap(false, std::sync::atomic::Ordering::Relaxed)
}

fn region() -> String {
    crate::config::optional("AWS_REGION").unwrap_or_default()
}

/// Runs an HTTP function: one server span per request (child of the caller's trace), the handler's errors
/// rendered as problem+json, spans flushed before the response leaves.
pub async fn serve_http<F, Fut>(
    name: &'static str,
    queues: Vec<(Destination, String)>,
    handler: F,
) -> Result<(), lambda_http::Error>
where
    F: Fn(crate::service::OrderService, lambda_http::Request) -> Fut
        + Clone
        + Send
        + Sync
        + 'static,
    Fut: Future<Output = Result<lambda_http::Response<lambda_http::Body>, crate::http::ApiError>>
        + Send,
{
    let telemetry = crate::telemetry::init(name);
    let deps = deps(queues).await?;
    on_shutdown(telemetry.clone(), deps.db.clone());
    let service = crate::service::OrderService { deps };
    lambda_http::run(lambda_http::service_fn(move |req: lambda_http::Request| {
        let (service, handler, telemetry) = (service.clone(), handler.clone(), telemetry.clone());
        async move {
            let response =
                crate::http::serve(req, coldstart(), &region(), |req| handler(service, req)).await;
            telemetry.flush();
            Ok::<_, std::convert::Infallible>(response)
        }
    }))
    .await
}

/// Runs an SQS consumer: a span per invocation linked to every message's producer, a child span per message,
/// `batchItemFailures` for what did not succeed, spans flushed before the response leaves.
pub async fn serve_sqs<F, Fut>(
    name: &'static str,
    queue: &'static str,
    queues: Vec<(Destination, String)>,
    handler: F,
) -> Result<(), lambda_runtime::Error>
where
    F: Fn(Deps, crate::messages::Event) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), crate::service::MessageFailure>> + Send,
{
    use tracing::Instrument;
    let telemetry = crate::telemetry::init(name);
    let deps = deps(queues).await?;
    on_shutdown(telemetry.clone(), deps.db.clone());
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<aws_lambda_events::sqs::SqsEvent>| {
            let (deps, handler, telemetry) = (deps.clone(), handler.clone(), telemetry.clone());
            async move {
                let span = tracing::info_span!(
                    "invocation",
                    otel.name = format!("{name} invoke"),
                    otel.kind = "consumer",
                    faas.trigger = "pubsub",
                    faas.invocation_id = %event.context.request_id,
                    faas.coldstart = coldstart(),
                    cloud.provider = "aws",
                    cloud.region = region(),
                    messaging.system = "aws_sqs",
                    messaging.batch.message_count = event.payload.records.len(),
                );
                let response = crate::sqs::handle_batch(queue, event.payload, &span, |e| {
                    handler(deps.clone(), e)
                })
                .instrument(span.clone())
                .await;
                drop(span);
                telemetry.flush();
                Ok::<_, std::convert::Infallible>(response)
            }
        },
    ))
    .await
}

/// Runs the outbox relay on each scheduled event, flushing spans before answering.
pub async fn serve_scheduled(
    name: &'static str,
    queues: Vec<(Destination, String)>,
    settings: crate::config::RelaySettings,
) -> Result<(), lambda_runtime::Error> {
    use tracing::Instrument;
    let telemetry = crate::telemetry::init(name);
    let deps = deps(queues).await?;
    on_shutdown(telemetry.clone(), deps.db.clone());
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<serde_json::Value>| {
            let (deps, telemetry) = (deps.clone(), telemetry.clone());
            async move {
                let span = tracing::info_span!(
                    "invocation",
                    otel.name = format!("{name} invoke"),
                    faas.trigger = "timer",
                    faas.invocation_id = %event.context.request_id,
                    faas.coldstart = coldstart(),
                    cloud.provider = "aws",
                    cloud.region = region(),
                );
                let result = crate::service::relay(&deps, settings)
                    .instrument(span)
                    .await;
                telemetry.flush();
                let report = result?;
                Ok::<_, lambda_runtime::Error>(serde_json::json!({
                    "published": report.published,
                    "failed": report.failed,
                }))
            }
        },
    ))
    .await
}
