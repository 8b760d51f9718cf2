//! SeaORM entities for the order backend: the catalogue, orders with their lines, and the outbox.

pub mod order_line;
pub mod orders;
pub mod outbox;
pub mod product_info;

pub use order_line::Entity as OrderLine;
pub use orders::Entity as Orders;
pub use outbox::Entity as Outbox;
pub use product_info::Entity as ProductInfo;
