//! [`Money`]: an amount in a currency's minor unit that only checked arithmetic can change.

#![deny(clippy::arithmetic_side_effects)]

use std::fmt;

use rust_decimal::Decimal;
use serde::Serialize;

use super::{Overflow, Rounding, format_minor, format_minor_i128, mul_rate};

/// An amount of money: a count of the currency's minor unit (yen for JPY, cents for USD) with the
/// currency's digits, so that it prints and serialises as exact decimal text (`1234`, `12.50`).
///
/// Only checked arithmetic: there is no `Add`/`Sub`/`Neg`, and every operation that can leave the
/// range of an `i64`, or mix two currencies' minor units, returns `None` or an [`Overflow`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money {
    minor: i64,
    digits: u32,
}

impl Money {
    /// `minor` units of a currency with `digits` decimals.
    pub const fn new(minor: i64, digits: u32) -> Money {
        Money { minor, digits }
    }

    /// Nothing, in a currency with `digits` decimals.
    pub const fn zero(digits: u32) -> Money {
        Money { minor: 0, digits }
    }

    /// The count of minor units.
    pub const fn minor(self) -> i64 {
        self.minor
    }

    /// Digits after the decimal point of the minor unit.
    pub const fn digits(self) -> u32 {
        self.digits
    }

    /// The same currency, `minor` units (another amount of the same column or ledger).
    pub const fn with_minor(self, minor: i64) -> Money {
        Money::new(minor, self.digits)
    }

    pub const fn is_zero(self) -> bool {
        self.minor == 0
    }

    pub const fn is_positive(self) -> bool {
        self.minor > 0
    }

    pub const fn is_negative(self) -> bool {
        self.minor < 0
    }

    /// -1, 0 or 1.
    pub const fn signum(self) -> i64 {
        self.minor.signum()
    }

    /// `None` when the sum leaves an `i64` or the two are of different currencies' minor units.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        if self.digits != other.digits {
            return None;
        }
        Some(self.with_minor(self.minor.checked_add(other.minor)?))
    }

    /// `None` when the difference leaves an `i64` or the two are of different minor units.
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        if self.digits != other.digits {
            return None;
        }
        Some(self.with_minor(self.minor.checked_sub(other.minor)?))
    }

    pub fn checked_neg(self) -> Option<Money> {
        Some(self.with_minor(self.minor.checked_neg()?))
    }

    /// [`Money::checked_add`] with the error naming what was being computed.
    pub fn plus(self, other: Money, what: &'static str) -> Result<Money, Overflow> {
        self.checked_add(other).ok_or(Overflow(what))
    }

    /// [`Money::checked_sub`] with the error naming what was being computed.
    pub fn minus(self, other: Money, what: &'static str) -> Result<Money, Overflow> {
        self.checked_sub(other).ok_or(Overflow(what))
    }

    /// [`Money::checked_neg`] with the error naming what was being computed.
    pub fn negated(self, what: &'static str) -> Result<Money, Overflow> {
        self.checked_neg().ok_or(Overflow(what))
    }

    /// Checked sum of amounts with `digits` decimals (zero for none).
    pub fn sum<I: IntoIterator<Item = Money>>(
        values: I,
        digits: u32,
        what: &'static str,
    ) -> Result<Money, Overflow> {
        values
            .into_iter()
            .try_fold(Money::zero(digits), Money::checked_add)
            .ok_or(Overflow(what))
    }

    /// `R(self × rate)`, rounded once by [`super::round_ratio`].
    pub fn mul_rate(
        self,
        rate: Decimal,
        mode: Rounding,
        what: &'static str,
    ) -> Result<Money, Overflow> {
        Ok(self.with_minor(mul_rate(self.minor, rate, mode, what)?))
    }

    /// The amount as an exact decimal in major units.
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.minor, self.digits)
    }

    /// The amount without its sign, as decimal text (an under-billing stated as a positive sum).
    pub fn magnitude(self) -> String {
        format_minor_i128(i128::from(self.minor.unsigned_abs()), self.digits)
    }
}

/// Plain decimal text with exactly the currency's digits: `1234`, `12.50`, `-0.50`; never `-0`.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_minor(self.minor, self.digits))
    }
}

/// Exact decimal text in the currency's major unit, as the CSVs write it.
impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Money serialised as its count of minor units (an integer), for files that have always recorded
/// minor units, such as the control totals of `manifest.json` that later waves read back.
pub mod as_minor {
    use super::Money;

    pub fn serialize<S: serde::Serializer>(
        money: &Money,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(money.minor())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_checked_arithmetic_and_one_currency_at_a_time() {
        let yen = |minor: i64| Money::new(minor, 0);
        let cents = |minor: i64| Money::new(minor, 2);
        assert_eq!(yen(3).checked_add(yen(4)), Some(yen(7)));
        assert_eq!(yen(i64::MAX).checked_add(yen(1)), None);
        assert_eq!(yen(i64::MIN).checked_neg(), None);
        assert_eq!(yen(1).checked_add(cents(1)), None);
        assert_eq!(
            Money::sum([yen(1), yen(2)], 0, "x").map(Money::minor),
            Ok(3)
        );
        assert_eq!(
            Money::sum([yen(i64::MAX), yen(1)], 0, "a total"),
            Err(Overflow("a total"))
        );
        assert_eq!(Money::sum([], 2, "none"), Ok(cents(0)));
    }

    #[test]
    fn text_is_exact_decimal_in_the_major_unit() {
        assert_eq!(Money::new(-50, 2).to_string(), "-0.50");
        assert_eq!(Money::new(1234, 0).to_string(), "1234");
        assert_eq!(Money::new(-1234, 2).magnitude(), "12.34");
        assert_eq!(
            serde_json::to_string(&Money::new(1250, 2)).unwrap(),
            "\"12.50\""
        );
        #[derive(Serialize)]
        struct Total {
            #[serde(serialize_with = "as_minor::serialize")]
            amount: Money,
        }
        assert_eq!(
            serde_json::to_string(&Total {
                amount: Money::new(1250, 2)
            })
            .unwrap(),
            r#"{"amount":1250}"#
        );
    }
}
