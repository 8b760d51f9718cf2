//! Span export after the response. The runtime's outermost layer lets the invocation's response (or error) be
//! posted first, then exports the invocation's spans, and only then does the runtime ask for its next event.
//! Lambda neither freezes an environment nor hands it the next event before the runtime has asked for it, so
//! no span waits across a freeze and no crash of the next invocation can take them; the client does not wait
//! for the export. This is `lambda_runtime`'s own after-response hook (`Runtime::layer`, as its
//! `OpenTelemetryLayer` flushes).
//!
//! An internal extension is registered too, as in the runtime's `examples/extension-internal-flush`: with one,
//! Lambda sends the runtime SIGTERM at shutdown, which [`super::on_shutdown`] answers with
//! a last flush. The extension itself only acknowledges each INVOKE: exporting from it instead would need every
//! Runtime API to deliver each INVOKE to the extension of the function invoked, and `cargo lambda watch` sends
//! each INVOKE to every function's extensions that are waiting at that moment, so an extension still
//! exporting the previous invocation misses it (and its spans would wait for some other invocation).
//! Without an Extensions API (registration fails) export is unchanged; only the SIGTERM is lost, logged once.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures::Stream;
use lambda_runtime::{Diagnostic, IntoFunctionResponse, LambdaEvent, LambdaInvocation, Runtime};
use lambda_runtime::{Service, layers::TracingLayer, tower::Layer};
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;

use crate::telemetry::Telemetry;

type BoxError = lambda_runtime::Error;

/// The extension's name, unique among the function's extensions.
const EXTENSION_NAME: &str = "span-export";

/// Exports each invocation's spans once its response has been posted.
#[derive(Clone)]
pub struct Export {
    telemetry: Telemetry,
    extension: bool,
}

impl Export {
    /// Registers the internal extension and starts its loop. Call during init, before the runtime asks for its
    /// first event (Lambda refuses a registration after that).
    pub async fn start(telemetry: Telemetry) -> Self {
        let registered = lambda_extension::Extension::new()
            .with_events(&["INVOKE"]) // the only event an internal extension may receive
            .with_extension_name(EXTENSION_NAME)
            .with_events_processor(lambda_extension::service_fn(|_invoke| async {
                Ok::<(), lambda_extension::Error>(())
            }))
            .register()
            .await;
        let extension = match registered {
            Ok(extension) => {
                tokio::spawn(async move {
                    if let Err(e) = extension.run().await {
                        tracing::error!(error = %e, "the internal extension stopped");
                    }
                });
                true
            }
            Err(e) => {
                tracing::warn!(
                    error = %e,
                    "no Lambda Extensions API: spans are still exported after each response, but no SIGTERM will come at shutdown"
                );
                false
            }
        };
        Self {
            telemetry,
            extension,
        }
    }

    /// Whether the internal extension registered.
    pub fn extension(&self) -> bool {
        self.extension
    }

    /// The invocation's response was posted: export its spans. A flush blocks its thread until the exporter
    /// answers or times out, so it runs off the runtime's workers.
    fn responded(self) -> JoinHandle<()> {
        let telemetry = self.telemetry;
        tokio::task::spawn_blocking(move || telemetry.flush())
    }
}

/// Runs `handler` under the Lambda runtime, as `lambda_runtime::run` does (one tracing span per invocation),
/// with the spans exported after each response by `export`.
pub async fn run<A, F, R, B, S, D, E>(export: Export, handler: F) -> Result<(), BoxError>
where
    F: Service<LambdaEvent<A>, Response = R>,
    F::Future: Future<Output = Result<R, F::Error>>,
    F::Error: Into<Diagnostic> + std::fmt::Debug,
    A: for<'de> Deserialize<'de>,
    R: IntoFunctionResponse<B, S>,
    B: Serialize,
    S: Stream<Item = Result<D, E>> + Unpin + Send + 'static,
    D: Into<bytes::Bytes> + Send,
    E: Into<BoxError> + Send + std::fmt::Debug,
{
    Runtime::new(handler)
        .layer(TracingLayer::new())
        .layer(AfterResponse(export))
        .run()
        .await
}

/// The runtime's outermost layer: its inner service has posted the response (or the error) when it completes,
/// and the runtime's invocation span is closed.
struct AfterResponse(Export);

impl<S> Layer<S> for AfterResponse {
    type Service = AfterResponseService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AfterResponseService {
            inner,
            export: self.0.clone(),
        }
    }
}

/// See [`AfterResponse`].
pub struct AfterResponseService<S> {
    inner: S,
    export: Export,
}

impl<S> Service<LambdaInvocation> for AfterResponseService<S>
where
    S: Service<LambdaInvocation, Response = (), Error = BoxError>,
{
    type Response = ();
    type Error = BoxError;
    type Future = Exported<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, invocation: LambdaInvocation) -> Self::Future {
        Exported {
            posting: Box::pin(self.inner.call(invocation)),
            export: Some(self.export.clone()),
            exporting: None,
        }
    }
}

/// Posts the response, then exports, then completes with the posting's result.
pub struct Exported<F> {
    posting: Pin<Box<F>>,
    export: Option<Export>,
    /// The posting's result while the export runs.
    exporting: Option<(Result<(), BoxError>, JoinHandle<()>)>,
}

impl<F: Future<Output = Result<(), BoxError>>> Future for Exported<F> {
    type Output = Result<(), BoxError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if this.exporting.is_none() {
            let posted = ready!(this.posting.as_mut().poll(cx));
            let export = this.export.take().expect("polled after completion");
            this.exporting = Some((posted, export.responded()));
        }
        let (_, exporting) = this.exporting.as_mut().expect("set above");
        let _ = ready!(Pin::new(exporting).poll(cx)); // a flush that panicked loses only its spans
        let (posted, _) = this.exporting.take().expect("set above");
        Poll::Ready(posted)
    }
}
