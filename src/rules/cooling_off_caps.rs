//! cooling_off_caps: the customer cancelled within the cooling-off period. Recurring items are
//! chargeable only for `[opened_on, cancellation − 1]`; capped fees only up to their caps in total,
//! taking the account's rows of the item in the SPEC's order (a running total per account and
//! item). Accounts without `opened_on` never reach the plan: they are sent to review.

use std::collections::BTreeSet;

use polars::prelude::*;

use super::columns::*;
use super::expr::{self, int128};
use crate::incident::{Items, ProrationPolicy};

const EARLIER: &str = "__billed_earlier";
const CAP: &str = "__cap";
const UNBILLABLE: &str = "__unbillable";

pub fn plan(
    rows: LazyFrame,
    recurring_items: &BTreeSet<String>,
    caps: &[(String, i64)],
    proration: ProrationPolicy,
) -> PolarsResult<LazyFrame> {
    let rows = rows.cache();
    let recurring = expr::touched(&Items::List(recurring_items.clone()));
    let capped = expr::touched(&Items::List(
        caps.iter().map(|(item, _)| item.clone()).collect(),
    ));
    let amount = || col("amount").cast(DataType::Int128);

    // Recurring items: billable only on [opened_on, trigger − 1]; other items keep their amount.
    let billable = expr::overlap_days(
        expr::days(col("period_start")),
        expr::days(col("period_end")),
        expr::days(col(OPENED_ON)),
        expr::days(col(TRIGGER_DATE)) - lit(1i64),
    );
    let others = rows
        .clone()
        .filter(capped.clone().not())
        .with_column((expr::period_days() - billable).alias(UNBILLABLE));
    let others = expr::prorated(others, recurring, UNBILLABLE, proration).drop(Selector::ByName {
        names: [PlSmallStr::from(UNBILLABLE)].into(),
        strict: true,
    });

    // Capped items: should(r) = min(amount(r), max(0, cap − Σ amount of earlier rows)).
    let mut cap_of = int128(0);
    for (item, cap) in caps.iter().rev() {
        cap_of = when(col("item").eq(lit(item.clone())))
            .then(int128(i128::from(*cap)))
            .otherwise(cap_of);
    }
    let room = col(CAP) - col(EARLIER);
    let room = when(room.clone().gt(int128(0)))
        .then(room)
        .otherwise(int128(0));
    let capped_rows = rows
        .filter(capped)
        .sort(
            [
                ACCOUNT_NO,
                "item",
                "billing_month",
                "period_start",
                "period_end",
                "amount",
                "tax_rate",
            ],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .with_columns([
            (amount()
                .cum_sum(false)
                .over([col(ACCOUNT_NO), col("item")])?
                - amount())
            .alias(EARLIER),
            cap_of.alias(CAP),
        ])
        .with_columns([
            lit(true).alias(TOUCHED),
            when(amount().lt(room.clone()))
                .then(amount())
                .otherwise(room)
                .alias(SHOULD),
        ])
        .drop(Selector::ByName {
            names: [PlSmallStr::from(EARLIER), PlSmallStr::from(CAP)].into(),
            strict: true,
        });
    let args = UnionArgs {
        rechunk: false,
        parallel: true,
        ..Default::default()
    };
    Ok(concat([others, capped_rows], args)?.with_columns(expr::no_problem()))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use crate::incident::{Proration, ProrationPolicy, Rule};
    use crate::money::Rounding;
    use crate::rules::test_support::*;

    fn rule(recurring: &[&str], caps: &[(&str, i64)]) -> Rule {
        Rule::CoolingOffCaps {
            recurring_items: recurring
                .iter()
                .map(|item| item.to_string())
                .collect::<BTreeSet<_>>(),
            caps: caps
                .iter()
                .map(|(item, cap)| (item.to_string(), *cap))
                .collect(),
            proration: ProrationPolicy {
                proration: Proration::Daily,
                rounding: Rounding::Down,
            },
        }
    }

    #[test]
    fn prorates_recurring_and_caps_fees_in_installments() {
        // Opened 2024-04-01, cancelled 2024-04-06: billable 04-01..04-05 = 5 of 30 days.
        // base_fee 5,720 × 5 / 30 = 953.33… → 953. May base fee → 0.
        // Construction cap 25,000 (tax excl.), billed 3 × 10,000 installments: 10,000, 10,000, 5,000.
        // Contract fee 800 billed at 3,000 → 800.
        let rows = [
            row(
                "2024-04",
                "2024-04-01",
                "2024-04-30",
                "base_fee",
                1,
                5720,
                5720,
            ),
            row(
                "2024-04",
                "2024-04-01",
                "2024-04-30",
                "construction",
                1,
                10000,
                10000,
            ),
            row(
                "2024-04",
                "2024-04-01",
                "2024-04-30",
                "contract_fee",
                1,
                3000,
                3000,
            ),
            row(
                "2024-05",
                "2024-05-01",
                "2024-05-31",
                "base_fee",
                1,
                5720,
                5720,
            ),
            row(
                "2024-05",
                "2024-05-01",
                "2024-05-31",
                "construction",
                1,
                10000,
                10000,
            ),
            row(
                "2024-06",
                "2024-06-01",
                "2024-06-30",
                "construction",
                1,
                10000,
                10000,
            ),
        ];
        let rule = rule(
            &["base_fee"],
            &[("construction", 25000), ("contract_fee", 800)],
        );
        assert_eq!(
            should(&rule, "2024-04-06", Some("2024-04-01"), &rows, &[]),
            Ok(vec![953, 10000, 800, 0, 10000, 5000])
        );
    }

    #[test]
    fn running_total_follows_the_spec_order_not_the_file_order() {
        // Installments listed out of order: the June row comes first in the file. Ordered by
        // billing month, April and May keep 10,000 and June gets the 5,000 left under 25,000.
        let rows = [
            row(
                "2024-06",
                "2024-06-01",
                "2024-06-30",
                "construction",
                1,
                10000,
                10000,
            ),
            row(
                "2024-04",
                "2024-04-01",
                "2024-04-30",
                "construction",
                1,
                10000,
                10000,
            ),
            row(
                "2024-05",
                "2024-05-01",
                "2024-05-31",
                "construction",
                1,
                10000,
                10000,
            ),
        ];
        let rule = rule(&[], &[("construction", 25000)]);
        assert_eq!(
            should(&rule, "2024-04-06", None, &rows, &[]),
            Ok(vec![5000, 10000, 10000])
        );
        // With a −3,000 credit in May (sorted before the May 10,000 by amount): earlier totals are
        // 10,000, 7,000, 17,000 → May keeps 10,000 (room 18,000), June keeps 8,000.
        let rows = [
            row(
                "2024-06",
                "2024-06-01",
                "2024-06-30",
                "construction",
                1,
                10000,
                10000,
            ),
            row(
                "2024-04",
                "2024-04-01",
                "2024-04-30",
                "construction",
                1,
                10000,
                10000,
            ),
            row(
                "2024-05",
                "2024-05-01",
                "2024-05-31",
                "construction",
                1,
                10000,
                10000,
            ),
            row(
                "2024-05",
                "2024-05-01",
                "2024-05-31",
                "construction",
                1,
                -3000,
                -3000,
            ),
        ];
        assert_eq!(
            should(&rule, "2024-04-06", None, &rows, &[]),
            Ok(vec![8000, 10000, 10000, -3000])
        );
    }

    #[test]
    fn cancelled_on_the_opening_day_owes_nothing_recurring() {
        let rows = [row(
            "2024-04",
            "2024-04-01",
            "2024-04-30",
            "base_fee",
            1,
            5720,
            5720,
        )];
        let rule = rule(&["base_fee"], &[]);
        assert_eq!(
            should(&rule, "2024-04-01", Some("2024-04-01"), &rows, &[]),
            Ok(vec![0])
        );
    }
}
