//! billed_before_activation: the account was billed as if active but service was not provided
//! until the first activation event on or after the trigger date (or never). Rows of the rule's
//! items are unbillable from the trigger date to the day before activation.

use std::sync::Arc;

use chrono::{Days, NaiveDate};
use polars::prelude::*;
use schemars::JsonSchema;
use serde::Deserialize;

use super::columns::{ACCOUNT_NO, TRIGGER_DATE};
use super::sql::{self, Dialect, View};
use super::expr::{self, FOREVER};
use super::{KindSpec, PlanContext, Rule};
use crate::generate::{Account, Events, Recipe, Span, SplitMix};
use crate::incident::wire::{ItemsWire, Proration};
use crate::incident::{ConfigError, Items, ProrationPolicy, Validator};
use crate::money::{Currency, Rounding};

pub const KIND: BilledBeforeActivationKind = BilledBeforeActivationKind;

pub struct BilledBeforeActivationKind;

/// The kind's `[rule]` keys.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct Wire {
    items: Option<ItemsWire>,
    activation_event: Option<String>,
    proration: Option<Proration>,
    proration_rounding: Option<Rounding>,
}

#[derive(Debug, Clone)]
pub struct BilledBeforeActivation {
    pub items: Items,
    pub activation_event: String,
    pub proration: ProrationPolicy,
}

impl KindSpec for BilledBeforeActivationKind {
    type Wire = Wire;
    const NAME: &'static str = "billed_before_activation";
    const DEFAULT_TRIGGER: &'static str = "installation_incomplete";

    fn rule(
        &self,
        wire: Wire,
        check: &Validator,
        _currency: Currency,
    ) -> Result<Arc<dyn Rule>, ConfigError> {
        Ok(Arc::new(BilledBeforeActivation {
            items: check.items("rule.items", &wire.items, false, true)?,
            activation_event: wire
                .activation_event
                .unwrap_or_else(|| "service_activated".to_string()),
            proration: check.proration(wire.proration, wire.proration_rounding),
        }))
    }
}

impl Rule for BilledBeforeActivation {
    fn touched_items(&self) -> Items {
        self.items.clone()
    }

    fn read_event_kinds(&self) -> Vec<String> {
        vec![self.activation_event.clone()]
    }

    fn plan(&self, rows: LazyFrame, context: &PlanContext) -> PolarsResult<LazyFrame> {
        Ok(plan(
            rows,
            &self.items,
            &self.activation_event,
            self.proration,
            context,
        ))
    }

    fn sql(&self, dialect: Dialect) -> Vec<View> {
        // The earliest activation event on or after each account's trigger date; U = [trigger,
        // activation − 1], or every day from the trigger when never activated.
        let activation = format!(
            "SELECT a.account_id, MIN(e.day) AS __activation\nFROM rule_accounts a JOIN rule_events e ON e.account_id = a.account_id\nWHERE e.kind = {} AND e.day >= a.__td\nGROUP BY a.account_id",
            dialect.text(&self.activation_event)
        );
        let unbillable = sql::overlap_days(
            "r.__ps",
            "r.__pe",
            "r.__td",
            &format!("COALESCE(v.__activation - 1, {})", sql::FOREVER),
        );
        let mut views = vec![
            ("rule_activation".to_string(), activation),
            (
                "rule_unbillable".to_string(),
                format!(
                    "SELECT r.*, {unbillable} AS __unbillable\nFROM rule_rows r LEFT JOIN rule_activation v ON v.account_id = r.account_id"
                ),
            ),
        ];
        views.extend(sql::prorated_items(dialect, &self.items, self.proration));
        views
    }

    fn overflow_label(&self) -> &'static str {
        "a prorated amount"
    }

    fn explain(&self, trigger_date: NaiveDate) -> Vec<String> {
        vec![
            format!(
                "rule: rows of {} are unbillable from {trigger_date} to the day before the first `{}` event on or after it (every later day when there is none)",
                self.items, self.activation_event
            ),
            format!("rule: {}", self.proration),
        ]
    }
}

impl Recipe for BilledBeforeActivationKind {
    fn per_mille(&self) -> u64 {
        6
    }

