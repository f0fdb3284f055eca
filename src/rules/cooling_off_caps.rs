//! cooling_off_caps: the customer cancelled within the cooling-off period. Recurring items are
//! chargeable only for `[opened_on, cancellation − 1]`; capped fees only up to their caps in total,
//! taking the account's rows of the item in the SPEC's order (a running total per account and
//! item). Accounts without `opened_on` never reach the plan: they are sent to review.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{Days, NaiveDate};
use polars::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::columns::*;
use super::expr::{self, int128};
use super::sql::{self, Dialect, View};
use super::{KindSpec, PlanContext, Rule};
use crate::generate::{Account, Events, Recipe, Span, SplitMix};
use crate::incident::wire::{Proration, WireDecimal};
use crate::incident::{ConfigError, Items, ProrationPolicy, Validator};
use crate::money::{Currency, Rounding};

pub const KIND: CoolingOffCapsKind = CoolingOffCapsKind;

pub struct CoolingOffCapsKind;

/// The kind's `[rule]` keys.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct Wire {
    recurring_items: Option<Vec<String>>,
    caps: Option<Vec<CapWire>>,
    proration: Option<Proration>,
    proration_rounding: Option<Rounding>,
}

/// One `[[rule.caps]]` entry.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CapWire {
    pub item: String,
    pub cap: WireDecimal,
}

#[derive(Debug, Clone)]
pub struct CoolingOffCaps {
    pub recurring_items: BTreeSet<String>,
    /// (item, cap in minor units), in file order.
    pub caps: Vec<(String, i64)>,
    pub proration: ProrationPolicy,
}

impl KindSpec for CoolingOffCapsKind {
    type Wire = Wire;
    const NAME: &'static str = "cooling_off_caps";
    const DEFAULT_TRIGGER: &'static str = "cooling_off";

    fn rule(
        &self,
        wire: Wire,
        check: &Validator,
        currency: Currency,
    ) -> Result<Arc<dyn Rule>, ConfigError> {
        let recurring_items: BTreeSet<String> =
            wire.recurring_items.unwrap_or_default().into_iter().collect();
        let mut caps = Vec::new();
        for (index, cap) in wire.caps.as_deref().unwrap_or_default().iter().enumerate() {
            if cap.item.is_empty() {
                return Err(check.error(&format!("rule.caps[{index}].item"), "is empty"));
            }
            if recurring_items.contains(&cap.item) {
                return Err(check.error(
                    &format!("rule.caps[{index}].item"),
                    format!("`{}` is also in rule.recurring_items; an item may not be both recurring and capped", cap.item),
                ));
            }
            if caps.iter().any(|(item, _)| item == &cap.item) {
                return Err(check.error(
                    &format!("rule.caps[{index}].item"),
                    format!("`{}` is capped twice", cap.item),
                ));
            }
            caps.push((
                cap.item.clone(),
                check.money(&format!("rule.caps[{index}].cap"), &cap.cap, currency)?,
            ));
        }
        if recurring_items.is_empty() && caps.is_empty() {
            return Err(check.error_hint(
                "rule",
                "cooling_off_caps needs `recurring_items` or `caps`",
                "list the monthly items in recurring_items and the capped fees in [[rule.caps]]",
            ));
        }
        Ok(Arc::new(CoolingOffCaps {
            recurring_items,
            caps,
            proration: check.proration(wire.proration, wire.proration_rounding),
        }))
    }
}

impl Rule for CoolingOffCaps {
    fn touched_items(&self) -> Items {
        Items::List(
            self.recurring_items
                .iter()
                .cloned()
                .chain(self.caps.iter().map(|(item, _)| item.clone()))
                .collect(),
        )
    }

    /// Caps are totals over every billing of the item.
    fn needs_all_months(&self) -> bool {
        true
    }

    /// A capped fee's should depends on what the account was billed for it before.
    fn depends_on_other_rows(&self) -> Option<Expr> {
        Some(expr::touched(&Items::List(
            self.caps.iter().map(|(item, _)| item.clone()).collect(),
        )))
    }

    /// Recurring items are prorated from `opened_on`.
    fn needs_opened_on(&self) -> bool {
        !self.recurring_items.is_empty()
    }

    fn plan(&self, rows: LazyFrame, _context: &PlanContext) -> PolarsResult<LazyFrame> {
        plan(rows, &self.recurring_items, &self.caps, self.proration)
    }

