//! Properties of the domain rules over generated inputs (proptest): money never overflows silently, a new
//! order is accepted exactly when the documented rules hold, no sequence of moves takes an order backwards.
//! Each property computes the expected answer independently (wide integers, plain loops) and compares.

use std::collections::HashSet;

use order_core::domain::order::{MAX_IDEMPOTENCY_KEY_LEN, MAX_LINES, MAX_QUANTITY};
use order_core::domain::{
    Currency, IdempotencyKey, LineQuote, MoneyError, NewOrder, OrderStatus, PricingError,
    ProductQuote, Quantity, ValidationError,
};
use order_core::domain::{Money, pricing};
use proptest::prelude::*;
use proptest::sample::select;
use uuid::Uuid;

fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}

/// Amounts that reach the edges: small ones, ones near `i64::MAX`, and anything in between.
fn amount() -> impl Strategy<Value = i64> {
    prop_oneof![0..=10_000i64, (i64::MAX - 10_000)..=i64::MAX, 0..=i64::MAX]
}

/// Quantities across the whole `u32` range, 1 and small ones often (1 lets large amounts reach the sum).
fn multiplier() -> impl Strategy<Value = u32> {
    prop_oneof![Just(1u32), 0..=1000u32, any::<u32>()]
}

/// The largest amount `Money` holds, widened.
const LIMIT: i128 = i64::MAX as i128;

proptest! {
    #[test]
    fn money_times_is_the_exact_product_or_an_overflow_error(a in amount(), q in multiplier()) {
        let exact = i128::from(a) * i128::from(q);
        let result = Money::new(a, eur()).unwrap().times(q);
        if exact <= LIMIT {
            prop_assert_eq!(result.map(|m| i128::from(m.amount_minor)), Ok(exact));
        } else {
            prop_assert_eq!(result, Err(MoneyError::Overflow));
        }
    }

    #[test]
    fn money_plus_is_the_exact_sum_or_an_overflow_error_whatever_the_order(
        a in amount(),
        b in amount(),
    ) {
        let (x, y) = (Money::new(a, eur()).unwrap(), Money::new(b, eur()).unwrap());
        let exact = i128::from(a) + i128::from(b);
        let result = x.plus(y);
        prop_assert_eq!(result.clone(), y.plus(x));
        if exact <= LIMIT {
            prop_assert_eq!(result.map(|m| i128::from(m.amount_minor)), Ok(exact));
        } else {
            prop_assert_eq!(result, Err(MoneyError::Overflow));
        }
    }

    #[test]
    fn money_in_two_currencies_never_adds_up(a in amount(), b in amount(), code in "[A-Z]{3}") {
        let other = Currency::parse(&code).unwrap();
        prop_assume!(other != eur());
        let err = Money::new(a, eur()).unwrap().plus(Money::new(b, other).unwrap());
        prop_assert!(matches!(err, Err(MoneyError::CurrencyMismatch(_, _))));
    }

    #[test]
    fn money_is_never_negative(a in any::<i64>()) {
        prop_assert_eq!(Money::new(a, eur()).is_ok(), a >= 0);
    }

    #[test]
    fn a_currency_is_exactly_three_upper_case_ascii_letters(code in "\\PC{0,4}|[A-Za-z]{3}") {
        let expected = code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase());
        let parsed = Currency::parse(&code);
        prop_assert_eq!(parsed.is_ok(), expected);
        if let Ok(currency) = parsed {
            prop_assert_eq!(currency.as_str(), code.as_str());
        }
    }

    #[test]
    fn the_total_is_the_sum_of_the_line_prices_whenever_it_fits_and_an_overflow_otherwise(
        lines in prop::collection::vec((amount(), multiplier()), 1..=MAX_LINES),
    ) {
        let quotes: Vec<_> = lines.iter().map(|&(p, q)| in_stock(p, q)).collect();
        let products: Vec<i128> =
            lines.iter().map(|&(p, q)| i128::from(p) * i128::from(q)).collect();
        let exact: i128 = products.iter().sum();
        let result = pricing::price(&quotes);
        // Every amount is non-negative, so the running sum fits exactly when every product and the total do.
        if products.iter().all(|p| *p <= LIMIT) && exact <= LIMIT {
            prop_assert_eq!(result.map(|m| i128::from(m.amount_minor)), Ok(exact));
        } else {
            prop_assert_eq!(result, Err(PricingError::Overflow));
        }
    }

    #[test]
    fn an_order_is_priced_only_when_every_line_has_the_free_stock(
        lines in prop::collection::vec((1..=20u32, -3..=20i64), 1..=MAX_LINES),
    ) {
        let quotes: Vec<_> = lines.iter().map(|&(quantity, available)| LineQuote {
            quantity,
            product: Some(ProductQuote { price_minor: 100, currency: "EUR".to_owned(), available }),
        }).collect();
        let covered = lines.iter().all(|&(q, available)| available >= i64::from(q));
        let result = pricing::price(&quotes);
        if covered {
            let units: i64 = lines.iter().map(|&(q, _)| i64::from(q)).sum();
            prop_assert_eq!(result.map(|m| m.amount_minor), Ok(units * 100));
        } else {
            prop_assert_eq!(result, Err(PricingError::OutOfStock));
        }
    }

    #[test]
    fn a_quantity_is_accepted_exactly_from_one_to_the_maximum(
        n in prop_oneof![-5..=1005i64, any::<i64>()],
    ) {
        let parsed = Quantity::parse(n);
        prop_assert_eq!(parsed.is_ok(), (1..=i64::from(MAX_QUANTITY)).contains(&n));
        if let Ok(q) = parsed {
            prop_assert_eq!(i64::from(q.get()), n);
        }
    }

    #[test]
    fn a_new_order_is_accepted_exactly_with_one_to_fifty_distinct_products_in_range(
        items in prop_oneof![distinct_items(0..=MAX_LINES + 5), raw_items()],
    ) {
        let documented = (1..=MAX_LINES).contains(&items.len())
            && distinct(&items)
            && items.iter().all(|&(_, q)| (1..=i64::from(MAX_QUANTITY)).contains(&q));
        match NewOrder::parse(items.clone()) {
            Ok(order) => {
                prop_assert!(documented, "accepted {:?}", items);
                let kept: Vec<_> = order
                    .lines()
                    .iter()
                    .map(|l| (l.product_id.0, i64::from(l.quantity.get())))
                    .collect();
                prop_assert_eq!(kept, items, "lines keep the client's order and values");
            }
            Err(err) => {
                prop_assert!(!documented, "refused {:?}: {}", items, err);
                // The error names a rule the input really breaks.
                let broken = match err {
                    ValidationError::ItemCount { count } => count == items.len(),
                    ValidationError::DuplicateProduct(p) => {
                        items.iter().filter(|(id, _)| *id == p.0).count() > 1
                    }
                    ValidationError::QuantityOutOfRange { quantity } => {
                        items.iter().any(|&(_, q)| q == quantity)
                            && !(1..=i64::from(MAX_QUANTITY)).contains(&quantity)
                    }
                    ValidationError::InvalidIdempotencyKey => false,
                };
                prop_assert!(broken, "{} for {:?}", err, items);
            }
        }
    }

    #[test]
    fn the_fingerprint_ignores_line_order_and_changes_with_any_quantity(
        (items, shuffled) in distinct_items(1..=MAX_LINES)
            .prop_flat_map(|items| (Just(items.clone()), Just(items).prop_shuffle())),
        pick in any::<prop::sample::Index>(),
        bump in 1..i64::from(MAX_QUANTITY),
    ) {
        let order = NewOrder::parse(items.clone()).unwrap();
        prop_assert_eq!(order.fingerprint(), NewOrder::parse(shuffled).unwrap().fingerprint());

        let mut changed = items;
        let line = pick.index(changed.len());
        changed[line].1 = (changed[line].1 - 1 + bump) % i64::from(MAX_QUANTITY) + 1;
        prop_assert_ne!(order.fingerprint(), NewOrder::parse(changed).unwrap().fingerprint());
    }

    #[test]
    fn an_idempotency_key_is_exactly_one_to_255_visible_ascii_characters(
        key in "[!-~]{0,260}|\\PC{0,8}|[ -~]{1,10}",
    ) {
        let expected = (1..=MAX_IDEMPOTENCY_KEY_LEN).contains(&key.len())
            && key.bytes().all(|b| b.is_ascii_graphic());
        prop_assert_eq!(IdempotencyKey::parse(&key).is_ok(), expected);
    }

    #[test]
    fn no_sequence_of_moves_takes_an_order_backwards_or_out_of_a_terminal_status(
        attempts in prop::collection::vec(select(OrderStatus::ALL.to_vec()), 0..40),
    ) {
        let mut status = OrderStatus::Pending;
        let mut path = vec![status];
        for next in attempts {
            let terminal = !status.is_open();
            if status.can_become(next) {
                prop_assert!(!terminal, "{} left terminal status {}", next, status);
                prop_assert!(rank(next) > rank(status), "{} → {} goes backwards", status, next);
                status = next;
                path.push(status);
            }
            // Only an open order is cancellable, and only a confirmed one holds stock.
            prop_assert_eq!(status.is_open(), rank(status) < TERMINAL);
            prop_assert_eq!(status.holds_reservation(), status == OrderStatus::Confirmed);
        }
        prop_assert!(path.len() <= 3, "at most two moves: {:?}", path);
        for terminal in OrderStatus::ALL.into_iter().filter(|s| rank(*s) == TERMINAL) {
            prop_assert!(OrderStatus::ALL.into_iter().all(|to| !terminal.can_become(to)));
        }
    }
}

