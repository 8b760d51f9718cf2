//! The one wiring path every function's `main` takes: telemetry, the AWS clients and the pool once at init,
//! then per invocation the trigger's part inside the invocation span; the spans are exported after the response
//! ([`after_response`]). Each `serve_*` is only the per-trigger part.

pub mod after_response;

use std::sync::Arc;

use tracing::Instrument;

use crate::config::{DbSettings, DbSource, RelaySettings};
use crate::db::Db;
use crate::init_clock::InitClock;
use crate::invocation::{self, Trigger};
use crate::messages::Event;
use crate::publisher::SqsSender;
use crate::service::{Deps, OrderService, ServiceError};
use crate::telemetry::{self, Telemetry};
use crate::topology::{self, Function};
use after_response::Export;

/// Reads the database settings and builds the pool alone (no queues): for functions that only touch the
/// database. The AWS configuration is loaded only when the credentials come from the secret (`DB_SECRET_ARN`),
/// so a `DATABASE_URL` run makes no AWS call.
pub async fn connect_db() -> anyhow::Result<Arc<Db>> {
    let settings = DbSettings::from_env()?;
    let secrets = match settings.source {
        DbSource::Secret { .. } => Some(aws_sdk_secretsmanager::Client::new(
            &crate::trust::aws_config().await?,
        )),
        DbSource::Url(_) => None,
    };
    Db::connect(settings, secrets).await
}

/// Reads the configuration, builds the clients and the pool for `function`: the queue URLs it publishes to
/// come from the topology table. Each step is a phase on `clock`.
pub async fn deps(function: &Function, clock: &mut InitClock) -> anyhow::Result<Deps> {
    let queues = function
        .publishes
        .iter()
        .map(|q| Ok((*q, q.url_from_env()?)))
        .collect::<Result<_, crate::config::ConfigError>>()?;
    let settings = DbSettings::from_env()?;
    // `AWS_ENDPOINT_URL` (emulators) and the region come from the standard chain.
    let aws = crate::trust::aws_config().await?;
    clock.mark("aws_config");
    let secrets = matches!(settings.source, DbSource::Secret { .. })
        .then(|| aws_sdk_secretsmanager::Client::new(&aws));
    let sender = Arc::new(SqsSender::new(crate::publisher::sqs_client(&aws)));
    clock.mark("clients");
    let login = Db::login_url(&settings, secrets.as_ref()).await?;
    clock.mark("secret_fetch");
    let db = Db::with_login(settings, secrets, login).await?;
    db.warm_up(clock).await;
    Ok(Deps {
        db,
        sender,
        queues: Arc::new(queues),
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

/// What init built, shared by every invocation of the environment.
#[derive(Clone)]
pub struct Wired {
    pub service: OrderService,
    /// Who exports each invocation's spans after its response.
    export: Export,
}

/// Init, once per execution environment, phase by phase ([`crate::init_clock`]): the `init phases` log record is its last
/// line before the runtime asks for the first event.
pub async fn wire(function: &'static Function) -> anyhow::Result<Wired> {
    let mut clock = InitClock::start();
    let telemetry = telemetry::init(function.name);
    clock.mark("telemetry");
    let deps = deps(function, &mut clock).await?;
    on_shutdown(telemetry.clone(), deps.db.clone());
    let export = Export::start(telemetry).await;
    clock.mark("extension");
    let wired = Wired {
        service: OrderService::new(deps),
        export,
    };
    clock.log(function.name);
    Ok(wired)
}

/// An HTTP function: one server span per request (a new trace, linked to the caller's context), the handler's errors rendered
/// as problem+json.
pub async fn serve_http<F, Fut>(
    function: &'static Function,
    handler: F,
) -> Result<(), lambda_http::Error>
where
    F: Fn(OrderService, lambda_http::Request) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<lambda_http::Response<lambda_http::Body>, crate::http::ApiError>>
        + Send,
{
    let wired = wire(function).await?;
    let export = wired.export.clone();
    let handler = lambda_http::service_fn(move |req: lambda_http::Request| {
        let (service, handler) = (wired.service.clone(), handler.clone());
        async move {
            let response = crate::http::serve(req, |req| handler(service, req)).await;
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    after_response::run(export, lambda_http::Adapter::from(handler)).await
}

/// An SQS consumer: an invocation span linked to every message's producer, a child span per message,
/// `batchItemFailures` for what did not succeed.
pub async fn serve_sqs<F, Fut>(
    function: &'static Function,
    handler: F,
) -> Result<(), lambda_runtime::Error>
where
    F: Fn(OrderService, Event) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), ServiceError>> + Send,
{
    let topology::Trigger::Queue(queue) = function.trigger else {
        return Err(format!("{} is not fed by a queue", function.name).into());
    };
    let wired = wire(function).await?;
    let export = wired.export.clone();
    let handler = lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<aws_lambda_events::sqs::SqsEvent>| {
            let (wired, handler) = (wired.clone(), handler.clone());
            let span = invocation::span(
                Trigger::PubSub,
                format!("{} invoke", function.name),
                &event.context.request_id,
            );
            span.record("messaging.system", "aws_sqs");
            span.record("messaging.batch.message_count", event.payload.records.len());
            async move {
                // Rows the batch writes go out together at its end: one SendMessageBatch per ten messages.
                let service = &wired.service.deferring();
                let batch = async {
                    let response = crate::sqs::handle_batch(queue, event.payload, &span, |e| {
                        handler(service.clone(), e)
                    })
                    .await;
                    service.publish_deferred(function.name).await;
                    response
                };
                let response = batch.instrument(span.clone()).await;
                Ok::<_, std::convert::Infallible>(response)
            }
        },
    );
    after_response::run(export, handler).await
}

/// The invocation's deadline (`Lambda-Runtime-Deadline-Ms`) as an instant on this machine's clock, or `None`
/// when it is not in the future as the event arrives. Lambda always gives the function's timeout ahead; an
/// emulator may not (`cargo lambda watch` sends a deadline already past), and then the relay runs without one,
/// bounded by its pass count.
fn deadline_of(context: &lambda_runtime::Context) -> Option<std::time::Instant> {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    let left = std::time::Duration::from_millis(context.deadline.checked_sub(now_ms)?);
    (!left.is_zero()).then(|| std::time::Instant::now() + left)
}

/// The scheduled relay: publish, expire, measure; an error when messages could not be published.
pub async fn serve_scheduled(
    function: &'static Function,
    settings: RelaySettings,
) -> Result<(), lambda_runtime::Error> {
    let wired = wire(function).await?;
    let export = wired.export.clone();
    let handler = lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<serde_json::Value>| {
            let wired = wired.clone();
            let name = format!("{} invoke", function.name);
            let span = invocation::span(Trigger::Timer, name, &event.context.request_id);
            let deadline = deadline_of(&event.context);
            async move {
                let run = wired
                    .service
                    .relay_until(settings, deadline)
                    .instrument(span);
                let report = run.await?;
                if report.publish.failed > 0 {
                    let failed = report.publish.failed;
                    return Err(format!("{failed} outbox messages could not be published").into());
                }
                Ok::<_, lambda_runtime::Error>(serde_json::json!({
                    "published": report.publish.published,
                    "failed": report.publish.failed,
                    "expired": report.expired,
                    "oldest_unpublished_seconds": report.gauges.oldest_unpublished_seconds,
                    "stalled_orders": report.gauges.stalled_orders,
                }))
            }
        },
    );
    after_response::run(export, handler).await
}
