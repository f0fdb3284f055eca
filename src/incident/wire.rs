//! The incident file exactly as written in TOML: serde structs that refuse unknown keys, and the
//! source of the JSON Schema in `schemas/incident.schema.json`. Nothing here is validated beyond
//! types; `incident::mod` turns these into domain types.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::money::Rounding;
use crate::rules::{KINDS, Kind};

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
    /// What documents call regions, plans and payout channels, per language.
    #[serde(default)]
    pub display: DisplaySection,
}

/// `incident.kind`: one of the kinds in [`KINDS`], each owned by its file in `src/rules/`.
#[derive(Clone, Copy)]
pub struct IncidentKind(&'static dyn Kind);

impl IncidentKind {
    /// Every kind, in registry order.
    pub fn all() -> impl Iterator<Item = IncidentKind> {
        KINDS.iter().map(|kind| IncidentKind(*kind))
    }

    /// The kind written `name` in incident files.
    pub fn named(name: &str) -> Option<IncidentKind> {
        IncidentKind::all().find(|kind| kind.as_str() == name)
    }

    /// The kind's names, quoted and comma-separated, for messages.
    pub fn names() -> String {
        IncidentKind::all()
            .map(|kind| format!("`{}`", kind.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn as_str(self) -> &'static str {
        self.0.name()
    }

    /// The file that owns the kind.
    pub fn spec(self) -> &'static dyn Kind {
        self.0
    }
}

impl PartialEq for IncidentKind {
    fn eq(&self, other: &IncidentKind) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for IncidentKind {}

impl fmt::Debug for IncidentKind {
    fn fmt(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl Serialize for IncidentKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for IncidentKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        IncidentKind::named(&name).ok_or_else(|| {
            de::Error::custom(format_args!(
                "unknown variant `{name}`, expected one of {}",
                IncidentKind::names()
            ))
        })
    }
}

impl JsonSchema for IncidentKind {
    fn schema_name() -> Cow<'static, str> {
        "IncidentKind".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = IncidentKind::all().map(IncidentKind::as_str).collect();
        json_schema!({
            "type": "string",
            "enum": names
        })
    }
}

/// `[incident]`
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentSection {
    /// Stable id; part of every refund_id.
    pub id: String,
    pub kind: IncidentKind,
    /// The title in the incident's language (`language`); `[incident.text.<lang>] title` gives it
    /// in another.
    pub title: Option<String>,
    /// The company's name in the incident's language; `[incident.text.<lang>] company` in another.
    pub company: Option<String>,
    /// The language of `title` and `company`, and of `report.html`: `ja` (default) or `en`.
    pub language: Option<crate::model::Language>,
    /// How dates are written in Japanese documents: `gregorian` (default, 2001年8月22日) or
    /// `wareki` (平成13年8月22日).
    pub date_style: Option<DateStyle>,
    pub announced_on: Option<WireDate>,
    /// Interest runs to this date; `--refund-date` overrides.
    pub refund_date: Option<WireDate>,
    /// ISO 4217 code; fixes the minor unit. Default JPY.
    pub currency: Option<String>,
    /// Free text for notices and the press release, per language (`ja`, `en`).
    #[serde(default)]
    pub text: IncidentTextSection,
    /// Qualified-invoice issuer registration number (`T` + 13 digits, 適格請求書発行事業者登録番号),
    /// printed on qualified return invoices. Required when a refund touches sales from 2023-10-01,
    /// unless `qualified_invoice_issuer = false`.
    pub registration_number: Option<String>,
    /// `false` when the company is not a registered qualified-invoice issuer: no return invoices.
    pub qualified_invoice_issuer: Option<bool>,
    /// When notices carry the qualified return invoice: `required` (default: where the law
    /// requires it) or `always` (every refund of sales from 2023-10-01, whatever its amount).
    pub return_invoice_notice: Option<ReturnInvoiceNotice>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReturnInvoiceNotice {
    Required,
    Always,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentTextSection {
    pub ja: Option<IncidentText>,
    pub en: Option<IncidentText>,
}

/// How Japanese documents write dates.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DateStyle {
    /// 2001年8月22日
    #[default]
    Gregorian,
    /// 平成13年8月22日 (元年 for an era's first year)
    Wareki,
}

/// `[display]`: names documents show instead of codes, e.g.
/// `[display.region.east] ja = "NTT東日本", en = "NTT East"`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DisplaySection {
    /// By `accounts.region` code.
    #[serde(default)]
    pub region: std::collections::BTreeMap<String, DisplayName>,
    /// By `accounts.plan` code.
    #[serde(default)]
    pub plan: std::collections::BTreeMap<String, DisplayName>,
    /// By payout channel (`bill_credit`, `bank_transfer`, `claim`, `residual`, `bill_correction`);
    /// each has a built-in name in both languages.
    #[serde(default)]
    pub channel: std::collections::BTreeMap<String, DisplayName>,
}

/// One code's name per language.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DisplayName {
    pub ja: Option<String>,
    pub en: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentText {
    /// The title in this language (in the incident's own language, `[incident] title` serves).
    pub title: Option<String>,
    /// The company's name in this language.
    pub company: Option<String>,
    pub summary: Option<String>,
    pub cause: Option<String>,
    pub response: Option<String>,
    pub prevention: Option<String>,
    pub contact: Option<String>,
    /// What was sold, as the qualified return invoice names it (e.g. "NURO 光 月額基本料金");
    /// default: telecommunications service charges.
    pub service: Option<String>,
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
pub enum Proration {
    Daily,
    None,
}

/// `[rule]`: the keys of every kind; those the chosen kind does not use are type-checked and
/// ignored. Each kind declares its keys in its own file (`KindSpec::Wire`); this is the table as
/// written, checked key by key against them.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(transparent)]
pub struct RuleSection(pub toml::Table);

impl<'de> Deserialize<'de> for RuleSection {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let table = toml::Table::deserialize(deserializer)?;
        let mut known: Vec<String> = KINDS.iter().flat_map(|kind| rule_keys(*kind)).collect();
        known.sort();
        known.dedup();
        for (key, value) in &table {
            if !known.contains(key) {
                return Err(de::Error::custom(format_args!(
                    "unknown field `{key}` in [rule], expected one of {}",
                    known
                        .iter()
                        .map(|key| format!("`{key}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            let single: toml::Table = [(key.clone(), value.clone())].into_iter().collect();
            for kind in KINDS {
                kind.check_rule(&single).map_err(|message| {
                    de::Error::custom(format_args!("key `rule.{key}`: {message}"))
                })?;
            }
        }
        Ok(RuleSection(table))
    }
}

/// The `[rule]` keys a kind declares.
fn rule_keys(kind: &dyn Kind) -> Vec<String> {
    let schema = kind.rule_schema(&mut SchemaGenerator::default());
    schema
        .get("properties")
        .and_then(|properties| properties.as_object())
        .map(|properties| properties.keys().cloned().collect())
        .unwrap_or_default()
}

impl JsonSchema for RuleSection {
    fn schema_name() -> Cow<'static, str> {
        "RuleSection".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut properties = std::collections::BTreeMap::new();
        for kind in KINDS {
            let schema = kind.rule_schema(generator);
            if let Some(own) = schema
                .get("properties")
                .and_then(|properties| properties.as_object())
            {
                for (key, value) in own {
                    properties
                        .entry(key.clone())
                        .or_insert_with(|| value.clone());
                }
            }
        }
        let properties: serde_json::Map<String, serde_json::Value> =
            properties.into_iter().collect();
        json_schema!({
            "description": "`[rule]`: the keys of every kind; those the chosen kind does not use are type-checked and ignored.",
            "type": "object",
            "properties": properties,
            "additionalProperties": false
        })
    }
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
