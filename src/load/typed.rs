//! Typing every column of a table with vectorised polars expressions: typed Parquet columns
//! (DECIMAL, integer, DATE) are checked by integer arithmetic on their physical values, never
//! through text; text columns (CSV, or text in Parquet) go through polars' integer cast, and where a
//! column needs the exact parsers of `money` (dates, months, rates, decimal-notation money), those
//! parsers run once per *distinct* text of a batch and polars maps the results back to the rows.
//!
//! The result of a column is its typed value, null when the cell is empty or bad, and a problem flag
//! `__p_{name}`; which problem it is, is worked out later for flagged rows only (`describe`).
//! Must never accept a cell the parsers of `money` refuse, nor refuse one they accept.

use polars::prelude::*;
use rust_decimal::Decimal;

use super::shape::{CsvShape, Piece};
use super::{
    Check, ColumnKind as K, ColumnSpec, FILE, Format, LoadError, Problem, ROW, Table, reader, scan,
};
use crate::money::{self, Month, NumberProblem};

/// Scale of the exact decimal type rates have inside polars: every rate `money::parse_decimal`
/// accepts below 1 (at most 28 decimals) fits `Decimal(38, 28)` exactly.
pub const RATE_SCALE: usize = 28;

pub fn rate_dtype() -> DataType {
    DataType::Decimal(38, RATE_SCALE)
}

/// A rate as a polars literal of the rate type.
pub fn rate_literal(rate: Decimal) -> Expr {
    let rate = rate.normalize();
    let mantissa = rate.mantissa() * 10i128.pow(RATE_SCALE as u32 - rate.scale());
    lit(Scalar::new_decimal(mantissa, 38, RATE_SCALE))
}

/// Up to this many accounts, the second pass filters the scan by a list of account ids.
const SCAN_FILTER_ACCOUNTS: usize = 20_000;

/// rust_decimal holds at most 96 bits of mantissa; a larger Parquet decimal is out of range.
const DECIMAL_MANTISSA_LIMIT: i128 = 1 << 96;

/// The row-level flag of a CSV row whose structure is bad (`shape`).
pub const SHAPE: &str = "__p_shape";

pub fn problem_name(column: &str) -> String {
    format!("__p_{column}")
}

fn present_name(column: &str) -> String {
    format!("__present_{column}")
}

fn int128(value: i128) -> Expr {
    lit(Scalar::new(DataType::Int128, AnyValue::Int128(value)))
}

/// The table as one lazy frame: `__file`, `__row` (1-based data row of its file), and for each spec
/// column its typed value under its own name and its problem flag `__p_{name}`. No text is carried.
pub fn typed_frame(table: &Table, digits: u32) -> Result<LazyFrame, LoadError> {
    typed_rows(table, digits, None, &Part::whole(table))
}

/// Some of a table's rows, read in one run: whole files, or one range of rows of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// (file index, rows `offset..offset + length` of that file, or all of them).
    pub pieces: Vec<(usize, Option<(i64, IdxSize)>)>,
    /// How many rows the part holds, when [`parts`] counted them (not for [`Part::whole`]).
    pub rows: Option<u64>,
}

impl Part {
    /// Every file of the table.
    pub fn whole(table: &Table) -> Part {
        Part {
            pieces: (0..table.files.len()).map(|index| (index, None)).collect(),
            rows: None,
        }
    }
}

/// [`typed_frame`] restricted to the rows of `part` (row numbers stay those of each file).
pub fn typed_frame_part(table: &Table, digits: u32, part: &Part) -> Result<LazyFrame, LoadError> {
    typed_rows(table, digits, None, part)
}

