//! `excel/`: the ledgers and payout lists as Japanese Windows Excel opens them. The machine CSVs
//! stay exact (UTF-8 without BOM, `\n`, plain values); these copies are UTF-8 with a byte-order
//! mark (without it Excel reads the kana of `bank_transfers.csv` as CP932), CRLF line ends, codes
//! kept as text (`0001`, `2009-03` and a refund_id such as `12e45678…` would otherwise become
//! numbers or dates), and cells that Excel would run as a formula (`=`, `+`, `-`, `@`, tab, CR at
//! the start, and not a number) neutralised with a leading `'`. A file longer than an Excel sheet
//! is split into parts, each with the header.

use std::borrow::Cow;

use crate::output::OutputFiles;

/// The files copied to `excel/`, and their names there.
pub const EXCEL_FILES: [(&str, &str); 10] = [
    ("refunds.csv", "excel/refunds.csv"),
    ("invoices.csv", "excel/invoices.csv"),
    ("review.csv", "excel/review.csv"),
    ("payouts/bill_credits.csv", "excel/bill_credits.csv"),
    ("payouts/bank_transfers.csv", "excel/bank_transfers.csv"),
    ("payouts/claims.csv", "excel/claims.csv"),
    ("payouts/residual.csv", "excel/residual.csv"),
    ("payouts/bill_corrections.csv", "excel/bill_corrections.csv"),
    ("payouts/overpaid.csv", "excel/overpaid.csv"),
    ("notices/index.csv", "excel/notices_index.csv"),
];

/// Columns holding codes: identifiers, bank codes, months. Excel must show them as written.
const TEXT_COLUMNS: [&str; 13] = [
    "account_id",
    "refund_id",
    "bank_code",
    "branch_code",
    "bank_account_number",
    "postal_code",
    "billing_month",
    "apply_to_billing_month",
    "first_billing_month",
    "last_billing_month",
    "sales_from",
    "sales_to",
    "file",
];

#[derive(Debug, thiserror::Error)]
#[error("writing excel/{file}: {message}")]
pub struct ExcelError {
    pub file: String,
    pub message: String,
}

/// Data rows per sheet: Excel opens at most 1,048,576 rows, the header included.
pub const EXCEL_MAX_ROWS: usize = 1_048_575;

/// Adds the `excel/` copy of every file of [`EXCEL_FILES`] present in `files` (those given by
/// `only`, when set). A file with more data rows than a sheet holds is split into `NAME-1.csv`,
/// `NAME-2.csv`, … each with the header.
pub fn render(files: &mut OutputFiles, only: Option<&str>) -> Result<(), ExcelError> {
    for (source, target) in EXCEL_FILES {
        if only.is_some_and(|name| name != source) {
            continue;
        }
        let Some(bytes) = files.get(source) else {
            continue;
        };
        let mut parts = convert(bytes, EXCEL_MAX_ROWS).map_err(|message| ExcelError {
            file: target.trim_start_matches("excel/").to_string(),
            message,
        })?;
        if parts.len() == 1 {
            files.add(target, parts.remove(0));
            continue;
        }
        let stem = target.trim_end_matches(".csv");
        for (index, part) in parts.into_iter().enumerate() {
            files.add(format!("{stem}-{}.csv", index + 1), part);
        }
    }
    Ok(())
}

/// One CSV as Excel should read it, in parts of at most `max_rows` data rows (at least one part).
pub fn convert(csv_bytes: &[u8], max_rows: usize) -> Result<Vec<Vec<u8>>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(csv_bytes);
    let new_part = |header: &csv::StringRecord| -> Result<csv::Writer<Vec<u8>>, String> {
        let mut out = Vec::with_capacity(csv_bytes.len().min(64 << 20) + 3);
        out.extend_from_slice("\u{feff}".as_bytes());
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .flexible(true)
            .from_writer(out);
        writer
            .write_record(header)
            .map_err(|error| error.to_string())?;
        Ok(writer)
    };
    let mut records = reader.records();
    let header = match records.next() {
        Some(record) => record.map_err(|error| error.to_string())?,
        None => csv::StringRecord::new(),
    };
    let text_columns: Vec<bool> = header
        .iter()
        .map(|name| TEXT_COLUMNS.contains(&name))
        .collect();
    let mut parts = Vec::new();
    let mut writer = new_part(&header)?;
    let mut rows = 0;
    for record in records {
        let record = record.map_err(|error| error.to_string())?;
        if rows == max_rows {
            parts.push(writer.into_inner().map_err(|error| error.to_string())?);
            writer = new_part(&header)?;
            rows = 0;
        }
        let cells = record
            .iter()
            .enumerate()
            .map(|(at, value)| cell(text_columns.get(at).copied().unwrap_or(false), value));
        writer
            .write_record(cells.map(|cell| cell.into_owned()))
            .map_err(|error| error.to_string())?;
        rows += 1;
    }
    parts.push(writer.into_inner().map_err(|error| error.to_string())?);
    Ok(parts)
}

