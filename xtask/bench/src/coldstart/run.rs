//! One cold start: a release binary exec'd under a fresh [`RuntimeApi`], timed to its first answer, with its
//! resident memory once it idles.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};

use super::phases::{self, Logged};
use crate::runtime_api::{Event, RuntimeApi};
use native_stack::aws::REGION;
use native_stack::events::Probe;

/// How long one cold start may take before the run fails.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);
/// `memory_size` of every function in infra/main.tf (only reported to the function; nothing limits it here).
pub const MEMORY_MB: &str = "256";

/// One cold start's figures.
pub struct Measured {
    /// exec -> first `GET .../invocation/next`.
    pub init: Duration,
    /// The process's CPU time (all threads) at its first `GET .../invocation/next`: init's CPU.
    pub init_cpu: Option<Duration>,
    /// exec -> the answer received.
    pub answered: Duration,
    /// VmRSS when the second `.../next` arrives.
    pub rss_kib: u64,
    /// The function's `init phases` record (none for hello-lambda).
    pub logged: Option<Logged>,
}

/// Starts `path` against a fresh Runtime API and waits for its first answer and its next `next`.
pub fn cold_start(
    path: &Path,
    bin: &str,
    probe: &Probe,
    function_env: &[(String, String)],
    log: &Path,
    run: usize,
) -> Result<Measured> {
    let request_id = format!("xtask-coldstart-{bin}-{run}");
    let arn = format!("arn:aws:lambda:{REGION}:000000000000:function:{bin}");
    let api = RuntimeApi::start(probe.event.clone(), request_id.clone(), arn)?;
    let out = std::fs::File::create(log)?;
    let mut cmd = Command::new(path);
    cmd.env_clear()
        .envs(function_env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{}", api.port))
        .env("AWS_LAMBDA_FUNCTION_NAME", bin)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", MEMORY_MB)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env(
            "AWS_LAMBDA_LOG_STREAM_NAME",
            format!("2026/01/01/[$LATEST]xtask{run}"),
        )
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{bin}"))
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out);
    let (started, spawned) = (Instant::now(), SystemTime::now());
    let child = cmd
        .spawn()
        .with_context(|| format!("Failed to start {}", path.display()))?;
    api.watch_pid(child.id());
    let mut measured = watch(&api, KillOnDrop(child), started, &request_id, probe)?;
    measured.logged = phases::read(log, spawned)?;
    Ok(measured)
}

/// Follows what the function does until it idles after answering.
fn watch(
    api: &RuntimeApi,
    mut child: KillOnDrop,
    started: Instant,
    request_id: &str,
    probe: &Probe,
) -> Result<Measured> {
    let deadline = started + RUN_TIMEOUT;
    let mut init = None;
    let mut init_cpu = None;
    let mut answered: Option<(Instant, String)> = None;
    loop {
        if Instant::now() > deadline {
            bail!("no answer within {RUN_TIMEOUT:?}");
        }
        match api.events.recv_timeout(Duration::from_millis(50)) {
            Ok(Event::Next(at, cpu)) if init.is_none() => {
                init = Some(at - started);
                init_cpu = cpu;
            }
            Ok(Event::Next(..)) => {
                // The answer is in and the runtime waits for the next event: idle.
                return measure_idle(&child, started, init, init_cpu, answered.take(), probe);
            }
            Ok(Event::Response(at, id, body)) => {
                if id != request_id {
                    bail!("answered request {id}, not {request_id}");
                }
                answered = Some((at, body));
            }
            Ok(Event::Error(what)) => bail!("reported an error: {what}"),
            Err(RecvTimeoutError::Timeout) => {
                if let Some(status) = child.0.try_wait()? {
                    bail!("exited with {status}");
                }
            }
            Err(RecvTimeoutError::Disconnected) => bail!("the Runtime API server stopped"),
        }
    }
}

/// The measurement once the function idles: its memory now, init and answer times, if it answered as the
/// probe expects.
fn measure_idle(
    child: &KillOnDrop,
    started: Instant,
    init: Option<Duration>,
    init_cpu: Option<Duration>,
    answered: Option<(Instant, String)>,
    probe: &Probe,
) -> Result<Measured> {
    let rss_kib = vm_rss_kib(child.0.id())?;
    let (Some(init), Some((at, body))) = (init, answered) else {
        bail!("asked for a second event without answering the first");
    };
    if !(probe.answered)(&body) {
        bail!(
            "unexpected answer (expected {}): {}",
            probe.expected,
            body.trim()
        );
    }
    let answered = at - started;
    Ok(Measured {
        init,
        init_cpu,
        answered,
        rss_kib,
        logged: None,
    })
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn vm_rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("no VmRSS in /proc/<pid>/status")
}

/// `KEY='value'` lines, as the stack writes them for `cargo lambda watch`.
pub fn read_env_file(path: &Path) -> Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("Failed to read {}", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            let v = v.strip_prefix('\'').unwrap_or(v);
            let v = v.strip_suffix('\'').unwrap_or(v);
            (k.to_owned(), v.to_owned())
        })
        .collect())
}
