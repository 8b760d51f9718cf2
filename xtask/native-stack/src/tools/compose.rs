//! docker-compose, installed from Debian when missing: `cargo xtask static` only validates compose.yaml with it.

use std::process::Command;

use anyhow::{Context, Result};

use crate::proc;

/// Makes sure a `docker-compose` binary is on PATH.
pub fn ensure() -> Result<()> {
    if proc::succeeds(Command::new("docker-compose").arg("version")) {
        return Ok(());
    }
    eprintln!("== installing Debian's docker-compose (static compose validation only)");
    proc::run(Command::new("apt-get").args(["update", "-qq"]))?;
    proc::run(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "docker-compose"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
    .context("docker-compose is needed to validate compose.yaml")
}
