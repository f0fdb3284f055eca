//! Second waves: a run that nets against what earlier runs (`--previous`) and refunds paid outside
//! redress (`--paid`) already paid, so that each account is paid only the difference.
//!
//! Per account: `previously_paid` = Σ what each earlier wave paid it (a first run its refund_total,
//! a supplementary run its supplement; a claim or residual line stays that wave's to pay) + Σ its
//! rows in the paid files + earlier corrections of bills that this run finds paid (the customer
//! already had that amount off the bill); `now_owed` = this run's refund_total; `supplement` =
//! now_owed − previously_paid when positive, paid on the channel this run decides for that amount.
//! When previously_paid exceeds now_owed, or an account paid before is no longer affected (or is
//! in review now), the difference goes to `payouts/overpaid.csv`: reported, never clawed back.
//! Corrections of unpaid bills are netted per invoice the same way.

#![deny(clippy::arithmetic_side_effects)]

pub mod read;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use chrono::NaiveDate;

use serde::Serialize;

use crate::incident::Incident;
use crate::ledger::{ChannelTotal, PayoutPlan};
use crate::load::Encoding;
use crate::model::AccountInvoices;
use crate::money::{Currency, Money, Month, Overflow};
use crate::refund::{self, AccountRefund};
use crate::rules::ReviewReason;
pub use read::{PaidFile, PaidFileEntry, PreviousEntry, PreviousRun, WaveEntry};

#[derive(Debug, thiserror::Error)]
pub enum WaveError {
    /// The command line names the wrong earlier outputs (exit 2).
    #[error("{what}: {message}\nhint: {hint}")]
    Usage {
        what: String,
        message: String,
        hint: String,
    },
    /// An earlier output or a paid file is not what it should be (exit 65).
    #[error("`{file}` {message}\nhint: {hint}")]
    Bad {
        file: String,
        message: String,
        hint: String,
    },
    /// A file is missing (exit 66).
    #[error("`{file}` {message}")]
    Missing { file: String, message: String },
    #[error(transparent)]
    Overflow(#[from] Overflow),
    #[error(transparent)]
    Interest(#[from] crate::interest::InterestError),
    #[error("internal error: {0}")]
    Internal(String),
}

/// The earlier waves and paid files of a supplementary run, read and verified.
#[derive(Debug)]
pub struct History {
    pub runs: Vec<PreviousRun>,
    pub paid_files: Vec<PaidFile>,
}

impl History {
    /// This run's sequence number: one more than the latest earlier wave (1 when only paid files
    /// are given).
    pub fn sequence(&self) -> u32 {
        self.runs
            .iter()
            .map(|run| run.entry.sequence)
            .max()
            .unwrap_or(0)
            .saturating_add(1)
    }

    /// What the manifest records, so that a later wave can insist on the same earlier outputs.
    pub fn entry(&self) -> WaveEntry {
        WaveEntry {
            sequence: self.sequence(),
            previous: self.runs.iter().map(|run| run.entry.clone()).collect(),
            paid_files: self
                .paid_files
                .iter()
                .map(|file| {
                    let accounts: BTreeSet<(Option<&str>, Option<&str>)> = file
                        .rows
                        .iter()
                        .map(|row| (row.account_id.as_deref(), row.refund_id.as_deref()))
                        .collect();
                    PaidFileEntry {
                        file: file.display.clone(),
                        sha256: file.sha256.clone(),
                        rows: file.rows.len() as u64,
                        accounts: accounts.len() as u64,
                        amount_minor: file.total.minor(),
                    }
                })
                .collect(),
        }
    }
}

/// Reads every `--previous` directory and `--paid` file; `None` for a first run. Refuses the same
/// wave twice, and an earlier wave whose own earlier waves or paid files are not all given (their
/// payments would be paid again).
pub fn read(
    incident: &Incident,
    previous: &[PathBuf],
    paid: &[PathBuf],
    encoding: Encoding,
) -> Result<Option<History>, WaveError> {
    if previous.is_empty() && paid.is_empty() {
        return Ok(None);
    }
    let mut runs: Vec<PreviousRun> = Vec::with_capacity(previous.len());
    for dir in previous {
        let run = read::previous_run(incident, dir)?;
        if let Some(same) = runs.iter().find(|earlier| {
            earlier.entry.manifest_sha256 == run.entry.manifest_sha256
                || earlier.refunds_sha256 == run.refunds_sha256
        }) {
            return Err(WaveError::Usage {
                what: format!("--previous {}", run.entry.dir),
                message: format!("is the same wave as --previous {}", same.entry.dir),
                hint:
                    "give each earlier wave once; counted twice, its payments would be netted twice"
                        .to_string(),
            });
        }
        runs.push(run);
    }
    let mut paid_files: Vec<PaidFile> = Vec::with_capacity(paid.len());
    for path in paid {
        let file = read::paid_file(path, encoding, incident.currency)?;
        if let Some(same) = paid_files
            .iter()
            .find(|earlier| earlier.sha256 == file.sha256)
        {
            return Err(WaveError::Usage {
                what: format!("--paid {}", file.display),
                message: format!("has the same content as --paid {}", same.display),
                hint: "give each paid file once".to_string(),
            });
        }
        paid_files.push(file);
    }
    for run in &runs {
        let Some(chain) = &run.chain else { continue };
        for earlier in &chain.previous {
            if !runs
                .iter()
                .any(|given| given.entry.manifest_sha256 == earlier.manifest_sha256)
            {
                return Err(WaveError::Usage {
                    what: format!("--previous {}", run.entry.dir),
                    message: format!(
                        "is wave {} and netted against wave {} (then at {}, manifest SHA-256 {}), which is not given",
                        run.entry.sequence, earlier.sequence, earlier.dir, earlier.manifest_sha256
                    ),
                    hint: format!(
                        "give every earlier wave with --previous: without wave {}, what it paid would be paid again",
                        earlier.sequence
                    ),
                });
            }
        }
        for file in &chain.paid_files {
            if !paid_files.iter().any(|given| given.sha256 == file.sha256) {
                return Err(WaveError::Usage {
                    what: format!("--previous {}", run.entry.dir),
                    message: format!(
                        "netted against the paid file {} (SHA-256 {}), which is not given",
                        file.file, file.sha256
                    ),
                    hint: "give that file again with --paid: its refunds were paid, and must stay netted".to_string(),
                });
            }
        }
    }
    runs.sort_by(|a, b| (a.entry.sequence, &a.entry.dir).cmp(&(b.entry.sequence, &b.entry.dir)));
    Ok(Some(History { runs, paid_files }))
}

/// What an `overpaid.csv` row is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OverpaidKind {
    Refund,
    BillCorrection,
}

impl OverpaidKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OverpaidKind::Refund => "refund",
            OverpaidKind::BillCorrection => "bill_correction",
        }
    }
}