/// Splits a table into parts of about `rows` rows each: consecutive files grouped, a larger file
/// cut into row ranges. Parquet row counts come from the files' metadata and a Parquet file may be
/// cut at any row; a CSV file's rows were counted by its structure check and it is cut only where
/// one of its chunks starts. A CSV part is parsed into memory at once, so it holds at most
/// [`CSV_PART_ROWS`] rows.
pub fn parts(table: &Table, rows: u64) -> Result<Vec<Part>, LoadError> {
    if rows == 0 {
        return Ok(vec![Part::whole(table)]);
    }
    let mut parts = Vec::new();
    let mut current = Part {
        pieces: Vec::new(),
        rows: Some(0),
    };
    let mut filled = 0u64;
    for (index, file) in table.files.iter().enumerate() {
        let (count, limit, cuts) = match file.shape.as_deref() {
            Some(shape) if file.format == Format::Csv => (
                shape.rows,
                rows.min(CSV_PART_ROWS),
                Some(
                    shape
                        .chunks
                        .iter()
                        .map(|chunk| chunk.rows_before)
                        .collect::<Vec<_>>(),
                ),
            ),
            _ => (parquet_rows(table, file)?, rows, None),
        };
        if count <= limit || cuts.as_ref().is_some_and(|cuts| cuts.len() <= 1) {
            if filled + count > limit && !current.pieces.is_empty() {
                parts.push(std::mem::replace(
                    &mut current,
                    Part {
                        pieces: Vec::new(),
                        rows: Some(0),
                    },
                ));
                filled = 0;
            }
            current.pieces.push((index, None));
            filled += count;
            current.rows = Some(filled);
            continue;
        }
        if !current.pieces.is_empty() {
            parts.push(std::mem::replace(
                &mut current,
                Part {
                    pieces: Vec::new(),
                    rows: Some(0),
                },
            ));
            filled = 0;
        }
        let length = count.div_ceil(count.div_ceil(limit));
        let mut offset = 0u64;
        while offset < count {
            let mut end = (offset + length).min(count);
            if let Some(cuts) = &cuts {
                // The first chunk start at or after the cut (at least one chunk further on).
                end = cuts
                    .iter()
                    .copied()
                    .find(|&start| start >= end && start > offset)
                    .unwrap_or(count);
            }
            parts.push(Part {
                pieces: vec![(index, Some((offset as i64, (end - offset) as IdxSize)))],
                rows: Some(end - offset),
            });
            offset = end;
        }
    }
    if !current.pieces.is_empty() {
        parts.push(current);
    }
    if parts.is_empty() {
        parts.push(Part::whole(table));
    }
    Ok(parts)
}

/// The most rows of a CSV part (about 1 GB once typed).
pub const CSV_PART_ROWS: u64 = 8_000_000;

/// A Parquet file's row count, from its metadata.
fn parquet_rows(table: &Table, file: &super::InputFile) -> Result<u64, LoadError> {
    let counted = scan(table, file)?
        .frame()
        .map_err(|error| LoadError::Read {
            file: file.display.clone(),
            source: error.into(),
        })?
        .select([len().alias("rows")])
        .collect()
        .map_err(|error| LoadError::Read {
            file: file.display.clone(),
            source: error.into(),
        })?;
    Ok(counted
        .column("rows")
        .ok()
        .and_then(|column| column.cast(&DataType::UInt64).ok())
        .and_then(|column| column.u64().ok().and_then(|values| values.get(0)))
        .unwrap_or(0))
}

/// [`typed_frame`] restricted, before any typing, to the rows whose `account_id` is one of
/// `accounts` (a frame with a text column `account_id`): the second pass reads only the rows of
/// the accounts it sums.
pub fn typed_frame_of(
    table: &Table,
    digits: u32,
    accounts: &DataFrame,
) -> Result<LazyFrame, LoadError> {
    typed_rows(table, digits, Some(accounts), &Part::whole(table))
}

fn typed_rows(
    table: &Table,
    digits: u32,
    accounts: Option<&DataFrame>,
    part: &Part,
) -> Result<LazyFrame, LoadError> {
    let mut frames = Vec::with_capacity(part.pieces.len());
    for &(file_index, slice) in &part.pieces {
        let Some(file) = table.files.get(file_index) else {
            continue;
        };
        frames.push(match file.shape.as_deref() {
            Some(shape) if file.format == Format::Csv => {
                csv_rows(table, file_index, shape, digits, accounts, slice)?
            }
            _ => scanned_rows(table, file_index, digits, accounts, slice)?,
        });
    }
    let args = UnionArgs {
        parallel: true,
        rechunk: false,
        to_supertypes: false,
        ..Default::default()
    };
    concat(frames, args).map_err(|source| LoadError::Engine {
        what: format!("joining the files of table `{}`", table.name),
        source,
    })
}

