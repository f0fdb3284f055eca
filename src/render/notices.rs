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

use crate::incident::{Incident, IncidentText};
use crate::ledger::{Correction, PayoutPlan};
use crate::model::{Account, Language};
use crate::money::{Currency, Month, format_rate};
use crate::output::{Csv, OutputError, Staging};
use crate::refund::{AccountRefund, InvoiceClass};
use crate::return_invoice::{self, Issuer, ReturnLine};

/// Built-in templates by name; `--templates DIR` may provide files of the same names.
const BUILT_IN: [(&str, &str); 4] = [
    ("notice.ja.md", include_str!("../../templates/notice.ja.md")),
    ("notice.en.md", include_str!("../../templates/notice.en.md")),
    (
        "press_release.ja.md",
        include_str!("../../templates/press_release.ja.md"),
    ),
    (
        "press_release.en.md",
        include_str!("../../templates/press_release.en.md"),
    ),
];
const CHUNK: usize = 2048;

#[derive(Debug, thiserror::Error)]
pub enum NoticeError {
    #[error("cannot read template `{path}`: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("template `{name}`: {message}")]
    Template { name: String, message: String },
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("writing {file}: {message}")]
    Serialize { file: &'static str, message: String },
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

/// Every variable a notice template can use (documented in README, "Notice templates").
#[derive(Debug, Default, Serialize)]
pub struct NoticeContext {
    pub language: &'static str,
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
    match language {
        Language::Ja => format!("{}年{}月{}日", date.year(), date.month(), date.day()),
        Language::En => date.format("%-d %B %Y").to_string(),
    }
}

pub fn format_month(month: Month, language: Language) -> String {
    match language {
        Language::Ja => format!("{}年{}月", month.year(), month.month()),
        Language::En => month.first_day().format("%B %Y").to_string(),
    }
}

/// A Japanese title without what the headings add themselves: a trailing 「について」 and an
/// apology (「…の発生について」 → 「…の発生」, 「…請求に関するお詫び」 → 「…請求」), so that a notice is
/// never titled 「…に関するお詫びに関するお詫び…」.
pub fn title_stem(title: &str) -> &str {
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
fn sample_context(language: Language, channel: &'static str, class: &'static str) -> NoticeContext {
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
                render_template(env, &name, &sample_context(language, channel, class))?;
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

/// `[incident.text]` in a language, each field falling back to the other language.
pub fn text_for(incident: &Incident, language: Language) -> IncidentText {
    let texts = &incident.text;
    let (first, second) = match language {
        Language::Ja => (&texts.ja, &texts.en),
        Language::En => (&texts.en, &texts.ja),
    };
    let pick = |get: fn(&IncidentText) -> &Option<String>| {
        first
            .as_ref()
            .and_then(|text| get(text).clone())
            .or_else(|| second.as_ref().and_then(|text| get(text).clone()))
    };
    IncidentText {
        summary: pick(|text| &text.summary),
        cause: pick(|text| &text.cause),
        response: pick(|text| &text.response),
        prevention: pick(|text| &text.prevention),
        contact: pick(|text| &text.contact),
        // Named on a tax document: never another language's words.
        service: first.as_ref().and_then(|text| text.service.clone()),
    }
}

/// A span of billing months as a notice names the original sales.
fn sales_period(from: Month, to: Month, language: Language) -> String {
    match language {
        Language::Ja if from == to => format!("{}分", format_month(from, language)),
        Language::Ja => format!(
            "{}分～{}分",
            format_month(from, language),
            format_month(to, language)
        ),
        Language::En if from == to => format_month(from, language),
        Language::En => format!(
            "{} to {}",
            format_month(from, language),
            format_month(to, language)
        ),
    }
}

/// The return-invoice section of an account's notice, if it carries one.
fn return_invoice_section(
    incident: &Incident,
    refund_date: Option<NaiveDate>,
    lines: &[&ReturnLine],
    language: Language,
    service: Option<String>,
) -> Option<ReturnInvoiceSection> {
    let policy = &incident.return_invoice;
    let Issuer::Registered(number) = &policy.issuer else {
        return None;
    };
    if !return_invoice::in_notice(policy, lines) {
        return None;
    }
    let money = |minor: i64| format_money(incident.currency, minor, language);
    let qualified: Vec<&&ReturnLine> = lines.iter().filter(|line| line.qualified).collect();
    let sum = |get: fn(&ReturnLine) -> i64| {
        qualified
            .iter()
            .try_fold(0i64, |total, line| total.checked_add(get(line)))
    };
    let (principal, tax, total) = (
        sum(|line| line.principal)?,
        sum(|line| line.tax)?,
        sum(|line| line.total)?,
    );
    let from = qualified.iter().map(|line| line.sales_from).min()?;
    let to = qualified.iter().map(|line| line.sales_to).max()?;
    let rate = |line: &ReturnLine| {
        let percent = format_rate(line.tax_rate * rust_decimal::Decimal::ONE_HUNDRED);
        // From 2019-10 an 8% rate is the reduced rate (軽減税率).
        match (percent.as_str(), language) {
            ("8", Language::Ja) => "8%（軽減税率）".to_string(),
            ("8", Language::En) => "8% (reduced rate)".to_string(),
            _ => format!("{percent}%"),
        }
    };
    Some(ReturnInvoiceSection {
        company: incident.company.clone(),
        registration_number: number.as_str().to_string(),
        refund_date: refund_date
            .map(|date| format_date(date, language))
            .unwrap_or_default(),
        service: service.unwrap_or_else(|| {
            match language {
                Language::Ja => "電気通信サービスのご利用料金",
                Language::En => "telecommunications service charges",
            }
            .to_string()
        }),
        sales_period: sales_period(from, to, language),
        lines: qualified
            .iter()
            .map(|line| ReturnRateLine {
                rate: rate(line),
                sales: sales_period(line.sales_from, line.sales_to, language),
                principal: money(line.principal),
                tax: money(line.tax),
                total: money(line.total),
            })
            .collect(),
        principal: money(principal),
        tax: money(tax),
        total: money(total),
        excludes_earlier_sales: lines.iter().any(|line| !line.qualified),
    })
}

/// The notice's statement: refunded invoices, corrections of unpaid bills sent now (`sent`, the
/// account's lines of bill_corrections.csv), under-billed invoices.
fn statement(
    refund: &AccountRefund,
    sent: &[&Correction],
    currency: Currency,
    language: Language,
) -> (Vec<StatementLine>, Vec<AmountLine>, Vec<AmountLine>) {
    let money = |minor: i64| format_money(currency, minor, language);
    let mut invoices = Vec::new();
    let corrections = sent
        .iter()
        .map(|correction| AmountLine {
            month: format_month(correction.billing_month, language),
            amount: money(correction.amount),
        })
        .collect();
    let mut underbilled = Vec::new();
    for invoice in &refund.invoices {
        let month = format_month(invoice.billing_month, language);
        match invoice.class {
            InvoiceClass::Overbilled if invoice.paid_on.is_some() => invoices.push(StatementLine {
                month,
                principal: money(invoice.principal),
                tax: money(invoice.tax),
                interest: money(invoice.interest.amount),
                total: money(invoice.principal + invoice.tax + invoice.interest.amount),
            }),
            InvoiceClass::Overbilled => {}
            InvoiceClass::Underbilled => underbilled.push(AmountLine {
                month,
                amount: money(-invoice.excess()),
            }),
        }
    }
    (invoices, corrections, underbilled)
}

/// Builds the context of one notice; `returns` are the account's return-invoice lines,
/// `corrections` its lines of bill_corrections.csv.
pub fn context(
    incident: &Incident,
    refund_date: Option<NaiveDate>,
    plan: &PayoutPlan,
    refund: &AccountRefund,
    account: &Account,
    returns: &[&ReturnLine],
    corrections: &[&Correction],
) -> NoticeContext {
    let language = account.language;
    let currency = incident.currency;
    let money = |minor: i64| format_money(currency, minor, language);
    let text = text_for(incident, language);
    let return_invoice = return_invoice_section(
        incident,
        refund_date,
        returns,
        language,
        text.service.clone(),
    );
    let (invoices, corrections, underbilled) = statement(refund, corrections, currency, language);
    let interest_rate_text = refund
        .invoices
        .iter()
        .find_map(|invoice| invoice.interest.rate.filter(|_| invoice.interest.days > 0))
        .map(|rate| {
            let percent = format_rate(rate * rust_decimal::Decimal::ONE_HUNDRED);
            format!("{percent}%")
        })
        .unwrap_or_default();
    NoticeContext {
        language: language_code(language),
        title: incident.title.clone(),
        title_stem: title_stem(&incident.title).to_string(),
        title_has_refund: title_stem(&incident.title).ends_with("返金"),
        company: incident.company.clone(),
        issued_on: incident
            .announced_on
            .or(refund_date)
            .map(|date| format_date(date, language))
            .unwrap_or_default(),
        incident_id: incident.id.clone(),
        account_id: refund.account_id.clone(),
        refund_id: refund.refund_id.clone(),
        holder_name: account.holder_name.clone(),
        postal_code: account.postal_code.clone().unwrap_or_default(),
        address: account.address.clone().unwrap_or_default(),
        summary: text.summary.unwrap_or_default(),
        cause: text.cause.unwrap_or_default(),
        response: text.response.unwrap_or_default(),
        prevention: text.prevention.unwrap_or_default(),
        contact: text.contact.unwrap_or_default(),
        class: refund.class.as_str(),
        has_refund: !invoices.is_empty(),
        has_corrections: !corrections.is_empty(),
        has_underbilled: !underbilled.is_empty(),
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
        has_previous_payment: refund.previously_paid > 0,
        payout_amount: money(refund.supplement),
        is_supplement: refund.previously_paid > 0 && refund.supplement > 0,
        paid_in_full: refund.refund_total > 0 && refund.supplement == 0,
        channel: refund.payout_channel.as_str(),
        bill_credit_month: plan
            .bill_credit_month
            .map(|month| format_month(month, language))
            .unwrap_or_default(),
        transfer_date: refund_date
            .map(|date| format_date(date, language))
            .unwrap_or_default(),
        refund_date: refund_date
            .map(|date| format_date(date, language))
            .unwrap_or_default(),
        account_last3: account
            .bank
            .account_number
            .as_deref()
            .map(|number| {
                number
                    .chars()
                    .rev()
                    .take(3)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect()
            })
            .unwrap_or_default(),
        interest_rate_text,
        return_invoice,
    }
}

const STYLE: &str = "body{font-family:'Hiragino Mincho ProN','Yu Mincho','Noto Serif CJK JP',serif;max-width:46em;margin:2em auto;padding:0 1.5em;line-height:1.7;color:#111}h1{font-size:1.35em;text-align:center;margin:1.5em 0}h2{font-size:1.05em;border-bottom:1px solid #999;margin-top:1.6em}table{border-collapse:collapse;width:100%;margin:1em 0}th,td{border:1px solid #666;padding:.3em .6em}td:not(:first-child){text-align:right;font-variant-numeric:tabular-nums}th{background:#eee}@page{size:A4;margin:18mm}@media print{body{margin:0;max-width:none}h2{break-after:avoid}table{break-inside:avoid}}";

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
    refund_date: Option<NaiveDate>,
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
    let chunks: Vec<Vec<[String; 5]>> = pairs
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
                let context = context(incident, refund_date, plan, refund, account, lines, sent);
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
                let html = html_page(&markdown, context.language, &context.title);
                let stem = format!("notices/{}", refund.refund_id);
                staging.write(&format!("{stem}.md"), markdown.as_bytes())?;
                staging.write(&format!("{stem}.html"), html.as_bytes())?;
                let amount = if refund.supplement > 0 {
                    refund.supplement
                } else {
                    sent.iter().map(|correction| correction.amount).sum()
                };
                index.push([
                    refund.account_id.clone(),
                    context.language.to_string(),
                    format!("{}.html", refund.refund_id),
                    incident.currency.format(amount),
                    refund.class.as_str().to_string(),
                ]);
            }
            let done = written.fetch_add(chunk.len() as u64, std::sync::atomic::Ordering::Relaxed)
                + chunk.len() as u64;
            reporter.advance(done, total);
            Ok(index)
        })
        .collect::<Result<_, NoticeError>>()?;
    let mut csv = Csv::with_header(&["account_id", "language", "file", "amount", "class"]);
    for row in chunks.iter().flatten() {
        csv.row(row.iter().map(String::as_str));
    }
    Ok(csv.into_bytes())
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
        let heading = |title: &str| format!("{}に関するお詫び", title_stem(title));
        assert_eq!(
            heading("NURO 光サービス開通工事および請求に関するお詫び"),
            "NURO 光サービス開通工事および請求に関するお詫び"
        );
        assert_eq!(
            heading("退会月の料金計算誤りによる過大請求について"),
            "退会月の料金計算誤りによる過大請求に関するお詫び"
        );
        assert_eq!(title_stem("料金誤りのお詫び"), "料金誤り");
        assert_eq!(title_stem("お詫び"), "お詫び");
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
