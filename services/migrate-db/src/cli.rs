//! The one-shot command: `migrate-db [--seed]` runs once and exits 0 on success, 1 on failure, 2 on a bad
//! argument. Compose runs the function image this way (entrypoint = the bootstrap binary, no emulator).
//! `migrate-db --rotate <secret>` runs the four steps of one rotation of a role secret, as Secrets Manager
//! would (the soak's rotation fault, an operator without the console).

use std::process::ExitCode;

use order_core::config::DbSettings;
use order_core::db::Db;

use crate::roles::RolePasswords;
use crate::rotation::Rotator;
use crate::{MigrateError, Request};

/// Usage line printed on a bad argument.
pub const USAGE: &str = "usage: migrate-db [--seed] | migrate-db --rotate <secret id>";

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Migrate(Request),
    /// All four steps of one rotation of this role secret.
    Rotate(String),
}

/// Parses the arguments after the program name.
pub fn parse_args<I, S>(args: I) -> Result<Command, String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut request = Request::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_ref() {
            "--seed" => request.seed = true,
            "--rotate" => {
                return match (args.next(), args.next()) {
                    (Some(secret), None) if !request.seed => {
                        Ok(Command::Rotate(secret.as_ref().to_owned()))
                    }
                    _ => Err(format!("--rotate takes one secret id, alone\n{USAGE}")),
                };
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(Command::Migrate(request))
}

/// Rotates `secret` once (all four steps); exit 0 when its secret names the other login.
pub async fn rotate_once(
    db: &Db,
    roles: Option<&RolePasswords>,
    settings: &DbSettings,
    secret: &str,
) -> ExitCode {
    let result = match roles {
        Some(roles) => {
            let rotator = Rotator {
                roles,
                master: db,
                settings,
            };
            rotator.rotate(secret).await
        }
        None => Err(MigrateError::Rotation(
            "DB_ROLE_SECRET_ARNS lists no secret to rotate".to_owned(),
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = %error, error.type = error.kind(), "rotation failed");
            ExitCode::FAILURE
        }
    }
}

/// Runs once; the report and any failure are logged (JSON lines on stdout).
pub async fn run_once(db: &Db, roles: Option<&RolePasswords>, request: Request) -> ExitCode {
    match crate::run(db, roles, request).await {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = %error, error.type = error.kind(), "migration run failed");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_arguments_migrate_without_seeding() {
        assert_eq!(
            parse_args(Vec::<String>::new()),
            Ok(Command::Migrate(Request { seed: false }))
        );
    }

    #[test]
    fn seed_flag_asks_for_the_catalogue() {
        assert_eq!(
            parse_args(["--seed"]),
            Ok(Command::Migrate(Request { seed: true }))
        );
    }

    #[test]
    fn rotate_takes_exactly_one_secret() {
        assert_eq!(
            parse_args(["--rotate", "orders/db/get-orders"]),
            Ok(Command::Rotate("orders/db/get-orders".to_owned()))
        );
        assert!(parse_args(["--rotate"]).is_err());
        assert!(parse_args(["--rotate", "a", "b"]).is_err());
        assert!(parse_args(["--seed", "--rotate", "a"]).is_err());
    }

    #[test]
    fn an_unknown_argument_is_refused_with_the_usage() {
        let error = parse_args(["--sed"]).unwrap_err();
        assert!(error.contains("--sed") && error.contains(USAGE));
    }
}
