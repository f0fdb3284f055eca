//! The ledger: who is paid how much through which channel, and the control totals that must
//! reconcile before anything is written (SPEC §5). A mismatch is a bug in redress (exit 70), never
//! something to round away.

#![deny(clippy::arithmetic_side_effects)]

use serde::Serialize;

use crate::incident::Incident;
use crate::money::{self, Currency, Money, Month, Overflow};
use crate::refund::{AccountClass, AccountRefund, ClaimReason, PayoutChannel};

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(
        "control totals do not reconcile: {0}\nThis is a bug in redress; nothing was written. Please report it with the manifest of the inputs."
    )]
    Mismatch(String),
    #[error(transparent)]
    Overflow(#[from] Overflow),
}

/// One payment line: a bill credit, a transfer, a claim or a residual.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutLine {
    pub refund_id: String,
    pub account_id: String,
    pub amount: Money,
    pub claim_reason: Option<ClaimReason>,
}

/// A correction of an unpaid bill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    pub refund_id: String,
    pub account_id: String,
    pub billing_month: Month,
    pub amount: Money,
}

/// Every payment and correction, by channel, in account_id order.
#[derive(Debug, Default)]
pub struct PayoutPlan {
    pub bill_credits: Vec<PayoutLine>,
    pub bank_transfers: Vec<PayoutLine>,
    pub claims: Vec<PayoutLine>,
    pub residual: Vec<PayoutLine>,
    pub corrections: Vec<Correction>,
    /// The invoice month credits are applied to; `None` when neither `payout.bill_credit_month` nor a
    /// refund date is known.
    pub bill_credit_month: Option<Month>,
}

impl PayoutPlan {
    pub fn new(
        refunds: &[AccountRefund],
        incident: &Incident,
        refund_date: Option<chrono::NaiveDate>,
    ) -> PayoutPlan {
        let mut plan = PayoutPlan {
            bill_credit_month: incident
                .payout
                .bill_credit_month
                .or(refund_date.map(Month::of_date)),
            ..PayoutPlan::default()
        };
        for refund in refunds {
            let line = PayoutLine {
                refund_id: refund.refund_id.clone(),
                account_id: refund.account_id.clone(),
                amount: refund.supplement,
                claim_reason: refund.claim_reason,
            };
            match refund.payout_channel {
                PayoutChannel::BillCredit => plan.bill_credits.push(line),
                PayoutChannel::BankTransfer => plan.bank_transfers.push(line),
                PayoutChannel::Claim => plan.claims.push(line),
                PayoutChannel::Residual => plan.residual.push(line),
                PayoutChannel::None => {}
            }
            for invoice in refund
                .invoices
                .iter()
                .filter(|invoice| invoice.is_correction())
            {
                plan.corrections.push(Correction {
                    refund_id: refund.refund_id.clone(),
                    account_id: refund.account_id.clone(),
                    billing_month: invoice.billing_month,
                    amount: invoice.excess(),
                });
            }
        }
        plan
    }
}

/// Totals of one channel.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChannelTotal {
    pub accounts: u64,
    /// Minor units in the manifest, as it has always recorded them.
    #[serde(serialize_with = "money::as_minor::serialize")]
    pub amount: Money,
}

impl ChannelTotal {
    /// No account, nothing paid.
    pub fn none(currency: Currency) -> ChannelTotal {
        ChannelTotal {
            accounts: 0,
            amount: currency.zero(),
        }
    }
}

/// The control totals, recorded in the manifest (money in minor units) and the summary.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ControlTotals {
    pub accounts_affected: u64,
    pub accounts_overbilled: u64,
    pub accounts_underbilled: u64,
    pub accounts_mixed: u64,
    pub accounts_review: u64,
    pub invoices_overbilled: u64,
    pub invoices_underbilled: u64,
    #[serde(serialize_with = "money::as_minor::serialize")]
    pub refund_principal: Money,
    #[serde(serialize_with = "money::as_minor::serialize")]
    pub refund_tax: Money,
    #[serde(serialize_with = "money::as_minor::serialize")]
    pub refund_interest: Money,
    #[serde(serialize_with = "money::as_minor::serialize")]
    pub refund_total: Money,
    /// Σ (P + T + interest) over paid over-billed invoices.
    #[serde(serialize_with = "money::as_minor::serialize")]
    pub refunded_invoices_total: Money,
    #[serde(serialize_with = "money::as_minor::serialize")]
    pub correction_total: Money,
    #[serde(serialize_with = "money::as_minor::serialize")]
    pub underbilled_total: Money,
    pub bill_credit: ChannelTotal,
    pub bank_transfer: ChannelTotal,
    pub claim: ChannelTotal,
    pub residual: ChannelTotal,
    pub bill_corrections: ChannelTotal,
    /// A supplementary run: what was paid before, what is owed now, what this run pays.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waves: Option<crate::waves::WaveTotals>,
}

fn channel_total(lines: &[PayoutLine], currency: Currency) -> Result<ChannelTotal, Overflow> {
    Ok(ChannelTotal {
        accounts: lines.len() as u64,
        amount: Money::sum(
            lines.iter().map(|line| line.amount),
            currency.digits,
            "a payout channel total",
        )?,
    })
}

