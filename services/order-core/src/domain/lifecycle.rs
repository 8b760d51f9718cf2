//! An order's lifecycle: its statuses, the moves between them, and why an order ended where it did.
//!
//! ```text
//! pending ──reserve──▶ confirmed ──commit──▶ fulfilled
//!    │  └──reject──▶ rejected       │
//!    └──────cancel / expire─────────┴──▶ cancelled
//! ```
//! Every move goes forward: a terminal status (`rejected`, `fulfilled`, `cancelled`) never changes again.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where an order is in its lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Accepted, waiting to be priced and reserved (queue 1).
    Pending,
    /// Priced, stock reserved, waiting for the stock to be committed (queue 2).
    Confirmed,
    /// Could not be confirmed (see [`RejectionReason`]). Terminal.
    Rejected,
    /// Stock committed. Terminal.
    Fulfilled,
    /// Cancelled by the customer or expired (see [`CancellationReason`]); any reservation released. Terminal.
    Cancelled,
}

impl OrderStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [OrderStatus; 5] = [
        Self::Pending,
        Self::Confirmed,
        Self::Rejected,
        Self::Fulfilled,
        Self::Cancelled,
    ];

    /// The wire and database form (`pending`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Confirmed => "confirmed",
            Self::Rejected => "rejected",
            Self::Fulfilled => "fulfilled",
            Self::Cancelled => "cancelled",
        }
    }

    /// Still moving through the pipeline: the statuses an order can be cancelled or expired from.
    pub const fn is_open(self) -> bool {
        matches!(self, Self::Pending | Self::Confirmed)
    }

    /// Whether `self → next` is a move the lifecycle allows (the diagram above).
    pub const fn can_become(self, next: OrderStatus) -> bool {
        matches!(
            (self, next),
            (
                Self::Pending,
                Self::Confirmed | Self::Rejected | Self::Cancelled
            ) | (Self::Confirmed, Self::Fulfilled | Self::Cancelled)
        )
    }

    /// Stock this status holds reserved: only a confirmed order has a reservation.
    pub const fn holds_reservation(self) -> bool {
        matches!(self, Self::Confirmed)
    }

    /// The move `self → next`, if the lifecycle allows it. The only way to make a [`Transition`], and the store
    /// writes a status only from one: every status change passes this check.
    pub fn transition_to(self, next: OrderStatus) -> Result<Transition, ForbiddenMove> {
        if self.can_become(next) {
            Ok(Transition {
                from: self,
                to: next,
            })
        } else {
            Err(ForbiddenMove {
                from: self,
                to: next,
            })
        }
    }
}

/// A status move [`OrderStatus::can_become`] allowed. Its fields are private: outside this module one exists
/// only through [`OrderStatus::transition_to`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Transition {
    from: OrderStatus,
    to: OrderStatus,
}

impl Transition {
    /// The status the order must have now.
    pub const fn from(self) -> OrderStatus {
        self.from
    }

    /// The status it gets.
    pub const fn to(self) -> OrderStatus {
        self.to
    }
}

/// A status move the lifecycle does not allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("an order cannot move from {from} to {to}")]
pub struct ForbiddenMove {
    pub from: OrderStatus,
    pub to: OrderStatus,
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not an order status; use one of pending, confirmed, rejected, fulfilled, cancelled"
)]
pub struct UnknownStatus(pub String);

impl FromStr for OrderStatus {
    type Err = UnknownStatus;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| UnknownStatus(raw.to_owned()))
    }
}

/// Why process-order refused an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectionReason {
    OutOfStock,
    UnknownProduct,
    CurrencyMismatch,
    /// The total does not fit the amount type (a price or quantity out of any sane range).
    TotalTooLarge,
}

impl RejectionReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OutOfStock => "out_of_stock",
            Self::UnknownProduct => "unknown_product",
            Self::CurrencyMismatch => "currency_mismatch",
            Self::TotalTooLarge => "total_too_large",
        }
    }
}

/// Why an order was cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancellationReason {
    /// The customer asked (`POST /orders/{id}/cancel`).
    Customer,
    /// Still pending or confirmed after `ORDER_EXPIRY_MINUTES` (the relay's expiry sweep).
    Expired,
}

impl CancellationReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Expired => "expired",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_text() {
        for status in OrderStatus::ALL {
            assert_eq!(status.as_str().parse::<OrderStatus>(), Ok(status));
            assert_eq!(status.to_string(), status.as_str());
        }
        assert!("Pending".parse::<OrderStatus>().is_err());
        assert!("".parse::<OrderStatus>().is_err());
    }

    #[test]
    fn terminal_statuses_never_move_and_nothing_moves_backwards() {
        for from in OrderStatus::ALL {
            for to in OrderStatus::ALL {
                let rank = |s: OrderStatus| OrderStatus::ALL.iter().position(|x| *x == s);
                if from.can_become(to) {
                    assert!(from.is_open(), "{from} → {to}");
                    assert!(rank(to) > rank(from), "{from} → {to} goes backwards");
                }
            }
        }
        assert!(OrderStatus::Pending.can_become(OrderStatus::Cancelled));
        assert!(OrderStatus::Confirmed.can_become(OrderStatus::Cancelled));
        assert!(!OrderStatus::Fulfilled.can_become(OrderStatus::Cancelled));
        assert!(!OrderStatus::Pending.can_become(OrderStatus::Fulfilled));
    }

    #[test]
    fn a_transition_exists_exactly_for_the_moves_can_become_allows() {
        for from in OrderStatus::ALL {
            for to in OrderStatus::ALL {
                match from.transition_to(to) {
                    Ok(t) => {
                        assert!(from.can_become(to), "{from} → {to}");
                        assert_eq!((t.from(), t.to()), (from, to));
                    }
                    Err(e) => {
                        assert!(!from.can_become(to), "{from} → {to}");
                        assert_eq!(e, ForbiddenMove { from, to });
                    }
                }
            }
        }
    }

    #[test]
    fn only_a_confirmed_order_holds_stock() {
        let holding: Vec<_> = OrderStatus::ALL
            .into_iter()
            .filter(|s| s.holds_reservation())
            .collect();
        assert_eq!(holding, [OrderStatus::Confirmed]);
    }
}
