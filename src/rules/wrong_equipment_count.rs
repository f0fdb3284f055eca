//! wrong_equipment_count: rental billed for a different number of units than the customer had. The
//! true count is the latest `equipment_count` event on or before the row's period start.

use super::{RuleError, RuleOutcome};
use crate::incident::Items;
use crate::model::{AccountInput, ChargeRow, Event};
use crate::money::Overflow;

const KIND: &str = "equipment_count";

pub fn apply(items: &Items, input: &AccountInput) -> Result<RuleOutcome, RuleError> {
    let mut should = Vec::with_capacity(input.rows.len());
    for row in &input.rows {
        if !items.contains(&row.item) {
            should.push(row.amount);
            continue;
        }
        match true_count(&input.events, row).map_err(|message| RuleError::BadData {
            account_id: input.account.account_id.clone(),
            message,
        })? {
            Some(count) if count != row.quantity => should.push(
                count
                    .checked_mul(row.unit_price)
                    .ok_or(Overflow("true count × unit_price"))?,
            ),
            _ => should.push(row.amount),
        }
    }
    Ok(RuleOutcome::Should(should))
}

/// The quantity of the latest applicable event; a detail naming the item beats an empty detail on
/// the same date; any other disagreement on that date is bad data.
fn true_count(events: &[Event], row: &ChargeRow) -> Result<Option<i64>, String> {
    let applicable = events.iter().filter(|event| {
        event.kind == KIND
            && event.date <= row.period_start
            && match event.detail.as_deref() {
                None | Some("") => true,
                Some(detail) => detail == row.item,
            }
    });
    let Some(latest) = applicable.clone().map(|event| event.date).max() else {
        return Ok(None);
    };
    let on_latest: Vec<&Event> = applicable.filter(|event| event.date == latest).collect();
    let named: Vec<&Event> = on_latest
        .iter()
        .copied()
        .filter(|event| event.detail.as_deref() == Some(row.item.as_str()))
        .collect();
    let candidates = if named.is_empty() { on_latest } else { named };
    let first = candidates[0].quantity;
    if candidates.iter().any(|event| event.quantity != first) {
        let quantities: Vec<String> = candidates
            .iter()
            .map(|event| event.quantity.map(|q| q.to_string()).unwrap_or_default())
            .collect();
        return Err(format!(
            "equipment_count events on {latest} for item `{}` disagree (quantities {})\nhint: keep one equipment_count event per date and item in events",
            row.item,
            quantities.join(", ")
        ));
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::*;

    fn items() -> Items {
        Items::List(["wlan_card".to_string()].into_iter().collect())
    }

    #[test]
    fn over_and_under_billing_both_directions() {
        // 300 yen per card per month (315 incl. 5% tax). Two cards billed; true count 1 from 2008-04-01,
        // then 3 from 2008-06-01 (under-billed).
        let events = vec![
            event("equipment_count", "2008-04-01", Some("wlan_card"), Some(1)),
            event("equipment_count", "2008-06-01", None, Some(3)),
        ];
        let rows = vec![
            row(
                "2008-03",
                "2008-03-01",
                "2008-03-31",
                "wlan_card",
                2,
                300,
                600,
            ), // no event yet: untouched
            row(
                "2008-04",
                "2008-04-01",
                "2008-04-30",
                "wlan_card",
                2,
                300,
                600,
            ), // true 1 → 300
            row(
                "2008-05",
                "2008-05-01",
                "2008-05-31",
                "wlan_card",
                1,
                300,
                300,
            ), // true 1 = billed
            row(
                "2008-06",
                "2008-06-01",
                "2008-06-30",
                "wlan_card",
                2,
                300,
                600,
            ), // true 3 → 900
        ];
        let input = input("2008-04-01", None, rows, events);
        assert_eq!(
            apply(&items(), &input).unwrap(),
            RuleOutcome::Should(vec![600, 300, 300, 900])
        );
    }

    #[test]
    fn named_detail_beats_empty_on_the_same_date() {
        let events = vec![
            event("equipment_count", "2008-04-01", None, Some(5)),
            event("equipment_count", "2008-04-01", Some("wlan_card"), Some(1)),
            event("equipment_count", "2008-04-01", Some("router"), Some(9)),
        ];
        let rows = vec![row(
            "2008-04",
            "2008-04-01",
            "2008-04-30",
            "wlan_card",
            2,
            300,
            600,
        )];
        let input = input("2008-04-01", None, rows, events);
        assert_eq!(
            apply(&items(), &input).unwrap(),
            RuleOutcome::Should(vec![300])
        );
    }

    #[test]
    fn disagreement_is_bad_data() {
        let events = vec![
            event("equipment_count", "2008-04-01", Some("wlan_card"), Some(1)),
            event("equipment_count", "2008-04-01", Some("wlan_card"), Some(2)),
        ];
        let rows = vec![row(
            "2008-04",
            "2008-04-01",
            "2008-04-30",
            "wlan_card",
            2,
            300,
            600,
        )];
        let input = input("2008-04-01", None, rows, events);
        assert!(matches!(
            apply(&items(), &input),
            Err(RuleError::BadData { .. })
        ));
    }
}
