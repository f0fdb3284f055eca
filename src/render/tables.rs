//! The output tables: one row type per CSV (and Parquet) file, each column named once — as a
//! field of its row type. The `csv` crate writes every CSV (RFC 4180 quoting only where needed,
//! `\n` line ends); the same row types give the Parquet columns, typed (money as DECIMAL in the
//! currency's minor unit, dates as DATE, months as text).

use chrono::NaiveDate;
use polars::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::money::{Money, Month, format_rate};

/// A table could not be written: always a bug in redress (its own values serialise).
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("writing `{file}`")]
    Csv {
        file: &'static str,
        source: csv::Error,
    },
    #[error("writing `{file}`")]
    Parquet {
        file: &'static str,
        source: PolarsError,
    },
}

/// A value of an output column: the CSV writes its serde form; this gives its Parquet column.
pub trait ColumnValue {
    /// The column `name` of `values`; `digits` is the currency's, for money.
    fn column<'r, I>(name: &str, values: I, digits: u32) -> PolarsResult<Column>
    where
        Self: 'r,
        I: Iterator<Item = &'r Self>;
}

/// Declares an output table: the row struct (every field a column, in order, with its doc), its
/// `COLUMNS`, and its Parquet columns.
macro_rules! output_table {
    (
        $(#[$meta:meta])*
        pub struct $name:ident $(<$lt:lifetime>)? {
            $( $(#[$field_meta:meta])* pub $field:ident : $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, ::serde::Serialize)]
        pub struct $name $(<$lt>)? {
            $( $(#[$field_meta])* pub $field: $ty, )*
        }

        impl $(<$lt>)? $name $(<$lt>)? {
            /// The table's columns, in order: the names of its fields.
            pub const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),*];

            /// The rows as Parquet columns, named as in the CSV.
            pub fn parquet_columns(
                rows: &[Self],
                digits: u32,
            ) -> ::polars::prelude::PolarsResult<Vec<::polars::prelude::Column>> {
                Ok(vec![$(
                    <$ty as $crate::render::tables::ColumnValue>::column(
                        stringify!($field),
                        rows.iter().map(|row| &row.$field),
                        digits,
                    )?,
                )*])
            }
        }
    };
}

pub(crate) use output_table;

output_table! {
    /// `refunds.csv` / `refunds.parquet`: one row per affected account.
    pub struct RefundRow<'a> {
        /// The account, as in accounts.
        pub account_id: &'a str,
        /// `overbilled`, `underbilled` or `mixed`.
        pub class: &'static str,
        /// Σ principal of the paid over-billed invoices.
        pub refund_principal: Money,
        /// Σ consumption tax on it.
        pub refund_tax: Money,
        /// Σ interest on it, to the refund date.
        pub refund_interest: Money,
        /// principal + tax + interest: what the account is owed.
        pub refund_total: Money,
        /// Σ over-billing of unpaid invoices, corrected on the bill instead.
        pub correction_total: Money,
        /// Σ under-billing, waived.
        pub underbilled_total: Money,
        /// Affected invoices billed too much.
        pub overbilled_invoices: u32,
        /// Affected invoices billed too little.
        pub underbilled_invoices: u32,
        /// The first affected billing month.
        pub first_billing_month: Month,
        /// The last affected billing month.
        pub last_billing_month: Month,
        /// The channel of what this run pays.
        pub payout_channel: &'static str,
        /// 16 hex digits of SHA-256 of `incident_id:account_id`: the refund's reference everywhere.
        pub refund_id: &'a str,
        /// `accounts.region`; empty when none.
        pub region: Option<&'a str>,
        /// `accounts.plan`; empty when none.
        pub plan: Option<&'a str>,
        /// `active` or `closed`.
        pub status: &'static str,
    }
}

output_table! {
    /// The columns a supplementary run appends to `refunds.csv` and `refunds.parquet`.
    pub struct WaveRefundRow {
        /// What earlier waves and refunds paid outside redress paid the account.
        pub previously_paid: Money,
        /// What the account is owed to date (= refund_total).
        pub now_owed: Money,
        /// What this run pays: now_owed − previously_paid when positive.
        pub supplement: Money,
    }
}

output_table! {
    /// `invoices.csv` / `invoices.parquet`: one row per affected invoice.
    pub struct InvoiceRow<'a> {
        /// The account, as in accounts.
        pub account_id: &'a str,
        /// The invoice's billing month.
        pub billing_month: Month,
        /// `overbilled` or `underbilled`.
        pub class: &'static str,
        /// P: the invoice's over-billing before tax.
        pub principal: Money,
        /// T: the consumption tax on it.
        pub tax: Money,
        /// Empty for an unpaid invoice.
        pub paid_on: Option<NaiveDate>,
        /// Accrual days, from the day after payment to the refund date.
        pub interest_days: i64,
        /// The single rate over every accrual day; empty when none or when rates varied.
        pub interest_rate: Option<String>,
        /// Interest on P + T, rounded once.
        pub interest: Money,
    }
}

output_table! {
    /// `return_invoices.csv` / `.parquet`: the qualified return invoice's lines, per tax rate.
    pub struct ReturnInvoiceRow<'a> {
        /// The refund the document belongs to.
        pub refund_id: &'a str,
        /// The account, as in accounts.
        pub account_id: &'a str,
        /// The consumption tax rate of the line.
        pub tax_rate: Rate,
        /// Σ D of the rate over the refunded invoices (tax excluded).
        pub principal: Money,
        /// Σ tax difference of the rate.
        pub tax: Money,
        /// principal + tax.
        pub total: Money,
        /// First and last billing month of the original sales.
        pub sales_from: Month,
        /// The last billing month of the original sales.
        pub sales_to: Month,
        /// The date of the return (the refund date).
        pub refund_date: Option<NaiveDate>,
        /// Whether the law requires the document for this refund.
        pub required: bool,
    }
}

output_table! {
    /// `payouts/bill_credits.csv`: a `credit` row per account (`amount` is what is credited), then,
    /// where the credited bill carries the qualified return invoice, a `return_invoice` row per tax
    /// rate with what it states and no `amount`, so that Σ amount stays the credits' total.
    pub struct BillCreditRow<'a> {
        /// The refund credited.
        pub refund_id: &'a str,
        /// The account whose bill is credited.
        pub account_id: &'a str,
        /// What is credited (a `credit` row); empty on `return_invoice` rows.
        pub amount: Option<Money>,
        /// The invoice month the credit is applied to.
        pub apply_to_billing_month: Option<Month>,
        /// `credit` or `return_invoice`.
        pub line: &'static str,
        /// The return invoice line's tax rate.
        pub tax_rate: Option<Rate>,
        /// The return invoice line's principal (tax excluded).
        pub principal: Option<Money>,
        /// The return invoice line's tax.
        pub tax: Option<Money>,
        /// principal + tax.
        pub total: Option<Money>,
        /// The first billing month of the original sales.
        pub sales_from: Option<Month>,
        /// The last billing month of the original sales.
        pub sales_to: Option<Month>,
    }
}