/// Why an account (or one of its invoices) was paid more than this run finds owed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OverpaidReason {
    /// Still affected, for less than was paid (a data correction, a narrower rule).
    AmountLowered,
    /// Not affected in this run (out of scope now, or nothing to refund).
    NoLongerAffected,
    /// In `review.csv` in this run: what it is owed is not known until it is reviewed.
    InReview,
}

impl OverpaidReason {
    pub fn as_str(self) -> &'static str {
        match self {
            OverpaidReason::AmountLowered => "amount_lowered",
            OverpaidReason::NoLongerAffected => "no_longer_affected",
            OverpaidReason::InReview => "in_review",
        }
    }
}

/// One row of `payouts/overpaid.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverpaidLine {
    pub refund_id: String,
    pub account_id: String,
    pub kind: OverpaidKind,
    /// The invoice, for a bill correction.
    pub billing_month: Option<Month>,
    pub previously_paid: Money,
    pub now_owed: Money,
    pub overpaid: Money,
    pub reason: OverpaidReason,
}

/// The control totals of a supplementary run (in the manifest, where money is in minor units, and
/// the summary).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WaveTotals {
    pub sequence: u32,
    pub previous_runs: u64,
    pub paid_files: u64,
    /// Σ previously_paid over every account paid before or affected now.
    #[serde(serialize_with = "crate::money::as_minor::serialize")]
    pub previously_paid: Money,
    /// Σ now_owed = Σ refund_total.
    #[serde(serialize_with = "crate::money::as_minor::serialize")]
    pub now_owed: Money,
    /// Σ supplement: what this run pays (= Σ of its payout files).
    #[serde(serialize_with = "crate::money::as_minor::serialize")]
    pub supplement: Money,
    pub accounts_supplemented: u64,
    /// Refund rows of overpaid.csv.
    pub overpaid: ChannelTotal,
    /// Σ earlier corrections of unpaid bills.
    #[serde(serialize_with = "crate::money::as_minor::serialize")]
    pub previously_corrected: Money,
    /// Σ corrections sent in this run (bill_corrections.csv).
    #[serde(serialize_with = "crate::money::as_minor::serialize")]
    pub correction_supplement: Money,
    /// Bill-correction rows of overpaid.csv.
    pub overcorrected: ChannelTotal,
    /// Earlier corrections of bills this run finds paid, counted in previously_paid.
    #[serde(serialize_with = "crate::money::as_minor::serialize")]
    pub corrections_credited: Money,
}

