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

/// Days since 1970-01-01 of the civil date (year, month 1..=12, day) given as Int64 expressions
/// (H. Hinnant's `days_from_civil`, exact for every proleptic Gregorian date).
fn days_from_civil(year: Expr, month: Expr, day: Expr) -> Expr {
    let year = year
        - when(month.clone().lt_eq(lit(2i64)))
            .then(lit(1i64))
            .otherwise(lit(0i64));
    let era = year.clone().floor_div(lit(400i64));
    let year_of_era = year - era.clone() * lit(400i64);
    let shifted_month = when(month.clone().gt(lit(2i64)))
        .then(month.clone() - lit(3i64))
        .otherwise(month + lit(9i64));
    let day_of_year =
        (lit(153i64) * shifted_month + lit(2i64)).floor_div(lit(5i64)) + day - lit(1i64);
    let day_of_era = year_of_era.clone() * lit(365i64) + year_of_era.clone().floor_div(lit(4i64))
        - year_of_era.floor_div(lit(100i64))
        + day_of_year;
    era * lit(146_097i64) + day_of_era - lit(719_468i64)
}

/// Days since 1970-01-01 of the last day of the month of a date expression.
pub fn month_end_days(date: Expr) -> Expr {
    let next_month = date.clone().dt().year().cast(DataType::Int64) * lit(12i64)
        + date.dt().month().cast(DataType::Int64);
    let year = next_month.clone().floor_div(lit(12i64));
    let month = next_month % lit(12i64) + lit(1i64);
    days_from_civil(year, month, lit(1i64)) - lit(1i64)
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
        let out = frame
            .lazy()
            .select([month_end_days(col("d").cast(DataType::Date)).alias("end")])
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
