//! Customer notices: one per affected account, in its language, as Markdown and as a
//! self-contained, print-ready HTML page, plus `notices/index.csv` for a print or mail vendor.
//!
//! Templates are minijinja; the built-in ones ship in the binary and `--templates DIR` overrides
//! them by file name. Every value from the data is escaped for the format it lands in (Markdown
//! escaping in `.md`, and the HTML is produced from that escaped Markdown), so a name or address
//! can never inject markup. Files are named by refund_id (16 hex digits), never by account_id.
//! Rendering runs in parallel and streams to disk chunk by chunk.

use std::collections::HashMap;
use std::path::Path;

use chrono::{Datelike, NaiveDate};
use minijinja::{AutoEscape, Environment, Value};
use rayon::prelude::*;
use serde::Serialize;

use crate::incident::{DateStyle, Incident, Text};
use crate::ledger::{Correction, PayoutPlan};
use crate::model::{Account, Language};
use crate::money::{Currency, Money, Month, Overflow, format_rate};
use crate::output::{OutputError, Staging};
use crate::refund::{AccountRefund, InvoiceClass};
use crate::render::tables::{NoticeIndexRow, csv_bytes};
use crate::return_invoice::{self, Issuer, ReturnLine};

/// Built-in templates by name; `--templates DIR` may provide files of the same names.
const BUILT_IN: [(&str, &str); 9] = [
    ("notice.ja.md", include_str!("../../templates/notice.ja.md")),
    ("notice.en.md", include_str!("../../templates/notice.en.md")),
    (
        "notice_statement.ja.md",
        include_str!("../../templates/notice_statement.ja.md"),
    ),
    (
        "notice_statement.en.md",
        include_str!("../../templates/notice_statement.en.md"),
    ),
    (
        "press_release.ja.md",
        include_str!("../../templates/press_release.ja.md"),
    ),
    (
        "press_release.en.md",
        include_str!("../../templates/press_release.en.md"),
    ),
    (
        "report.ja.html",
        include_str!("../../templates/report.ja.html"),
    ),
    (
        "report.en.html",
        include_str!("../../templates/report.en.html"),
    ),
    (
        "refund_distribution.svg",
        include_str!("../../templates/refund_distribution.svg"),
    ),
];
const CHUNK: usize = 2048;

