//! The services the tests and the local stack need: Python venvs, PostgreSQL, the AWS emulator.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::proc::{self, Background};

/// The workspace root (the parent of `xtask/`).
pub fn repo_root() -> Result<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    Ok(manifest
        .parent()
        .context("xtask lives in the workspace")?
        .to_path_buf())
}

/// Creates (or updates) a venv from a requirements file; a stamp file skips pip when nothing changed.
pub fn venv(root: &Path, dir: &str, requirements: &str) -> Result<PathBuf> {
    let venv = root.join(dir);
    let reqs = std::fs::read_to_string(root.join(requirements))?;
    let stamp = venv.join(".requirements.stamp");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(reqs.as_str()) {
        return Ok(venv);
    }
    eprintln!("== setting up {dir} from {requirements} (first run only)");
    let python = ["python3.11", "python3"]
        .into_iter()
        .find(|p| proc::succeeds(Command::new(p).arg("--version")))
        .context("python3 is required")?;
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

/// A PostgreSQL admin URL (database `postgres`): `DATABASE_URL`'s server, the one on 127.0.0.1:5432, or a private
/// cluster started under `target/pg` (returned so it stops with us).
pub fn postgres(root: &Path) -> Result<(String, Option<Background>)> {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        let (server, _) = url
            .rsplit_once('/')
            .context("DATABASE_URL needs a database path")?;
        return Ok((format!("{server}/postgres"), None));
    }
    let local = "postgres://postgres@127.0.0.1:5432/postgres".to_owned();
    if pg_ready("127.0.0.1", 5432) {
        return Ok((local, None));
    }
    // The machine's service may just be stopped: try its own start command first.
    if proc::succeeds(
        Command::new("sh")
            .arg("-c")
            .arg("pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"),
    ) && pg_ready("127.0.0.1", 5432)
    {
        return Ok((local, None));
    }
    eprintln!("== no PostgreSQL on 127.0.0.1:5432: starting a private cluster under target/pg");
    private_cluster(root)
}

fn pg_ready(host: &str, port: u16) -> bool {
    proc::succeeds(Command::new("pg_isready").args([
        "-h",
        host,
        "-p",
        &port.to_string(),
        "-t",
        "3",
    ]))
}

fn pg_bin(name: &str) -> PathBuf {
    // Debian keeps initdb/postgres outside PATH.
    if let Ok(dirs) = std::fs::read_dir("/usr/lib/postgresql") {
        for dir in dirs.flatten() {
            let candidate = dir.path().join("bin").join(name);
            if candidate.exists() {
                return candidate;
            }
        }
    }
    PathBuf::from(name)
}

fn private_cluster(root: &Path) -> Result<(String, Option<Background>)> {
    let data = root.join("target/pg/data");
    if !data.join("PG_VERSION").exists() {
        std::fs::create_dir_all(&data)?;
        let mut initdb = Command::new(pg_bin("initdb"));
        initdb
            .args(["-U", "postgres", "--auth=trust", "-D"])
            .arg(&data);
        run_as_postgres_if_root(&mut initdb, root)?;
    }
    let port = proc::free_port()?;
    let mut cmd = Command::new(pg_bin("postgres"));
    cmd.arg("-D").arg(&data).args([
        "-p",
        &port.to_string(),
        "-c",
        "listen_addresses=127.0.0.1",
        "-k",
        "/tmp",
    ]);
    let cmd = as_postgres_if_root(cmd, root)?;
    let mut server =
        Background::spawn("postgres", &mut { cmd }, &root.join("target/pg/server.log"))?;
    proc::wait_for_port(port, Duration::from_secs(30), Some(&mut server))?;
    for _ in 0..50 {
        if pg_ready("127.0.0.1", port) {
            return Ok((
                format!("postgres://postgres@127.0.0.1:{port}/postgres"),
                Some(server),
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("the private PostgreSQL cluster did not become ready")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"))
}

/// PostgreSQL refuses to run as root: run it as the `postgres` user then.
fn as_postgres_if_root(cmd: Command, root: &Path) -> Result<Command> {
    if !is_root() {
        return Ok(cmd);
    }
    proc::run(
        Command::new("chown")
            .args(["-R", "postgres"])
            .arg(root.join("target/pg")),
    )?;
    let mut wrapped = Command::new("runuser");
    wrapped
        .args(["-u", "postgres", "--"])
        .arg(cmd.get_program())
        .args(cmd.get_args());
    Ok(wrapped)
}

fn run_as_postgres_if_root(cmd: &mut Command, root: &Path) -> Result<()> {
    let owned = std::mem::replace(cmd, Command::new("true"));
    proc::run(&mut as_postgres_if_root(owned, root)?)
}

/// moto_server on a free loopback port, serving SQS, Secrets Manager and Cognito.
pub fn moto(root: &Path, venv: &Path) -> Result<(String, Background)> {
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

/// Environment every AWS SDK client in tests and the local stack gets: the emulator, fake credentials, a
/// region. Nothing can reach real AWS.
pub fn aws_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_DEFAULT_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ]
}

/// Drops databases left behind by earlier test runs (`t_<uuid>`).
pub fn drop_test_databases(admin_url: &str) -> Result<()> {
    let out = Command::new("psql")
        .arg(admin_url)
        .args([
            "-At",
            "-c",
            "SELECT datname FROM pg_database WHERE datname ~ '^t_[0-9a-f]{32}$'",
        ])
        .output()
        .context("psql is required")?;
    for name in String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
    {
        let _ = Command::new("psql")
            .arg(admin_url)
            .args([
                "-q",
                "-c",
                &format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#),
            ])
            .status();
    }
    Ok(())
}
