//! What should have been billed (SPEC §3): one file per incident kind, each a pure function from an
//! in-scope account's rows and events to `should(r)` for every touched row. Rows a rule does not
//! touch keep `should = amount`. Rules never compute tax or interest.

mod cooling_off_caps;
mod missed_cancellation;
mod missed_plan_change;
mod not_activated;
mod wrong_equipment_count;

use chrono::NaiveDate;

use crate::incident::{Proration, ProrationPolicy, Rule};
use crate::model::{AccountInput, ChargeRow};
use crate::money::{self, Overflow};

/// Why an in-scope account is left out for a person to look at (stable codes, SPEC §4 "Review").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReviewReason {
    /// cooling_off_caps needs `opened_on` to prorate recurring items.
    MissingOpenedOn,
    /// A charge row of the account was rejected under `--on-bad-rows reject`.
    RejectedChargeRow,
    /// An event row of the account that the incident reads was rejected.
    RejectedEventRow,
    /// The account's own row was rejected while it has trigger events.
    RejectedAccountRow,
}

impl ReviewReason {
    pub fn code(self) -> &'static str {
        match self {
            ReviewReason::MissingOpenedOn => "R01_missing_opened_on",
            ReviewReason::RejectedChargeRow => "R02_rejected_charge_row",
            ReviewReason::RejectedEventRow => "R03_rejected_event_row",
            ReviewReason::RejectedAccountRow => "R04_rejected_account_row",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            ReviewReason::MissingOpenedOn => {
                "opened_on is empty, so the cooling-off proration cannot be computed"
            }
            ReviewReason::RejectedChargeRow => {
                "a charge row of this account was rejected (see rejects.csv)"
            }
            ReviewReason::RejectedEventRow => {
                "an event row of this account was rejected (see rejects.csv)"
            }
            ReviewReason::RejectedAccountRow => {
                "the account's row in accounts was rejected (see rejects.csv)"
            }
        }
    }
}

/// A rule could not compute an account.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("account `{account_id}`: {message}")]
    BadData { account_id: String, message: String },
    #[error(transparent)]
    Overflow(#[from] Overflow),
}

/// What the rule decided for one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleOutcome {
    /// `should` for each of `input.rows`, in order.
    Should(Vec<i64>),
    /// The account cannot be computed automatically.
    Review(ReviewReason),
}

/// Applies the incident's rule to one in-scope account.
pub fn apply(rule: &Rule, input: &AccountInput) -> Result<RuleOutcome, RuleError> {
    match rule {
        Rule::MissedCancellation {
            items,
            effective,
            proration,
        } => missed_cancellation::apply(items, *effective, *proration, input),
        Rule::MissedPlanChange {
            applies_to,
            reprice,
            discount_rounding,
        } => missed_plan_change::apply(*applies_to, reprice, *discount_rounding, input),
        Rule::WrongEquipmentCount { items } => wrong_equipment_count::apply(items, input),
        Rule::BilledBeforeActivation {
            items,
            activation_event,
            proration,
        } => not_activated::apply(items, activation_event, *proration, input),
        Rule::CoolingOffCaps {
            recurring_items,
            caps,
            proration,
        } => cooling_off_caps::apply(recurring_items, caps, *proration, input),
    }
}

/// Days of a row's service period, both ends inclusive.
pub fn period_days(row: &ChargeRow) -> i64 {
    (row.period_end - row.period_start).num_days() + 1
}

/// Days in both `[a_start, a_end]` and `[b_start, b_end]` (inclusive).
pub fn overlap_days(
    a_start: NaiveDate,
    a_end: NaiveDate,
    b_start: NaiveDate,
    b_end: NaiveDate,
) -> i64 {
    let start = a_start.max(b_start);
    let end = a_end.min(b_end);
    if start > end {
        0
    } else {
        (end - start).num_days() + 1
    }
}

/// `should` of a row with `unbillable_days` of its period inside the unbillable window.
pub fn prorate(
    row: &ChargeRow,
    unbillable_days: i64,
    policy: ProrationPolicy,
) -> Result<i64, Overflow> {
    let days = period_days(row);
    if unbillable_days <= 0 {
        Ok(row.amount)
    } else if unbillable_days >= days {
        Ok(0)
    } else {
        match policy.proration {
            Proration::None => Ok(row.amount),
            Proration::Daily => money::mul_ratio(
                row.amount,
                days - unbillable_days,
                days,
                policy.rounding,
                "a prorated amount",
            ),
        }
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use crate::model::{Account, BankDetails, Event, Language, Status};
    use crate::money::Month;
    use rust_decimal::Decimal;

    pub fn date(text: &str) -> NaiveDate {
        money::parse_date(text).unwrap()
    }

    /// A row: month, period, item, quantity, unit price, amount; 10% tax, paid, no discount.
    pub fn row(
        month: &str,
        start: &str,
        end: &str,
        item: &str,
        quantity: i64,
        unit_price: i64,
        amount: i64,
    ) -> ChargeRow {
        ChargeRow {
            billing_month: Month::parse(month).unwrap(),
            period_start: date(start),
            period_end: date(end),
            item: item.to_string(),
            quantity,
            unit_price,
            list_amount: amount,
            discount_rate: Decimal::ZERO,
            amount,
            tax_rate: Decimal::new(1, 1),
            paid_on: None,
        }
    }

    pub fn event(kind: &str, on: &str, detail: Option<&str>, quantity: Option<i64>) -> Event {
        Event {
            kind: kind.to_string(),
            date: date(on),
            detail: detail.map(str::to_string),
            quantity,
        }
    }

    pub fn input(
        trigger: &str,
        opened_on: Option<&str>,
        rows: Vec<ChargeRow>,
        events: Vec<Event>,
    ) -> AccountInput {
        AccountInput {
            account: Account {
                account_id: "A1".to_string(),
                holder_name: "Holder".to_string(),
                postal_code: None,
                address: None,
                email: None,
                language: Language::Ja,
                region: None,
                plan: None,
                customer_type: None,
                opened_on: opened_on.map(date),
                status: Status::Active,
                closed_on: None,
                bank: BankDetails::default(),
                trigger_date: date(trigger),
            },
            rows,
            untouched: Vec::new(),
            events,
        }
    }
}
