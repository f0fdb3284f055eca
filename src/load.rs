//! Input tables: finding the files, scanning them with polars, and turning every column into its
//! exact type through the parsers in `money`. Each cell gets a problem code; a row with a problem is
//! reported with its file, row, column and value, never silently dropped or coerced.
//!
//! Owns: `accounts`, `charges`, `events` as lazy frames with typed columns. Must never round money
//! or accept binary floating point where a decimal is expected.

use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::money::{self, Month, NumberProblem};

/// Name of the per-file row index column (1-based data row).
pub const ROW: &str = "__row";
/// Name of the file index column (index into [`Table::files`]).
pub const FILE: &str = "__file";

/// A load problem that stops the run.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("input missing: {message}")]
    Missing { message: String },
    #[error("bad input: {message}")]
    Bad { message: String },
    #[error(
        "bad input: {count} problem(s) in the data (showing the first {shown}):\n{listing}\nhint: fix the rows, or run with `--on-bad-rows reject` to set them aside in rejects.csv and send their accounts to review"
    )]
    Rows {
        count: String,
        shown: usize,
        listing: String,
    },
    #[error("cannot read `{file}`: {message}")]
    Read { file: String, message: String },
}

/// Text encoding of CSV inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    #[default]
    Utf8,
    Cp932,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Str,
    Date,
    Month,
    Int,
    Money,
    Rate,
}

impl ColumnKind {
    fn expected(self) -> &'static str {
        match self {
            ColumnKind::Str => "text",
            ColumnKind::Date => "a date YYYY-MM-DD",
            ColumnKind::Month => "a month YYYY-MM",
            ColumnKind::Int => "a whole number",
            ColumnKind::Money => "an exact decimal amount such as `1234` or `1234.00`",
            ColumnKind::Rate => "a decimal rate such as `0.1`",
        }
    }

    /// The polars type of the column once parsed.
    pub fn dtype(self) -> DataType {
        match self {
            ColumnKind::Str | ColumnKind::Rate => DataType::String,
            ColumnKind::Date => DataType::Date,
            ColumnKind::Month => DataType::Int32,
            ColumnKind::Int | ColumnKind::Money => DataType::Int64,
        }
    }
}

/// Extra constraints on a column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    None,
    /// Must be ≥ 0.
    NonNegative,
    /// A rate with 0 ≤ r < 1.
    Fraction,
    /// One of a fixed list of words.
    OneOf(&'static [&'static str]),
}

#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    pub name: &'static str,
    pub kind: ColumnKind,
    pub required: bool,
    pub check: Check,
}

const fn column(name: &'static str, kind: ColumnKind, required: bool, check: Check) -> ColumnSpec {
    ColumnSpec {
        name,
        kind,
        required,
        check,
    }
}

use ColumnKind as K;

pub const ACCOUNT_COLUMNS: &[ColumnSpec] = &[
    column("account_id", K::Str, true, Check::None),
    column("holder_name", K::Str, true, Check::None),
    column("postal_code", K::Str, false, Check::None),
    column("address", K::Str, false, Check::None),
    column("email", K::Str, false, Check::None),
    column("language", K::Str, false, Check::OneOf(&["ja", "en"])),
    column("region", K::Str, false, Check::None),
    column("plan", K::Str, false, Check::None),
    column("customer_type", K::Str, false, Check::None),
    column("opened_on", K::Date, false, Check::None),
    column("status", K::Str, true, Check::OneOf(&["active", "closed"])),
    column("closed_on", K::Date, false, Check::None),
    column("bank_code", K::Str, false, Check::None),
    column("branch_code", K::Str, false, Check::None),
    column("bank_account_type", K::Str, false, Check::None),
    column("bank_account_number", K::Str, false, Check::None),
    column("bank_account_holder_kana", K::Str, false, Check::None),
];

