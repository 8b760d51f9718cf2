//! Rotation of a function role's password with Secrets Manager's alternating-users scheme: migrate-db is the
//! secrets' rotation function (it alone holds the master secret and reaches the database).
//!
//! Each role of `migration::FUNCTION_ROLES` is a NOLOGIN group with two logins, `<role>_user` and
//! `<role>_clone`; the secret names one of them. A rotation sets a fresh password on the *other* login and
//! then makes the secret name it, in Secrets Manager's four steps:
//!
//! - `createSecret`: a new version labelled `AWSPENDING` with the other login and a random password;
//! - `setSecret`: the master user sets that login's password (as a SCRAM verifier);
//! - `testSecret`: the pending login logs in and holds the role's grants;
//! - `finishSecret`: `AWSCURRENT` moves to the new version (the old one becomes `AWSPREVIOUS`).
//!
//! The login a function is using is never touched: its sessions and its cached credentials keep working
//! until the *next* rotation changes its password, and then a function's next login is refused before any
//! transaction began, so `Db::run` re-fetches the secret and runs the operation again. Every step is safe to
//! repeat (Secrets Manager retries a failed step).

use aws_sdk_secretsmanager::Client;
use migration::sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};
use order_core::config::{DbSettings, DbSource};
use order_core::db::{Credentials, Db};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::MigrateError;
use crate::roles::{RolePasswords, alter_password, check_login};

/// The staging label of the version in use.
pub const CURRENT: &str = "AWSCURRENT";
/// The staging label of the version being rotated in.
pub const PENDING: &str = "AWSPENDING";

/// The event Secrets Manager invokes a rotation function with.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RotationEvent {
    pub step: Step,
    /// The secret's ARN.
    pub secret_id: String,
    /// The version id of the new secret version (the same in all four steps of one rotation).
    pub client_request_token: String,
    /// Passed on to `PutSecretValue` (Secrets Manager checks it for rotations by an assumed role).
    #[serde(default)]
    pub rotation_token: Option<String>,
}

/// One of the four steps.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum Step {
    CreateSecret,
    SetSecret,
    TestSecret,
    FinishSecret,
}

impl Step {
    /// All four, in the order Secrets Manager runs them.
    pub const ALL: [Step; 4] = [
        Step::CreateSecret,
        Step::SetSecret,
        Step::TestSecret,
        Step::FinishSecret,
    ];
}

/// What rotation needs: the role secrets it may rotate (`DB_ROLE_SECRET_ARNS`), the master pool and where the
/// database is (for the pending login's test).
pub struct Rotator<'a> {
    pub roles: &'a RolePasswords,
    pub master: &'a Db,
    pub settings: &'a DbSettings,
}

/// The secret as `DescribeSecret` tells it: which version holds which labels.
struct Described {
    role: String,
    versions: Vec<(String, Vec<String>)>,
}

impl Described {
    fn stages_of(&self, version: &str) -> Option<&[String]> {
        self.versions
            .iter()
            .find(|(id, _)| id == version)
            .map(|(_, stages)| stages.as_slice())
    }

    fn current_version(&self) -> Option<&str> {
        self.versions
            .iter()
            .find(|(_, stages)| stages.iter().any(|s| s == CURRENT))
            .map(|(id, _)| id.as_str())
    }
}

fn failed(what: &str, e: impl std::fmt::Display) -> MigrateError {
    MigrateError::Rotation(format!("{what}: {e}"))
}

