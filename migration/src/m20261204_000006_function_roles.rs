//! Least privilege: one role per function, holding only the grants its store code needs. (Since
//! `m20261207_000007_alternating_users` it is a NOLOGIN group role; its two login users are members.)
//!
//! Roles are cluster-wide while grants belong to one database, and tests migrate many databases of one
//! cluster at once: a role is created only if missing (a concurrent creator's `duplicate_object` or
//! `unique_violation` is taken as "it exists"), the grants are made in this database, and `down` revokes them
//! here and drops a role only when no other database still grants it anything.
//!
//! No role owns anything and none may create in schema `public` (nor temporary tables), so none can CREATE,
//! ALTER or DROP a table.
//! Passwords are not set here: locally PostgreSQL trusts loopback connections; in AWS migrate-db sets each
//! role's password from its Secrets Manager secret after migrating (`DB_ROLE_SECRET_ARNS`).
//!
//! Tables added by later migrations are granted to nobody until that migration says so (no default
//! privileges): a new table is a deliberate grant per role.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A function's role and its grants (statements on tables of schema `public`).
pub struct FunctionRole {
    /// The function (`order_contract::topology::FUNCTIONS` name).
    pub function: &'static str,
    /// The PostgreSQL role it logs in as.
    pub role: &'static str,
    /// Privileges on tables, as `GRANT <this> TO <role>` clauses.
    pub grants: &'static [&'static str],
}

/// What the stock moves need: lock the products (`FOR UPDATE` needs UPDATE on some column), read them back
/// (`RETURNING *`) and move the two counters.
const STOCK_MOVER: [&str; 2] = [
    "SELECT ON product_info",
    "UPDATE (stock_reserved, updated_at) ON product_info",
];

/// Every function role, with exactly the grants its code paths use (`services/order-core/src/store`).
pub const FUNCTION_ROLES: [FunctionRole; 6] = [
    FunctionRole {
        function: "get-orders",
        role: "orders_get_orders",
        // store::orders::get, list
        grants: &["SELECT ON orders", "SELECT ON order_line"],
    },
    FunctionRole {
        function: "create-order",
        role: "orders_create_order",
        // store::orders::create (replay by idempotency key, unknown products, insert ... RETURNING, read
        // back), then store::outbox::publish of its own row (claim FOR UPDATE, mark published).
        grants: &[
            "SELECT, INSERT ON orders",
            "SELECT, INSERT ON order_line",
            "SELECT (id) ON product_info",
            "SELECT, INSERT ON outbox",
            "UPDATE (attempts, published_at) ON outbox",
        ],
    },
    FunctionRole {
        function: "cancel-order",
        role: "orders_cancel_order",
        // store::fulfilment::cancel: lock the order, read its lines, release the reservation.
        grants: &[
            "SELECT ON orders",
            "UPDATE (status, cancellation_reason, updated_at) ON orders",
            "SELECT ON order_line",
            STOCK_MOVER[0],
            STOCK_MOVER[1],
        ],
    },
    FunctionRole {
        function: "process-order",
        role: "orders_process_order",
        // store::fulfilment::reserve (price, reserve, capture prices, confirm or reject, enqueue), then
        // store::outbox::publish of its own row.
        grants: &[
            "SELECT ON orders",
            "UPDATE (status, rejection_reason, total_minor, currency, updated_at) ON orders",
            "SELECT ON order_line",
            "UPDATE (unit_price_minor) ON order_line",
            STOCK_MOVER[0],
            STOCK_MOVER[1],
            "SELECT, INSERT ON outbox",
            "UPDATE (attempts, published_at) ON outbox",
        ],
    },
    FunctionRole {
        function: "update-stock",
        role: "orders_update_stock",
        // store::fulfilment::commit: on hand and reserved both go down, the order is fulfilled.
        grants: &[
            "SELECT ON orders",
            "UPDATE (status, updated_at) ON orders",
            "SELECT ON order_line",
            "SELECT ON product_info",
            "UPDATE (stock_on_hand, stock_reserved, updated_at) ON product_info",
        ],
    },
    FunctionRole {
        function: "outbox-relay",
        role: "orders_outbox_relay",
        // store::outbox::publish (due rows, back-off), store::maintenance (expiry candidates, gauges),
        // store::fulfilment::cancel for the expiry.
        grants: &[
            "SELECT ON outbox",
            "UPDATE (attempts, published_at, next_attempt_at) ON outbox",
            "SELECT ON orders",
            "UPDATE (status, cancellation_reason, updated_at) ON orders",
            "SELECT ON order_line",
            STOCK_MOVER[0],
            STOCK_MOVER[1],
        ],
    },
];

