//! The public and regulator summary: `summary.json` (every aggregate), the press releases in the
//! numbered structure of the 2001 NTT release, the refund histogram (SVG) and a one-page HTML
//! report. Figures come from the ledger; prose comes from `[incident.text]`.

#![deny(clippy::arithmetic_side_effects)]

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::incident::Incident;
use crate::ledger::{ControlTotals, PayoutPlan};
use crate::model::Language;
use crate::money::{self, Currency, Money, Month, Rounding};
use crate::output::OutputFiles;
use crate::refund::{AccountClass, AccountRefund, InvoiceClass, PayoutChannel};
use crate::render::notices::{
    Dates, NoticeError, PaymentDays, format_money, language_code, render_template, text_of,
    title_stem,
};

/// One more in a count (a count of accounts or invoices cannot reach `u64::MAX`).
pub(crate) fn tally(count: &mut u64) {
    *count = count.saturating_add(1);
}

/// How summary.json names the region of accounts without one.
pub const NO_REGION: &str = "(none)";

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RegionSummary {
    pub region: String,
    pub accounts_overbilled: u64,
    pub accounts_underbilled: u64,
    pub accounts_mixed: u64,
    pub accounts_refunded: u64,
    pub refund_total: Money,
    /// refund_total / accounts_refunded, rounded half-up to the minor unit.
    pub average_refund: Money,
    pub correction_total: Money,
    pub underbilled_total: Money,
}

impl RegionSummary {
    fn new(region: String, currency: Currency) -> RegionSummary {
        RegionSummary {
            region,
            accounts_overbilled: 0,
            accounts_underbilled: 0,
            accounts_mixed: 0,
            accounts_refunded: 0,
            refund_total: currency.zero(),
            average_refund: currency.zero(),
            correction_total: currency.zero(),
            underbilled_total: currency.zero(),
        }
    }

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

