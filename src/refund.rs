//! The refund arithmetic (SPEC §4) for one account: should/diff per row from the rule, tax per
//! invoice per rate, interest on paid over-billed invoices, the account's totals, class, payout
//! channel and refund_id. Pure Rust over typed values; safe to run in parallel per account.

#![deny(clippy::arithmetic_side_effects)]

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use crate::identify::IdentifyError;
use crate::incident::Incident;
use crate::interest::{self, Interest, InterestError};
use crate::model::{Account, AccountInput, AccountInvoices, ChargeRow, InvoiceInput, Status};
use crate::money::{Money, Month, Overflow};

#[derive(Debug, thiserror::Error)]
pub enum ComputeError {
    #[error(transparent)]
    Identify(#[from] IdentifyError),
    #[error(transparent)]
    Interest(#[from] InterestError),
    #[error(transparent)]
    Overflow(#[from] Overflow),
    /// Where a computation failed: the account, and the invoice when known.
    #[error("account `{account_id}`{}: {source}", billing_month.map(|month| format!(", invoice {month}")).unwrap_or_default())]
    At {
        account_id: String,
        billing_month: Option<Month>,
        source: Box<ComputeError>,
    },
}

impl ComputeError {
    /// The error without its location.
    pub fn cause(&self) -> &ComputeError {
        match self {
            ComputeError::At { source, .. } => source.cause(),
            other => other,
        }
    }

    fn at(self, account_id: &str, billing_month: Option<Month>) -> ComputeError {
        ComputeError::At {
            account_id: account_id.to_string(),
            billing_month,
            source: Box::new(self),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountClass {
    Overbilled,
    Underbilled,
    Mixed,
}

impl AccountClass {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountClass::Overbilled => "overbilled",
            AccountClass::Underbilled => "underbilled",
            AccountClass::Mixed => "mixed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceClass {
    Overbilled,
    Underbilled,
}

impl InvoiceClass {
    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceClass::Overbilled => "overbilled",
            InvoiceClass::Underbilled => "underbilled",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PayoutChannel {
    BillCredit,
    BankTransfer,
    Claim,
    Residual,
    None,
}

impl PayoutChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            PayoutChannel::BillCredit => "bill_credit",
            PayoutChannel::BankTransfer => "bank_transfer",
            PayoutChannel::Claim => "claim",
            PayoutChannel::Residual => "residual",
            PayoutChannel::None => "none",
        }
    }

    pub const ALL: [PayoutChannel; 5] = [
        PayoutChannel::BillCredit,
        PayoutChannel::BankTransfer,
        PayoutChannel::Claim,
        PayoutChannel::Residual,
        PayoutChannel::None,
    ];
}

/// Why a payout became a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimReason {
    /// `payout.closed = "claim"`.
    ClosedAccountPolicy,
    /// Closed before `payout.claim_if_closed_before`.
    ClosedBeforeCutoff,
    /// Bank details missing or malformed.
    IncompleteBankDetails,
    /// Larger than a Zengin transfer record can carry (10 digits).
    AmountExceedsTransferLimit,
}

impl ClaimReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimReason::ClosedAccountPolicy => "closed_account_policy",
            ClaimReason::ClosedBeforeCutoff => "closed_before_cutoff",
            ClaimReason::IncompleteBankDetails => "incomplete_bank_details",
            ClaimReason::AmountExceedsTransferLimit => "amount_exceeds_transfer_limit",
        }
    }
}

/// One row's should and diff, kept for `explain`.
#[derive(Debug, Clone, PartialEq)]
pub struct RowTrace {
    pub row: ChargeRow,
    pub should: Money,
    pub diff: Money,
}

/// One tax group of an invoice.
#[derive(Debug, Clone, PartialEq)]
pub struct TaxGroup {
    pub tax_rate: Decimal,
    /// B: Σ amount of all rows.
    pub billed: Money,
    /// D: Σ diff.
    pub diff: Money,
    /// S = B − D.
    pub should: Money,
    /// R(B × rate).
    pub tax_charged: Money,
    /// R(S × rate).
    pub tax_should: Money,
    /// tax_charged − tax_should.
    pub tax_diff: Money,
    pub untouched_rows: u64,
}

/// An affected invoice (X ≠ 0).
#[derive(Debug, Clone, PartialEq)]
pub struct Invoice {
    pub billing_month: Month,
    pub class: InvoiceClass,
    /// P = Σ D over the tax groups.
    pub principal: Money,
    /// T = Σ tax_diff over the tax groups.
    pub tax: Money,
    /// X = P + T.
    pub excess: Money,
    pub paid_on: Option<NaiveDate>,
    pub interest: Interest,
    pub groups: Vec<TaxGroup>,
}