/// The rows of `slice` of a file as polars scans it, typed by polars expressions.
pub(super) fn scanned_rows(
    table: &Table,
    file_index: usize,
    digits: u32,
    accounts: Option<&DataFrame>,
    slice: Option<(i64, IdxSize)>,
) -> Result<LazyFrame, LoadError> {
    let file = &table.files[file_index];
    let scanned = scan(table, file)?;
    let schema = scanned.schema.clone();
    let polars_error = |error: PolarsError| LoadError::Read {
        file: file.display.clone(),
        source: error.into(),
    };
    let rows = match accounts {
        None => match slice {
            // Sliced before numbering, so that the scan reads only those rows.
            Some((offset, length)) => scanned
                .frame()
                .map_err(polars_error)?
                .slice(offset, length)
                .with_row_index(ROW, Some(1 + offset as IdxSize)),
            None => scanned.numbered(ROW).map_err(polars_error)?,
        },
        // A filter the scan applies while reading (only the matching rows' other columns are
        // decoded); these rows are never reported, so they carry no row number.
        Some(accounts) => of_accounts(table, scanned.frame().map_err(polars_error)?, accounts)?
            .with_column(lit(NULL).cast(IDX_DTYPE).alias(ROW)),
    };
    let shape_flag = shape_flag(file, accounts.is_none());
    let mut values: Vec<Expr> = vec![
        lit(file_index as u32).cast(DataType::UInt32).alias(FILE),
        col(ROW),
        shape_flag.alias(SHAPE),
    ];
    let mut flags: Vec<Expr> = Vec::with_capacity(table.columns.len());
    let mut helpers: Vec<PlSmallStr> = Vec::with_capacity(table.columns.len());
    for &spec in table.columns {
        match schema.get(spec.name) {
            Some(dtype) => {
                let (value, present) = typed_column(spec, dtype, digits);
                values.push(value.alias(spec.name));
                values.push(present.alias(present_name(spec.name)));
                helpers.push(present_name(spec.name).into());
                let present = col(present_name(spec.name));
                let unread = present.clone().and(col(spec.name).is_null());
                let flag = if spec.required {
                    unread.or(present.not())
                } else {
                    unread
                };
                flags.push(flag.alias(problem_name(spec.name)));
            }
            None => {
                // Only optional columns may be absent (`scan` refuses a missing required one).
                values.push(lit(NULL).cast(spec.kind.dtype()).alias(spec.name));
                flags.push(lit(false).alias(problem_name(spec.name)));
            }
        }
    }
    Ok(rows
        .select(values)
        .with_columns(flags)
        .drop(Selector::ByName {
            names: helpers.into(),
            strict: true,
        }))
}

/// The rows of `frame` (with a column `account_id`) whose account is one of `accounts`.
fn of_accounts(
    table: &Table,
    frame: LazyFrame,
    accounts: &DataFrame,
) -> Result<LazyFrame, LoadError> {
    let wanted = accounts
        .column("account_id")
        .map_err(|source| LoadError::Engine {
            what: format!("selecting the accounts of table `{}`", table.name),
            source,
        })?;
    // A short list is a filter the scan applies while reading (only matching rows' other columns
    // are decoded); a long one is a join, whose hash table is built once.
    Ok(if wanted.len() <= SCAN_FILTER_ACCOUNTS {
        frame.filter(col("account_id").cast(DataType::String).is_in(
            lit(wanted.as_materialized_series().clone()).implode(false),
            false,
        ))
    } else {
        frame.join(
            accounts
                .clone()
                .lazy()
                .select([col("account_id").alias("__wanted")]),
            [col("account_id").cast(DataType::String)],
            [col("__wanted")],
            JoinArgs::new(JoinType::Semi),
        )
    })
}

/// Bytes of CSV text parsed at once when only some accounts' rows are kept.
const CSV_FILTERED_BYTES: usize = 256 << 20;

