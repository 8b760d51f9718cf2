//! The Lambda Invoke API client. One invocation per function is in flight at a time: a local runtime (the RIE in
//! the Lambda base image, `cargo lambda watch`) is one execution environment, and the RIE cannot take
//! concurrent invokes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;

/// Longest function-error payload kept for the log.
const MAX_ERROR_PAYLOAD: usize = 2048;

/// An invocation that produced no usable response.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// The gateway has no invoke URL for this function (a configuration error).
    #[error("no invoke URL for function {0}")]
    UnknownFunction(String),
    /// No response within the limit (waiting for the function's turn included).
    #[error("{function} did not answer within {after:?}")]
    Timeout { function: String, after: Duration },
    /// The invoke API could not be reached or broke off.
    #[error("could not reach the invoke API of {function}: {source}")]
    Transport {
        function: String,
        source: reqwest::Error,
    },
    /// The function failed (`X-Amz-Function-Error`, a 5xx from the invoke API, or an error payload).
    #[error("{function} failed: {payload}")]
    Function { function: String, payload: String },
    /// The function answered, but not with the response this trigger expects.
    #[error("{function} returned an unexpected response: {reason}")]
    Response { function: String, reason: String },
}

struct Function {
    url: String,
    turn: Arc<Semaphore>,
}

/// Invokes the configured functions by name.
#[derive(Clone)]
pub struct Invoker {
    http: reqwest::Client,
    functions: Arc<BTreeMap<String, Function>>,
}

impl Invoker {
    /// `urls`: function name → `http://…/2015-03-31/functions/<name>/invocations`.
    pub fn new<'a>(
        http: reqwest::Client,
        urls: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Self {
        let functions = urls
            .into_iter()
            .map(|(name, url)| {
                let function = Function {
                    url: url.to_owned(),
                    turn: Arc::new(Semaphore::new(1)),
                };
                (name.to_owned(), function)
            })
            .collect();
        Self {
            http,
            functions: Arc::new(functions),
        }
    }

    /// Whether a function of this name is configured.
    pub fn knows(&self, function: &str) -> bool {
        self.functions.contains_key(function)
    }

    /// Invokes `function` synchronously (`RequestResponse`) with `event` and parses its response, all within
    /// `timeout`.
    pub async fn invoke<T: DeserializeOwned>(
        &self,
        function: &str,
        event: &impl Serialize,
        timeout: Duration,
    ) -> Result<T, InvokeError> {
        let target = self
            .functions
            .get(function)
            .ok_or_else(|| InvokeError::UnknownFunction(function.to_owned()))?;
        let call = async {
            let _turn = target
                .turn
                .acquire()
                .await
                .expect("the semaphore is never closed");
            self.call(function, &target.url, event).await
        };
        let payload =
            tokio::time::timeout(timeout, call)
                .await
                .map_err(|_| InvokeError::Timeout {
                    function: function.to_owned(),
                    after: timeout,
                })??;
        serde_json::from_slice(&payload).map_err(|e| InvokeError::Response {
            function: function.to_owned(),
            reason: e.to_string(),
        })
    }

    async fn call(
        &self,
        function: &str,
        url: &str,
        event: &impl Serialize,
    ) -> Result<Vec<u8>, InvokeError> {
        let transport = |source| InvokeError::Transport {
            function: function.to_owned(),
            source,
        };
        let response = self
            .http
            .post(url)
            .json(event)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        let function_error = response.headers().get("x-amz-function-error").cloned();
        let payload = response.bytes().await.map_err(transport)?.to_vec();
        let failed =
            function_error.is_some() || status.is_server_error() || is_error_payload(&payload);
        if failed {
            return Err(InvokeError::Function {
                function: function.to_owned(),
                payload: truncated(&payload),
            });
        }
        if !status.is_success() {
            return Err(InvokeError::Response {
                function: function.to_owned(),
                reason: format!("invoke API answered {status}: {}", truncated(&payload)),
            });
        }
        Ok(payload)
    }
}

/// Lambda's error shape. Some local runtimes report an init failure with 200 and this payload.
fn is_error_payload(payload: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(payload).is_ok_and(|v| {
        v.get("errorType").is_some()
            && v.get("errorMessage").is_some()
            && v.get("statusCode").is_none()
    })
}

fn truncated(payload: &[u8]) -> String {
    let text = String::from_utf8_lossy(payload);
    match text.char_indices().nth(MAX_ERROR_PAYLOAD) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
    }
}

#[cfg(test)]
mod tests;
