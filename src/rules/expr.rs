//! Polars expressions the rule plans share: dates as day numbers, month ends, the overlap of a
//! row's period with an unbillable window, and proration (SPEC §3). Every product is computed in
//! Int128 and rounded by `money::round_ratio_expr`, the one rounding of redress.

use polars::prelude::*;

use crate::incident::{Items, Proration, ProrationPolicy};
use crate::money;

/// "No end": later than any date a Date column can hold.
pub const FOREVER: i64 = i64::MAX / 4;
/// "No start": earlier than any date a Date column can hold.
pub const NEVER: i64 = i64::MIN / 4;

pub fn int128(value: i128) -> Expr {
    lit(Scalar::new(DataType::Int128, AnyValue::Int128(value)))
}

/// A date expression as days since 1970-01-01 (Int64).
pub fn days(date: Expr) -> Expr {
    date.cast(DataType::Int32).cast(DataType::Int64)
}

/// Adds `out`: the day number (since 1970-01-01) of the last day of the month of the date column
/// `date`, by integer arithmetic on day numbers (H. Hinnant's `civil_from_days` and
/// `days_from_civil`, exact for every proleptic Gregorian date). Each step is its own column so
/// that no sub-expression is repeated.
pub fn with_month_end_days(rows: LazyFrame, date: &str, out: &str) -> LazyFrame {
    const STEPS: [&str; 8] = [
        "__c_era",
        "__c_doe",
        "__c_yoe",
        "__c_mp",
        "__c_month",
        "__c_next",
        "__c_year",
        "__c_era2",
    ];
    let c = |name: &str| col(name);
    let i = |value: i64| lit(value);
    rows.with_column((days(col(date)) + i(719_468)).alias("__c_z"))
        .with_column(c("__c_z").floor_div(i(146_097)).alias("__c_era"))
        .with_column((c("__c_z") - c("__c_era") * i(146_097)).alias("__c_doe"))
        .with_column(
            ((c("__c_doe") - c("__c_doe").floor_div(i(1_460)) + c("__c_doe").floor_div(i(36_524))
                - c("__c_doe").floor_div(i(146_096)))
            .floor_div(i(365)))
            .alias("__c_yoe"),
        )
        .with_column(
            ((i(5)
                * (c("__c_doe")
                    - (c("__c_yoe") * i(365) + c("__c_yoe").floor_div(i(4))
                        - c("__c_yoe").floor_div(i(100))))
                + i(2))
            .floor_div(i(153)))
            .alias("__c_mp"),
        )
        .with_column(
            when(c("__c_mp").lt(i(10)))
                .then(c("__c_mp") + i(3))
                .otherwise(c("__c_mp") - i(9))
                .alias("__c_month"),
        )
        // The month after: year × 12 + month (this month's index + 1).
        .with_column(
            ((c("__c_yoe")
                + c("__c_era") * i(400)
                + when(c("__c_month").lt_eq(i(2))).then(i(1)).otherwise(i(0)))
                * i(12)
                + c("__c_month"))
            .alias("__c_next"),
        )
        // days_from_civil(year, month, 1) of the month after, minus one day.
        .with_columns([
            c("__c_next").floor_div(i(12)).alias("__c_year"),
            (c("__c_next") % i(12) + i(1)).alias("__c_month"),
        ])
        .with_column(
            (c("__c_year") - when(c("__c_month").lt_eq(i(2))).then(i(1)).otherwise(i(0)))
                .alias("__c_year"),
        )
        .with_column(c("__c_year").floor_div(i(400)).alias("__c_era2"))
        .with_column((c("__c_year") - c("__c_era2") * i(400)).alias("__c_yoe"))
        .with_column(
            when(c("__c_month").gt(i(2)))
                .then(c("__c_month") - i(3))
                .otherwise(c("__c_month") + i(9))
                .alias("__c_mp"),
        )
        .with_column(
            (c("__c_era2") * i(146_097) + c("__c_yoe") * i(365) + c("__c_yoe").floor_div(i(4))
                - c("__c_yoe").floor_div(i(100))
                + (i(153) * c("__c_mp") + i(2)).floor_div(i(5))
                - i(719_468)
                - i(1))
            .alias(out),
        )
        .drop(Selector::ByName {
            names: STEPS
                .iter()
                .chain(["__c_z"].iter())
                .map(|name| PlSmallStr::from(*name))
                .collect(),
            strict: true,
        })
}

fn larger(a: Expr, b: Expr) -> Expr {
    when(a.clone().gt(b.clone())).then(a).otherwise(b)
}