/// The tables any role may have been granted something on (what `down` revokes).
const TABLES: [&str; 4] = ["orders", "order_line", "product_info", "outbox"];

/// Creates `role` unless it exists; safe against a concurrent creator in another database.
fn create_role(role: &str) -> String {
    format!(
        r#"DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '{role}') THEN
        CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL; -- created meanwhile by a migration of another database
END
$$;"#
    )
}

/// `GRANT`/`REVOKE` on this database, whose name is only known at run time.
fn on_this_database(statement: &str) -> String {
    format!(
        "DO $$ BEGIN EXECUTE format('{statement}', current_database()); END $$;",
        statement = statement.replace('\'', "''")
    )
}

fn up_sql() -> String {
    // PostgreSQL 15 no longer lets PUBLIC create in `public`; older servers (and databases upgraded from them)
    // still do, so say it.
    let mut sql = vec![
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC;".to_owned(),
        // Nor temporary tables, which every role may create by default: no function uses one.
        on_this_database("REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC"),
    ];
    for r in &FUNCTION_ROLES {
        let role = r.role;
        sql.push(create_role(role));
        sql.push(on_this_database(&format!(
            "GRANT CONNECT ON DATABASE %I TO {role}"
        )));
        sql.push(format!("GRANT USAGE ON SCHEMA public TO {role};"));
        sql.push(format!("REVOKE CREATE ON SCHEMA public FROM {role};"));
        for grant in r.grants {
            sql.push(format!("GRANT {grant} TO {role};"));
        }
    }
    sql.join("\n")
}

/// Revokes what `up` granted in this database, then drops each role unless another database still grants it
/// something (`dependent_objects_still_exist`): that database's `down` drops it.
fn down_sql() -> String {
    // PostgreSQL's default again; `CREATE` on `public` stays revoked (also PostgreSQL 15's default).
    let mut sql = vec![on_this_database("GRANT TEMPORARY ON DATABASE %I TO PUBLIC")];
    for r in &FUNCTION_ROLES {
        let role = r.role;
        let tables = TABLES.join(", ");
        sql.push(format!(
            r#"DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '{role}') THEN
        REVOKE ALL ON {tables} FROM {role};
        REVOKE USAGE ON SCHEMA public FROM {role};
        EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM {role}', current_database());
        BEGIN
            DROP ROLE {role};
        EXCEPTION WHEN dependent_objects_still_exist THEN
            NULL; -- still granted something in another database
        END;
    END IF;
END
$$;"#
        ));
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

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&down_sql())
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_is_named_after_its_function_as_terraform_derives_it() {
        // infra/main.tf `locals.db_roles`: "orders_" + the function name with "_" for "-".
        for r in &FUNCTION_ROLES {
            assert_eq!(r.role, format!("orders_{}", r.function.replace('-', "_")));
        }
    }

    #[test]
    fn every_role_is_a_plain_identifier_and_grants_only_on_known_tables() {
        for r in &FUNCTION_ROLES {
            assert!(
                r.role.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{} needs no quoting",
                r.role
            );
            for grant in r.grants {
                let table = grant.rsplit(" ON ").next().unwrap();
                assert!(TABLES.contains(&table), "{grant}: unknown table");
                assert!(!grant.contains("ALL"), "{grant}: name the privileges");
            }
        }
    }
}
