//! The ledger: who is paid how much through which channel, and the control totals that must
//! reconcile before anything is written (SPEC §5). A mismatch is a bug in redress (exit 70), never
//! something to round away.

use serde::Serialize;

use crate::incident::Incident;
use crate::money::{self, Month, Overflow};
use crate::refund::{AccountRefund, ClaimReason, PayoutChannel};

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
    pub amount: i64,
    pub claim_reason: Option<ClaimReason>,
}

/// A correction of an unpaid bill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    pub refund_id: String,
    pub account_id: String,
    pub billing_month: Month,
    pub amount: i64,
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
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ChannelTotal {
    pub accounts: u64,
    pub amount: i64,
}

/// The control totals, recorded in the manifest and the summary.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ControlTotals {
    pub accounts_affected: u64,
    pub accounts_overbilled: u64,
    pub accounts_underbilled: u64,
    pub accounts_mixed: u64,
    pub accounts_review: u64,
    pub invoices_overbilled: u64,
    pub invoices_underbilled: u64,
    pub refund_principal: i64,
    pub refund_tax: i64,
    pub refund_interest: i64,
    pub refund_total: i64,
    /// Σ (P + T + interest) over paid over-billed invoices.
    pub refunded_invoices_total: i64,
    pub correction_total: i64,
    pub underbilled_total: i64,
    pub bill_credit: ChannelTotal,
    pub bank_transfer: ChannelTotal,
    pub claim: ChannelTotal,
    pub residual: ChannelTotal,
    pub bill_corrections: ChannelTotal,
    /// A supplementary run: what was paid before, what is owed now, what this run pays.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waves: Option<crate::waves::WaveTotals>,
}

