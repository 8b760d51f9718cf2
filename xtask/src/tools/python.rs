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

/// The first Python 3 with a minor version of at least `minor`: `python3.N` on PATH, then pyenv's versions
/// (`$PYENV_ROOT`, or `~/.pyenv`), then `python3`.
pub fn at_least(minor: u32) -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = (minor..minor + 6)
        .rev()
        .map(|m| PathBuf::from(format!("python3.{m}")))
        .collect();
    let pyenv = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pyenv")));
    if let Some(Ok(versions)) = pyenv.map(|root| std::fs::read_dir(root.join("versions"))) {
        let mut found: Vec<PathBuf> = versions
            .flatten()
            .map(|v| v.path().join("bin/python3"))
            .collect();
        found.sort();
        candidates.extend(found.into_iter().rev());
    }
    candidates.push(PathBuf::from("python3"));
    candidates
        .into_iter()
        .find(|python| version(python).is_some_and(|(major, m)| major == 3 && m >= minor))
}

/// `(major, minor)` of the Python at `python`, if it runs.
fn version(python: &Path) -> Option<(u32, u32)> {
    let out = Command::new(python)
        .args([
            "-c",
            "import sys; print(sys.version_info[0], sys.version_info[1])",
        ])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.split_whitespace().map(str::parse::<u32>);
    Some((parts.next()?.ok()?, parts.next()?.ok()?))
}
