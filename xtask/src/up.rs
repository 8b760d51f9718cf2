//! `cargo xtask up`: the native (no Docker) local stack. Filled in by the local-gateway work.

use std::path::Path;

use anyhow::{Result, bail};

pub fn up(_root: &Path) -> Result<()> {
    bail!("not implemented yet")
}
