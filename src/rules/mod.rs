//! What should have been billed (SPEC §3). Each incident kind is one file in this directory that
//! owns the whole kind: its `[rule]` keys and their validation, its default trigger, the event
//! kinds it reads, its polars plan (adding `should` to every in-scope charge row), its lines of
//! the `explain` trace and its `generate` recipe. [`KINDS`] lists them; adding a kind is one new
//! file plus one line in the `kinds!` list below.
//!
//! Rows a rule does not touch keep `should = amount`. Rules never compute tax or interest; they
//! never turn rows into Rust values. The rows a plan receives carry the charge columns typed by
//! `load` (money in minor units, rates as exact decimals, dates), the account's number
//! (`__account_no`), its trigger date and `opened_on`. A plan adds `__touched` (the row's item is
//! one the rule may change), `__should` (Int128), `__problem` (a [`RowProblemCode`] as Int32, 0
//! when none) and `__segment_date` (for messages).

pub mod expr;
pub mod sql;

use std::fmt::Debug;
use std::sync::Arc;

use chrono::NaiveDate;
use polars::prelude::*;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::DeserializeOwned;

use crate::generate::Recipe;
use crate::incident::{ConfigError, Items, Validator};
use crate::money::{Currency, Overflow};

/// Declares the kind modules and lists them in [`KINDS`], in the order `generate` and the JSON
/// Schema use.
macro_rules! kinds {
    ($($module:ident),* $(,)?) => {
        $(mod $module;)*
        /// Every incident kind redress knows.
        pub static KINDS: &[&dyn Kind] = &[$(&$module::KIND),*];
    };
}

kinds! {
    missed_cancellation,
    missed_plan_change,
    wrong_equipment_count,
    not_activated,
    cooling_off_caps,
}

/// A validated `[rule]`: what one incident kind computes.
pub trait Rule: Debug + Send + Sync {
    /// The items whose rows the rule may change; rows of other items are only summed for tax.
    fn touched_items(&self) -> Items;

    /// Event kinds, besides the trigger, whose rows the rule reads.
    fn read_event_kinds(&self) -> Vec<String> {
        Vec::new()
    }

    /// Whether the rule needs rows outside `scope.billing_months`.
    fn needs_all_months(&self) -> bool {
        false
    }

    /// Rows whose should depends on the account's other rows (a running total), as a condition on
    /// the planned rows; `None` when every row's should depends on the row and the account alone.
    /// A first pass that reads an account's rows in several parts cannot trust those rows' diff,
    /// so it keeps their invoices for the second pass, which reads all the account's rows at once.
    fn depends_on_other_rows(&self) -> Option<Expr> {
        None
    }

    /// Whether the rule cannot compute an account without `opened_on` (such accounts go to
    /// review).
    fn needs_opened_on(&self) -> bool {
        false
    }

    /// Adds `__touched`, `__should`, `__problem` and `__segment_date` to in-scope rows.
    fn plan(&self, rows: LazyFrame, context: &PlanContext) -> PolarsResult<LazyFrame>;

    /// The same plan as SQL for `dialect` (see `sql.rs` for the views it reads): views whose last
    /// one, `rule_planned`, has every column of `rule_rows` plus `__touched`, `__should` (wide),
    /// `__problem` and `__segment_date`.
    fn sql(&self, dialect: sql::Dialect) -> Vec<sql::View>;

    /// What an overflowing `should` was computing, for the error message.
    fn overflow_label(&self) -> &'static str;

    /// The kind's lines of `redress explain`: how `should` is found for an account whose trigger
    /// date is `trigger_date`.
    fn explain(&self, trigger_date: NaiveDate) -> Vec<String>;
}

