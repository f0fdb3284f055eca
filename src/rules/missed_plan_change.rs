//! missed_plan_change: a registration should have moved the account to a cheaper price or a
//! bigger discount. Applicable rows are repriced by the first matching `[[rule.reprice]]` entry
//! (file order), as one chain of polars conditions.

use std::sync::Arc;

use chrono::NaiveDate;
use polars::prelude::*;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::columns::*;
use super::expr::{self, int128};
use super::sql::{self, Dialect, View};
use super::{KindSpec, PlanContext, Rule};
use crate::generate::{Account, Events, Recipe, Span, SplitMix};
use crate::incident::wire::WireDecimal;
use crate::incident::{ConfigError, Items, Validator};
use crate::load::rate_literal;
use crate::money::{self, Currency, Rounding};

pub const KIND: MissedPlanChangeKind = MissedPlanChangeKind;

pub struct MissedPlanChangeKind;

/// The kind's `[rule]` keys.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct Wire {
    applies_to: Option<AppliesTo>,
    reprice: Option<Vec<RepriceWire>>,
    discount_rounding: Option<Rounding>,
}

// Which rows the new price applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AppliesTo {
    PeriodsStartingOnOrAfter,
    PeriodsContaining,
}

/// One `[[rule.reprice]]` entry.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepriceWire {
    pub item: String,
    pub unit_price: Option<WireDecimal>,
    pub discount_rate: Option<WireDecimal>,
    pub match_unit_price: Option<WireDecimal>,
    pub match_discount_rate: Option<WireDecimal>,
}

#[derive(Debug, Clone)]
pub enum RepriceTarget {
    /// should = quantity × unit price (minor units).
    UnitPrice(i64),
    /// should = L − R_d(L × rate).
    DiscountRate(Decimal),
}

#[derive(Debug, Clone)]
pub struct Reprice {
    pub item: String,
    pub target: RepriceTarget,
    pub match_unit_price: Option<i64>,
    pub match_discount_rate: Option<Decimal>,
}

#[derive(Debug, Clone)]
pub struct MissedPlanChange {
    pub applies_to: AppliesTo,
    pub reprice: Vec<Reprice>,
    pub discount_rounding: Rounding,
}

impl KindSpec for MissedPlanChangeKind {
    type Wire = Wire;
    const NAME: &'static str = "missed_plan_change";
    const DEFAULT_TRIGGER: &'static str = "registration";

    fn rule(
        &self,
        wire: Wire,
        check: &Validator,
        currency: Currency,
    ) -> Result<Arc<dyn Rule>, ConfigError> {
        let entries = wire.reprice.as_deref().unwrap_or_default();
        if entries.is_empty() {
            return Err(check.error_hint(
                "rule.reprice",
                "is required for missed_plan_change",
                "add [[rule.reprice]] entries with `item` and `unit_price` or `discount_rate`",
            ));
        }
        let mut reprice = Vec::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            let key = |name: &str| format!("rule.reprice[{index}].{name}");
            if entry.item.is_empty() {
                return Err(check.error(&key("item"), "is empty"));
            }
            let target = match (&entry.unit_price, &entry.discount_rate) {
                (Some(price), None) => {
                    RepriceTarget::UnitPrice(check.money(&key("unit_price"), price, currency)?)
                }
                (None, Some(rate)) => {
                    RepriceTarget::DiscountRate(check.rate(&key("discount_rate"), rate, true)?)
                }
                _ => {
                    return Err(check.error(
                        &format!("rule.reprice[{index}]"),
                        "needs exactly one of `unit_price` and `discount_rate`",
                    ));
                }
            };
            reprice.push(Reprice {
                item: entry.item.clone(),
                target,
                match_unit_price: entry
                    .match_unit_price
                    .as_ref()
                    .map(|value| check.money(&key("match_unit_price"), value, currency))
                    .transpose()?,
                match_discount_rate: entry
                    .match_discount_rate
                    .as_ref()
                    .map(|value| check.rate(&key("match_discount_rate"), value, true))
                    .transpose()?,
            });
        }
        Ok(Arc::new(MissedPlanChange {
            applies_to: wire
                .applies_to
                .unwrap_or(AppliesTo::PeriodsStartingOnOrAfter),
            reprice,
            discount_rounding: wire.discount_rounding.unwrap_or_default(),
        }))
    }
}

impl Rule for MissedPlanChange {
    fn touched_items(&self) -> Items {
        Items::List(self.reprice.iter().map(|entry| entry.item.clone()).collect())
    }

    fn plan(&self, rows: LazyFrame, _context: &PlanContext) -> PolarsResult<LazyFrame> {
        Ok(plan(
            rows,
            self.applies_to,
            &self.reprice,
            self.discount_rounding,
        ))
    }

