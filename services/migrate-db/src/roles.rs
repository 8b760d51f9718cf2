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

    /// The role whose secret is `secret` (the ARN or name listed, or the ARN or name Secrets Manager gives
    /// for it): only these secrets may be rotated.
    pub fn role_of_secret(&self, arn: &str, name: &str) -> Option<&str> {
        self.secrets
            .iter()
            .find(|(_, listed)| *listed == arn || *listed == name)
            .map(|(role, _)| role.as_str())
    }

    /// The Secrets Manager client these secrets are read with.
    pub fn client(&self) -> &aws_sdk_secretsmanager::Client {
        &self.client
    }

    /// Sets the password of the login each listed role's secret names (one of the role's two logins) from
    /// that secret; returns the roles, in name order. A secret naming anyone else, or a role the migrations
    /// do not create, fails the run before any change. After a rotation this sets what the rotation set.
    ///
    /// A secret that still names the role itself (written before the roles became groups) is moved to the
    /// role's first login, with the same password, once that login has it.
    pub async fn apply(&self, conn: &DatabaseConnection) -> Result<Vec<String>, MigrateError> {
        let mut statements = Vec::with_capacity(self.secrets.len());
        let mut adopt = Vec::new();
        for (role, secret_id) in &self.secrets {
            let credentials = read_credentials(&self.client, secret_id)
                .await
                .map_err(|e| MigrateError::RoleSecret(format!("{role}: {e:#}")))?;
            let login = if credentials.username == *role {
                let [first, _] = migration::login_users(role);
                adopt.push((secret_id, first.clone(), credentials.password.clone()));
                first
            } else {
                check_login(role, &credentials.username)?;
                credentials.username
            };
            statements.push(alter_password(
                &login,
                credentials.password.expose_secret(),
            )?);
        }
        for statement in &statements {
            conn.execute_unprepared(statement)
                .await
                .map_err(MigrateError::Roles)?;
        }
        for (secret_id, login, password) in adopt {
            self.name_login(secret_id, &login, &password).await?;
        }
        Ok(self.secrets.keys().cloned().collect())
    }

    /// A new current version of `secret_id` naming `login` with the same password.
    async fn name_login(
        &self,
        secret_id: &str,
        login: &str,
        password: &secrecy::SecretString,
    ) -> Result<(), MigrateError> {
        let value = serde_json::json!({"username": login, "password": password.expose_secret()});
        self.client
            .put_secret_value()
            .secret_id(secret_id)
            .secret_string(value.to_string())
            .send()
            .await
            .map_err(|e| {
                MigrateError::RoleSecret(format!("{login}: {}", e.into_service_error()))
            })?;
        tracing::info!(login, "the role secret names the role's first login now");
        Ok(())
    }
}

fn parse(raw: &str) -> Result<BTreeMap<String, String>, String> {
    serde_json::from_str(raw).map_err(|e| format!("not a JSON object of role to secret ARN: {e}"))
}

/// Fails unless `login` is one of the two logins of `role`, a role of [`migration::FUNCTION_ROLES`].
pub fn check_login(role: &str, login: &str) -> Result<(), MigrateError> {
    let Some(r) = migration::FUNCTION_ROLES.iter().find(|r| r.role == role) else {
        return Err(MigrateError::RoleSecret(format!(
            "{role} is not a function role of the migrations"
        )));
    };
    if !r.login_users().iter().any(|l| l == login) {
        return Err(MigrateError::RoleSecret(format!(
            "{role}: its secret names the user {login:?}, not one of its logins"
        )));
    }
    Ok(())
}

/// `ALTER ROLE <login> PASSWORD '<SCRAM verifier>'` for a login of a role of [`migration::FUNCTION_ROLES`]
/// (plain identifiers, never quoted): PostgreSQL stores a verifier it is given as is, so the password itself
/// never reaches the server or its DDL log.
pub fn alter_password(login: &str, password: &str) -> Result<String, MigrateError> {
    check(login, password)?;
    Ok(format!(
        "ALTER ROLE {login} WITH LOGIN PASSWORD '{}'",
        crate::scram::new_verifier(password)
    ))
}

fn check(login: &str, password: &str) -> Result<(), MigrateError> {
    if !migration::FUNCTION_ROLES
        .iter()
        .any(|r| r.login_users().iter().any(|l| l == login))
    {
        return Err(MigrateError::RoleSecret(format!(
            "{login} is not a login of a function role of the migrations"
        )));
    }
    // SASLprep leaves printable ASCII as it is; anything else PostgreSQL might normalise differently.
    if password.is_empty() || !password.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
        return Err(MigrateError::RoleSecret(format!(
            "{login}: the password must be non-empty printable ASCII"
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
        let statement = alter_password("orders_get_orders_user", "it's-a-secret").unwrap();
        assert!(
            statement.starts_with(
                "ALTER ROLE orders_get_orders_user WITH LOGIN PASSWORD 'SCRAM-SHA-256$4096:"
            ),
            "{statement}"
        );
        assert!(!statement.contains("secret"));
    }

    #[test]
    fn only_the_logins_of_the_migrations_roles_get_a_password() {
        assert!(alter_password("postgres", "x").is_err());
        assert!(
            alter_password("orders_get_orders", "x").is_err(),
            "the group role"
        );
        assert!(alter_password("orders_get_orders_user; DROP TABLE orders", "x").is_err());
        assert!(alter_password("orders_get_orders_user", "").is_err());
        assert!(alter_password("orders_get_orders_clone", "tab\there").is_err());
        assert!(alter_password("orders_get_orders_clone", "x").is_ok());
    }

    #[test]
    fn a_secret_may_name_either_login_of_its_role_and_nobody_else() {
        assert!(check_login("orders_get_orders", "orders_get_orders_user").is_ok());
        assert!(check_login("orders_get_orders", "orders_get_orders_clone").is_ok());
        assert!(check_login("orders_get_orders", "orders_get_orders").is_err());
        assert!(check_login("orders_get_orders", "orders_update_stock_user").is_err());
        assert!(check_login("postgres", "postgres").is_err());
    }
}
