//! Schema migrations for the order backend, run as their own step (CI, compose job, deploy), never at cold start.

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_create_product_info;
mod m20261126_000002_create_orders;
mod m20261126_000003_create_outbox;
mod m20261202_000004_order_cancellation;
mod m20261202_000005_outbox_backoff;
mod m20261204_000006_function_roles;
mod m20261207_000007_alternating_users;

pub use m20261204_000006_function_roles::{FUNCTION_ROLES, FunctionRole};
pub use m20261207_000007_alternating_users::login_users;

/// The ordered list of migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_product_info::Migration),
            Box::new(m20261126_000002_create_orders::Migration),
            Box::new(m20261126_000003_create_outbox::Migration),
            Box::new(m20261202_000004_order_cancellation::Migration),
            Box::new(m20261202_000005_outbox_backoff::Migration),
            Box::new(m20261204_000006_function_roles::Migration),
            Box::new(m20261207_000007_alternating_users::Migration),
        ]
    }
}

/// The group role holding `function`'s grants, if it has one (`migrate-db` uses the master user).
pub fn role_of(function: &str) -> Option<&'static str> {
    FUNCTION_ROLES
        .iter()
        .find(|r| r.function == function)
        .map(|r| r.role)
}

/// The first of the two logins of `function`'s role (what its secret names before any rotation).
pub fn login_of(function: &str) -> Option<String> {
    role_of(function).map(|role| {
        let [user, _] = login_users(role);
        user
    })
}

/// The demo catalogue loaded by the `seed` binary for local stacks; never part of the migrations.
pub const SEED_SQL: &str = include_str!("../seed/products.sql");
