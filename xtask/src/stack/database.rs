//! The stack's database: created (or recreated) on the server, migrated and seeded with the same binaries the
//! compose `migrate` job runs.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{proc, tools};

/// Where the PostgreSQL server is and who connects: what goes into the functions' secret and `DB_*` variables.
pub struct Server {
    pub host: String,
    pub port: String,
    pub username: String,
    pub password: String,
}

impl Server {
    /// Reads `postgres://user[:password]@host[:port]/db`.
    pub fn parse(url: &str) -> Result<Self> {
        let rest = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
            .with_context(|| format!("{url} is not a postgres:// URL"))?;
        let (authority, _) = rest.split_once('/').unwrap_or((rest, ""));
        let (userinfo, hostport) = authority
            .rsplit_once('@')
            .unwrap_or(("postgres", authority));
        let (username, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
        let (host, port) = match hostport.rsplit_once(':') {
            Some((host, port)) => (host, port),
            None => (hostport, "5432"),
        };
        Ok(Self {
            host: host.to_owned(),
            port: port.to_owned(),
            username: percent_decode(username)?,
            password: percent_decode(password)?,
        })
    }
}

/// The URL of database `name` on the admin URL's server.
pub fn url(admin_url: &str, name: &str) -> Result<String> {
    let (server, _) = admin_url
        .rsplit_once('/')
        .context("the admin URL needs a database path")?;
    Ok(format!("{server}/{name}"))
}

/// Creates database `name` (dropping it first if `fresh`), then runs the migrations and the seed; returns its URL.
pub fn prepare(root: &Path, admin_url: &str, name: &str, fresh: bool) -> Result<String> {
    if fresh {
        psql(
            admin_url,
            &format!(r#"DROP DATABASE IF EXISTS "{name}""#),
        )?;
    }
    let exists = Command::new("psql")
        .arg(admin_url)
        .args([
            "-Atc",
            &format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
        ])
        .output()
        .context("psql is required")?;
    if !String::from_utf8_lossy(&exists.stdout).contains('1') {
        psql(admin_url, &format!(r#"CREATE DATABASE "{name}""#))?;
    }
    let database_url = url(admin_url, name)?;
    for bin in [&["--bin", "migration", "--", "up"][..], &["--bin", "seed"]] {
        proc::run(
            tools::cargo(root)
                .args(["run", "--quiet", "-p", "migration"])
                .args(bin)
                .env("DATABASE_URL", &database_url),
        )?;
    }
    Ok(database_url)
}

/// On a server that checks passwords, gives every function role (created by the migrations) the server's
/// password, which is also what their secrets hold (`aws::init`); a trusting server needs none.
pub fn set_role_passwords(admin_url: &str, server: &Server) -> Result<()> {
    if server.password.is_empty() {
        return Ok(());
    }
    let literal = server.password.replace('\'', "''");
    for function in order_contract::topology::FUNCTIONS {
        psql(
            admin_url,
            &format!("ALTER ROLE {} PASSWORD '{literal}'", function.db_role()),
        )?;
    }
    Ok(())
}

/// Drops databases left behind by earlier test runs (`t_<uuid>`). One still in use (another test run on the
/// same server) is left alone: without `FORCE`, PostgreSQL refuses to drop a database with sessions.
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
        let _ = psql(
            admin_url,
            &format!(r#"DROP DATABASE IF EXISTS "{name}""#),
        );
    }
    Ok(())
}

fn psql(admin_url: &str, sql: &str) -> Result<()> {
    let out = Command::new("psql")
        .arg(admin_url)
        .args(["-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .context("psql is required")?;
    if !out.status.success() {
        bail!("{sql}: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

fn percent_decode(raw: &str) -> Result<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = raw.get(i + 1..i + 3).context("a truncated %-escape")?;
            out.push(u8::from_str_radix(hex, 16).context("a malformed %-escape")?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(String::from_utf8(out)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_are_split_into_what_the_secret_and_db_variables_need() {
        let trust = Server::parse("postgres://postgres@127.0.0.1:5432/postgres").unwrap();
        let full = Server::parse("postgresql://app:p%40ss@db.local:6543/orders").unwrap();

        assert_eq!(
            (trust.host.as_str(), trust.port.as_str()),
            ("127.0.0.1", "5432")
        );
        assert_eq!(
            (trust.username.as_str(), trust.password.as_str()),
            ("postgres", "")
        );
        assert_eq!(
            (full.host.as_str(), full.port.as_str()),
            ("db.local", "6543")
        );
        assert_eq!(
            (full.username.as_str(), full.password.as_str()),
            ("app", "p@ss")
        );
        assert_eq!(
            url("postgres://postgres@h:1/postgres", "orders").unwrap(),
            "postgres://postgres@h:1/orders"
        );
    }
}
