//! `orders` and `order_line`: an order, its lines and the prices captured when it was priced.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orders {
    Table,
}

#[derive(DeriveIden)]
enum OrderLine {
    Table,
}

const UP: &str = r#"
CREATE TABLE IF NOT EXISTS orders (
    id               uuid        PRIMARY KEY,
    customer_id      text        NOT NULL,
    status           text        NOT NULL DEFAULT 'pending',
    total_minor      bigint,
    currency         char(3),
    rejection_reason text,
    idempotency_key  text,
    request_hash     text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT orders_status_valid
        CHECK (status IN ('pending', 'confirmed', 'rejected', 'fulfilled', 'cancelled')),
    CONSTRAINT orders_total_non_negative CHECK (total_minor IS NULL OR total_minor >= 0),
    CONSTRAINT orders_rejection_reason_valid
        CHECK (rejection_reason IS NULL OR rejection_reason IN ('out_of_stock', 'unknown_product', 'currency_mismatch')),
    CONSTRAINT orders_customer_idempotency_key UNIQUE (customer_id, idempotency_key)
);
-- "This customer's orders, newest first": ids are UUIDv7, so id order is creation order and doubles as the cursor.
CREATE INDEX IF NOT EXISTS orders_customer_newest ON orders (customer_id, id DESC);
CREATE INDEX IF NOT EXISTS orders_customer_status_newest ON orders (customer_id, status, id DESC);

CREATE TABLE IF NOT EXISTS order_line (
    order_id         uuid    NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line_no          integer NOT NULL,
    product_id       uuid    NOT NULL,
    quantity         integer NOT NULL,
    unit_price_minor bigint,
    CONSTRAINT order_line_pkey PRIMARY KEY (order_id, line_no),
    CONSTRAINT order_line_product_once UNIQUE (order_id, product_id),
    CONSTRAINT order_line_quantity_range CHECK (quantity BETWEEN 1 AND 1000),
    CONSTRAINT order_line_price_positive CHECK (unit_price_minor IS NULL OR unit_price_minor > 0)
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
            .drop_table(Table::drop().table(OrderLine::Table).if_exists().to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Orders::Table).if_exists().to_owned())
            .await
    }
}
