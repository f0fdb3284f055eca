//! Exact money, rates, months and dates: parsing, checked arithmetic and the one place where
//! rounding happens.
//!
//! Amounts are `i64` counts of the currency's minor unit (yen for JPY, cents for USD). Rates are
//! `rust_decimal::Decimal`. Every product of an amount and a rate, and every ratio, is computed on
//! integers and rounded once by [`round_ratio`] (or [`round_big_ratio`] for interest). This module
//! must never use binary floating point.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{Signed, ToPrimitive, Zero};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

mod amount;
pub use amount::{Money, as_minor};

/// Largest magnitude accepted for one money value, in minor units (10^15). Sums of many such values
/// still fit an `i64` with a wide margin, and products with rates fit an `i128`.
pub const MAX_ABS_MINOR: i64 = 1_000_000_000_000_000;

/// A rounding mode, `R(x)` in the SPEC.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Toward zero (切り捨て).
    #[default]
    Down,
    /// Away from zero (切り上げ).
    Up,
    /// To nearest, ties away from zero (四捨五入).
    HalfUp,
    /// To nearest, ties to even.
    HalfEven,
}

impl fmt::Display for Rounding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rounding::Down => "down",
            Rounding::Up => "up",
            Rounding::HalfUp => "half_up",
            Rounding::HalfEven => "half_even",
        })
    }
}

/// Arithmetic left the representable range. Carries what was being computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("arithmetic overflow while computing {0}")]
pub struct Overflow(pub &'static str);

/// `R(numerator / denominator)` rounded to an integer with `mode`. `denominator` must be non-zero.
/// This and [`round_big_ratio`] are the only rounding in redress.
pub fn round_ratio(numerator: i128, denominator: i128, mode: Rounding) -> Result<i128, Overflow> {
    if denominator == 0 {
        return Err(Overflow("a ratio with a zero denominator"));
    }
    let (numerator, denominator) = if denominator < 0 {
        (
            numerator.checked_neg().ok_or(Overflow("a ratio"))?,
            denominator.checked_neg().ok_or(Overflow("a ratio"))?,
        )
    } else {
        (numerator, denominator)
    };
    let quotient = numerator / denominator;
    let remainder = numerator % denominator;
    if remainder == 0 {
        return Ok(quotient);
    }
    let away = if numerator < 0 { -1 } else { 1 };
    let twice_remainder = remainder
        .unsigned_abs()
        .checked_mul(2)
        .ok_or(Overflow("a ratio"))?;
    let denominator = denominator.unsigned_abs();
    let bump = match mode {
        Rounding::Down => false,
        Rounding::Up => true,
        Rounding::HalfUp => twice_remainder >= denominator,
        Rounding::HalfEven => {
            twice_remainder > denominator || (twice_remainder == denominator && quotient % 2 != 0)
        }
    };
    Ok(if bump { quotient + away } else { quotient })
}

/// [`round_ratio`] as a polars expression over Int128 columns: `R(numerator / denominator)` for
/// every row, `denominator` > 0. Used by the rule plans (proration, repriced discounts) so that the
/// rounding of a row computed in polars is the rounding of this module, case for case.
pub fn round_ratio_expr(
    numerator: polars::prelude::Expr,
    denominator: polars::prelude::Expr,
    mode: Rounding,
) -> polars::prelude::Expr {
    use polars::prelude::{DataType, lit, when};
    let i128 = |value: i64| lit(value).cast(DataType::Int128);
    // Floor division: q = ⌊n / d⌋ and 0 ≤ r < d, so the exact value is q + r/d.
    let quotient = numerator.clone().floor_div(denominator.clone());
    let remainder = numerator.clone() - quotient.clone() * denominator.clone();
    let inexact = remainder.clone().gt(i128(0));
    let twice = remainder * i128(2);
    let negative = numerator.lt(i128(0));
    let bump = match mode {
        // Toward zero: a negative inexact value moves up from its floor.
        Rounding::Down => negative.and(inexact),
        // Away from zero: a positive inexact value moves up from its floor.
        Rounding::Up => negative.not().and(inexact),
        // Nearest; a tie goes away from zero: up for positives, stays at the floor for negatives.
        Rounding::HalfUp => twice
            .clone()
            .gt(denominator.clone())
            .or(twice.eq(denominator).and(negative.not())),
        // Nearest; a tie goes to the even neighbour.
        Rounding::HalfEven => twice.clone().gt(denominator.clone()).or(twice
            .eq(denominator)
            .and((quotient.clone() % i128(2)).neq(i128(0)))),
    };
    when(bump)
        .then(quotient.clone() + i128(1))
        .otherwise(quotient)
}

/// [`round_ratio`] on arbitrary-precision integers, for interest where the exact rational sum of
/// daily rates has a large denominator.
pub fn round_big_ratio(numerator: &BigInt, denominator: &BigInt, mode: Rounding) -> BigInt {
    debug_assert!(!denominator.is_zero());
    let (numerator, denominator) = if denominator.is_negative() {
        (-numerator, -denominator)
    } else {
        (numerator.clone(), denominator.clone())
    };
    let (quotient, remainder) = numerator.div_rem(&denominator);
    if remainder.is_zero() {
        return quotient;
    }
    let away = if numerator.is_negative() {
        BigInt::from(-1)
    } else {
        BigInt::from(1)
    };
    let twice_remainder = remainder.abs() * 2;
    let bump = match mode {
        Rounding::Down => false,
        Rounding::Up => true,
        Rounding::HalfUp => twice_remainder >= denominator,
        Rounding::HalfEven => {
            twice_remainder > denominator || (twice_remainder == denominator && quotient.is_odd())
        }
    };
    if bump { quotient + away } else { quotient }
}

/// `R(minor × rate)`: an amount in minor units times an exact rate, rounded once.
pub fn mul_rate(
    minor: i64,
    rate: Decimal,
    mode: Rounding,
    what: &'static str,
) -> Result<i64, Overflow> {
    let rate = rate.normalize();
    let numerator = i128::from(minor)
        .checked_mul(rate.mantissa())
        .ok_or(Overflow(what))?;
    let denominator = 10i128.checked_pow(rate.scale()).ok_or(Overflow(what))?;
    let rounded = round_ratio(numerator, denominator, mode)?;
    i64::try_from(rounded).map_err(|_| Overflow(what))
}

/// `R(minor × numerator / denominator)` for integer ratios such as billable days / period days.
pub fn mul_ratio(
    minor: i64,
    numerator: i64,
    denominator: i64,
    mode: Rounding,
    what: &'static str,
) -> Result<i64, Overflow> {
    let product = i128::from(minor)
        .checked_mul(i128::from(numerator))
        .ok_or(Overflow(what))?;
    let rounded = round_ratio(product, i128::from(denominator), mode)?;
    i64::try_from(rounded).map_err(|_| Overflow(what))
}

/// Checked sum of minor-unit amounts.
pub fn checked_sum<I: IntoIterator<Item = i64>>(
    values: I,
    what: &'static str,
) -> Result<i64, Overflow> {
    values
        .into_iter()
        .try_fold(0i64, |total, value| total.checked_add(value))
        .ok_or(Overflow(what))
}

/// A currency and its minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Currency {
    pub code: &'static str,
    /// Digits after the decimal point of the minor unit (JPY 0, USD 2).
    pub digits: u32,
}

