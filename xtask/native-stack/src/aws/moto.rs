//! moto_server, from the `.venv` venv, on a loopback port.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::Result;

use crate::proc::{self, Background};

/// Starts moto_server (all of moto's services) on a free port, logging to `target/<log>`; returns its endpoint.
pub fn start(root: &Path, venv: &Path, log: &str) -> Result<(String, Background)> {
    let port = proc::free_port()?;
    let server = start_on(root, venv, port, log, false)?;
    Ok((format!("http://127.0.0.1:{port}"), server))
}

/// Starts moto_server on `port` and waits for it, logging to `target/<log>` (after what it holds when
/// `append`, as a restart does).
///
/// Cognito ids come from moto's HASH strategy, as in compose.yaml's `x-cognito`: the user pool's and the app
/// client's ids depend only on the requests docker/cognito/init.py sends, so a moto started again (the soak
/// kills it) gets the same ids back from the same init.
pub fn start_on(
    root: &Path,
    venv: &Path,
    port: u16,
    log: &str,
    append: bool,
) -> Result<Background> {
    std::fs::create_dir_all(root.join("target"))?;
    let mut server = Background::spawn_logging(
        "moto_server",
        Command::new(venv.join("bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY", "HASH")
            .env("MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY", "HASH"),
        &root.join("target").join(log),
        append,
    )?;
    proc::wait_for_port(port, Duration::from_secs(60), Some(&mut server))?;
    Ok(server)
}