    fn sql(&self, dialect: Dialect) -> Vec<View> {
        let wide = dialect.wide();
        let applies = match self.applies_to {
            AppliesTo::PeriodsStartingOnOrAfter => "period_start >= __trigger_date",
            AppliesTo::PeriodsContaining => "period_end >= __trigger_date",
        };
        // The first matching entry in file order wins, as CASE takes its first true branch.
        let mut should = String::from("CASE");
        for entry in &self.reprice {
            let mut condition = format!("{applies} AND item = {}", dialect.text(&entry.item));
            if let Some(price) = entry.match_unit_price {
                condition.push_str(&format!(" AND unit_price = {price}"));
            }
            if let Some(rate) = entry.match_discount_rate {
                condition.push_str(&format!(" AND discount_rate = {}", rate_sql(rate)));
            }
            let repriced = match &entry.target {
                RepriceTarget::UnitPrice(price) => {
                    format!("CAST(quantity AS {wide}) * CAST({price} AS {wide})")
                }
                RepriceTarget::DiscountRate(rate) => {
                    // L − R_d(L × Q), with Q = mantissa / 10^scale exactly.
                    let rate = rate.normalize();
                    let numerator = format!(
                        "CAST(list_amount AS {wide}) * CAST({} AS {wide})",
                        rate.mantissa()
                    );
                    let denominator = format!("CAST({} AS {wide})", 10i128.pow(rate.scale()));
                    format!(
                        "CAST(list_amount AS {wide}) - {}",
                        sql::round_ratio(dialect, &numerator, &denominator, self.discount_rounding)
                    )
                }
            };
            should.push_str(&format!("\n    WHEN {condition} THEN {repriced}"));
        }
        should.push_str(&format!("\n    ELSE CAST(amount AS {wide}) END"));
        let items = Items::List(self.reprice.iter().map(|entry| entry.item.clone()).collect());
        vec![(
            "rule_planned".to_string(),
            format!(
                "SELECT *, {} AS __touched,\n  CAST({should} AS {wide}) AS __should,\n  {}\nFROM rule_rows",
                sql::touched(dialect, &items),
                sql::NO_PROBLEM
            ),
        )]
    }

    fn overflow_label(&self) -> &'static str {
        "a repriced amount"
    }

    fn explain(&self, trigger_date: NaiveDate) -> Vec<String> {
        let mut lines = vec![format!(
            "rule: rows {} {trigger_date} are repriced by the first entry that matches (file order):",
            match self.applies_to {
                AppliesTo::PeriodsStartingOnOrAfter => "whose period starts on or after",
                AppliesTo::PeriodsContaining => "whose period ends on or after",
            }
        )];
        for entry in &self.reprice {
            let mut condition = String::new();
            if let Some(price) = entry.match_unit_price {
                condition.push_str(&format!(" billed at unit_price {price}"));
            }
            if let Some(rate) = entry.match_discount_rate {
                condition.push_str(&format!(" billed with discount_rate {rate}"));
            }
            let target = match &entry.target {
                RepriceTarget::UnitPrice(price) => format!("should = quantity × {price}"),
                RepriceTarget::DiscountRate(rate) => format!(
                    "should = list_amount − list_amount × {rate} (rounded {})",
                    self.discount_rounding
                ),
            };
            lines.push(format!("rule:   {}{condition}: {target}", entry.item));
        }
        lines
    }
}

impl Recipe for MissedPlanChangeKind {
    fn per_mille(&self) -> u64 {
        25
    }

    fn plant(&self, random: &mut SplitMix, span: &Span) -> Option<NaiveDate> {
        Some(span.any_day(random))
    }

    fn effects(&self) -> crate::generate::Effects {
        crate::generate::Effects {
            registers_kenta: true,
            ..Default::default()
        }
    }

    fn events(&self, account: &Account, date: NaiveDate, _random: &mut SplitMix, events: &mut Events) {
        account.event(events, "registration", date, "myline_plus", None);
    }

    fn incident_body(&self) -> &'static str {
        "[trigger]\ndetail = \"myline_plus\"\n\n[rule]\napplies_to = \"periods_starting_on_or_after\"\n[[rule.reprice]]\nitem = \"kenta_toll\"\ndiscount_rate = \"0.35\"\nmatch_discount_rate = \"0.3\"\n[[rule.reprice]]\nitem = \"plan_fee\"\nunit_price = \"100\"\nmatch_unit_price = \"200\"\n\n[interest]\npolicy = \"statutory_jp\"\n\n"
    }

    fn title(&self) -> &'static str {
        "割引サービスの適用漏れ"
    }

    fn title_en(&self) -> &'static str {
        "A discount service that was not applied"
    }
}

fn plan(
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

/// A rate as an exact SQL decimal of the type rates are read as.
fn rate_sql(rate: Decimal) -> String {
    format!("CAST('{}' AS DECIMAL(38,{}))", rate.normalize(), crate::load::RATE_SCALE)
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

    use super::{AppliesTo, MissedPlanChange, Reprice, RepriceTarget};
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

    fn rule(
        applies_to: AppliesTo,
        reprice: Vec<Reprice>,
        discount_rounding: Rounding,
    ) -> MissedPlanChange {
        MissedPlanChange {
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
