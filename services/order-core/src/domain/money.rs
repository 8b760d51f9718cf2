//! Money in integer minor units with an ISO 4217 currency: no floating point anywhere near a price.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An ISO 4217 alphabetic code (`EUR`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    /// Parses three upper-case ASCII letters.
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        match code.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|x| x.is_ascii_uppercase()) => Ok(Self([*a, *b, *c])),
            _ => Err(MoneyError::InvalidCurrency(code.to_owned())),
        }
    }

    /// The code as a string slice.
    pub fn as_str(&self) -> &str {
        // Only ASCII upper-case letters get in through `parse`.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> Self {
        value.as_str().to_owned()
    }
}

/// What can go wrong with money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("`{0}` is not an ISO 4217 currency code")]
    InvalidCurrency(String),
    #[error("cannot add {0} to {1}")]
    CurrencyMismatch(Currency, Currency),
    #[error("amount overflows")]
    Overflow,
    #[error("amount must not be negative")]
    Negative,
}

/// A non-negative amount in minor units (cents) of one currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub amount_minor: i64,
    pub currency: Currency,
}

impl Money {
    /// A non-negative amount.
    pub fn new(amount_minor: i64, currency: Currency) -> Result<Self, MoneyError> {
        if amount_minor < 0 {
            return Err(MoneyError::Negative);
        }
        Ok(Self {
            amount_minor,
            currency,
        })
    }

    /// Zero in `currency`.
    pub fn zero(currency: Currency) -> Self {
        Self {
            amount_minor: 0,
            currency,
        }
    }

    /// `self × quantity`, refusing overflow.
    pub fn times(self, quantity: u32) -> Result<Self, MoneyError> {
        let amount_minor = self
            .amount_minor
            .checked_mul(i64::from(quantity))
            .ok_or(MoneyError::Overflow)?;
        Ok(Self {
            amount_minor,
            ..self
        })
    }

    /// `self + other`, refusing overflow and mixed currencies.
    pub fn plus(self, other: Self) -> Result<Self, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch(other.currency, self.currency));
        }
        let amount_minor = self
            .amount_minor
            .checked_add(other.amount_minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Self {
            amount_minor,
            ..self
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    #[test]
    fn currency_accepts_three_upper_case_letters_only() {
        assert!(Currency::parse("EUR").is_ok());
        for bad in ["eur", "EU", "EURO", "E1R", "", "ÉUR"] {
            assert!(Currency::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn times_multiplies_exactly_in_minor_units() {
        let price = Money::new(1999, eur()).unwrap();
        assert_eq!(price.times(3).unwrap().amount_minor, 5997);
        assert_eq!(price.times(0).unwrap().amount_minor, 0);
    }

    #[test]
    fn plus_sums_exactly_where_floats_would_drift() {
        // 0.1 + 0.2 != 0.3 in f64; in minor units it is exact.
        let total = Money::new(10, eur())
            .unwrap()
            .plus(Money::new(20, eur()).unwrap())
            .unwrap();
        assert_eq!(total.amount_minor, 30);
    }

    #[test]
    fn plus_refuses_mixed_currencies() {
        let usd = Currency::parse("USD").unwrap();
        let err = Money::zero(eur()).plus(Money::zero(usd)).unwrap_err();
        assert!(matches!(err, MoneyError::CurrencyMismatch(_, _)));
    }

    #[test]
    fn arithmetic_refuses_overflow() {
        let big = Money::new(i64::MAX, eur()).unwrap();
        assert_eq!(big.times(2), Err(MoneyError::Overflow));
        assert_eq!(
            big.plus(Money::new(1, eur()).unwrap()),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn negative_amounts_are_refused() {
        assert_eq!(Money::new(-1, eur()), Err(MoneyError::Negative));
    }
}
