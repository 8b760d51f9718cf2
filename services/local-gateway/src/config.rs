//! Settings read once at start from the environment: the names compose.yaml and `cargo xtask up` set.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The functions the gateway can invoke, by the name Terraform and the OpenAPI `operationId`s use.
pub const FUNCTIONS: [&str; 5] = [
    "create-order",
    "get-orders",
    "process-order",
    "update-stock",
    "outbox-relay",
];

/// The function the schedule invokes (EventBridge rule in AWS).
pub const RELAY_FUNCTION: &str = "outbox-relay";

/// A variable is missing or does not parse.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not set, or empty.
    #[error("environment variable {0} must be set")]
    Missing(String),
    /// Set, but not a valid value.
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: String, reason: String },
}

/// Where the Cognito user-pool authorizer gets its keys and what it expects in tokens.
#[derive(Clone, Debug)]
pub struct CognitoSettings {
    pub jwks_url: String,
    pub issuer: String,
    pub client_id: String,
}

/// One SQS event source mapping: a queue and the function it feeds.
#[derive(Clone, Debug)]
pub struct QueueMapping {
    pub queue_url: String,
    pub function: &'static str,
}

/// How the pollers receive, like an event source mapping's settings.
#[derive(Clone, Copy, Debug)]
pub struct PollSettings {
    pub batch_size: i32,
    pub visibility_timeout: Duration,
    pub wait: Duration,
}

/// Everything the gateway needs.
#[derive(Clone, Debug)]
pub struct Settings {
    pub listen_addr: SocketAddr,
    pub openapi_path: PathBuf,
    /// Function name → full Lambda Invoke API URL.
    pub invoke_urls: BTreeMap<&'static str, String>,
    pub cognito: CognitoSettings,
    pub queues: Vec<QueueMapping>,
    pub poll: PollSettings,
    pub relay_interval: Duration,
    pub region: String,
    /// API Gateway stage name: events carry it in `requestContext.stage` and `requestContext.path`.
    pub stage: String,
}

impl Settings {
    /// Reads every setting; reports the first missing or malformed variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut invoke_urls = BTreeMap::new();
        for function in FUNCTIONS {
            invoke_urls.insert(function, required(&invoke_url_variable(function))?);
        }
        Self {
            listen_addr: parsed_or("GATEWAY_LISTEN_ADDR", ([127, 0, 0, 1], 3000).into())?,
            openapi_path: optional("OPENAPI_PATH")
                .unwrap_or_else(|| "docs/openapi.yaml".to_owned())
                .into(),
            invoke_urls,
            cognito: CognitoSettings {
                jwks_url: required("COGNITO_JWKS_URL")?,
                issuer: required("COGNITO_ISSUER")?,
                client_id: required("COGNITO_CLIENT_ID")?,
            },
            queues: vec![
                QueueMapping {
                    queue_url: required("ORDERS_QUEUE_URL")?,
                    function: "process-order",
                },
                QueueMapping {
                    queue_url: required("STOCK_QUEUE_URL")?,
                    function: "update-stock",
                },
            ],
            poll: PollSettings {
                batch_size: parsed_or("SQS_BATCH_SIZE", 10)?,
                visibility_timeout: Duration::from_secs(parsed_or(
                    "SQS_VISIBILITY_TIMEOUT_SECONDS",
                    60,
                )?),
                wait: Duration::from_secs(parsed_or("SQS_WAIT_SECONDS", 10)?),
            },
            relay_interval: Duration::from_secs(parsed_or("RELAY_INTERVAL_SECONDS", 60)?),
            region: optional("AWS_REGION").unwrap_or_else(|| "us-east-1".to_owned()),
            stage: optional("GATEWAY_STAGE").unwrap_or_else(|| "local".to_owned()),
        }
        .validated()
    }

    fn validated(self) -> Result<Self, ConfigError> {
        let invalid = |name: &str, reason: &str| ConfigError::Invalid {
            name: name.to_owned(),
            reason: reason.to_owned(),
        };
        if !(1..=10).contains(&self.poll.batch_size) {
            return Err(invalid("SQS_BATCH_SIZE", "SQS receives 1 to 10 messages"));
        }
        if self.poll.wait > Duration::from_secs(20) {
            return Err(invalid("SQS_WAIT_SECONDS", "SQS long-polls at most 20 s"));
        }
        if self.relay_interval.is_zero() {
            return Err(invalid("RELAY_INTERVAL_SECONDS", "must be at least 1"));
        }
        Ok(self)
    }
}

/// `INVOKE_URL_CREATE_ORDER` for `create-order`.
pub fn invoke_url_variable(function: &str) -> String {
    format!(
        "INVOKE_URL_{}",
        function.to_ascii_uppercase().replace('-', "_")
    )
}

fn optional(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn required(name: &str) -> Result<String, ConfigError> {
    optional(name).ok_or_else(|| ConfigError::Missing(name.to_owned()))
}

fn parsed_or<T: std::str::FromStr>(name: &str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match optional(name) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|e: T::Err| ConfigError::Invalid {
                name: name.to_owned(),
                reason: e.to_string(),
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invoke_url_variables_are_the_upper_snake_case_function_names() {
        assert_eq!(
            invoke_url_variable("create-order"),
            "INVOKE_URL_CREATE_ORDER"
        );
        assert_eq!(
            invoke_url_variable("outbox-relay"),
            "INVOKE_URL_OUTBOX_RELAY"
        );
    }
}
