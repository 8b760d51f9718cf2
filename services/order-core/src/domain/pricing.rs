//! Pricing an order at current catalogue prices, and whether the free stock covers it.

use super::lifecycle::RejectionReason;
use super::money::{Currency, Money, MoneyError};

/// One order line with what the catalogue says about its product right now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineQuote {
    pub quantity: u32,
    /// `None` when the product is not in the catalogue.
    pub product: Option<ProductQuote>,
}

/// A product's price and free stock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductQuote {
    pub price_minor: i64,
    pub currency: String,
    /// `stock_on_hand - stock_reserved`.
    pub available: i64,
}

/// Why an order cannot be priced and reserved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    #[error("a product is not in the catalogue")]
    UnknownProduct,
    #[error("the lines are priced in more than one currency")]
    CurrencyMismatch,
    #[error("a catalogue price is not a valid amount")]
    InvalidPrice,
    #[error("the total overflows")]
    Overflow,
    #[error("the free stock does not cover every line")]
    OutOfStock,
}

impl PricingError {
    /// The reason recorded on the rejected order.
    pub fn rejection(self) -> RejectionReason {
        match self {
            Self::UnknownProduct => RejectionReason::UnknownProduct,
            Self::CurrencyMismatch | Self::InvalidPrice => RejectionReason::CurrencyMismatch,
            Self::Overflow => RejectionReason::TotalTooLarge,
            Self::OutOfStock => RejectionReason::OutOfStock,
        }
    }
}

/// The order's total, if every product exists, shares one currency, and has enough free stock for its line.
/// An order is reserved whole or not at all.
pub fn price(lines: &[LineQuote]) -> Result<Money, PricingError> {
    let mut total: Option<Money> = None;
    let mut short = false;
    for line in lines {
        let product = line.product.as_ref().ok_or(PricingError::UnknownProduct)?;
        let currency =
            Currency::parse(&product.currency).map_err(|_| PricingError::InvalidPrice)?;
        let amount = Money::new(product.price_minor, currency)
            .map_err(|_| PricingError::InvalidPrice)?
            .times(line.quantity)
            .map_err(money_error)?;
        total = Some(match total {
            None => amount,
            Some(sum) => sum.plus(amount).map_err(money_error)?,
        });
        short |= product.available < i64::from(line.quantity);
    }
    if short {
        return Err(PricingError::OutOfStock);
    }
    total.ok_or(PricingError::UnknownProduct)
}

fn money_error(e: MoneyError) -> PricingError {
    match e {
        MoneyError::CurrencyMismatch(..) => PricingError::CurrencyMismatch,
        MoneyError::Overflow => PricingError::Overflow,
        MoneyError::InvalidCurrency(_) | MoneyError::Negative => PricingError::InvalidPrice,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(quantity: u32, price_minor: i64, currency: &str, available: i64) -> LineQuote {
        LineQuote {
            quantity,
            product: Some(ProductQuote {
                price_minor,
                currency: currency.to_owned(),
                available,
            }),
        }
    }

    #[test]
    fn the_total_is_the_exact_sum_of_price_times_quantity() {
        let total = price(&[line(3, 1999, "EUR", 10), line(1, 1, "EUR", 1)]).unwrap();
        assert_eq!(total.amount_minor, 5998);
        assert_eq!(total.currency.as_str(), "EUR");
    }

    #[test]
    fn any_line_short_of_stock_rejects_the_whole_order() {
        let err = price(&[line(1, 100, "EUR", 5), line(6, 100, "EUR", 5)]).unwrap_err();
        assert_eq!(err, PricingError::OutOfStock);
        assert_eq!(err.rejection(), RejectionReason::OutOfStock);
    }

    #[test]
    fn unknown_products_and_empty_orders_are_rejected() {
        let unknown = LineQuote {
            quantity: 1,
            product: None,
        };
        assert_eq!(
            price(&[line(1, 1, "EUR", 1), unknown]),
            Err(PricingError::UnknownProduct)
        );
        assert_eq!(price(&[]), Err(PricingError::UnknownProduct));
    }

    #[test]
    fn mixed_currencies_are_rejected() {
        let err = price(&[line(1, 1, "EUR", 1), line(1, 1, "USD", 1)]).unwrap_err();
        assert_eq!(err, PricingError::CurrencyMismatch);
    }

    #[test]
    fn overflow_is_its_own_error_not_a_currency_mismatch() {
        let err = price(&[line(2, i64::MAX / 2 + 1, "EUR", 5)]).unwrap_err();
        assert_eq!(err, PricingError::Overflow);
        assert_eq!(err.rejection(), RejectionReason::TotalTooLarge);
        let err = price(&[line(1, i64::MAX, "EUR", 5), line(1, 1, "EUR", 5)]).unwrap_err();
        assert_eq!(err, PricingError::Overflow);
    }

    #[test]
    fn a_corrupt_catalogue_price_is_refused() {
        assert_eq!(
            price(&[line(1, -5, "EUR", 1)]),
            Err(PricingError::InvalidPrice)
        );
        assert_eq!(
            price(&[line(1, 5, "euro", 1)]),
            Err(PricingError::InvalidPrice)
        );
    }
}
