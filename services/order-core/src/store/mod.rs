//! PostgreSQL through SeaORM: orders, stock reservations and the outbox.

pub mod fulfilment;
pub mod orders;
pub mod outbox;

pub use fulfilment::{CommitOutcome, LowStock, ReserveOutcome};
pub use orders::{CreateOutcome, OrderLineView, OrderPage, OrderView};
