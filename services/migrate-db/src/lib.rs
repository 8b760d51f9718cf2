//! migrate-db: applies the schema migrations, and on request the demo catalogue, from where the database is
//! reachable: as a Lambda function in the VPC (invoked by `terraform apply`) or as a one-shot command (compose).
//!
//! Both modes read the database settings like every other function (`DB_SECRET_ARN`, `DB_HOST`, `DB_PORT`,
//! `DB_NAME`, or `DATABASE_URL` locally) and run the same [`run`]. migrate-db alone logs in as the master user:
//! it creates the function roles (a migration) and sets their passwords from their secrets ([`roles`]).

pub mod cli;
pub mod lambda;
pub mod roles;
pub mod rotation;
pub mod scram;

use migration::sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use migration::{Migrator, MigratorTrait};
use order_core::db::{AsDbErr, Db};
use serde::{Deserialize, Serialize};

use crate::roles::RolePasswords;

/// What to do: the invocation payload (`{}`, `{"seed": true}`) or the command line (`--seed`). Secrets
/// Manager's rotation events are the other kind of invocation ([`Invocation`]).
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Request {
    /// After the migrations, also load the demo catalogue (`migration::SEED_SQL`; idempotent).
    pub seed: bool,
}

/// The two kinds of invocation: a rotation step from Secrets Manager (`{"Step", "SecretId", ...}`), or a
/// migration run (`{}`, `{"seed": true}`; terraform apply).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Invocation {
    Rotation(rotation::RotationEvent),
    Migrate(Request),
}

/// What a run did: the invocation's response payload.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Report {
    /// Names of the migrations this run applied, in order (empty when the schema was up to date).
    pub applied: Vec<String>,
    /// How many migrations were pending when the run started.
    pub pending_before: usize,
    /// Whether the demo catalogue was loaded.
    pub seeded: bool,
    /// The function roles whose password was set from their secret (empty without `DB_ROLE_SECRET_ARNS`).
    pub passwords_set: Vec<String>,
}

/// Why a run failed. The message names the step and carries the database's error: the caller is an
/// operator (or `terraform apply`), who needs it to fix the schema, not a customer.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// The migration table could not be created or read (database unreachable, credentials refused...).
    #[error("Failed to read the migration status: {0}")]
    Status(DbErr),
    /// A migration failed; it was rolled back, the ones before it stay applied.
    #[error("Failed to apply the migrations: {0}")]
    Apply(DbErr),
    /// The migrations are applied but the demo catalogue could not be loaded.
    #[error("Failed to load the demo catalogue: {0}")]
    Seed(DbErr),
    /// A function role's secret could not be read or does not match its role; no password was changed.
    #[error("Failed to read a function role's secret: {0}")]
    RoleSecret(String),
    /// A function role's password could not be set.
    #[error("Failed to set a function role's password: {0}")]
    Roles(DbErr),
    /// A step of a password rotation failed; Secrets Manager retries it, the login in use is untouched.
    #[error("Failed to rotate a function role's password: {0}")]
    Rotation(String),
}

impl MigrateError {
    /// A stable name for the Lambda `errorType`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Status(_) => "MigrationStatusError",
            Self::Apply(_) => "MigrationError",
            Self::Seed(_) => "SeedError",
            Self::RoleSecret(_) => "RoleSecretError",
            Self::Roles(_) => "RolePasswordError",
            Self::Rotation(_) => "RotationError",
        }
    }
}

impl AsDbErr for MigrateError {
    fn as_db_err(&self) -> Option<&DbErr> {
        match self {
            Self::Status(e) | Self::Apply(e) | Self::Seed(e) | Self::Roles(e) => Some(e),
            Self::RoleSecret(_) | Self::Rotation(_) => None,
        }
    }
}

/// Applies every pending migration, then the seed if asked, then the function roles' passwords (when `roles`
/// is given). Safe to repeat: applied migrations are skipped, the seed inserts only missing rows and a
/// password is set to what its secret holds now (a rotated role secret takes effect on the next run). If the
/// database refuses the cached password (rotated master secret), the secret is fetched again and the run
/// repeated once.
#[tracing::instrument(skip_all, fields(seed = request.seed))]
pub async fn run(
    db: &Db,
    roles: Option<&RolePasswords>,
    request: Request,
) -> Result<Report, MigrateError> {
    db.run(|conn| async move { apply(&conn, roles, request).await })
        .await
}

async fn apply(
    conn: &DatabaseConnection,
    roles: Option<&RolePasswords>,
    request: Request,
) -> Result<Report, MigrateError> {
    let pending: Vec<String> = Migrator::get_pending_migrations(conn)
        .await
        .map_err(MigrateError::Status)?
        .iter()
        .map(|migration| migration.name().to_owned())
        .collect();
    Migrator::up(conn, None)
        .await
        .map_err(MigrateError::Apply)?;
    if request.seed {
        conn.execute_unprepared(migration::SEED_SQL)
            .await
            .map_err(MigrateError::Seed)?;
    }
    let passwords_set = match roles {
        Some(roles) => roles.apply(conn).await?,
        None => Vec::new(),
    };
    let report = Report {
        pending_before: pending.len(),
        applied: pending,
        seeded: request.seed,
        passwords_set,
    };
    tracing::info!(
        applied = ?report.applied,
        pending_before = report.pending_before,
        seeded = report.seeded,
        passwords_set = ?report.passwords_set,
        "database schema is up to date"
    );
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_payload_migrates_without_seeding() {
        let request: Request = serde_json::from_str("{}").unwrap();
        assert_eq!(request, Request { seed: false });
    }

    #[test]
    fn seed_true_asks_for_the_catalogue() {
        let request: Request = serde_json::from_str(r#"{"seed": true}"#).unwrap();
        assert!(request.seed);
    }

    #[test]
    fn a_rotation_event_and_a_migration_payload_are_told_apart() {
        let rotation: Invocation = serde_json::from_str(
            r#"{"Step": "createSecret", "SecretId": "s", "ClientRequestToken": "t"}"#,
        )
        .unwrap();
        assert!(matches!(rotation, Invocation::Rotation(_)));
        let migrate: Invocation = serde_json::from_str(r#"{"seed": true}"#).unwrap();
        assert_eq!(migrate, Invocation::Migrate(Request { seed: true }));
        assert_eq!(
            serde_json::from_str::<Invocation>("{}").unwrap(),
            Invocation::Migrate(Request::default())
        );
        assert!(serde_json::from_str::<Invocation>(r#"{"Step": "createSecret"}"#).is_err());
    }

    #[test]
    fn a_misspelt_field_is_rejected_rather_than_ignored() {
        assert!(serde_json::from_str::<Request>(r#"{"sead": true}"#).is_err());
    }

    #[test]
    fn the_report_has_the_documented_shape() {
        let report = Report {
            applied: vec!["m1".into()],
            pending_before: 1,
            seeded: false,
            passwords_set: vec!["orders_get_orders".into()],
        };
        assert_eq!(
            serde_json::to_value(report).unwrap(),
            serde_json::json!({"applied": ["m1"], "pending_before": 1, "seeded": false,
                "passwords_set": ["orders_get_orders"]})
        );
    }
}
