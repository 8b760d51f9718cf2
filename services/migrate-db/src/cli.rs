//! The one-shot command: `migrate-db [--seed]` runs once and exits 0 on success, 1 on failure, 2 on a bad
//! argument. Compose runs the function image this way (entrypoint = the bootstrap binary, no emulator).

use std::process::ExitCode;

use order_core::db::Db;

use crate::Request;
use crate::roles::RolePasswords;

/// Usage line printed on a bad argument.
pub const USAGE: &str = "usage: migrate-db [--seed]";

/// Parses the arguments after the program name.
pub fn parse_args<I, S>(args: I) -> Result<Request, String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut request = Request::default();
    for arg in args {
        match arg.as_ref() {
            "--seed" => request.seed = true,
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(request)
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
            Ok(Request { seed: false })
        );
    }

    #[test]
    fn seed_flag_asks_for_the_catalogue() {
        assert_eq!(parse_args(["--seed"]), Ok(Request { seed: true }));
    }

    #[test]
    fn an_unknown_argument_is_refused_with_the_usage() {
        let error = parse_args(["--sed"]).unwrap_err();
        assert!(error.contains("--sed") && error.contains(USAGE));
    }
}