#[derive(Debug, thiserror::Error)]
pub enum NoticeError {
    #[error("cannot read template `{path}`")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// A template does not render; `message` is minijinja's, with the template and line.
    #[error(
        "template `{name}`: {message}\nhint: the variables a template can use are listed in the README (\"Notice templates\")"
    )]
    Template { name: String, message: String },
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("writing {file}")]
    Serialize {
        file: &'static str,
        source: serde_json::Error,
    },
    #[error(
        "the texts in `{language}` are incomplete, yet a document in that language was rendered"
    )]
    MissingText { language: &'static str },
    #[error(transparent)]
    Overflow(crate::money::Overflow),
    #[error(transparent)]
    Table(#[from] crate::render::tables::TableError),
}

/// One line of the refund statement.
#[derive(Debug, Default, Serialize)]
pub struct StatementLine {
    pub month: String,
    pub principal: String,
    pub tax: String,
    pub interest: String,
    pub total: String,
}

/// A correction or under-billed amount of one invoice.
#[derive(Debug, Default, Serialize)]
pub struct AmountLine {
    pub month: String,
    pub amount: String,
}

/// One tax rate of the qualified return invoice.
#[derive(Debug, Default, Serialize)]
pub struct ReturnRateLine {
    /// `10%`, `8%（軽減税率）` / `8% (reduced rate)`.
    pub rate: String,
    /// The billing months of the original sales, e.g. `2024年11月分～2025年1月分`.
    pub sales: String,
    pub principal: String,
    pub tax: String,
    pub total: String,
}

/// The qualified return invoice (適格返還請求書) a notice carries: every element 消費税法 57条の4
/// 第3項 lists.
#[derive(Debug, Default, Serialize)]
pub struct ReturnInvoiceSection {
    pub company: String,
    pub registration_number: String,
    pub refund_date: String,
    /// What was sold (`[incident.text.<lang>] service`, or telecommunications service charges).
    pub service: String,
    /// All the original sales it corrects, first to last billing month.
    pub sales_period: String,
    pub lines: Vec<ReturnRateLine>,
    pub principal: String,
    pub tax: String,
    pub total: String,
    /// Part of the refund is for sales billed before 2023-10, outside the system.
    pub excludes_earlier_sales: bool,
}

/// The dates a notice states: interest runs to the refund date; transfers are executed on the
/// transfer date (`--transfer-date`, by default the refund date).
#[derive(Debug, Clone, Copy, Default)]
pub struct PaymentDays {
    pub refund_date: Option<NaiveDate>,
    pub transfer_date: Option<NaiveDate>,
}

/// Numbers of the sections a letter has (0 = absent), so that each letter numbers its own.
#[derive(Debug, Default, Serialize, Clone, Copy, PartialEq, Eq)]
pub struct Sections {
    /// The refund statement in the letter (not enclosed).
    pub statement: u8,
    /// How the refund is paid.
    pub payment: u8,
    /// Corrections of unpaid bills.
    pub corrections: u8,
    /// Under-billed amounts not collected.
    pub underbilled: u8,
}

impl Sections {
    fn number(
        has_statement: bool,
        has_payment: bool,
        corrections: bool,
        underbilled: bool,
    ) -> Self {
        let mut next = 2u8;
        let mut take = |present: bool| {
            if present {
                next += 1;
                next
            } else {
                0
            }
        };
        Sections {
            statement: take(has_statement),
            payment: take(has_payment),
            corrections: take(corrections),
            underbilled: take(underbilled),
        }
    }
}

/// Every variable a notice template can use (documented in README, "Notice templates").
#[derive(Debug, Default, Serialize)]
pub struct NoticeContext {
    pub language: &'static str,
    /// The letter's situation: `refund`, `correction` (of an unpaid bill only), `waived`
    /// (under-billing not collected, only) or `mixed` (more than one of them).
    pub letter: &'static str,
    /// The letter's heading, composed for the situation without repeating the title's words.
    pub heading: String,
    /// Section numbers after 1 (what happened) and 2 (cause); 0 when the section is absent.
    pub sections: Sections,
    /// The statement and a refund-account form are enclosed as 別紙2 and 別紙1 (transfer and
    /// claim letters, as seed 000 encloses them).
    pub enclosures: bool,
    /// The name of the account's plan, when the incident names it in `[display.plan]`.
    pub plan: String,
    pub title: String,
    /// The title without a trailing 「について」 or apology, for headings that add their own.
    pub title_stem: String,
    /// The title already speaks of the refund (「…の返金」): the heading does not repeat it.
    pub title_has_refund: bool,
    pub company: String,
    pub issued_on: String,
    pub incident_id: String,
    pub account_id: String,
    pub refund_id: String,
    pub holder_name: String,
    pub postal_code: String,
    pub address: String,
    pub summary: String,
    pub cause: String,
    pub response: String,
    pub prevention: String,
    pub contact: String,
    /// overbilled, underbilled or mixed
    pub class: &'static str,
    pub invoices: Vec<StatementLine>,
    pub corrections: Vec<AmountLine>,
    pub underbilled: Vec<AmountLine>,
    pub has_refund: bool,
    pub has_corrections: bool,
    pub has_underbilled: bool,
    pub refund_principal: String,
    pub refund_tax: String,
    pub refund_interest: String,
    pub refund_total: String,
    pub correction_total: String,
    pub underbilled_total: String,
    /// What was paid for this incident before this run (earlier waves, refunds outside redress).
    pub previously_paid: String,
    pub has_previous_payment: bool,
    /// What this notice pays: refund_total, or in a supplementary run the supplement.
    pub payout_amount: String,
    /// A supplementary run pays more to an account already paid: 「追加のご返金」.
    pub is_supplement: bool,
    /// Earlier payments already cover the refund: nothing is paid now.
    pub paid_in_full: bool,
    /// bill_credit, bank_transfer, claim, residual or none
    pub channel: &'static str,
    /// The channel as the language names it (`[display.channel]` or built in).
    pub channel_name: String,
    pub bill_credit_month: String,
    pub transfer_date: String,
    pub refund_date: String,
    pub account_last3: String,
    pub interest_rate_text: String,
    /// The qualified return invoice, when this notice carries it.
    pub return_invoice: Option<ReturnInvoiceSection>,
}

/// Money as a customer reads it: `1,234円` in Japanese, `¥1,234` in English (other currencies
/// `1,234.50 USD`).
pub fn format_money(currency: Currency, minor: i64, language: Language) -> String {
    let plain = currency.format(minor);
    let (sign, digits) = match plain.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", plain.as_str()),
    };
    let (integer, fraction) = digits
        .split_once('.')
        .map_or((digits, None), |(i, f)| (i, Some(f)));
    let mut grouped = String::new();
    for (index, c) in integer.chars().enumerate() {
        if index > 0 && (integer.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if let Some(fraction) = fraction {
        grouped = format!("{grouped}.{fraction}");
    }
    match (currency.code, language) {
        ("JPY", Language::Ja) => format!("{sign}{grouped}円"),
        ("JPY", Language::En) => format!("{sign}¥{grouped}"),
        (code, _) => format!("{sign}{grouped} {code}"),
    }
}

/// Inserts thousands separators into a run of ASCII digits.
pub fn group_digits(digits: &str) -> String {
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, c) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    grouped
}

pub fn format_date(date: NaiveDate, language: Language) -> String {
    Dates::new(language, DateStyle::Gregorian).date(date)
}

pub fn format_month(month: Month, language: Language) -> String {
    Dates::new(language, DateStyle::Gregorian).month(month)
}

/// How one document writes dates and months: its language and, in Japanese, the incident's
/// `date_style` (era dates, 平成13年8月22日, when it asks for them).
#[derive(Debug, Clone, Copy)]
pub struct Dates {
    pub language: Language,
    pub style: DateStyle,
}

impl Dates {
    pub fn new(language: Language, style: DateStyle) -> Dates {
        Dates { language, style }
    }

    /// The dates of `incident`'s documents in `language`.
    pub fn of(incident: &Incident, language: Language) -> Dates {
        Dates::new(language, incident.texts.date_style)
    }

    pub fn date(self, date: NaiveDate) -> String {
        match (self.language, self.style) {
            (Language::Ja, DateStyle::Wareki) => crate::render::wareki::date(date),
            (Language::Ja, DateStyle::Gregorian) => {
                format!("{}年{}月{}日", date.year(), date.month(), date.day())
            }
            (Language::En, _) => date.format("%-d %B %Y").to_string(),
        }
    }

    pub fn month(self, month: Month) -> String {
        match (self.language, self.style) {
            (Language::Ja, DateStyle::Wareki) => crate::render::wareki::month(month.first_day()),
            (Language::Ja, DateStyle::Gregorian) => {
                format!("{}年{}月", month.year(), month.month())
            }
            (Language::En, _) => month.first_day().format("%B %Y").to_string(),
        }
    }
}

/// A title without what the headings add themselves. In Japanese a trailing 「について」 and an
/// apology go (「…の発生について」 → 「…の発生」, 「…請求に関するお詫び」 → 「…請求」), so that a
/// notice is never titled 「…に関するお詫びに関するお詫び…」; in English a leading "Our apology
/// for" / "Apology:" does.
pub fn title_stem(title: &str, language: Language) -> &str {
    match language {
        Language::Ja => {
            let title = title.strip_suffix("について").unwrap_or(title);
            for apology in ["に関するお詫び", "についてのお詫び", "のお詫び", "お詫び"]
            {
                if let Some(stem) = title.strip_suffix(apology)
                    && !stem.is_empty()
                {
                    return stem;
                }
            }
            title
        }
        Language::En => {
            for apology in [
                "Our apology for ",
                "Our apology: ",
                "Apology: ",
                "Apology for ",
            ] {
                if let Some(stem) = title.strip_prefix(apology)
                    && !stem.is_empty()
                {
                    return stem;
                }
            }
            title
        }
    }
}

/// The situation a letter is written for, from what the account's notice carries.
pub fn letter(has_refund: bool, has_corrections: bool, has_underbilled: bool) -> &'static str {
    match (has_refund, has_corrections, has_underbilled) {
        (true, false, false) => "refund",
        (false, true, false) => "correction",
        (false, false, true) => "waived",
        _ => "mixed",
    }
}