    /// Accounts of the region with any affected invoice.
    pub fn accounts_affected(&self) -> u64 {
        self.accounts_overbilled
            .saturating_add(self.accounts_underbilled)
            .saturating_add(self.accounts_mixed)
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MonthSummary {
    pub billing_month: String,
    pub invoices_overbilled: u64,
    pub invoices_underbilled: u64,
    pub refund_principal: Money,
    pub refund_tax: Money,
    pub refund_interest: Money,
    pub correction_total: Money,
    pub underbilled_total: Money,
}

impl MonthSummary {
    fn new(month: Month, currency: Currency) -> MonthSummary {
        MonthSummary {
            billing_month: month.to_string(),
            invoices_overbilled: 0,
            invoices_underbilled: 0,
            refund_principal: currency.zero(),
            refund_tax: currency.zero(),
            refund_interest: currency.zero(),
            correction_total: currency.zero(),
            underbilled_total: currency.zero(),
        }
    }

    /// Adds one affected invoice to its month.
    fn add(&mut self, invoice: &crate::refund::Invoice) -> Result<(), money::Overflow> {
        match invoice.class {
            InvoiceClass::Overbilled => tally(&mut self.invoices_overbilled),
            InvoiceClass::Underbilled => tally(&mut self.invoices_underbilled),
        }
        if invoice.is_refunded() {
            self.refund_principal = self
                .refund_principal
                .plus(invoice.principal, "a month's principal")?;
            self.refund_tax = self.refund_tax.plus(invoice.tax, "a month's tax")?;
            self.refund_interest = self
                .refund_interest
                .plus(invoice.interest.amount, "a month's interest")?;
        } else if invoice.is_correction() {
            self.correction_total = self
                .correction_total
                .plus(invoice.excess(), "a month's corrections")?;
        } else {
            self.underbilled_total = self
                .underbilled_total
                .minus(invoice.excess(), "a month's under-billing")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChannelSummary {
    pub channel: &'static str,
    pub accounts: u64,
    pub amount: Money,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ClassSummary {
    pub class: &'static str,
    pub accounts: u64,
    pub refund_total: Money,
    pub correction_total: Money,
    pub underbilled_total: Money,
}

impl ClassSummary {
    /// Adds one affected account to its class.
    fn add(&mut self, refund: &AccountRefund) -> Result<(), money::Overflow> {
        tally(&mut self.accounts);
        self.refund_total = self
            .refund_total
            .plus(refund.refund_total, "a class's refunds")?;
        self.correction_total = self
            .correction_total
            .plus(refund.correction_total, "a class's corrections")?;
        self.underbilled_total = self
            .underbilled_total
            .plus(refund.underbilled_total, "a class's under-billing")?;
        Ok(())
    }
}

/// Distribution of refund_total over accounts that receive a refund (refund_total > 0).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Distribution {
    pub accounts: u64,
    pub min: Money,
    /// Middle value; the mean of the two middle values for an even count, exact: it may have one
    /// more decimal than the currency (half a minor unit), so it is text.
    pub median: String,
    /// Nearest-rank 90th percentile.
    pub p90: Money,
    pub max: Money,
    /// Rounded half-up to the minor unit.
    pub mean: Money,
}

impl Distribution {
    /// The distribution of `sorted` refunds (ascending, all positive); `None` for none.
    fn of(sorted: &[Money], currency: Currency) -> Result<Option<Distribution>, money::Overflow> {
        let (Some(&min), Some(&max)) = (sorted.first(), sorted.last()) else {
            return Ok(None);
        };
        let n = sorted.len();
        let rank = n.saturating_mul(9).div_ceil(10).clamp(1, n);
        let total = Money::sum(sorted.iter().copied(), currency.digits, "the refunds' mean")?;
        Ok(Some(Distribution {
            accounts: n as u64,
            min,
            median: median_text(sorted),
            p90: sorted[rank.saturating_sub(1)],
            max,
            mean: average(total, n as u64)?,
        }))
    }
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
    pub amount: Money,
}

/// The waves of a supplementary run (money as decimal text, like the rest of the summary).
#[derive(Debug, Clone, Serialize)]
pub struct WavesSummary {
    pub sequence: u32,
    pub waves: Vec<WaveSummary>,
    /// Σ over the waves, this one included.
    pub paid_to_date: Money,
    /// Σ refund_total of this run: what the incident owes to date.
    pub now_owed: Money,
    pub overpaid_accounts: u64,
    /// Paid beyond what is owed now: reported, never clawed back.
    pub overpaid: Money,
}

/// The waves of a supplementary run, for the summary and the press release.
pub fn waves_summary(
    waves: &crate::waves::Waves,
    currency: Currency,
    refund_date: Option<NaiveDate>,
) -> Result<WavesSummary, money::Overflow> {
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
            amount: currency.money(run.entry.amount_minor),
        })
        .collect();
    for file in waves.history.entry().paid_files {
        rows.push(WaveSummary {
            sequence: None,
            source: "paid_file",
            name: file.file,
            refund_date: None,
            accounts: file.accounts,
            amount: currency.money(file.amount_minor),
        });
    }
    if !totals.corrections_credited.is_zero() {
        rows.push(WaveSummary {
            sequence: None,
            source: "credited_corrections",
            name: String::new(),
            refund_date: None,
            accounts: 0,
            amount: totals.corrections_credited,
        });
    }
    rows.push(WaveSummary {
        sequence: Some(totals.sequence),
        source: "this_run",
        name: String::new(),
        refund_date: refund_date.map(|date| date.to_string()),
        accounts: totals.accounts_supplemented,
        amount: totals.supplement,
    });
    let paid_to_date = Money::sum(
        rows.iter().map(|row| row.amount),
        currency.digits,
        "paid to date",
    )?;
    Ok(WavesSummary {
        sequence: totals.sequence,
        waves: rows,
        paid_to_date,
        now_owed: totals.now_owed,
        overpaid_accounts: totals.overpaid.accounts,
        overpaid: totals.overpaid.amount,
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
    pub refund_principal: Money,
    pub refund_tax: Money,
    pub refund_interest: Money,
    pub refund_total: Money,
    pub correction_total: Money,
    pub underbilled_total: Money,
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
    /// refund_total of every account that receives a refund, ascending (the histogram's data).
    #[serde(skip)]
    pub refunds: Vec<Money>,
}

/// `total / count` rounded half-up to the minor unit; zero for no count.
pub(crate) fn average(total: Money, count: u64) -> Result<Money, money::Overflow> {
    if count == 0 {
        return Ok(total.with_minor(0));
    }
    let mean = money::round_ratio(
        i128::from(total.minor()),
        i128::from(count),
        Rounding::HalfUp,
    )?;
    i64::try_from(mean)
        .map(|minor| total.with_minor(minor))
        .map_err(|_| money::Overflow("an average"))
}

/// Exact median text of ascending `sorted` (not empty): integral, or with `.5` of the minor unit
/// for an even count. Two `i64` amounts summed (and the tenfold half) always fit an `i128`.
#[allow(clippy::arithmetic_side_effects)]
fn median_text(sorted: &[Money]) -> String {
    let n = sorted.len();
    if n % 2 == 1 {
        return sorted[n / 2].to_string();
    }
    let (low, high) = (sorted[n / 2 - 1], sorted[n / 2]);
    let sum = i128::from(low.minor()) + i128::from(high.minor());
    let whole = sum.div_euclid(2);
    if sum.rem_euclid(2) == 0 {
        money::format_minor_i128(whole, low.digits())
    } else {
        // Half a minor unit more: one more decimal digit, exactly.
        money::format_minor_i128(whole * 10 + 5, low.digits() + 1)
    }
}

/// What is summed per region, billing month and class over the affected accounts.
struct Breakdown {
    regions: BTreeMap<String, RegionSummary>,
    months: BTreeMap<Month, MonthSummary>,
    classes: BTreeMap<AccountClass, ClassSummary>,
}

fn breakdown(refunds: &[AccountRefund], currency: Currency) -> Result<Breakdown, money::Overflow> {
    let mut regions: BTreeMap<String, RegionSummary> = BTreeMap::new();
    let mut months: BTreeMap<Month, MonthSummary> = BTreeMap::new();
    let mut classes: BTreeMap<AccountClass, ClassSummary> = BTreeMap::new();
    for refund in refunds {
        let name = refund
            .region
            .clone()
            .unwrap_or_else(|| NO_REGION.to_string());
        let region = regions
            .entry(name.clone())
            .or_insert_with(|| RegionSummary::new(name, currency));
        match refund.class {
            AccountClass::Overbilled => tally(&mut region.accounts_overbilled),
            AccountClass::Underbilled => tally(&mut region.accounts_underbilled),
            AccountClass::Mixed => tally(&mut region.accounts_mixed),
        }
        if refund.refund_total.is_positive() {
            tally(&mut region.accounts_refunded);
        }
        region.refund_total = region
            .refund_total
            .plus(refund.refund_total, "a region's refunds")?;
        region.correction_total = region
            .correction_total
            .plus(refund.correction_total, "a region's corrections")?;
        region.underbilled_total = region
            .underbilled_total
            .plus(refund.underbilled_total, "a region's under-billing")?;
        classes
            .entry(refund.class)
            .or_insert_with(|| ClassSummary {
                class: refund.class.as_str(),
                accounts: 0,
                refund_total: currency.zero(),
                correction_total: currency.zero(),
                underbilled_total: currency.zero(),
            })
            .add(refund)?;
        for invoice in &refund.invoices {
            months
                .entry(invoice.billing_month)
                .or_insert_with(|| MonthSummary::new(invoice.billing_month, currency))
                .add(invoice)?;
        }
    }
    for region in regions.values_mut() {
        region.average_refund = average(region.refund_total, region.accounts_refunded)?;
    }
    Ok(Breakdown {
        regions,
        months,
        classes,
    })
}

/// Accounts and amounts per payout channel, and the bill corrections.
fn channels(totals: &ControlTotals) -> Vec<ChannelSummary> {
    [
        (PayoutChannel::BillCredit.as_str(), &totals.bill_credit),
        (PayoutChannel::BankTransfer.as_str(), &totals.bank_transfer),
        (PayoutChannel::Claim.as_str(), &totals.claim),
        (PayoutChannel::Residual.as_str(), &totals.residual),
        ("bill_correction", &totals.bill_corrections),
    ]
    .into_iter()
    .map(|(channel, total)| ChannelSummary {
        channel,
        accounts: total.accounts,
        amount: total.amount,
    })
    .collect()
}

fn incident_info(incident: &Incident, refund_date: Option<NaiveDate>) -> IncidentInfo {
    let language = incident.texts.language;
    IncidentInfo {
        id: incident.id.clone(),
        kind: incident.kind.as_str(),
        title: incident
            .texts
            .title(language)
            .unwrap_or_default()
            .to_string(),
        company: incident
            .texts
            .text(language)
            .map(|text| text.company)
            .unwrap_or_default(),
        announced_on: incident.announced_on.map(|date| date.to_string()),
        refund_date: refund_date.map(|date| date.to_string()),
        currency: incident.currency.code,
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
) -> Result<Summary, money::Overflow> {
    let currency = incident.currency;
    let breakdown = breakdown(refunds, currency)?;
    let mut refunded: Vec<Money> = refunds
        .iter()
        .map(|r| r.refund_total)
        .filter(|total| total.is_positive())
        .collect();
    refunded.sort_unstable();
    let first = refunds.iter().map(|r| r.first_billing_month).min();
    let last = refunds.iter().map(|r| r.last_billing_month).max();
    Ok(Summary {
        incident: incident_info(incident, refund_date),
        accounts_in_scope,
        accounts_affected: totals.accounts_affected,
        accounts_overbilled: totals.accounts_overbilled,
        accounts_underbilled: totals.accounts_underbilled,
        accounts_mixed: totals.accounts_mixed,
        accounts_review: totals.accounts_review,
        refund_principal: totals.refund_principal,
        refund_tax: totals.refund_tax,
        refund_interest: totals.refund_interest,
        refund_total: totals.refund_total,
        correction_total: totals.correction_total,
        underbilled_total: totals.underbilled_total,
        first_affected_billing_month: first.map(|month| month.to_string()),
        last_affected_billing_month: last.map(|month| month.to_string()),
        by_region: breakdown.regions.into_values().collect(),
        by_billing_month: breakdown.months.into_values().collect(),
        by_payout_channel: channels(totals),
        by_class: breakdown.classes.into_values().collect(),
        refund_distribution: Distribution::of(&refunded, currency)?,
        bill_credit_month: plan.bill_credit_month.map(|month| month.to_string()),
        waves,
        money_format: "decimal text in the currency's major unit",
        refunds: refunded,
    })
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
    let money = |value: Money| format_money(currency, value.minor(), dates.language);
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
                amount: money(row.amount),
            })
            .collect(),
        paid_to_date: money(waves.paid_to_date),
        now_owed: money(waves.now_owed),
        this_wave: this.map(|row| money(row.amount)).unwrap_or_default(),
        this_wave_accounts: this.map(|row| group(row.accounts)).unwrap_or_default(),
        has_overpaid: waves.overpaid.is_positive(),
        pays_nothing: this.is_none_or(|row| row.amount.is_zero()),
        overpaid_accounts: group(waves.overpaid_accounts),
        overpaid: money(waves.overpaid),
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

/// The regions of a press release, named and formatted for `language`.
fn press_regions(summary: &Summary, incident: &Incident, language: Language) -> Vec<PressRegion> {
    let money = |value: Money| format_money(incident.currency, value.minor(), language);
    summary
        .by_region
        .iter()
        .map(|region| PressRegion {
            region: region.display_name(&incident.texts, language),
            overbilled: group(region.accounts_overbilled),
            underbilled: group(region.accounts_underbilled),
            mixed: group(region.accounts_mixed),
            affected: group(region.accounts_affected()),
            refunded: group(region.accounts_refunded),
            refund_total: money(region.refund_total),
            average_refund: money(region.average_refund),
        })
        .collect()
}

/// The payout channels a press release lists (those with an account), for `language`.
fn press_channels(summary: &Summary, incident: &Incident, language: Language) -> Vec<PressChannel> {
    let money = |value: Money| format_money(incident.currency, value.minor(), language);
    summary
        .by_payout_channel
        .iter()
        .filter(|channel| channel.accounts > 0)
        .map(|channel| PressChannel {
            channel: channel.channel,
            name: incident.texts.channel(channel.channel, language),
            accounts: group(channel.accounts),
            amount: money(channel.amount),
        })
        .collect()
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
    let money = |value: Money| format_money(currency, value.minor(), language);
    let month = |text: &Option<String>| {
        text.as_deref()
            .and_then(Month::parse)
            .map(|m| dates.month(m))
            .unwrap_or_default()
    };
    let text = text_of(incident, language)?;
    let distribution = summary.refund_distribution.as_ref();
    // What this run sends to the billing system (in a supplementary run, only what is new).
    let corrections_sent = Money::sum(
        plan.corrections.iter().map(|correction| correction.amount),
        currency.digits,
        "bill corrections",
    )
    .map_err(NoticeError::Overflow)?;
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
        regions: press_regions(summary, incident, language),
        first_month: month(&summary.first_affected_billing_month),
        last_month: month(&summary.last_affected_billing_month),
        refund_total: money(summary.refund_total),
        refund_principal: money(summary.refund_principal),
        refund_tax: money(summary.refund_tax),
        refund_interest: money(summary.refund_interest),
        has_distribution: distribution.is_some(),
        refund_min: distribution.map(|d| money(d.min)).unwrap_or_default(),
        refund_max: distribution.map(|d| money(d.max)).unwrap_or_default(),
        refund_mean: distribution.map(|d| money(d.mean)).unwrap_or_default(),
        has_corrections: !plan.corrections.is_empty(),
        corrections_count: group(plan.corrections.len() as u64),
        correction_total: money(corrections_sent),
        has_underbilled: summary.underbilled_total.is_positive(),
        underbilled_accounts: group(
            summary
                .accounts_underbilled
                .saturating_add(summary.accounts_mixed),
        ),
        underbilled_total: money(summary.underbilled_total),
        channels: press_channels(summary, incident, language),
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
        serde_json::to_string_pretty(summary).map_err(|source| NoticeError::Serialize {
            file: "summary/summary.json",
            source,
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
    fn medians() {
        let jpy = |minor: i64| Money::new(minor, 0);
        assert_eq!(median_text(&[jpy(1), jpy(2), jpy(3)]), "2");
        assert_eq!(median_text(&[jpy(1), jpy(2)]), "1.5");
        assert_eq!(median_text(&[jpy(2), jpy(4)]), "3");
        assert_eq!(group(1234567), "1,234,567");
    }
}