/// The outcome of netting a run against its history.
#[derive(Debug)]
pub struct Waves {
    pub history: History,
    pub overpaid: Vec<OverpaidLine>,
    pub totals: WaveTotals,
    /// Accounts listed in an earlier wave's refunds.csv (they had a notice then).
    pub notified_before: BTreeSet<String>,
}

impl Waves {
    /// Whether the account gets a notice in this run: it had none before, or something is added.
    pub fn needs_notice(&self, refund: &AccountRefund, plan: &PayoutPlan) -> bool {
        !self.notified_before.contains(&refund.account_id)
            || refund.supplement.is_positive()
            || plan
                .corrections
                .iter()
                .any(|correction| correction.account_id == refund.account_id)
    }
}

/// What each account was paid before: the earlier waves and the paid files, by account_id.
fn paid_before(
    history: &History,
    incident: &Incident,
    inputs: &[AccountInvoices],
) -> Result<PaidBefore, WaveError> {
    let mut paid = PaidBefore::new();
    let zero = incident.currency.zero();
    let mut add = |account: &str, refund_id: &str, amount: Money| -> Result<(), Overflow> {
        let entry = paid
            .entry(account.to_string())
            .or_insert_with(|| (refund_id.to_string(), zero));
        entry.1 = entry.1.plus(amount, "an account's earlier payments")?;
        Ok(())
    };
    for run in &history.runs {
        for (account, (refund_id, amount)) in &run.accounts {
            if amount.is_positive() {
                add(account, refund_id, *amount)?;
            }
        }
    }
    let needs_ids = history
        .paid_files
        .iter()
        .flat_map(|file| &file.rows)
        .any(|row| row.account_id.is_none());
    let mut by_refund_id: HashMap<String, String> = HashMap::new();
    if needs_ids {
        for run in &history.runs {
            for (account, (refund_id, _)) in &run.accounts {
                by_refund_id.insert(refund_id.clone(), account.clone());
            }
        }
        for input in inputs {
            let account = &input.account.account_id;
            by_refund_id.insert(refund::refund_id(&incident.id, account), account.clone());
        }
    }
    for file in &history.paid_files {
        for row in &file.rows {
            let account = match (&row.account_id, &row.refund_id) {
                (Some(account), Some(id)) => {
                    let expected = refund::refund_id(&incident.id, account);
                    if &expected != id {
                        return Err(WaveError::Bad {
                            file: file.display.clone(),
                            message: format!(
                                "row {}: refund_id `{id}` is not the refund_id of account `{account}` in incident `{}` (that is `{expected}`)",
                                row.row, incident.id
                            ),
                            hint: "check the row: account and refund_id must name the same refund".to_string(),
                        });
                    }
                    account.clone()
                }
                (Some(account), None) => account.clone(),
                (None, Some(id)) => by_refund_id.get(id).cloned().ok_or_else(|| WaveError::Bad {
                    file: file.display.clone(),
                    message: format!(
                        "row {}, column `refund_id`: value `{id}` is not the refund_id of any account in scope of incident `{}` or of an earlier wave",
                        row.row, incident.id
                    ),
                    hint: "refund_ids are per incident; give the account_id instead".to_string(),
                })?,
                (None, None) => continue,
            };
            let refund_id = refund::refund_id(&incident.id, &account);
            add(&account, &refund_id, row.amount)?;
        }
    }
    Ok(paid)
}