/// The heading of a letter, composed for its situation from the title's stem: 「…に関するお詫びと
/// ご返金のお知らせ」, 「…に関するお詫びとご請求額訂正のお知らせ」, 「…に関するお詫びとお知らせ」,
/// 「…に関する追加のご返金のお知らせ」; never repeating the title's own 返金 or お詫び.
pub fn heading(
    title: &str,
    language: Language,
    refunds: bool,
    corrects: bool,
    is_supplement: bool,
) -> String {
    let stem = title_stem(title, language);
    match language {
        Language::Ja => {
            if is_supplement {
                return format!("{stem}に関する追加のご返金のお知らせ");
            }
            let mut parts = Vec::new();
            if refunds && !stem.ends_with("返金") {
                parts.push("ご返金");
            }
            if corrects {
                parts.push("ご請求額訂正");
            }
            if parts.is_empty() {
                format!("{stem}に関するお詫びとお知らせ")
            } else {
                format!("{stem}に関するお詫びと{}のお知らせ", parts.join("・"))
            }
        }
        Language::En => {
            if is_supplement {
                return format!("{stem}: your additional refund");
            }
            let what = match (refunds, corrects) {
                (true, true) => "our apology, your refund and a correction to your bill",
                (true, false) => "our apology and your refund",
                (false, true) => "our apology and a correction to your bill",
                (false, false) => "our apology",
            };
            format!("{stem}: {what}")
        }
    }
}

