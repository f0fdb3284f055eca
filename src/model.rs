//! The typed values that cross from polars into Rust. For a run these are the affected invoices of
//! an account, already summed per tax rate in polars (`AccountInvoices`); no charge row becomes a
//! Rust value. `AccountInput` (one account's rows and events) is the input of a single-account
//! evaluation, which runs the same polars plan (tests, and the per-row trace of `explain`).

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::money::{Money, Month};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Active,
    Closed,
}

impl Status {
    /// The words `accounts.status` may hold, as the load check lists them.
    pub const CODES: &'static [&'static str] = &["active", "closed"];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Closed => "closed",
        }
    }

    /// `active` or `closed`; `None` for anything else.
    pub fn parse(code: &str) -> Option<Status> {
        match code {
            "active" => Some(Status::Active),
            "closed" => Some(Status::Closed),
            _ => None,
        }
    }
}

/// A language documents are written in (`accounts.language`, `[incident] language`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    Ja,
    En,
}

impl Language {
    /// Every language documents are written in, in a fixed order.
    pub const ALL: [Language; 2] = [Language::Ja, Language::En];

    /// The codes `accounts.language` may hold, as the load check lists them.
    pub const CODES: &'static [&'static str] = &["ja", "en"];

    /// `ja` or `en`; `None` for anything else.
    pub fn parse(code: &str) -> Option<Language> {
        Language::ALL
            .into_iter()
            .find(|language| language.code() == code)
    }

    /// `ja` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Language::Ja => "ja",
            Language::En => "en",
        }
    }
}

/// A bank account's type (預金種目).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BankAccountType {
    /// 普通
    Ordinary,
    /// 当座
    Current,
    /// 貯蓄
    Savings,
}

impl BankAccountType {
    /// The words an account type is written as, in the accounts table and the incident file.
    pub const CODES: &'static [&'static str] = &["ordinary", "current", "savings"];

    /// `ordinary`, `current` or `savings`; `None` for anything else.
    pub fn parse(code: &str) -> Option<BankAccountType> {
        match code {
            "ordinary" => Some(BankAccountType::Ordinary),
            "current" => Some(BankAccountType::Current),
            "savings" => Some(BankAccountType::Savings),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BankAccountType::Ordinary => "ordinary",
            BankAccountType::Current => "current",
            BankAccountType::Savings => "savings",
        }
    }

    /// The Zengin 預金種目 code: 1 普通, 2 当座, 4 貯蓄.
    pub fn zengin_code(self) -> &'static str {
        match self {
            BankAccountType::Ordinary => "1",
            BankAccountType::Current => "2",
            BankAccountType::Savings => "4",
        }
    }
}

/// Bank details as found in accounts; possibly incomplete. An account type that is not one of
/// [`BankAccountType::CODES`] reads as missing: either way the details are incomplete (SPEC §4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BankDetails {
    pub bank_code: Option<String>,
    pub branch_code: Option<String>,
    pub account_type: Option<BankAccountType>,
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

/// A charge row of one account (single-account evaluation and the `explain` trace).
#[derive(Debug, Clone, PartialEq)]
pub struct ChargeRow {
    pub billing_month: Month,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub item: String,
    pub quantity: i64,
    pub unit_price: Money,
    /// `amount` when the column is absent or empty.
    pub list_amount: Money,
    pub discount_rate: Decimal,
    pub amount: Money,
    pub tax_rate: Decimal,
    pub paid_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: String,
    pub date: NaiveDate,
    pub detail: Option<String>,
    pub quantity: Option<i64>,
}

/// One account's charge rows and events, for a single-account evaluation.
#[derive(Debug, Clone)]
pub struct AccountInput {
    pub account: Account,
    pub rows: Vec<ChargeRow>,
    /// The account's events of the kinds the rule reads (all dates).
    pub events: Vec<Event>,
}

/// One tax group of an invoice, summed in polars: B, D and the row counts (SPEC §4).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupInput {
    pub tax_rate: Decimal,
    /// B: Σ amount of all the group's rows.
    pub billed: Money,
    /// D: Σ diff.
    pub diff: Money,
    pub rows: u64,
    /// Rows of items the rule cannot change.
    pub untouched_rows: u64,
}

/// An invoice the money policy computes: its tax groups and the paid_on its rows agree on.
#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceInput {
    pub billing_month: Month,
    pub paid_on: Option<NaiveDate>,
    pub groups: Vec<GroupInput>,
}

/// An account with the invoices the rule changed (or, for `explain`, all its in-scope invoices).
#[derive(Debug, Clone)]
pub struct AccountInvoices {
    pub account: Account,
    pub invoices: Vec<InvoiceInput>,
}
