//! Domain types and rules: no AWS, Lambda or database types in here.

pub mod lifecycle;
pub mod money;
pub mod order;
pub mod pricing;
pub mod stock;

pub use lifecycle::{
    CancellationReason, ForbiddenMove, OrderStatus, RejectionReason, Transition, UnknownStatus,
};
pub use money::{Currency, Money, MoneyError};
pub use order::{
    CustomerId, IdempotencyKey, NewOrder, NewOrderLine, Order, OrderId, OrderLine, ProductId,
    Quantity, ValidationError,
};
pub use pricing::{LineQuote, PricingError, ProductQuote};
pub use stock::{LowStock, ProductStock};
