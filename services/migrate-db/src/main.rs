//! migrate-db: schema migrations as a Lambda function (`AWS_LAMBDA_RUNTIME_API` set), or run once from the
//! command line otherwise (`migrate-db [--seed]`, `migrate-db --rotate <secret>`).

use std::process::ExitCode;
use std::sync::Arc;

use migrate_db::cli::Command;
use migrate_db::roles::RolePasswords;
use migrate_db::{cli, lambda};
use order_core::db::Db;
use order_core::{bootstrap, config, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let telemetry = telemetry::init("migrate-db");
    let in_lambda = config::optional("AWS_LAMBDA_RUNTIME_API").is_some();
    // Lambda's arguments are the image's CMD (the handler name), not ours to parse.
    let request = if in_lambda {
        None
    } else {
        match cli::parse_args(std::env::args().skip(1)) {
            Ok(request) => Some(request),
            Err(message) => {
                eprintln!("{message}");
                return ExitCode::from(2);
            }
        }
    };
    let Some((settings, db, roles)) = init(&telemetry).await else {
        return ExitCode::FAILURE;
    };
    let code = match request {
        None => match lambda::serve(db.clone(), roles, settings, telemetry.clone()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                tracing::error!(error = %error, "Lambda runtime stopped");
                ExitCode::FAILURE
            }
        },
        Some(Command::Migrate(request)) => cli::run_once(&db, roles.as_ref(), request).await,
        Some(Command::Rotate(secret)) => {
            cli::rotate_once(&db, roles.as_ref(), &settings, &secret).await
        }
    };
    db.close().await;
    telemetry.shutdown();
    code
}

/// What `main` sets up once: the database settings, the pool and the function roles' secrets.
type Init = (config::DbSettings, Arc<Db>, Option<RolePasswords>);

/// The database settings, pool and role secrets, created once at init; on failure, logs why, shuts telemetry
/// down and returns `None`.
async fn init(telemetry: &telemetry::Telemetry) -> Option<Init> {
    let settings = match config::DbSettings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            tracing::error!(error = %error, "bad database settings");
            telemetry.shutdown();
            return None;
        }
    };
    let db = match bootstrap::connect_db().await {
        Ok(db) => db,
        Err(error) => {
            tracing::error!(
                error = format!("{error:#}"),
                "could not set up the database pool"
            );
            telemetry.shutdown();
            return None;
        }
    };
    let roles = match role_passwords().await {
        Ok(roles) => roles,
        Err(error) => {
            tracing::error!(error = %error, "bad DB_ROLE_SECRET_ARNS");
            telemetry.shutdown();
            return None;
        }
    };
    Some((settings, db, roles))
}

/// The function roles' secrets (`DB_ROLE_SECRET_ARNS`), read once at init.
async fn role_passwords() -> Result<Option<RolePasswords>, config::ConfigError> {
    if config::optional("DB_ROLE_SECRET_ARNS").is_none() {
        return Ok(None);
    }
    let aws = order_core::trust::aws_config().await?;
    RolePasswords::from_env(aws_sdk_secretsmanager::Client::new(&aws))
}
