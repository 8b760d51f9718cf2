//! The AWS services the stack emulates, on loopback, as compose.yaml splits them: SQS and Secrets Manager on
//! LocalStack (host mode, no Docker), Cognito on a moto of its own. Where no Python >= 3.13 is found,
//! LocalStack cannot run and moto takes SQS and Secrets Manager too (one line says so).

pub mod cognito;
pub mod init;
pub mod localstack;
mod moto;

use std::path::Path;
use std::sync::Arc;

use anyhow::{Result, bail};

use crate::proc::Background;

/// The region everything is created in.
pub const REGION: &str = "us-east-1";

/// Chooses the SQS and Secrets Manager emulator: `localstack` or `moto`; unset, LocalStack where a Python
/// >= 3.13 is found, else moto.
pub const CHOICE_VAR: &str = "XTASK_SQS_EMULATOR";

/// Which program emulates SQS and Secrets Manager.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqsEmulator {
    LocalStack,
    Moto,
}

impl SqsEmulator {
    pub fn name(self) -> &'static str {
        match self {
            Self::LocalStack => "LocalStack",
            Self::Moto => "moto",
        }
    }

    /// The log file under `target/`.
    pub fn log(self) -> &'static str {
        match self {
            Self::LocalStack => localstack::LOG,
            Self::Moto => "moto.log",
        }
    }

    /// [`CHOICE_VAR`]'s choice, or LocalStack where it can run.
    pub fn chosen() -> Result<Self> {
        match std::env::var(CHOICE_VAR).ok().as_deref().map(str::trim) {
            Some("localstack") => Ok(Self::LocalStack),
            Some("moto") => Ok(Self::Moto),
            None | Some("") => {
                if localstack::python().is_some() {
                    Ok(Self::LocalStack)
                } else {
                    eprintln!(
                        "   no Python >= 3.{} found: SQS and Secrets Manager run on moto instead of LocalStack (compose's choice)",
                        localstack::MIN_PYTHON_MINOR
                    );
                    Ok(Self::Moto)
                }
            }
            Some(other) => bail!("{CHOICE_VAR}={other}: expected localstack or moto"),
        }
    }
}

/// The running emulators and where each service is.
pub struct Emulators {
    /// Which program serves SQS and Secrets Manager.
    pub sqs_emulator: SqsEmulator,
    /// SQS and Secrets Manager (what the functions and the gateway call).
    pub sqs: String,
    /// The process serving [`Self::sqs`] (the soak freezes it).
    pub sqs_pid: u32,
    /// Cognito (user pool, sign-in, JWKS).
    pub cognito: String,
    /// Cognito's moto process (the soak restarts it).
    pub cognito_emulator: Arc<cognito::Emulator>,
}

impl Emulators {
    /// Starts the emulators ([`SqsEmulator::chosen`]) on free loopback ports; they stop when the processes
    /// returned are dropped.
    pub fn start(root: &Path, venv: &Path) -> Result<(Self, Vec<Background>)> {
        Self::start_with(root, venv, SqsEmulator::chosen()?)
    }

    /// Starts the emulators with `sqs_emulator` for SQS and Secrets Manager.
    pub fn start_with(
        root: &Path,
        venv: &Path,
        sqs_emulator: SqsEmulator,
    ) -> Result<(Self, Vec<Background>)> {
        // Both start side by side (LocalStack takes seconds to boot).
        let (sqs, cognito) = std::thread::scope(|s| {
            let cognito = s.spawn(|| cognito::Emulator::start(root, venv));
            let sqs = match sqs_emulator {
                SqsEmulator::LocalStack => {
                    localstack::require_python().and_then(|python| localstack::start(root, &python))
                }
                SqsEmulator::Moto => moto::start(root, venv, sqs_emulator.log()),
            };
            (sqs, cognito.join().expect("the Cognito emulator thread"))
        });
        let (sqs, server) = sqs?;
        let cognito_emulator = Arc::new(cognito?);
        let emulators = Self {
            sqs_emulator,
            sqs,
            sqs_pid: server.pid(),
            cognito: cognito_emulator.endpoint(),
            cognito_emulator,
        };
        Ok((emulators, vec![server]))
    }

    /// What every AWS SDK client in tests and the stack gets (see [`env`]).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        env(&self.sqs)
    }

    /// One line: what runs where.
    pub fn describe(&self) -> String {
        format!(
            "{} {} (SQS, Secrets Manager), moto {} (Cognito)",
            self.sqs_emulator.name(),
            self.sqs,
            self.cognito
        )
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
