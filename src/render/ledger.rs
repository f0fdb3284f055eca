//! The ledger files for the incident team and finance: refunds, invoices (CSV and Parquet),
//! payouts CSVs, review and rejects.

use polars::prelude::*;

use crate::ledger::PayoutPlan;
use crate::load::RowProblem;
use crate::money::{Currency, Money, format_rate};
use crate::output::{Csv, OutputFiles};
use crate::refund::AccountRefund;
use crate::return_invoice::{self, ReturnLine};
use crate::rules::ReviewReason;
use crate::waves::{OverpaidLine, Waves};

pub const REFUND_COLUMNS: [&str; 17] = [
    "account_id",
    "class",
    "refund_principal",
    "refund_tax",
    "refund_interest",
    "refund_total",
    "correction_total",
    "underbilled_total",
    "overbilled_invoices",
    "underbilled_invoices",
    "first_billing_month",
    "last_billing_month",
    "payout_channel",
    "refund_id",
    "region",
    "plan",
    "status",
];

pub const INVOICE_COLUMNS: [&str; 9] = [
    "account_id",
    "billing_month",
    "class",
    "principal",
    "tax",
    "paid_on",
    "interest_days",
    "interest_rate",
    "interest",
];

pub const RETURN_INVOICE_COLUMNS: [&str; 10] = [
    "refund_id",
    "account_id",
    "tax_rate",
    "principal",
    "tax",
    "total",
    "sales_from",
    "sales_to",
    "refund_date",
    "required",
];

/// Columns of `payouts/bill_credits.csv`: the SPEC's four on a `line = credit` row per account
/// (`amount` is what is credited); where the credited bill carries the qualified return invoice,
/// `line = return_invoice` rows follow, one per tax rate, with what it states (`principal`, `tax`,
/// `total`, the original bills) and no `amount`, so that Σ amount stays the credits' total.
pub const BILL_CREDIT_COLUMNS: [&str; 11] = [
    "refund_id",
    "account_id",
    "amount",
    "apply_to_billing_month",
    "line",
    "tax_rate",
    "principal",
    "tax",
    "total",
    "sales_from",
    "sales_to",
];

/// The columns a supplementary run appends to refunds.csv and refunds.parquet.
pub const WAVE_REFUND_COLUMNS: [&str; 3] = ["previously_paid", "now_owed", "supplement"];

/// The column a supplementary run appends to every payout file: its wave's sequence number.
pub const SEQUENCE_COLUMN: &str = "supplement_sequence";

/// Columns of `payouts/overpaid.csv` (supplementary runs).
pub const OVERPAID_COLUMNS: [&str; 8] = [
    "refund_id",
    "account_id",
    "kind",
    "billing_month",
    "previously_paid",
    "now_owed",
    "overpaid",
    "reason",
];

/// refunds.csv, invoices.csv, return_invoices.csv and their Parquet twins, payouts CSVs,
/// review.csv, rejects.csv; in a supplementary run also payouts/overpaid.csv.
#[allow(clippy::too_many_arguments)]
pub fn render(
    files: &mut OutputFiles,
    refunds: &[AccountRefund],
    plan: &PayoutPlan,
    review: &[(String, ReviewReason)],
    rejects: Option<&[RowProblem]>,
    returns: &[ReturnLine],
    policy: &return_invoice::Policy,
    currency: Currency,
    waves: Option<&Waves>,
) -> PolarsResult<()> {
    files.add(
        "refunds.csv",
        refunds_csv(refunds, waves.is_some()).into_bytes(),
    );
    files.add(
        "refunds.parquet",
        refunds_parquet(refunds, currency, waves.is_some())?,
    );
    files.add("invoices.csv", invoices_csv(refunds).into_bytes());
    files.add("invoices.parquet", invoices_parquet(refunds, currency)?);
    files.add(
        "return_invoices.csv",
        return_invoices_csv(returns).into_bytes(),
    );
    files.add(
        "return_invoices.parquet",
        return_invoices_parquet(returns, currency)?,
    );
    let sequence = waves.map(|waves| waves.totals.sequence.to_string());
    payout_files(files, plan, returns, policy, sequence.as_deref());
    if let Some(waves) = waves {
        files.add(
            "payouts/overpaid.csv",
            overpaid_csv(&waves.overpaid).into_bytes(),
        );
    }

    let mut csv = Csv::with_header(&["account_id", "reason"]);
    for (account_id, reason) in review {
        csv.row([account_id.as_str(), reason.code()]);
    }
    files.add("review.csv", csv.into_bytes());

    if let Some(rejects) = rejects {
        let mut csv = Csv::with_header(&["file", "row", "column", "value", "reason", "message"]);
        for problem in rejects {
            csv.row([
                problem.file.as_str(),
                problem.row.to_string().as_str(),
                problem.column.as_str(),
                problem.value.as_deref().unwrap_or(""),
                problem.reason.as_str(),
                problem.message.as_str(),
            ]);
        }
        files.add("rejects.csv", csv.into_bytes());
    }
    Ok(())
}

