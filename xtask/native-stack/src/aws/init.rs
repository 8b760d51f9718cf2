//! What Terraform creates around the functions, created in the emulators by the very scripts compose runs:
//! docker/localstack/init-aws.sh (queues, DLQs, redrive, the DB secret; its `awslocal` calls go to
//! xtask/bin/awslocal) and docker/cognito/init.py (user pool, app client, demo user).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::Emulators;
use super::cognito::{self, DEMO_PASSWORD, DEMO_USERNAME};
use crate::database::Server;
use crate::proc;

/// The master secret's name, as in compose.yaml (`DB_SECRET_ARN` takes a name or an ARN).
pub const DB_SECRET_NAME: &str = "orders/db";

/// The secret `function` logs in with (`{username: a login of its role, password}`), as in compose.yaml and the
/// workspace Cargo.toml's `[workspace.metadata.lambda.bin.<function>.env]`, which gives each function run
/// by `cargo lambda watch` its own `DB_SECRET_ARN`.
pub fn role_secret_name(function: &str) -> String {
    format!("{DB_SECRET_NAME}/{function}")
}

/// What the functions and the gateway need to know about the emulated resources.
pub struct Resources {
    pub orders_queue_url: String,
    pub stock_queue_url: String,
    /// What init.py created (a restarted Cognito must create the same).
    pub user_pool: UserPool,
}

/// Runs both init scripts against the emulators.
pub fn bootstrap(
    root: &Path,
    venv: &Path,
    emulators: &Emulators,
    db: &Server,
    dir: &Path,
) -> Result<Resources> {
    let path = format!(
        "{}:{}:{}",
        root.join("xtask/bin").display(),
        venv.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let aws = |cmd: &mut Command| {
        cmd.current_dir(root)
            .env("PATH", &path)
            .envs(emulators.env())
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN");
    };
    // The two scripts talk to different emulators: run them side by side.
    let (queues, user_pool) = std::thread::scope(|s| {
        let pool = s.spawn(|| user_pool(root, venv, &emulators.cognito, dir, None));
        let queues = queues_and_secret(db, &aws);
        (queues, pool.join().expect("the Cognito init thread"))
    });
    let (orders_queue_url, stock_queue_url) = queues?;
    Ok(Resources {
        orders_queue_url,
        stock_queue_url,
        user_pool: user_pool?,
    })
}

/// `name=login` pairs of the function roles' secrets, for docker/localstack/init-aws.sh: each secret starts on
/// the first of its role's two logins (a rotation flips it to the other, `migrate-db --rotate`).
fn role_secrets() -> String {
    order_contract::topology::FUNCTIONS
        .iter()
        .map(|f| {
            let [login, _] = f.db_logins();
            format!("{}={login}", role_secret_name(f.name))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// docker/localstack/init-aws.sh; returns the two queues' URLs.
fn queues_and_secret(db: &Server, aws: &(dyn Fn(&mut Command) + Sync)) -> Result<(String, String)> {
    let mut init_aws = Command::new("sh");
    init_aws
        .arg("docker/localstack/init-aws.sh")
        .env("DB_SECRET_NAME", DB_SECRET_NAME)
        .env("DB_USERNAME", &db.username)
        .env("DB_PASSWORD", &db.password)
        .env("DB_ROLE_SECRETS", role_secrets())
        // Empty on a server that trusts loopback connections (the role name decides the privileges); else
        // the server's password, which `database::set_role_passwords` gives the roles.
        .env("DB_ROLE_PASSWORD", &db.password)
        .env("MAX_RECEIVE_COUNT", "3");
    aws(&mut init_aws);
    output(&mut init_aws)?;

    let queue_url = |name: &str| {
        let mut cmd = Command::new("awslocal");
        cmd.args([
            "sqs",
            "get-queue-url",
            "--queue-name",
            name,
            "--query",
            "QueueUrl",
            "--output",
            "text",
        ]);
        aws(&mut cmd);
        output(&mut cmd).map(|url| url.trim().to_owned())
    };
    Ok((queue_url("orders")?, queue_url("stock")?))
}

/// What docker/cognito/init.py created: the user pool's and the app client's ids, and the demo user's `sub`.
#[derive(Clone, Debug, Default)]
pub struct UserPool {
    pub user_pool_id: String,
    pub client_id: String,
    pub demo_sub: String,
}

/// docker/cognito/init.py against the moto at `endpoint`, failing if what it creates differs from `expected`
/// (a restarted moto must hand out the same ids and the same demo user).
pub fn user_pool(
    root: &Path,
    venv: &Path,
    endpoint: &str,
    dir: &Path,
    expected: Option<&UserPool>,
) -> Result<UserPool> {
    let env_file = dir.join("cognito.env");
    let expected = expected.cloned().unwrap_or_default();
    let mut cognito = Command::new(venv.join("bin/python"));
    cognito
        .current_dir(root)
        .envs(super::env(endpoint))
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env("EXPECTED_USER_POOL_ID", &expected.user_pool_id)
        .env("EXPECTED_CLIENT_ID", &expected.client_id)
        .env("EXPECTED_DEMO_SUB", &expected.demo_sub)
        .arg("docker/cognito/init.py")
        .env("COGNITO_ENDPOINT_URL", endpoint)
        .env("COGNITO_JWKS_URL", cognito::jwks_url(endpoint))
        .env("COGNITO_ENV_FILE", &env_file)
        .env("DEMO_USERNAME", DEMO_USERNAME)
        .env("DEMO_PASSWORD", DEMO_PASSWORD);
    output(&mut cognito)?;
    let ids = read_env_file(&env_file)?;
    let id = |key: &str| {
        ids.get(key)
            .cloned()
            .with_context(|| format!("init.py wrote no {key}"))
    };
    Ok(UserPool {
        user_pool_id: id("COGNITO_USER_POOL_ID")?,
        client_id: id("COGNITO_CLIENT_ID")?,
        demo_sub: id("DEMO_SUB")?,
    })
}

/// moto signs every pool's tokens with one key that ships with it; xtask/moto_signing_key.py writes it to
/// `dir` as PEM so tests can forge correctly signed tokens. Returns the file and the key id, `None` if this
/// moto has no such key.
pub fn moto_signing_key(root: &Path, venv: &Path, dir: &Path) -> Option<(PathBuf, String)> {
    let pem = dir.join("moto-signing-key.pem");
    let out = Command::new(venv.join("bin/python"))
        .arg(root.join("xtask/moto_signing_key.py"))
        .arg(&pem)
        .output()
        .ok()?;
    let kid = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (out.status.success() && !kid.is_empty()).then_some((pem, kid))
}

/// Runs `cmd`, returning its standard output, or failing with its standard error.
fn output(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .output()
        .with_context(|| format!("Failed to start {}", proc::describe(cmd)))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!(
            "{} failed ({}):\n{stdout}{}",
            proc::describe(cmd),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for line in stdout
        .lines()
        .filter(|l| l.starts_with("init-aws:") || l.starts_with("cognito-init:"))
    {
        eprintln!("   {line}");
    }
    Ok(stdout)
}

fn read_env_file(path: &Path) -> Result<HashMap<String, String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("Failed to read {}", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect())
}
