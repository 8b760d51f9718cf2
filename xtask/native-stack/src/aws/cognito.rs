//! Cognito on moto (a process of its own, as in compose): the JWKS URL the gateway verifies tokens with, the
//! demo user's sign-in, and the emulator the soak restarts.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::{REGION, init, moto};
use crate::http;
use crate::proc::{self, Background};

/// The demo user docker/cognito/init.py creates.
pub const DEMO_USERNAME: &str = "demo@example.com";
pub const DEMO_PASSWORD: &str = "Demo-Password-1";

/// The JWKS URL moto serves to unsigned requests (see compose.yaml's `x-cognito`).
pub fn jwks_url(endpoint: &str) -> String {
    format!("{endpoint}/cognito-idp_{REGION}/.well-known/jwks.json")
}

/// The issuer of the pool's tokens, as the gateway checks it.
pub fn issuer(user_pool_id: &str) -> String {
    format!("https://cognito-idp.{REGION}.amazonaws.com/{user_pool_id}")
}

/// The `InitiateAuth` (`USER_PASSWORD_AUTH`) request body for the demo user.
pub fn sign_in_body(client_id: &str) -> String {
    json!({
        "AuthFlow": "USER_PASSWORD_AUTH",
        "ClientId": client_id,
        "AuthParameters": {"USERNAME": DEMO_USERNAME, "PASSWORD": DEMO_PASSWORD},
    })
    .to_string()
}

/// The demo user's ID token from Cognito at `endpoint`.
pub fn sign_in(endpoint: &str, client_id: &str, timeout: Duration) -> Result<String> {
    let reply = http::send(
        "POST",
        &format!("{endpoint}/"),
        &[
            ("Content-Type", "application/x-amz-json-1.1"),
            (
                "X-Amz-Target",
                "AWSCognitoIdentityProviderService.InitiateAuth",
            ),
        ],
        &sign_in_body(client_id),
        timeout,
    )?;
    if reply.status != 200 {
        bail!("InitiateAuth answered {}: {}", reply.status, reply.body);
    }
    let answer: Value =
        serde_json::from_str(&reply.body).context("InitiateAuth answered something not JSON")?;
    answer["AuthenticationResult"]["IdToken"]
        .as_str()
        .map(str::to_owned)
        .context("InitiateAuth returned no IdToken")
}

/// Cognito's own moto process, which the soak kills and starts again: it holds nothing but the user pool,
/// which docker/cognito/init.py creates again with the same ids (moto's HASH id strategy) and the same demo
/// user `sub` (a seeded generator), and moto signs with one fixed key, so tokens issued before a restart stay
/// valid after it, as they do across a Cognito outage in AWS.
pub struct Emulator {
    root: PathBuf,
    venv: PathBuf,
    port: u16,
    server: Mutex<Option<Background>>,
    /// What init.py must create again after a restart: the same ids and demo user.
    created: Mutex<Option<init::UserPool>>,
}

/// moto's log for Cognito, under `target/`.
pub const LOG: &str = "moto-cognito.log";

impl Emulator {
    /// Starts moto for Cognito on a free loopback port.
    pub fn start(root: &Path, venv: &Path) -> Result<Self> {
        let port = proc::free_port()?;
        let server = moto::start_on(root, venv, port, LOG, false)?;
        Ok(Self {
            root: root.to_owned(),
            venv: venv.to_owned(),
            port,
            server: Mutex::new(Some(server)),
            created: Mutex::new(None),
        })
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.lock_server().as_ref().map(Background::pid)
    }

    /// Records what init.py created, which a restart must reproduce.
    pub fn remember(&self, created: &init::UserPool) {
        *self.created.lock().unwrap_or_else(|e| e.into_inner()) = Some(created.clone());
    }

    /// Kills moto (`SIGKILL`), starts it again on the same port and runs init.py against it, which fails if
    /// the pool's or the client's id came back different, and recreates the demo user until its `sub` is the
    /// same.
    pub fn crash_and_restart(&self, log_dir: &Path) -> Result<()> {
        let mut server = self.lock_server();
        if let Some(old) = server.take() {
            old.crash();
        }
        *server = Some(moto::start_on(
            &self.root, &self.venv, self.port, LOG, true,
        )?);
        drop(server);
        let expected = self
            .created
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        init::user_pool(
            &self.root,
            &self.venv,
            &self.endpoint(),
            log_dir,
            expected.as_ref(),
        )
        .map(|_| ())
    }

    /// Fails if moto has exited.
    pub fn check_alive(&self) -> Result<()> {
        match self.lock_server().as_mut() {
            Some(server) => server.check_alive(),
            None => bail!("moto (Cognito) is not running"),
        }
    }

    fn lock_server(&self) -> std::sync::MutexGuard<'_, Option<Background>> {
        self.server.lock().unwrap_or_else(|e| e.into_inner())
    }
}