fn refunds_csv(refunds: &[AccountRefund], waves: bool) -> Csv {
    let money = |value: Money| value.to_string();
    let mut columns = REFUND_COLUMNS.to_vec();
    if waves {
        columns.extend(WAVE_REFUND_COLUMNS);
    }
    let mut csv = Csv::with_header(&columns);
    for refund in refunds {
        let mut fields = vec![
            refund.account_id.clone(),
            refund.class.as_str().to_string(),
            money(refund.refund_principal),
            money(refund.refund_tax),
            money(refund.refund_interest),
            money(refund.refund_total),
            money(refund.correction_total),
            money(refund.underbilled_total),
            refund.overbilled_invoices.to_string(),
            refund.underbilled_invoices.to_string(),
            refund.first_billing_month.to_string(),
            refund.last_billing_month.to_string(),
            refund.payout_channel.as_str().to_string(),
            refund.refund_id.clone(),
            refund.region.clone().unwrap_or_default(),
            refund.plan.clone().unwrap_or_default(),
            refund.status.as_str().to_string(),
        ];
        if waves {
            fields.extend([
                money(refund.previously_paid),
                money(refund.refund_total),
                money(refund.supplement),
            ]);
        }
        csv.row(fields.iter().map(String::as_str));
    }
    csv
}

fn invoices_csv(refunds: &[AccountRefund]) -> Csv {
    let money = |value: Money| value.to_string();
    let mut csv = Csv::with_header(&INVOICE_COLUMNS);
    for refund in refunds {
        for invoice in &refund.invoices {
            let fields = [
                refund.account_id.clone(),
                invoice.billing_month.to_string(),
                invoice.class.as_str().to_string(),
                money(invoice.principal),
                money(invoice.tax),
                invoice
                    .paid_on
                    .map(|date| date.to_string())
                    .unwrap_or_default(),
                invoice.interest.days.to_string(),
                interest_rate(invoice),
                money(invoice.interest.amount),
            ];
            csv.row(fields.iter().map(String::as_str));
        }
    }
    csv
}

