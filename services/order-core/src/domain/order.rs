//! Orders: identifiers, quantities, lifecycle, and the validation of a new order request.

use std::collections::HashSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::lifecycle::{CancellationReason, OrderStatus, RejectionReason};
use super::money::Money;

/// Lines an order may have.
pub const MAX_LINES: usize = 50;
/// Units of one product an order line may ask for.
pub const MAX_QUANTITY: u32 = 1000;
/// Longest accepted `Idempotency-Key`.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// A customer: the Cognito `sub` of the caller, never taken from a request body.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CustomerId(String);

impl CustomerId {
    /// Any non-empty `sub` of sane length.
    pub fn parse(sub: &str) -> Option<Self> {
        let sub = sub.trim();
        (!sub.is_empty() && sub.len() <= 128).then(|| Self(sub.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An order id: a UUIDv7, so ids sort by creation time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderId(pub Uuid);

impl OrderId {
    /// A fresh, time-ordered id.
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    /// Parses the textual UUID form.
    pub fn parse(raw: &str) -> Option<Self> {
        Uuid::try_parse(raw).ok().map(Self)
    }
}

impl Default for OrderId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A product id as the catalogue knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProductId(pub Uuid);

impl fmt::Display for ProductId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A quantity in 1..=1000.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Quantity(u32);

impl Quantity {
    pub fn parse(n: i64) -> Result<Self, ValidationError> {
        match u32::try_from(n) {
            Ok(q) if (1..=MAX_QUANTITY).contains(&q) => Ok(Self(q)),
            _ => Err(ValidationError::QuantityOutOfRange { quantity: n }),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// An order as stored: what the read use cases return.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    pub id: OrderId,
    pub status: OrderStatus,
    pub lines: Vec<OrderLine>,
    /// Set once priced (`confirmed` and after).
    pub total: Option<Money>,
    pub rejection_reason: Option<RejectionReason>,
    pub cancellation_reason: Option<CancellationReason>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One line of a stored order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderLine {
    pub product_id: ProductId,
    pub quantity: u32,
    /// Captured when the order is priced; `None` while pending.
    pub unit_price: Option<Money>,
}

/// A client's `Idempotency-Key`: 1..=255 visible ASCII characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let ok = !raw.is_empty()
            && raw.len() <= MAX_IDEMPOTENCY_KEY_LEN
            && raw.bytes().all(|b| b.is_ascii_graphic());
        ok.then(|| Self(raw.to_owned()))
            .ok_or(ValidationError::InvalidIdempotencyKey)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A rule a new order broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    #[error("an order needs between 1 and {MAX_LINES} items, got {count}")]
    ItemCount { count: usize },
    #[error("quantity must be between 1 and {MAX_QUANTITY}, got {quantity}")]
    QuantityOutOfRange { quantity: i64 },
    #[error("product {0} appears more than once; combine the quantities into one item")]
    DuplicateProduct(ProductId),
    #[error("Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} visible ASCII characters")]
    InvalidIdempotencyKey,
}

/// One validated line of a new order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewOrderLine {
    pub product_id: ProductId,
    pub quantity: Quantity,
}

/// A validated order request: 1..=50 lines, each product once, quantities in range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOrder {
    lines: Vec<NewOrderLine>,
}

impl NewOrder {
    /// Validates raw `(product, quantity)` pairs in the client's order.
    pub fn parse(items: impl IntoIterator<Item = (Uuid, i64)>) -> Result<Self, ValidationError> {
        let items: Vec<_> = items.into_iter().collect();
        if items.is_empty() || items.len() > MAX_LINES {
            return Err(ValidationError::ItemCount { count: items.len() });
        }
        let mut seen = HashSet::with_capacity(items.len());
        let mut lines = Vec::with_capacity(items.len());
        for (product, quantity) in items {
            let product_id = ProductId(product);
            if !seen.insert(product_id) {
                return Err(ValidationError::DuplicateProduct(product_id));
            }
            lines.push(NewOrderLine {
                product_id,
                quantity: Quantity::parse(quantity)?,
            });
        }
        Ok(Self { lines })
    }

    pub fn lines(&self) -> &[NewOrderLine] {
        &self.lines
    }

    /// Fingerprint of the request, independent of line order, to tell an idempotent replay from a key reused
    /// for a different order.
    pub fn fingerprint(&self) -> String {
        let mut lines = self.lines.clone();
        lines.sort_by_key(|l| l.product_id);
        let mut hasher = Sha256::new();
        for line in &lines {
            hasher.update(line.product_id.0.as_bytes());
            hasher.update(line.quantity.get().to_be_bytes());
        }
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn a_valid_order_keeps_the_clients_line_order() {
        let order = NewOrder::parse([(id(2), 1), (id(1), 1000)]).unwrap();
        let products: Vec<_> = order.lines().iter().map(|l| l.product_id.0).collect();
        assert_eq!(products, vec![id(2), id(1)]);
    }

    #[test]
    fn an_order_needs_one_to_fifty_lines() {
        assert_eq!(
            NewOrder::parse([]),
            Err(ValidationError::ItemCount { count: 0 })
        );
        let fifty_one = (0..51).map(|n| (id(n), 1));
        assert_eq!(
            NewOrder::parse(fifty_one),
            Err(ValidationError::ItemCount { count: 51 })
        );
        assert!(NewOrder::parse((0..50).map(|n| (id(n), 1))).is_ok());
    }

    #[test]
    fn quantities_must_be_between_one_and_a_thousand() {
        for bad in [0, -1, 1001, i64::MAX, i64::MIN] {
            assert_eq!(
                Quantity::parse(bad),
                Err(ValidationError::QuantityOutOfRange { quantity: bad })
            );
        }
        assert_eq!(Quantity::parse(1).unwrap().get(), 1);
        assert_eq!(Quantity::parse(1000).unwrap().get(), 1000);
    }

    #[test]
    fn a_product_may_appear_only_once() {
        let err = NewOrder::parse([(id(1), 1), (id(2), 1), (id(1), 3)]).unwrap_err();
        assert_eq!(err, ValidationError::DuplicateProduct(ProductId(id(1))));
    }

    #[test]
    fn the_fingerprint_ignores_line_order_but_not_quantities() {
        let a = NewOrder::parse([(id(1), 1), (id(2), 2)]).unwrap();
        let b = NewOrder::parse([(id(2), 2), (id(1), 1)]).unwrap();
        let c = NewOrder::parse([(id(1), 2), (id(2), 2)]).unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.fingerprint(), c.fingerprint());
    }

    #[test]
    fn idempotency_keys_are_visible_ascii_of_bounded_length() {
        assert!(IdempotencyKey::parse("order-2026-11-26-abc").is_ok());
        for bad in ["", "has space", "tab\t", "ünï", &"k".repeat(256)] {
            assert!(
                IdempotencyKey::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn customer_ids_must_be_non_empty() {
        assert!(CustomerId::parse("").is_none());
        assert!(CustomerId::parse("   ").is_none());
        assert_eq!(CustomerId::parse("abc").unwrap().as_str(), "abc");
    }
}