/// The parts of an invoice's X and the day each stops earning interest: what each earlier wave
/// refunded of it (beyond the waves before), on that wave's refund date, and the rest on this
/// run's. An invoice no earlier wave refunded is one part.
fn interest_parts(
    history: &History,
    key: &(String, Month),
    excess: Money,
    refund_date: Option<NaiveDate>,
) -> Result<Vec<(Money, Option<NaiveDate>)>, Overflow> {
    let mut parts = Vec::new();
    let mut settled = excess.with_minor(0);
    for run in &history.runs {
        let (Some(&earlier), Some(date)) = (
            run.refunded.get(key),
            run.entry
                .refund_date
                .as_deref()
                .and_then(crate::money::parse_date),
        ) else {
            continue;
        };
        let covered = earlier.min(excess);
        if covered > settled {
            parts.push((
                covered.minus(settled, "an invoice's refunded part")?,
                Some(date),
            ));
            settled = covered;
        }
    }
    if excess > settled {
        parts.push((
            excess.minus(settled, "an invoice's refunded part")?,
            refund_date,
        ));
    }
    Ok(parts)
}

/// Interest on each refunded invoice of the account stops, for the part an earlier wave refunded,
/// at that wave's refund date: money already returned earns nothing more. Each part's interest is
/// computed (and rounded) as for an invoice of that amount; the refund's interest and total follow.
fn settle_interest(
    history: &History,
    incident: &Incident,
    refund_date: Option<NaiveDate>,
    refund: &mut AccountRefund,
) -> Result<(), WaveError> {
    let mut changed = false;
    for invoice in refund
        .invoices
        .iter_mut()
        .filter(|invoice| invoice.is_refunded())
    {
        let Some(paid_on) = invoice.paid_on else {
            continue;
        };
        let key = (refund.account_id.clone(), invoice.billing_month);
        let parts = interest_parts(history, &key, invoice.excess(), refund_date)?;
        if parts.len() == 1 && parts[0].1 == refund_date {
            continue;
        }
        let mut amount = incident.currency.zero();
        let mut last = None;
        let mut segments = Vec::new();
        for (part, date) in parts {
            let interest = crate::interest::compute(part, paid_on, date, &incident.interest)?;
            amount = amount.plus(interest.amount, "an invoice's interest")?;
            segments.extend(interest.segments.iter().copied());
            last = Some(interest);
        }
        if let Some(last) = last {
            invoice.interest = crate::interest::Interest {
                days: last.days,
                rate: last.rate,
                amount,
                segments,
            };
            changed = true;
        }
    }
    if changed {
        let digits = incident.currency.digits;
        refund.refund_interest = Money::sum(
            refund
                .invoices
                .iter()
                .filter(|invoice| invoice.is_refunded())
                .map(|invoice| invoice.interest.amount),
            digits,
            "refund_interest",
        )?;
        refund.refund_total = Money::sum(
            [
                refund.refund_principal,
                refund.refund_tax,
                refund.refund_interest,
            ],
            digits,
            "refund_total",
        )?;
    }
    Ok(())
}

/// What each account was paid before, by account_id: (refund_id, amount).
type PaidBefore = BTreeMap<String, (String, Money)>;

/// Earlier corrections of unpaid bills, by (account_id, billing_month).
type Corrected = BTreeMap<(String, Month), Money>;

/// Σ of every earlier wave's corrections, per invoice.
fn corrected_before(history: &History) -> Result<Corrected, WaveError> {
    let mut corrected = Corrected::new();
    for run in &history.runs {
        for (key, amount) in &run.corrections {
            let entry = corrected.entry(key.clone()).or_insert(amount.with_minor(0));
            *entry = entry.plus(*amount, "earlier corrections")?;
        }
    }
    Ok(corrected)
}

/// An earlier correction of a bill this run finds paid: the customer already had it off the bill,
/// so it counts as paid toward the refund. Returns Σ of what was credited.
fn credit_corrections_since_paid(
    refunds: &[AccountRefund],
    corrected: &mut Corrected,
    paid: &mut PaidBefore,
    currency: Currency,
) -> Result<Money, WaveError> {
    let mut credited = currency.zero();
    for refund in refunds {
        for invoice in refund
            .invoices
            .iter()
            .filter(|invoice| invoice.is_refunded())
        {
            let key = (refund.account_id.clone(), invoice.billing_month);
            let Some(amount) = corrected.remove(&key) else {
                continue;
            };
            let entry = paid
                .entry(refund.account_id.clone())
                .or_insert_with(|| (refund.refund_id.clone(), amount.with_minor(0)));
            entry.1 = entry.1.plus(amount, "an account's earlier payments")?;
            credited = credited.plus(amount, "credited corrections")?;
        }
    }
    Ok(credited)
}

