//! missed_plan_change: a registration should have moved the account to a cheaper price or a
//! bigger discount. Applicable rows are repriced by the first matching `[[rule.reprice]]` entry
//! (file order), as one chain of polars conditions.

use polars::prelude::*;

use super::columns::*;
use super::expr::{self, int128};
use crate::incident::{AppliesTo, Items, Reprice, RepriceTarget};
use crate::load::rate_literal;
use crate::money::{self, Rounding};

pub fn plan(
    rows: LazyFrame,
    applies_to: AppliesTo,
    reprice: &[Reprice],
    discount_rounding: Rounding,
) -> LazyFrame {
    let applies = match applies_to {
        AppliesTo::PeriodsStartingOnOrAfter => col("period_start").gt_eq(col(TRIGGER_DATE)),
        AppliesTo::PeriodsContaining => col("period_end").gt_eq(col(TRIGGER_DATE)),
    };
    let amount = col("amount").cast(DataType::Int128);
    // Nested from the last entry outwards, so that the first matching entry in file order wins.
    let mut should = amount;
    for entry in reprice.iter().rev() {
        should = when(applies.clone().and(matches(entry)))
            .then(repriced(entry, discount_rounding))
            .otherwise(should);
    }
    let items = Items::List(reprice.iter().map(|entry| entry.item.clone()).collect());
    rows.with_columns([expr::touched(&items).alias(TOUCHED), should.alias(SHOULD)])
        .with_columns(expr::no_problem())
}

/// The entry applies to rows of its item, billed at exactly its `match_*` price or rate if given.
fn matches(entry: &Reprice) -> Expr {
    let mut condition = col("item")
        .eq(lit(entry.item.clone()))
        .fill_null(lit(false));
    if let Some(price) = entry.match_unit_price {
        condition = condition.and(col("unit_price").eq(lit(price)).fill_null(lit(false)));
    }
    if let Some(rate) = entry.match_discount_rate {
        condition = condition.and(
            col("discount_rate")
                .eq(rate_literal(rate))
                .fill_null(lit(false)),
        );
    }
    condition
}

fn repriced(entry: &Reprice, discount_rounding: Rounding) -> Expr {
    match &entry.target {
        RepriceTarget::UnitPrice(price) => {
            col("quantity").cast(DataType::Int128) * int128(i128::from(*price))
        }
        RepriceTarget::DiscountRate(rate) => {
            // L − R_d(L × Q), with Q = mantissa / 10^scale exactly.
            let rate = rate.normalize();
            let list = col("list_amount").cast(DataType::Int128);
            let discount = money::round_ratio_expr(
                list.clone() * int128(rate.mantissa()),
                int128(10i128.pow(rate.scale())),
                discount_rounding,
            );
            list - discount
        }
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use crate::incident::{AppliesTo, Reprice, RepriceTarget, Rule};
    use crate::money::Rounding;
    use crate::rules::test_support::*;

    fn discounted(
        month: &'static str,
        start: &'static str,
        list: i64,
        rate: &'static str,
        amount: i64,
    ) -> Row {
        let mut row = row(month, start, start, "kenta_toll", 1, list, amount);
        row.list_amount = Some(list);
        row.discount_rate = Some(rate);
        row
    }

    fn rule(applies_to: AppliesTo, reprice: Vec<Reprice>, discount_rounding: Rounding) -> Rule {
        Rule::MissedPlanChange {
            applies_to,
            reprice,
            discount_rounding,
        }
    }

    #[test]
    fn kenta_kun_thirty_to_thirty_five_percent() {
        // Registered 2001-03-15. List 1,234, billed at 30% off: 1,234 − 370 = 864.
        // Should be 35% off: 1,234 × 0.35 = 431.9 → down 431 → 803; half_up 432 → 802.
        let entries = vec![Reprice {
            item: "kenta_toll".to_string(),
            target: RepriceTarget::DiscountRate(Decimal::new(35, 2)),
            match_unit_price: None,
            match_discount_rate: Some(Decimal::new(3, 1)),
        }];
        let rows = [
            discounted("2001-03", "2001-03-01", 1234, "0.30", 864), // before trigger: untouched
            discounted("2001-04", "2001-04-01", 1234, "0.3", 864),
            discounted("2001-05", "2001-05-01", 1000, "0", 1000), // 0% billed: discount not earned
        ];
        let down = rule(
            AppliesTo::PeriodsStartingOnOrAfter,
            entries.clone(),
            Rounding::Down,
        );
        assert_eq!(
            should(&down, "2001-03-15", None, &rows, &[]),
            Ok(vec![864, 803, 1000])
        );
        let half_up = rule(
            AppliesTo::PeriodsStartingOnOrAfter,
            entries,
            Rounding::HalfUp,
        );
        assert_eq!(
            should(&half_up, "2001-03-15", None, &rows, &[]),
            Ok(vec![864, 802, 1000])
        );
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
        let rows = [
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
            ), // other price
        ];
        let containing = rule(
            AppliesTo::PeriodsContaining,
            entries.clone(),
            Rounding::Down,
        );
        assert_eq!(
            should(&containing, "2001-03-15", None, &rows, &[]),
            Ok(vec![0, 0, 100])
        );
        let starting = rule(AppliesTo::PeriodsStartingOnOrAfter, entries, Rounding::Down);
        assert_eq!(
            should(&starting, "2001-03-15", None, &rows, &[]),
            Ok(vec![200, 0, 100])
        );
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
        let rows = [
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
        let rule = rule(AppliesTo::PeriodsStartingOnOrAfter, entries, Rounding::Down);
        assert_eq!(
            should(&rule, "2001-03-15", None, &rows, &[]),
            Ok(vec![50, 100])
        );
    }
}