/// One incident kind, as its file declares it; its [`Recipe`] is how `redress generate` plants it.
pub trait KindSpec: Recipe + Sync + 'static {
    /// The kind's `[rule]` keys as written (serde, type-checked for every kind).
    type Wire: DeserializeOwned + JsonSchema;
    /// `incident.kind` as written.
    const NAME: &'static str;
    /// The trigger event kind when `[trigger].event` is not given.
    const DEFAULT_TRIGGER: &'static str;

    /// Validates the kind's `[rule]`; errors name the key.
    fn rule(
        &self,
        wire: Self::Wire,
        check: &Validator,
        currency: Currency,
    ) -> Result<Arc<dyn Rule>, ConfigError>;
}

/// The registry's view of a [`KindSpec`].
pub trait Kind: Sync {
    fn name(&self) -> &'static str;
    fn default_trigger(&self) -> &'static str;
    /// Type-checks the keys of `[rule]` this kind reads (every kind checks every file, so a key
    /// of another kind is type-checked and ignored, SPEC §2).
    fn check_rule(&self, table: &toml::Table) -> Result<(), String>;
    /// The JSON Schema of the kind's `[rule]` keys.
    fn rule_schema(&self, generator: &mut SchemaGenerator) -> Schema;
    fn rule(
        &self,
        table: &toml::Table,
        check: &Validator,
        currency: Currency,
    ) -> Result<Arc<dyn Rule>, ConfigError>;
    fn recipe(&self) -> &dyn Recipe;
}

fn rule_wire<W: DeserializeOwned>(table: &toml::Table) -> Result<W, String> {
    toml::Value::Table(table.clone())
        .try_into()
        .map_err(|error: toml::de::Error| error.message().to_string())
}

impl<K: KindSpec> Kind for K {
    fn name(&self) -> &'static str {
        K::NAME
    }

    fn default_trigger(&self) -> &'static str {
        K::DEFAULT_TRIGGER
    }

    fn check_rule(&self, table: &toml::Table) -> Result<(), String> {
        rule_wire::<K::Wire>(table).map(|_| ())
    }

    fn rule_schema(&self, generator: &mut SchemaGenerator) -> Schema {
        K::Wire::json_schema(generator)
    }

    fn rule(
        &self,
        table: &toml::Table,
        check: &Validator,
        currency: Currency,
    ) -> Result<Arc<dyn Rule>, ConfigError> {
        let wire = rule_wire::<K::Wire>(table).map_err(|message| check.error("rule", message))?;
        KindSpec::rule(self, wire, check, currency)
    }

    fn recipe(&self) -> &dyn Recipe {
        self
    }
}

/// Column names shared by the plans and the stages around them.
pub mod columns {
    pub const ACCOUNT_NO: &str = "__account_no";
    pub const TRIGGER_DATE: &str = "__trigger_date";
    pub const OPENED_ON: &str = "__opened_on";
    pub const TOUCHED: &str = "__touched";
    pub const SHOULD: &str = "__should";
    pub const DIFF: &str = "__diff";
    pub const PROBLEM: &str = "__problem";
    pub const SEGMENT_DATE: &str = "__segment_date";
}

use columns::*;

/// Why a row cannot be computed (carried per row in `__problem`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(i32)]
pub enum RowProblemCode {
    None = 0,
    /// `should` does not fit a 64-bit amount.
    Overflow = 1,
    /// The equipment_count events that decide the row's true count disagree.
    EquipmentConflict = 2,
}

impl RowProblemCode {
    pub fn literal(self) -> Expr {
        lit(self as i32)
    }