/// Escapes data for Markdown: HTML specials become entities and Markdown control characters are
/// backslash-escaped, so text renders literally wherever the Markdown is shown.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            // Only what can start markup mid-line; links need `[`, emphasis `*` `_`, tables `|`.
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A notice context with every section present, for checking templates before any data is read.
fn sample_context(
    language: Language,
    channel: &'static str,
    class: &'static str,
    letter: &'static str,
) -> NoticeContext {
    let line = || StatementLine {
        month: "2009-03".into(),
        principal: "1".into(),
        tax: "1".into(),
        interest: "1".into(),
        total: "3".into(),
    };
    let amount = || AmountLine {
        month: "2009-03".into(),
        amount: "1".into(),
    };
    NoticeContext {
        language: language_code(language),
        letter,
        heading: "t".into(),
        sections: Sections::number(true, true, true, true),
        enclosures: true,
        title: "t".into(),
        class,
        channel,
        invoices: vec![line()],
        corrections: vec![amount()],
        underbilled: vec![amount()],
        has_refund: true,
        has_corrections: true,
        has_underbilled: true,
        has_previous_payment: true,
        is_supplement: true,
        return_invoice: Some(ReturnInvoiceSection {
            lines: vec![ReturnRateLine::default()],
            excludes_earlier_sales: true,
            ..ReturnInvoiceSection::default()
        }),
        ..NoticeContext::default()
    }
}

/// Renders every notice template for every payout channel and class, with every section present,
/// so that an undefined variable, a syntax error or a missing include is reported (exit 2) before
/// any data is read.
fn check_notice_templates(env: &Environment<'static>) -> Result<(), NoticeError> {
    for language in [Language::Ja, Language::En] {
        let name = format!("notice.{}.md", language_code(language));
        for channel in ["bill_credit", "bank_transfer", "claim", "residual", "none"] {
            for class in ["overbilled", "underbilled", "mixed"] {
                for letter in ["refund", "correction", "waived", "mixed"] {
                    let context = sample_context(language, channel, class, letter);
                    render_template(env, &name, &context)?;
                }
            }
        }
    }
    Ok(())
}

/// The template environment: built-in templates, overridden by files in `templates_dir`, each
/// checked by rendering it (undefined variables are errors).
pub fn environment(templates_dir: Option<&Path>) -> Result<Environment<'static>, NoticeError> {
    let env = templates(templates_dir)?;
    check_notice_templates(&env)?;
    crate::render::summary::check_press_templates(&env)?;
    crate::render::report::check_templates(&env)?;
    Ok(env)
}

fn templates(templates_dir: Option<&Path>) -> Result<Environment<'static>, NoticeError> {
    let mut env = Environment::new();
    // `{{ holder_nmae }}` is an error naming the template and line, not an empty string.
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".md") {
            AutoEscape::Custom("markdown".into())
        } else {
            AutoEscape::Html
        }
    });
    env.set_formatter(|out, state, value| {
        if let AutoEscape::Custom(_) = state.auto_escape() {
            if value.is_safe() || value.is_undefined() || value.is_none() {
                let text = if value.is_undefined() || value.is_none() {
                    String::new()
                } else {
                    value.to_string()
                };
                out.write_str(&text).map_err(minijinja::Error::from)
            } else {
                out.write_str(&escape_markdown(&value.to_string()))
                    .map_err(minijinja::Error::from)
            }
        } else {
            minijinja::escape_formatter(out, state, value)
        }
    });
    for (name, source) in BUILT_IN {
        let source = match templates_dir
            .map(|dir| dir.join(name))
            .filter(|path| path.is_file())
        {
            Some(path) => std::fs::read_to_string(&path).map_err(|source| NoticeError::Read {
                path: path.display().to_string(),
                source,
            })?,
            None => source.to_string(),
        };
        env.add_template_owned(name, source)
            .map_err(|error| NoticeError::Template {
                name: name.to_string(),
                message: error.to_string(),
            })?;
    }
    Ok(env)
}

/// `ja` or `en`.
pub fn language_code(language: Language) -> &'static str {
    match language {
        Language::Ja => "ja",
        Language::En => "en",
    }
}

/// Renders a template with a serialisable context.
pub fn render_template<T: Serialize>(
    env: &Environment<'static>,
    name: &str,
    context: &T,
) -> Result<String, NoticeError> {
    let template = env
        .get_template(name)
        .map_err(|error| NoticeError::Template {
            name: name.to_string(),
            message: error.to_string(),
        })?;
    template
        .render(Value::from(minijinja::value::Serde(context)))
        .map_err(|error| NoticeError::Template {
            name: name.to_string(),
            message: format!("{error:#}"),
        })
}

/// `[incident.text.<language>]`, complete: `render::languages` refused the run before rendering
/// when a language a document needs is incomplete, so a gap here is a bug.
pub fn text_of(incident: &Incident, language: Language) -> Result<Text, NoticeError> {
    incident
        .texts
        .text(language)
        .ok_or_else(|| NoticeError::MissingText {
            language: language_code(language),
        })
}

