//! Python venvs for the tools xtask runs (moto, cargo-lambda, the static checkers, LocalStack), each created
//! once from a requirements file and reused while that file is unchanged.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::proc;

/// Creates (or updates) `root/dir` from a requirements file with the first of the usual Python 3s.
pub fn venv(root: &Path, dir: &str, requirements: &str) -> Result<PathBuf> {
    let python = ["python3.11", "python3"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| proc::succeeds(Command::new(p).arg("--version")))
        .context("python3 is required")?;
    venv_with(root, dir, requirements, &python)
}

/// Creates (or updates) `root/dir` from a requirements file with `python`; a stamp file skips pip when nothing
/// changed.
pub fn venv_with(root: &Path, dir: &str, requirements: &str, python: &Path) -> Result<PathBuf> {
    let venv = root.join(dir);
    let reqs = std::fs::read_to_string(root.join(requirements))?;
    let stamp = venv.join(".requirements.stamp");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(reqs.as_str()) {
        return Ok(venv);
    }
    eprintln!("== setting up {dir} from {requirements} (first run only)");
    if !venv.join("bin/python").exists() {
        proc::run(Command::new(python).args(["-m", "venv"]).arg(&venv))?;
    }
    proc::run(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(root.join(requirements)),
    )?;
    std::fs::write(&stamp, reqs)?;
    Ok(venv)
}
