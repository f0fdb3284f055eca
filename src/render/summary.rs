//! The public and regulator summary: `summary.json` (every aggregate), the press releases in the
//! numbered structure of the 2001 NTT release, the refund histogram (SVG) and a one-page HTML
//! report. Figures come from the ledger; prose comes from `[incident.text]`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::incident::Incident;
use crate::ledger::{ControlTotals, PayoutPlan};
use crate::model::Language;
use crate::money::{self, Currency, Month, Rounding};
use crate::output::OutputFiles;
use crate::refund::{AccountClass, AccountRefund, InvoiceClass, PayoutChannel};
use crate::render::notices::{
    Dates, NoticeError, PaymentDays, format_money, language_code, render_template, text_of,
    title_stem,
};

/// How summary.json names the region of accounts without one.
pub const NO_REGION: &str = "(none)";

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct RegionSummary {
    pub region: String,
    pub accounts_overbilled: u64,
    pub accounts_underbilled: u64,
    pub accounts_mixed: u64,
    pub accounts_refunded: u64,
    pub refund_total: String,
    /// refund_total / accounts_refunded, rounded half-up to the minor unit.
    pub average_refund: String,
    pub correction_total: String,
    pub underbilled_total: String,
    #[serde(skip)]
    pub(crate) refund_minor: i64,
    #[serde(skip)]
    pub(crate) correction_minor: i64,
    #[serde(skip)]
    pub(crate) underbilled_minor: i64,
}