pub const CHARGE_COLUMNS: &[ColumnSpec] = &[
    column("account_id", K::Str, true, Check::None),
    column("billing_month", K::Month, true, Check::None),
    column("period_start", K::Date, true, Check::None),
    column("period_end", K::Date, true, Check::None),
    column("item", K::Str, true, Check::None),
    column("quantity", K::Int, true, Check::NonNegative),
    column("unit_price", K::Money, true, Check::None),
    column("list_amount", K::Money, false, Check::None),
    column("discount_rate", K::Rate, false, Check::Fraction),
    column("amount", K::Money, true, Check::None),
    column("tax_rate", K::Rate, true, Check::Fraction),
    column("paid_on", K::Date, false, Check::None),
];

pub const EVENT_COLUMNS: &[ColumnSpec] = &[
    column("account_id", K::Str, true, Check::None),
    column("kind", K::Str, true, Check::None),
    column("date", K::Date, true, Check::None),
    column("detail", K::Str, false, Check::None),
    column("quantity", K::Int, false, Check::NonNegative),
];

/// Why a cell or a row is bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    Missing,
    Format,
    NotWhole,
    Range,
    NotAllowed,
    PeriodOrder,
    UnknownAccount,
    DuplicateAccount,
    QuantityRequired,
}

impl Problem {
    /// Stable reason code written to rejects.csv.
    pub fn code(self) -> &'static str {
        match self {
            Problem::Missing => "missing_value",
            Problem::Format => "bad_format",
            Problem::NotWhole => "not_whole_minor_unit",
            Problem::Range => "out_of_range",
            Problem::NotAllowed => "value_not_allowed",
            Problem::PeriodOrder => "period_start_after_period_end",
            Problem::UnknownAccount => "unknown_account",
            Problem::DuplicateAccount => "duplicate_account_id",
            Problem::QuantityRequired => "equipment_count_without_quantity",
        }
    }
}

/// One bad cell (or row), located exactly.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RowProblem {
    pub file: String,
    /// 1-based data row (the header is not counted).
    pub row: u64,
    pub column: String,
    pub value: Option<String>,
    pub reason: String,
    pub message: String,
    /// The row's account_id, when it could be read.
    pub account_id: Option<String>,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = match &self.value {
            Some(value) => format!("`{value}`"),
            None => "(empty)".to_string(),
        };
        write!(
            f,
            "  {} row {}, column `{}`, value {}: {}",
            self.file, self.row, self.column, value, self.message
        )
    }
}

/// One input file of a table.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// As shown to users: relative to `--data`.
    pub display: String,
    pub path: PathBuf,
    pub format: Format,
    /// A UTF-8 copy of a CP932 CSV, when transcoded.
    pub scan_path: PathBuf,
}

/// A table's files and its columns.
#[derive(Debug, Clone)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [ColumnSpec],
    pub files: Vec<InputFile>,
}