/// A span of billing months as a notice names the original sales.
fn sales_period(from: Month, to: Month, dates: Dates) -> String {
    match dates.language {
        Language::Ja if from == to => format!("{}分", dates.month(from)),
        Language::Ja => format!("{}分～{}分", dates.month(from), dates.month(to)),
        Language::En if from == to => dates.month(from),
        Language::En => format!("{} to {}", dates.month(from), dates.month(to)),
    }
}

/// The return-invoice section of an account's notice, if it carries one.
fn return_invoice_section(
    incident: &Incident,
    refund_date: Option<NaiveDate>,
    lines: &[&ReturnLine],
    dates: Dates,
    text: &Text,
) -> Result<Option<ReturnInvoiceSection>, Overflow> {
    let language = dates.language;
    let policy = &incident.return_invoice;
    let Issuer::Registered(number) = &policy.issuer else {
        return Ok(None);
    };
    if !return_invoice::in_notice(policy, lines) {
        return Ok(None);
    }
    let money = |value: Money| format_money(incident.currency, value.minor(), language);
    let qualified: Vec<&&ReturnLine> = lines.iter().filter(|line| line.qualified).collect();
    let digits = incident.currency.digits;
    let sum = |get: fn(&ReturnLine) -> Money, what: &'static str| {
        Money::sum(qualified.iter().map(|line| get(line)), digits, what)
    };
    let (principal, tax, total) = (
        sum(|line| line.principal, "a return invoice's principal")?,
        sum(|line| line.tax, "a return invoice's tax")?,
        sum(|line| line.total, "a return invoice's total")?,
    );
    let (Some(from), Some(to)) = (
        qualified.iter().map(|line| line.sales_from).min(),
        qualified.iter().map(|line| line.sales_to).max(),
    ) else {
        return Ok(None);
    };
    let rate = |line: &ReturnLine| {
        let percent = format_rate(line.tax_rate * rust_decimal::Decimal::ONE_HUNDRED);
        // From 2019-10 an 8% rate is the reduced rate (軽減税率).
        match (percent.as_str(), language) {
            ("8", Language::Ja) => "8%（軽減税率）".to_string(),
            ("8", Language::En) => "8% (reduced rate)".to_string(),
            _ => format!("{percent}%"),
        }
    };
    Ok(Some(ReturnInvoiceSection {
        company: text.company.clone(),
        registration_number: number.as_str().to_string(),
        refund_date: refund_date.map(|date| dates.date(date)).unwrap_or_default(),
        service: text.service.clone().unwrap_or_else(|| {
            match language {
                Language::Ja => "電気通信サービスのご利用料金",
                Language::En => "telecommunications service charges",
            }
            .to_string()
        }),
        sales_period: sales_period(from, to, dates),
        lines: qualified
            .iter()
            .map(|line| ReturnRateLine {
                rate: rate(line),
                sales: sales_period(line.sales_from, line.sales_to, dates),
                principal: money(line.principal),
                tax: money(line.tax),
                total: money(line.total),
            })
            .collect(),
        principal: money(principal),
        tax: money(tax),
        total: money(total),
        excludes_earlier_sales: lines.iter().any(|line| !line.qualified),
    }))
}

/// The lines of a notice's statement.
struct Statement {
    /// Refunded invoices.
    invoices: Vec<StatementLine>,
    /// Corrections of unpaid bills sent now.
    corrections: Vec<AmountLine>,
    /// Under-billed invoices, waived.
    underbilled: Vec<AmountLine>,
}

/// The notice's statement: refunded invoices, corrections of unpaid bills sent now (`sent`, the
/// account's lines of bill_corrections.csv), under-billed invoices.
fn statement(
    refund: &AccountRefund,
    sent: &[&Correction],
    currency: Currency,
    dates: Dates,
) -> Result<Statement, Overflow> {
    let money = |value: Money| format_money(currency, value.minor(), dates.language);
    let mut invoices = Vec::new();
    let corrections = sent
        .iter()
        .map(|correction| AmountLine {
            month: dates.month(correction.billing_month),
            amount: money(correction.amount),
        })
        .collect();
    let mut underbilled = Vec::new();
    for invoice in &refund.invoices {
        let month = dates.month(invoice.billing_month);
        match invoice.class {
            InvoiceClass::Overbilled if invoice.paid_on.is_some() => invoices.push(StatementLine {
                month,
                principal: money(invoice.principal),
                tax: money(invoice.tax),
                interest: money(invoice.interest.amount),
                total: money(
                    invoice
                        .excess()
                        .plus(invoice.interest.amount, "an invoice's refund")?,
                ),
            }),
            InvoiceClass::Overbilled => {}
            InvoiceClass::Underbilled => underbilled.push(AmountLine {
                month,
                amount: money(invoice.excess().negated("an under-billed invoice")?),
            }),
        }
    }
    Ok(Statement {
        invoices,
        corrections,
        underbilled,
    })
}

