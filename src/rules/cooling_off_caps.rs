//! cooling_off_caps: the customer cancelled within the cooling-off period. Recurring items are
//! chargeable only for `[opened_on, cancellation − 1]`; capped fees only up to their caps in total.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Days, NaiveDate};

use super::{ReviewReason, RuleError, RuleOutcome, overlap_days, period_days, prorate};
use crate::incident::ProrationPolicy;
use crate::model::AccountInput;
use crate::money::Overflow;

pub fn apply(
    recurring_items: &BTreeSet<String>,
    caps: &[(String, i64)],
    proration: ProrationPolicy,
    input: &AccountInput,
) -> Result<RuleOutcome, RuleError> {
    let trigger = input.account.trigger_date;
    let billable = if !recurring_items.is_empty() {
        let Some(opened_on) = input.account.opened_on else {
            return Ok(RuleOutcome::Review(ReviewReason::MissingOpenedOn));
        };
        let last_billable = trigger
            .checked_sub_days(Days::new(1))
            .unwrap_or(NaiveDate::MIN);
        Some((opened_on, last_billable))
    } else {
        None
    };
    let mut should: Vec<i64> = input.rows.iter().map(|row| row.amount).collect();
    if let Some((first, last)) = billable {
        for (index, row) in input.rows.iter().enumerate() {
            if recurring_items.contains(&row.item) {
                let billable_days = overlap_days(row.period_start, row.period_end, first, last);
                should[index] = prorate(row, period_days(row) - billable_days, proration)?;
            }
        }
    }
    let cap_of: BTreeMap<&str, i64> = caps
        .iter()
        .map(|(item, cap)| (item.as_str(), *cap))
        .collect();
    let mut capped: Vec<usize> = (0..input.rows.len())
        .filter(|&index| cap_of.contains_key(input.rows[index].item.as_str()))
        .collect();
    capped.sort_by(|&a, &b| {
        let (a, b) = (&input.rows[a], &input.rows[b]);
        (
            a.billing_month,
            a.period_start,
            a.period_end,
            a.amount,
            a.tax_rate,
        )
            .cmp(&(
                b.billing_month,
                b.period_start,
                b.period_end,
                b.amount,
                b.tax_rate,
            ))
    });
    let mut billed_so_far: BTreeMap<&str, i64> = BTreeMap::new();
    for index in capped {
        let row = &input.rows[index];
        let cap = cap_of[row.item.as_str()];
        let earlier = billed_so_far.entry(row.item.as_str()).or_insert(0);
        let room = cap
            .checked_sub(*earlier)
            .ok_or(Overflow("a capped fee"))?
            .max(0);
        should[index] = row.amount.min(room);
        *earlier = earlier
            .checked_add(row.amount)
            .ok_or(Overflow("a capped fee"))?;
    }
    Ok(RuleOutcome::Should(should))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::Proration;
    use crate::money::Rounding;
    use crate::rules::test_support::*;

    const DAILY: ProrationPolicy = ProrationPolicy {
        proration: Proration::Daily,
        rounding: Rounding::Down,
    };

    fn recurring() -> BTreeSet<String> {
        ["base_fee".to_string()].into_iter().collect()
    }

    #[test]
    fn prorates_recurring_and_caps_fees_in_installments() {
        // Opened 2024-04-01, cancelled 2024-04-06: billable 04-01..04-05 = 5 of 30 days.
        // base_fee 5,720 × 5 / 30 = 953.33… → 953. May base fee → 0.
        // Construction cap 25,000 (tax excl.), billed 3 × 10,000 installments: 10,000, 10,000, 5,000.
        // Contract fee 800 billed at 3,000 → 800.
        let rows = vec![
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
        let caps = vec![
            ("construction".to_string(), 25000),
            ("contract_fee".to_string(), 800),
        ];
        let input = input("2024-04-06", Some("2024-04-01"), rows, vec![]);
        let outcome = apply(&recurring(), &caps, DAILY, &input).unwrap();
        assert_eq!(
            outcome,
            RuleOutcome::Should(vec![953, 10000, 800, 0, 10000, 5000])
        );
    }

    #[test]
    fn cancelled_on_the_opening_day_owes_nothing_recurring() {
        let rows = vec![row(
            "2024-04",
            "2024-04-01",
            "2024-04-30",
            "base_fee",
            1,
            5720,
            5720,
        )];
        let input = input("2024-04-01", Some("2024-04-01"), rows, vec![]);
        assert_eq!(
            apply(&recurring(), &[], DAILY, &input).unwrap(),
            RuleOutcome::Should(vec![0])
        );
    }

    #[test]
    fn without_opened_on_goes_to_review() {
        let rows = vec![row(
            "2024-04",
            "2024-04-01",
            "2024-04-30",
            "base_fee",
            1,
            5720,
            5720,
        )];
        let input = input("2024-04-06", None, rows, vec![]);
        assert_eq!(
            apply(&recurring(), &[], DAILY, &input).unwrap(),
            RuleOutcome::Review(ReviewReason::MissingOpenedOn)
        );
    }
}