output_table! {
    /// `payouts/claims.csv`: refunds paid when the customer asks (no usable bank account).
    pub struct ClaimRow<'a> {
        /// The refund to be claimed.
        pub refund_id: &'a str,
        /// The account it is owed to.
        pub account_id: &'a str,
        /// What is paid when the customer claims it.
        pub amount: Money,
        /// Why the refund is a claim.
        pub reason: Option<&'static str>,
    }
}

output_table! {
    /// `payouts/residual.csv`: refunds below `payout.minimum_transfer`.
    pub struct ResidualRow<'a> {
        /// The refund held back.
        pub refund_id: &'a str,
        /// The account it is owed to.
        pub account_id: &'a str,
        /// What is owed, below the minimum transfer.
        pub amount: Money,
    }
}

output_table! {
    /// `payouts/bill_corrections.csv`: reductions of unpaid bills, for the billing system.
    pub struct BillCorrectionRow<'a> {
        /// The refund of the account.
        pub refund_id: &'a str,
        /// The account whose open bill is reduced.
        pub account_id: &'a str,
        /// The unpaid invoice.
        pub billing_month: Month,
        /// What the bill is reduced by (P + T; no interest on an unpaid bill).
        pub amount: Money,
    }
}

output_table! {
    /// `payouts/bank_transfers.csv`: the transfers of `payouts/zengin.txt`.
    pub struct BankTransferRow<'a> {
        /// The refund paid (its first 10 characters are the Zengin customer code).
        pub refund_id: &'a str,
        /// The account paid.
        pub account_id: &'a str,
        /// What is transferred.
        pub amount: Money,
        /// 4 digits.
        pub bank_code: &'a str,
        /// 3 digits.
        pub branch_code: &'a str,
        /// `ordinary`, `current` or `savings`.
        pub bank_account_type: &'static str,
        /// 7 digits.
        pub bank_account_number: &'a str,
        /// The payee's name in katakana, as the accounts table gives it.
        pub bank_account_holder_kana: &'a str,
    }
}

