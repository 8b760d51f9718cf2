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

/// The first Python 3 with a minor version of at least `minor`: pyenv's versions first (`$PYENV_ROOT`, or
/// `~/.pyenv`; their binaries directly, newest first, judged by the directory name before any is run: a pyenv
/// shim for a version that is not selected costs a pyenv start and fails), then `python3.N` and `python3` on
/// PATH.
pub fn at_least(minor: u32) -> Option<PathBuf> {
    let pyenv = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pyenv")));
    at_least_with(pyenv, minor)
}

/// [`at_least`] with pyenv's root given.
fn at_least_with(pyenv: Option<PathBuf>, minor: u32) -> Option<PathBuf> {
    let mut installed: Vec<((u32, u32), PathBuf)> = pyenv
        .and_then(|root| std::fs::read_dir(root.join("versions")).ok())
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let mut parts = name.split('.').map(str::parse::<u32>);
            let version = (parts.next()?.ok()?, parts.next()?.ok()?);
            Some((version, entry.path().join("bin/python3")))
        })
        .filter(|((major, m), _)| *major == 3 && *m >= minor)
        .collect();
    installed.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
    installed
        .into_iter()
        .map(|(_, path)| path)
        .chain(
            (minor..minor + 6)
                .rev()
                .map(|m| PathBuf::from(format!("python3.{m}"))),
        )
        .chain(std::iter::once(PathBuf::from("python3")))
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

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// A pyenv root whose versions' `python3` print the version the directory names (or fail: "broken").
    fn fake_pyenv(versions: &[(&str, &str)]) -> PathBuf {
        let root = std::env::temp_dir().join(format!("xtask-pyenv-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for (dir, prints) in versions {
            let bin = root.join("versions").join(dir).join("bin");
            std::fs::create_dir_all(&bin).unwrap();
            let script = bin.join("python3");
            let body = if *prints == "broken" {
                "#!/bin/sh\nexit 1\n".to_owned()
            } else {
                format!("#!/bin/sh\necho {prints}\n")
            };
            std::fs::write(&script, body).unwrap();
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        root
    }

    #[test]
    fn the_newest_pyenv_python_that_runs_and_is_new_enough_wins() {
        let root = fake_pyenv(&[
            ("3.9.18", "3 9"),
            ("3.13.0", "3 13"),
            ("3.14.1", "broken"),
            ("3.12.1", "3 12"),
            ("system", "3 99"),
        ]);
        let found = at_least_with(Some(root.clone()), 13);
        assert_eq!(found, Some(root.join("versions/3.13.0/bin/python3")));
        // Nothing new enough under pyenv: the answer, if any, is from PATH, never an older pyenv version.
        let found = at_least_with(Some(root.clone()), 20);
        assert!(found.is_none_or(|p| !p.starts_with(&root)));
        let _ = std::fs::remove_dir_all(&root);
    }
}
