//! SQL the rule plans share, for the engines `redress plan` writes for (Apache Spark, DuckDB): the
//! same day-number arithmetic, overlap and proration as `expr.rs`, written as SQL text. Every
//! product is computed in a 128-bit-wide exact type and rounded by [`round_ratio`], the SQL twin of
//! `money::round_ratio_expr`; nothing here uses a floating-point type.
//!
//! A kind's SQL reads the view `rule_rows` (the in-scope rows: the charge columns typed, `__ps` and
//! `__pe` the period as day numbers, `__td` and `__od` the trigger date and opened_on as day
//! numbers, `__trigger_date`, `__opened_on`) and `rule_events` (`account_id`, `kind`, `day`,
//! `detail`, `quantity`: the valid events of the kinds the rule reads, of computable accounts). It
//! returns views; its last view has every column of `rule_rows` plus `__touched`, `__should`,
//! `__problem` and `__segment_date`.

use crate::incident::{Items, Proration, ProrationPolicy};
use crate::money::Rounding;

/// The SQL engine a script is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Spark,
    DuckDb,
}

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Spark => "spark",
            Dialect::DuckDb => "duckdb",
        }
    }

    /// A string literal. Spark reads backslash escapes inside literals; DuckDB doubles quotes.
    pub fn text(self, value: &str) -> String {
        match self {
            Dialect::Spark => format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'")),
            Dialect::DuckDb => format!("'{}'", value.replace('\'', "''")),
        }
    }

    /// The exact integer type wide enough for products of amounts (i128 in polars).
    pub fn wide(self) -> &'static str {
        match self {
            Dialect::Spark => "DECIMAL(38,0)",
            Dialect::DuckDb => "HUGEINT",
        }
    }

    /// The text type.
    pub fn string(self) -> &'static str {
        match self {
            Dialect::Spark => "STRING",
            Dialect::DuckDb => "VARCHAR",
        }
    }

    /// Truncating integer division (both engines truncate toward zero).
    pub fn trunc_div(self, numerator: &str, denominator: &str) -> String {
        match self {
            Dialect::Spark => format!("(({numerator}) div ({denominator}))"),
            Dialect::DuckDb => format!("(({numerator}) // ({denominator}))"),
        }
    }

    /// A date as its day number since 1970-01-01 (BIGINT).
    pub fn days(self, date: &str) -> String {
        match self {
            Dialect::Spark => format!("CAST(unix_date({date}) AS BIGINT)"),
            Dialect::DuckDb => format!("date_diff('day', DATE '1970-01-01', {date})"),
        }
    }

    /// Whether `text` matches the whole regular expression `pattern` (anchored by the caller).
    pub fn matches(self, text: &str, pattern: &str) -> String {
        match self {
            Dialect::Spark => format!("({text} RLIKE {})", self.text(pattern)),
            Dialect::DuckDb => format!("regexp_matches({text}, {})", self.text(pattern)),
        }
    }

    /// A cast that gives NULL where the value does not convert.
    pub fn try_cast(self, value: &str, to: &str) -> String {
        match self {
            Dialect::Spark => format!("try_cast({value} AS {to})"),
            Dialect::DuckDb => format!("TRY_CAST({value} AS {to})"),
        }
    }

    /// Every column but `columns`.
    pub fn star_except(self, columns: &[&str]) -> String {
        let keyword = match self {
            Dialect::Spark => "EXCEPT",
            Dialect::DuckDb => "EXCLUDE",
        };
        format!("* {keyword} ({})", columns.join(", "))
    }

    /// A quoted column name (input column names such as `date` are keywords in some engines).
    pub fn ident(self, name: &str) -> String {
        match self {
            Dialect::Spark => format!("`{name}`"),
            Dialect::DuckDb => format!("\"{name}\""),
        }
    }
}

/// "No end" and "no start" as day numbers (as `expr::FOREVER` / `expr::NEVER`).
pub const FOREVER: i64 = super::expr::FOREVER;

/// `true` for rows whose item is in `items`.
pub fn touched(dialect: Dialect, items: &Items) -> String {
    match items {
        Items::All => "TRUE".to_string(),
        Items::List(list) => in_list(dialect, "item", list.iter().map(String::as_str)),
    }
}