/// Finds a table as `NAME.parquet`, `NAME.csv` or a directory `NAME/` of such files.
pub fn discover(
    data_dir: &Path,
    name: &'static str,
    columns: &'static [ColumnSpec],
    encoding: Encoding,
    scratch: &Path,
) -> Result<Table, LoadError> {
    if !data_dir.is_dir() {
        return Err(LoadError::Missing {
            message: format!(
                "data directory `{}` does not exist or is not a directory",
                data_dir.display()
            ),
        });
    }
    let candidates = [
        data_dir.join(format!("{name}.parquet")),
        data_dir.join(format!("{name}.csv")),
        data_dir.join(name),
    ];
    let present: Vec<&PathBuf> = candidates.iter().filter(|path| path.exists()).collect();
    let chosen = match present.as_slice() {
        [] => {
            return Err(LoadError::Missing {
                message: format!(
                    "table `{name}` not found in `{}`\nhint: provide `{name}.csv`, `{name}.parquet` or a directory `{name}/` of such files",
                    data_dir.display()
                ),
            });
        }
        [one] => *one,
        several => {
            let names: Vec<String> = several
                .iter()
                .map(|path| format!("`{}`", display_name(data_dir, path)))
                .collect();
            return Err(LoadError::Bad {
                message: format!(
                    "table `{name}` is given more than once: {}\nhint: keep exactly one of them",
                    names.join(" and ")
                ),
            });
        }
    };
    let mut paths = Vec::new();
    if chosen.is_dir() {
        let entries = std::fs::read_dir(chosen).map_err(|error| LoadError::Read {
            file: display_name(data_dir, chosen),
            message: error.to_string(),
        })?;
        for entry in entries {
            let entry = entry.map_err(|error| LoadError::Read {
                file: display_name(data_dir, chosen),
                message: error.to_string(),
            })?;
            let path = entry.path();
            let file_name = entry.file_name().to_string_lossy().to_string();
            if file_name.starts_with('.') || !path.is_file() {
                continue;
            }
            if format_of(&path).is_none() {
                return Err(LoadError::Bad {
                    message: format!(
                        "`{}` is neither .csv nor .parquet\nhint: a table directory holds only the table's CSV or Parquet files",
                        display_name(data_dir, &path)
                    ),
                });
            }
            paths.push(path);
        }
        paths.sort();
        if paths.is_empty() {
            return Err(LoadError::Missing {
                message: format!(
                    "table directory `{}` holds no .csv or .parquet file",
                    display_name(data_dir, chosen)
                ),
            });
        }
    } else {
        paths.push(chosen.clone());
    }
    let mut files = Vec::with_capacity(paths.len());
    for (index, path) in paths.into_iter().enumerate() {
        let format = format_of(&path).unwrap_or(Format::Csv);
        let display = display_name(data_dir, &path);
        let scan_path = if format == Format::Csv && encoding == Encoding::Cp932 {
            let target = scratch.join(format!("{name}-{index}.utf8.csv"));
            transcode_cp932(&path, &target, &display)?;
            target
        } else {
            path.clone()
        };
        files.push(InputFile {
            display,
            path,
            format,
            scan_path,
        });
    }
    Ok(Table {
        name,
        columns,
        files,
    })
}

fn format_of(path: &Path) -> Option<Format> {
    match path.extension().and_then(|extension| extension.to_str()) {
        Some("csv") => Some(Format::Csv),
        Some("parquet") => Some(Format::Parquet),
        _ => None,
    }
}

