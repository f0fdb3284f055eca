//! missed_plan_change: a registration should have moved the account to a cheaper price or a
//! bigger discount. Applicable rows are repriced by the first matching `[[rule.reprice]]` entry.

use super::{RuleError, RuleOutcome};
use crate::incident::{AppliesTo, Reprice, RepriceTarget};
use crate::model::{AccountInput, ChargeRow};
use crate::money::{self, Overflow, Rounding};

pub fn apply(
    applies_to: AppliesTo,
    reprice: &[Reprice],
    discount_rounding: Rounding,
    input: &AccountInput,
) -> Result<RuleOutcome, RuleError> {
    let trigger = input.account.trigger_date;
    let mut should = Vec::with_capacity(input.rows.len());
    for row in &input.rows {
        let applies = match applies_to {
            AppliesTo::PeriodsStartingOnOrAfter => row.period_start >= trigger,
            AppliesTo::PeriodsContaining => row.period_end >= trigger,
        };
        let entry = applies
            .then(|| reprice.iter().find(|entry| matches(entry, row)))
            .flatten();
        should.push(match entry {
            None => row.amount,
            Some(entry) => repriced(entry, row, discount_rounding)?,
        });
    }
    Ok(RuleOutcome::Should(should))
}

fn matches(entry: &Reprice, row: &ChargeRow) -> bool {
    entry.item == row.item
        && entry
            .match_unit_price
            .is_none_or(|price| price == row.unit_price)
        && entry
            .match_discount_rate
            .is_none_or(|rate| rate == row.discount_rate)
}

fn repriced(
    entry: &Reprice,
    row: &ChargeRow,
    discount_rounding: Rounding,
) -> Result<i64, Overflow> {
    match &entry.target {
        RepriceTarget::UnitPrice(price) => row
            .quantity
            .checked_mul(*price)
            .ok_or(Overflow("quantity × unit_price")),
        RepriceTarget::DiscountRate(rate) => {
            let discount = money::mul_rate(
                row.list_amount,
                *rate,
                discount_rounding,
                "a repriced discount",
            )?;
            row.list_amount
                .checked_sub(discount)
                .ok_or(Overflow("a repriced discount"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::*;
    use rust_decimal::Decimal;

    fn discounted(month: &str, start: &str, list: i64, rate: Decimal, amount: i64) -> ChargeRow {
        let mut row = row(month, start, start, "kenta_toll", 1, list, amount);
        row.list_amount = list;
        row.discount_rate = rate;
        row
    }

    #[test]
    fn kenta_kun_thirty_to_thirty_five_percent() {
        // Registered 2001-03-15. List 1,234, billed at 30% off: 1,234 − 370 = 864.
        // Should be 35% off: 1,234 × 0.35 = 431.9 → down 431 → 803 (down) ; half_up 432 → 802.
        let entries = vec![Reprice {
            item: "kenta_toll".to_string(),
            target: RepriceTarget::DiscountRate(Decimal::new(35, 2)),
            match_unit_price: None,
            match_discount_rate: Some(Decimal::new(3, 1)),
        }];
        let rows = vec![
            discounted("2001-03", "2001-03-01", 1234, Decimal::new(30, 2), 864), // before trigger: untouched
            discounted("2001-04", "2001-04-01", 1234, Decimal::new(30, 2), 864),
            discounted("2001-05", "2001-05-01", 1000, Decimal::ZERO, 1000), // 0% billed: discount not earned
        ];
        let input = input("2001-03-15", None, rows, vec![]);
        let down = apply(
            AppliesTo::PeriodsStartingOnOrAfter,
            &entries,
            Rounding::Down,
            &input,
        )
        .unwrap();
        assert_eq!(down, RuleOutcome::Should(vec![864, 803, 1000]));
        let half_up = apply(
            AppliesTo::PeriodsStartingOnOrAfter,
            &entries,
            Rounding::HalfUp,
            &input,
        )
        .unwrap();
        assert_eq!(half_up, RuleOutcome::Should(vec![864, 802, 1000]));
    }

    #[test]
    fn unit_price_and_periods_containing() {
        // Super Kenta-kun monthly fee 200 → 0. Registered mid-period 2001-03-15: the March row
        // (03-01..03-31) contains the date → repriced with periods_containing, not with the default.
        let entries = vec![Reprice {
            item: "plan_fee".to_string(),
            target: RepriceTarget::UnitPrice(0),
            match_unit_price: Some(200),
            match_discount_rate: None,
        }];
        let rows = vec![
            row(
                "2001-03",
                "2001-03-01",
                "2001-03-31",
                "plan_fee",
                1,
                200,
                200,
            ),
            row(
                "2001-04",
                "2001-04-01",
                "2001-04-30",
                "plan_fee",
                2,
                200,
                400,
            ),
            row(
                "2001-05",
                "2001-05-01",
                "2001-05-31",
                "plan_fee",
                1,
                100,
                100,
            ), // other price: no match
        ];
        let input = input("2001-03-15", None, rows, vec![]);
        let containing = apply(
            AppliesTo::PeriodsContaining,
            &entries,
            Rounding::Down,
            &input,
        )
        .unwrap();
        assert_eq!(containing, RuleOutcome::Should(vec![0, 0, 100]));
        let starting = apply(
            AppliesTo::PeriodsStartingOnOrAfter,
            &entries,
            Rounding::Down,
            &input,
        )
        .unwrap();
        assert_eq!(starting, RuleOutcome::Should(vec![200, 0, 100]));
    }

    #[test]
    fn first_matching_entry_wins() {
        let entries = vec![
            Reprice {
                item: "plan_fee".to_string(),
                target: RepriceTarget::UnitPrice(100),
                match_unit_price: Some(300),
                match_discount_rate: None,
            },
            Reprice {
                item: "plan_fee".to_string(),
                target: RepriceTarget::UnitPrice(50),
                match_unit_price: None,
                match_discount_rate: None,
            },
        ];
        let rows = vec![
            row(
                "2001-04",
                "2001-04-01",
                "2001-04-30",
                "plan_fee",
                1,
                200,
                200,
            ),
            row(
                "2001-04",
                "2001-04-01",
                "2001-04-30",
                "plan_fee",
                1,
                300,
                300,
            ),
        ];
        let input = input("2001-03-15", None, rows, vec![]);
        let outcome = apply(
            AppliesTo::PeriodsStartingOnOrAfter,
            &entries,
            Rounding::Down,
            &input,
        )
        .unwrap();
        assert_eq!(outcome, RuleOutcome::Should(vec![50, 100]));
    }
}