/// `column IN (…)`, false for NULL (and for an empty list).
pub fn in_list<'a>(
    dialect: Dialect,
    column: &str,
    values: impl Iterator<Item = &'a str>,
) -> String {
    let values: Vec<String> = values.map(|value| dialect.text(value)).collect();
    if values.is_empty() {
        return "FALSE".to_string();
    }
    format!("COALESCE({column} IN ({}), FALSE)", values.join(", "))
}

/// Days in both `[a_start, a_end]` and `[b_start, b_end]` (day numbers, both ends inclusive).
pub fn overlap_days(a_start: &str, a_end: &str, b_start: &str, b_end: &str) -> String {
    format!("GREATEST(LEAST({a_end}, {b_end}) - GREATEST({a_start}, {b_start}) + 1, 0)")
}

/// R(numerator / denominator) for a denominator > 0, exactly, in the mode's direction: the floor
/// quotient q and remainder 0 ≤ r < d, bumped to q + 1 as `money::round_ratio_expr` bumps it. The
/// arguments are column names or other expressions cheap to repeat.
pub fn round_ratio(dialect: Dialect, numerator: &str, denominator: &str, mode: Rounding) -> String {
    let truncated = dialect.trunc_div(numerator, denominator);
    let rest = format!("(({numerator}) % ({denominator}))");
    let quotient = format!("({truncated} - CASE WHEN {rest} < 0 THEN 1 ELSE 0 END)");
    let remainder = format!("({rest} + CASE WHEN {rest} < 0 THEN {denominator} ELSE 0 END)");
    let negative = format!("(({numerator}) < 0)");
    let inexact = format!("({remainder} > 0)");
    let twice = format!("({remainder} * 2)");
    let bump = match mode {
        Rounding::Down => format!("({negative} AND {inexact})"),
        Rounding::Up => format!("(NOT {negative} AND {inexact})"),
        Rounding::HalfUp => {
            format!("({twice} > ({denominator}) OR ({twice} = ({denominator}) AND NOT {negative}))")
        }
        Rounding::HalfEven => format!(
            "({twice} > ({denominator}) OR ({twice} = ({denominator}) AND {quotient} % 2 <> 0))"
        ),
    };
    format!("(CASE WHEN {bump} THEN {quotient} + 1 ELSE {quotient} END)")
}

/// The problem columns of a row without a problem.
pub const NO_PROBLEM: &str = "0 AS __problem, CAST(NULL AS BIGINT) AS __segment_date";

/// A view definition: its name and its query.
pub type View = (String, String);

/// Two views over `input`, whose `__unbillable` column holds the days of each row's period inside
/// the rule's unbillable window: `__touched` and `__should` (wide) as `expr::prorated` adds them,
/// then no problem. The last view is named `out`.
pub fn prorated(
    dialect: Dialect,
    input: &str,
    touched: &str,
    policy: ProrationPolicy,
    out: &str,
) -> Vec<View> {
    let wide = dialect.wide();
    let prepared = format!("{out}__prorate");
    let partial = match policy.proration {
        Proration::None => format!("CAST(amount AS {wide})"),
        Proration::Daily => round_ratio(dialect, "__numerator", "__period_days", policy.rounding),
    };
    vec![
        (
            prepared.clone(),
            format!(
                "SELECT *, {touched} AS __touched, __pe - __ps + 1 AS __period_days,\n  CAST(amount AS {wide}) * CAST(__pe - __ps + 1 - __unbillable AS {wide}) AS __numerator\nFROM {input}"
            ),
        ),
        (
            out.to_string(),
            format!(
                "SELECT {},\n  CAST(CASE WHEN NOT __touched OR __unbillable <= 0 THEN CAST(amount AS {wide})\n    WHEN __unbillable >= __period_days THEN CAST(0 AS {wide})\n    ELSE {partial} END AS {wide}) AS __should,\n  {NO_PROBLEM}\nFROM {prepared}",
                dialect.star_except(&["__numerator", "__period_days", "__unbillable"])
            ),
        ),
    ]
}

/// [`prorated`] for the kinds whose unbillable days are in `rule_unbillable`: rows of `items`
/// prorated into `rule_planned`.
pub fn prorated_items(dialect: Dialect, items: &Items, policy: ProrationPolicy) -> Vec<View> {
    prorated(
        dialect,
        "rule_unbillable",
        &touched(dialect, items),
        policy,
        "rule_planned",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_escaped_per_engine() {
        assert_eq!(Dialect::DuckDb.text("it's"), "'it''s'");
        assert_eq!(Dialect::Spark.text("it's \\"), "'it\\'s \\\\'");
    }
}