/// bill_credits, claims, residual and bill_corrections (bank transfers are written with the
/// Zengin file); in a supplementary run each row carries the run's sequence number.
fn payout_files(
    files: &mut OutputFiles,
    plan: &PayoutPlan,
    returns: &[ReturnLine],
    policy: &return_invoice::Policy,
    sequence: Option<&str>,
) {
    let money = |value: Money| value.to_string();
    let trailing = || sequence.map(|value| (SEQUENCE_COLUMN, value.to_string()));
    files.add(
        "payouts/bill_credits.csv",
        bill_credits_csv(plan, returns, policy, trailing()).into_bytes(),
    );
    let mut claims =
        Csv::with_trailing(&["refund_id", "account_id", "amount", "reason"], trailing());
    for line in &plan.claims {
        let reason = line
            .claim_reason
            .map(|reason| reason.as_str())
            .unwrap_or("");
        claims.row([
            line.refund_id.as_str(),
            line.account_id.as_str(),
            money(line.amount).as_str(),
            reason,
        ]);
    }
    files.add("payouts/claims.csv", claims.into_bytes());
    let mut residual = Csv::with_trailing(&["refund_id", "account_id", "amount"], trailing());
    for line in &plan.residual {
        residual.row([
            line.refund_id.as_str(),
            line.account_id.as_str(),
            money(line.amount).as_str(),
        ]);
    }
    files.add("payouts/residual.csv", residual.into_bytes());
    let mut corrections = Csv::with_trailing(
        &["refund_id", "account_id", "billing_month", "amount"],
        trailing(),
    );
    for correction in &plan.corrections {
        corrections.row([
            correction.refund_id.as_str(),
            correction.account_id.as_str(),
            correction.billing_month.to_string().as_str(),
            money(correction.amount).as_str(),
        ]);
    }
    files.add("payouts/bill_corrections.csv", corrections.into_bytes());
}

fn overpaid_csv(lines: &[OverpaidLine]) -> Csv {
    let money = |value: Money| value.to_string();
    let mut csv = Csv::with_header(&OVERPAID_COLUMNS);
    for line in lines {
        let month = line
            .billing_month
            .map(|month| month.to_string())
            .unwrap_or_default();
        csv.row([
            line.refund_id.as_str(),
            line.account_id.as_str(),
            line.kind.as_str(),
            month.as_str(),
            money(line.previously_paid).as_str(),
            money(line.now_owed).as_str(),
            money(line.overpaid).as_str(),
            line.reason.as_str(),
        ]);
    }
    csv
}

fn return_invoices_csv(returns: &[ReturnLine]) -> Csv {
    let mut csv = Csv::with_header(&RETURN_INVOICE_COLUMNS);
    for line in returns {
        let fields = [
            line.refund_id.clone(),
            line.account_id.clone(),
            format_rate(line.tax_rate),
            line.principal.to_string(),
            line.tax.to_string(),
            line.total.to_string(),
            line.sales_from.to_string(),
            line.sales_to.to_string(),
            line.refund_date
                .map(|date| date.to_string())
                .unwrap_or_default(),
            line.required.to_string(),
        ];
        csv.row(fields.iter().map(String::as_str));
    }
    csv
}

fn return_invoices_parquet(returns: &[ReturnLine], currency: Currency) -> PolarsResult<Vec<u8>> {
    // At least 4 decimals (`0.1000`), more when a rate has them (rust_decimal: at most 28).
    let scale = returns
        .iter()
        .map(|line| line.tax_rate.normalize().scale())
        .max()
        .unwrap_or(0)
        .max(MIN_RATE_SCALE);
    let rates: Vec<i128> = returns
        .iter()
        .map(|line| {
            let rate = line.tax_rate.normalize();
            rate.mantissa() * 10i128.pow(scale - rate.scale())
        })
        .collect();
    let frame = DataFrame::new_infer_height(vec![
        text_column(
            "refund_id",
            returns.iter().map(|line| line.refund_id.clone()),
        ),
        text_column(
            "account_id",
            returns.iter().map(|line| line.account_id.clone()),
        ),
        Int128Chunked::from_vec("tax_rate".into(), rates)
            .into_decimal(38, scale as usize)?
            .into_column(),
        money_column(
            "principal",
            returns.iter().map(|line| line.principal),
            currency,
        )?,
        money_column("tax", returns.iter().map(|line| line.tax), currency)?,
        money_column("total", returns.iter().map(|line| line.total), currency)?,
        text_column(
            "sales_from",
            returns.iter().map(|line| line.sales_from.to_string()),
        ),
        text_column(
            "sales_to",
            returns.iter().map(|line| line.sales_to.to_string()),
        ),
        Column::new(
            "refund_date".into(),
            returns
                .iter()
                .map(|line| line.refund_date.map(date_days))
                .collect::<Vec<Option<i32>>>(),
        )
        .cast(&DataType::Date)?,
        Column::new(
            "required".into(),
            returns
                .iter()
                .map(|line| line.required)
                .collect::<Vec<bool>>(),
        ),
    ])?;
    parquet_bytes(frame)
}

