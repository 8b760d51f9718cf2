//! `outbox`: messages written in the same transaction as the state change they announce.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Outbox {
    Table,
}

const UP: &str = r#"
CREATE TABLE IF NOT EXISTS outbox (
    id            uuid        PRIMARY KEY,
    destination   text        NOT NULL,
    payload       jsonb       NOT NULL,
    trace_context jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz,
    attempts      integer     NOT NULL DEFAULT 0,
    CONSTRAINT outbox_destination_valid CHECK (destination IN ('orders', 'stock'))
);
-- The relay only ever scans what is still unpublished, oldest first.
CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (created_at) WHERE published_at IS NULL;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(UP).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Outbox::Table).if_exists().to_owned())
            .await
    }
}