/// pending < confirmed < fulfilled; rejected and cancelled are terminal like fulfilled.
const TERMINAL: u8 = 2;

fn rank(status: OrderStatus) -> u8 {
    match status {
        OrderStatus::Pending => 0,
        OrderStatus::Confirmed => 1,
        OrderStatus::Fulfilled | OrderStatus::Rejected | OrderStatus::Cancelled => TERMINAL,
    }
}

fn in_stock(price_minor: i64, quantity: u32) -> LineQuote {
    LineQuote {
        quantity,
        product: Some(ProductQuote {
            price_minor,
            currency: "EUR".to_owned(),
            available: i64::MAX,
        }),
    }
}

fn distinct(items: &[(Uuid, i64)]) -> bool {
    let mut seen = HashSet::new();
    items.iter().all(|(id, _)| seen.insert(*id))
}

/// 0..=60 lines from a pool of 70 product ids (duplicates happen), quantities mostly in range.
fn raw_items() -> impl Strategy<Value = Vec<(Uuid, i64)>> {
    let quantity = prop_oneof![
        8 => 1..=i64::from(MAX_QUANTITY),
        1 => -2..=0i64,
        1 => 1001..=1003i64,
        1 => any::<i64>(),
    ];
    prop::collection::vec(((0..70u128).prop_map(Uuid::from_u128), quantity), 0..=60)
}

/// `lines` distinct products with quantities in range: every order the rules accept, and some too long.
fn distinct_items(
    lines: std::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = Vec<(Uuid, i64)>> {
    prop::collection::hash_map(any::<u128>(), 1..=i64::from(MAX_QUANTITY), lines).prop_map(|m| {
        m.into_iter()
            .map(|(id, q)| (Uuid::from_u128(id), q))
            .collect()
    })
}
