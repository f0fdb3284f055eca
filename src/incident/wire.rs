//! The incident file exactly as written in TOML: serde structs that refuse unknown keys, and the
//! source of the JSON Schema in `schemas/incident.schema.json`. Nothing here is validated beyond
//! types; `incident::mod` turns these into domain types.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::money::Rounding;

/// A TOML date (`2001-09-30`, unquoted) as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WireDate(pub toml::value::Datetime);

impl JsonSchema for WireDate {
    fn schema_name() -> Cow<'static, str> {
        "Date".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A TOML local date, unquoted: 2001-09-30.",
            "type": "string",
            "format": "date"
        })
    }
}

/// A decimal (money or rate) written as a string (`"0.145"`) or an integer (`100`). A TOML float is
/// refused: binary floating point cannot carry money exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct WireDecimal(pub String);

impl<'de> Deserialize<'de> for WireDecimal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DecimalVisitor;
        impl Visitor<'_> for DecimalVisitor {
            type Value = WireDecimal;
            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter
                    .write_str("a decimal written as a string such as \"0.145\", or an integer")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<WireDecimal, E> {
                Ok(WireDecimal(value.to_string()))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<WireDecimal, E> {
                Ok(WireDecimal(value.to_string()))
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<WireDecimal, E> {
                Ok(WireDecimal(value.to_string()))
            }
            fn visit_f64<E: de::Error>(self, value: f64) -> Result<WireDecimal, E> {
                Err(E::custom(format_args!(
                    "`{value}` is a TOML float; money and rates must be exact: write it as a string, e.g. \"{value}\""
                )))
            }
        }
        deserializer.deserialize_any(DecimalVisitor)
    }
}

impl JsonSchema for WireDecimal {
    fn schema_name() -> Cow<'static, str> {
        "Decimal".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An exact decimal: a string such as \"0.145\" or an integer. Floats are refused.",
            "anyOf": [
                { "type": "string", "pattern": "^[+-]?[0-9]+(\\.[0-9]+)?$" },
                { "type": "integer" }
            ]
        })
    }
}

/// The whole incident file.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentFile {
    pub incident: IncidentSection,
    #[serde(default)]
    pub scope: ScopeSection,
    #[serde(default)]
    pub trigger: TriggerSection,
    #[serde(default)]
    pub rule: RuleSection,
    #[serde(default)]
    pub tax: TaxSection,
    pub interest: InterestSection,
    #[serde(default)]
    pub payout: PayoutSection,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    MissedCancellation,
    MissedPlanChange,
    WrongEquipmentCount,
    BilledBeforeActivation,
    CoolingOffCaps,
}

impl IncidentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentKind::MissedCancellation => "missed_cancellation",
            IncidentKind::MissedPlanChange => "missed_plan_change",
            IncidentKind::WrongEquipmentCount => "wrong_equipment_count",
            IncidentKind::BilledBeforeActivation => "billed_before_activation",
            IncidentKind::CoolingOffCaps => "cooling_off_caps",
        }
    }
}

/// `[incident]`
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentSection {
    /// Stable id; part of every refund_id.
    pub id: String,
    pub kind: IncidentKind,
    pub title: Option<String>,
    pub company: Option<String>,
    pub announced_on: Option<WireDate>,
    /// Interest runs to this date; `--refund-date` overrides.
    pub refund_date: Option<WireDate>,
    /// ISO 4217 code; fixes the minor unit. Default JPY.
    pub currency: Option<String>,
    /// Free text for notices and the press release, per language (`ja`, `en`).
    #[serde(default)]
    pub text: IncidentTextSection,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentTextSection {
    pub ja: Option<IncidentText>,
    pub en: Option<IncidentText>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentText {
    pub summary: Option<String>,
    pub cause: Option<String>,
    pub response: Option<String>,
    pub prevention: Option<String>,
    pub contact: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MonthRange {
    /// `YYYY-MM`, inclusive.
    pub from: Option<String>,
    /// `YYYY-MM`, inclusive.
    pub to: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DateRange {
    pub from: Option<WireDate>,
    pub to: Option<WireDate>,
}

/// `[scope]`: every key optional; an account must pass all given filters.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopeSection {
    pub billing_months: Option<MonthRange>,
    pub event_dates: Option<DateRange>,
    pub opened: Option<DateRange>,
    pub regions: Option<Vec<String>>,
    pub plans: Option<Vec<String>>,
    pub customer_types: Option<Vec<String>>,
}

/// `[trigger]`
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggerSection {
    pub event: Option<String>,
    pub detail: Option<String>,
}

/// `"*"` or a list of item codes.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum ItemsWire {
    All(String),
    List(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Effective {
    EndOfMonth,
    EventDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Proration {
    Daily,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AppliesTo {
    PeriodsStartingOnOrAfter,
    PeriodsContaining,
}

/// One `[[rule.reprice]]` entry.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepriceWire {
    pub item: String,
    pub unit_price: Option<WireDecimal>,
    pub discount_rate: Option<WireDecimal>,
    pub match_unit_price: Option<WireDecimal>,
    pub match_discount_rate: Option<WireDecimal>,
}

/// One `[[rule.caps]]` entry.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CapWire {
    pub item: String,
    pub cap: WireDecimal,
}

/// `[rule]`: the keys of every kind; those the chosen kind does not use are type-checked and ignored.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSection {
    pub items: Option<ItemsWire>,
    pub effective: Option<Effective>,
    pub proration: Option<Proration>,
    pub proration_rounding: Option<Rounding>,
    pub applies_to: Option<AppliesTo>,
    pub reprice: Option<Vec<RepriceWire>>,
    pub discount_rounding: Option<Rounding>,
    pub activation_event: Option<String>,
    pub recurring_items: Option<Vec<String>>,
    pub caps: Option<Vec<CapWire>>,
}

/// `[tax]`
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxSection {
    pub rounding: Option<Rounding>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InterestPolicyKind {
    StatutoryJp,
    Fixed,
    Schedule,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum RateAt {
    #[default]
    AccrualStart,
    Daily,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    #[default]
    Act365Fixed,
    ActAct,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum FirstDay {
    #[default]
    Excluded,
    Included,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleEntry {
    pub from: WireDate,
    pub rate: WireDecimal,
}

/// `[interest]`
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InterestSection {
    pub policy: InterestPolicyKind,
    pub rate: Option<WireDecimal>,
    pub schedule: Option<Vec<ScheduleEntry>>,
    pub rate_at: Option<RateAt>,
    pub basis: Option<Basis>,
    pub first_day: Option<FirstDay>,
    pub rounding: Option<Rounding>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActiveChannel {
    BillCredit,
    BankTransfer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClosedChannel {
    BankTransfer,
    Claim,
}

/// `[payout]`
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PayoutSection {
    pub active: Option<ActiveChannel>,
    pub closed: Option<ClosedChannel>,
    pub claim_if_closed_before: Option<WireDate>,
    /// `YYYY-MM`; default: the refund date's month.
    pub bill_credit_month: Option<String>,
    pub minimum_transfer: Option<WireDecimal>,
    pub zengin: Option<ZenginSection>,
}

/// `[payout.zengin]`: the paying company's account for the Zengin transfer file.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ZenginSection {
    pub requester_code: String,
    pub requester_name: String,
    pub bank_code: String,
    pub bank_name: Option<String>,
    pub branch_code: String,
    pub branch_name: Option<String>,
    pub account_type: String,
    pub account_number: String,
}