impl Invoice {
    /// X = P + T. Computed with checked arithmetic when the invoice is built, so it fits.
    pub fn excess(&self) -> Money {
        self.excess
    }

    pub fn is_refunded(&self) -> bool {
        self.class == InvoiceClass::Overbilled && self.paid_on.is_some()
    }

    pub fn is_correction(&self) -> bool {
        self.class == InvoiceClass::Overbilled && self.paid_on.is_none()
    }
}

/// An affected account and what it is owed.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountRefund {
    pub account_id: String,
    pub class: AccountClass,
    pub refund_principal: Money,
    pub refund_tax: Money,
    pub refund_interest: Money,
    pub refund_total: Money,
    pub correction_total: Money,
    pub underbilled_total: Money,
    pub overbilled_invoices: u32,
    pub underbilled_invoices: u32,
    pub first_billing_month: Month,
    pub last_billing_month: Month,
    /// The channel of what this run pays (the supplement).
    pub payout_channel: PayoutChannel,
    pub claim_reason: Option<ClaimReason>,
    /// What earlier waves and refunds paid outside redress paid (0 in a first run).
    pub previously_paid: Money,
    /// What this run pays: refund_total − previously_paid when positive (= refund_total in a
    /// first run).
    pub supplement: Money,
    pub refund_id: String,
    pub region: Option<String>,
    pub plan: Option<String>,
    pub status: Status,
    pub invoices: Vec<Invoice>,
}

/// What computing one in-scope account produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Affected(Box<AccountRefund>),
    NotAffected,
}

/// `refund_id`: first 16 hex digits of SHA-256 of `"{incident.id}:{account_id}"`.
pub fn refund_id(incident_id: &str, account_id: &str) -> String {
    let digest = Sha256::digest(format!("{incident_id}:{account_id}").as_bytes());
    crate::incident::hex(&digest[..8])
}

/// Computes one account given as rows and events: the same polars plan and sums as a run, then
/// the money policy (scenario tests and single-account checks).
pub fn compute(
    incident: &Incident,
    refund_date: Option<NaiveDate>,
    input: &AccountInput,
) -> Result<Outcome, ComputeError> {
    let invoices = crate::identify::account_groups(incident, input)?;
    compute_invoices(incident, refund_date, &invoices)
}

/// Computes one account from its invoices' tax groups.
pub fn compute_invoices(
    incident: &Incident,
    refund_date: Option<NaiveDate>,
    input: &AccountInvoices,
) -> Result<Outcome, ComputeError> {
    Ok(trace(incident, refund_date, input)?.1)
}

/// Computes one account keeping every invoice, affected or not, with its tax groups.
pub fn trace(
    incident: &Incident,
    refund_date: Option<NaiveDate>,
    input: &AccountInvoices,
) -> Result<(Vec<Invoice>, Outcome), ComputeError> {
    let account_id = &input.account.account_id;
    let mut invoices = Vec::with_capacity(input.invoices.len());
    for invoice in &input.invoices {
        invoices.push(
            self::invoice(incident, refund_date, invoice)
                .map_err(|error| error.at(account_id, Some(invoice.billing_month)))?,
        );
    }
    let outcome = summarize(incident, &input.account, &invoices)
        .map_err(|error| error.at(account_id, None))?;
    Ok((invoices, outcome))
}

/// Tax per group, P, T, X, class and interest of one invoice (SPEC §4).
fn invoice(
    incident: &Incident,
    refund_date: Option<NaiveDate>,
    input: &InvoiceInput,
) -> Result<Invoice, ComputeError> {
    let digits = incident.currency.digits;
    let mut groups = Vec::with_capacity(input.groups.len());
    for group in &input.groups {
        let billed = group.billed;
        let diff = group.diff;
        let should = billed.minus(diff, "a tax group's should")?;
        let tax_charged = billed.mul_rate(group.tax_rate, incident.tax_rounding, "tax charged")?;
        let tax_should = should.mul_rate(
            group.tax_rate,
            incident.tax_rounding,
            "tax that should have been charged",
        )?;
        groups.push(TaxGroup {
            tax_rate: group.tax_rate,
            billed,
            diff,
            should,
            tax_charged,
            tax_should,
            tax_diff: tax_charged.minus(tax_should, "a tax difference")?,
            untouched_rows: group.untouched_rows,
        });
    }
    let principal = Money::sum(
        groups.iter().map(|group| group.diff),
        digits,
        "an invoice's principal",
    )?;
    let tax = Money::sum(
        groups.iter().map(|group| group.tax_diff),
        digits,
        "an invoice's tax",
    )?;
    let excess = principal.plus(tax, "an invoice's excess")?;
    let class = if excess.is_negative() {
        InvoiceClass::Underbilled
    } else {
        InvoiceClass::Overbilled
    };
    let interest = match (excess.is_positive(), input.paid_on) {
        (true, Some(paid_on)) => {
            interest::compute(excess, paid_on, refund_date, &incident.interest)?
        }
        _ => Interest::none(0, digits),
    };
    Ok(Invoice {
        billing_month: input.billing_month,
        class,
        principal,
        tax,
        excess,
        paid_on: input.paid_on,
        interest,
        groups,
    })
}