/// A cell as Excel should read it: a code that Excel would turn into a number or a date becomes
/// the text formula `="…"` (its characters are digits and `.-+/:eE` only, so nothing can be
/// injected); any other cell Excel would run as a formula gets a leading `'`; numbers stay numbers.
pub fn cell(text_column: bool, value: &str) -> Cow<'_, str> {
    if value.is_empty() {
        return Cow::Borrowed(value);
    }
    if text_column && excel_would_convert(value) {
        return Cow::Owned(format!("=\"{value}\""));
    }
    let formula_like = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if formula_like && crate::money::parse_decimal(value).is_err() {
        return Cow::Owned(format!("'{value}"));
    }
    Cow::Borrowed(value)
}

/// Whether Excel would read `value` as a number or a date (digits with `.`, `-`, `+`, `/`, `:`,
/// `e`/`E`, at least one digit).
fn excel_would_convert(value: &str) -> bool {
    value.bytes().any(|byte| byte.is_ascii_digit())
        && value
            .bytes()
            .all(|byte| byte.is_ascii_digit() || b".-+/:eE".contains(&byte))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_stay_text_formulas_are_neutralised_numbers_stay_numbers() {
        assert_eq!(cell(true, "0001"), "=\"0001\"");
        assert_eq!(cell(true, "2009-03"), "=\"2009-03\"");
        assert_eq!(cell(true, "12e4567890123456"), "=\"12e4567890123456\"");
        assert_eq!(cell(true, "b071945a5cb63dbf"), "b071945a5cb63dbf");
        assert_eq!(cell(true, "ADSL-0001"), "ADSL-0001");
        assert_eq!(cell(true, "=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell(false, "+81 3"), "'+81 3");
        assert_eq!(cell(false, "@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell(false, "-cmd"), "'-cmd");
        assert_eq!(cell(false, "-500"), "-500");
        assert_eq!(cell(false, "12.50"), "12.50");
        assert_eq!(cell(false, "ﾔﾏﾀﾞ ﾀﾛｳ"), "ﾔﾏﾀﾞ ﾀﾛｳ");
        assert_eq!(cell(false, ""), "");
    }

    #[test]
    fn a_csv_gets_a_bom_crlf_and_quoting() {
        let converted = convert(
            b"account_id,amount,bank_code,name\n=1+2,-5,0005,\"a, b\"\n",
            EXCEL_MAX_ROWS,
        )
        .unwrap();
        assert_eq!(converted.len(), 1);
        assert_eq!(
            String::from_utf8(converted[0].clone()).unwrap(),
            "\u{feff}account_id,amount,bank_code,name\r\n'=1+2,-5,\"=\"\"0005\"\"\",\"a, b\"\r\n"
        );
    }

    #[test]
    fn more_rows_than_a_sheet_holds_are_split_with_the_header() {
        let parts = convert(b"account_id,amount\nA,1\nB,2\nC,3\n", 2).unwrap();
        let parts: Vec<String> = parts
            .into_iter()
            .map(|part| String::from_utf8(part).unwrap())
            .collect();
        assert_eq!(
            parts,
            [
                "\u{feff}account_id,amount\r\nA,1\r\nB,2\r\n",
                "\u{feff}account_id,amount\r\nC,3\r\n"
            ]
        );
        let exact = convert(b"account_id,amount\nA,1\nB,2\n", 2).unwrap();
        assert_eq!(exact.len(), 1);
        let empty = convert(b"account_id,amount\n", 2).unwrap();
        assert_eq!(empty.len(), 1);
    }
}
