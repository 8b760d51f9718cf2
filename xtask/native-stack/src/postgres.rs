//! The PostgreSQL server: `DATABASE_URL`'s, the one on 127.0.0.1:5432, or a private cluster under `target/pg`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::proc::{self, Background};

/// A PostgreSQL admin URL (database `postgres`): `DATABASE_URL`'s server, the one on 127.0.0.1:5432, or a private
/// cluster started under `target/pg` (returned so it stops with us).
pub fn server(root: &Path) -> Result<(String, Option<Background>)> {
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
        proc::run(&mut as_postgres_if_root(initdb, root)?)?;
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
    let mut cmd = as_postgres_if_root(cmd, root)?;
    let mut server = Background::spawn("postgres", &mut cmd, &root.join("target/pg/server.log"))?;
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
