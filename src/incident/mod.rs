//! The incident file: read once, validated once, turned into domain types that later stages use
//! without re-checking. Every error names the file and the key. Never reads data tables.

pub mod texts;
pub mod wire;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use crate::model::BankAccountType;
use crate::money::{self, Currency, Money, Month, Rounding};
pub use texts::{MissingText, Text, Texts};
pub use wire::{
    ActiveChannel, Basis, ClosedChannel, DateStyle, FirstDay, IncidentKind, Proration, RateAt,
};

/// A configuration problem in the incident file (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read incident file `{path}`")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("incident file `{path}` is not UTF-8 text")]
    NotUtf8 {
        path: PathBuf,
        source: std::str::Utf8Error,
    },
    /// Not TOML, or not the incident file's keys and types (the TOML error says where).
    #[error("incident file `{path}` is not valid{}", hint.map(|hint| format!("\nhint: {hint}")).unwrap_or_default())]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
        hint: Option<&'static str>,
    },
    #[error("incident file `{path}`, key `{key}`: {message}{}", hint.as_ref().map(|hint| format!("\nhint: {hint}")).unwrap_or_default())]
    Key {
        path: PathBuf,
        key: String,
        message: String,
        hint: Option<String>,
    },
    /// The affected accounts need documents in a language whose texts the file does not give.
    #[error("incident file `{path}`: {}", missing_texts_message(missing))]
    MissingTexts {
        path: PathBuf,
        missing: Vec<MissingText>,
    },
    /// A command-line option is wrong: never blamed on the incident file.
    #[error("command line, option `{flag}`: {message}{}", hint.as_ref().map(|hint| format!("\nhint: {hint}")).unwrap_or_default())]
    Flag {
        flag: &'static str,
        message: String,
        hint: Option<String>,
    },
}

/// Which charge items a rule touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Items {
    All,
    List(BTreeSet<String>),
}

impl Items {
    pub fn contains(&self, item: &str) -> bool {
        match self {
            Items::All => true,
            Items::List(items) => items.contains(item),
        }
    }
}

impl std::fmt::Display for Items {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Items::All => formatter.write_str("every item"),
            Items::List(items) => formatter.write_str(
                &items
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        }
    }
}

/// The filters an account must pass.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub billing_months_from: Option<Month>,
    pub billing_months_to: Option<Month>,
    pub event_dates_from: Option<NaiveDate>,
    pub event_dates_to: Option<NaiveDate>,
    pub opened_from: Option<NaiveDate>,
    pub opened_to: Option<NaiveDate>,
    pub regions: Option<Vec<String>>,
    pub plans: Option<Vec<String>>,
    pub customer_types: Option<Vec<String>>,
}

impl Scope {
    pub fn month_in_scope(&self, month: Month) -> bool {
        self.billing_months_from.is_none_or(|from| month >= from)
            && self.billing_months_to.is_none_or(|to| month <= to)
    }
}

/// The event that puts an account in the incident.
#[derive(Debug, Clone)]
pub struct Trigger {
    pub event: String,
    pub detail: Option<String>,
}

/// How a proration-based rule rounds and whether it prorates at all.
#[derive(Debug, Clone, Copy)]
pub struct ProrationPolicy {
    pub proration: Proration,
    pub rounding: Rounding,
}

impl std::fmt::Display for ProrationPolicy {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.proration {
            Proration::Daily => write!(
                formatter,
                "a period partly inside is prorated by days, rounded {}",
                self.rounding
            ),
            Proration::None => {
                formatter.write_str("a period partly inside is billable in full (no proration)")
            }
        }
    }
}

/// A validated `[rule]`: the kind's own type behind the [`crate::rules::Rule`] trait.
pub type Rule = std::sync::Arc<dyn crate::rules::Rule>;

/// Where the interest rate comes from.
#[derive(Debug, Clone)]
pub enum RateSource {
    None,
    Fixed(Decimal),
    /// (from, rate), strictly increasing `from`.
    Schedule(Vec<(NaiveDate, Decimal)>),
    /// Civil Code art. 404: 5% before 2020-04-01, 3% from then, confirmed to 2029-03-31.
    StatutoryJp,
}