impl Currency {
    const KNOWN: [(&'static str, u32); 13] = [
        ("JPY", 0),
        ("KRW", 0),
        ("USD", 2),
        ("EUR", 2),
        ("GBP", 2),
        ("CHF", 2),
        ("CNY", 2),
        ("TWD", 2),
        ("HKD", 2),
        ("SGD", 2),
        ("AUD", 2),
        ("CAD", 2),
        ("NZD", 2),
    ];

    /// Looks up an ISO 4217 code among the currencies redress knows.
    pub fn from_code(code: &str) -> Option<Currency> {
        Self::KNOWN
            .iter()
            .find(|(known, _)| *known == code)
            .map(|&(code, digits)| Currency { code, digits })
    }

    /// The codes redress knows, for error messages.
    pub fn known_codes() -> String {
        Self::KNOWN
            .iter()
            .map(|(code, _)| *code)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Minor units per major unit (JPY 1, USD 100).
    pub fn scale(&self) -> i64 {
        10i64.pow(self.digits)
    }

    /// Plain decimal text with exactly the currency's digits: `1234`, `12.50`, `-0.50`; never `-0`.
    pub fn format(&self, minor: i64) -> String {
        format_minor(minor, self.digits)
    }

    /// The amount as an exact decimal in major units.
    pub fn to_decimal(&self, minor: i64) -> Decimal {
        Decimal::new(minor, self.digits)
    }

    /// `minor` units of this currency.
    pub fn money(&self, minor: i64) -> Money {
        Money::new(minor, self.digits)
    }

    /// Nothing, in this currency.
    pub fn zero(&self) -> Money {
        Money::zero(self.digits)
    }
}

/// Plain decimal text of a minor-unit amount with `digits` decimals; never `-0`.
pub fn format_minor(minor: i64, digits: u32) -> String {
    format_minor_i128(i128::from(minor), digits)
}

/// [`format_minor`] of a wider value (an exact median's doubled or tenfold sum).
pub fn format_minor_i128(minor: i128, digits: u32) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let magnitude = minor.unsigned_abs();
    if digits == 0 {
        return format!("{sign}{magnitude}");
    }
    let scale = 10u128.pow(digits);
    format!(
        "{sign}{}.{:0width$}",
        magnitude / scale,
        magnitude % scale,
        width = digits as usize
    )
}

/// Why a text is not an acceptable decimal or money value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberProblem {
    /// Not `[+-]?digits[.digits]`.
    Format,
    /// More precision than the currency's minor unit.
    NotWhole,
    /// Too large.
    Range,
}