impl RegionSummary {
    /// The region as `language`'s documents name it (`[display.region]`, or the built-in name
    /// for accounts without a region).
    pub fn display_name(&self, texts: &crate::incident::Texts, language: Language) -> String {
        texts
            .region(
                Some(self.region.as_str()).filter(|code| *code != NO_REGION),
                language,
            )
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct MonthSummary {
    pub billing_month: String,
    pub invoices_overbilled: u64,
    pub invoices_underbilled: u64,
    pub refund_principal: String,
    pub refund_tax: String,
    pub refund_interest: String,
    pub correction_total: String,
    pub underbilled_total: String,
    /// principal, tax, interest, corrections, under-billed, in minor units.
    #[serde(skip)]
    pub(crate) minor: [i64; 5],
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChannelSummary {
    pub channel: &'static str,
    pub accounts: u64,
    pub amount: String,
    #[serde(skip)]
    pub amount_minor: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ClassSummary {
    pub class: &'static str,
    pub accounts: u64,
    pub refund_total: String,
    pub correction_total: String,
    pub underbilled_total: String,
}

/// Distribution of refund_total over accounts that receive a refund (refund_total > 0).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Distribution {
    pub accounts: u64,
    pub min: String,
    /// Middle value; the mean of the two middle values for an even count (exact decimal).
    pub median: String,
    /// Nearest-rank 90th percentile.
    pub p90: String,
    pub max: String,
    /// Rounded half-up to the minor unit.
    pub mean: String,
}

/// One wave of payments: an earlier run, a file of refunds paid outside redress, or this run.
#[derive(Debug, Clone, Serialize)]
pub struct WaveSummary {
    /// The run's sequence number; `None` for a paid file.
    pub sequence: Option<u32>,
    /// `run` (an earlier redress run), `paid_file`, `credited_corrections` (earlier corrections of
    /// bills since paid) or `this_run`.
    pub source: &'static str,
    /// The earlier output directory or paid file, as given.
    pub name: String,
    pub refund_date: Option<String>,
    pub accounts: u64,
    pub amount: String,
    #[serde(skip)]
    pub amount_minor: i64,
}

/// The waves of a supplementary run (money as decimal text, like the rest of the summary).
#[derive(Debug, Clone, Serialize)]
pub struct WavesSummary {
    pub sequence: u32,
    pub waves: Vec<WaveSummary>,
    /// Σ over the waves, this one included.
    pub paid_to_date: String,
    /// Σ refund_total of this run: what the incident owes to date.
    pub now_owed: String,
    pub overpaid_accounts: u64,
    /// Paid beyond what is owed now: reported, never clawed back.
    pub overpaid: String,
    #[serde(skip)]
    pub paid_to_date_minor: i64,
    #[serde(skip)]
    pub now_owed_minor: i64,
    #[serde(skip)]
    pub overpaid_minor: i64,
}

/// The waves of a supplementary run, for the summary and the press release.
pub fn waves_summary(
    waves: &crate::waves::Waves,
    currency: Currency,
    refund_date: Option<NaiveDate>,
) -> Result<WavesSummary, money::Overflow> {
    let money = |minor: i64| currency.format(minor);
    let totals = &waves.totals;
    let mut rows: Vec<WaveSummary> = waves
        .history
        .runs
        .iter()
        .map(|run| WaveSummary {
            sequence: Some(run.entry.sequence),
            source: "run",
            name: run.entry.dir.clone(),
            refund_date: run.entry.refund_date.clone(),
            accounts: run.entry.accounts_paid,
            amount: money(run.entry.amount_minor),
            amount_minor: run.entry.amount_minor,
        })
        .collect();
    for file in waves.history.entry().paid_files {
        rows.push(WaveSummary {
            sequence: None,
            source: "paid_file",
            name: file.file,
            refund_date: None,
            accounts: file.accounts,
            amount: money(file.amount_minor),
            amount_minor: file.amount_minor,
        });
    }
    if totals.corrections_credited != 0 {
        rows.push(WaveSummary {
            sequence: None,
            source: "credited_corrections",
            name: String::new(),
            refund_date: None,
            accounts: 0,
            amount: money(totals.corrections_credited),
            amount_minor: totals.corrections_credited,
        });
    }
    rows.push(WaveSummary {
        sequence: Some(totals.sequence),
        source: "this_run",
        name: String::new(),
        refund_date: refund_date.map(|date| date.to_string()),
        accounts: totals.accounts_supplemented,
        amount: money(totals.supplement),
        amount_minor: totals.supplement,
    });
    let paid_to_date = money::checked_sum(rows.iter().map(|row| row.amount_minor), "paid to date")?;
    Ok(WavesSummary {
        sequence: totals.sequence,
        waves: rows,
        paid_to_date: money(paid_to_date),
        now_owed: money(totals.now_owed),
        overpaid_accounts: totals.overpaid.accounts,
        overpaid: money(totals.overpaid.amount),
        paid_to_date_minor: paid_to_date,
        now_owed_minor: totals.now_owed,
        overpaid_minor: totals.overpaid.amount,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct IncidentInfo {
    pub id: String,
    pub kind: &'static str,
    pub title: String,
    pub company: String,
    pub announced_on: Option<String>,
    pub refund_date: Option<String>,
    pub currency: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub incident: IncidentInfo,
    pub accounts_in_scope: u64,
    pub accounts_affected: u64,
    pub accounts_overbilled: u64,
    pub accounts_underbilled: u64,
    pub accounts_mixed: u64,
    pub accounts_review: u64,
    pub refund_principal: String,
    pub refund_tax: String,
    pub refund_interest: String,
    pub refund_total: String,
    pub correction_total: String,
    pub underbilled_total: String,
    pub first_affected_billing_month: Option<String>,
    pub last_affected_billing_month: Option<String>,
    pub by_region: Vec<RegionSummary>,
    pub by_billing_month: Vec<MonthSummary>,
    pub by_payout_channel: Vec<ChannelSummary>,
    pub by_class: Vec<ClassSummary>,
    pub refund_distribution: Option<Distribution>,
    pub bill_credit_month: Option<String>,
    /// A supplementary run: what each earlier wave paid, this wave and the total to date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waves: Option<WavesSummary>,
    /// Money in this file is decimal text in the currency's major unit, like the CSVs.
    pub money_format: &'static str,
    #[serde(skip)]
    pub refund_total_minor: i64,
    #[serde(skip)]
    pub refunds_minor: Vec<i64>,
}

pub(crate) fn average(total: i64, count: u64) -> i64 {
    if count == 0 {
        return 0;
    }
    money::round_ratio(i128::from(total), i128::from(count), Rounding::HalfUp)
        .ok()
        .and_then(|value| i64::try_from(value).ok())
        .unwrap_or(0)
}

/// Exact median text: integral, or with `.5` of the minor unit for an even count.
fn median_text(sorted: &[i64], currency: Currency) -> String {
    let n = sorted.len();
    if n % 2 == 1 {
        return currency.format(sorted[n / 2]);
    }
    let sum = i128::from(sorted[n / 2 - 1]) + i128::from(sorted[n / 2]);
    let whole = i64::try_from(sum.div_euclid(2)).unwrap_or(0);
    if sum.rem_euclid(2) == 0 {
        currency.format(whole)
    } else {
        // Half a minor unit more: one more decimal digit, exactly.
        money::format_minor(whole * 10 + 5, currency.digits + 1)
    }
}

pub fn build(
    incident: &Incident,
    refund_date: Option<NaiveDate>,
    refunds: &[AccountRefund],
    totals: &ControlTotals,
    plan: &PayoutPlan,
    accounts_in_scope: u64,
    waves: Option<WavesSummary>,
) -> Summary {
    let currency = incident.currency;
    let money = |minor: i64| currency.format(minor);
    let mut regions: BTreeMap<String, RegionSummary> = BTreeMap::new();
    let mut months: BTreeMap<Month, MonthSummary> = BTreeMap::new();
    let mut classes: BTreeMap<AccountClass, (u64, i64, i64, i64)> = BTreeMap::new();
    for refund in refunds {
        let region = regions
            .entry(
                refund
                    .region
                    .clone()
                    .unwrap_or_else(|| NO_REGION.to_string()),
            )
            .or_default();
        match refund.class {
            AccountClass::Overbilled => region.accounts_overbilled += 1,
            AccountClass::Underbilled => region.accounts_underbilled += 1,
            AccountClass::Mixed => region.accounts_mixed += 1,
        }
        if refund.refund_total > 0 {
            region.accounts_refunded += 1;
        }
        region.refund_minor += refund.refund_total;
        region.correction_minor += refund.correction_total;
        region.underbilled_minor += refund.underbilled_total;
        let class = classes.entry(refund.class).or_default();
        class.0 += 1;
        class.1 += refund.refund_total;
        class.2 += refund.correction_total;
        class.3 += refund.underbilled_total;
        for invoice in &refund.invoices {
            let month = months.entry(invoice.billing_month).or_default();
            match invoice.class {
                InvoiceClass::Overbilled => month.invoices_overbilled += 1,
                InvoiceClass::Underbilled => month.invoices_underbilled += 1,
            }
            if invoice.is_refunded() {
                month.minor[0] += invoice.principal;
                month.minor[1] += invoice.tax;
                month.minor[2] += invoice.interest.amount;
            } else if invoice.is_correction() {
                month.minor[3] += invoice.excess();
            } else {
                month.minor[4] += -invoice.excess();
            }
        }
    }
    let by_region = regions
        .into_iter()
        .map(|(name, mut region)| {
            region.region = name;
            region.refund_total = money(region.refund_minor);
            region.average_refund = money(average(region.refund_minor, region.accounts_refunded));
            region.correction_total = money(region.correction_minor);
            region.underbilled_total = money(region.underbilled_minor);
            region
        })
        .collect();
    let by_billing_month = months
        .into_iter()
        .map(|(month, mut summary)| {
            summary.billing_month = month.to_string();
            summary.refund_principal = money(summary.minor[0]);
            summary.refund_tax = money(summary.minor[1]);
            summary.refund_interest = money(summary.minor[2]);
            summary.correction_total = money(summary.minor[3]);
            summary.underbilled_total = money(summary.minor[4]);
            summary
        })
        .collect();
    let by_payout_channel = [
        (PayoutChannel::BillCredit, &totals.bill_credit),
        (PayoutChannel::BankTransfer, &totals.bank_transfer),
        (PayoutChannel::Claim, &totals.claim),
        (PayoutChannel::Residual, &totals.residual),
    ]
    .into_iter()
    .map(|(channel, total)| ChannelSummary {
        channel: channel.as_str(),
        accounts: total.accounts,
        amount: money(total.amount),
        amount_minor: total.amount,
    })
    .chain(std::iter::once(ChannelSummary {
        channel: "bill_correction",
        accounts: totals.bill_corrections.accounts,
        amount: money(totals.bill_corrections.amount),
        amount_minor: totals.bill_corrections.amount,
    }))
    .collect();
    let by_class = classes
        .into_iter()
        .map(
            |(class, (accounts, refund, correction, under))| ClassSummary {
                class: class.as_str(),
                accounts,
                refund_total: money(refund),
                correction_total: money(correction),
                underbilled_total: money(under),
            },
        )
        .collect();
    let mut refunded: Vec<i64> = refunds
        .iter()
        .map(|r| r.refund_total)
        .filter(|total| *total > 0)
        .collect();
    refunded.sort_unstable();
    let refund_distribution = (!refunded.is_empty()).then(|| {
        let n = refunded.len();
        let rank = (n * 9).div_ceil(10).max(1);
        let total: i64 = refunded.iter().sum();
        Distribution {
            accounts: n as u64,
            min: money(refunded[0]),
            median: median_text(&refunded, currency),
            p90: money(refunded[rank - 1]),
            max: money(refunded[n - 1]),
            mean: money(average(total, n as u64)),
        }
    });
    let first = refunds.iter().map(|r| r.first_billing_month).min();
    let last = refunds.iter().map(|r| r.last_billing_month).max();
    Summary {
        incident: IncidentInfo {
            id: incident.id.clone(),
            kind: incident.kind.as_str(),
            title: incident
                .texts
                .title(incident.texts.language)
                .unwrap_or_default()
                .to_string(),
            company: incident
                .texts
                .text(incident.texts.language)
                .map(|text| text.company)
                .unwrap_or_default(),
            announced_on: incident.announced_on.map(|date| date.to_string()),
            refund_date: refund_date.map(|date| date.to_string()),
            currency: currency.code,
        },
        accounts_in_scope,
        accounts_affected: totals.accounts_affected,
        accounts_overbilled: totals.accounts_overbilled,
        accounts_underbilled: totals.accounts_underbilled,
        accounts_mixed: totals.accounts_mixed,
        accounts_review: totals.accounts_review,
        refund_principal: money(totals.refund_principal),
        refund_tax: money(totals.refund_tax),
        refund_interest: money(totals.refund_interest),
        refund_total: money(totals.refund_total),
        correction_total: money(totals.correction_total),
        underbilled_total: money(totals.underbilled_total),
        first_affected_billing_month: first.map(|month| month.to_string()),
        last_affected_billing_month: last.map(|month| month.to_string()),
        by_region,
        by_billing_month,
        by_payout_channel,
        by_class,
        refund_distribution,
        bill_credit_month: plan.bill_credit_month.map(|month| month.to_string()),
        waves,
        money_format: "decimal text in the currency's major unit",
        refund_total_minor: refunds.iter().map(|r| r.refund_total).sum(),
        refunds_minor: refunded,
    }
}

fn minor_of(text: &str, currency: Currency) -> i64 {
    money::parse_minor(text, currency.digits).unwrap_or(0)
}

#[derive(Debug, Default, Serialize)]
struct PressRegion {
    region: String,
    overbilled: String,
    underbilled: String,
    mixed: String,
    affected: String,
    refunded: String,
    refund_total: String,
    average_refund: String,
}

#[derive(Debug, Default, Serialize)]
struct PressChannel {
    channel: &'static str,
    /// The channel as the language names it (`[display.channel]` or built in).
    name: String,
    accounts: String,
    amount: String,
}

/// Every variable a press-release template can use; figures formatted for the language.
#[derive(Debug, Default, Serialize)]
struct PressContext {
    announced_on: String,
    company: String,
    title: String,
    title_stem: String,
    summary: String,
    cause: String,
    response: String,
    prevention: String,
    contact: String,
    accounts_affected: String,
    accounts_overbilled: String,
    accounts_underbilled: String,
    accounts_mixed: String,
    accounts_review: String,
    regions: Vec<PressRegion>,
    first_month: String,
    last_month: String,
    refund_total: String,
    refund_principal: String,
    refund_tax: String,
    refund_interest: String,
    has_distribution: bool,
    refund_min: String,
    refund_max: String,
    refund_mean: String,
    has_corrections: bool,
    corrections_count: String,
    correction_total: String,
    has_underbilled: bool,
    underbilled_accounts: String,
    underbilled_total: String,
    channels: Vec<PressChannel>,
    bill_credit_month: String,
    refund_date: String,
    /// The day transfers are executed (`--transfer-date`, by default the refund date).
    transfer_date: String,
    waves: Option<PressWaves>,
}

#[derive(Debug, Default, Serialize)]
struct PressWave {
    /// `run`, `paid_file`, `credited_corrections` or `this_run`.
    source: &'static str,
    sequence: String,
    refund_date: String,
    accounts: String,
    amount: String,
}

/// The waves of a supplementary run, formatted for the language.
#[derive(Debug, Default, Serialize)]
struct PressWaves {
    sequence: String,
    /// `2nd`, `3rd`, `11th`: the English ordinal of the sequence.
    ordinal: String,
    rows: Vec<PressWave>,
    paid_to_date: String,
    now_owed: String,
    this_wave: String,
    this_wave_accounts: String,
    has_overpaid: bool,
    overpaid_accounts: String,
    overpaid: String,
    /// Earlier waves paid every affected account in full: this run pays nothing.
    pays_nothing: bool,
}

/// `1st`, `2nd`, `3rd`, `4th`, `11th`, `21st`.
fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn press_waves(waves: &WavesSummary, currency: Currency, dates: Dates) -> PressWaves {
    let language = dates.language;
    let this = waves.waves.iter().find(|row| row.source == "this_run");
    PressWaves {
        sequence: waves.sequence.to_string(),
        ordinal: ordinal(waves.sequence),
        rows: waves
            .waves
            .iter()
            .map(|row| PressWave {
                source: row.source,
                sequence: row.sequence.map(|n| n.to_string()).unwrap_or_default(),
                refund_date: row
                    .refund_date
                    .as_deref()
                    .and_then(money::parse_date)
                    .map(|date| dates.date(date))
                    .unwrap_or_default(),
                accounts: group(row.accounts),
                amount: format_money(currency, row.amount_minor, language),
            })
            .collect(),
        paid_to_date: format_money(currency, waves.paid_to_date_minor, language),
        now_owed: format_money(currency, waves.now_owed_minor, language),
        this_wave: this
            .map(|row| format_money(currency, row.amount_minor, language))
            .unwrap_or_default(),
        this_wave_accounts: this.map(|row| group(row.accounts)).unwrap_or_default(),
        has_overpaid: waves.overpaid_minor > 0,
        pays_nothing: this.is_none_or(|row| row.amount_minor == 0),
        overpaid_accounts: group(waves.overpaid_accounts),
        overpaid: format_money(currency, waves.overpaid_minor, language),
    }
}

/// Renders both press-release templates with every section present (see
/// `notices::environment`).
pub fn check_press_templates(env: &minijinja::Environment<'static>) -> Result<(), NoticeError> {
    let context = PressContext {
        regions: vec![PressRegion::default()],
        channels: vec![PressChannel::default()],
        has_distribution: true,
        has_corrections: true,
        has_underbilled: true,
        waves: Some(PressWaves {
            rows: ["run", "paid_file", "credited_corrections", "this_run"]
                .into_iter()
                .map(|source| PressWave {
                    source,
                    ..PressWave::default()
                })
                .collect(),
            has_overpaid: true,
            ..PressWaves::default()
        }),
        ..PressContext::default()
    };
    for language in [Language::Ja, Language::En] {
        render_template(
            env,
            &format!("press_release.{}.md", language_code(language)),
            &context,
        )?;
    }
    Ok(())
}

/// The press release in one language, from `press_release.LANG.md`.
pub fn press_release(
    env: &minijinja::Environment<'static>,
    language: Language,
    incident: &Incident,
    summary: &Summary,
    days: PaymentDays,
    plan: &PayoutPlan,
) -> Result<String, NoticeError> {
    let refund_date = days.refund_date;
    let currency = incident.currency;
    let dates = Dates::of(incident, language);
    let money = |text: &str| format_money(currency, minor_of(text, currency), language);
    let month = |text: &Option<String>| {
        text.as_deref()
            .and_then(Month::parse)
            .map(|m| dates.month(m))
            .unwrap_or_default()
    };
    let text = text_of(incident, language)?;
    let texts = &incident.texts;
    let distribution = summary.refund_distribution.as_ref();
    // What this run sends to the billing system (in a supplementary run, only what is new).
    let corrections_sent = money::checked_sum(
        plan.corrections.iter().map(|correction| correction.amount),
        "bill corrections",
    )
    .map_err(|error| NoticeError::Template {
        name: "press release".to_string(),
        message: error.to_string(),
    })?;
    let context = PressContext {
        announced_on: incident
            .announced_on
            .map(|date| dates.date(date))
            .unwrap_or_default(),
        title_stem: title_stem(&text.title, language).to_string(),
        company: text.company,
        title: text.title,
        summary: text.summary,
        cause: text.cause,
        response: text.response,
        prevention: text.prevention,
        contact: text.contact,
        accounts_affected: group(summary.accounts_affected),
        accounts_overbilled: group(summary.accounts_overbilled),
        accounts_underbilled: group(summary.accounts_underbilled),
        accounts_mixed: group(summary.accounts_mixed),
        accounts_review: group(summary.accounts_review),
        regions: summary
            .by_region
            .iter()
            .map(|region| PressRegion {
                region: region.display_name(texts, language),
                overbilled: group(region.accounts_overbilled),
                underbilled: group(region.accounts_underbilled),
                mixed: group(region.accounts_mixed),
                affected: group(
                    region.accounts_overbilled
                        + region.accounts_underbilled
                        + region.accounts_mixed,
                ),
                refunded: group(region.accounts_refunded),
                refund_total: money(&region.refund_total),
                average_refund: money(&region.average_refund),
            })
            .collect(),
        first_month: month(&summary.first_affected_billing_month),
        last_month: month(&summary.last_affected_billing_month),
        refund_total: money(&summary.refund_total),
        refund_principal: money(&summary.refund_principal),
        refund_tax: money(&summary.refund_tax),
        refund_interest: money(&summary.refund_interest),
        has_distribution: distribution.is_some(),
        refund_min: distribution.map(|d| money(&d.min)).unwrap_or_default(),
        refund_max: distribution.map(|d| money(&d.max)).unwrap_or_default(),
        refund_mean: distribution.map(|d| money(&d.mean)).unwrap_or_default(),
        has_corrections: !plan.corrections.is_empty(),
        corrections_count: group(plan.corrections.len() as u64),
        correction_total: format_money(currency, corrections_sent, language),
        has_underbilled: minor_of(&summary.underbilled_total, currency) > 0,
        underbilled_accounts: group(summary.accounts_underbilled + summary.accounts_mixed),
        underbilled_total: money(&summary.underbilled_total),
        channels: summary
            .by_payout_channel
            .iter()
            .filter(|channel| channel.accounts > 0)
            .map(|channel| PressChannel {
                channel: channel.channel,
                name: texts.channel(channel.channel, language),
                accounts: group(channel.accounts),
                amount: money(&channel.amount),
            })
            .collect(),
        bill_credit_month: plan
            .bill_credit_month
            .map(|m| dates.month(m))
            .unwrap_or_default(),
        refund_date: refund_date.map(|date| dates.date(date)).unwrap_or_default(),
        transfer_date: days
            .transfer_date
            .map(|date| dates.date(date))
            .unwrap_or_default(),
        waves: summary
            .waves
            .as_ref()
            .map(|waves| press_waves(waves, currency, dates)),
    };
    render_template(
        env,
        &format!("press_release.{}.md", language_code(language)),
        &context,
    )
}

/// A count with thousands separators.
pub fn group(value: u64) -> String {
    crate::render::notices::group_digits(&value.to_string())
}

/// A "nice" bin width (1, 2 or 5 × 10^k minor units) giving at most `bins` bins over `span`.
pub(crate) fn bin_width(span: i64, bins: i64) -> i64 {
    let target = (span / bins).max(1);
    let mut power = 1i64;
    loop {
        for step in [1, 2, 5] {
            let width = step * power;
            if width >= target {
                return width;
            }
        }
        power = power.saturating_mul(10);
    }
}

/// Adds every summary file but `report.html`, which states the inputs' hashes and so is written
/// after them (`render::report`).
pub fn render(
    files: &mut OutputFiles,
    env: &minijinja::Environment<'static>,
    incident: &Incident,
    summary: &Summary,
    days: PaymentDays,
    plan: &PayoutPlan,
    languages: &[Language],
) -> Result<(), NoticeError> {
    let mut json =
        serde_json::to_string_pretty(summary).map_err(|error| NoticeError::Serialize {
            file: "summary/summary.json",
            message: error.to_string(),
        })?;
    json.push('\n');
    files.add("summary/summary.json", json);
    for &language in languages {
        files.add(
            format!("summary/press_release.{}.md", language_code(language)),
            press_release(env, language, incident, summary, days, plan)?,
        );
    }
    files.add(
        "summary/refund_distribution.svg",
        crate::render::report::svg(env, incident, summary)?,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals() {
        let all: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 103, 111]
            .map(ordinal)
            .to_vec();
        assert_eq!(
            all,
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "103rd",
                "111th"
            ]
        );
    }

    #[test]
    fn nice_bins_and_medians() {
        assert_eq!(bin_width(100_000, 20), 5000);
        assert_eq!(bin_width(90, 20), 5);
        assert_eq!(bin_width(1, 20), 1);
        let jpy = Currency::from_code("JPY").unwrap();
        assert_eq!(median_text(&[1, 2, 3], jpy), "2");
        assert_eq!(median_text(&[1, 2], jpy), "1.5");
        assert_eq!(median_text(&[2, 4], jpy), "3");
        assert_eq!(group(1234567), "1,234,567");
    }
}