/// Consecutive chunks in groups of at most `bytes` bytes (a larger chunk alone); one empty group
/// when there are no chunks.
fn chunk_groups(chunks: &[Piece], bytes: usize) -> Vec<&[Piece]> {
    if chunks.is_empty() {
        return vec![chunks];
    }
    let mut groups = Vec::new();
    let mut from = 0usize;
    while from < chunks.len() {
        let mut to = from + 1;
        while to < chunks.len() && chunks[to].end - chunks[from].start <= bytes {
            to += 1;
        }
        groups.push(&chunks[from..to]);
        from = to;
    }
    groups
}

/// The rows of `slice` of a CSV file, parsed by the typed reader (`reader`) now: the whole slice,
/// or, keeping only the rows of `accounts`, a few chunks at a time.
fn csv_rows(
    table: &Table,
    file_index: usize,
    shape: &CsvShape,
    digits: u32,
    accounts: Option<&DataFrame>,
    slice: Option<(i64, IdxSize)>,
) -> Result<LazyFrame, LoadError> {
    let file = &table.files[file_index];
    let header: Schema = shape
        .header
        .iter()
        .map(|name| Field::new(name.as_str().into(), DataType::String))
        .collect();
    super::check_columns(table, file, &header)?;
    let chunks: Vec<Piece> = shape
        .chunks
        .iter()
        .filter(|chunk| match slice {
            None => true,
            Some((offset, length)) => {
                let offset = offset.max(0) as u64;
                (offset..offset + u64::from(length)).contains(&chunk.rows_before)
            }
        })
        .copied()
        .collect();
    let Some(accounts) = accounts else {
        return Ok(reader::read(table, file_index, file, shape, &chunks, digits)?.lazy());
    };
    let polars_error = |error: PolarsError| LoadError::Read {
        file: file.display.clone(),
        source: error.into(),
    };
    let mut kept: Vec<LazyFrame> = Vec::new();
    for group in chunk_groups(&chunks, CSV_FILTERED_BYTES) {
        let rows = reader::read(table, file_index, file, shape, group, digits)?;
        // These rows are never reported, so they carry no row number and no structure flag.
        let selected = of_accounts(table, rows.lazy(), accounts)?
            .with_columns([
                lit(NULL).cast(IDX_DTYPE).alias(ROW),
                lit(false).alias(SHAPE),
            ])
            .collect()
            .map_err(polars_error)?;
        kept.push(selected.lazy());
    }
    concat(kept, UnionArgs::default()).map_err(polars_error)
}

/// [`SHAPE`] for the rows of `file` whose CSV structure is bad; rows read without their numbers
/// (`numbered` false, the second pass) are never reported, so never flagged.
fn shape_flag(file: &super::InputFile, numbered: bool) -> Expr {
    match &file.shape {
        Some(shape) if numbered && !shape.bad_rows.is_empty() => {
            let rows: Vec<u64> = shape.bad_rows.iter().map(|(row, _)| *row).collect();
            col(ROW)
                .cast(DataType::UInt64)
                .is_in(lit(Series::new("rows".into(), rows)).implode(false), false)
        }
        _ => lit(false),
    }
}

/// `true` when any cell of the row has a problem, or any of the `extra` row-level flags is set.
pub fn any_problem(columns: &[ColumnSpec], extra: &[&str]) -> Expr {
    let mut expr = col(SHAPE);
    for spec in columns {
        expr = expr.or(col(problem_name(spec.name)));
    }
    for name in extra {
        expr = expr.or(col(*name).fill_null(lit(false)));
    }
    expr
}

/// (typed value, cell present) of one column read with polars type `dtype`.
fn typed_column(spec: ColumnSpec, dtype: &DataType, digits: u32) -> (Expr, Expr) {
    let source = col(spec.name);
    match dtype {
        DataType::String => (
            text_value(spec, source.clone(), digits),
            source
                .clone()
                .is_not_null()
                .and(source.str().len_bytes().gt(lit(0u32))),
        ),
        DataType::Null => (lit(NULL).cast(spec.kind.dtype()), lit(false)),
        _ => (typed_value(spec, dtype, digits), source.is_not_null()),
    }
}