/// Parses `[+-]?digits[.digits]` (no exponent, separators or spaces) into an exact decimal.
pub fn parse_decimal(text: &str) -> Result<Decimal, NumberProblem> {
    let (negative, integer, fraction) = split_decimal(text)?;
    let integer = integer.trim_start_matches('0');
    let fraction = fraction.trim_end_matches('0');
    if integer.len() + fraction.len() > 28 {
        return Err(NumberProblem::Range);
    }
    let mut mantissa: i128 = 0;
    for byte in integer.bytes().chain(fraction.bytes()) {
        mantissa = mantissa * 10 + i128::from(byte - b'0');
    }
    if negative {
        mantissa = -mantissa;
    }
    Decimal::try_from_i128_with_scale(mantissa, fraction.len() as u32)
        .map_err(|_| NumberProblem::Range)
}

/// Parses a money text into minor units of a currency with `digits` decimals. `100` and `100.00`
/// are fine for JPY; `100.5` is not whole.
pub fn parse_minor(text: &str, digits: u32) -> Result<i64, NumberProblem> {
    let (negative, integer, fraction) = split_decimal(text)?;
    let (kept, dropped) = fraction.split_at(fraction.len().min(digits as usize));
    if dropped.bytes().any(|byte| byte != b'0') {
        return Err(NumberProblem::NotWhole);
    }
    let integer = integer.trim_start_matches('0');
    if integer.len() > 16 {
        return Err(NumberProblem::Range);
    }
    let mut minor: i64 = 0;
    for byte in integer.bytes() {
        minor = minor * 10 + i64::from(byte - b'0');
    }
    for position in 0..digits as usize {
        let digit = kept.as_bytes().get(position).map_or(0, |byte| byte - b'0');
        minor = minor
            .checked_mul(10)
            .and_then(|value| value.checked_add(i64::from(digit)))
            .ok_or(NumberProblem::Range)?;
    }
    if minor > MAX_ABS_MINOR {
        return Err(NumberProblem::Range);
    }
    Ok(if negative { -minor } else { minor })
}

/// Converts an exact decimal in major units into minor units, refusing sub-minor precision.
pub fn decimal_to_minor(value: Decimal, digits: u32) -> Result<i64, NumberProblem> {
    let scaled = value
        .checked_mul(Decimal::from(10i64.pow(digits)))
        .ok_or(NumberProblem::Range)?;
    if !scaled.fract().is_zero() {
        return Err(NumberProblem::NotWhole);
    }
    let minor = scaled.trunc().to_i64().ok_or(NumberProblem::Range)?;
    if minor.abs() > MAX_ABS_MINOR {
        return Err(NumberProblem::Range);
    }
    Ok(minor)
}

fn split_decimal(text: &str) -> Result<(bool, &str, &str), NumberProblem> {
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (integer, fraction) = match unsigned.split_once('.') {
        Some((integer, fraction)) => {
            if fraction.is_empty() {
                return Err(NumberProblem::Format);
            }
            (integer, fraction)
        }
        None => (unsigned, ""),
    };
    if integer.is_empty()
        || !integer.bytes().all(|byte| byte.is_ascii_digit())
        || !fraction.bytes().all(|byte| byte.is_ascii_digit())
    {
        return Err(NumberProblem::Format);
    }
    Ok((negative, integer, fraction))
}