    fn plant(&self, _random: &mut SplitMix, span: &Span) -> Option<NaiveDate> {
        Some(span.opened_on.max(span.first_day))
    }

    fn events(&self, account: &Account, date: NaiveDate, random: &mut SplitMix, events: &mut Events) {
        account.event(events, "installation_incomplete", date, "", None);
        if random.chance(600) {
            let activated = date + Days::new(10 + random.below(90));
            account.event(events, "service_activated", activated, "", None);
        }
    }

    fn incident_body(&self) -> &'static str {
        "[rule]\nitems = \"*\"\nactivation_event = \"service_activated\"\n\n[interest]\npolicy = \"statutory_jp\"\n\n"
    }

    fn title(&self) -> &'static str {
        "開通前の料金請求"
    }

    fn title_en(&self) -> &'static str {
        "Billing before the service was activated"
    }
}

const ACTIVATION: &str = "__activation";
const UNBILLABLE: &str = "__unbillable";

fn plan(
    rows: LazyFrame,
    items: &Items,
    activation_event: &str,
    proration: ProrationPolicy,
    context: &PlanContext,
) -> LazyFrame {
    // The earliest activation event on or after each account's trigger date.
    let activations = context
        .events
        .clone()
        .lazy()
        .filter(col("kind").eq(lit(activation_event.to_string())))
        .join(
            context.accounts.clone().lazy(),
            [col(ACCOUNT_NO)],
            [col(ACCOUNT_NO)],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(col("date").gt_eq(col(TRIGGER_DATE)))
        .group_by([col(ACCOUNT_NO)])
        .agg([col("date").min().alias(ACTIVATION)]);
    // U = [trigger, activation − 1], or every day from the trigger when never activated.
    let unbillable_end = when(col(ACTIVATION).is_null())
        .then(lit(FOREVER))
        .otherwise(expr::days(col(ACTIVATION)) - lit(1i64));
    let unbillable = expr::overlap_days(
        expr::days(col("period_start")),
        expr::days(col("period_end")),
        expr::days(col(TRIGGER_DATE)),
        unbillable_end,
    );
    let rows = rows
        .join(
            activations,
            [col(ACCOUNT_NO)],
            [col(ACCOUNT_NO)],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(unbillable.alias(UNBILLABLE));
    expr::prorated(rows, expr::touched(items), UNBILLABLE, proration)
        .drop(Selector::ByName {
            names: [PlSmallStr::from(ACTIVATION), PlSmallStr::from(UNBILLABLE)].into(),
            strict: true,
        })
        .with_columns(expr::no_problem())
}

#[cfg(test)]
mod tests {
    use super::BilledBeforeActivation;
    use crate::incident::{Items, Proration, ProrationPolicy};
    use crate::money::Rounding;
    use crate::rules::test_support::*;

    fn rule() -> BilledBeforeActivation {
        BilledBeforeActivation {
            items: Items::All,
            activation_event: "service_activated".to_string(),
            proration: ProrationPolicy {
                proration: Proration::Daily,
                rounding: Rounding::Down,
            },
        }
    }

    #[test]
    fn never_activated_refunds_everything_from_the_trigger() {
        // Installation aborted 2025-10-15; never activated. October row 10-01..10-31: 17 of 31 days
        // unbillable (15..31) → 5,200 × 14 / 31 = 2,348.38… → 2,348. November wholly unbillable → 0.
        // A September row wholly before the trigger is untouched.
        let rows = [
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
        assert_eq!(
            should(&rule(), "2025-10-15", None, &rows, &[]),
            Ok(vec![5200, 2348, 0])
        );
    }

    #[test]
    fn activation_ends_the_unbillable_window() {
        // Trigger 2025-10-01, activated 2025-11-11: November 1..10 unbillable (10 of 30 days):
        // 3,000 × 20 / 30 = 2,000. An activation before the trigger does not count.
        let rows = [
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
        let events = [
            ("service_activated", "2025-09-01", None, None),
            ("service_activated", "2025-11-11", None, None),
            ("service_activated", "2025-12-20", None, None),
        ];
        assert_eq!(
            should(&rule(), "2025-10-01", None, &rows, &events),
            Ok(vec![0, 2000, 3100])
        );
    }
}