/// Sets each refund's previously_paid, supplement and channel; lists the accounts paid more than
/// they are owed now, and those paid before that this run does not refund (taken out of `paid`).
fn supplement_refunds(
    incident: &Incident,
    inputs: &[AccountInvoices],
    refunds: &mut [AccountRefund],
    paid: &mut PaidBefore,
    reason_for: &dyn Fn(&str) -> OverpaidReason,
) -> Result<Vec<OverpaidLine>, WaveError> {
    let accounts: HashMap<&str, &crate::model::Account> = inputs
        .iter()
        .map(|input| (input.account.account_id.as_str(), &input.account))
        .collect();
    let mut overpaid = Vec::new();
    for refund in refunds.iter_mut() {
        let zero = incident.currency.zero();
        let previously_paid = paid
            .remove(&refund.account_id)
            .map_or(zero, |(_, amount)| amount);
        refund.previously_paid = previously_paid;
        refund.supplement = refund
            .refund_total
            .minus(previously_paid, "a supplement")?
            .max(zero);
        let account = accounts.get(refund.account_id.as_str()).ok_or_else(|| {
            WaveError::Internal(format!(
                "refunded account `{}` has no account row",
                refund.account_id
            ))
        })?;
        let (channel, reason) = crate::payout::payout_channel(incident, account, refund.supplement);
        refund.payout_channel = channel;
        refund.claim_reason = reason;
        if previously_paid > refund.refund_total {
            overpaid.push(OverpaidLine {
                refund_id: refund.refund_id.clone(),
                account_id: refund.account_id.clone(),
                kind: OverpaidKind::Refund,
                billing_month: None,
                previously_paid,
                now_owed: refund.refund_total,
                overpaid: previously_paid.minus(refund.refund_total, "an overpayment")?,
                reason: OverpaidReason::AmountLowered,
            });
        }
    }
    for (account, (refund_id, amount)) in std::mem::take(paid) {
        overpaid.push(OverpaidLine {
            reason: reason_for(&account),
            refund_id,
            account_id: account,
            kind: OverpaidKind::Refund,
            billing_month: None,
            previously_paid: amount,
            now_owed: amount.with_minor(0),
            overpaid: amount,
        });
    }
    Ok(overpaid)
}

/// Keeps of the plan's corrections only what is added to earlier ones, per invoice; lists the
/// earlier corrections this run finds too large or no longer owed.
fn net_corrections(
    incident: &Incident,
    plan: &mut PayoutPlan,
    mut corrected: Corrected,
    reason_for: &dyn Fn(&str) -> OverpaidReason,
) -> Result<Vec<OverpaidLine>, Overflow> {
    let mut overpaid = Vec::new();
    let mut kept = Vec::with_capacity(plan.corrections.len());
    for mut correction in std::mem::take(&mut plan.corrections) {
        let before = corrected
            .remove(&(correction.account_id.clone(), correction.billing_month))
            .unwrap_or(correction.amount.with_minor(0));
        if before > correction.amount {
            overpaid.push(OverpaidLine {
                refund_id: correction.refund_id.clone(),
                account_id: correction.account_id.clone(),
                kind: OverpaidKind::BillCorrection,
                billing_month: Some(correction.billing_month),
                previously_paid: before,
                now_owed: correction.amount,
                overpaid: before.minus(correction.amount, "an overcorrection")?,
                reason: OverpaidReason::AmountLowered,
            });
        }
        correction.amount = correction
            .amount
            .minus(before, "a correction's supplement")?;
        if correction.amount.is_positive() {
            kept.push(correction);
        }
    }
    plan.corrections = kept;
    for ((account, month), amount) in corrected {
        overpaid.push(OverpaidLine {
            refund_id: refund::refund_id(&incident.id, &account),
            reason: reason_for(&account),
            account_id: account,
            kind: OverpaidKind::BillCorrection,
            billing_month: Some(month),
            previously_paid: amount,
            now_owed: amount.with_minor(0),
            overpaid: amount,
        });
    }
    Ok(overpaid)
}