/// A text column: strings as they are (empty is missing), integers through polars' cast, and what
/// needs an exact parser through [`parse_distinct`].
fn text_value(spec: ColumnSpec, source: Expr, digits: u32) -> Expr {
    match spec.kind {
        K::Str => match spec.check {
            Check::OneOf(words) => {
                let allowed = Series::new("allowed".into(), words.to_vec());
                when(source.clone().is_in(lit(allowed).implode(false), false))
                    .then(source)
                    .otherwise(lit(NULL).cast(DataType::String))
            }
            // A required column's empty cell is flagged as missing and the row never used:
            // the text stays as it is, without a copy.
            _ if spec.required => source,
            _ => when(source.clone().str().len_bytes().gt(lit(0u32)))
                .then(source)
                .otherwise(lit(NULL).cast(DataType::String)),
        },
        K::Int | K::Money => source.map(
            move |column| integer_text(column, spec, digits),
            |_, field| Ok(Field::new(field.name().clone(), DataType::Int64)),
        ),
        K::Month | K::Date | K::Rate => source.map(
            move |column| parse_distinct(column, spec, digits),
            move |_, field| Ok(Field::new(field.name().clone(), spec.kind.dtype())),
        ),
    }
}

/// A typed (non-text) Parquet column: checked by arithmetic on its physical values.
fn typed_value(spec: ColumnSpec, dtype: &DataType, digits: u32) -> Expr {
    let source = col(spec.name);
    let null = || lit(NULL).cast(spec.kind.dtype());
    let non_negative = |value: Expr| match spec.check {
        Check::NonNegative => when(value.clone().gt_eq(lit(0i64)))
            .then(value)
            .otherwise(lit(NULL).cast(DataType::Int64)),
        _ => value,
    };
    let max_minor = int128(i128::from(money::MAX_ABS_MINOR));
    let within_money_range = |minor: Expr| {
        when(minor.clone().abs().lt_eq(max_minor.clone()))
            .then(minor.cast(DataType::Int64))
            .otherwise(lit(NULL).cast(DataType::Int64))
    };
    let fraction = |rate: Expr| {
        when(
            rate.clone()
                .gt_eq(rate_literal(Decimal::ZERO))
                .and(rate.clone().lt(rate_literal(Decimal::ONE))),
        )
        .then(rate)
        .otherwise(lit(NULL).cast(rate_dtype()))
    };
    match (spec.kind, dtype) {
        (K::Str, _) => text_value(spec, source.cast(DataType::String), digits),
        (K::Date, DataType::Date) => source,
        // A billing month stored as a DATE is the month that date falls in.
        (K::Month, DataType::Date) => month_index(source),
        (K::Int, dtype) if dtype.is_integer() => non_negative(source.cast(DataType::Int64)),
        (K::Money, dtype) if dtype.is_integer() => {
            within_money_range(source.cast(DataType::Int128) * int128(10i128.pow(digits)))
        }
        (K::Money, DataType::Decimal(precision, scale)) => {
            let scale = *scale as u32;
            if scale > 28 {
                return null();
            }
            if *precision <= 18 && scale <= digits {
                // Fits an i64 mantissa: whole by construction, only the magnitude to check.
                let unit = 10i64.pow(digits - scale);
                let mantissa = source.to_physical().cast(DataType::Int64);
                return when(
                    mantissa
                        .clone()
                        .abs()
                        .lt_eq(lit(money::MAX_ABS_MINOR / unit)),
                )
                .then(mantissa * lit(unit))
                .otherwise(lit(NULL).cast(DataType::Int64));
            }
            let mantissa = source.to_physical();
            let minor = if scale <= digits {
                mantissa.clone() * int128(10i128.pow(digits - scale))
            } else {
                // Whole in the minor unit: the digits below it are all zero.
                let unit = int128(10i128.pow(scale - digits));
                when((mantissa.clone() % unit.clone()).eq(int128(0)))
                    .then(mantissa.clone().floor_div(unit))
                    .otherwise(lit(NULL).cast(DataType::Int128))
            };
            when(mantissa.abs().lt(int128(DECIMAL_MANTISSA_LIMIT)))
                .then(within_money_range(minor))
                .otherwise(lit(NULL).cast(DataType::Int64))
        }
        (K::Rate, DataType::Decimal(precision, scale)) => {
            if *scale > 28 {
                return null();
            }
            if *precision <= 18 {
                // 0 ≤ rate < 1 on the i64 mantissa: 0 ≤ m < 10^scale.
                let mantissa = source.clone().to_physical().cast(DataType::Int64);
                let below_one = 10i64.pow(*scale as u32);
                return when(
                    mantissa
                        .clone()
                        .gt_eq(lit(0i64))
                        .and(mantissa.lt(lit(below_one))),
                )
                .then(source.cast(rate_dtype()))
                .otherwise(null());
            }
            when(
                source
                    .clone()
                    .to_physical()
                    .abs()
                    .lt(int128(DECIMAL_MANTISSA_LIMIT)),
            )
            .then(fraction(source.cast(rate_dtype())))
            .otherwise(null())
        }
        // An integer rate is a fraction only when it is 0.
        (K::Rate, dtype) if dtype.is_integer() => when(source.eq(lit(0i64)))
            .then(rate_literal(Decimal::ZERO))
            .otherwise(null()),
        // Any other combination is refused by `check_dtype` before a frame is built.
        _ => null(),
    }
}

