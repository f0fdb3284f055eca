//! missed_cancellation: the customer asked to cancel and billing went on. Rows of the cancelled
//! items are unbillable on every day after the service end.

use chrono::NaiveDate;

use super::{RuleError, RuleOutcome, overlap_days, prorate};
use crate::incident::{Effective, Items, ProrationPolicy};
use crate::model::AccountInput;
use crate::money::Month;

pub fn apply(
    items: &Items,
    effective: Effective,
    proration: ProrationPolicy,
    input: &AccountInput,
) -> Result<RuleOutcome, RuleError> {
    let trigger = input.account.trigger_date;
    let service_end = match effective {
        Effective::EndOfMonth => Month::of_date(trigger).last_day(),
        Effective::EventDate => trigger,
    };
    let mut should = Vec::with_capacity(input.rows.len());
    for row in &input.rows {
        if !items.contains(&row.item) {
            should.push(row.amount);
            continue;
        }
        let unbillable = match service_end.succ_opt() {
            Some(first_unbillable) => overlap_days(
                row.period_start,
                row.period_end,
                first_unbillable,
                NaiveDate::MAX,
            ),
            None => 0,
        };
        should.push(prorate(row, unbillable, proration)?);
    }
    Ok(RuleOutcome::Should(should))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::Proration;
    use crate::money::Rounding;
    use crate::rules::test_support::*;

    fn items() -> Items {
        Items::List(["base_fee".to_string()].into_iter().collect())
    }

    const DAILY: ProrationPolicy = ProrationPolicy {
        proration: Proration::Daily,
        rounding: Rounding::Down,
    };

    #[test]
    fn end_of_month_refunds_whole_later_months_only() {
        // Cancel asked 2009-03-10 → service ends 2009-03-31.
        let input = input(
            "2009-03-10",
            None,
            vec![
                row(
                    "2009-03",
                    "2009-03-01",
                    "2009-03-31",
                    "base_fee",
                    1,
                    3000,
                    3000,
                ), // untouched: in service
                row(
                    "2009-04",
                    "2009-04-01",
                    "2009-04-30",
                    "base_fee",
                    1,
                    3000,
                    3000,
                ), // wholly after → 0
                row(
                    "2009-04",
                    "2009-04-01",
                    "2009-04-30",
                    "isp_fee",
                    1,
                    1000,
                    1000,
                ), // other item → amount
            ],
            vec![],
        );
        let outcome = apply(&items(), Effective::EndOfMonth, DAILY, &input).unwrap();
        assert_eq!(outcome, RuleOutcome::Should(vec![3000, 0, 1000]));
    }

    #[test]
    fn event_date_prorates_the_straddling_period() {
        // Cancel effective 2009-03-10: March 1..10 billable = 10 of 31 days.
        // 3,000 × 10 / 31 = 967.74… → down 967, half_up 968.
        let rows = vec![row(
            "2009-03",
            "2009-03-01",
            "2009-03-31",
            "base_fee",
            1,
            3000,
            3000,
        )];
        let input = input("2009-03-10", None, rows, vec![]);
        assert_eq!(
            apply(&items(), Effective::EventDate, DAILY, &input).unwrap(),
            RuleOutcome::Should(vec![967])
        );
        let half_up = ProrationPolicy {
            proration: Proration::Daily,
            rounding: Rounding::HalfUp,
        };
        assert_eq!(
            apply(&items(), Effective::EventDate, half_up, &input).unwrap(),
            RuleOutcome::Should(vec![968])
        );
        let none = ProrationPolicy {
            proration: Proration::None,
            rounding: Rounding::Down,
        };
        assert_eq!(
            apply(&items(), Effective::EventDate, none, &input).unwrap(),
            RuleOutcome::Should(vec![3000])
        );
    }

    #[test]
    fn leap_february_straddle() {
        // Cancel effective 2024-02-10, row covers 2024-02-01..2024-02-29 (29 days), 10 billable:
        // 2,900 × 10 / 29 = 1,000 exactly.
        let rows = vec![row(
            "2024-02",
            "2024-02-01",
            "2024-02-29",
            "base_fee",
            1,
            2900,
            2900,
        )];
        let input = input("2024-02-10", None, rows, vec![]);
        assert_eq!(
            apply(&items(), Effective::EventDate, DAILY, &input).unwrap(),
            RuleOutcome::Should(vec![1000])
        );
    }

    #[test]
    fn negative_rows_prorate_toward_zero() {
        // A −620 discount line for March, service ends 03-10: −620 × 10 / 31 = −200 exactly.
        let rows = vec![row(
            "2009-03",
            "2009-03-01",
            "2009-03-31",
            "base_fee",
            1,
            -620,
            -620,
        )];
        let input = input("2009-03-10", None, rows, vec![]);
        assert_eq!(
            apply(&items(), Effective::EventDate, DAILY, &input).unwrap(),
            RuleOutcome::Should(vec![-200])
        );
    }
}
