//! Password rotation without a login-failure window (Secrets Manager's alternating-users scheme): each
//! function role of [`FUNCTION_ROLES`] becomes a NOLOGIN group role that keeps its grants, and two LOGIN users
//! are members of it: `<role>_user` and `<role>_clone`. A function's secret names one of them; a rotation
//! sets a new password on the other one, then makes the secret name it, so the login in use never changes
//! under a running function (migrate-db `rotation`).
//!
//! The grants stay on the group role (`FUNCTION_ROLES` is still their single source); the users hold nothing
//! of their own and inherit everything, CONNECT on the database included. Like the roles, the users are
//! cluster-wide: created only if missing, safe against a concurrent migration of another database.

use sea_orm_migration::prelude::*;

use crate::{FUNCTION_ROLES, FunctionRole};

#[derive(DeriveMigrationName)]
pub struct Migration;

impl FunctionRole {
    /// The two logins of this role, members of it: the secret names one at a time.
    pub fn login_users(&self) -> [String; 2] {
        login_users(self.role)
    }
}

/// `<role>_user` and `<role>_clone`, the logins of group role `role`.
pub fn login_users(role: &str) -> [String; 2] {
    [format!("{role}_user"), format!("{role}_clone")]
}

/// Creates login `user` as a member of `role` unless it exists (a concurrent creator's `duplicate_object` or
/// `unique_violation` is taken as "it exists"), then makes sure of the membership.
fn create_user(role: &str, user: &str) -> String {
    format!(
        r#"DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '{user}') THEN
        CREATE ROLE {user} LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
            IN ROLE {role};
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL; -- created meanwhile by a migration of another database
END
$$;
DO $$
BEGIN
    IF NOT pg_has_role('{user}', '{role}', 'MEMBER') THEN
        GRANT {role} TO {user};
    END IF;
EXCEPTION WHEN OTHERS THEN
    IF NOT pg_has_role('{user}', '{role}', 'MEMBER') THEN
        RAISE;
    END IF; -- granted meanwhile by a migration of another database
END
$$;"#
    )
}

/// `ALTER ROLE <role> NOLOGIN PASSWORD NULL` while the role can still log in (the group's own password, set by
/// migrate-db before this migration, is of no use any more). Shared catalogue rows: only the first migration
/// of the cluster changes it, and a concurrent one updating the same row ("tuple concurrently updated") is
/// fine if the role ends up NOLOGIN.
fn no_login(role: &str) -> String {
    format!(
        r#"DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '{role}' AND rolcanlogin) THEN
        ALTER ROLE {role} NOLOGIN PASSWORD NULL;
    END IF;
EXCEPTION WHEN OTHERS THEN
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '{role}' AND rolcanlogin) THEN
        RAISE;
    END IF;
END
$$;"#
    )
}

fn up_sql() -> String {
    let mut sql = Vec::new();
    for r in &FUNCTION_ROLES {
        for user in r.login_users() {
            sql.push(create_user(r.role, &user));
        }
        sql.push(no_login(r.role));
    }
    sql.join("\n")
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&up_sql())
            .await?;
        Ok(())
    }

    /// Changes nothing. The group roles and their logins are cluster-wide and serve every database of the
    /// server: one database's `down` cannot take a login away (or give the group its own back) while another
    /// database's functions use it. The logins hold no grant and own nothing, so leaving them is harmless;
    /// `m20261204_000006_function_roles`'s `down` revokes this database's grants and drops a group that no
    /// database grants anything any more.
    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_has_two_distinct_plain_logins_within_postgresqls_name_limit() {
        for r in &FUNCTION_ROLES {
            let [user, clone] = r.login_users();
            assert_ne!(user, clone);
            for login in [user, clone] {
                assert!(login.starts_with(r.role));
                assert!(login.len() <= 63, "{login}: NAMEDATALEN");
                assert!(login.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
            }
        }
    }
}