/// The month index (`Month::index`) of a date expression.
pub fn month_index(date: Expr) -> Expr {
    date.clone().dt().year() * lit(12i32) + date.dt().month().cast(DataType::Int32) - lit(1i32)
}

/// Integers and money written as text. polars' integer cast reads `[+-]?digits` exactly as
/// `money::parse_minor` and the integer parser do (a test holds them together); a batch with any
/// other text (decimal notation such as `100.00`, or a bad cell) is read by [`parse_distinct`].
fn integer_text(column: Column, spec: ColumnSpec, digits: u32) -> PolarsResult<Column> {
    let name = column.name().clone();
    let strings = column.str()?;
    let integers = column.cast(&DataType::Int64)?;
    let integers = integers.i64()?;
    let present = strings.str_len_bytes().gt(0);
    let unread = present & integers.is_null();
    if unread.any() {
        return parse_distinct(column, spec, digits);
    }
    let out = match spec.kind {
        K::Money => {
            let scale = 10i64.pow(digits);
            let bound = money::MAX_ABS_MINOR / scale;
            let in_range = integers.gt_eq(-bound) & integers.lt_eq(bound);
            let scaled = integers * scale;
            scaled.zip_with(
                &in_range,
                &Int64Chunked::full_null(name.clone(), column.len()),
            )?
        }
        _ => match spec.check {
            Check::NonNegative => integers.zip_with(
                &integers.gt_eq(0),
                &Int64Chunked::full_null(name.clone(), column.len()),
            )?,
            _ => integers.clone(),
        },
    };
    Ok(out.with_name(name).into_column())
}

/// Text cells parsed by the exact parsers of `money`, once per distinct text in the batch; polars
/// maps each row to its distinct text's value with a join. A text the parser refuses (or an empty
/// cell) becomes null, which the caller's flag turns into a problem when the cell was present.
fn parse_distinct(column: Column, spec: ColumnSpec, digits: u32) -> PolarsResult<Column> {
    let name = column.name().clone();
    let strings = column.str()?;
    let distinct = strings.unique()?;
    let texts: Vec<Option<&str>> = distinct.iter().collect();
    let parsed = texts
        .iter()
        .map(|text| text.and_then(|text| parse_text(&spec, text, digits).ok()));
    let values: Column = match spec.kind {
        K::Date => Int32Chunked::from_iter_options(
            "value".into(),
            parsed.map(|value| match value {
                Some(Value::Date(date)) => Some(date_to_days(date)),
                _ => None,
            }),
        )
        .into_date()
        .into_column(),
        K::Month => Int32Chunked::from_iter_options(
            "value".into(),
            parsed.map(|value| match value {
                Some(Value::Month(month)) => Some(month.index()),
                _ => None,
            }),
        )
        .into_column(),
        K::Int | K::Money => Int64Chunked::from_iter_options(
            "value".into(),
            parsed.map(|value| match value {
                Some(Value::Int(number)) | Some(Value::Money(number)) => Some(number),
                _ => None,
            }),
        )
        .into_column(),
        K::Rate => Int128Chunked::from_iter_options(
            "value".into(),
            parsed.map(|value| match value {
                Some(Value::Rate(rate)) => {
                    let rate = rate.normalize();
                    Some(rate.mantissa() * 10i128.pow(RATE_SCALE as u32 - rate.scale()))
                }
                _ => None,
            }),
        )
        .into_decimal(38, RATE_SCALE)?
        .into_column(),
        K::Str => return Ok(column),
    };
    // A few distinct texts (rates, a month): one vectorised comparison each. More: a hash join.
    if texts.len() <= 8 {
        let mut out = Column::full_null(name.clone(), column.len(), values.dtype());
        for (index, text) in texts.iter().enumerate() {
            let Some(text) = text else { continue };
            let value = values.get(index)?;
            if value.is_null() {
                continue;
            }
            let mask = strings.equal(*text);
            let filled = Column::new_scalar(
                name.clone(),
                Scalar::new(values.dtype().clone(), value.into_static()),
                column.len(),
            );
            out = filled.zip_with(&mask, &out)?;
        }
        return Ok(out);
    }
    let mapping = DataFrame::new_infer_height(vec![
        distinct.with_name("text".into()).into_column(),
        values,
    ])?;
    let rows = DataFrame::new_infer_height(vec![column.with_name("text".into())])?;
    let mut args = JoinArgs::new(JoinType::Left);
    args.maintain_order = MaintainOrderJoin::Left;
    let joined = rows.join(&mapping, ["text"], ["text"], args, None)?;
    Ok(joined.column("value")?.clone().with_name(name))
}

