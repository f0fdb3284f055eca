//! wrong_equipment_count: rental billed for a different number of units than the customer had.
//! The true count of a row is the latest `equipment_count` event on or before its period start
//! whose detail names the row's item or is empty; on one date a named event beats an empty one, and
//! any remaining disagreement is bad data.
//!
//! The lookup is an interval join, with no sort of the charges: the events (small) become
//! timelines of segments `[from, to]` per account and item, each with the count in force, and every
//! touched row is matched to the one segment that contains its period start.

use std::sync::Arc;

use chrono::NaiveDate;
use polars::prelude::*;
use schemars::JsonSchema;
use serde::Deserialize;

use super::columns::*;
use super::expr::{self, FOREVER, NEVER};
use super::sql::{self, Dialect, View};
use super::{KindSpec, PlanContext, Rule, RowProblemCode};
use crate::generate::{Account, Events, Recipe, Span, SplitMix};
use crate::incident::wire::ItemsWire;
use crate::incident::{ConfigError, Items, Validator};
use crate::money::Currency;

pub const KIND: WrongEquipmentCountKind = WrongEquipmentCountKind;

pub struct WrongEquipmentCountKind;

/// The kind's `[rule]` keys.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct Wire {
    items: Option<ItemsWire>,
}

#[derive(Debug, Clone)]
pub struct WrongEquipmentCount {
    pub items: Items,
}

impl KindSpec for WrongEquipmentCountKind {
    type Wire = Wire;
    const NAME: &'static str = "wrong_equipment_count";
    const DEFAULT_TRIGGER: &'static str = COUNT_EVENT;

    fn rule(
        &self,
        wire: Wire,
        check: &Validator,
        _currency: Currency,
    ) -> Result<Arc<dyn Rule>, ConfigError> {
        Ok(Arc::new(WrongEquipmentCount {
            items: check.items("rule.items", &wire.items, true, false)?,
        }))
    }
}

impl Rule for WrongEquipmentCount {
    fn touched_items(&self) -> Items {
        self.items.clone()
    }

    fn read_event_kinds(&self) -> Vec<String> {
        vec![COUNT_EVENT.to_string()]
    }

    fn plan(&self, rows: LazyFrame, context: &PlanContext) -> PolarsResult<LazyFrame> {
        plan(rows, &self.items, context)
    }

    fn sql(&self, dialect: Dialect) -> Vec<View> {
        let wide = dialect.wide();
        let touched = sql::touched(dialect, &self.items);
        vec![
            (
                "rule_marked".to_string(),
                format!("SELECT *, {touched} AS __touched FROM rule_rows"),
            ),
            // The true count depends on the row's account, item and period start alone.
            (
                "rule_keys".to_string(),
                "SELECT DISTINCT account_id, item, __ps FROM rule_marked WHERE __touched".to_string(),
            ),
            // The account's equipment_count events on or before the period start that name the
            // item or have an empty detail.
            (
                "rule_candidates".to_string(),
                format!(
                    "SELECT k.account_id, k.item, k.__ps, e.day, e.detail IS NOT NULL AS named, e.quantity\nFROM rule_keys k JOIN rule_events e ON e.account_id = k.account_id\nWHERE e.kind = {} AND e.day <= k.__ps AND (e.detail IS NULL OR e.detail = k.item)",
                    dialect.text(COUNT_EVENT)
                ),
            ),
            (
                "rule_latest".to_string(),
                "SELECT account_id, item, __ps, MAX(day) AS day FROM rule_candidates GROUP BY account_id, item, __ps".to_string(),
            ),
            // On the latest date, events naming the item beat empty-detail ones; any remaining
            // disagreement is a conflict.
            (
                "rule_deciding".to_string(),
                "SELECT c.* FROM rule_candidates c JOIN rule_latest l\n  ON c.account_id = l.account_id AND c.item = l.item AND c.__ps = l.__ps AND c.day = l.day".to_string(),
            ),
            (
                "rule_truth".to_string(),
                "SELECT account_id, item, __ps, MIN(day) AS day,\n  COUNT(CASE WHEN named THEN 1 END) AS named_events,\n  MIN(CASE WHEN named THEN quantity END) AS named_low, MAX(CASE WHEN named THEN quantity END) AS named_high,\n  MIN(CASE WHEN NOT named THEN quantity END) AS empty_low, MAX(CASE WHEN NOT named THEN quantity END) AS empty_high\nFROM rule_deciding GROUP BY account_id, item, __ps".to_string(),
            ),
            (
                "rule_count".to_string(),
                "SELECT account_id, item, __ps, day,\n  CASE WHEN named_events > 0 THEN named_low ELSE empty_low END AS true_count,\n  CASE WHEN named_events > 0 THEN named_low <> named_high ELSE empty_low <> empty_high END AS conflict\nFROM rule_truth".to_string(),
            ),
            (
                "rule_planned".to_string(),
                format!(
                    "SELECT r.*,\n  CAST(CASE WHEN r.__touched AND t.true_count IS NOT NULL AND t.true_count <> r.quantity\n    THEN CAST(t.true_count AS {wide}) * CAST(r.unit_price AS {wide}) ELSE CAST(r.amount AS {wide}) END AS {wide}) AS __should,\n  CASE WHEN r.__touched AND COALESCE(t.conflict, FALSE) THEN {} ELSE 0 END AS __problem,\n  CASE WHEN r.__touched THEN t.day END AS __segment_date\nFROM rule_marked r LEFT JOIN rule_count t ON t.account_id = r.account_id AND t.item = r.item AND t.__ps = r.__ps",
                    RowProblemCode::EquipmentConflict as i32
                ),
            ),
        ]
    }

