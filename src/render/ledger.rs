//! The ledger files for the incident team and finance: refunds, invoices and return invoices (CSV
//! and Parquet, from the same row types), the payout CSVs, review and rejects.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::error::RunError;
use crate::incident::Incident;
use crate::ledger::{PayoutLine, PayoutPlan};
use crate::load::RowProblem;
use crate::model::Account;
use crate::money::{Currency, format_rate};
use crate::output::OutputFiles;
use crate::refund::{AccountRefund, Invoice};
use crate::return_invoice::{self, ReturnLine};
use crate::rules::ReviewReason;
use crate::waves::{OverpaidLine, Waves};

use super::tables::{
    BankTransferRow, BillCorrectionRow, BillCreditRow, ClaimRow, InvoiceRow, OverpaidRow, Rate,
    RefundRow, RejectRow, ResidualRow, ReturnInvoiceRow, ReviewRow, SequenceRow, TableError,
    WaveRefundRow, csv_bytes, joined, parquet_bytes,
};

/// What the ledger files are made of.
pub struct Ledger<'a> {
    pub refunds: &'a [AccountRefund],
    pub plan: &'a PayoutPlan,
    pub review: &'a [(String, ReviewReason)],
    /// `--on-bad-rows reject`: the rows set aside.
    pub rejects: Option<&'a [RowProblem]>,
    pub returns: &'a [ReturnLine],
    pub policy: &'a return_invoice::Policy,
    pub currency: Currency,
    /// A supplementary run.
    pub waves: Option<&'a Waves>,
}

/// refunds.csv, invoices.csv, return_invoices.csv and their Parquet twins, payouts CSVs,
/// review.csv, rejects.csv; in a supplementary run also payouts/overpaid.csv.
pub fn render(files: &mut OutputFiles, ledger: &Ledger) -> Result<(), TableError> {
    let digits = ledger.currency.digits;
    refunds(files, ledger.refunds, ledger.waves.is_some(), digits)?;
    let invoices = invoice_rows(ledger.refunds);
    files.add(
        "invoices.csv",
        csv_bytes("invoices.csv", InvoiceRow::COLUMNS, &invoices)?,
    );
    files.add(
        "invoices.parquet",
        parquet_bytes(
            "invoices.parquet",
            InvoiceRow::parquet_columns(&invoices, digits),
        )?,
    );
    let returns: Vec<ReturnInvoiceRow> = ledger.returns.iter().map(return_row).collect();
    files.add(
        "return_invoices.csv",
        csv_bytes("return_invoices.csv", ReturnInvoiceRow::COLUMNS, &returns)?,
    );
    files.add(
        "return_invoices.parquet",
        parquet_bytes(
            "return_invoices.parquet",
            ReturnInvoiceRow::parquet_columns(&returns, digits),
        )?,
    );
    payout_files(files, ledger)?;
    if let Some(waves) = ledger.waves {
        let rows = waves.overpaid.iter().map(overpaid_row);
        files.add(
            "payouts/overpaid.csv",
            csv_bytes("payouts/overpaid.csv", OverpaidRow::COLUMNS, rows)?,
        );
    }
    let review = ledger.review.iter().map(|(account_id, reason)| ReviewRow {
        account_id,
        reason: reason.code(),
    });
    files.add(
        "review.csv",
        csv_bytes("review.csv", ReviewRow::COLUMNS, review)?,
    );
    if let Some(rejects) = ledger.rejects {
        let rows = rejects.iter().map(|problem| RejectRow {
            file: &problem.file,
            row: problem.row,
            column: &problem.column,
            value: problem.value.as_deref(),
            reason: &problem.reason,
            message: &problem.message,
        });
        files.add(
            "rejects.csv",
            csv_bytes("rejects.csv", RejectRow::COLUMNS, rows)?,
        );
    }
    Ok(())
}

/// refunds.csv and refunds.parquet; a supplementary run appends its wave columns.
fn refunds(
    files: &mut OutputFiles,
    refunds: &[AccountRefund],
    waves: bool,
    digits: u32,
) -> Result<(), TableError> {
    let rows: Vec<RefundRow> = refunds.iter().map(refund_row).collect();
    let mut columns = RefundRow::parquet_columns(&rows, digits);
    let csv = if waves {
        let wave_rows: Vec<WaveRefundRow> = refunds
            .iter()
            .map(|refund| WaveRefundRow {
                previously_paid: refund.previously_paid,
                now_owed: refund.refund_total,
                supplement: refund.supplement,
            })
            .collect();
        columns = columns.and_then(|mut columns| {
            columns.extend(WaveRefundRow::parquet_columns(&wave_rows, digits)?);
            Ok(columns)
        });
        csv_bytes(
            "refunds.csv",
            &joined(&[RefundRow::COLUMNS, WaveRefundRow::COLUMNS]),
            rows.iter().zip(&wave_rows),
        )?
    } else {
        csv_bytes("refunds.csv", RefundRow::COLUMNS, &rows)?
    };
    files.add("refunds.csv", csv);
    files.add(
        "refunds.parquet",
        parquet_bytes("refunds.parquet", columns)?,
    );
    Ok(())
}