/// Parses a strict ISO date `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    if bytes.len() != 10
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || !bytes
            .iter()
            .enumerate()
            .all(|(index, byte)| index == 4 || index == 7 || byte.is_ascii_digit())
    {
        return None;
    }
    let year = text[0..4].parse().ok()?;
    let month = text[5..7].parse().ok()?;
    let day = text[8..10].parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

/// A billing month (`YYYY-MM`), ordered by time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(i32);

impl Month {
    /// Months since year 0: `year × 12 + month − 1`. The representation polars columns carry.
    pub fn from_index(index: i32) -> Month {
        Month(index)
    }

    pub fn index(self) -> i32 {
        self.0
    }

    pub fn new(year: i32, month: u32) -> Option<Month> {
        if (1..=12).contains(&month) && (1..=9999).contains(&year) {
            Some(Month(year * 12 + month as i32 - 1))
        } else {
            None
        }
    }

    /// Parses a strict `YYYY-MM`.
    pub fn parse(text: &str) -> Option<Month> {
        let bytes = text.as_bytes();
        if bytes.len() != 7
            || bytes[4] != b'-'
            || !bytes
                .iter()
                .enumerate()
                .all(|(index, byte)| index == 4 || byte.is_ascii_digit())
        {
            return None;
        }
        Month::new(text[0..4].parse().ok()?, text[5..7].parse().ok()?)
    }

    pub fn of_date(date: NaiveDate) -> Month {
        Month(date.year() * 12 + date.month0() as i32)
    }

    pub fn year(self) -> i32 {
        self.0.div_euclid(12)
    }

    /// 1..=12
    pub fn month(self) -> u32 {
        self.0.rem_euclid(12) as u32 + 1
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year(), self.month(), 1).unwrap_or(NaiveDate::MIN)
    }

    pub fn last_day(self) -> NaiveDate {
        Month(self.0 + 1)
            .first_day()
            .pred_opt()
            .unwrap_or(NaiveDate::MAX)
    }
}

/// `YYYY-MM`, as every output writes a month.
impl Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