/// The last three characters of a bank account number, as a notice names the account.
fn last_three(number: Option<&str>) -> String {
    let Some(number) = number else {
        return String::new();
    };
    let start = number
        .char_indices()
        .rev()
        .nth(2)
        .map_or(0, |(index, _)| index);
    number[start..].to_string()
}

/// `14.5%`: the rate of the first invoice that accrued interest (empty when none did).
fn interest_rate_text(refund: &AccountRefund) -> String {
    refund
        .invoices
        .iter()
        .find_map(|invoice| invoice.interest.rate.filter(|_| invoice.interest.days > 0))
        .map(|rate| {
            let percent = format_rate(rate * rust_decimal::Decimal::ONE_HUNDRED);
            format!("{percent}%")
        })
        .unwrap_or_default()
}

/// Builds the context of one notice; `returns` are the account's return-invoice lines,
/// `corrections` its lines of bill_corrections.csv.
pub fn context(
    incident: &Incident,
    days: PaymentDays,
    plan: &PayoutPlan,
    refund: &AccountRefund,
    account: &Account,
    returns: &[&ReturnLine],
    corrections: &[&Correction],
) -> Result<NoticeContext, NoticeError> {
    let language = account.language;
    let dates = Dates::of(incident, language);
    let currency = incident.currency;
    let refund_date = days.refund_date;
    let money = |value: Money| format_money(currency, value.minor(), language);
    let text = text_of(incident, language)?;
    let return_invoice = return_invoice_section(incident, refund_date, returns, dates, &text)
        .map_err(NoticeError::Overflow)?;
    let Statement {
        invoices,
        corrections,
        underbilled,
    } = statement(refund, corrections, currency, dates).map_err(NoticeError::Overflow)?;
    let has_refund = !invoices.is_empty();
    let has_corrections = !corrections.is_empty();
    let has_underbilled = !underbilled.is_empty();
    let is_supplement = refund.previously_paid.is_positive() && refund.supplement.is_positive();
    let paid_in_full = refund.refund_total.is_positive() && refund.supplement.is_zero();
    let channel = refund.payout_channel.as_str();
    // Seed 000: a letter that pays by transfer or asks for an account encloses the form (別紙1)
    // and the statement (別紙2).
    let enclosures = has_refund && !paid_in_full && matches!(channel, "bank_transfer" | "claim");
    let stem = title_stem(&text.title, language);
    let date = |date: Option<NaiveDate>| date.map(|date| dates.date(date)).unwrap_or_default();
    let month = |month: Option<Month>| month.map(|month| dates.month(month)).unwrap_or_default();
    Ok(NoticeContext {
        language: language_code(language),
        letter: letter(has_refund, has_corrections, has_underbilled),
        heading: heading(
            &text.title,
            language,
            has_refund,
            has_corrections,
            is_supplement,
        ),
        sections: Sections::number(
            has_refund && !enclosures,
            has_refund,
            has_corrections,
            has_underbilled,
        ),
        enclosures,
        // Shown only when the incident file names the plan.
        plan: (account.plan.as_deref())
            .and_then(|code| incident.texts.plan(code, language))
            .unwrap_or_default(),
        title_stem: stem.to_string(),
        title_has_refund: stem.ends_with("返金"),
        title: text.title,
        company: text.company,
        issued_on: date(incident.announced_on.or(refund_date)),
        incident_id: incident.id.clone(),
        account_id: refund.account_id.clone(),
        refund_id: refund.refund_id.clone(),
        holder_name: account.holder_name.clone(),
        postal_code: account.postal_code.clone().unwrap_or_default(),
        address: account.address.clone().unwrap_or_default(),
        summary: text.summary,
        cause: text.cause,
        response: text.response,
        prevention: text.prevention,
        contact: text.contact,
        class: refund.class.as_str(),
        has_refund,
        has_corrections,
        has_underbilled,
        invoices,
        corrections,
        underbilled,
        refund_principal: money(refund.refund_principal),
        refund_tax: money(refund.refund_tax),
        refund_interest: money(refund.refund_interest),
        refund_total: money(refund.refund_total),
        correction_total: money(refund.correction_total),
        underbilled_total: money(refund.underbilled_total),
        previously_paid: money(refund.previously_paid),
        has_previous_payment: refund.previously_paid.is_positive(),
        payout_amount: money(refund.supplement),
        is_supplement,
        paid_in_full,
        channel,
        channel_name: incident.texts.channel(channel, language),
        bill_credit_month: month(plan.bill_credit_month),
        transfer_date: date(days.transfer_date),
        refund_date: date(refund_date),
        account_last3: last_three(account.bank.account_number.as_deref()),
        interest_rate_text: interest_rate_text(refund),
        return_invoice,
    })
}

