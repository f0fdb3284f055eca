//! Qualified return invoices (適格返還請求書, 消費税法 57条の4 第3項): since 2023-10-01 a registered
//! issuer who refunds part of a sale must give the customer a document stating, per tax rate, the
//! refunded amount and its consumption tax, the date of the refund and the date or period of the
//! original sales, so that the customer can adjust their input-tax credit.
//!
//! One line per account, per tax rate, per regime (sales before the system started, or under it):
//! the sums over the account's *paid* over-billed invoices of that rate's D and tax_diff. Interest
//! for late refund is not consideration for a sale, so it is not part of the document. Corrections
//! of unpaid bills (the bill is reissued) and under-billings waived are not refunds. The document is
//! not required when the account's tax-inclusive refund is under 10,000 yen (消費税法施行令
//! 70条の9 第3項第2号), judged once per refund, not per rate.

#![deny(clippy::arithmetic_side_effects)]

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::money::{Money, Month, Overflow};
use crate::refund::AccountRefund;

/// The first billing month under the qualified-invoice system (sales from 2023-10-01).
pub fn first_qualified_month() -> Month {
    Month::from_index(2023 * 12 + 9)
}

/// Below this tax-inclusive refund (in yen) no return invoice is required.
pub const SMALL_REFUND_JPY: i64 = 10_000;

/// A qualified-invoice issuer's registration number: `T` and a 13-digit corporate number whose
/// first digit is its check digit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationNumber(String);

impl RegistrationNumber {
    /// Parses `T` + 13 digits and checks the check digit (法人番号の検査用数字).
    pub fn parse(text: &str) -> Result<RegistrationNumber, String> {
        let digits = text.strip_prefix('T').ok_or_else(|| {
            format!("`{text}` does not start with `T` (a registration number is `T` and 13 digits)")
        })?;
        if digits.len() != 13 || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(format!(
                "`{text}` is not `T` followed by 13 digits (half-width, no spaces or hyphens)"
            ));
        }
        let bytes = digits.as_bytes();
        let expected = check_digit(&bytes[1..]);
        let given = bytes[0].wrapping_sub(b'0');
        if given != expected {
            return Err(format!(
                "`{text}` has check digit {given} but its other 12 digits give {expected}; a digit is mistyped"
            ));
        }
        Ok(RegistrationNumber(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The check digit of a corporate number's 12 base digits (法人番号の指定を受けた者の…省令 第2条):
/// 9 − (Σ Pn × Qn mod 9), Pn the n-th digit from the right, Qn 1 for odd n and 2 for even n.
/// Twelve digits (checked by the caller) times 1 or 2 cannot overflow.
#[allow(clippy::arithmetic_side_effects)]
fn check_digit(base: &[u8]) -> u8 {
    let sum: u32 = base
        .iter()
        .rev()
        .enumerate()
        .map(|(index, byte)| u32::from(byte - b'0') * if index % 2 == 0 { 1 } else { 2 })
        .sum();
    9 - (sum % 9) as u8
}

/// What the incident file says about the company under the qualified-invoice system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Issuer {
    /// `registration_number = "T…"`.
    Registered(RegistrationNumber),
    /// `qualified_invoice_issuer = false`: the company issues no qualified invoices.
    NotRegistered,
    /// Neither key: fine while no refund touches sales under the system.
    Unstated,
}

/// When notices carry the return-invoice section.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NoticeSection {
    /// Only where the law requires the document.
    #[default]
    WhenRequired,
    /// For every refund of sales under the system, whatever its amount.
    Always,
}

/// The incident's return-invoice settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub issuer: Issuer,
    pub notice: NoticeSection,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            issuer: Issuer::Unstated,
            notice: NoticeSection::WhenRequired,
        }
    }
}

/// One line of `return_invoices.csv`: an account's refund of one tax rate, for sales before the
/// system or under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnLine {
    pub refund_id: String,
    pub account_id: String,
    pub tax_rate: Decimal,
    /// Σ D of the rate over the account's paid over-billed invoices (tax excluded).
    pub principal: Money,
    /// Σ tax_diff of the rate.
    pub tax: Money,
    /// principal + tax: the tax-inclusive refund of the rate.
    pub total: Money,
    /// First and last billing month of the original sales.
    pub sales_from: Month,
    pub sales_to: Month,
    pub refund_date: Option<NaiveDate>,
    /// Sales on or after 2023-10-01 (billing month 2023-10 or later).
    pub qualified: bool,
    /// The law requires the document: qualified sales, a registered (or unstated) issuer, yen,
    /// and an account refund (principal + tax) of at least 10,000 yen.
    pub required: bool,
}

/// The return-invoice lines of every refund, in account order, then sales before the system
/// first, then tax rate.
pub fn lines(
    refunds: &[AccountRefund],
    policy: &Policy,
    currency_code: &str,
    refund_date: Option<NaiveDate>,
) -> Result<Vec<ReturnLine>, Overflow> {
    let mut lines = Vec::new();
    for refund in refunds {
        account_lines(refund, policy, currency_code, refund_date, &mut lines)?;
    }
    Ok(lines)
}

