//! The function roles' passwords: after migrating, migrate-db (the only holder of the master secret) sets each
//! function role's password from that function's own Secrets Manager secret.
//!
//! `DB_ROLE_SECRET_ARNS` maps role → secret ARN (JSON object); Terraform generates the passwords and writes
//! the secrets. Unset (tests, the native stack on a trusting local server) means there is nothing to set.

use std::collections::BTreeMap;

use migration::sea_orm::{ConnectionTrait, DatabaseConnection};
use order_core::config::{ConfigError, optional};
use order_core::db::read_credentials;
use secrecy::ExposeSecret;

use crate::MigrateError;

/// Where each function role's secret is (read once at init).
#[derive(Clone)]
pub struct RolePasswords {
    client: aws_sdk_secretsmanager::Client,
    secrets: BTreeMap<String, String>,
}

impl RolePasswords {
    /// Reads `DB_ROLE_SECRET_ARNS`; `None` when it is unset or `{}`.
    pub fn from_env(client: aws_sdk_secretsmanager::Client) -> Result<Option<Self>, ConfigError> {
        let Some(raw) = optional("DB_ROLE_SECRET_ARNS") else {
            return Ok(None);
        };
        let secrets = parse(&raw).map_err(|reason| ConfigError::Invalid {
            name: "DB_ROLE_SECRET_ARNS".to_owned(),
            reason,
        })?;
        Ok((!secrets.is_empty()).then_some(Self { client, secrets }))
    }

    /// Role → secret id pairs as given (tests).
    pub fn new(client: aws_sdk_secretsmanager::Client, secrets: BTreeMap<String, String>) -> Self {
        Self { client, secrets }
    }

    /// Sets every listed role's password from its secret; returns the roles, in name order. A secret whose
    /// `username` is not its role, or a role the migrations do not create, fails the run before any change.
    pub async fn apply(&self, conn: &DatabaseConnection) -> Result<Vec<String>, MigrateError> {
        let mut statements = Vec::with_capacity(self.secrets.len());
        for (role, secret_id) in &self.secrets {
            let credentials = read_credentials(&self.client, secret_id)
                .await
                .map_err(|e| MigrateError::RoleSecret(format!("{role}: {e:#}")))?;
            if credentials.username != *role {
                return Err(MigrateError::RoleSecret(format!(
                    "{role}: its secret names the user {:?}",
                    credentials.username
                )));
            }
            statements.push(alter_password(role, credentials.password.expose_secret())?);
        }
        for statement in &statements {
            conn.execute_unprepared(statement)
                .await
                .map_err(MigrateError::Roles)?;
        }
        Ok(self.secrets.keys().cloned().collect())
    }
}

fn parse(raw: &str) -> Result<BTreeMap<String, String>, String> {
    serde_json::from_str(raw).map_err(|e| format!("not a JSON object of role to secret ARN: {e}"))
}

/// `ALTER ROLE <role> PASSWORD '<SCRAM verifier>'` for a role of [`migration::FUNCTION_ROLES`] (plain
/// identifiers, never quoted): PostgreSQL stores a verifier it is given as is, so the password itself never
/// reaches the server or its DDL log.
fn alter_password(role: &str, password: &str) -> Result<String, MigrateError> {
    check(role, password)?;
    Ok(format!(
        "ALTER ROLE {role} WITH LOGIN PASSWORD '{}'",
        crate::scram::new_verifier(password)
    ))
}

fn check(role: &str, password: &str) -> Result<(), MigrateError> {
    if !migration::FUNCTION_ROLES.iter().any(|r| r.role == role) {
        return Err(MigrateError::RoleSecret(format!(
            "{role} is not a function role of the migrations"
        )));
    }
    // SASLprep leaves printable ASCII as it is; anything else PostgreSQL might normalise differently.
    if password.is_empty() || !password.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
        return Err(MigrateError::RoleSecret(format!(
            "{role}: the password must be non-empty printable ASCII"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variable_is_a_map_of_role_to_secret() {
        let parsed =
            parse(r#"{"orders_get_orders": "arn:aws:secretsmanager:r:1:secret:x"}"#).unwrap();
        assert_eq!(
            parsed.get("orders_get_orders").map(String::as_str),
            Some("arn:aws:secretsmanager:r:1:secret:x")
        );
        assert!(parse(r#"["orders_get_orders"]"#).is_err());
    }

    #[test]
    fn the_statement_carries_a_verifier_never_the_password() {
        let statement = alter_password("orders_get_orders", "it's-a-secret").unwrap();
        assert!(
            statement.starts_with(
                "ALTER ROLE orders_get_orders WITH LOGIN PASSWORD 'SCRAM-SHA-256$4096:"
            ),
            "{statement}"
        );
        assert!(!statement.contains("secret"));
    }

    #[test]
    fn only_the_migrations_roles_get_a_password() {
        assert!(alter_password("postgres", "x").is_err());
        assert!(alter_password("orders_get_orders; DROP TABLE orders", "x").is_err());
        assert!(alter_password("orders_get_orders", "").is_err());
        assert!(alter_password("orders_get_orders", "tab\there").is_err());
    }
}
