//! A product's stock as a transaction holding its row lock sees it: what is free, reserving orders against it
//! one after another (each whole or not at all), and when it runs low.

use std::collections::HashMap;

use uuid::Uuid;

use super::money::Money;
use super::order::{OrderLine, ProductId};
use super::pricing::{self, LineQuote, PricingError, ProductQuote};

/// A locked product: its price and stock levels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductStock {
    pub id: ProductId,
    pub sku: String,
    pub price_minor: i64,
    pub currency: String,
    pub on_hand: i32,
    pub reserved: i32,
    pub low_stock_threshold: i32,
}

/// A product whose free stock fell below its threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LowStock {
    pub product_id: Uuid,
    pub sku: String,
    pub available: i32,
    pub threshold: i32,
}

impl ProductStock {
    /// Free stock: on hand and not reserved.
    pub fn available(&self) -> i64 {
        i64::from(self.on_hand) - i64::from(self.reserved)
    }

    /// What pricing needs to know of this product.
    pub fn quote(&self) -> ProductQuote {
        ProductQuote {
            price_minor: self.price_minor,
            currency: self.currency.clone(),
            available: self.available(),
        }
    }

    /// The low-stock rule: free stock below the product's threshold.
    pub fn low_stock(&self) -> Option<LowStock> {
        let available = self.on_hand - self.reserved;
        (available < self.low_stock_threshold).then(|| LowStock {
            product_id: self.id.0,
            sku: self.sku.clone(),
            available,
            threshold: self.low_stock_threshold,
        })
    }
}

/// Prices `lines` against `stock` as it stands after the orders reserved before this one, and on success
/// reserves them in `stock` (in memory: the caller writes the sum of the moves). All lines or none: a refused
/// order leaves `stock` as it was, so it never takes stock from the orders after it.
pub fn reserve(
    stock: &mut HashMap<ProductId, ProductStock>,
    lines: &[OrderLine],
) -> Result<Money, PricingError> {
    let quotes: Vec<LineQuote> = lines
        .iter()
        .map(|line| LineQuote {
            quantity: line.quantity,
            product: stock.get(&line.product_id).map(ProductStock::quote),
        })
        .collect();
    let total = pricing::price(&quotes)?;
    for line in lines {
        if let Some(product) = stock.get_mut(&line.product_id) {
            // price() checked the quantity against the free stock, so it fits in i32.
            product.reserved += i32::try_from(line.quantity).unwrap_or(i32::MAX);
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(n: u128, on_hand: i32) -> ProductStock {
        ProductStock {
            id: ProductId(Uuid::from_u128(n)),
            sku: format!("SKU-{n}"),
            price_minor: 100,
            currency: "EUR".into(),
            on_hand,
            reserved: 0,
            low_stock_threshold: 2,
        }
    }

    fn line(n: u128, quantity: u32) -> OrderLine {
        OrderLine {
            product_id: ProductId(Uuid::from_u128(n)),
            quantity,
            unit_price: None,
        }
    }

    #[test]
    fn orders_reserve_one_after_another_and_a_refused_one_takes_nothing() {
        let mut stock: HashMap<_, _> = [product(1, 5), product(2, 1)]
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let first = reserve(&mut stock, &[line(1, 3)]).unwrap();
        assert_eq!(first.amount_minor, 300);
        // Two of product 1 fit, but product 2 does not: nothing of the order is reserved.
        let refused = reserve(&mut stock, &[line(1, 2), line(2, 2)]);
        assert_eq!(refused, Err(PricingError::OutOfStock));
        assert_eq!(stock[&ProductId(Uuid::from_u128(1))].reserved, 3);
        assert_eq!(stock[&ProductId(Uuid::from_u128(2))].reserved, 0);
        // So the next order still gets them.
        assert!(reserve(&mut stock, &[line(1, 2), line(2, 1)]).is_ok());
        assert_eq!(
            reserve(&mut stock, &[line(1, 1)]),
            Err(PricingError::OutOfStock)
        );
        assert_eq!(
            reserve(&mut stock, &[line(3, 1)]),
            Err(PricingError::UnknownProduct)
        );
    }

    #[test]
    fn stock_is_low_strictly_below_the_threshold() {
        let mut p = product(1, 4);
        p.reserved = 2;
        assert_eq!(p.low_stock(), None);
        p.reserved = 3;
        let low = p.low_stock().unwrap();
        assert_eq!((low.available, low.threshold), (1, 2));
    }
}
