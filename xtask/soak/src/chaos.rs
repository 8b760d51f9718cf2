//! The soak's faults, one every 0.5–2 s, in turn: the function processes killed, PostgreSQL restarted, Cognito's
//! moto killed and restarted, the SQS emulator frozen, every function role's password rotated.
//!
//! Functions: every function process is killed at once (`SIGKILL`, whatever it is doing) with the
//! `cargo lambda watch` that runs them, which then starts again on the same port, as Lambda replaces a crashed
//! execution environment ([`functions::Host::crash_and_restart`]). One function killed alone mid-invocation
//! would be a fault of the emulator instead: `cargo lambda watch` never invokes that function again.
//!
//! PostgreSQL: the machine's cluster on 127.0.0.1:5432 is stopped fast and started again with
//! `pg_ctlcluster`; any other server (`DATABASE_URL`, a private cluster) gets every connection to the
//! database terminated instead, which is what the functions see of a failover.
//!
//! Cognito: its moto is killed (`SIGKILL`) and started again on the same port, and docker/cognito/init.py
//! recreates the pool, which gets the same ids back ([`aws::cognito::Emulator::crash_and_restart`]); clients
//! signing in meanwhile retry. Tokens issued before stay valid, as across a Cognito outage in AWS.
//!
//! SQS: the emulator is frozen (`SIGSTOP`, two seconds, `SIGCONT`), not restarted: neither moto nor
//! LocalStack's community edition keeps its queues across a restart, so a restart would lose messages SQS had
//! accepted, a fault real SQS does not have. A frozen endpoint is what SQS can do: requests that hang until
//! the SDK's timeouts.
//!
//! Rotation: every function role's secret is rotated twice in a row, all six at once, each by
//! `migrate-db --rotate <secret>`: the rotation handler's own four steps (createSecret, setSecret, testSecret,
//! finishSecret) against the Secrets Manager emulator and the database, as Secrets Manager runs them in AWS. The first rotation flips each secret to
//! the role's other login with a new password, and the login the functions hold keeps working; the second flips
//! it back with another new password, so the functions' cached login is now refused on their next new
//! connection and they fetch the secret again (`Db::run`), as after an operator's double rotation following a
//! leak. On a server that checks the function logins' passwords that path is taken for real; on one that trusts
//! loopback only the logins flip.

use std::fmt;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};

use super::clients::Rng;
use native_stack::{Stack, aws, functions};
use native_stack::{proc, tools};

/// How the faults reach the stack's processes.
#[derive(Clone)]
pub struct Faults {
    database_url: String,
    /// `pg_ctlcluster` version and cluster when the stack uses the machine's server.
    cluster: Option<String>,
    /// The SQS emulator's process (LocalStack or moto).
    emulator_pid: u32,
    functions: Arc<functions::Host>,
    cognito: Arc<aws::cognito::Emulator>,
    log_dir: std::path::PathBuf,
    /// `migrate-db` (the rotation handler) and what it needs to rotate the role secrets.
    rotator: std::path::PathBuf,
    rotator_env: Vec<(String, String)>,
}

/// How many of each fault were injected.
#[derive(Debug, Default)]
pub struct Injected {
    pub function_crashes: usize,
    pub function_processes_killed: usize,
    pub restart_failures: usize,
    pub database_restarts: usize,
    pub database_disconnects: usize,
    pub emulator_freezes: usize,
    pub cognito_restarts: usize,
    pub cognito_restart_failures: usize,
    /// Turns that rotated every function role's secret twice, and the secret rotations (twelve a turn).
    pub rotation_rounds: usize,
    pub rotations: usize,
    pub rotation_failures: usize,
}

impl Injected {
    /// Fails if a fault could not be undone (a restart that failed).
    pub fn verify(&self) -> Result<()> {
        if self.restart_failures + self.cognito_restart_failures + self.rotation_failures != 0 {
            anyhow::bail!(
                "restarts failed: {} of the functions, {} of Cognito's moto; {} rotations failed",
                self.restart_failures,
                self.cognito_restart_failures,
                self.rotation_failures
            );
        }
        Ok(())
    }
}

