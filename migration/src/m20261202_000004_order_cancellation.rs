//! Cancellation and expiry: why an order was cancelled, the `total_too_large` rejection, and the index the
//! relay's expiry and stall sweeps read.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
ALTER TABLE orders ADD COLUMN IF NOT EXISTS cancellation_reason text;
ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_cancellation_reason_valid;
ALTER TABLE orders ADD CONSTRAINT orders_cancellation_reason_valid CHECK (
    (status = 'cancelled') = (cancellation_reason IS NOT NULL)
    AND (cancellation_reason IS NULL OR cancellation_reason IN ('customer', 'expired'))
);
ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_rejection_reason_valid;
ALTER TABLE orders ADD CONSTRAINT orders_rejection_reason_valid CHECK (
    rejection_reason IS NULL
    OR rejection_reason IN ('out_of_stock', 'unknown_product', 'currency_mismatch', 'total_too_large')
);
-- The open orders, oldest first: the expiry sweep and the stalled-orders gauge scan only these.
CREATE INDEX IF NOT EXISTS orders_open_oldest ON orders (created_at)
    WHERE status IN ('pending', 'confirmed');
"#;

const DOWN: &str = r#"
DROP INDEX IF EXISTS orders_open_oldest;
ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_cancellation_reason_valid;
ALTER TABLE orders DROP COLUMN IF EXISTS cancellation_reason;
ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_rejection_reason_valid;
ALTER TABLE orders ADD CONSTRAINT orders_rejection_reason_valid CHECK (
    rejection_reason IS NULL OR rejection_reason IN ('out_of_stock', 'unknown_product', 'currency_mismatch')
);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(UP).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(DOWN).await?;
        Ok(())
    }
}
