//! Domain types and rules: no AWS, Lambda or database types in here.

pub mod money;
pub mod order;

pub use money::{Currency, Money, MoneyError};
pub use order::{
    CustomerId, IdempotencyKey, NewOrder, NewOrderLine, OrderId, OrderStatus, ProductId, Quantity,
    RejectionReason, ValidationError,
};