fn summarize(
    incident: &Incident,
    account: &Account,
    all_invoices: &[Invoice],
) -> Result<Outcome, ComputeError> {
    let affected: Vec<Invoice> = all_invoices
        .iter()
        .filter(|invoice| !invoice.excess().is_zero())
        .cloned()
        .collect();
    if affected.is_empty() {
        return Ok(Outcome::NotAffected);
    }
    let digits = incident.currency.digits;
    let refunded = || affected.iter().filter(|invoice| invoice.is_refunded());
    let refund_principal = Money::sum(
        refunded().map(|invoice| invoice.principal),
        digits,
        "refund_principal",
    )?;
    let refund_tax = Money::sum(refunded().map(|invoice| invoice.tax), digits, "refund_tax")?;
    let refund_interest = Money::sum(
        refunded().map(|invoice| invoice.interest.amount),
        digits,
        "refund_interest",
    )?;
    let refund_total = Money::sum(
        [refund_principal, refund_tax, refund_interest],
        digits,
        "refund_total",
    )?;
    let correction_total = Money::sum(
        affected
            .iter()
            .filter(|invoice| invoice.is_correction())
            .map(Invoice::excess),
        digits,
        "correction_total",
    )?;
    let underbilled = affected
        .iter()
        .filter(|invoice| invoice.class == InvoiceClass::Underbilled)
        .map(|invoice| invoice.excess().negated("underbilled_total"))
        .collect::<Result<Vec<_>, _>>()?;
    let underbilled_total = Money::sum(underbilled, digits, "underbilled_total")?;
    let over = refund_total.plus(correction_total, "an account's over-billing")?;
    let class = match (over.is_positive(), underbilled_total.is_positive()) {
        (true, false) => AccountClass::Overbilled,
        (false, true) => AccountClass::Underbilled,
        (true, true) => AccountClass::Mixed,
        (false, false) => return Ok(Outcome::NotAffected),
    };
    let (payout_channel, claim_reason) =
        crate::payout::payout_channel(incident, account, refund_total);
    Ok(Outcome::Affected(Box::new(AccountRefund {
        account_id: account.account_id.clone(),
        class,
        refund_principal,
        refund_tax,
        refund_interest,
        refund_total,
        correction_total,
        underbilled_total,
        overbilled_invoices: affected
            .iter()
            .filter(|invoice| invoice.class == InvoiceClass::Overbilled)
            .count() as u32,
        underbilled_invoices: affected
            .iter()
            .filter(|invoice| invoice.class == InvoiceClass::Underbilled)
            .count() as u32,
        first_billing_month: affected
            .iter()
            .map(|invoice| invoice.billing_month)
            .min()
            .unwrap_or(Month::from_index(0)),
        last_billing_month: affected
            .iter()
            .map(|invoice| invoice.billing_month)
            .max()
            .unwrap_or(Month::from_index(0)),
        payout_channel,
        claim_reason,
        previously_paid: incident.currency.zero(),
        supplement: refund_total,
        refund_id: refund_id(&incident.id, &account.account_id),
        region: account.region.clone(),
        plan: account.plan.clone(),
        status: account.status,
        invoices: affected,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refund_id_is_stable() {
        // sha256("ntt-2001-myline:A1") — computed independently with `printf %s ntt-2001-myline:A1 | sha256sum`.
        let id = refund_id("ntt-2001-myline", "A1");
        assert_eq!(id, "6bc2e824a1b00042");
        assert_ne!(id, refund_id("ntt-2001-myline", "A2"));
    }

    #[test]
    fn errors_name_their_account_and_invoice() {
        let error =
            ComputeError::Interest(InterestError::Overflow(4095)).at("A1", Month::parse("2009-03"));
        assert_eq!(
            error.to_string(),
            "account `A1`, invoice 2009-03: interest overflows for an invoice of 4095 minor units"
        );
        assert!(matches!(
            error.cause(),
            ComputeError::Interest(InterestError::Overflow(4095))
        ));
    }
}