/// The wave's control totals, from what was netted.
fn wave_totals(
    history: &History,
    refunds: &[AccountRefund],
    plan: &PayoutPlan,
    overpaid: &[OverpaidLine],
    previously_corrected: Money,
    corrections_credited: Money,
) -> Result<WaveTotals, WaveError> {
    let digits = previously_corrected.digits();
    let sum = |values: &mut dyn Iterator<Item = Money>, what: &'static str| {
        Money::sum(values, digits, what)
    };
    let rows = |kind: OverpaidKind| overpaid.iter().filter(move |line| line.kind == kind);
    let channel = |kind: OverpaidKind, what: &'static str| -> Result<ChannelTotal, Overflow> {
        Ok(ChannelTotal {
            accounts: rows(kind).count() as u64,
            amount: sum(&mut rows(kind).map(|line| line.overpaid), what)?,
        })
    };
    Ok(WaveTotals {
        sequence: history.sequence(),
        previous_runs: history.runs.len() as u64,
        paid_files: history.paid_files.len() as u64,
        previously_paid: sum(
            &mut refunds.iter().map(|refund| refund.previously_paid).chain(
                rows(OverpaidKind::Refund)
                    .filter(|line| line.reason != OverpaidReason::AmountLowered)
                    .map(|line| line.previously_paid),
            ),
            "previously paid",
        )?,
        now_owed: sum(
            &mut refunds.iter().map(|refund| refund.refund_total),
            "now owed",
        )?,
        supplement: sum(
            &mut refunds.iter().map(|refund| refund.supplement),
            "supplements",
        )?,
        accounts_supplemented: refunds
            .iter()
            .filter(|refund| refund.supplement.is_positive())
            .count() as u64,
        overpaid: channel(OverpaidKind::Refund, "overpaid")?,
        previously_corrected,
        correction_supplement: sum(
            &mut plan.corrections.iter().map(|c| c.amount),
            "corrections",
        )?,
        overcorrected: channel(OverpaidKind::BillCorrection, "overcorrected")?,
        corrections_credited,
    })
}

/// Nets the run against its history: interest on what earlier waves returned stops at their
/// refund dates; each refund's previously_paid, supplement and channel are set; the payout plan of
/// the supplements is built (`plan_of`); the corrections are netted per invoice; what was
/// overpaid is listed.
#[allow(clippy::too_many_arguments)]
pub fn settle(
    history: History,
    incident: &Incident,
    refund_date: Option<NaiveDate>,
    inputs: &[AccountInvoices],
    refunds: &mut [AccountRefund],
    review: &[(String, ReviewReason)],
    plan_of: impl FnOnce(&[AccountRefund]) -> PayoutPlan,
) -> Result<(PayoutPlan, Waves), WaveError> {
    for refund in refunds.iter_mut() {
        settle_interest(&history, incident, refund_date, refund)?;
    }
    let mut paid = paid_before(&history, incident, inputs)?;
    let mut corrected = corrected_before(&history)?;
    let previously_corrected = Money::sum(
        corrected.values().copied(),
        incident.currency.digits,
        "earlier corrections",
    )?;
    let credited =
        credit_corrections_since_paid(refunds, &mut corrected, &mut paid, incident.currency)?;
    let in_review: BTreeSet<&str> = review.iter().map(|(account, _)| account.as_str()).collect();
    let reason_for = |account: &str| {
        if in_review.contains(account) {
            OverpaidReason::InReview
        } else {
            OverpaidReason::NoLongerAffected
        }
    };
    let mut overpaid = supplement_refunds(incident, inputs, refunds, &mut paid, &reason_for)?;
    let mut plan = plan_of(refunds);
    overpaid.extend(net_corrections(
        incident,
        &mut plan,
        corrected,
        &reason_for,
    )?);
    overpaid.sort_by(|a, b| {
        (&a.account_id, a.kind, a.billing_month).cmp(&(&b.account_id, b.kind, b.billing_month))
    });
    let totals = wave_totals(
        &history,
        refunds,
        &plan,
        &overpaid,
        previously_corrected,
        credited,
    )?;
    let notified_before = history
        .runs
        .iter()
        .flat_map(|run| run.accounts.keys().cloned())
        .collect();
    Ok((
        plan,
        Waves {
            history,
            overpaid,
            totals,
            notified_before,
        },
    ))
}