#[derive(Debug, Clone)]
pub struct InterestPolicy {
    pub source: RateSource,
    pub rate_at: RateAt,
    pub basis: Basis,
    pub first_day: FirstDay,
    pub rounding: Rounding,
}

/// Zengin details of the paying company.
#[derive(Debug, Clone)]
pub struct Zengin {
    pub requester_code: String,
    pub requester_name: String,
    pub bank_code: String,
    pub bank_name: String,
    pub branch_code: String,
    pub branch_name: String,
    pub account_type: BankAccountType,
    pub account_number: String,
}

#[derive(Debug, Clone)]
pub struct PayoutPolicy {
    pub active: ActiveChannel,
    pub closed: ClosedChannel,
    pub claim_if_closed_before: Option<NaiveDate>,
    pub bill_credit_month: Option<Month>,
    /// Minor units.
    pub minimum_transfer: Money,
    pub zengin: Option<Zengin>,
}

/// A validated incident.
#[derive(Debug, Clone)]
pub struct Incident {
    pub path: PathBuf,
    pub file_sha256: String,
    pub id: String,
    pub kind: IncidentKind,
    pub announced_on: Option<NaiveDate>,
    /// From the file; the effective refund date is resolved in `settings`.
    pub refund_date: Option<NaiveDate>,
    pub currency: Currency,
    /// Title, company and paragraphs per language, and the names shown for codes.
    pub texts: Texts,
    pub scope: Scope,
    pub trigger: Trigger,
    pub rule: Rule,
    pub tax_rounding: Rounding,
    pub interest: InterestPolicy,
    pub payout: PayoutPolicy,
    /// Qualified return invoices (適格返還請求書): the issuer's registration and the notice option.
    pub return_invoice: crate::return_invoice::Policy,
}

impl Incident {
    /// Reads and validates an incident file.
    pub fn load(path: &Path) -> Result<Incident, ConfigError> {
        let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Incident::from_bytes(&bytes, path)
    }

    /// Validates incident TOML already in memory; `path` names it in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Incident, ConfigError> {
        let text = std::str::from_utf8(bytes).map_err(|source| ConfigError::NotUtf8 {
            path: path.to_path_buf(),
            source,
        })?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let file: wire::IncidentFile =
            toml::from_str(text).map_err(|source| ConfigError::Parse {
                path: path.to_path_buf(),
                hint: parse_hint(&source),
                source: Box::new(source),
            })?;
        let sha256 = hex(&Sha256::digest(bytes));
        Validator { path }.incident(file, sha256)
    }
}

/// The fix when a TOML error is a known mistake: a date written in quotes is a string, not a TOML
/// date.
fn parse_hint(error: &toml::de::Error) -> Option<&'static str> {
    (error.message().contains("expected a TOML datetime") && error.message().contains("string"))
        .then_some(
            "write dates without quotes: a TOML date is `key = 2009-05-29`, not `key = \"2009-05-29\"`",
        )
}

