//! A dev-only stand-in for what surrounds the functions in AWS: API Gateway with its Cognito user-pool
//! authorizer (routes from the OpenAPI document), the SQS event source mappings and the EventBridge schedule.
//! Every function is reached through the Lambda Invoke API (the RIE in compose, `cargo lambda watch` natively).

pub mod apigw;
pub mod auth;
pub mod config;
pub mod http;
pub mod invoke;
pub mod openapi;
pub mod problem;
pub mod relay;
pub mod sqs;
#[cfg(test)]
mod testing;
pub mod xray;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::Authorizer;
use crate::config::Settings;
use crate::invoke::Invoker;
use crate::openapi::Routes;
use crate::sqs::Poller;

/// How long start-up waits for the user pool's JWKS and the queues (the emulators may still be starting).
const DEPENDENCY_WAIT: Duration = Duration::from_secs(60);

/// One poller per event source mapping, each once its queue answers (the emulator may still be starting).
async fn pollers(settings: &Settings, invoker: &Invoker) -> anyhow::Result<Vec<Poller>> {
    let aws = aws_config::load_from_env().await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let mut pollers = Vec::new();
    for mapping in &settings.queues {
        let poller = retry(&mapping.queue_url, || {
            Poller::new(
                sqs.clone(),
                invoker.clone(),
                mapping.clone(),
                settings.poll,
                settings.region.clone(),
            )
        })
        .await?;
        pollers.push(poller);
    }
    Ok(pollers)
}

/// Runs until `shutdown`, then stops polling and the schedule, lets in-flight requests and invocations finish,
/// and returns. Listens only once the routes, the JWKS and the queues are in place, so an open port means ready.
pub async fn run(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<()> {
    let routes = load_routes(&settings)?;
    let http = reqwest::Client::new();
    let invoker = Invoker::new(
        http.clone(),
        settings.invoke_urls.iter().map(|(k, v)| (*k, v.as_str())),
    );
    let authorizer = Authorizer::new(settings.cognito.clone(), http);
    let keys = retry("the user pool's JWKS", || authorizer.prefetch()).await?;
    tracing::info!(keys, issuer = %settings.cognito.issuer, "authorizer ready");

    let pollers = pollers(&settings, &invoker).await?;
    // arn:aws:sqs:<region>:<account>:<name>
    let account_id = pollers
        .first()
        .and_then(|p| p.queue_arn().split(':').nth(4))
        .unwrap_or("000000000000")
        .to_owned();

    let tasks = spawn_background(pollers, &invoker, &settings, &account_id, &shutdown);

    let api = Arc::new(http::Api {
        routes,
        authorizer,
        invoker,
        stage: settings.stage.clone(),
        account_id,
        integration_timeout: http::INTEGRATION_TIMEOUT,
        tracing: xray::Tracing::new(settings.xray_sampling),
    });
    let listener = listen(settings.listen_addr).await?;
    let served = axum::serve(
        listener,
        http::router(api).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown.clone().cancelled_owned())
    .await;
    shutdown.cancel(); // if the server failed, stop the rest too
    tasks.close();
    tasks.wait().await;
    tracing::info!("gateway stopped");
    Ok(served?)
}

/// The OpenAPI document's routes, if every function it names has an invoke URL.
fn load_routes(settings: &Settings) -> anyhow::Result<Routes> {
    let routes = Routes::load(&settings.openapi_path)?;
    if let Some(unknown) = routes
        .functions()
        .find(|f| !settings.invoke_urls.contains_key(f))
    {
        bail!("the OpenAPI document names function {unknown}, which has no INVOKE_URL_* variable");
    }
    Ok(routes)
}

/// Starts the queue pollers and the outbox relay schedule, each stopping at `shutdown`; returns their tracker.
fn spawn_background(
    pollers: Vec<Poller>,
    invoker: &Invoker,
    settings: &Settings,
    account_id: &str,
    shutdown: &CancellationToken,
) -> TaskTracker {
    let tasks = TaskTracker::new();
    for poller in pollers {
        tasks.spawn(poller.run(shutdown.clone()));
    }
    tasks.spawn(relay::run(
        invoker.clone(),
        settings.relay_interval,
        settings.region.clone(),
        account_id.to_owned(),
        shutdown.clone(),
    ));
    tasks
}

/// Binds the gateway's port and logs the address it listens on.
async fn listen(addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("Failed to listen on {}", addr))?;
    tracing::info!(addr = %listener.local_addr()?, "gateway listening");
    Ok(listener)
}

/// Retries `attempt` every second until it succeeds or [`DEPENDENCY_WAIT`] has passed.
async fn retry<T, E, F, Fut>(what: &str, attempt: F) -> anyhow::Result<T>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: std::fmt::Display,
{
    let deadline = tokio::time::Instant::now() + DEPENDENCY_WAIT;
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(e) if tokio::time::Instant::now() >= deadline => {
                bail!("{what} is still unavailable after {DEPENDENCY_WAIT:?}: {e}")
            }
            Err(e) => tracing::warn!(error = %e, "waiting for {what}"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