fn channel_total(lines: &[PayoutLine]) -> Result<ChannelTotal, Overflow> {
    Ok(ChannelTotal {
        accounts: lines.len() as u64,
        amount: money::checked_sum(
            lines.iter().map(|line| line.amount),
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
    let mut by_account: std::collections::HashMap<&str, (i64, i64)> =
        std::collections::HashMap::with_capacity(refunds.len());
    for line in lines {
        if line.principal.checked_add(line.tax) != Some(line.total) {
            return Err(LedgerError::Mismatch(format!(
                "return invoice of account `{}` at rate {}: principal {} + tax {} ≠ total {}",
                line.account_id, line.tax_rate, line.principal, line.tax, line.total
            )));
        }
        let sums = by_account.entry(line.account_id.as_str()).or_default();
        sums.0 = sums
            .0
            .checked_add(line.principal)
            .ok_or(Overflow("return invoice principal"))?;
        sums.1 = sums
            .1
            .checked_add(line.tax)
            .ok_or(Overflow("return invoice tax"))?;
    }
    for refund in refunds {
        let (principal, tax) = by_account
            .remove(refund.account_id.as_str())
            .unwrap_or_default();
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
    supplements: i64,
    waves: &crate::waves::WaveTotals,
) -> Result<(), LedgerError> {
    let paid_to_date = money::checked_sum(
        [waves.previously_paid, supplements, -waves.overpaid.amount],
        "payments to date",
    )?;
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
    let corrected_to_date = money::checked_sum(
        [
            waves.previously_corrected,
            totals.bill_corrections.amount,
            -waves.overcorrected.amount,
            -waves.corrections_credited,
        ],
        "corrections to date",
    )?;
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
    let parts = money::checked_sum(
        [
            refund.refund_principal,
            refund.refund_tax,
            refund.refund_interest,
        ],
        "an account's refund",
    )?;
    if parts != refund.refund_total {
        return Err(LedgerError::Mismatch(format!(
            "account `{}`: principal + tax + interest = {parts} but refund_total = {}",
            refund.account_id, refund.refund_total
        )));
    }
    if (refund.payout_channel == PayoutChannel::None) != (refund.supplement == 0) {
        return Err(LedgerError::Mismatch(format!(
            "account `{}`: payout channel {} paying {}",
            refund.account_id,
            refund.payout_channel.as_str(),
            refund.supplement
        )));
    }
    let netted = refund
        .previously_paid
        .checked_add(refund.supplement)
        .ok_or(Overflow("an account's payments to date"))?;
    let consistent = match waves {
        None => refund.previously_paid == 0 && refund.supplement == refund.refund_total,
        Some(_) => {
            refund.supplement >= 0
                && (netted == refund.refund_total
                    || (refund.supplement == 0 && refund.previously_paid > refund.refund_total))
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

/// Computes the control totals and checks every identity SPEC §5 requires.
pub fn reconcile(
    refunds: &[AccountRefund],
    plan: &PayoutPlan,
    review_count: u64,
    waves: Option<&crate::waves::WaveTotals>,
) -> Result<ControlTotals, LedgerError> {
    let sum = |values: &mut dyn Iterator<Item = i64>, what: &'static str| {
        money::checked_sum(values, what)
    };
    let mut totals = ControlTotals {
        accounts_affected: refunds.len() as u64,
        accounts_review: review_count,
        ..ControlTotals::default()
    };
    for refund in refunds {
        match refund.class {
            crate::refund::AccountClass::Overbilled => totals.accounts_overbilled += 1,
            crate::refund::AccountClass::Underbilled => totals.accounts_underbilled += 1,
            crate::refund::AccountClass::Mixed => totals.accounts_mixed += 1,
        }
        totals.invoices_overbilled += u64::from(refund.overbilled_invoices);
        totals.invoices_underbilled += u64::from(refund.underbilled_invoices);
        check_account(refund, waves)?;
    }
    totals.refund_principal = sum(
        &mut refunds.iter().map(|r| r.refund_principal),
        "refund_principal",
    )?;
    totals.refund_tax = sum(&mut refunds.iter().map(|r| r.refund_tax), "refund_tax")?;
    totals.refund_interest = sum(
        &mut refunds.iter().map(|r| r.refund_interest),
        "refund_interest",
    )?;
    totals.refund_total = sum(&mut refunds.iter().map(|r| r.refund_total), "refund_total")?;
    totals.correction_total = sum(
        &mut refunds.iter().map(|r| r.correction_total),
        "correction_total",
    )?;
    totals.underbilled_total = sum(
        &mut refunds.iter().map(|r| r.underbilled_total),
        "underbilled_total",
    )?;
    totals.refunded_invoices_total = sum(
        &mut refunds
            .iter()
            .flat_map(|r| r.invoices.iter())
            .filter(|invoice| invoice.is_refunded())
            .map(|invoice| invoice.principal + invoice.tax + invoice.interest.amount),
        "refunded invoices",
    )?;
    totals.bill_credit = channel_total(&plan.bill_credits)?;
    totals.bank_transfer = channel_total(&plan.bank_transfers)?;
    totals.claim = channel_total(&plan.claims)?;
    totals.residual = channel_total(&plan.residual)?;
    totals.bill_corrections = ChannelTotal {
        accounts: plan.corrections.len() as u64,
        amount: sum(
            &mut plan.corrections.iter().map(|c| c.amount),
            "bill corrections",
        )?,
    };
    let payouts = money::checked_sum(
        [
            totals.bill_credit.amount,
            totals.bank_transfer.amount,
            totals.claim.amount,
            totals.residual.amount,
        ],
        "payouts",
    )?;
    if totals.refund_total != totals.refunded_invoices_total {
        return Err(LedgerError::Mismatch(format!(
            "Σ refund_total {} ≠ Σ paid over-billed invoices {}",
            totals.refund_total, totals.refunded_invoices_total
        )));
    }
    let supplements = sum(&mut refunds.iter().map(|r| r.supplement), "supplements")?;
    if supplements != payouts {
        return Err(LedgerError::Mismatch(format!(
            "Σ paid in this run {supplements} ≠ Σ bill credits + transfers + claims + residual {payouts}"
        )));
    }
    match waves {
        None => {
            if totals.correction_total != totals.bill_corrections.amount {
                return Err(LedgerError::Mismatch(format!(
                    "Σ correction_total {} ≠ Σ bill_corrections {}",
                    totals.correction_total, totals.bill_corrections.amount
                )));
            }
        }
        Some(waves) => {
            reconcile_waves(&totals, supplements, waves)?;
            totals.waves = Some(waves.clone());
        }
    }
    Ok(totals)
}