fn display_name(data_dir: &Path, path: &Path) -> String {
    path.strip_prefix(data_dir)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Writes a UTF-8 copy of a CP932 (Shift_JIS) file; refuses bytes that are not CP932.
fn transcode_cp932(source: &Path, target: &Path, display: &str) -> Result<(), LoadError> {
    let read_error = |error: std::io::Error| LoadError::Read {
        file: display.to_string(),
        message: error.to_string(),
    };
    let mut input = std::fs::File::open(source).map_err(read_error)?;
    let mut output = std::io::BufWriter::new(std::fs::File::create(target).map_err(read_error)?);
    let mut decoder = encoding_rs::SHIFT_JIS.new_decoder_without_bom_handling();
    let mut buffer = vec![0u8; 1 << 20];
    let mut text = String::with_capacity(1 << 21);
    let mut line = 1u64;
    loop {
        let read = input.read(&mut buffer).map_err(read_error)?;
        let last = read == 0;
        let mut consumed = 0;
        loop {
            text.clear();
            let (result, used) = decoder.decode_to_string_without_replacement(
                &buffer[consumed..read],
                &mut text,
                last,
            );
            consumed += used;
            line += text.matches('\n').count() as u64;
            output.write_all(text.as_bytes()).map_err(read_error)?;
            match result {
                encoding_rs::DecoderResult::InputEmpty => break,
                encoding_rs::DecoderResult::OutputFull => {
                    text.reserve(1 << 20);
                }
                encoding_rs::DecoderResult::Malformed(_, _) => {
                    return Err(LoadError::Bad {
                        message: format!(
                            "`{display}` line {line}: bytes that are not CP932 (Shift_JIS)\nhint: check the export's encoding; without `--encoding cp932` the file is read as UTF-8"
                        ),
                    });
                }
            }
        }
        if last {
            break;
        }
    }
    output.flush().map_err(read_error)
}

/// A file scanned by polars, with its columns checked against the table's specification.
struct ScannedFile {
    frame: LazyFrame,
    schema: SchemaRef,
}

fn scan(table: &Table, file: &InputFile) -> Result<ScannedFile, LoadError> {
    let polars_error = |error: PolarsError| LoadError::Read {
        file: file.display.clone(),
        message: error.to_string(),
    };
    let path = PlRefPath::from(file.scan_path.to_string_lossy().as_ref());
    let frame = match file.format {
        Format::Csv => LazyCsvReader::new(path)
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .with_glob(false)
            .with_raise_if_empty(false)
            .finish()
            .map_err(polars_error)?,
        Format::Parquet => {
            let args = ScanArgsParquet {
                glob: false,
                ..Default::default()
            };
            LazyFrame::scan_parquet(path, args).map_err(polars_error)?
        }
    };
    let mut frame = frame;
    let schema = frame.collect_schema().map_err(polars_error)?;
    for spec in table.columns {
        match schema.get(spec.name) {
            None if spec.required => {
                return Err(LoadError::Bad {
                    message: format!(
                        "`{}` has no column `{}` (required in table `{}`)\nhint: column names are exact and lower case; found: {}",
                        file.display,
                        spec.name,
                        table.name,
                        schema
                            .iter_names()
                            .map(|name| format!("`{name}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
            None => {}
            Some(dtype) => check_dtype(spec, dtype).map_err(|message| LoadError::Bad {
                message: format!("`{}` column `{}`: {message}", file.display, spec.name),
            })?,
        }
    }
    Ok(ScannedFile { frame, schema })
}

fn check_dtype(spec: &ColumnSpec, dtype: &DataType) -> Result<(), String> {
    let accepted = match (spec.kind, dtype) {
        (_, DataType::String) => true,
        (_, DataType::Null) => true,
        (K::Money | K::Rate | K::Int, DataType::Float32 | DataType::Float64) => {
            return Err(format!(
                "is binary floating point ({dtype}); {} must be exact\nhint: export it as DECIMAL or integer in Parquet, or as text in CSV",
                if spec.kind == K::Int {
                    "counts"
                } else {
                    "money and rates"
                }
            ));
        }
        (K::Str, dtype) => dtype.is_integer(),
        (K::Date, DataType::Date) => true,
        // A billing month stored as a DATE is the month that date falls in.
        (K::Month, DataType::Date) => true,
        (K::Int, dtype) => dtype.is_integer(),
        (K::Money | K::Rate, DataType::Decimal(_, _)) => true,
        (K::Money | K::Rate, dtype) => dtype.is_integer(),
        _ => false,
    };
    if accepted {
        Ok(())
    } else {
        Err(format!(
            "has type {dtype}; expected {}",
            spec.kind.expected()
        ))
    }
}

/// Parses one text cell. `Ok(None)` is an empty cell.
fn parse_text(spec: &ColumnSpec, text: &str, digits: u32) -> Result<Value, Problem> {
    let value = match spec.kind {
        K::Str => Value::Str,
        K::Date => Value::Date(money::parse_date(text).ok_or(Problem::Format)?),
        K::Month => Value::Month(Month::parse(text).ok_or(Problem::Format)?),
        K::Int => Value::Int(parse_int(text)?),
        K::Money => Value::Money(money::parse_minor(text, digits).map_err(number_problem)?),
        K::Rate => Value::Rate(money::parse_decimal(text).map_err(number_problem)?),
    };
    check_value(spec, text, &value)?;
    Ok(value)
}

enum Value {
    Str,
    Date(chrono::NaiveDate),
    Month(Month),
    Int(i64),
    Money(i64),
    Rate(rust_decimal::Decimal),
}

fn check_value(spec: &ColumnSpec, text: &str, value: &Value) -> Result<(), Problem> {
    match (spec.check, value) {
        (Check::NonNegative, Value::Int(number)) if *number < 0 => Err(Problem::Range),
        (Check::Fraction, Value::Rate(rate)) if rate.is_sign_negative() && !rate.is_zero() => {
            Err(Problem::Range)
        }
        (Check::Fraction, Value::Rate(rate)) if *rate >= rust_decimal::Decimal::ONE => {
            Err(Problem::Range)
        }
        (Check::OneOf(words), _) if !words.contains(&text) => Err(Problem::NotAllowed),
        _ => Ok(()),
    }
}

fn number_problem(problem: NumberProblem) -> Problem {
    match problem {
        NumberProblem::Format => Problem::Format,
        NumberProblem::NotWhole => Problem::NotWhole,
        NumberProblem::Range => Problem::Range,
    }
}

fn parse_int(text: &str) -> Result<i64, Problem> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(Problem::Format);
    }
    text.strip_prefix('+')
        .unwrap_or(text)
        .parse()
        .map_err(|_| Problem::Range)
}

fn days_to_date(days: i32) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?
        .checked_add_signed(chrono::Duration::days(i64::from(days)))
}

fn date_to_days(date: chrono::NaiveDate) -> i32 {
    (date - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days() as i32
}

fn decimal_cell(
    spec: &ColumnSpec,
    mantissa: i128,
    scale: u32,
    digits: u32,
) -> Result<i64, Problem> {
    let decimal = rust_decimal::Decimal::try_from_i128_with_scale(mantissa, scale)
        .map_err(|_| Problem::Range)?;
    match spec.kind {
        K::Money => money::decimal_to_minor(decimal, digits).map_err(number_problem),
        K::Rate => {
            check_value(spec, "", &Value::Rate(decimal))?;
            Ok(0)
        }
        _ => Err(Problem::Format),
    }
}

fn integer_cell(spec: &ColumnSpec, value: i128, digits: u32) -> Result<i64, Problem> {
    match spec.kind {
        K::Int => {
            let value = i64::try_from(value).map_err(|_| Problem::Range)?;
            check_value(spec, "", &Value::Int(value))?;
            Ok(value)
        }
        K::Money => {
            let minor = value
                .checked_mul(i128::from(10i64.pow(digits)))
                .ok_or(Problem::Range)?;
            if minor.abs() > i128::from(money::MAX_ABS_MINOR) {
                return Err(Problem::Range);
            }
            Ok(minor as i64)
        }
        K::Rate => {
            check_value(
                spec,
                "",
                &Value::Rate(rust_decimal::Decimal::from_i128_with_scale(value, 0)),
            )?;
            Ok(0)
        }
        K::Str => Ok(0),
        _ => Err(Problem::Format),
    }
}

/// The typed values of a column; cells with a problem become null.
fn typed_values(spec: ColumnSpec, column: &Column, digits: u32) -> PolarsResult<Column> {
    let name = column.name().clone();
    let series = column.as_materialized_series();
    let out: Column = match (spec.kind, series.dtype()) {
        (K::Str, _) => {
            let strings = series.cast(&DataType::String)?;
            let strings = strings.str()?;
            match spec.check {
                // Empty text is a missing value; a word outside the allowed list is not a value.
                Check::OneOf(words) => StringChunked::from_iter_options(
                    name,
                    strings
                        .iter()
                        .map(|cell| cell.filter(|text| words.contains(text))),
                )
                .into_column(),
                _ if strings.iter().any(|cell| cell == Some("")) => {
                    StringChunked::from_iter_options(
                        name,
                        strings
                            .iter()
                            .map(|cell| cell.filter(|text| !text.is_empty())),
                    )
                    .into_column()
                }
                _ => strings.clone().into_column(),
            }
        }
        (K::Date, DataType::Date) => column.clone(),
        (K::Month, DataType::Date) => {
            let days = series.cast(&DataType::Int32)?;
            let days = days.i32()?;
            Int32Chunked::from_iter_options(
                name,
                days.iter().map(|day| {
                    day.and_then(days_to_date)
                        .map(|date| Month::of_date(date).index())
                }),
            )
            .into_column()
        }
        (_, DataType::String) => {
            let strings = series.str()?;
            let parsed = strings.iter().map(|cell| match cell {
                None | Some("") => None,
                Some(text) => parse_text(&spec, text, digits).ok(),
            });
            match spec.kind {
                K::Date => Int32Chunked::from_iter_options(
                    name,
                    parsed.map(|value| match value {
                        Some(Value::Date(date)) => Some(date_to_days(date)),
                        _ => None,
                    }),
                )
                .into_date()
                .into_column(),
                K::Month => Int32Chunked::from_iter_options(
                    name,
                    parsed.map(|value| match value {
                        Some(Value::Month(month)) => Some(month.index()),
                        _ => None,
                    }),
                )
                .into_column(),
                K::Int | K::Money => Int64Chunked::from_iter_options(
                    name,
                    parsed.map(|value| match value {
                        Some(Value::Int(number)) | Some(Value::Money(number)) => Some(number),
                        _ => None,
                    }),
                )
                .into_column(),
                K::Rate => StringChunked::from_iter_options(
                    name,
                    parsed.map(|value| match value {
                        Some(Value::Rate(rate)) => Some(money::format_rate(rate)),
                        _ => None,
                    }),
                )
                .into_column(),
                K::Str => column.clone(),
            }
        }
        (_, DataType::Decimal(_, scale)) => {
            let scale = *scale as u32;
            let decimals = series.decimal()?;
            match spec.kind {
                K::Money => Int64Chunked::from_iter_options(
                    name,
                    decimals.physical().iter().map(|cell| {
                        cell.and_then(|mantissa| decimal_cell(&spec, mantissa, scale, digits).ok())
                    }),
                )
                .into_column(),
                _ => StringChunked::from_iter_options(
                    name,
                    decimals.physical().iter().map(|cell| {
                        cell.and_then(|mantissa| {
                            decimal_cell(&spec, mantissa, scale, digits).ok()?;
                            rust_decimal::Decimal::try_from_i128_with_scale(mantissa, scale)
                                .ok()
                                .map(money::format_rate)
                        })
                    }),
                )
                .into_column(),
            }
        }
        (_, dtype) if dtype.is_integer() => {
            let integers = series.strict_cast(&DataType::Int64)?;
            let integers = integers.i64()?;
            match spec.kind {
                K::Rate => StringChunked::from_iter_options(
                    name,
                    integers.iter().map(|cell| {
                        cell.and_then(|value| {
                            integer_cell(&spec, i128::from(value), digits)
                                .ok()
                                .map(|_| value.to_string())
                        })
                    }),
                )
                .into_column(),
                _ => Int64Chunked::from_iter_options(
                    name,
                    integers.iter().map(|cell| {
                        cell.and_then(|value| integer_cell(&spec, i128::from(value), digits).ok())
                    }),
                )
                .into_column(),
            }
        }
        _ => Column::full_null(name, series.len(), &spec.kind.dtype()),
    };
    Ok(out)
}

fn problem_name(column: &str) -> String {
    format!("__p_{column}")
}

fn raw_name(column: &str) -> String {
    format!("__r_{column}")
}

/// The table as one lazy frame: for each spec column the typed value `name`, its problem code
/// `__p_name` and its raw text `__r_name`; plus `__file` and `__row`.
pub fn prepare(table: &Table, digits: u32) -> Result<LazyFrame, LoadError> {
    let mut frames = Vec::with_capacity(table.files.len());
    for (file_index, file) in table.files.iter().enumerate() {
        let scanned = scan(table, file)?;
        let mut exprs: Vec<Expr> = vec![
            lit(file_index as u32).cast(DataType::UInt32).alias(FILE),
            col(ROW),
        ];
        let mut flags: Vec<Expr> = Vec::with_capacity(table.columns.len());
        for &spec in table.columns {
            if scanned.schema.get(spec.name).is_some() {
                let typed = col(spec.name).map(
                    move |column| typed_values(spec, &column, digits),
                    move |_, field| Ok(Field::new(field.name().clone(), spec.kind.dtype())),
                );
                exprs.push(typed.alias(spec.name));
                exprs.push(
                    col(spec.name)
                        .cast(DataType::String)
                        .alias(raw_name(spec.name)),
                );
            } else {
                exprs.push(lit(NULL).cast(spec.kind.dtype()).alias(spec.name));
                exprs.push(lit(NULL).cast(DataType::String).alias(raw_name(spec.name)));
            }
            // A cell is bad when text is present but does not parse, or a required cell is empty.
            let present = col(raw_name(spec.name))
                .is_not_null()
                .and(col(raw_name(spec.name)).neq(lit("")));
            let unparsed = present.clone().and(col(spec.name).is_null());
            let flag = if spec.required {
                unparsed.or(present.not())
            } else {
                unparsed
            };
            flags.push(flag.alias(problem_name(spec.name)));
        }
        frames.push(
            scanned
                .frame
                .with_row_index(ROW, Some(1))
                .select(exprs)
                .with_columns(flags),
        );
    }
    let args = UnionArgs {
        parallel: true,
        rechunk: false,
        to_supertypes: false,
        ..Default::default()
    };
    concat(frames, args).map_err(|error| LoadError::Bad {
        message: format!("table `{}`: {error}", table.name),
    })
}

/// `true` when any cell of the row has a problem.
pub fn any_problem(columns: &[ColumnSpec], extra: &[&str]) -> Expr {
    let mut expr = lit(false);
    for spec in columns {
        expr = expr.or(col(problem_name(spec.name)));
    }
    for name in extra {
        expr = expr.or(col(*name));
    }
    expr
}

/// Why a flagged cell is bad: re-parsed from its raw text, so the reason is exact.
fn cell_problem(spec: &ColumnSpec, raw: Option<&str>, digits: u32) -> Problem {
    match raw {
        None | Some("") => Problem::Missing,
        Some(text) => parse_text(spec, text, digits)
            .err()
            .unwrap_or(Problem::Format),
    }
}

/// Turns a collected frame of problem rows into located problems. `extra` names row-level flag
/// columns: (flag column, the column to show, the problem).
pub fn describe_problems(
    table: &Table,
    frame: &DataFrame,
    extra: &[(&str, &str, Problem)],
    currency: money::Currency,
) -> Result<Vec<RowProblem>, PolarsError> {
    let files = frame.column(FILE)?.u32()?.clone();
    let rows = frame.column(ROW)?.cast(&DataType::UInt64)?;
    let rows = rows.u64()?.clone();
    let account_ids = frame.column(&raw_name("account_id"))?.str()?.clone();
    let mut out = Vec::new();
    let flag =
        |name: &str| -> PolarsResult<BooleanChunked> { Ok(frame.column(name)?.bool()?.clone()) };
    let raw = |name: &str| -> PolarsResult<StringChunked> {
        Ok(frame.column(&raw_name(name))?.str()?.clone())
    };
    let mut cells = Vec::with_capacity(table.columns.len());
    for spec in table.columns {
        cells.push((spec, flag(&problem_name(spec.name))?, raw(spec.name)?));
    }
    let mut rows_checks = Vec::with_capacity(extra.len());
    for (flag_column, value_column, problem) in extra {
        rows_checks.push((
            *value_column,
            flag(flag_column)?,
            raw(value_column)?,
            *problem,
        ));
    }
    for index in 0..frame.height() {
        let file = files.get(index).unwrap_or(0) as usize;
        let file_name = table
            .files
            .get(file)
            .map(|file| file.display.clone())
            .unwrap_or_default();
        let row = rows.get(index).unwrap_or(0);
        let account_id = account_ids
            .get(index)
            .filter(|id| !id.is_empty())
            .map(str::to_string);
        let mut push =
            |column: &str, value: Option<&str>, problem: Problem, spec: Option<&ColumnSpec>| {
                out.push(RowProblem {
                    file: file_name.clone(),
                    row,
                    column: column.to_string(),
                    value: value.map(str::to_string),
                    reason: problem.code().to_string(),
                    message: problem_message(
                        problem,
                        spec,
                        spec.map(|spec| spec.kind),
                        currency,
                        table.name,
                    ),
                    account_id: account_id.clone(),
                });
            };
        for (spec, flags, values) in &cells {
            if flags.get(index) == Some(true) {
                let value = values.get(index);
                push(
                    spec.name,
                    value,
                    cell_problem(spec, value, currency.digits),
                    Some(spec),
                );
            }
        }
        for (column, flags, values, problem) in &rows_checks {
            if flags.get(index) == Some(true) {
                push(column, values.get(index), *problem, None);
            }
        }
    }
    Ok(out)
}

fn problem_message(
    problem: Problem,
    spec: Option<&ColumnSpec>,
    kind: Option<ColumnKind>,
    currency: money::Currency,
    table: &str,
) -> String {
    let expected = kind.map(ColumnKind::expected).unwrap_or("a valid value");
    match problem {
        Problem::Missing => "missing value in a required column".to_string(),
        Problem::Format => {
            format!("expected {expected} (no spaces, exponents or thousands separators)")
        }
        Problem::NotWhole => format!(
            "not a whole amount of {} (minor unit has {} decimal digit(s)); money must be whole in the currency's minor unit",
            currency.code, currency.digits
        ),
        Problem::Range => match spec.map(|spec| spec.check) {
            Some(Check::NonNegative) => "must be ≥ 0".to_string(),
            Some(Check::Fraction) => {
                "must be a fraction with 0 ≤ rate < 1 (10% is `0.1`)".to_string()
            }
            _ => "out of range".to_string(),
        },
        Problem::NotAllowed => match spec.map(|spec| spec.check) {
            Some(Check::OneOf(words)) => format!(
                "must be one of {}",
                words
                    .iter()
                    .map(|word| format!("`{word}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => "value not allowed".to_string(),
        },
        Problem::PeriodOrder => "period_start is after period_end".to_string(),
        Problem::UnknownAccount => "account_id does not exist in accounts".to_string(),
        Problem::DuplicateAccount => {
            format!("account_id appears more than once in {table}; it must be unique")
        }
        Problem::QuantityRequired => "an `equipment_count` event needs a quantity ≥ 0".to_string(),
    }
}

/// Rows in each file of a table, counted by polars.
pub fn count_rows(table: &Table) -> Result<Vec<u64>, LoadError> {
    let mut counts = Vec::with_capacity(table.files.len());
    for file in &table.files {
        let scanned = scan(table, file)?;
        let frame = scanned
            .frame
            .select([len().alias("n")])
            .collect()
            .map_err(|error| LoadError::Read {
                file: file.display.clone(),
                message: error.to_string(),
            })?;
        let count = frame
            .column("n")
            .ok()
            .and_then(|column| column.cast(&DataType::UInt64).ok())
            .and_then(|column| column.u64().ok().and_then(|values| values.get(0)))
            .unwrap_or(0);
        counts.push(count);
    }
    Ok(counts)
}

/// Wraps a polars error during a query over a table.
pub fn query_error(table: &Table, error: PolarsError) -> LoadError {
    let files: Vec<&str> = table
        .files
        .iter()
        .map(|file| file.display.as_str())
        .collect();
    LoadError::Read {
        file: files.join(", "),
        message: error.to_string(),
    }
}
