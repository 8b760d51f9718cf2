//! `product_info`: the catalogue with prices and the two stock counters that reservations move.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ProductInfo {
    Table,
}

// Plain SQL keeps the CHECK constraints readable and named: the store maps violations by constraint name.
const UP: &str = r#"
CREATE TABLE IF NOT EXISTS product_info (
    id                  uuid        PRIMARY KEY,
    sku                 text        NOT NULL,
    name                text        NOT NULL,
    price_minor         bigint      NOT NULL,
    currency            char(3)     NOT NULL,
    stock_on_hand       integer     NOT NULL DEFAULT 0,
    stock_reserved      integer     NOT NULL DEFAULT 0,
    low_stock_threshold integer     NOT NULL DEFAULT 5,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT product_info_sku_key UNIQUE (sku),
    CONSTRAINT product_info_price_positive CHECK (price_minor > 0),
    CONSTRAINT product_info_currency_format CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT product_info_on_hand_non_negative CHECK (stock_on_hand >= 0),
    CONSTRAINT product_info_reserved_non_negative CHECK (stock_reserved >= 0),
    CONSTRAINT product_info_reserved_within_on_hand CHECK (stock_reserved <= stock_on_hand),
    CONSTRAINT product_info_threshold_non_negative CHECK (low_stock_threshold >= 0)
);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(UP).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(ProductInfo::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
