//! billed_before_activation: the account was billed as if active but service was not provided
//! until the first activation event on or after the trigger date (or never).

use chrono::{Days, NaiveDate};

use super::{RuleError, RuleOutcome, overlap_days, prorate};
use crate::incident::{Items, ProrationPolicy};
use crate::model::AccountInput;

pub fn apply(
    items: &Items,
    activation_event: &str,
    proration: ProrationPolicy,
    input: &AccountInput,
) -> Result<RuleOutcome, RuleError> {
    let trigger = input.account.trigger_date;
    let activation = input
        .events
        .iter()
        .filter(|event| event.kind == activation_event && event.date >= trigger)
        .map(|event| event.date)
        .min();
    // U = [trigger, activation − 1], or every day from the trigger when never activated.
    let unbillable_end = match activation {
        Some(date) => date
            .checked_sub_days(Days::new(1))
            .unwrap_or(NaiveDate::MIN),
        None => NaiveDate::MAX,
    };
    let mut should = Vec::with_capacity(input.rows.len());
    for row in &input.rows {
        if !items.contains(&row.item) {
            should.push(row.amount);
            continue;
        }
        let unbillable = overlap_days(row.period_start, row.period_end, trigger, unbillable_end);
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

    const DAILY: ProrationPolicy = ProrationPolicy {
        proration: Proration::Daily,
        rounding: Rounding::Down,
    };

    #[test]
    fn never_activated_refunds_everything_from_the_trigger() {
        // Installation aborted 2025-10-15; never activated. October row 10-01..10-31: 17 of 31 days
        // unbillable (15..31) → 5,200 × 14 / 31 = 2,348.38… → 2,348. November wholly unbillable → 0.
        // A September row wholly before the trigger is untouched.
        let rows = vec![
            row(
                "2025-09",
                "2025-09-01",
                "2025-09-30",
                "base_fee",
                1,
                5200,
                5200,
            ),
            row(
                "2025-10",
                "2025-10-01",
                "2025-10-31",
                "base_fee",
                1,
                5200,
                5200,
            ),
            row(
                "2025-11",
                "2025-11-01",
                "2025-11-30",
                "base_fee",
                1,
                5200,
                5200,
            ),
        ];
        let input = input("2025-10-15", None, rows, vec![]);
        assert_eq!(
            apply(&Items::All, "service_activated", DAILY, &input).unwrap(),
            RuleOutcome::Should(vec![5200, 2348, 0])
        );
    }

    #[test]
    fn activation_ends_the_unbillable_window() {
        // Trigger 2025-10-01, activated 2025-11-11: November 1..10 unbillable (10 of 30 days):
        // 3,000 × 20 / 30 = 2,000. An activation before the trigger does not count.
        let rows = vec![
            row(
                "2025-10",
                "2025-10-01",
                "2025-10-31",
                "base_fee",
                1,
                3100,
                3100,
            ),
            row(
                "2025-11",
                "2025-11-01",
                "2025-11-30",
                "base_fee",
                1,
                3000,
                3000,
            ),
            row(
                "2025-12",
                "2025-12-01",
                "2025-12-31",
                "base_fee",
                1,
                3100,
                3100,
            ),
        ];
        let events = vec![
            event("service_activated", "2025-09-01", None, None),
            event("service_activated", "2025-11-11", None, None),
            event("service_activated", "2025-12-20", None, None),
        ];
        let input = input("2025-10-01", None, rows, events);
        assert_eq!(
            apply(&Items::All, "service_activated", DAILY, &input).unwrap(),
            RuleOutcome::Should(vec![0, 2000, 3100])
        );
    }
}