    fn sql(&self, dialect: Dialect) -> Vec<View> {
        let wide = dialect.wide();
        let capped = sql::in_list(
            dialect,
            "item",
            self.caps.iter().map(|(item, _)| item.as_str()),
        );
        // Recurring items: billable only on [opened_on, trigger − 1]; other items keep their amount.
        let billable = sql::overlap_days("__ps", "__pe", "__od", "__td - 1");
        let mut views = vec![(
            "rule_others".to_string(),
            format!(
                "SELECT *, (__pe - __ps + 1) - {billable} AS __unbillable FROM rule_rows WHERE NOT {capped}"
            ),
        )];
        views.extend(sql::prorated(
            dialect,
            "rule_others",
            &sql::in_list(
                dialect,
                "item",
                self.recurring_items.iter().map(String::as_str),
            ),
            self.proration,
            "rule_recurring",
        ));
        // Capped items: should(r) = min(amount(r), max(0, cap − Σ amount of earlier rows)).
        let cap_of: String = self
            .caps
            .iter()
            .map(|(item, cap)| format!(" WHEN {} THEN CAST({cap} AS {wide})", dialect.text(item)))
            .collect();
        views.push((
            "rule_running".to_string(),
            format!(
                "SELECT *, TRUE AS __touched,\n  SUM(CAST(amount AS {wide})) OVER (PARTITION BY account_id, item ORDER BY billing_month, period_start, period_end, amount, tax_rate ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - CAST(amount AS {wide}) AS __earlier,\n  CASE item{cap_of} END AS __cap\nFROM rule_rows WHERE {capped}"
            ),
        ));
        views.push((
            "rule_capped".to_string(),
            format!(
                "SELECT {},\n  CAST(LEAST(CAST(amount AS {wide}), GREATEST(__cap - __earlier, CAST(0 AS {wide}))) AS {wide}) AS __should,\n  {}\nFROM rule_running",
                dialect.star_except(&["__earlier", "__cap"]),
                sql::NO_PROBLEM
            ),
        ));
        views.push((
            "rule_planned".to_string(),
            "SELECT * FROM rule_recurring UNION ALL SELECT * FROM rule_capped".to_string(),
        ));
        views
    }

    fn overflow_label(&self) -> &'static str {
        "a capped fee"
    }

    fn explain(&self, trigger_date: NaiveDate) -> Vec<String> {
        let mut lines = Vec::new();
        if !self.recurring_items.is_empty() {
            lines.push(format!(
                "rule: rows of {} are chargeable only from opened_on to {} (the day before the cooling-off cancellation on {trigger_date}); {}",
                Items::List(self.recurring_items.clone()),
                trigger_date.pred_opt().unwrap_or(trigger_date),
                self.proration
            ));
        }
        for (item, cap) in &self.caps {
            lines.push(format!(
                "rule: {item} is chargeable up to {cap} in total over the account's rows of it, in billing order"
            ));
        }
        lines
    }
}

impl Recipe for CoolingOffCapsKind {
    fn per_mille(&self) -> u64 {
        6
    }

    fn plant(&self, random: &mut SplitMix, span: &Span) -> Option<NaiveDate> {
        if span.opened_on < span.first_day {
            return None;
        }
        Some(span.opened_on + Days::new(1 + random.below(7)))
    }

    fn effects(&self) -> crate::generate::Effects {
        crate::generate::Effects {
            closes_on_trigger: true,
            ..Default::default()
        }
    }

    fn events(&self, account: &Account, date: NaiveDate, _random: &mut SplitMix, events: &mut Events) {
        account.event(events, "cooling_off", date, "", None);
    }

    fn incident_body(&self) -> &'static str {
        "[rule]\nrecurring_items = [\"base_fee\", \"isp_fee\", \"wlan_card\"]\n[[rule.caps]]\nitem = \"construction\"\ncap = \"25000\"\n[[rule.caps]]\nitem = \"contract_fee\"\ncap = \"800\"\n\n[interest]\npolicy = \"statutory_jp\"\n\n"
    }

    fn title(&self) -> &'static str {
        "初期契約解除時の上限を超える請求"
    }

    fn title_en(&self) -> &'static str {
        "Charges above the limits on cooling-off cancellation"
    }
}

const EARLIER: &str = "__billed_earlier";
const CAP: &str = "__cap";
const UNBILLABLE: &str = "__unbillable";

fn plan(
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

    use super::CoolingOffCaps;
    use crate::incident::{Proration, ProrationPolicy};
    use crate::money::Rounding;
    use crate::rules::test_support::*;

    fn rule(recurring: &[&str], caps: &[(&str, i64)]) -> CoolingOffCaps {
        CoolingOffCaps {
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