    fn overflow_label(&self) -> &'static str {
        "true count × unit_price"
    }

    fn explain(&self, _trigger_date: NaiveDate) -> Vec<String> {
        vec![format!(
            "rule: a row of {} should be (true count) × unit_price, the true count being the latest `{COUNT_EVENT}` event on or before its period_start that names the item or has no detail (a named one wins on the same date); rows before any such event are left as billed",
            self.items
        )]
    }
}

impl Recipe for WrongEquipmentCountKind {
    fn per_mille(&self) -> u64 {
        25
    }

    fn plant(&self, random: &mut SplitMix, span: &Span) -> Option<NaiveDate> {
        Some(span.any_day(random))
    }

    fn effects(&self) -> crate::generate::Effects {
        crate::generate::Effects {
            rents_wlan_cards: true,
            ..Default::default()
        }
    }

    fn events(&self, account: &Account, date: NaiveDate, random: &mut SplitMix, events: &mut Events) {
        // The true count differs from what is billed: fewer (over-billed) or more (under-billed).
        let truth = if random.chance(450) {
            account.wlan_cards + 1
        } else {
            account.wlan_cards - 1
        };
        account.event(events, COUNT_EVENT, date, "wlan_card", Some(truth));
    }

    fn incident_body(&self) -> &'static str {
        "[trigger]\ndetail = \"wlan_card\"\n\n[rule]\nitems = [\"wlan_card\"]\n\n[interest]\npolicy = \"fixed\"\nrate = \"0.145\"\n\n"
    }

    fn title(&self) -> &'static str {
        "無線LANカード貸与枚数の登録誤り"
    }

    fn title_en(&self) -> &'static str {
        "Wrongly registered numbers of rented wireless LAN cards"
    }
}

const COUNT_EVENT: &str = "equipment_count";

const TRUE_COUNT: &str = "__true_count";
const CONFLICT: &str = "__conflict";
const KEY: &str = "__timeline_key";