    pub fn from_code(code: i32) -> RowProblemCode {
        match code {
            1 => RowProblemCode::Overflow,
            2 => RowProblemCode::EquipmentConflict,
            _ => RowProblemCode::None,
        }
    }
}

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

    /// The reason whose [`ReviewReason::code`] is `code`.
    pub fn from_code(code: &str) -> Option<ReviewReason> {
        [
            ReviewReason::MissingOpenedOn,
            ReviewReason::RejectedChargeRow,
            ReviewReason::RejectedEventRow,
            ReviewReason::RejectedAccountRow,
        ]
        .into_iter()
        .find(|reason| reason.code() == code)
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

/// What a plan may read besides the rows: the valid events of the kinds the incident reads
/// (`__account_no`, `kind`, `date`, `detail`, `quantity`) and the in-scope accounts
/// (`__account_no`, `__trigger_date`, `__opened_on`).
pub struct PlanContext {
    pub events: DataFrame,
    pub accounts: DataFrame,
}

/// Adds `__touched`, `__should`, `__problem`, `__segment_date` and `__diff` to in-scope rows.
pub fn plan(rule: &dyn Rule, rows: LazyFrame, context: &PlanContext) -> PolarsResult<LazyFrame> {
    let rows = rows.with_columns([
        // SPEC §1: list_amount defaults to amount, discount_rate to 0.
        col("list_amount").fill_null(col("amount")),
        col("discount_rate").fill_null(crate::load::rate_literal(rust_decimal::Decimal::ZERO)),
    ]);
    let rows = rule.plan(rows, context)?;
    let i64_bound = |value: i64| expr::int128(i128::from(value));
    Ok(rows.with_columns([
        (col("amount").cast(DataType::Int128) - col(SHOULD)).alias(DIFF),
        when(
            col(SHOULD)
                .gt(i64_bound(i64::MAX))
                .or(col(SHOULD).lt(i64_bound(i64::MIN))),
        )
        .then(RowProblemCode::Overflow.literal())
        .otherwise(col(PROBLEM))
        .alias(PROBLEM),
    ]))
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Runs one kind's plan over a few rows, for the per-kind unit tests.

    use chrono::NaiveDate;
    use polars::prelude::*;

    use super::columns::*;
    use super::{PlanContext, Rule, plan};
    use crate::money::{self, Month};

    pub fn date(text: &str) -> NaiveDate {
        money::parse_date(text).unwrap()
    }

    /// A row: month, period, item, quantity, unit price, amount; 10% tax, no discount.
    pub struct Row {
        pub month: &'static str,
        pub start: &'static str,
        pub end: &'static str,
        pub item: &'static str,
        pub quantity: i64,
        pub unit_price: i64,
        pub amount: i64,
        pub list_amount: Option<i64>,
        pub discount_rate: Option<&'static str>,
    }

    pub fn row(
        month: &'static str,
        start: &'static str,
        end: &'static str,
        item: &'static str,
        quantity: i64,
        unit_price: i64,
        amount: i64,
    ) -> Row {
        Row {
            month,
            start,
            end,
            item,
            quantity,
            unit_price,
            amount,
            list_amount: None,
            discount_rate: None,
        }
    }

    /// (kind, date, detail, quantity)
    pub type Event = (
        &'static str,
        &'static str,
        Option<&'static str>,
        Option<i64>,
    );

    fn days(text: &str) -> i32 {
        (date(text) - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32
    }

    /// `should` of each row, in order, for one account with the given trigger and opened_on; or
    /// the row problem codes when any row has one.
    pub fn should(
        rule: &dyn Rule,
        trigger: &str,
        opened_on: Option<&str>,
        rows: &[Row],
        events: &[Event],
    ) -> Result<Vec<i64>, Vec<i32>> {
        let count = rows.len();
        let rate = |text: Option<&str>| {
            text.map(|text| crate::load::rate_literal(money::parse_decimal(text).unwrap()))
        };
        let mut frame = df![
            "__order" => (0..count as u32).collect::<Vec<_>>(),
            ACCOUNT_NO => vec![0u32; count],
            "billing_month" => rows.iter().map(|row| Month::parse(row.month).unwrap().index()).collect::<Vec<_>>(),
            "period_start" => rows.iter().map(|row| days(row.start)).collect::<Vec<_>>(),
            "period_end" => rows.iter().map(|row| days(row.end)).collect::<Vec<_>>(),
            "item" => rows.iter().map(|row| row.item).collect::<Vec<_>>(),
            "quantity" => rows.iter().map(|row| row.quantity).collect::<Vec<_>>(),
            "unit_price" => rows.iter().map(|row| row.unit_price).collect::<Vec<_>>(),
            "list_amount" => rows.iter().map(|row| row.list_amount).collect::<Vec<_>>(),
            "amount" => rows.iter().map(|row| row.amount).collect::<Vec<_>>(),
            TRIGGER_DATE => vec![days(trigger); count],
            OPENED_ON => vec![opened_on.map(days); count],
        ]
        .unwrap()
        .lazy()
        .with_columns([
            col("period_start").cast(DataType::Date),
            col("period_end").cast(DataType::Date),
            col(TRIGGER_DATE).cast(DataType::Date),
            col(OPENED_ON).cast(DataType::Date),
            lit(NULL).cast(crate::load::rate_dtype()).alias("discount_rate"),
            rate(Some("0.1")).unwrap().alias("tax_rate"),
        ]);
        for (index, row) in rows.iter().enumerate() {
            if let Some(text) = row.discount_rate {
                frame = frame.with_column(
                    when(col("__order").eq(lit(index as u32)))
                        .then(rate(Some(text)).unwrap())
                        .otherwise(col("discount_rate"))
                        .alias("discount_rate"),
                );
            }
        }
        let events = df![
            ACCOUNT_NO => vec![0u32; events.len()],
            "kind" => events.iter().map(|event| event.0).collect::<Vec<_>>(),
            "date" => events.iter().map(|event| days(event.1)).collect::<Vec<_>>(),
            "detail" => events.iter().map(|event| event.2).collect::<Vec<_>>(),
            "quantity" => events.iter().map(|event| event.3).collect::<Vec<_>>(),
        ]
        .unwrap()
        .lazy()
        .with_column(col("date").cast(DataType::Date))
        .collect()
        .unwrap();
        let accounts = df![ACCOUNT_NO => [0u32], TRIGGER_DATE => [days(trigger)], OPENED_ON => [opened_on.map(days)]]
            .unwrap()
            .lazy()
            .with_columns([col(TRIGGER_DATE).cast(DataType::Date), col(OPENED_ON).cast(DataType::Date)])
            .collect()
            .unwrap();
        let context = PlanContext { events, accounts };
        let out = plan(rule, frame, &context)
            .unwrap()
            .sort(["__order"], SortMultipleOptions::default())
            .collect()
            .unwrap();
        let problems: Vec<i32> = out
            .column(PROBLEM)
            .unwrap()
            .i32()
            .unwrap()
            .iter()
            .map(|p| p.unwrap_or(0))
            .collect();
        if problems.iter().any(|&p| p != 0) {
            return Err(problems);
        }
        let should = out.column(SHOULD).unwrap().cast(&DataType::Int64).unwrap();
        Ok(should
            .i64()
            .unwrap()
            .iter()
            .map(|value| value.unwrap())
            .collect())
    }
}

#[cfg(test)]
mod registry_tests {
    use std::path::Path;

    use super::KINDS;
    use crate::incident::{Incident, IncidentKind};

    #[test]
    fn every_kind_has_a_unique_name_that_reads_back() {
        for (index, kind) in KINDS.iter().enumerate() {
            assert!(!kind.default_trigger().is_empty(), "{}", kind.name());
            assert!(
                KINDS[..index]
                    .iter()
                    .all(|other| other.name() != kind.name()),
                "{} is registered twice",
                kind.name()
            );
            let handle = IncidentKind::named(kind.name()).unwrap();
            assert_eq!(handle.as_str(), kind.name());
        }
        assert!(IncidentKind::named("no_such_kind").is_none());
    }

    #[test]
    fn every_kinds_generate_recipe_writes_a_valid_incident_file() {
        for kind in KINDS {
            let recipe = kind.recipe();
            let text = format!(
                "[incident]\nid = \"recipe\"\nkind = \"{}\"\ntitle = \"{}\"\nrefund_date = 2020-03-31\n\n{}",
                kind.name(),
                recipe.title(),
                recipe.incident_body()
            );
            let incident = Incident::from_bytes(text.as_bytes(), Path::new("recipe.toml"))
                .unwrap_or_else(|error| panic!("{}: {error}", kind.name()));
            assert_eq!(incident.kind.as_str(), kind.name());
        }
    }
}