impl Rotator<'_> {
    /// Runs one step of `event`. A secret that is not a function role's secret is refused before anything.
    #[tracing::instrument(skip_all, fields(step = ?event.step))]
    pub async fn step(&self, event: &RotationEvent) -> Result<(), MigrateError> {
        let described = self.describe(&event.secret_id).await?;
        let token = &event.client_request_token;
        // Secrets Manager attaches AWSPENDING to the token's version before the first step; a version already
        // current means this rotation is done (a retried step).
        if let Some(stages) = described.stages_of(token) {
            if stages.iter().any(|s| s == CURRENT) {
                tracing::info!("the version is already current: nothing to do");
                return Ok(());
            }
            if !stages.iter().any(|s| s == PENDING) {
                return Err(failed(
                    "the version is not pending rotation",
                    &event.secret_id,
                ));
            }
        }
        let role = described.role.as_str();
        match event.step {
            Step::CreateSecret => self.create(event, role).await,
            Step::SetSecret => self.set(event, role).await,
            Step::TestSecret => self.test(event, role).await,
            Step::FinishSecret => self.finish(event, &described).await,
        }
    }

    /// Runs all four steps as Secrets Manager does for one rotation (`migrate-db --rotate`, tests, the soak).
    pub async fn rotate(&self, secret_id: &str) -> Result<(), MigrateError> {
        let event = |step| RotationEvent {
            step,
            secret_id: secret_id.to_owned(),
            client_request_token: uuid::Uuid::new_v4().to_string(),
            rotation_token: None,
        };
        let first = event(Step::CreateSecret);
        for step in Step::ALL {
            self.step(&RotationEvent {
                step,
                ..first.clone()
            })
            .await?;
        }
        Ok(())
    }

    async fn describe(&self, secret_id: &str) -> Result<Described, MigrateError> {
        let out = self
            .client()
            .describe_secret()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(|e| failed("DescribeSecret", e.into_service_error()))?;
        let (arn, name) = (
            out.arn().unwrap_or_default(),
            out.name().unwrap_or_default(),
        );
        let role = self
            .roles
            .role_of_secret(arn, name)
            .ok_or_else(|| failed("not a function role's secret", secret_id))?
            .to_owned();
        let versions = out
            .version_ids_to_stages()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        Ok(Described { role, versions })
    }

    fn client(&self) -> &Client {
        self.roles.client()
    }

    /// The credentials of version `version` (or of the current one) with label `stage`; `None` if no such
    /// version exists yet.
    async fn read(
        &self,
        secret_id: &str,
        version: Option<&str>,
        stage: &str,
    ) -> Result<Option<Credentials>, MigrateError> {
        let out = self
            .client()
            .get_secret_value()
            .secret_id(secret_id)
            .set_version_id(version.map(str::to_owned))
            .version_stage(stage)
            .send()
            .await;
        let out = match out {
            Ok(out) => out,
            Err(e) => {
                let e = e.into_service_error();
                if e.is_resource_not_found_exception() {
                    return Ok(None);
                }
                return Err(failed("GetSecretValue", e));
            }
        };
        let raw = out.secret_string().unwrap_or_default();
        serde_json::from_str(raw)
            .map(Some)
            .map_err(|e| failed("the secret is not {username, password}", e))
    }

    async fn current(
        &self,
        event: &RotationEvent,
        role: &str,
    ) -> Result<Credentials, MigrateError> {
        let current = self
            .read(&event.secret_id, None, CURRENT)
            .await?
            .ok_or_else(|| failed("no current version", &event.secret_id))?;
        check_login(role, &current.username)?;
        Ok(current)
    }

    async fn pending(
        &self,
        event: &RotationEvent,
        role: &str,
    ) -> Result<Credentials, MigrateError> {
        let pending = self
            .read(&event.secret_id, Some(&event.client_request_token), PENDING)
            .await?
            .ok_or_else(|| failed("no pending version for this token", &event.secret_id))?;
        check_login(role, &pending.username)?;
        Ok(pending)
    }

    /// `createSecret`: the other login with a random password, as the pending version (once per token).
    async fn create(&self, event: &RotationEvent, role: &str) -> Result<(), MigrateError> {
        let current = self.current(event, role).await?;
        if self
            .read(&event.secret_id, Some(&event.client_request_token), PENDING)
            .await?
            .is_some()
        {
            tracing::info!("the pending version exists already");
            return Ok(());
        }
        let next = other_login(role, &current.username)?;
        // Letters and digits: safe in a URL, in JSON and for SASLprep.
        let password = self
            .client()
            .get_random_password()
            .password_length(32)
            .exclude_punctuation(true)
            .include_space(false)
            .send()
            .await
            .map_err(|e| failed("GetRandomPassword", e.into_service_error()))?
            .random_password
            .ok_or_else(|| failed("GetRandomPassword", "no password"))?;
        let value = serde_json::json!({"username": next, "password": password});
        self.client()
            .put_secret_value()
            .secret_id(&event.secret_id)
            .client_request_token(&event.client_request_token)
            .secret_string(value.to_string())
            .version_stages(PENDING)
            .set_rotation_token(event.rotation_token.clone())
            .send()
            .await
            .map_err(|e| failed("PutSecretValue", e.into_service_error()))?;
        tracing::info!(login = %next, "created the pending version");
        Ok(())
    }

    /// `setSecret`: the master user sets the pending login's password; never the login in use.
    async fn set(&self, event: &RotationEvent, role: &str) -> Result<(), MigrateError> {
        let current = self.current(event, role).await?;
        let pending = self.pending(event, role).await?;
        if pending.username == current.username {
            return Err(failed(
                "the pending version names the login in use",
                &pending.username,
            ));
        }
        let statement = alter_password(&pending.username, pending.password.expose_secret())?;
        self.master
            .run(|conn| {
                let statement = statement.clone();
                async move { conn.execute_unprepared(&statement).await.map(|_| ()) }
            })
            .await
            .map_err(|e: DbErr| failed("setting the pending login's password", e))?;
        tracing::info!(login = %pending.username, "set the pending login's password");
        Ok(())
    }

    /// `testSecret`: the pending login logs in and holds the role's grants.
    async fn test(&self, event: &RotationEvent, role: &str) -> Result<(), MigrateError> {
        let pending = self.pending(event, role).await?;
        let mut settings = self.settings.clone();
        settings.max_connections = 1;
        let db = Db::with_login(settings, None, login_url(self.settings, &pending)?)
            .await
            .map_err(|e| failed("the pending login's pool", format!("{e:#}")))?;
        let member = member_of(&db.conn().await, role).await;
        db.close().await;
        match member {
            Ok(true) => Ok(()),
            Ok(false) => Err(failed("the pending login is not a member of", role)),
            Err(e) => Err(failed("the pending login could not log in", e)),
        }
    }

    /// `finishSecret`: `AWSCURRENT` moves to the new version.
    async fn finish(
        &self,
        event: &RotationEvent,
        described: &Described,
    ) -> Result<(), MigrateError> {
        let token = &event.client_request_token;
        let current = described.current_version().map(str::to_owned);
        if current.as_deref() == Some(token.as_str()) {
            return Ok(());
        }
        self.client()
            .update_secret_version_stage()
            .secret_id(&event.secret_id)
            .version_stage(CURRENT)
            .move_to_version_id(token)
            .set_remove_from_version_id(current)
            .send()
            .await
            .map_err(|e| failed("UpdateSecretVersionStage", e.into_service_error()))?;
        tracing::info!("the new version is current");
        Ok(())
    }
}