/// Plain decimal text of a rate as a fraction (`0.03`), without trailing zeros.
pub fn format_rate(rate: Decimal) -> String {
    let normalized = rate.normalize();
    if normalized.is_zero() {
        "0".to_string()
    } else {
        normalized.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Rounding::*;

    #[test]
    fn round_ratio_every_mode() {
        // (numerator, denominator, down, up, half_up, half_even)
        let cases: [(i128, i128, i128, i128, i128, i128); 10] = [
            (7, 2, 3, 4, 4, 4),      // 3.5: tie, 3 is odd → even is 4
            (5, 2, 2, 3, 3, 2),      // 2.5: tie, 2 is even
            (-5, 2, -2, -3, -3, -2), // -2.5
            (-7, 2, -3, -4, -4, -4), // -3.5
            (10, 3, 3, 4, 3, 3),     // 3.333…
            (20, 3, 6, 7, 7, 7),     // 6.666…
            (-20, 3, -6, -7, -7, -7),
            (9, 3, 3, 3, 3, 3), // exact
            (0, 7, 0, 0, 0, 0),
            (1, -2, 0, -1, -1, 0), // −0.5 with a negative denominator
        ];
        for (numerator, denominator, down, up, half_up, half_even) in cases {
            assert_eq!(
                round_ratio(numerator, denominator, Down),
                Ok(down),
                "{numerator}/{denominator} down"
            );
            assert_eq!(
                round_ratio(numerator, denominator, Up),
                Ok(up),
                "{numerator}/{denominator} up"
            );
            assert_eq!(
                round_ratio(numerator, denominator, HalfUp),
                Ok(half_up),
                "{numerator}/{denominator} half_up"
            );
            assert_eq!(
                round_ratio(numerator, denominator, HalfEven),
                Ok(half_even),
                "{numerator}/{denominator} half_even"
            );
        }
    }

    #[test]
    fn big_ratio_matches_small_ratio() {
        for numerator in -50i128..=50 {
            for denominator in [1i128, 2, 3, 7, 10, -4] {
                for mode in [Down, Up, HalfUp, HalfEven] {
                    assert_eq!(
                        round_big_ratio(&BigInt::from(numerator), &BigInt::from(denominator), mode),
                        BigInt::from(round_ratio(numerator, denominator, mode).unwrap()),
                    );
                }
            }
        }
    }

    #[test]
    fn tax_on_amounts() {
        // 1,234 yen at 8%: 98.72 → down 98, up 99, half_up 99, half_even 99
        let rate = Decimal::new(8, 2);
        assert_eq!(mul_rate(1234, rate, Down, "t"), Ok(98));
        assert_eq!(mul_rate(1234, rate, Up, "t"), Ok(99));
        assert_eq!(mul_rate(1234, rate, HalfUp, "t"), Ok(99));
        // 1,225 × 0.1 = 122.5: half_up 123, half_even 122
        assert_eq!(mul_rate(1225, Decimal::new(10, 2), HalfUp, "t"), Ok(123));
        assert_eq!(mul_rate(1225, Decimal::new(10, 2), HalfEven, "t"), Ok(122));
        // negative base: −1,225 × 0.1 = −122.5 → down −122, up −123
        assert_eq!(mul_rate(-1225, Decimal::new(1, 1), Down, "t"), Ok(-122));
        assert_eq!(mul_rate(-1225, Decimal::new(1, 1), Up, "t"), Ok(-123));
    }

    #[test]
    fn proration_ratio() {
        // 3,000 yen for a 30-day period, 11 days billable: 1,100 exactly
        assert_eq!(mul_ratio(3000, 11, 30, Down, "p"), Ok(1100));
        // 1,000 for 31 days, 10 billable: 322.58… → down 322, up 323, half_up 323
        assert_eq!(mul_ratio(1000, 10, 31, Down, "p"), Ok(322));
        assert_eq!(mul_ratio(1000, 10, 31, Up, "p"), Ok(323));
        assert_eq!(mul_ratio(1000, 10, 31, HalfUp, "p"), Ok(323));
    }

    #[test]
    fn money_text() {
        assert_eq!(parse_minor("100", 0), Ok(100));
        assert_eq!(parse_minor("100.00", 0), Ok(100));
        assert_eq!(parse_minor("+100.0", 0), Ok(100));
        assert_eq!(parse_minor("-0042", 0), Ok(-42));
        assert_eq!(parse_minor("100.5", 0), Err(NumberProblem::NotWhole));
        assert_eq!(parse_minor("12.5", 2), Ok(1250));
        assert_eq!(parse_minor("12.505", 2), Err(NumberProblem::NotWhole));
        assert_eq!(parse_minor("12.500", 2), Ok(1250));
        for bad in [
            "",
            "1e3",
            "1,000",
            " 100",
            "100 ",
            ".5",
            "5.",
            "--1",
            "１００",
            "0x10",
            "NaN",
        ] {
            assert_eq!(parse_minor(bad, 0), Err(NumberProblem::Format), "{bad:?}");
        }
        assert_eq!(
            parse_minor("99999999999999999999", 0),
            Err(NumberProblem::Range)
        );
        assert_eq!(format_minor(1234, 0), "1234");
        assert_eq!(format_minor(1250, 2), "12.50");
        assert_eq!(format_minor(-50, 2), "-0.50");
        assert_eq!(format_minor(0, 2), "0.00");
        assert_eq!(format_minor(-0, 0), "0");
    }

    #[test]
    fn decimal_text() {
        assert_eq!(parse_decimal("0.10"), Ok(Decimal::new(1, 1)));
        assert_eq!(parse_decimal("0.145"), Ok(Decimal::new(145, 3)));
        assert_eq!(parse_decimal("-1"), Ok(Decimal::new(-1, 0)));
        assert_eq!(parse_decimal("1.5e2"), Err(NumberProblem::Format));
        assert_eq!(decimal_to_minor(Decimal::new(10000, 2), 0), Ok(100));
        assert_eq!(
            decimal_to_minor(Decimal::new(10050, 2), 0),
            Err(NumberProblem::NotWhole)
        );
    }

    #[test]
    fn months_and_dates() {
        let month = Month::parse("2001-09").unwrap();
        assert_eq!(month.to_string(), "2001-09");
        assert_eq!(
            month.last_day(),
            NaiveDate::from_ymd_opt(2001, 9, 30).unwrap()
        );
        assert_eq!(
            Month::parse("2024-02").unwrap().last_day().to_string(),
            "2024-02-29"
        );
        assert_eq!(Month::parse("2001-13"), None);
        assert_eq!(Month::parse("2001-9"), None);
        assert_eq!(parse_date("2024-02-29").unwrap().to_string(), "2024-02-29");
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2023-2-28"), None);
    }
}