/// Fewest decimals of tax rates in the Parquet ledger (`0.1` is `0.1000`, `0.08` `0.0800`).
const MIN_RATE_SCALE: u32 = 4;

fn date_days(date: chrono::NaiveDate) -> i32 {
    (date - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days() as i32
}

/// A `credit` row per bill-credited account, then the rows of its qualified return invoice when
/// the credited bill carries one (the same accounts whose notice carries it).
fn bill_credits_csv(
    plan: &PayoutPlan,
    returns: &[ReturnLine],
    policy: &return_invoice::Policy,
    trailing: Option<(&str, String)>,
) -> Csv {
    let money = |value: Money| value.to_string();
    let mut csv = Csv::with_trailing(&BILL_CREDIT_COLUMNS, trailing);
    let credit_month = plan
        .bill_credit_month
        .map(|month| month.to_string())
        .unwrap_or_default();
    let lines_of = return_invoice::by_account(returns);
    for credit in &plan.bill_credits {
        let amount = money(credit.amount);
        let fields = [
            credit.refund_id.as_str(),
            credit.account_id.as_str(),
            amount.as_str(),
            credit_month.as_str(),
            "credit",
            "",
            "",
            "",
            "",
            "",
            "",
        ];
        csv.row(fields);
        let lines = lines_of
            .get(credit.account_id.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        if !return_invoice::in_notice(policy, lines) {
            continue;
        }
        for line in lines.iter().filter(|line| line.qualified) {
            let values = [
                format_rate(line.tax_rate),
                money(line.principal),
                money(line.tax),
                money(line.total),
                line.sales_from.to_string(),
                line.sales_to.to_string(),
            ];
            let [rate, principal, tax, total, from, to] = values.each_ref().map(String::as_str);
            csv.row([
                credit.refund_id.as_str(),
                credit.account_id.as_str(),
                "",
                credit_month.as_str(),
                "return_invoice",
                rate,
                principal,
                tax,
                total,
                from,
                to,
            ]);
        }
    }
    csv
}

/// The interest rate column: empty when there is no accrual day or daily rates varied.
pub fn interest_rate(invoice: &crate::refund::Invoice) -> String {
    match invoice.interest.rate {
        Some(rate) if invoice.interest.days > 0 => format_rate(rate),
        _ => String::new(),
    }
}

fn money_column(
    name: &str,
    values: impl Iterator<Item = Money>,
    currency: Currency,
) -> PolarsResult<Column> {
    let values: Vec<i128> = values.map(|value| i128::from(value.minor())).collect();
    Ok(Int128Chunked::from_vec(name.into(), values)
        .into_decimal(18, currency.digits as usize)?
        .into_column())
}

fn text_column(name: &str, values: impl Iterator<Item = String>) -> Column {
    Column::new(name.into(), values.collect::<Vec<String>>())
}

fn optional_text_column(name: &str, values: impl Iterator<Item = Option<String>>) -> Column {
    Column::new(name.into(), values.collect::<Vec<Option<String>>>())
}

fn parquet_bytes(mut frame: DataFrame) -> PolarsResult<Vec<u8>> {
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes).finish(&mut frame)?;
    Ok(bytes)
}

fn refunds_parquet(
    refunds: &[AccountRefund],
    currency: Currency,
    waves: bool,
) -> PolarsResult<Vec<u8>> {
    let mut columns = vec![
        text_column("account_id", refunds.iter().map(|r| r.account_id.clone())),
        text_column(
            "class",
            refunds.iter().map(|r| r.class.as_str().to_string()),
        ),
        money_column(
            "refund_principal",
            refunds.iter().map(|r| r.refund_principal),
            currency,
        )?,
        money_column("refund_tax", refunds.iter().map(|r| r.refund_tax), currency)?,
        money_column(
            "refund_interest",
            refunds.iter().map(|r| r.refund_interest),
            currency,
        )?,
        money_column(
            "refund_total",
            refunds.iter().map(|r| r.refund_total),
            currency,
        )?,
        money_column(
            "correction_total",
            refunds.iter().map(|r| r.correction_total),
            currency,
        )?,
        money_column(
            "underbilled_total",
            refunds.iter().map(|r| r.underbilled_total),
            currency,
        )?,
        Column::new(
            "overbilled_invoices".into(),
            refunds
                .iter()
                .map(|r| r.overbilled_invoices)
                .collect::<Vec<u32>>(),
        ),
        Column::new(
            "underbilled_invoices".into(),
            refunds
                .iter()
                .map(|r| r.underbilled_invoices)
                .collect::<Vec<u32>>(),
        ),
        text_column(
            "first_billing_month",
            refunds.iter().map(|r| r.first_billing_month.to_string()),
        ),
        text_column(
            "last_billing_month",
            refunds.iter().map(|r| r.last_billing_month.to_string()),
        ),
        text_column(
            "payout_channel",
            refunds
                .iter()
                .map(|r| r.payout_channel.as_str().to_string()),
        ),
        text_column("refund_id", refunds.iter().map(|r| r.refund_id.clone())),
        optional_text_column("region", refunds.iter().map(|r| r.region.clone())),
        optional_text_column("plan", refunds.iter().map(|r| r.plan.clone())),
        text_column(
            "status",
            refunds.iter().map(|r| r.status.as_str().to_string()),
        ),
    ];
    if waves {
        let [previously_paid, now_owed, supplement] = WAVE_REFUND_COLUMNS;
        columns.extend([
            money_column(
                previously_paid,
                refunds.iter().map(|r| r.previously_paid),
                currency,
            )?,
            money_column(now_owed, refunds.iter().map(|r| r.refund_total), currency)?,
            money_column(supplement, refunds.iter().map(|r| r.supplement), currency)?,
        ]);
    }
    parquet_bytes(DataFrame::new_infer_height(columns)?)
}

fn invoices_parquet(refunds: &[AccountRefund], currency: Currency) -> PolarsResult<Vec<u8>> {
    let rows: Vec<(&AccountRefund, &crate::refund::Invoice)> = refunds
        .iter()
        .flat_map(|r| r.invoices.iter().map(move |invoice| (r, invoice)))
        .collect();
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let paid_on: Vec<Option<i32>> = rows
        .iter()
        .map(|(_, invoice)| invoice.paid_on.map(|date| (date - epoch).num_days() as i32))
        .collect();
    let columns = vec![
        text_column("account_id", rows.iter().map(|(r, _)| r.account_id.clone())),
        text_column(
            "billing_month",
            rows.iter().map(|(_, i)| i.billing_month.to_string()),
        ),
        text_column(
            "class",
            rows.iter().map(|(_, i)| i.class.as_str().to_string()),
        ),
        money_column("principal", rows.iter().map(|(_, i)| i.principal), currency)?,
        money_column("tax", rows.iter().map(|(_, i)| i.tax), currency)?,
        Int32Chunked::from_iter_options("paid_on".into(), paid_on.into_iter())
            .into_date()
            .into_column(),
        Column::new(
            "interest_days".into(),
            rows.iter()
                .map(|(_, i)| i.interest.days)
                .collect::<Vec<i64>>(),
        ),
        optional_text_column(
            "interest_rate",
            rows.iter()
                .map(|(_, i)| Some(interest_rate(i)).filter(|rate| !rate.is_empty())),
        ),
        money_column(
            "interest",
            rows.iter().map(|(_, i)| i.interest.amount),
            currency,
        )?,
    ];
    parquet_bytes(DataFrame::new_infer_height(columns)?)
}