/// The return-invoice lines against the refunds: per account, Σ principal = refund_principal,
/// Σ tax = refund_tax, and each line's total = principal + tax.
pub fn reconcile_returns(
    refunds: &[AccountRefund],
    lines: &[crate::return_invoice::ReturnLine],
) -> Result<(), LedgerError> {
    let mut by_account: std::collections::HashMap<&str, (Money, Money)> =
        std::collections::HashMap::with_capacity(refunds.len());
    for line in lines {
        if line.principal.checked_add(line.tax) != Some(line.total) {
            return Err(LedgerError::Mismatch(format!(
                "return invoice of account `{}` at rate {}: principal {} + tax {} ≠ total {}",
                line.account_id, line.tax_rate, line.principal, line.tax, line.total
            )));
        }
        let zero = line.total.with_minor(0);
        let sums = by_account
            .entry(line.account_id.as_str())
            .or_insert((zero, zero));
        sums.0 = sums.0.plus(line.principal, "return invoice principal")?;
        sums.1 = sums.1.plus(line.tax, "return invoice tax")?;
    }
    for refund in refunds {
        let zero = refund.refund_total.with_minor(0);
        let (principal, tax) = by_account
            .remove(refund.account_id.as_str())
            .unwrap_or((zero, zero));
        if (principal, tax) != (refund.refund_principal, refund.refund_tax) {
            return Err(LedgerError::Mismatch(format!(
                "account `{}`: return invoices state principal {principal} and tax {tax}, refunds.csv {} and {}",
                refund.account_id, refund.refund_principal, refund.refund_tax
            )));
        }
    }
    if let Some(account) = by_account.keys().next() {
        return Err(LedgerError::Mismatch(format!(
            "return invoices name account `{account}`, which has no refund"
        )));
    }
    Ok(())
}

/// The identities of a supplementary run: Σ previously_paid + Σ supplement − Σ overpaid =
/// Σ now_owed (= Σ refund_total), and the same per invoice for corrections of unpaid bills
/// (earlier corrections of bills now paid count as paid toward the refund).
fn reconcile_waves(
    totals: &ControlTotals,
    supplements: Money,
    waves: &crate::waves::WaveTotals,
) -> Result<(), LedgerError> {
    let paid_to_date = waves
        .previously_paid
        .plus(supplements, "payments to date")?
        .minus(waves.overpaid.amount, "payments to date")?;
    if waves.now_owed != totals.refund_total || paid_to_date != waves.now_owed {
        return Err(LedgerError::Mismatch(format!(
            "Σ previously_paid {} + Σ supplement {supplements} − Σ overpaid {} = {paid_to_date} ≠ Σ now_owed {} (Σ refund_total {})",
            waves.previously_paid, waves.overpaid.amount, waves.now_owed, totals.refund_total
        )));
    }
    if waves.supplement != supplements {
        return Err(LedgerError::Mismatch(format!(
            "Σ supplement {} recorded, {supplements} paid",
            waves.supplement
        )));
    }
    let corrected_to_date = waves
        .previously_corrected
        .plus(totals.bill_corrections.amount, "corrections to date")?
        .minus(waves.overcorrected.amount, "corrections to date")?
        .minus(waves.corrections_credited, "corrections to date")?;
    if corrected_to_date != totals.correction_total
        || waves.correction_supplement != totals.bill_corrections.amount
    {
        return Err(LedgerError::Mismatch(format!(
            "Σ earlier corrections {} + Σ bill_corrections {} − Σ overcorrected {} − Σ credited to refunds {} = {corrected_to_date} ≠ Σ correction_total {}",
            waves.previously_corrected,
            totals.bill_corrections.amount,
            waves.overcorrected.amount,
            waves.corrections_credited,
            totals.correction_total
        )));
    }
    Ok(())
}

/// One account's own identities: principal + tax + interest = refund_total; a channel exactly
/// when something is paid; what is paid settles what is owed (or was overpaid before).
fn check_account(
    refund: &AccountRefund,
    waves: Option<&crate::waves::WaveTotals>,
) -> Result<(), LedgerError> {
    let parts = refund
        .refund_principal
        .plus(refund.refund_tax, "an account's refund")?
        .plus(refund.refund_interest, "an account's refund")?;
    if parts != refund.refund_total {
        return Err(LedgerError::Mismatch(format!(
            "account `{}`: principal + tax + interest = {parts} but refund_total = {}",
            refund.account_id, refund.refund_total
        )));
    }
    if (refund.payout_channel == PayoutChannel::None) != refund.supplement.is_zero() {
        return Err(LedgerError::Mismatch(format!(
            "account `{}`: payout channel {} paying {}",
            refund.account_id,
            refund.payout_channel.as_str(),
            refund.supplement
        )));
    }
    let netted = refund
        .previously_paid
        .plus(refund.supplement, "an account's payments to date")?;
    let consistent = match waves {
        None => refund.previously_paid.is_zero() && refund.supplement == refund.refund_total,
        Some(_) => {
            !refund.supplement.is_negative()
                && (netted == refund.refund_total
                    || (refund.supplement.is_zero()
                        && refund.previously_paid > refund.refund_total))
        }
    };
    if !consistent {
        return Err(LedgerError::Mismatch(format!(
            "account `{}`: previously paid {} + supplement {} does not settle refund_total {}",
            refund.account_id, refund.previously_paid, refund.supplement, refund.refund_total
        )));
    }
    Ok(())
}

