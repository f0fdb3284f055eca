//! missed_cancellation: the customer asked to cancel and billing went on. Rows of the cancelled
//! items are unbillable on every day after the service end (the trigger date, or the last day of
//! its month).

use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::columns::TRIGGER_DATE;
use super::expr::{self, FOREVER};
use super::sql::{self, Dialect, View};
use super::{KindSpec, PlanContext, Rule};
use crate::generate::{Account, Events, Recipe, Span, SplitMix};
use crate::incident::wire::{ItemsWire, Proration};
use crate::incident::{ConfigError, Items, ProrationPolicy, Validator};
use crate::money::{Currency, Rounding};

pub const KIND: MissedCancellationKind = MissedCancellationKind;

pub struct MissedCancellationKind;

/// The kind's `[rule]` keys.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct Wire {
    items: Option<ItemsWire>,
    effective: Option<Effective>,
    proration: Option<Proration>,
    proration_rounding: Option<Rounding>,
}

// When the cancelled service ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Effective {
    EndOfMonth,
    EventDate,
}

#[derive(Debug, Clone)]
pub struct MissedCancellation {
    pub items: Items,
    pub effective: Effective,
    pub proration: ProrationPolicy,
}

impl KindSpec for MissedCancellationKind {
    type Wire = Wire;
    const NAME: &'static str = "missed_cancellation";
    const DEFAULT_TRIGGER: &'static str = "cancel_requested";

    fn rule(
        &self,
        wire: Wire,
        check: &Validator,
        _currency: Currency,
    ) -> Result<Arc<dyn Rule>, ConfigError> {
        Ok(Arc::new(MissedCancellation {
            items: check.items("rule.items", &wire.items, true, false)?,
            effective: wire.effective.unwrap_or(Effective::EndOfMonth),
            proration: check.proration(wire.proration, wire.proration_rounding),
        }))
    }
}

impl Rule for MissedCancellation {
    fn touched_items(&self) -> Items {
        self.items.clone()
    }

    fn plan(&self, rows: LazyFrame, _context: &PlanContext) -> PolarsResult<LazyFrame> {
        Ok(plan(rows, &self.items, self.effective, self.proration))
    }

    fn sql(&self, dialect: Dialect) -> Vec<View> {
        // Unbillable: every day after the service end.
        let service_end = match self.effective {
            Effective::EndOfMonth => dialect.days("last_day(__trigger_date)"),
            Effective::EventDate => "__td".to_string(),
        };
        let unbillable = sql::overlap_days(
            "__ps",
            "__pe",
            &format!("{service_end} + 1"),
            &sql::FOREVER.to_string(),
        );
        let mut views = vec![(
            "rule_unbillable".to_string(),
            format!("SELECT *, {unbillable} AS __unbillable FROM rule_rows"),
        )];
        views.extend(sql::prorated_items(dialect, &self.items, self.proration));
        views
    }

    fn overflow_label(&self) -> &'static str {
        "a prorated amount"
    }

    fn explain(&self, trigger_date: NaiveDate) -> Vec<String> {
        let service_end = match self.effective {
            Effective::EventDate => trigger_date,
            Effective::EndOfMonth => {
                let next = NaiveDate::from_ymd_opt(trigger_date.year(), trigger_date.month(), 1)
                    .and_then(|first| first.checked_add_months(chrono::Months::new(1)));
                next.and_then(|first| first.pred_opt())
                    .unwrap_or(trigger_date)
            }
        };
        vec![
            format!(
                "rule: the service ended {service_end} ({}); rows of {} are unbillable from the day after",
                match self.effective {
                    Effective::EventDate => "effective = event_date: the cancellation request",
                    Effective::EndOfMonth => "effective = end_of_month: the month of the request",
                },
                self.items
            ),
            format!("rule: {}", self.proration),
        ]
    }
}

impl Recipe for MissedCancellationKind {
    fn per_mille(&self) -> u64 {
        12
    }

    fn plant(&self, random: &mut SplitMix, span: &Span) -> Option<NaiveDate> {
        Some(span.any_day(random))
    }

    fn effects(&self) -> crate::generate::Effects {
        crate::generate::Effects {
            keeps_account_open: true,
            ..Default::default()
        }
    }

    fn events(&self, account: &Account, date: NaiveDate, _random: &mut SplitMix, events: &mut Events) {
        account.event(events, "cancel_requested", date, "", None);
    }

    fn incident_body(&self) -> &'static str {
        "[rule]\nitems = [\"base_fee\", \"isp_fee\"]\neffective = \"end_of_month\"\n\n[interest]\npolicy = \"fixed\"\nrate = \"0.145\"\n\n"
    }

    fn title(&self) -> &'static str {
        "解約手続き漏れによる過大請求"
    }

    fn title_en(&self) -> &'static str {
        "Over-billing after cancellations were not processed"
    }
}

fn plan(
    rows: LazyFrame,
    items: &Items,
    effective: Effective,
    proration: ProrationPolicy,
) -> LazyFrame {
    const UNBILLABLE: &str = "__unbillable";
    const SERVICE_END: &str = "__service_end";
    let rows = match effective {
        Effective::EndOfMonth => expr::with_month_end_days(rows, TRIGGER_DATE, SERVICE_END),
        Effective::EventDate => rows.with_column(expr::days(col(TRIGGER_DATE)).alias(SERVICE_END)),
    };
    let service_end = col(SERVICE_END);
    let unbillable = expr::overlap_days(
        expr::days(col("period_start")),
        expr::days(col("period_end")),
        service_end + lit(1i64),
        lit(FOREVER),
    );
    let rows = rows.with_column(unbillable.alias(UNBILLABLE));
    expr::prorated(rows, expr::touched(items), UNBILLABLE, proration)
        .drop(Selector::ByName {
            names: [PlSmallStr::from(UNBILLABLE), PlSmallStr::from(SERVICE_END)].into(),
            strict: true,
        })
        .with_columns(expr::no_problem())
}