output_table! {
    /// The column a supplementary run appends to every payout file.
    pub struct SequenceRow {
        /// The wave's sequence number (2 for the first supplementary run).
        pub supplement_sequence: u32,
    }
}

output_table! {
    /// `payouts/overpaid.csv` (supplementary runs): what earlier waves paid beyond what is owed
    /// now. Reported, never clawed back.
    pub struct OverpaidRow<'a> {
        /// The refund of the account.
        pub refund_id: &'a str,
        /// The account paid too much.
        pub account_id: &'a str,
        /// `refund` or `bill_correction`.
        pub kind: &'static str,
        /// The invoice, for a bill correction.
        pub billing_month: Option<Month>,
        /// What earlier waves paid (or corrected).
        pub previously_paid: Money,
        /// What is owed now.
        pub now_owed: Money,
        /// previously_paid − now_owed.
        pub overpaid: Money,
        /// `amount_lowered`, `no_longer_affected` or `in_review`.
        pub reason: &'static str,
    }
}

output_table! {
    /// `review.csv`: accounts a person must look at before anything is paid to them.
    pub struct ReviewRow<'a> {
        /// The account left out.
        pub account_id: &'a str,
        /// Why (see the README's review reasons).
        pub reason: &'static str,
    }
}

output_table! {
    /// `rejects.csv` (`--on-bad-rows reject`): every input row set aside, and why.
    pub struct RejectRow<'a> {
        /// The input file, relative to `--data`.
        pub file: &'a str,
        /// The 1-based data row of the file (the header is not counted).
        pub row: u64,
        /// The column at fault; empty for a whole-row problem.
        pub column: &'a str,
        /// The value as found; empty when missing.
        pub value: Option<&'a str>,
        /// A code: `not_a_number`, `wrong_field_count`, ….
        pub reason: &'a str,
        /// What is wrong, in words.
        pub message: &'a str,
    }
}

output_table! {
    /// `notices/index.csv`: one row per notice, for the print vendor and the mail run.
    pub struct NoticeIndexRow {
        /// The refund the notice is about.
        pub refund_id: String,
        /// The account it is sent to.
        pub account_id: String,
        /// The addressee.
        pub holder_name: String,
        /// The postal code, as the accounts table gives it.
        pub postal_code: String,
        /// The postal address.
        pub address: String,
        /// For notices sent by mail; empty when none.
        pub email: String,
        /// `ja` or `en`: which letter template.
        pub language: &'static str,
        /// `refund`, `correction`, `waived` or `mixed`.
        pub letter: &'static str,
        /// The account's class: `overbilled`, `underbilled` or `mixed`.
        pub class: &'static str,
        /// How the refund is paid (`none` for a letter that pays nothing).
        pub channel: &'static str,
        /// What the letter pays now (or corrects, for a correction letter).
        pub amount: Money,
        /// What the envelope must hold besides the letter (semicolon-separated), empty for none.
        pub enclosures: &'static str,
        /// The notice, relative to `notices/`.
        pub file: String,
    }
}

/// A tax or interest rate as the ledger writes it: `0.1`, `0.08` (never `0.10`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate(pub Decimal);

impl Serialize for Rate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&format_rate(self.0))
    }
}

/// CSV bytes: the header `columns`, then every row (a row type, or a tuple of row types whose
/// columns follow one another).
pub fn csv_bytes<R: Serialize>(
    file: &'static str,
    columns: &[&str],
    rows: impl IntoIterator<Item = R>,
) -> Result<Vec<u8>, TableError> {
    let error = |source| TableError::Csv { file, source };
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    writer.write_record(columns).map_err(error)?;
    for row in rows {
        writer.serialize(row).map_err(error)?;
    }
    writer
        .into_inner()
        .map_err(|into| error(csv::Error::from(into.into_error())))
}