fn plan(rows: LazyFrame, items: &Items, context: &PlanContext) -> PolarsResult<LazyFrame> {
    let counts = context
        .events
        .clone()
        .lazy()
        .filter(col("kind").eq(lit(COUNT_EVENT)))
        .select([
            col(ACCOUNT_NO),
            expr::days(col("date")).alias("day"),
            col("detail"),
            col("quantity"),
        ]);
    let names: Vec<PlSmallStr> = rows
        .clone()
        .collect_schema()?
        .iter_names()
        .cloned()
        .collect();
    let rows = rows
        .with_column(expr::touched(items).alias(TOUCHED))
        .cache();
    let touched = rows.clone().filter(col(TOUCHED));
    let touched = match items {
        Items::List(list) => true_counts_by_key(touched, counts, list)?,
        Items::All => true_counts(touched, counts)?,
    };
    let true_count = col(TRUE_COUNT);
    let touched = touched.with_columns([
        when(
            true_count
                .clone()
                .is_not_null()
                .and(true_count.clone().neq(col("quantity"))),
        )
        .then(true_count.cast(DataType::Int128) * col("unit_price").cast(DataType::Int128))
        .otherwise(col("amount").cast(DataType::Int128))
        .alias(SHOULD),
        when(col(CONFLICT).fill_null(lit(false)))
            .then(RowProblemCode::EquipmentConflict.literal())
            .otherwise(RowProblemCode::None.literal())
            .alias(PROBLEM),
    ]);
    let others = rows.filter(col(TOUCHED).not()).with_columns(
        [
            [col("amount").cast(DataType::Int128).alias(SHOULD)].as_slice(),
            &expr::no_problem(),
        ]
        .concat(),
    );
    let mut order: Vec<Expr> = names.into_iter().map(col).collect();
    order.extend([col(TOUCHED), col(SHOULD), col(PROBLEM), col(SEGMENT_DATE)]);
    let args = UnionArgs {
        rechunk: false,
        parallel: true,
        ..Default::default()
    };
    concat([others.select(order.clone()), touched.select(order)], args)
}

/// Each row with the one segment of its key's timeline that holds its period start (or none, when
/// the key has no timeline).
fn segment_of(rows: LazyFrame, timelines: LazyFrame, keys: &[&str], prefix: &str) -> LazyFrame {
    let on: Vec<Expr> = keys.iter().map(|key| col(*key)).collect();
    rows.join(timelines, on.clone(), on, JoinArgs::new(JoinType::Left))
        .filter(inside(prefix))
}

/// `day` within `[{prefix}_from, {prefix}_to]`, or no segment at all for the key.
fn inside(prefix: &str) -> Expr {
    let from = col(format!("{prefix}_from"));
    let to = col(format!("{prefix}_to"));
    let period_start = || expr::days(col("period_start"));
    from.clone()
        .is_null()
        .or(from.lt_eq(period_start()).and(period_start().lt_eq(to)))
}

/// The rule names its items: one timeline per (account, item of the list) built from the events
/// naming that item or with an empty detail, keyed by one integer (account number × items + the
/// item's position), so that every touched row is looked up on a single integer key.
fn true_counts_by_key(
    touched: LazyFrame,
    counts: LazyFrame,
    list: &std::collections::BTreeSet<String>,
) -> PolarsResult<LazyFrame> {
    let width = list.len() as u64;
    let key = |position: Expr| {
        (col(ACCOUNT_NO).cast(DataType::UInt64) * lit(width) + position.cast(DataType::UInt64))
            .alias(KEY)
    };
    let mut per_item = Vec::with_capacity(list.len());
    for (position, item) in list.iter().enumerate() {
        per_item.push(
            counts
                .clone()
                .filter(
                    col("detail")
                        .is_null()
                        .or(col("detail").eq(lit(item.clone()))),
                )
                .with_columns([
                    col("detail").is_not_null().alias("named"),
                    key(lit(position as u64)),
                ]),
        );
    }
    let timelines = timeline(concat(per_item, UnionArgs::default())?, &[KEY], "a")?;
    // The row's item's position in the list (every touched row's item is in it).
    let mut position = lit(NULL).cast(DataType::UInt64);
    for (index, item) in list.iter().enumerate().rev() {
        position = when(col("item").eq(lit(item.clone())))
            .then(lit(index as u64))
            .otherwise(position);
    }
    Ok(segment_of(touched.with_column(key(position)), timelines, &[KEY], "a").with_columns([
            col("a_quantity").alias(TRUE_COUNT),
            col("a_conflict").alias(CONFLICT),
            col("a_day").alias(SEGMENT_DATE),
        ]))
}

