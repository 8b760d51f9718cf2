//! SigV4-signed OTLP/HTTP export to CloudWatch's traces endpoint (service `xray`): an [`HttpClient`] for the
//! OTLP exporter that signs each request with `aws-sigv4` and sends it with a blocking reqwest client.
//!
//! The batch span processor calls the client on its own thread (no Tokio runtime there), while the standard
//! credential provider chain is async and may need one (IMDS, ECS, SSO). So the credentials are resolved on a
//! thread of their own with a small current-thread runtime, started at init so that they are ready by the first
//! flush, and cached until shortly before they expire. An export never waits longer than its timeout for them.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};

/// The signing name of CloudWatch's OTLP traces endpoint.
pub const SERVICE: &str = "xray";
/// Credentials this close to their expiry are refreshed in the background (and still used meanwhile).
const REFRESH_AHEAD: Duration = Duration::from_secs(5 * 60);
/// Largest OTLP response read (the exporter only looks for a partial-success message).
const MAX_RESPONSE: u64 = 4 * 1024 * 1024;

/// Signs and sends OTLP export requests; every request gets at most `timeout`, credentials included.
#[derive(Debug)]
pub struct SigningClient {
    http: LazyClient,
    region: String,
    credentials: CredentialSource,
    timeout: Duration,
}

impl SigningClient {
    /// A client signing for `region` with `credentials`; `timeout` bounds each request end to end.
    pub fn new(
        region: String,
        credentials: CredentialSource,
        timeout: Duration,
    ) -> Result<Self, String> {
        Ok(Self {
            http: LazyClient::new(timeout),
            region,
            credentials,
            timeout,
        })
    }
}

#[async_trait]
impl HttpClient for SigningClient {
    async fn send_bytes(&self, mut request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let started = Instant::now();
        let credentials = self.credentials.get(self.timeout)?;
        sign_request(&mut request, &credentials, &self.region, SystemTime::now())?;
        let remaining = self.timeout.saturating_sub(started.elapsed());
        let mut request: reqwest::blocking::Request = request.try_into()?;
        *request.timeout_mut() = Some(remaining.max(Duration::from_millis(1)));
        let response = self.http.get()?.execute(request)?;
        read_response(response)
    }
}

fn read_response(mut response: reqwest::blocking::Response) -> Result<Response<Bytes>, HttpError> {
    use std::io::Read;
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let mut body = Vec::new();
    response.take(MAX_RESPONSE).read_to_end(&mut body)?;
    let mut answer = Response::builder().status(status).body(Bytes::from(body))?;
    *answer.headers_mut() = headers;
    Ok(answer)
}

/// Adds SigV4 headers (`authorization`, `x-amz-date`, `x-amz-security-token` for temporary credentials) for
/// service `xray` in `region`. Every header already on the request is signed, and so is the body's hash.
pub fn sign_request(
    request: &mut Request<Bytes>,
    credentials: &Credentials,
    region: &str,
    time: SystemTime,
) -> Result<(), HttpError> {
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SERVICE)
        .time(time)
        .settings(SigningSettings::default())
        .build()?
        .into();
    let uri = request.uri().to_string();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let signable = SignableRequest::new(
        request.method().as_str(),
        &uri,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(request.body()),
    )?;
    let (instructions, _signature) = sign(signable, &params)?.into_parts();
    instructions.apply_to_request_http1x(request);
    Ok(())
}

type Reply = Sender<Result<Credentials, String>>;

/// Credentials for signing, cached; resolved by the standard provider chain on a dedicated thread.
#[derive(Debug, Clone)]
pub struct CredentialSource {
    cache: Arc<Mutex<Option<Credentials>>>,
    requests: Sender<Option<Reply>>,
}

impl CredentialSource {
    /// The default chain (environment, profile, web identity, ECS, IMDS); starts resolving at once.
    pub fn default_chain() -> Result<Self, String> {
        let cache = Arc::new(Mutex::new(None));
        let (requests, incoming) = mpsc::channel::<Option<Reply>>();
        let filled = cache.clone();
        std::thread::Builder::new()
            .name("telemetry-credentials".into())
            .spawn(move || resolve_forever(incoming, filled))
            .map_err(|e| format!("Failed to start the credentials thread: {e}"))?;
        let source = Self { cache, requests };
        source.refresh();
        Ok(source)
    }