/// Parses one text cell with the exact parsers of `money`.
pub(super) fn parse_text(spec: &ColumnSpec, text: &str, digits: u32) -> Result<Value, Problem> {
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

pub(super) enum Value {
    Str,
    Date(chrono::NaiveDate),
    Month(Month),
    Int(i64),
    Money(i64),
    Rate(Decimal),
}

fn check_value(spec: &ColumnSpec, text: &str, value: &Value) -> Result<(), Problem> {
    match (spec.check, value) {
        (Check::NonNegative, Value::Int(number)) if *number < 0 => Err(Problem::Range),
        (Check::Fraction, Value::Rate(rate)) if rate.is_sign_negative() && !rate.is_zero() => {
            Err(Problem::Range)
        }
        (Check::Fraction, Value::Rate(rate)) if *rate >= Decimal::ONE => Err(Problem::Range),
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

pub(super) fn date_to_days(date: chrono::NaiveDate) -> i32 {
    (date - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days() as i32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::charge_spec as spec;

    /// Types one text column of the given cells and returns (value as text, flagged) per cell.
    fn typed_text(name: &str, cells: &[Option<&str>], digits: u32) -> Vec<(String, bool)> {
        let spec = spec(name);
        let frame = DataFrame::new_infer_height(vec![Column::new(
            name.into(),
            cells
                .iter()
                .map(|cell| cell.map(str::to_string))
                .collect::<Vec<_>>(),
        )])
        .unwrap();
        let (value, present) = typed_column(spec, &DataType::String, digits);
        let out = frame
            .lazy()
            .select([value.alias("value"), present.alias("present")])
            .collect()
            .unwrap();
        let values = out
            .column("value")
            .unwrap()
            .cast(&DataType::String)
            .unwrap();
        let values = values.str().unwrap().clone();
        let present = out.column("present").unwrap().bool().unwrap().clone();
        (0..cells.len())
            .map(|index| {
                let value = values.get(index);
                let flagged = if spec.required {
                    value.is_none()
                } else {
                    present.get(index) == Some(true) && value.is_none()
                };
                (value.unwrap_or("null").to_string(), flagged)
            })
            .collect()
    }

    /// The vectorised path accepts exactly what the exact parser accepts, with the same value.
    fn assert_same_as_parser(name: &str, cells: &[&str], digits: u32) {
        let spec = spec(name);
        let cells: Vec<Option<&str>> = cells.iter().map(|cell| Some(*cell)).collect();
        for (cell, (value, flagged)) in cells.iter().zip(typed_text(name, &cells, digits)) {
            let text = cell.unwrap();
            let expected = match parse_text(&spec, text, digits) {
                Ok(Value::Int(number)) | Ok(Value::Money(number)) => Some(number.to_string()),
                Ok(Value::Date(date)) => Some(date.to_string()),
                Ok(Value::Month(month)) => Some(month.index().to_string()),
                Ok(Value::Rate(rate)) => Some(rate.normalize().to_string()),
                Ok(Value::Str) => Some(text.to_string()),
                Err(_) => None,
            };
            match expected {
                None if text.is_empty() => assert_eq!(value, "null", "{name} {text:?}"),
                None => assert!(flagged, "{name} {text:?} should be flagged, got {value}"),
                Some(expected) => {
                    assert!(!flagged, "{name} {text:?} flagged");
                    let value = if spec.kind == K::Rate {
                        money::parse_decimal(&value)
                            .unwrap()
                            .normalize()
                            .to_string()
                    } else {
                        value
                    };
                    assert_eq!(value, expected, "{name} {text:?}");
                }
            }
        }
    }

    const NUMBERS: &[&str] = &[
        "0",
        "5",
        "-0",
        "+5",
        "-5",
        "0005",
        "00000000000000000000000005",
        "1000000000000000",
        "1000000000000001",
        "-1000000000000000",
        "99999999999999999999",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "",
        " 5",
        "5 ",
        "+",
        "-",
        "+-5",
        "-+5",
        "--5",
        "++5",
        "1_000",
        "1,000",
        "1e3",
        "0x10",
        "５",
        "٣",
        "5.",
        ".5",
        "5.0",
        "5.00",
        "5.5",
        "-0.0",
        "+12.50",
        "12.505",
        "12.500",
        "1.0000000000000000000000000000001",
        "NaN",
        "inf",
    ];

    #[test]
    fn integer_and_money_text_match_the_exact_parsers() {
        for digits in [0, 2] {
            assert_same_as_parser("amount", NUMBERS, digits);
            // A batch of plain integers only takes polars' cast; check it alone as well.
            assert_same_as_parser(
                "amount",
                &[
                    "0",
                    "5",
                    "-0",
                    "+5",
                    "0005",
                    "1000000000000000",
                    "1000000000000001",
                    "9223372036854775808",
                ],
                digits,
            );
        }
        assert_same_as_parser("quantity", NUMBERS, 0);
        assert_same_as_parser(
            "quantity",
            &[
                "0",
                "5",
                "-5",
                "+5",
                "9223372036854775807",
                "9223372036854775808",
            ],
            0,
        );
    }

    #[test]
    fn dates_months_and_rates_match_the_exact_parsers() {
        assert_same_as_parser(
            "period_start",
            &[
                "2009-01-05",
                "2009-1-05",
                "2009-02-29",
                "2008-02-29",
                "20090105",
                "2009-01-05 ",
                "0000-01-01",
                "9999-12-31",
                "+2009-01-05",
                "",
            ],
            0,
        );
        assert_same_as_parser(
            "billing_month",
            &[
                "2009-01",
                "2009-1",
                "2009-13",
                "2009-00",
                "200901",
                "2009-01-01",
                " 2009-01",
                "",
            ],
            0,
        );
        assert_same_as_parser(
            "tax_rate",
            &[
                "0.08",
                "0.1",
                "0.10",
                "0",
                "0.0",
                "1",
                "1.0",
                "-0.1",
                "-0",
                "1e-1",
                ".1",
                "0.",
                "0.1.1",
                "0.0000000000000000000000000001",
                "0.00000000000000000000000000001",
                "0.12345678901234567890123456789",
                "12345678901.5",
                "",
            ],
            0,
        );
    }

    #[test]
    fn one_of_columns_and_empty_strings() {
        let specs = crate::load::ACCOUNT_COLUMNS;
        let status = *specs.iter().find(|spec| spec.name == "status").unwrap();
        let frame = DataFrame::new_infer_height(vec![Column::new(
            "status".into(),
            vec![
                Some("active"),
                Some("closed"),
                Some("Active"),
                Some(""),
                None,
            ],
        )])
        .unwrap();
        let (value, _) = typed_column(status, &DataType::String, 0);
        let out = frame.lazy().select([value]).collect().unwrap();
        let values: Vec<Option<&str>> = out
            .column("status")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(
            values,
            vec![Some("active"), Some("closed"), None, None, None]
        );
    }
}
