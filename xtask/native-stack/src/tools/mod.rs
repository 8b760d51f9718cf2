//! The tools xtask drives: cargo itself, Python venvs (moto, cargo-lambda, the checkers, LocalStack) and
//! docker-compose (for static validation only).

pub mod compose;
pub mod python;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

/// The workspace root (the parent of `xtask/`).
pub fn repo_root() -> Result<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    Ok(manifest
        .ancestors()
        .nth(2)
        .context("native-stack lives at xtask/native-stack in the workspace")?
        .to_path_buf())
}

/// `cargo` in the workspace, without the variables `cargo run` set for xtask itself: some build scripts track
/// them (ring's `CARGO_MANIFEST_DIR`), so inheriting them would rebuild half the tree that a plain `cargo build`
/// in a shell left fresh, and the other way round.
pub fn cargo(root: &Path) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root);
    without_cargo_run_env(&mut cmd);
    cmd
}

/// Removes what `cargo run` adds to a program's environment (see [`cargo`]).
pub fn without_cargo_run_env(cmd: &mut Command) {
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let set_by_cargo_run = name.starts_with("CARGO_PKG_")
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_CRATE_NAME",
                "CARGO_BIN_NAME",
                "CARGO_PRIMARY_PACKAGE",
            ]
            .contains(&name.as_ref());
        if set_by_cargo_run {
            cmd.env_remove(name.as_ref());
        }
    }
}