/// Any item (`items = "*"`): timelines per (account, item some event names), and per account from
/// empty-detail events alone for items no event of the account names.
fn true_counts(touched: LazyFrame, counts: LazyFrame) -> PolarsResult<LazyFrame> {
    let named_items = counts
        .clone()
        .filter(col("detail").is_not_null())
        .select([col(ACCOUNT_NO), col("detail").alias("item")])
        .unique(None, UniqueKeepStrategy::Any);
    let by_item = named_items
        .join(
            counts.clone(),
            [col(ACCOUNT_NO)],
            [col(ACCOUNT_NO)],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(col("detail").is_null().or(col("detail").eq(col("item"))))
        .with_column(col("detail").is_not_null().alias("named"));
    let by_item = timeline(by_item, &[ACCOUNT_NO, "item"], "a")?;
    let unnamed = counts
        .filter(col("detail").is_null())
        .with_column(lit(false).alias("named"));
    let unnamed = timeline(unnamed, &[ACCOUNT_NO], "b")?;
    let by_item_matched = col("a_from").is_not_null();
    let pick = |name: &str| {
        when(by_item_matched.clone())
            .then(col(format!("a_{name}")))
            .otherwise(col(format!("b_{name}")))
    };
    let by_item = segment_of(touched, by_item, &[ACCOUNT_NO, "item"], "a");
    Ok(segment_of(by_item, unnamed, &[ACCOUNT_NO], "b").with_columns([
            pick("quantity").alias(TRUE_COUNT),
            pick("conflict").alias(CONFLICT),
            pick("day").alias(SEGMENT_DATE),
        ]))
}

/// Segments `{prefix}_from`, `{prefix}_to` (day numbers), `{prefix}_quantity`, `{prefix}_conflict`
/// and `{prefix}_day` (the event date in force) per `keys`, from events with `day`, `quantity` and
/// `named`. Before the first event a segment with no quantity covers every earlier day, so that
/// each row of a key matches exactly one segment.
fn timeline(events: LazyFrame, keys: &[&str], prefix: &str) -> PolarsResult<LazyFrame> {
    let key_columns: Vec<Expr> = keys.iter().map(|key| col(*key)).collect();
    let mut by_day = key_columns.clone();
    by_day.push(col("day"));
    let named_quantity = || col("quantity").filter(col("named"));
    // One row per key and day, in key and day order: a segment runs from its day to the day
    // before the next row of the same key.
    let resolved = events
        .group_by(by_day.clone())
        .agg([
            col("named").any(true).alias("has_named"),
            named_quantity().min().alias("named_min"),
            named_quantity().max().alias("named_max"),
            col("quantity").min().alias("all_min"),
            col("quantity").max().alias("all_max"),
        ])
        .with_columns([
            when(col("has_named"))
                .then(col("named_min"))
                .otherwise(col("all_min"))
                .alias("low"),
            when(col("has_named"))
                .then(col("named_max"))
                .otherwise(col("all_max"))
                .alias("high"),
        ])
        .sort_by_exprs(by_day, SortMultipleOptions::default())
        .collect()?
        .lazy();
    let same_key_as = |offset: i64| {
        keys.iter()
            .map(|key| col(*key).shift(lit(offset)).eq(col(*key)))
            .reduce(Expr::and)
            .unwrap_or(lit(false))
            .fill_null(lit(false))
    };
    let name = |field: &str| format!("{prefix}_{field}");
    let segments = resolved.clone().select(
        [
            key_columns.clone(),
            vec![
                col("day").alias(name("from")),
                when(same_key_as(-1))
                    .then(col("day").shift(lit(-1)) - lit(1i64))
                    .otherwise(lit(FOREVER))
                    .alias(name("to")),
                col("low").alias(name("quantity")),
                col("low").neq(col("high")).alias(name("conflict")),
                col("day").alias(name("day")),
            ],
        ]
        .concat(),
    );
    // Before a key's first event: a segment with no count, back to the beginning of time.
    let before_first = resolved.filter(same_key_as(1).not()).select(
        [
            key_columns,
            vec![
                lit(NEVER).alias(name("from")),
                (col("day") - lit(1i64)).alias(name("to")),
                lit(NULL).cast(DataType::Int64).alias(name("quantity")),
                lit(false).alias(name("conflict")),
                lit(NULL).cast(DataType::Int64).alias(name("day")),
            ],
        ]
        .concat(),
    );
    // Collected once per plan: every touched row is looked up in it.
    Ok(concat([segments, before_first], UnionArgs::default())?
        .collect()?
        .lazy())
}

#[cfg(test)]
mod tests {
    use super::WrongEquipmentCount;
    use crate::incident::Items;
    use crate::rules::test_support::*;

    fn rule() -> WrongEquipmentCount {
        WrongEquipmentCount {
            items: Items::List(["wlan_card".to_string()].into_iter().collect()),
        }
    }

    #[test]
    fn over_and_under_billing_both_directions() {
        // 300 yen per card per month (315 incl. 5% tax). Two cards billed; true count 1 from 2008-04-01,
        // then 3 from 2008-06-01 (under-billed).
        let events = [
            ("equipment_count", "2008-04-01", Some("wlan_card"), Some(1)),
            ("equipment_count", "2008-06-01", None, Some(3)),
        ];
        let rows = [
            row(
                "2008-03",
                "2008-03-01",
                "2008-03-31",
                "wlan_card",
                2,
                300,
                600,
            ), // no event yet
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
            row("2008-06", "2008-06-01", "2008-06-30", "router", 2, 300, 600), // other item
        ];
        assert_eq!(
            should(&rule(), "2008-04-01", None, &rows, &events),
            Ok(vec![600, 300, 300, 900, 600])
        );
    }

    #[test]
    fn named_detail_beats_empty_on_the_same_date() {
        let events = [
            ("equipment_count", "2008-04-01", None, Some(5)),
            ("equipment_count", "2008-04-01", Some("wlan_card"), Some(1)),
            ("equipment_count", "2008-04-01", Some("router"), Some(9)),
        ];
        let rows = [row(
            "2008-04",
            "2008-04-01",
            "2008-04-30",
            "wlan_card",
            2,
            300,
            600,
        )];
        assert_eq!(
            should(&rule(), "2008-04-01", None, &rows, &events),
            Ok(vec![300])
        );
    }

    #[test]
    fn an_empty_detail_counts_for_items_no_event_names() {
        // Only empty-detail events: they apply to every item of the rule.
        let rule = WrongEquipmentCount { items: Items::All };
        let events = [
            ("equipment_count", "2008-04-01", None, Some(1)),
            ("equipment_count", "2008-05-01", Some("router"), Some(0)),
        ];
        let rows = [
            row(
                "2008-04",
                "2008-04-01",
                "2008-04-30",
                "wlan_card",
                2,
                300,
                600,
            ),
            row(
                "2008-05",
                "2008-05-01",
                "2008-05-31",
                "wlan_card",
                2,
                300,
                600,
            ),
            row("2008-05", "2008-05-01", "2008-05-31", "router", 1, 500, 500),
            row("2008-04", "2008-04-01", "2008-04-30", "router", 1, 500, 500),
        ];
        // router: named event 05-01 (0) is latest in May; in April the empty 04-01 (1) applies.
        assert_eq!(
            should(&rule, "2008-04-01", None, &rows, &events),
            Ok(vec![300, 300, 0, 500])
        );
    }

    #[test]
    fn disagreement_is_bad_data_only_where_it_decides() {
        let events = [
            ("equipment_count", "2008-04-01", Some("wlan_card"), Some(1)),
            ("equipment_count", "2008-04-01", Some("wlan_card"), Some(2)),
            ("equipment_count", "2008-05-01", Some("wlan_card"), Some(2)),
        ];
        let april = [row(
            "2008-04",
            "2008-04-01",
            "2008-04-30",
            "wlan_card",
            2,
            300,
            600,
        )];
        assert_eq!(
            should(&rule(), "2008-04-01", None, &april, &events),
            Err(vec![2])
        );
        let may = [row(
            "2008-05",
            "2008-05-01",
            "2008-05-31",
            "wlan_card",
            2,
            300,
            600,
        )];
        assert_eq!(
            should(&rule(), "2008-04-01", None, &may, &events),
            Ok(vec![600])
        );
    }
}