struct Sums {
    principal: Money,
    tax: Money,
    from: Option<Month>,
    to: Option<Month>,
}

fn account_lines(
    refund: &AccountRefund,
    policy: &Policy,
    currency_code: &str,
    refund_date: Option<NaiveDate>,
    lines: &mut Vec<ReturnLine>,
) -> Result<(), Overflow> {
    let mut groups: BTreeMap<(bool, Decimal), Sums> = BTreeMap::new();
    for invoice in refund
        .invoices
        .iter()
        .filter(|invoice| invoice.is_refunded())
    {
        let qualified = invoice.billing_month >= first_qualified_month();
        for group in &invoice.groups {
            if group.diff.is_zero() && group.tax_diff.is_zero() {
                continue;
            }
            let zero = group.diff.with_minor(0);
            let sums = groups
                .entry((qualified, group.tax_rate.normalize()))
                .or_insert(Sums {
                    principal: zero,
                    tax: zero,
                    from: None,
                    to: None,
                });
            sums.principal = sums
                .principal
                .plus(group.diff, "a return invoice's principal")?;
            sums.tax = sums.tax.plus(group.tax_diff, "a return invoice's tax")?;
            sums.from = Some(sums.from.map_or(invoice.billing_month, |month| {
                month.min(invoice.billing_month)
            }));
            sums.to = Some(sums.to.map_or(invoice.billing_month, |month| {
                month.max(invoice.billing_month)
            }));
        }
    }
    let tax_inclusive = refund
        .refund_principal
        .plus(refund.refund_tax, "an account's tax-inclusive refund")?;
    let large_enough = currency_code == "JPY" && tax_inclusive.minor() >= SMALL_REFUND_JPY;
    let registered = !matches!(policy.issuer, Issuer::NotRegistered);
    for ((qualified, tax_rate), sums) in groups {
        let (Some(sales_from), Some(sales_to)) = (sums.from, sums.to) else {
            continue;
        };
        lines.push(ReturnLine {
            refund_id: refund.refund_id.clone(),
            account_id: refund.account_id.clone(),
            tax_rate,
            principal: sums.principal,
            tax: sums.tax,
            total: sums.principal.plus(sums.tax, "a return invoice's total")?,
            sales_from,
            sales_to,
            refund_date,
            qualified,
            required: qualified && registered && large_enough,
        });
    }
    Ok(())
}

/// The lines of each account, in their order.
pub fn by_account(lines: &[ReturnLine]) -> std::collections::HashMap<&str, Vec<&ReturnLine>> {
    let mut by_account: std::collections::HashMap<&str, Vec<&ReturnLine>> =
        std::collections::HashMap::new();
    for line in lines {
        by_account
            .entry(line.account_id.as_str())
            .or_default()
            .push(line);
    }
    by_account
}

/// Whether the account's notice carries the return-invoice section under `policy`.
pub fn in_notice(policy: &Policy, account_lines: &[&ReturnLine]) -> bool {
    if !matches!(policy.issuer, Issuer::Registered(_)) {
        return false;
    }
    match policy.notice {
        NoticeSection::WhenRequired => account_lines.iter().any(|line| line.required),
        NoticeSection::Always => account_lines.iter().any(|line| line.qualified),
    }
}

/// The first refunded account with sales under the system, when the incident states neither a
/// registration number nor `qualified_invoice_issuer = false`.
pub fn missing_registration<'a>(
    policy: &Policy,
    lines: &'a [ReturnLine],
) -> Option<&'a ReturnLine> {
    match policy.issuer {
        Issuer::Unstated => lines.iter().find(|line| line.qualified),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits_of_known_corporate_numbers() {
        // Published corporate numbers: the National Tax Agency and Toyota Motor.
        for number in ["T7000012050002", "T1180301018771"] {
            assert!(RegistrationNumber::parse(number).is_ok(), "{number}");
        }
        let table = [
            ("7000012050002", true),
            ("8000012050002", false),
            ("6000012050002", false),
            ("7000012050003", false),
            // Σ ≡ 0 (mod 9) gives check digit 9.
            ("9000000000000", true),
            ("1000000000008", true),
            ("1000000000005", false),
            // 9 − (n mod 9) is never 0.
            ("0000000000000", false),
        ];
        for (digits, valid) in table {
            assert_eq!(
                RegistrationNumber::parse(&format!("T{digits}")).is_ok(),
                valid,
                "{digits}"
            );
        }
    }

    #[test]
    fn malformed_numbers_say_what_is_wrong() {
        let message = |text: &str| RegistrationNumber::parse(text).unwrap_err();
        assert!(message("7000012050002").contains("does not start with `T`"));
        assert!(message("T700001205000").contains("13 digits"));
        assert!(message("T7000-12050002").contains("13 digits"));
        assert!(message("Ｔ7000012050002").contains("does not start with `T`"));
        assert!(message("T8000012050002").contains("check digit 8"));
    }
}