/// The login of `role` that `login` is not: the alternation.
pub fn other_login(role: &str, login: &str) -> Result<String, MigrateError> {
    check_login(role, login)?;
    let [user, clone] = migration::login_users(role);
    Ok(if login == user { clone } else { user })
}

async fn member_of(conn: &DatabaseConnection, role: &str) -> Result<bool, DbErr> {
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            format!("SELECT pg_has_role(current_user, '{role}', 'USAGE') AS member"),
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("no row".to_owned()))?;
    row.try_get("", "member")
}

/// The database URL of the master settings with `credentials` as the user.
fn login_url(
    settings: &DbSettings,
    credentials: &Credentials,
) -> Result<SecretString, MigrateError> {
    let enc = order_core::db::urlencode;
    let (user, password) = (
        enc(&credentials.username),
        enc(credentials.password.expose_secret()),
    );
    match &settings.source {
        DbSource::Secret {
            host, port, name, ..
        } => Ok(SecretString::from(format!(
            "postgres://{user}:{password}@{host}:{port}/{name}"
        ))),
        DbSource::Url(url) => {
            let url = url.expose_secret();
            let (scheme, rest) = url
                .split_once("://")
                .ok_or_else(|| failed("DATABASE_URL", "no scheme"))?;
            let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
            Ok(SecretString::from(format!(
                "{scheme}://{user}:{password}@{host}"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_secrets_manager_sends_parses() {
        let event: RotationEvent = serde_json::from_str(
            r#"{"Step": "setSecret", "SecretId": "arn:aws:secretsmanager:r:1:secret:x",
                "ClientRequestToken": "t-1", "RotationToken": "rt"}"#,
        )
        .unwrap();
        assert_eq!(event.step, Step::SetSecret);
        assert_eq!(event.rotation_token.as_deref(), Some("rt"));
    }

    #[test]
    fn the_logins_alternate_and_nobody_else_takes_part() {
        let role = "orders_get_orders";
        assert_eq!(
            other_login(role, "orders_get_orders_user").unwrap(),
            "orders_get_orders_clone"
        );
        assert_eq!(
            other_login(role, "orders_get_orders_clone").unwrap(),
            "orders_get_orders_user"
        );
        assert!(other_login(role, "postgres").is_err());
        assert!(other_login(role, role).is_err());
    }
}