fn refund_row(refund: &AccountRefund) -> RefundRow<'_> {
    RefundRow {
        account_id: &refund.account_id,
        class: refund.class.as_str(),
        refund_principal: refund.refund_principal,
        refund_tax: refund.refund_tax,
        refund_interest: refund.refund_interest,
        refund_total: refund.refund_total,
        correction_total: refund.correction_total,
        underbilled_total: refund.underbilled_total,
        overbilled_invoices: refund.overbilled_invoices,
        underbilled_invoices: refund.underbilled_invoices,
        first_billing_month: refund.first_billing_month,
        last_billing_month: refund.last_billing_month,
        payout_channel: refund.payout_channel.as_str(),
        refund_id: &refund.refund_id,
        region: refund.region.as_deref(),
        plan: refund.plan.as_deref(),
        status: refund.status.as_str(),
    }
}

fn invoice_rows(refunds: &[AccountRefund]) -> Vec<InvoiceRow<'_>> {
    refunds
        .iter()
        .flat_map(|refund| {
            refund.invoices.iter().map(|invoice| InvoiceRow {
                account_id: &refund.account_id,
                billing_month: invoice.billing_month,
                class: invoice.class.as_str(),
                principal: invoice.principal,
                tax: invoice.tax,
                paid_on: invoice.paid_on,
                interest_days: invoice.interest.days,
                interest_rate: Some(interest_rate(invoice)).filter(|rate| !rate.is_empty()),
                interest: invoice.interest.amount,
            })
        })
        .collect()
}

fn return_row(line: &ReturnLine) -> ReturnInvoiceRow<'_> {
    ReturnInvoiceRow {
        refund_id: &line.refund_id,
        account_id: &line.account_id,
        tax_rate: Rate(line.tax_rate),
        principal: line.principal,
        tax: line.tax,
        total: line.total,
        sales_from: line.sales_from,
        sales_to: line.sales_to,
        refund_date: line.refund_date,
        required: line.required,
    }
}

fn overpaid_row(line: &OverpaidLine) -> OverpaidRow<'_> {
    OverpaidRow {
        refund_id: &line.refund_id,
        account_id: &line.account_id,
        kind: line.kind.as_str(),
        billing_month: line.billing_month,
        previously_paid: line.previously_paid,
        now_owed: line.now_owed,
        overpaid: line.overpaid,
        reason: line.reason.as_str(),
    }
}

/// A payout file: its rows, each followed in a supplementary run by the run's sequence number.
pub fn payout_csv<R: serde::Serialize>(
    file: &'static str,
    columns: &[&'static str],
    rows: impl IntoIterator<Item = R>,
    sequence: Option<u32>,
) -> Result<Vec<u8>, TableError> {
    match sequence {
        None => csv_bytes(file, columns, rows),
        Some(supplement_sequence) => csv_bytes(
            file,
            &joined(&[columns, SequenceRow::COLUMNS]),
            rows.into_iter().map(|row| {
                (
                    row,
                    SequenceRow {
                        supplement_sequence,
                    },
                )
            }),
        ),
    }
}

/// bill_credits, claims, residual and bill_corrections (bank transfers are written with the
/// Zengin file); in a supplementary run each row carries the run's sequence number.
fn payout_files(files: &mut OutputFiles, ledger: &Ledger) -> Result<(), TableError> {
    let plan = ledger.plan;
    let sequence = ledger.waves.map(|waves| waves.totals.sequence);
    files.add(
        "payouts/bill_credits.csv",
        payout_csv(
            "payouts/bill_credits.csv",
            BillCreditRow::COLUMNS,
            bill_credit_rows(plan, ledger.returns, ledger.policy),
            sequence,
        )?,
    );
    let claims = plan.claims.iter().map(|line: &PayoutLine| ClaimRow {
        refund_id: &line.refund_id,
        account_id: &line.account_id,
        amount: line.amount,
        reason: line.claim_reason.map(|reason| reason.as_str()),
    });
    files.add(
        "payouts/claims.csv",
        payout_csv("payouts/claims.csv", ClaimRow::COLUMNS, claims, sequence)?,
    );
    let residual = plan.residual.iter().map(|line| ResidualRow {
        refund_id: &line.refund_id,
        account_id: &line.account_id,
        amount: line.amount,
    });
    files.add(
        "payouts/residual.csv",
        payout_csv(
            "payouts/residual.csv",
            ResidualRow::COLUMNS,
            residual,
            sequence,
        )?,
    );
    let corrections = plan.corrections.iter().map(|correction| BillCorrectionRow {
        refund_id: &correction.refund_id,
        account_id: &correction.account_id,
        billing_month: correction.billing_month,
        amount: correction.amount,
    });
    files.add(
        "payouts/bill_corrections.csv",
        payout_csv(
            "payouts/bill_corrections.csv",
            BillCorrectionRow::COLUMNS,
            corrections,
            sequence,
        )?,
    );
    Ok(())
}

/// A `credit` row per bill-credited account, then the rows of its qualified return invoice when
/// the credited bill carries one (the same accounts whose notice carries it).
fn bill_credit_rows<'a>(
    plan: &'a PayoutPlan,
    returns: &'a [ReturnLine],
    policy: &return_invoice::Policy,
) -> Vec<BillCreditRow<'a>> {
    let lines_of = return_invoice::by_account(returns);
    let mut rows = Vec::with_capacity(plan.bill_credits.len());
    for credit in &plan.bill_credits {
        let row = BillCreditRow {
            refund_id: &credit.refund_id,
            account_id: &credit.account_id,
            amount: Some(credit.amount),
            apply_to_billing_month: plan.bill_credit_month,
            line: "credit",
            tax_rate: None,
            principal: None,
            tax: None,
            total: None,
            sales_from: None,
            sales_to: None,
        };
        let lines = lines_of
            .get(credit.account_id.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        let statement = return_invoice::in_notice(policy, lines);
        rows.push(row.clone());
        if !statement {
            continue;
        }
        rows.extend(
            lines
                .iter()
                .filter(|line| line.qualified)
                .map(|line| BillCreditRow {
                    amount: None,
                    line: "return_invoice",
                    tax_rate: Some(Rate(line.tax_rate)),
                    principal: Some(line.principal),
                    tax: Some(line.tax),
                    total: Some(line.total),
                    sales_from: Some(line.sales_from),
                    sales_to: Some(line.sales_to),
                    ..row.clone()
                }),
        );
    }
    rows
}