    /// Credentials usable now, waiting at most `wait` for the chain when none are cached.
    pub fn get(&self, wait: Duration) -> Result<Credentials, String> {
        let now = SystemTime::now();
        let cached = self.cache.lock().map_err(|e| e.to_string())?.clone();
        if let Some(credentials) = cached.filter(|c| !expires_within(c, now, Duration::ZERO)) {
            if expires_within(&credentials, now, REFRESH_AHEAD) {
                self.refresh();
            }
            return Ok(credentials);
        }
        let (reply, answer) = mpsc::channel();
        self.requests
            .send(Some(reply))
            .map_err(|_| "the credentials thread stopped".to_owned())?;
        answer
            .recv_timeout(wait)
            .map_err(|_| format!("no AWS credentials within {wait:?}; spans dropped"))?
    }

    /// Asks for fresh credentials without waiting for them.
    fn refresh(&self) {
        let _ = self.requests.send(None);
    }
}

fn expires_within(credentials: &Credentials, now: SystemTime, margin: Duration) -> bool {
    credentials.expiry().is_some_and(|at| at <= now + margin)
}

/// The credentials thread: one provider chain, resolved on demand; answers every waiting request.
fn resolve_forever(incoming: Receiver<Option<Reply>>, cache: Arc<Mutex<Option<Credentials>>>) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let chain = runtime.block_on(aws_config::default_provider::credentials::default_provider());
    while let Ok(first) = incoming.recv() {
        // Requests that piled up while the chain was busy share one resolution.
        let waiting: Vec<Reply> = std::iter::once(first)
            .chain(incoming.try_iter())
            .flatten()
            .collect();
        let result = runtime
            .block_on(chain.provide_credentials())
            .map_err(|e| format!("AWS credentials: {e}"));
        match (&result, cache.lock()) {
            (Ok(credentials), Ok(mut cached)) => *cached = Some(credentials.clone()),
            (Err(e), _) => eprintln!("span export: {e}"),
            _ => {}
        }
        for reply in waiting {
            let _ = reply.send(result.clone());
        }
    }
}

/// The span exporter's HTTP client, `timeout` bounding each request end to end, trusting Mozilla's roots as
/// webpki-roots compiles them in ([`crate::trust::exporter_tls`]: no system bundle read at init).
/// The exporter's blocking reqwest client, built by the first export rather than at init: building it starts
/// two threads and a runtime (about 0.3 ms of CPU, `cargo xtask bench coldstart`), and the first export runs
/// after the first response, off the cold start's path. A client that cannot be built fails each export, with
/// the reason.
#[derive(Debug)]
pub struct LazyClient {
    timeout: Duration,
    client: OnceLock<Result<reqwest::blocking::Client, String>>,
}

impl LazyClient {
    /// A client whose requests and connections time out after `timeout`, not built yet.
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            client: OnceLock::new(),
        }
    }

    /// The client, built on the first call.
    pub fn get(&self) -> Result<&reqwest::blocking::Client, HttpError> {
        self.client
            .get_or_init(|| blocking_client(self.timeout))
            .as_ref()
            .map_err(|e| e.clone().into())
    }
}

#[async_trait]
impl HttpClient for LazyClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        self.get()?.send_bytes(request).await
    }
}

pub fn blocking_client(timeout: Duration) -> Result<reqwest::blocking::Client, String> {
    // reqwest's blocking client owns a runtime, which may be neither built nor dropped inside another one:
    // build it on a plain thread, as the OTLP exporter does for its own.
    std::thread::spawn(move || {
        reqwest::blocking::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .tls_backend_preconfigured(crate::trust::exporter_tls())
            .build()
    })
    .join()
    .map_err(|_| "building the HTTP client panicked".to_owned())?
    .map_err(|e| format!("Failed to build the HTTP client: {e}"))
}

#[cfg(test)]
mod tests;