fn smaller(a: Expr, b: Expr) -> Expr {
    when(a.clone().lt(b.clone())).then(a).otherwise(b)
}

/// Days in both `[a_start, a_end]` and `[b_start, b_end]` (day numbers, both ends inclusive).
pub fn overlap_days(a_start: Expr, a_end: Expr, b_start: Expr, b_end: Expr) -> Expr {
    let length = smaller(a_end, b_end) - larger(a_start, b_start) + lit(1i64);
    larger(length, lit(0i64))
}

/// Days of the row's service period, both ends inclusive.
pub fn period_days() -> Expr {
    days(col("period_end")) - days(col("period_start")) + lit(1i64)
}

/// `true` for rows whose item is in `items`.
pub fn touched(items: &Items) -> Expr {
    match items {
        Items::All => lit(true),
        Items::List(list) => {
            let list = Series::new("items".into(), list.iter().cloned().collect::<Vec<_>>());
            col("item")
                .is_in(lit(list).implode(false), false)
                .fill_null(lit(false))
        }
    }
}

const PERIOD_DAYS: &str = "__period_days";
const NUMERATOR: &str = "__prorate_numerator";
const DENOMINATOR: &str = "__prorate_denominator";

/// Adds `__touched` and `__should` (Int128) to rows whose `__unbillable` column holds the days of
/// their period inside the rule's unbillable window: untouched rows and rows without overlap keep
/// their amount, a full overlap gives 0, a partial one R_p(amount × billable / period days) (SPEC
/// §3). Intermediate values are materialised once as columns and dropped.
pub fn prorated(
    rows: LazyFrame,
    touched: Expr,
    unbillable: &str,
    policy: ProrationPolicy,
) -> LazyFrame {
    let amount = || col("amount").cast(DataType::Int128);
    let unbillable = || col(unbillable);
    let partial = match policy.proration {
        Proration::None => amount(),
        Proration::Daily => {
            money::round_ratio_expr(col(NUMERATOR), col(DENOMINATOR), policy.rounding)
        }
    };
    rows.with_columns([
        touched.alias(super::columns::TOUCHED),
        period_days().alias(PERIOD_DAYS),
    ])
    .with_columns([
        (amount() * (col(PERIOD_DAYS) - unbillable()).cast(DataType::Int128)).alias(NUMERATOR),
        col(PERIOD_DAYS).cast(DataType::Int128).alias(DENOMINATOR),
    ])
    .with_column(
        when(
            col(super::columns::TOUCHED)
                .not()
                .or(unbillable().lt_eq(lit(0i64))),
        )
        .then(amount())
        .when(unbillable().gt_eq(col(PERIOD_DAYS)))
        .then(int128(0))
        .otherwise(partial)
        .alias(super::columns::SHOULD),
    )
    .drop(Selector::ByName {
        names: [PERIOD_DAYS, NUMERATOR, DENOMINATOR]
            .into_iter()
            .map(PlSmallStr::from)
            .collect(),
        strict: true,
    })
}

/// The columns every plan adds when it has no problem to report.
pub fn no_problem() -> [Expr; 2] {
    [
        lit(0i32).alias(super::columns::PROBLEM),
        lit(NULL)
            .cast(DataType::Int64)
            .alias(super::columns::SEGMENT_DATE),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn month_ends_over_four_centuries() {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        let mut dates = Vec::new();
        let mut day = NaiveDate::from_ymd_opt(1895, 1, 1).unwrap();
        while day < NaiveDate::from_ymd_opt(2105, 1, 1).unwrap() {
            dates.push((day - epoch).num_days() as i32);
            day = day + chrono::Days::new(13);
        }
        dates.push((NaiveDate::from_ymd_opt(2000, 2, 15).unwrap() - epoch).num_days() as i32);
        dates.push((NaiveDate::from_ymd_opt(2100, 2, 15).unwrap() - epoch).num_days() as i32);
        let frame = df!["d" => dates.clone()].unwrap();
        let out = with_month_end_days(
            frame.lazy().with_column(col("d").cast(DataType::Date)),
            "d",
            "end",
        )
        .collect()
        .unwrap();
        let ends: Vec<i64> = out
            .column("end")
            .unwrap()
            .i64()
            .unwrap()
            .iter()
            .map(Option::unwrap)
            .collect();
        for (day, end) in dates.iter().zip(ends) {
            let date = epoch + chrono::Duration::days(i64::from(*day));
            let expected = crate::money::Month::of_date(date).last_day();
            assert_eq!(epoch + chrono::Duration::days(end), expected, "{date}");
        }
    }
}