impl fmt::Display for Injected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} function crashes ({} processes killed, {} restarts failed), {} PostgreSQL restarts, \
             {} PostgreSQL disconnects, {} Cognito restarts ({} failed), {} SQS emulator freezes, \
             {} rotation rounds ({} secret rotations, {} failed)",
            self.function_crashes,
            self.function_processes_killed,
            self.restart_failures,
            self.database_restarts,
            self.database_disconnects,
            self.cognito_restarts,
            self.cognito_restart_failures,
            self.emulator_freezes,
            self.rotation_rounds,
            self.rotations,
            self.rotation_failures
        )
    }
}

impl Faults {
    pub fn for_stack(stack: &Stack) -> Result<Self> {
        let local = stack.admin_url.contains("@127.0.0.1:5432/");
        let cluster = if local {
            let version = std::fs::read_dir("/etc/postgresql")
                .ok()
                .and_then(|mut d| d.next())
                .and_then(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned());
            version.map(|v| format!("{v} main"))
        } else {
            None
        };
        let root = tools::repo_root()?;
        proc::run(tools::cargo(&root).args(["build", "--quiet", "-p", "migrate-db"]))?;
        Ok(Self {
            rotator: root.join("target/debug/migrate-db"),
            rotator_env: rotator_env(stack),
            database_url: stack.database_url.clone(),
            cluster,
            emulator_pid: stack.sqs_pid,
            functions: stack
                .functions
                .clone()
                .context("the stack runs no functions")?,
            cognito: stack
                .cognito_emulator
                .clone()
                .context("the stack runs no Cognito emulator")?,
            log_dir: stack.log_dir.clone(),
        })
    }

    /// Undoes what may still be in effect: the emulator running, Cognito and PostgreSQL up.
    pub fn heal(&self) -> Result<()> {
        self.signal_emulator("CONT");
        if self.cognito.pid().is_none() {
            self.cognito.crash_and_restart(&self.log_dir)?;
        }
        if let Some(cluster) = &self.cluster {
            let _ = pg_ctlcluster(cluster, "start");
        }
        Ok(())
    }

    fn crash_functions(&self, injected: &mut Injected) {
        match self.functions.crash_and_restart() {
            Ok(killed) => {
                injected.function_crashes += 1;
                injected.function_processes_killed += killed;
            }
            Err(e) => {
                eprintln!("   restarting the functions failed: {e:#}");
                injected.restart_failures += 1;
            }
        }
    }

    fn database(&self, injected: &mut Injected) {
        match &self.cluster {
            Some(cluster) => {
                let _ = pg_ctlcluster(cluster, "stop -m fast");
                std::thread::sleep(Duration::from_millis(500));
                let _ = pg_ctlcluster(cluster, "start");
                injected.database_restarts += 1;
            }
            None => {
                let _ = proc::succeeds(Command::new("psql").arg(&self.database_url).args([
                    "-qAt",
                    "-c",
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                     WHERE datname = current_database() AND pid <> pg_backend_pid()",
                ]));
                injected.database_disconnects += 1;
            }
        }
    }

    fn restart_cognito(&self, injected: &mut Injected) {
        match self.cognito.crash_and_restart(&self.log_dir) {
            Ok(()) => injected.cognito_restarts += 1,
            Err(e) => {
                eprintln!("   restarting Cognito's moto failed: {e:#}");
                injected.cognito_restart_failures += 1;
            }
        }
    }

    fn freeze_emulator(&self, injected: &mut Injected) {
        self.signal_emulator("STOP");
        std::thread::sleep(Duration::from_secs(2));
        self.signal_emulator("CONT");
        injected.emulator_freezes += 1;
    }

