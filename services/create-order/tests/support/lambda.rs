//! The function as a process under a minimal Lambda Runtime API with the Extensions API ([`super::runtime_api`]):
//! events go in one at a time, and what the function did comes back with its instants.

use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::runtime_api::{self, Api, Behaviour, Reported};
use super::{ACCESS_KEY, REGION, SECRET_KEY, SESSION_TOKEN, World, serve};

/// Cold start (connecting the pool) plus one invocation, on a busy machine.
const ANSWER_WITHIN: Duration = Duration::from_secs(60);

/// What the function answered, and how long the invocation took (event handed out → response received).
#[derive(Debug)]
pub struct Answer {
    pub body: Value,
    pub took: Duration,
    /// When the response arrived.
    pub at: Instant,
}

impl Answer {
    pub fn status(&self) -> u64 {
        self.body["statusCode"].as_u64().unwrap_or(0)
    }
}

/// The function as a process, with its runtime API.
pub struct Function {
    child: Child,
    events: mpsc::UnboundedSender<(String, String)>,
    reports: mpsc::UnboundedReceiver<Reported>,
    log: std::path::PathBuf,
    /// Whether its extension registered (seen in the reports so far).
    pub extension: bool,
    /// When the extension last asked for its next event since the last event was handed out.
    extension_done: Option<Instant>,
}

impl Function {
    /// Starts `target/<profile>/create-order` with Terraform's kind of environment plus `extra`.
    pub async fn start(world: &World, extra: &[(&str, &str)]) -> Self {
        Self::start_with(world, extra, Behaviour::default()).await
    }

    /// [`Function::start`] under a Runtime API that behaves as `behaviour` says.
    pub async fn start_with(world: &World, extra: &[(&str, &str)], behaviour: Behaviour) -> Self {
        let (events, queued) = mpsc::unbounded_channel();
        let (reported, reports) = mpsc::unbounded_channel();
        let api = serve(runtime_api::router(Api::new(queued, reported, behaviour))).await;
        let log = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("create-order-{}.log", Uuid::new_v4().simple()));
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_create-order"))
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", api.trim_start_matches("http://"))
            .env("AWS_LAMBDA_FUNCTION_NAME", "create-order")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/01/01/[$LATEST]telemetry",
            )
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/create-order")
            .env("AWS_REGION", REGION)
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .env("AWS_SESSION_TOKEN", SESSION_TOKEN)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ENDPOINT_URL", &world.aws_endpoint)
            .env("DATABASE_URL", &world.database_url)
            .env("ORDERS_QUEUE_URL", &world.queue_url)
            .env("RUST_LOG", "info")
            .envs(extra.iter().copied())
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("the create-order binary starts");
        Self {
            child,
            events,
            reports,
            log,
            extension: false,
            extension_done: None,
        }
    }

    /// Sends one event, waits for the function's answer, then until the environment is idle again (the
    /// runtime and its extension have asked for their next events): all of the invocation's work is done.
    pub async fn invoke(&mut self, event: String) -> Answer {
        let answer = self.answer(event).await;
        self.idle().await;
        answer
    }

    /// Sends one event and waits for the function's answer only.
    pub async fn answer(&mut self, event: String) -> Answer {
        let served = self.hand_out(event).await;
        loop {
            match self.report().await {
                Reported::Response(at, body) => {
                    let body = serde_json::from_str(&body).expect("a JSON answer");
                    let took = at - served;
                    return Answer { body, took, at };
                }
                Reported::Error(what) => panic!("{what}\n{}", self.log_text()),
                _ => {}
            }
        }
    }

    /// Sends one event and waits until it is handed out to the runtime; returns when it was.
    pub async fn hand_out(&mut self, event: String) -> Instant {
        self.events
            .send((Uuid::new_v4().to_string(), event))
            .unwrap();
        loop {
            if let Reported::Served(at) = self.report().await {
                return at;
            }
        }
    }

    /// Waits until the runtime, and the extension if one registered, have asked for their next events since
    /// the last event was handed out; returns when the last of them did (in Lambda, the earliest the environment
    /// can be frozen). Call it after the answer.
    pub async fn idle(&mut self) -> Instant {
        loop {
            if let Reported::Next(runtime) = self.report().await {
                let extension = loop {
                    match (self.extension, self.extension_done) {
                        (false, _) => break runtime,
                        (true, Some(at)) => break at,
                        (true, None) => {
                            self.report().await;
                        }
                    }
                };
                return runtime.max(extension);
            }
        }
    }

    /// The next report, noting a registration and the extension's progress.
    async fn report(&mut self) -> Reported {
        let report = tokio::time::timeout(ANSWER_WITHIN, self.reports.recv()).await;
        let Ok(Some(report)) = report else {
            panic!("nothing within {ANSWER_WITHIN:?}\n{}", self.log_text());
        };
        match report {
            Reported::Registered => self.extension = true,
            Reported::Served(_) => self.extension_done = None,
            Reported::ExtensionNext(at) => self.extension_done = Some(at),
            _ => {}
        }
        report
    }

    /// Sends the process `signal` (`TERM`, `KILL`, `STOP`…).
    pub fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -{signal} failed");
    }

    /// Waits up to `within` for the process to exit.
    pub async fn exited(&mut self, within: Duration) -> ExitStatus {
        let until = Instant::now() + within;
        while Instant::now() < until {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("still running after {within:?}\n{}", self.log_text());
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-CONT", &self.child.id().to_string()])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