#[cfg(test)]
mod tests {
    use super::{Effective, MissedCancellation};
    use crate::incident::{Items, Proration, ProrationPolicy};
    use crate::money::Rounding;
    use crate::rules::test_support::*;

    fn rule(effective: Effective, proration: Proration, rounding: Rounding) -> MissedCancellation {
        MissedCancellation {
            items: Items::List(["base_fee".to_string()].into_iter().collect()),
            effective,
            proration: ProrationPolicy {
                proration,
                rounding,
            },
        }
    }

    #[test]
    fn end_of_month_refunds_whole_later_months_only() {
        // Cancel asked 2009-03-10 → service ends 2009-03-31.
        let rows = [
            row(
                "2009-03",
                "2009-03-01",
                "2009-03-31",
                "base_fee",
                1,
                3000,
                3000,
            ), // in service
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
            ), // other item
        ];
        let rule = rule(Effective::EndOfMonth, Proration::Daily, Rounding::Down);
        assert_eq!(
            should(&rule, "2009-03-10", None, &rows, &[]),
            Ok(vec![3000, 0, 1000])
        );
    }

    #[test]
    fn event_date_prorates_the_straddling_period() {
        // Cancel effective 2009-03-10: March 1..10 billable = 10 of 31 days.
        // 3,000 × 10 / 31 = 967.74… → down 967, half_up 968, up 968; none keeps 3,000.
        let rows = [row(
            "2009-03",
            "2009-03-01",
            "2009-03-31",
            "base_fee",
            1,
            3000,
            3000,
        )];
        let cases = [
            (Proration::Daily, Rounding::Down, 967),
            (Proration::Daily, Rounding::HalfUp, 968),
            (Proration::Daily, Rounding::Up, 968),
            (Proration::Daily, Rounding::HalfEven, 968),
            (Proration::None, Rounding::Down, 3000),
        ];
        for (proration, rounding, expected) in cases {
            let rule = rule(Effective::EventDate, proration, rounding);
            assert_eq!(
                should(&rule, "2009-03-10", None, &rows, &[]),
                Ok(vec![expected]),
                "{proration:?} {rounding}"
            );
        }
    }

    #[test]
    fn leap_february_straddle() {
        // Cancel effective 2024-02-10, row covers 2024-02-01..2024-02-29 (29 days), 10 billable:
        // 2,900 × 10 / 29 = 1,000 exactly.
        let rows = [row(
            "2024-02",
            "2024-02-01",
            "2024-02-29",
            "base_fee",
            1,
            2900,
            2900,
        )];
        let rule = rule(Effective::EventDate, Proration::Daily, Rounding::Down);
        assert_eq!(
            should(&rule, "2024-02-10", None, &rows, &[]),
            Ok(vec![1000])
        );
    }

    #[test]
    fn negative_rows_prorate_toward_zero() {
        // A −620 line for March, service ends 03-10: −620 × 10 / 31 = −200 exactly; −610 × 10 / 31
        // = −196.77…: down (toward zero) −196, up −197, half_up −197.
        let rows = [
            row(
                "2009-03",
                "2009-03-01",
                "2009-03-31",
                "base_fee",
                1,
                -620,
                -620,
            ),
            row(
                "2009-03",
                "2009-03-01",
                "2009-03-31",
                "base_fee",
                1,
                -610,
                -610,
            ),
        ];
        for (rounding, expected) in [
            (Rounding::Down, -196),
            (Rounding::Up, -197),
            (Rounding::HalfUp, -197),
        ] {
            let rule = rule(Effective::EventDate, Proration::Daily, rounding);
            assert_eq!(
                should(&rule, "2009-03-10", None, &rows, &[]),
                Ok(vec![-200, expected])
            );
        }
    }

    #[test]
    fn half_even_ties_on_both_signs() {
        // 31-day period with 31 × k / 2 style ties: 62 × 15.5/31… use a 2-day period, 1 billable:
        // 5 × 1 / 2 = 2.5 → half_even 2, half_up 3; −5 → −2 and −3; 7 × 1 / 2 = 3.5 → 4 both.
        let rows = [
            row("2009-03", "2009-03-09", "2009-03-10", "base_fee", 1, 5, 5),
            row("2009-03", "2009-03-09", "2009-03-10", "base_fee", 1, -5, -5),
            row("2009-03", "2009-03-09", "2009-03-10", "base_fee", 1, 7, 7),
        ];
        let even = rule(Effective::EventDate, Proration::Daily, Rounding::HalfEven);
        assert_eq!(
            should(&even, "2009-03-09", None, &rows, &[]),
            Ok(vec![2, -2, 4])
        );
        let up = rule(Effective::EventDate, Proration::Daily, Rounding::HalfUp);
        assert_eq!(
            should(&up, "2009-03-09", None, &rows, &[]),
            Ok(vec![3, -3, 4])
        );
    }
}
