//! The typed values that cross from polars into Rust: one in-scope account with its charge rows and
//! events. Only in-scope accounts become these structs; the bulk of the billing rows never does.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::money::Month;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Active,
    Closed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Closed => "closed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    Ja,
    En,
}

/// Bank details as found in accounts; possibly incomplete.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BankDetails {
    pub bank_code: Option<String>,
    pub branch_code: Option<String>,
    pub account_type: Option<String>,
    pub account_number: Option<String>,
    pub holder_kana: Option<String>,
}

/// One row of accounts, with the trigger that put it in scope.
#[derive(Debug, Clone)]
pub struct Account {
    pub account_id: String,
    pub holder_name: String,
    pub postal_code: Option<String>,
    pub address: Option<String>,
    pub email: Option<String>,
    pub language: Language,
    pub region: Option<String>,
    pub plan: Option<String>,
    pub customer_type: Option<String>,
    pub opened_on: Option<NaiveDate>,
    pub status: Status,
    pub closed_on: Option<NaiveDate>,
    pub bank: BankDetails,
    /// Earliest trigger event inside the window.
    pub trigger_date: NaiveDate,
}

/// A charge row of an in-scope account whose item the rule may touch.
#[derive(Debug, Clone, PartialEq)]
pub struct ChargeRow {
    pub billing_month: Month,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub item: String,
    pub quantity: i64,
    /// Minor units.
    pub unit_price: i64,
    /// Minor units; `amount` when the column is absent or empty.
    pub list_amount: i64,
    pub discount_rate: Decimal,
    /// Minor units.
    pub amount: i64,
    pub tax_rate: Decimal,
    pub paid_on: Option<NaiveDate>,
}

/// Rows of an invoice and tax rate that no rule touches, summed in polars.
#[derive(Debug, Clone, PartialEq)]
pub struct UntouchedGroup {
    pub billing_month: Month,
    pub tax_rate: Decimal,
    /// Minor units.
    pub amount_sum: i64,
    pub rows: u64,
    /// paid_on over the group's rows: smallest, largest, and how many were empty.
    pub paid_on_min: Option<NaiveDate>,
    pub paid_on_max: Option<NaiveDate>,
    pub paid_on_empty: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: String,
    pub date: NaiveDate,
    pub detail: Option<String>,
    pub quantity: Option<i64>,
}

/// Everything the money policy needs about one in-scope account.
#[derive(Debug, Clone)]
pub struct AccountInput {
    pub account: Account,
    /// Rows of touched items, in a deterministic order (billing_month, period_start, period_end,
    /// amount, tax_rate, item).
    pub rows: Vec<ChargeRow>,
    pub untouched: Vec<UntouchedGroup>,
    /// The account's events of the kinds the rule reads (all dates).
    pub events: Vec<Event>,
}