    /// Rotates every function role's secret twice, each time all six side by side: after the second rotation
    /// the login the functions held before the turn has a new password, so an environment that survives the
    /// turn is refused on its next new connection and must fetch the secret again (`Db::run`).
    fn rotate_passwords(&self, injected: &mut Injected) {
        injected.rotation_rounds += 1;
        for _ in 0..2 {
            let (rotated, failed) = self.rotate_every_secret_once();
            injected.rotations += rotated;
            injected.rotation_failures += failed;
        }
        if injected.rotation_failures > 0 {
            eprintln!(
                "   a rotation failed (see {}/rotate-*.log)",
                self.log_dir.display()
            );
        }
    }

    /// One `migrate-db --rotate` per function role secret, side by side; returns (succeeded, failed).
    fn rotate_every_secret_once(&self) -> (usize, usize) {
        let log = |function: &str| {
            std::fs::File::options()
                .create(true)
                .append(true)
                .open(self.log_dir.join(format!("rotate-{function}.log")))
        };
        let children: Vec<_> = order_contract::topology::FUNCTIONS
            .iter()
            .map(|f| {
                let (out, err) = (log(f.name)?, log(f.name)?);
                Command::new(&self.rotator)
                    .args(["--rotate", &aws::init::role_secret_name(f.name)])
                    .envs(self.rotator_env.iter().map(|(k, v)| (k, v)))
                    .stdout(out)
                    .stderr(err)
                    .spawn()
            })
            .collect();
        let succeeded = children
            .into_iter()
            .map(|child| {
                child
                    .and_then(|mut c| c.wait())
                    .is_ok_and(|status| status.success())
            })
            .filter(|ok| *ok)
            .count();
        (
            succeeded,
            order_contract::topology::FUNCTIONS.len() - succeeded,
        )
    }

    fn signal_emulator(&self, signal: &str) {
        let _ = Command::new("kill")
            .args([&format!("-{signal}"), &self.emulator_pid.to_string()])
            .status();
    }
}

/// Injects faults until `stop`, one every 0.5–2 s, the five kinds in turn (so even a short run has each);
/// returns the counts.
pub fn run(faults: &Faults, stop: &AtomicBool, seed: u64) -> Injected {
    let mut rng = Rng::new(seed.rotate_left(17));
    let mut injected = Injected::default();
    for turn in 0.. {
        std::thread::sleep(Duration::from_millis(500 + rng.below(1500)));
        if stop.load(Ordering::Relaxed) {
            break;
        }
        match turn % 5 {
            0 => faults.crash_functions(&mut injected),
            1 => faults.database(&mut injected),
            2 => faults.rotate_passwords(&mut injected),
            3 => faults.restart_cognito(&mut injected),
            _ => faults.freeze_emulator(&mut injected),
        }
    }
    injected
}

/// What `migrate-db --rotate` needs: the emulators, the master login (the stack's database URL) and the role
/// secrets it may rotate, as Terraform gives the function (`DB_ROLE_SECRET_ARNS`).
fn rotator_env(stack: &Stack) -> Vec<(String, String)> {
    let secrets: serde_json::Map<String, serde_json::Value> = order_contract::topology::FUNCTIONS
        .iter()
        .map(|f| (f.db_role(), aws::init::role_secret_name(f.name).into()))
        .collect();
    let mut env: Vec<(String, String)> = stack
        .aws_env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    env.extend([
        ("DATABASE_URL".to_owned(), stack.database_url.clone()),
        (
            "DB_ROLE_SECRET_ARNS".to_owned(),
            serde_json::Value::Object(secrets).to_string(),
        ),
        ("PGSSLMODE".to_owned(), "disable".to_owned()),
        ("OTEL_TRACES_EXPORTER".to_owned(), "none".to_owned()),
        ("RUST_LOG".to_owned(), "warn".to_owned()),
    ]);
    env
}

fn pg_ctlcluster(cluster: &str, action: &str) -> bool {
    let mut args = vec!["--skip-systemctl-redirect"];
    args.extend(cluster.split_whitespace());
    args.extend(action.split_whitespace());
    proc::succeeds(Command::new("pg_ctlcluster").args(&args))
}