/// The interest rate column: empty when there is no accrual day or daily rates varied.
pub fn interest_rate(invoice: &Invoice) -> String {
    match invoice.interest.rate {
        Some(rate) if invoice.interest.days > 0 => format_rate(rate),
        _ => String::new(),
    }
}

/// What `payouts/bank_transfers.csv` and `payouts/zengin.txt` are made of.
pub struct Transfers<'a> {
    pub plan: &'a PayoutPlan,
    /// The accounts of the refunds (their bank details), in any order.
    pub accounts: &'a [&'a Account],
    pub incident: &'a Incident,
    /// The Zengin file's date.
    pub transfer_date: Option<NaiveDate>,
    /// A supplementary run's sequence number.
    pub sequence: Option<u32>,
}

/// Whether the Zengin file was written.
#[derive(Debug, PartialEq, Eq)]
pub enum Zengin {
    Written,
    /// Nothing to transfer, so nothing is missing.
    NoTransfers,
    /// Transfers are listed but no Zengin file can be: `why` says what to add.
    NotWritten {
        transfers: usize,
        why: &'static str,
    },
}

/// `payouts/bank_transfers.csv` and, for yen with `[payout.zengin]`, `payouts/zengin.txt`;
/// refuses to write a transfer a bank would reject.
pub fn bank_transfers(files: &mut OutputFiles, transfers: &Transfers) -> Result<Zengin, RunError> {
    let incident = transfers.incident;
    let by_id: HashMap<&str, &Account> = transfers
        .accounts
        .iter()
        .map(|account| (account.account_id.as_str(), *account))
        .collect();
    let mut rows = Vec::with_capacity(transfers.plan.bank_transfers.len());
    let mut records = Vec::with_capacity(transfers.plan.bank_transfers.len());
    for line in &transfers.plan.bank_transfers {
        let account = by_id.get(line.account_id.as_str()).ok_or_else(|| {
            RunError::bug(format!("transfer to unknown account `{}`", line.account_id))
        })?;
        let bank = &account.bank;
        rows.push(BankTransferRow {
            refund_id: &line.refund_id,
            account_id: &line.account_id,
            amount: line.amount,
            bank_code: bank.bank_code.as_deref().unwrap_or_default(),
            branch_code: bank.branch_code.as_deref().unwrap_or_default(),
            bank_account_type: bank.account_type.map_or("", |kind| kind.as_str()),
            bank_account_number: bank.account_number.as_deref().unwrap_or_default(),
            bank_account_holder_kana: bank.holder_kana.as_deref().unwrap_or_default(),
        });
        records.push(super::zengin::Transfer {
            account_id: &line.account_id,
            refund_id: &line.refund_id,
            amount: line.amount,
            bank,
        });
    }
    files.add(
        "payouts/bank_transfers.csv",
        payout_csv(
            "payouts/bank_transfers.csv",
            BankTransferRow::COLUMNS,
            &rows,
            transfers.sequence,
        )?,
    );
    // Zengin is a yen format: written whenever the paying company's account is configured.
    if let (Some(zengin), "JPY") = (&incident.payout.zengin, incident.currency.code) {
        let bytes = super::zengin::render(zengin, transfers.transfer_date, &records)?;
        files.add("payouts/zengin.txt", bytes);
        return Ok(Zengin::Written);
    }
    if records.is_empty() {
        return Ok(Zengin::NoTransfers);
    }
    Ok(Zengin::NotWritten {
        transfers: records.len(),
        why: if incident.currency.code == "JPY" {
            "add [payout.zengin] to the incident file"
        } else {
            "Zengin files are for JPY"
        },
    })
}