/// Σ refund_total = Σ paid over-billed invoices; what this run pays (`supplements`) = Σ of the
/// payout channels.
fn check_totals(
    totals: &ControlTotals,
    supplements: Money,
    currency: Currency,
) -> Result<(), LedgerError> {
    let payouts = Money::sum(
        [
            totals.bill_credit.amount,
            totals.bank_transfer.amount,
            totals.claim.amount,
            totals.residual.amount,
        ],
        currency.digits,
        "payouts",
    )?;
    if totals.refund_total != totals.refunded_invoices_total {
        return Err(LedgerError::Mismatch(format!(
            "Σ refund_total {} ≠ Σ paid over-billed invoices {}",
            totals.refund_total, totals.refunded_invoices_total
        )));
    }
    if supplements != payouts {
        return Err(LedgerError::Mismatch(format!(
            "Σ paid in this run {supplements} ≠ Σ bill credits + transfers + claims + residual {payouts}"
        )));
    }
    Ok(())
}

/// Computes the control totals and checks every identity SPEC §5 requires.
pub fn reconcile(
    refunds: &[AccountRefund],
    plan: &PayoutPlan,
    review_count: u64,
    waves: Option<&crate::waves::WaveTotals>,
    currency: Currency,
) -> Result<ControlTotals, LedgerError> {
    let sum = |values: &mut dyn Iterator<Item = Money>, what: &'static str| {
        Money::sum(values, currency.digits, what)
    };
    for refund in refunds {
        check_account(refund, waves)?;
    }
    let accounts = |class: AccountClass| {
        refunds
            .iter()
            .filter(|refund| refund.class == class)
            .count() as u64
    };
    let invoices = |count: fn(&AccountRefund) -> u32| {
        refunds
            .iter()
            .map(|refund| u64::from(count(refund)))
            .fold(0, u64::saturating_add)
    };
    let refunded_invoices = refunds
        .iter()
        .flat_map(|r| r.invoices.iter())
        .filter(|invoice| invoice.is_refunded())
        .try_fold(currency.zero(), |total, invoice| {
            total
                .plus(invoice.excess(), "refunded invoices")?
                .plus(invoice.interest.amount, "refunded invoices")
        })?;
    let mut totals = ControlTotals {
        accounts_affected: refunds.len() as u64,
        accounts_overbilled: accounts(AccountClass::Overbilled),
        accounts_underbilled: accounts(AccountClass::Underbilled),
        accounts_mixed: accounts(AccountClass::Mixed),
        accounts_review: review_count,
        invoices_overbilled: invoices(|refund| refund.overbilled_invoices),
        invoices_underbilled: invoices(|refund| refund.underbilled_invoices),
        refund_principal: sum(
            &mut refunds.iter().map(|r| r.refund_principal),
            "refund_principal",
        )?,
        refund_tax: sum(&mut refunds.iter().map(|r| r.refund_tax), "refund_tax")?,
        refund_interest: sum(
            &mut refunds.iter().map(|r| r.refund_interest),
            "refund_interest",
        )?,
        refund_total: sum(&mut refunds.iter().map(|r| r.refund_total), "refund_total")?,
        refunded_invoices_total: refunded_invoices,
        correction_total: sum(
            &mut refunds.iter().map(|r| r.correction_total),
            "correction_total",
        )?,
        underbilled_total: sum(
            &mut refunds.iter().map(|r| r.underbilled_total),
            "underbilled_total",
        )?,
        bill_credit: channel_total(&plan.bill_credits, currency)?,
        bank_transfer: channel_total(&plan.bank_transfers, currency)?,
        claim: channel_total(&plan.claims, currency)?,
        residual: channel_total(&plan.residual, currency)?,
        bill_corrections: ChannelTotal {
            accounts: plan.corrections.len() as u64,
            amount: sum(
                &mut plan.corrections.iter().map(|c| c.amount),
                "bill corrections",
            )?,
        },
        waves: None,
    };
    let supplements = sum(&mut refunds.iter().map(|r| r.supplement), "supplements")?;
    check_totals(&totals, supplements, currency)?;
    if let Some(waves) = waves {
        reconcile_waves(&totals, supplements, waves)?;
        totals.waves = Some(waves.clone());
    } else if totals.correction_total != totals.bill_corrections.amount {
        return Err(LedgerError::Mismatch(format!(
            "Σ correction_total {} ≠ Σ bill_corrections {}",
            totals.correction_total, totals.bill_corrections.amount
        )));
    }
    Ok(totals)
}
