//! The one way every test suite gets a database of its own: a fresh `t_<32 hex>` database on the test
//! server, empty or migrated and seeded. `cargo xtask test` drops the ones left behind.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

/// The server's admin URL: `TEST_DATABASE_ADMIN_URL`, else the local server on 127.0.0.1:5432.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_ADMIN_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A database created for one test.
pub struct FreshDatabase {
    /// `t_<32 hex>`.
    pub name: String,
    /// Its URL on the admin URL's server.
    pub url: String,
}

impl FreshDatabase {
    /// A new empty database.
    pub async fn empty() -> Self {
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(admin_url())
            .await
            .expect("PostgreSQL must be reachable");
        admin
            .execute_unprepared(&format!(r#"CREATE DATABASE "{name}""#))
            .await
            .expect("create the test database");
        let _ = admin.close().await;
        let (base, _) = admin_url()
            .rsplit_once('/')
            .map(|(base, db)| (base.to_owned(), db.to_owned()))
            .expect("the admin URL has a database path");
        let url = format!("{base}/{name}");
        Self { name, url }
    }

    /// A new database with every migration applied and the demo catalogue loaded, and a connection to it.
    pub async fn migrated_and_seeded() -> (Self, DatabaseConnection) {
        let db = Self::empty().await;
        let conn = Database::connect(&db.url)
            .await
            .expect("connect to the test database");
        Migrator::up(&conn, None).await.expect("migrations run");
        conn.execute_unprepared(migration::SEED_SQL)
            .await
            .expect("seed");
        (db, conn)
    }
}