/// The header of a table with further tables' columns appended.
pub fn joined(parts: &[&[&'static str]]) -> Vec<&'static str> {
    parts.iter().flat_map(|part| part.iter().copied()).collect()
}

/// Parquet bytes of `columns` (as a row type's `parquet_columns` gives them).
pub fn parquet_bytes(
    file: &'static str,
    columns: PolarsResult<Vec<Column>>,
) -> Result<Vec<u8>, TableError> {
    let error = |source| TableError::Parquet { file, source };
    let mut frame = DataFrame::new_infer_height(columns.map_err(error)?).map_err(error)?;
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes)
        .finish(&mut frame)
        .map_err(error)?;
    Ok(bytes)
}

/// Columns of values polars holds as they are (text, integers, booleans; nullable when optional).
macro_rules! plain_columns {
    ($($value:ty),*) => {$(
        impl ColumnValue for $value {
            fn column<'r, I>(name: &str, values: I, _: u32) -> PolarsResult<Column>
            where
                Self: 'r,
                I: Iterator<Item = &'r Self>,
            {
                Ok(Column::new(name.into(), values.copied().collect::<Vec<$value>>()))
            }
        }
    )*};
}

plain_columns!(&str, Option<&str>, u32, u64, i64, Option<i64>, bool);

/// A value that is never missing: the column of its optional form, with no null.
macro_rules! required_columns {
    ($($value:ty),*) => {$(
        impl ColumnValue for $value {
            fn column<'r, I>(name: &str, values: I, digits: u32) -> PolarsResult<Column>
            where
                Self: 'r,
                I: Iterator<Item = &'r Self>,
            {
                let values: Vec<Option<$value>> = values.map(|value| Some(*value)).collect();
                Option::<$value>::column(name, values.iter(), digits)
            }
        }
    )*};
}

// Money: DECIMAL(18, digits); Month: text `YYYY-MM`; NaiveDate: DATE; Rate: DECIMAL(38, s).
required_columns!(Money, Month, NaiveDate, Rate);

impl ColumnValue for String {
    fn column<'r, I>(name: &str, values: I, _: u32) -> PolarsResult<Column>
    where
        Self: 'r,
        I: Iterator<Item = &'r Self>,
    {
        Ok(Column::new(
            name.into(),
            values.map(String::as_str).collect::<Vec<&str>>(),
        ))
    }
}

impl ColumnValue for Option<String> {
    fn column<'r, I>(name: &str, values: I, _: u32) -> PolarsResult<Column>
    where
        Self: 'r,
        I: Iterator<Item = &'r Self>,
    {
        Ok(Column::new(
            name.into(),
            values.map(Option::as_deref).collect::<Vec<Option<&str>>>(),
        ))
    }
}

/// DECIMAL(18, digits): exact, in the currency's major unit.
impl ColumnValue for Option<Money> {
    fn column<'r, I>(name: &str, values: I, digits: u32) -> PolarsResult<Column>
    where
        Self: 'r,
        I: Iterator<Item = &'r Self>,
    {
        let minor: Vec<Option<i128>> = values
            .map(|value| value.map(|money| i128::from(money.minor())))
            .collect();
        Ok(
            Int128Chunked::from_iter_options(name.into(), minor.into_iter())
                .into_decimal(18, digits as usize)?
                .into_column(),
        )
    }
}

/// Text, `YYYY-MM`, as in the CSV.
impl ColumnValue for Option<Month> {
    fn column<'r, I>(name: &str, values: I, _: u32) -> PolarsResult<Column>
    where
        Self: 'r,
        I: Iterator<Item = &'r Self>,
    {
        Ok(Column::new(
            name.into(),
            values
                .map(|month| month.map(|month| month.to_string()))
                .collect::<Vec<Option<String>>>(),
        ))
    }
}

/// DATE.
impl ColumnValue for Option<NaiveDate> {
    fn column<'r, I>(name: &str, values: I, _: u32) -> PolarsResult<Column>
    where
        Self: 'r,
        I: Iterator<Item = &'r Self>,
    {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN);
        let days = values
            .map(|date| {
                date.map(|date| {
                    i32::try_from((date - epoch).num_days())
                        .map_err(|_| polars_err!(ComputeError: "date {date} out of range"))
                })
                .transpose()
            })
            .collect::<PolarsResult<Vec<Option<i32>>>>()?;
        Ok(
            Int32Chunked::from_iter_options(name.into(), days.into_iter())
                .into_date()
                .into_column(),
        )
    }
}

/// Fewest decimals of rates in the Parquet ledger (`0.1` is `0.1000`, `0.08` `0.0800`).
const MIN_RATE_SCALE: u32 = 4;

/// DECIMAL(38, s): s the most decimals of any rate in the column, at least four.
impl ColumnValue for Option<Rate> {
    fn column<'r, I>(name: &str, values: I, _: u32) -> PolarsResult<Column>
    where
        Self: 'r,
        I: Iterator<Item = &'r Self>,
    {
        let rates: Vec<Option<Decimal>> = values
            .map(|rate| rate.map(|rate| rate.0.normalize()))
            .collect();
        let scale = rates
            .iter()
            .flatten()
            .map(Decimal::scale)
            .max()
            .unwrap_or(0)
            .max(MIN_RATE_SCALE);
        // A rate below 1 with s decimals has a mantissa below 10^s, so at the column's scale
        // (at most 28) it stays below 10^28.
        let mantissas = rates
            .iter()
            .map(|rate| {
                rate.map(|rate| {
                    10i128
                        .checked_pow(scale.saturating_sub(rate.scale()))
                        .and_then(|factor| rate.mantissa().checked_mul(factor))
                        .ok_or_else(|| polars_err!(ComputeError: "rate {rate} at scale {scale}"))
                })
                .transpose()
            })
            .collect::<PolarsResult<Vec<Option<i128>>>>()?;
        Ok(
            Int128Chunked::from_iter_options(name.into(), mantissas.into_iter())
                .into_decimal(38, scale as usize)?
                .into_column(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_the_fields_in_order() {
        assert_eq!(
            ClaimRow::COLUMNS,
            ["refund_id", "account_id", "amount", "reason"]
        );
        assert_eq!(RefundRow::COLUMNS.len(), 17);
    }

    #[test]
    fn csv_quotes_only_when_needed() {
        let rows = [("x,y", "he said \"hi\""), ("plain", "line\nbreak")];
        let bytes = csv_bytes("t.csv", &["a", "b"], rows).unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "a,b\n\"x,y\",\"he said \"\"hi\"\"\"\nplain,\"line\nbreak\"\n"
        );
    }

    #[test]
    fn the_csv_crate_reads_back_what_is_written() {
        let rows = [("x,y", "he said \"hi\""), ("", "line\nbreak")];
        let bytes = csv_bytes("t.csv", &["a", "b"], rows).unwrap();
        let read: Vec<Vec<String>> = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(bytes.as_slice())
            .records()
            .map(|record| record.unwrap().iter().map(str::to_string).collect())
            .collect();
        assert_eq!(
            read,
            vec![
                vec!["a", "b"],
                vec!["x,y", "he said \"hi\""],
                vec!["", "line\nbreak"]
            ]
        );
    }

    #[test]
    fn quoting_only_where_needed_and_empty_for_none() {
        let yen = |minor: i64| Money::new(minor, 0);
        let rows = [
            ClaimRow {
                refund_id: "a,b",
                account_id: "he said \"hi\"",
                amount: yen(1200),
                reason: None,
            },
            ClaimRow {
                refund_id: "plain",
                account_id: "line\nbreak",
                amount: Money::new(-50, 2),
                reason: Some("closed_account_policy"),
            },
        ];
        let bytes = csv_bytes("claims.csv", ClaimRow::COLUMNS, &rows).unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "refund_id,account_id,amount,reason\n\"a,b\",\"he said \"\"hi\"\"\",1200,\nplain,\"line\nbreak\",-0.50,closed_account_policy\n"
        );
        let appended = csv_bytes(
            "claims.csv",
            &joined(&[ClaimRow::COLUMNS, SequenceRow::COLUMNS]),
            rows.iter().map(|row| {
                (
                    row,
                    SequenceRow {
                        supplement_sequence: 2,
                    },
                )
            }),
        )
        .unwrap();
        assert!(String::from_utf8(appended).unwrap().starts_with(
            "refund_id,account_id,amount,reason,supplement_sequence\n\"a,b\",\"he said \"\"hi\"\"\",1200,,2\n"
        ));
    }
}