/// Each language's missing keys, why the language is needed, and the fix.
fn missing_texts_message(missing: &[MissingText]) -> String {
    let mut message = String::new();
    for (index, language) in missing.iter().enumerate() {
        if index > 0 {
            message.push_str("\n  ");
        }
        message.push_str(&format!(
            "documents in `{}` ({}) need {}",
            language.language.code(),
            language.needed_by,
            language
                .keys
                .iter()
                .map(|key| format!("`{key}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    message.push_str("\nhint: a document never shows another language's words or a code: give every paragraph in [incident.text.<language>] (title, company, summary, cause, response, prevention, contact), and name each region in [display.region.<code>] with `ja = \"…\"` and `en = \"…\"`");
    message
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Checks values of the incident file; every error names the file and the key. The kind files
/// use it to validate their `[rule]` keys.
pub struct Validator<'a> {
    path: &'a Path,
}

impl Validator<'_> {
    pub fn error(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Key {
            path: self.path.to_path_buf(),
            key: key.to_string(),
            message: message.into(),
            hint: None,
        }
    }

    pub fn error_hint(
        &self,
        key: &str,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> ConfigError {
        ConfigError::Key {
            path: self.path.to_path_buf(),
            key: key.to_string(),
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    pub fn date(&self, key: &str, value: &wire::WireDate) -> Result<NaiveDate, ConfigError> {
        let datetime = &value.0;
        match (&datetime.date, &datetime.time, &datetime.offset) {
            (Some(date), None, None) => NaiveDate::from_ymd_opt(
                i32::from(date.year),
                u32::from(date.month),
                u32::from(date.day),
            )
            .ok_or_else(|| self.error(key, format!("`{datetime}` is not a real date"))),
            _ => Err(self.error_hint(
                key,
                format!("`{datetime}` is not a plain date"),
                "write a TOML date without time, e.g. 2001-09-30",
            )),
        }
    }

    pub fn opt_date(
        &self,
        key: &str,
        value: &Option<wire::WireDate>,
    ) -> Result<Option<NaiveDate>, ConfigError> {
        value
            .as_ref()
            .map(|value| self.date(key, value))
            .transpose()
    }

    pub fn month(&self, key: &str, value: &str) -> Result<Month, ConfigError> {
        Month::parse(value).ok_or_else(|| {
            self.error_hint(
                key,
                format!("`{value}` is not a month"),
                "write it as \"YYYY-MM\", e.g. \"2001-09\"",
            )
        })
    }

    pub fn rate(
        &self,
        key: &str,
        value: &wire::WireDecimal,
        below_one: bool,
    ) -> Result<Decimal, ConfigError> {
        let rate = money::parse_decimal(&value.0).map_err(|_| {
            self.error_hint(
                key,
                format!("`{}` is not a decimal", value.0),
                "write a rate as a string such as \"0.03\"",
            )
        })?;
        if rate.is_sign_negative() && !rate.is_zero() {
            return Err(self.error(
                key,
                format!("`{}` is negative; a rate must be ≥ 0", value.0),
            ));
        }
        if below_one && rate >= Decimal::ONE {
            return Err(self.error_hint(
                key,
                format!("`{}` is not below 1", value.0),
                "rates are fractions: 35% is \"0.35\"",
            ));
        }
        Ok(rate.normalize())
    }

    pub fn money(
        &self,
        key: &str,
        value: &wire::WireDecimal,
        currency: Currency,
    ) -> Result<i64, ConfigError> {
        let minor =
            money::parse_minor(&value.0, currency.digits).map_err(|problem| match problem {
                money::NumberProblem::NotWhole => self.error(
                    key,
                    format!(
                        "`{}` is not a whole amount of {} (minor unit: {} digits)",
                        value.0, currency.code, currency.digits
                    ),
                ),
                _ => self.error_hint(
                    key,
                    format!("`{}` is not an amount", value.0),
                    "write money as a string such as \"1000\"",
                ),
            })?;
        if minor < 0 {
            return Err(self.error(key, format!("`{}` is negative", value.0)));
        }
        Ok(minor)
    }

    pub fn items(
        &self,
        key: &str,
        value: &Option<wire::ItemsWire>,
        required: bool,
        default_all: bool,
    ) -> Result<Items, ConfigError> {
        match value {
            None if required => Err(self.error_hint(
                key,
                "is required for this incident kind",
                "list the charge item codes the incident touches, e.g. items = [\"base_fee\"], or \"*\" for all",
            )),
            None if default_all => Ok(Items::All),
            None => Ok(Items::List(BTreeSet::new())),
            Some(wire::ItemsWire::All(text)) if text == "*" => Ok(Items::All),
            Some(wire::ItemsWire::All(text)) => Err(self.error_hint(
                key,
                format!("`{text}` is neither a list nor \"*\""),
                "write items = [\"base_fee\"] or items = \"*\"",
            )),
            Some(wire::ItemsWire::List(list)) => {
                if list.is_empty() {
                    return Err(self.error(key, "is an empty list; name at least one item or use \"*\""));
                }
                if let Some(empty) = list.iter().find(|item| item.is_empty()) {
                    return Err(self.error(key, format!("contains an empty item code `{empty}`")));
                }
                Ok(Items::List(list.iter().cloned().collect()))
            }
        }
    }

    fn incident(
        &self,
        file: wire::IncidentFile,
        file_sha256: String,
    ) -> Result<Incident, ConfigError> {
        let section = &file.incident;
        if section.id.trim().is_empty() {
            return Err(self.error(
                "incident.id",
                "is empty; give the incident a stable id such as \"ntt-2001-myline\"",
            ));
        }
        let currency_code = section
            .currency
            .clone()
            .unwrap_or_else(|| "JPY".to_string());
        let currency = Currency::from_code(&currency_code).ok_or_else(|| {
            self.error_hint(
                "incident.currency",
                format!("`{currency_code}` is not a currency redress knows"),
                format!("use one of {}", Currency::known_codes()),
            )
        })?;
        let scope = self.scope(&file.scope)?;
        let trigger = wire::TriggerSection {
            event: file.trigger.event.clone(),
            detail: file.trigger.detail.clone(),
        };
        let trigger = Trigger {
            event: trigger
                .event
                .unwrap_or_else(|| section.kind.spec().default_trigger().to_string()),
            detail: trigger.detail,
        };
        if trigger.event.is_empty() {
            return Err(self.error("trigger.event", "is empty"));
        }
        let rule = section.kind.spec().rule(&file.rule.0, self, currency)?;
        let interest = self.interest(&file.interest)?;
        let payout = self.payout(&file.payout, currency)?;
        let refund_date = self.opt_date("incident.refund_date", &section.refund_date)?;
        let return_invoice = self.return_invoice(section)?;
        Ok(Incident {
            path: self.path.to_path_buf(),
            file_sha256,
            id: section.id.clone(),
            kind: section.kind,
            announced_on: self.opt_date("incident.announced_on", &section.announced_on)?,
            refund_date,
            currency,
            texts: self.texts(section, &file.display)?,
            scope,
            trigger,
            rule,
            tax_rounding: file.tax.rounding.unwrap_or_default(),
            interest,
            payout,
            return_invoice,
        })
    }

    /// Texts and display names as written; only what can be judged without data is checked here
    /// (which languages must be complete depends on the affected accounts: `pipeline`).
    fn texts(
        &self,
        section: &wire::IncidentSection,
        display: &wire::DisplaySection,
    ) -> Result<Texts, ConfigError> {
        let texts = Texts::from_wire(section, display);
        if let Some(code) = texts.unknown_channels().first() {
            return Err(self.error_hint(
                &format!("display.channel.{code}"),
                "is not a payout channel".to_string(),
                format!("name one of {}", Texts::channel_codes()),
            ));
        }
        Ok(texts)
    }

    fn return_invoice(
        &self,
        section: &wire::IncidentSection,
    ) -> Result<crate::return_invoice::Policy, ConfigError> {
        use crate::return_invoice::{Issuer, NoticeSection, Policy, RegistrationNumber};
        let issuer = match (
            &section.registration_number,
            section.qualified_invoice_issuer,
        ) {
            (Some(_), Some(false)) => {
                return Err(self.error_hint(
                    "incident.registration_number",
                    "is given although `qualified_invoice_issuer = false`",
                    "a registered issuer has a registration number: drop one of the two keys",
                ));
            }
            (Some(number), _) => {
                Issuer::Registered(RegistrationNumber::parse(number).map_err(|message| {
                    self.error_hint(
                        "incident.registration_number",
                        message,
                        "copy it from the 適格請求書発行事業者公表サイト, e.g. \"T7000012050002\"",
                    )
                })?)
            }
            (None, Some(false)) => Issuer::NotRegistered,
            (None, Some(true)) => {
                return Err(self.error_hint(
                    "incident.registration_number",
                    "is missing although `qualified_invoice_issuer = true`",
                    "add registration_number = \"T…\" (T and 13 digits) to [incident]",
                ));
            }
            (None, None) => Issuer::Unstated,
        };
        let notice = match section.return_invoice_notice {
            None | Some(wire::ReturnInvoiceNotice::Required) => NoticeSection::WhenRequired,
            Some(wire::ReturnInvoiceNotice::Always) => NoticeSection::Always,
        };
        Ok(Policy { issuer, notice })
    }

    fn scope(&self, scope: &wire::ScopeSection) -> Result<Scope, ConfigError> {
        let mut result = Scope::default();
        if let Some(months) = &scope.billing_months {
            result.billing_months_from = months
                .from
                .as_deref()
                .map(|value| self.month("scope.billing_months.from", value))
                .transpose()?;
            result.billing_months_to = months
                .to
                .as_deref()
                .map(|value| self.month("scope.billing_months.to", value))
                .transpose()?;
            if let (Some(from), Some(to)) = (result.billing_months_from, result.billing_months_to)
                && from > to
            {
                return Err(self.error(
                    "scope.billing_months",
                    format!("`from` {from} is after `to` {to}"),
                ));
            }
        }
        if let Some(dates) = &scope.event_dates {
            result.event_dates_from = self.opt_date("scope.event_dates.from", &dates.from)?;
            result.event_dates_to = self.opt_date("scope.event_dates.to", &dates.to)?;
            if let (Some(from), Some(to)) = (result.event_dates_from, result.event_dates_to)
                && from > to
            {
                return Err(self.error(
                    "scope.event_dates",
                    format!("`from` {from} is after `to` {to}"),
                ));
            }
        }
        if let Some(dates) = &scope.opened {
            result.opened_from = self.opt_date("scope.opened.from", &dates.from)?;
            result.opened_to = self.opt_date("scope.opened.to", &dates.to)?;
            if let (Some(from), Some(to)) = (result.opened_from, result.opened_to)
                && from > to
            {
                return Err(self.error("scope.opened", format!("`from` {from} is after `to` {to}")));
            }
        }
        result.regions = scope.regions.clone();
        result.plans = scope.plans.clone();
        result.customer_types = scope.customer_types.clone();
        Ok(result)
    }

    /// A rule's `proration` and `proration_rounding` (default: daily, rounded down).
    pub fn proration(
        &self,
        proration: Option<Proration>,
        rounding: Option<Rounding>,
    ) -> ProrationPolicy {
        ProrationPolicy {
            proration: proration.unwrap_or(Proration::Daily),
            rounding: rounding.unwrap_or_default(),
        }
    }

    fn interest(&self, section: &wire::InterestSection) -> Result<InterestPolicy, ConfigError> {
        use wire::InterestPolicyKind;
        let source = match section.policy {
            InterestPolicyKind::None => RateSource::None,
            InterestPolicyKind::StatutoryJp => RateSource::StatutoryJp,
            InterestPolicyKind::Fixed => {
                let rate = section.rate.as_ref().ok_or_else(|| {
                    self.error_hint(
                        "interest.rate",
                        "is required with policy = \"fixed\"",
                        "e.g. rate = \"0.145\"",
                    )
                })?;
                RateSource::Fixed(self.rate("interest.rate", rate, false)?)
            }
            InterestPolicyKind::Schedule => {
                let entries = section.schedule.as_deref().unwrap_or_default();
                if entries.is_empty() {
                    return Err(self.error_hint(
                        "interest.schedule",
                        "is required with policy = \"schedule\"",
                        "e.g. schedule = [ { from = 1900-01-01, rate = \"0.05\" } ]",
                    ));
                }
                let mut schedule: Vec<(NaiveDate, Decimal)> = Vec::with_capacity(entries.len());
                for (index, entry) in entries.iter().enumerate() {
                    let from =
                        self.date(&format!("interest.schedule[{index}].from"), &entry.from)?;
                    let rate = self.rate(
                        &format!("interest.schedule[{index}].rate"),
                        &entry.rate,
                        false,
                    )?;
                    if let Some((previous, _)) = schedule.last()
                        && *previous >= from
                    {
                        return Err(self.error(
                            &format!("interest.schedule[{index}].from"),
                            format!("{from} is not after the previous entry's {previous}; list entries in increasing date order"),
                        ));
                    }
                    schedule.push((from, rate));
                }
                RateSource::Schedule(schedule)
            }
        };
        Ok(InterestPolicy {
            source,
            rate_at: section.rate_at.unwrap_or_default(),
            basis: section.basis.unwrap_or_default(),
            first_day: section.first_day.unwrap_or_default(),
            rounding: section.rounding.unwrap_or_default(),
        })
    }

    fn payout(
        &self,
        section: &wire::PayoutSection,
        currency: Currency,
    ) -> Result<PayoutPolicy, ConfigError> {
        let active = section.active.unwrap_or(ActiveChannel::BillCredit);
        let closed = section.closed.unwrap_or(ClosedChannel::BankTransfer);
        let minimum_transfer = section
            .minimum_transfer
            .as_ref()
            .map(|value| self.money("payout.minimum_transfer", value, currency))
            .transpose()?
            .unwrap_or(0);
        let minimum_transfer = currency.money(minimum_transfer);
        let bill_credit_month = section
            .bill_credit_month
            .as_deref()
            .map(|value| self.month("payout.bill_credit_month", value))
            .transpose()?;
        // Only an explicit bank_transfer requires the paying company's account; when the channel is
        // merely the default, bank_transfers.csv is written and zengin.txt is left out (README).
        let needs_zengin = section.active == Some(ActiveChannel::BankTransfer)
            || section.closed == Some(ClosedChannel::BankTransfer);
        let zengin = match &section.zengin {
            Some(zengin) => Some(self.zengin(zengin)?),
            None if needs_zengin => {
                return Err(self.error_hint(
                    "payout.zengin",
                    "is required when a payout channel is bank_transfer",
                    "add [payout.zengin] with the paying company's requester_code, requester_name, bank_code, branch_code, account_type and account_number, or set payout.closed = \"claim\"",
                ));
            }
            None => None,
        };
        Ok(PayoutPolicy {
            active,
            closed,
            claim_if_closed_before: self.opt_date(
                "payout.claim_if_closed_before",
                &section.claim_if_closed_before,
            )?,
            bill_credit_month,
            minimum_transfer,
            zengin,
        })
    }

    fn zengin(&self, zengin: &wire::ZenginSection) -> Result<Zengin, ConfigError> {
        let digits = |key: &str, value: &str, length: usize| -> Result<String, ConfigError> {
            if value.len() == length && value.bytes().all(|byte| byte.is_ascii_digit()) {
                Ok(value.to_string())
            } else {
                Err(self.error(key, format!("`{value}` is not {length} digits")))
            }
        };
        let Some(account_type) = BankAccountType::parse(&zengin.account_type) else {
            return Err(self.error_hint(
                "payout.zengin.account_type",
                format!("`{}` is not an account type", zengin.account_type),
                "use \"ordinary\", \"current\" or \"savings\"",
            ));
        };
        if zengin.requester_name.trim().is_empty() {
            return Err(self.error("payout.zengin.requester_name", "is empty"));
        }
        Ok(Zengin {
            requester_code: digits("payout.zengin.requester_code", &zengin.requester_code, 10)?,
            requester_name: zengin.requester_name.clone(),
            bank_code: digits("payout.zengin.bank_code", &zengin.bank_code, 4)?,
            bank_name: zengin.bank_name.clone().unwrap_or_default(),
            branch_code: digits("payout.zengin.branch_code", &zengin.branch_code, 3)?,
            branch_name: zengin.branch_name.clone().unwrap_or_default(),
            account_type,
            account_number: digits("payout.zengin.account_number", &zengin.account_number, 7)?,
        })
    }
}

/// The JSON Schema of the incident file, as committed in `schemas/incident.schema.json`.
pub fn json_schema() -> Result<String, serde_json::Error> {
    let schema = schemars::schema_for!(wire::IncidentFile);
    let mut text = serde_json::to_string_pretty(&schema)?;
    text.push('\n');
    Ok(text)
}
