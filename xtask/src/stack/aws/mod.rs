//! The AWS services the stack emulates, on loopback, as compose.yaml splits them: SQS and Secrets Manager on
//! one emulator, Cognito on a moto of its own.

pub mod cognito;
pub mod init;
mod moto;

use std::path::Path;
use std::sync::Arc;

use anyhow::Result;

use crate::proc::Background;

/// The region everything is created in.
pub const REGION: &str = "us-east-1";

/// The running emulators and where each service is.
pub struct Emulators {
    /// SQS and Secrets Manager (what the functions and the gateway call).
    pub sqs: String,
    /// Cognito (user pool, sign-in, JWKS).
    pub cognito: String,
    /// Cognito's moto process (the soak restarts it).
    pub cognito_emulator: Arc<cognito::Emulator>,
}

impl Emulators {
    /// Starts the emulators on free loopback ports; they stop when the processes returned are dropped.
    pub fn start(root: &Path, venv: &Path) -> Result<(Self, Vec<Background>)> {
        let (sqs, server) = moto::start(root, venv, "moto.log")?;
        let cognito_emulator = Arc::new(cognito::Emulator::start(root, venv)?);
        let emulators = Self {
            sqs,
            cognito: cognito_emulator.endpoint(),
            cognito_emulator,
        };
        Ok((emulators, vec![server]))
    }

    /// What every AWS SDK client in tests and the stack gets (see [`env`]).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        env(&self.sqs)
    }
}

/// Environment every AWS SDK client in tests and the local stack gets: the emulator, fake credentials, a
/// region. Nothing can reach real AWS.
pub fn env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.to_owned()),
        ("AWS_REGION", REGION.to_owned()),
        ("AWS_DEFAULT_REGION", REGION.to_owned()),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ]
}
