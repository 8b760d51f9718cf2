//! moto_server, from the `.venv` venv, on a free loopback port.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::Result;

use crate::proc::{self, Background};

/// Starts moto_server (all of moto's services), logging to `target/moto.log`; returns its endpoint.
pub fn start(root: &Path, venv: &Path) -> Result<(String, Background)> {
    let port = proc::free_port()?;
    std::fs::create_dir_all(root.join("target"))?;
    let mut server = Background::spawn(
        "moto_server",
        Command::new(venv.join("bin/moto_server")).args([
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ]),
        &root.join("target/moto.log"),
    )?;
    proc::wait_for_port(port, Duration::from_secs(60), Some(&mut server))?;
    Ok((format!("http://127.0.0.1:{port}"), server))
}