/// Screen and A4 print styles of a notice. Tables may break across pages with their header row
/// repeated (a 21-month statement must not push its heading onto an otherwise empty page 1), a
/// heading stays with what follows it, the date and the sender stand on the right as in a Japanese
/// business letter, and each enclosure (別紙) starts a new page.
const STYLE: &str = "body{font-family:'Hiragino Mincho ProN','Yu Mincho','Noto Serif CJK JP','Noto Serif',serif;max-width:46em;margin:2em auto;padding:0 1.5em;line-height:1.7;color:#111}h1{font-size:1.35em;text-align:center;margin:1.5em 0}h2{font-size:1.05em;border-bottom:1px solid #999;margin-top:1.6em}table{border-collapse:collapse;width:100%;margin:1em 0}thead{display:table-header-group}th,td{border:1px solid #666;padding:.3em .6em}td:not(:first-child){text-align:right;font-variant-numeric:tabular-nums}th{background:#eee}.right{text-align:right}.closing{text-align:right;margin-top:1.5em}.enclosure{break-before:page;margin-top:3em}.form td{height:2.4em;text-align:left}.form td:first-child{width:30%;background:#f6f6f6}@page{size:A4;margin:18mm}@media print{body{margin:0;max-width:none;padding:0}h1,h2,h3{break-after:avoid}tr{break-inside:avoid}p{orphans:3;widows:3}}";

/// Wraps rendered Markdown into a self-contained HTML page.
pub fn html_page(markdown: &str, language: &str, title: &str) -> String {
    let mut options = pulldown_cmark::Options::empty();
    options.insert(pulldown_cmark::Options::ENABLE_TABLES);
    let parser = pulldown_cmark::Parser::new_ext(markdown, options);
    let mut body = String::with_capacity(markdown.len() * 2);
    pulldown_cmark::html::push_html(&mut body, parser);
    let title = escape_html(title);
    format!(
        "<!DOCTYPE html>\n<html lang=\"{language}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n"
    )
}

pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Renders and writes the notice of every (refund, account) pair; returns `notices/index.csv`.
#[allow(clippy::too_many_arguments)]
pub fn write_all(
    staging: &Staging,
    env: &Environment<'static>,
    incident: &Incident,
    days: PaymentDays,
    plan: &PayoutPlan,
    pairs: &[(&AccountRefund, &Account)],
    returns: &[ReturnLine],
    reporter: &dyn crate::progress::Reporter,
) -> Result<Vec<u8>, NoticeError> {
    let total = pairs.len() as u64;
    let written = std::sync::atomic::AtomicU64::new(0);
    let returns_of = return_invoice::by_account(returns);
    let mut corrections_of: HashMap<&str, Vec<&Correction>> = HashMap::new();
    for correction in &plan.corrections {
        corrections_of
            .entry(correction.account_id.as_str())
            .or_default()
            .push(correction);
    }
    let chunks: Vec<Vec<NoticeIndexRow>> = pairs
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut index = Vec::with_capacity(chunk.len());
            for (refund, account) in chunk {
                let lines = returns_of
                    .get(refund.account_id.as_str())
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let sent = corrections_of
                    .get(refund.account_id.as_str())
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let context = context(incident, days, plan, refund, account, lines, sent)?;
                let name = format!("notice.{}.md", context.language);
                let template = env
                    .get_template(&name)
                    .map_err(|error| NoticeError::Template {
                        name: name.clone(),
                        message: error.to_string(),
                    })?;
                let markdown = template
                    .render(Value::from(minijinja::value::Serde(&context)))
                    .map_err(|error| NoticeError::Template {
                        name: name.clone(),
                        message: format!("{error:#}"),
                    })?;
                let html = html_page(&markdown, context.language, &context.heading);
                let stem = format!("notices/{}", refund.refund_id);
                staging.write(&format!("{stem}.md"), markdown.as_bytes())?;
                staging.write(&format!("{stem}.html"), html.as_bytes())?;
                let amount = if refund.supplement.is_positive() {
                    refund.supplement
                } else {
                    Money::sum(
                        sent.iter().map(|correction| correction.amount),
                        incident.currency.digits,
                        "an account's corrections",
                    )
                    .map_err(NoticeError::Overflow)?
                };
                index.push(NoticeIndexRow {
                    refund_id: refund.refund_id.clone(),
                    account_id: refund.account_id.clone(),
                    holder_name: account.holder_name.clone(),
                    postal_code: context.postal_code,
                    address: context.address,
                    email: account.email.clone().unwrap_or_default(),
                    language: context.language,
                    letter: context.letter,
                    class: refund.class.as_str(),
                    channel: context.channel,
                    amount,
                    enclosures: if context.enclosures {
                        "refund_account_form;refund_statement"
                    } else {
                        ""
                    },
                    file: format!("{}.html", refund.refund_id),
                });
            }
            let done = written.fetch_add(chunk.len() as u64, std::sync::atomic::Ordering::Relaxed)
                + chunk.len() as u64;
            reporter.advance(done, total);
            Ok(index)
        })
        .collect::<Result<_, NoticeError>>()?;
    Ok(csv_bytes(
        "notices/index.csv",
        NoticeIndexRow::COLUMNS,
        chunks.iter().flatten(),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    #[test]
    fn japanese_and_english_formats() {
        let jpy = Currency::from_code("JPY").unwrap();
        assert_eq!(format_money(jpy, 1234, Language::Ja), "1,234円");
        assert_eq!(format_money(jpy, 1234567, Language::En), "¥1,234,567");
        assert_eq!(format_money(jpy, 999, Language::Ja), "999円");
        assert_eq!(
            format_money(Currency::from_code("USD").unwrap(), 123450, Language::En),
            "1,234.50 USD"
        );
        let date = NaiveDate::from_ymd_opt(2001, 9, 30).unwrap();
        assert_eq!(format_date(date, Language::Ja), "2001年9月30日");
        assert_eq!(format_date(date, Language::En), "30 September 2001");
        assert_eq!(
            format_month(Month::parse("2001-09").unwrap(), Language::Ja),
            "2001年9月"
        );
    }

    #[test]
    fn titles_compose_without_repeating_themselves() {
        let ja = |title: &str| format!("{}に関するお詫び", title_stem(title, Language::Ja));
        assert_eq!(
            ja("NURO 光サービス開通工事および請求に関するお詫び"),
            "NURO 光サービス開通工事および請求に関するお詫び"
        );
        assert_eq!(
            ja("退会月の料金計算誤りによる過大請求について"),
            "退会月の料金計算誤りによる過大請求に関するお詫び"
        );
        assert_eq!(title_stem("料金誤りのお詫び", Language::Ja), "料金誤り");
        assert_eq!(title_stem("お詫び", Language::Ja), "お詫び");
        assert_eq!(
            title_stem("Our apology for a billing error", Language::En),
            "a billing error"
        );
    }

    #[test]
    fn each_situation_has_its_own_heading() {
        let nuro = "NURO 光サービス開通工事および請求に関するお詫び";
        let ja = |refunds, corrects, supplement| {
            heading(nuro, Language::Ja, refunds, corrects, supplement)
        };
        assert_eq!(
            ja(true, false, false),
            "NURO 光サービス開通工事および請求に関するお詫びとご返金のお知らせ"
        );
        assert_eq!(
            ja(false, true, false),
            "NURO 光サービス開通工事および請求に関するお詫びとご請求額訂正のお知らせ"
        );
        assert_eq!(
            ja(true, true, false),
            "NURO 光サービス開通工事および請求に関するお詫びとご返金・ご請求額訂正のお知らせ"
        );
        assert_eq!(
            ja(false, false, false),
            "NURO 光サービス開通工事および請求に関するお詫びとお知らせ"
        );
        assert_eq!(
            ja(true, false, true),
            "NURO 光サービス開通工事および請求に関する追加のご返金のお知らせ"
        );
        // A title that already speaks of the refund is not followed by ご返金 again.
        assert_eq!(
            heading("工事費等の返金について", Language::Ja, true, false, false),
            "工事費等の返金に関するお詫びとお知らせ"
        );
        assert_eq!(
            heading("Billing error", Language::En, false, true, false),
            "Billing error: our apology and a correction to your bill"
        );
        assert_eq!(letter(true, false, false), "refund");
        assert_eq!(letter(false, true, false), "correction");
        assert_eq!(letter(false, false, true), "waived");
        assert_eq!(letter(true, false, true), "mixed");
    }

    #[test]
    fn the_account_is_named_by_its_last_three_characters() {
        assert_eq!(last_three(Some("1234567")), "567");
        assert_eq!(last_three(Some("12")), "12");
        assert_eq!(last_three(None), "");
    }

    #[test]
    fn sections_are_numbered_per_letter() {
        let sections = Sections::number(false, true, true, false);
        assert_eq!(
            sections,
            Sections {
                statement: 0,
                payment: 3,
                corrections: 4,
                underbilled: 0
            }
        );
        assert_eq!(Sections::number(false, false, false, true).underbilled, 3);
    }

    #[test]
    fn markdown_escaping_neutralises_markup() {
        assert_eq!(
            escape_markdown("<script>a</script>"),
            "&lt;script&gt;a&lt;/script&gt;"
        );
        assert_eq!(
            escape_markdown("*bold* [x](y) a-b."),
            "\\*bold\\* \\[x\\](y) a-b."
        );
        let html = html_page(
            &escape_markdown("<img src=x onerror=alert(1)> **x**"),
            "ja",
            "t",
        );
        assert!(!html.contains("<img"));
        assert!(!html.contains("<strong>"));
    }
}
