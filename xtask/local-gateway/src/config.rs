//! Settings read once at start from the environment: the names compose.yaml and `cargo xtask up` set.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use order_contract::config::ConfigError;
use order_contract::config::{optional, parsed_or, required};
use order_contract::topology::{self, FUNCTIONS, Queue, Trigger};

use crate::xray::SamplingRule;

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

/// The function the schedule invokes (the EventBridge rule in AWS).
pub fn scheduled_function() -> &'static topology::Function {
    FUNCTIONS
        .iter()
        .find(|f| matches!(f.trigger, Trigger::Schedule { .. }))
        .expect("the topology has a scheduled function")
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
    /// The stage's X-Ray sampling rule (`GATEWAY_XRAY_RESERVOIR`, `GATEWAY_XRAY_FIXED_RATE`): X-Ray's default.
    pub xray_sampling: SamplingRule,
}

impl Settings {
    /// Reads every setting; reports the first missing or malformed variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut invoke_urls = BTreeMap::new();
        for function in &FUNCTIONS {
            invoke_urls.insert(function.name, required(&function.invoke_url_variable())?);
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
            queues: Queue::ALL
                .into_iter()
                .map(|queue| {
                    Ok(QueueMapping {
                        queue_url: required(queue.url_variable())?,
                        function: queue.consumer().name,
                    })
                })
                .collect::<Result<_, ConfigError>>()?,
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
            xray_sampling: SamplingRule {
                reservoir_per_second: parsed_or(
                    "GATEWAY_XRAY_RESERVOIR",
                    SamplingRule::AWS_DEFAULT.reservoir_per_second,
                )?,
                fixed_rate: parsed_or(
                    "GATEWAY_XRAY_FIXED_RATE",
                    SamplingRule::AWS_DEFAULT.fixed_rate,
                )?,
            },
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
        if !(0.0..=1.0).contains(&self.xray_sampling.fixed_rate) {
            return Err(invalid("GATEWAY_XRAY_FIXED_RATE", "a share from 0 to 1"));
        }
        if self.relay_interval.is_zero() {
            return Err(invalid("RELAY_INTERVAL_SECONDS", "must be at least 1"));
        }
        Ok(self)
    }
}
