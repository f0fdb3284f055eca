//! Describing bad rows: the rows the vectorised checks flagged are read a second time, as text, and
//! each flagged cell is re-parsed by the exact parser so that the message names the real reason.
//! Runs only when there are problems, and only over the flagged rows.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::typed::parse_text;
use super::{
    Check, ColumnKind, ColumnSpec, FILE, Format, LoadError, Problem, ROW, RowProblem, Table,
    problem_name, query_error, reader, scan,
};
use crate::money;

fn raw_name(column: &str) -> String {
    format!("__r_{column}")
}

/// The raw text of the given rows (`__file`, `__row`): one column `__r_{name}` per spec column,
/// typed Parquet values written as text.
pub fn raw_rows(table: &Table, rows: &DataFrame) -> Result<DataFrame, LoadError> {
    let error = |error: PolarsError| query_error(table, error);
    let files = rows
        .column(FILE)
        .map_err(error)?
        .u32()
        .map_err(error)?
        .clone();
    let numbers = rows
        .column(ROW)
        .map_err(error)?
        .cast(&DataType::UInt32)
        .map_err(error)?;
    let numbers = numbers.u32().map_err(error)?.clone();
    let mut wanted: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for (file, row) in files.iter().zip(numbers.iter()) {
        if let (Some(file), Some(row)) = (file, row) {
            wanted.entry(file).or_default().push(row);
        }
    }
    let mut frames = Vec::with_capacity(wanted.len());
    for (file_index, mut file_rows) in wanted {
        let Some(file) = table.files.get(file_index as usize) else {
            continue;
        };
        if let (Format::Csv, Some(shape)) = (file.format, file.shape.as_deref()) {
            file_rows.sort_unstable();
            file_rows.dedup();
            let rows: Vec<u64> = file_rows.iter().map(|row| u64::from(*row)).collect();
            let raw = reader::raw_rows(table, file, shape, &rows)?;
            frames.push(raw_frame(table, file_index, raw).map_err(error)?.lazy());
            continue;
        }
        let scanned = scan(table, file)?;
        let mut exprs = vec![
            lit(file_index).cast(DataType::UInt32).alias(FILE),
            col(ROW).cast(DataType::UInt32),
        ];
        for spec in table.columns {
            exprs.push(match scanned.schema.get(spec.name) {
                Some(_) => col(spec.name)
                    .cast(DataType::String)
                    .alias(raw_name(spec.name)),
                None => lit(NULL).cast(DataType::String).alias(raw_name(spec.name)),
            });
        }
        let selected = Series::new("rows".into(), file_rows);
        frames.push(
            scanned
                .numbered(ROW)
                .map_err(|error| LoadError::Read {
                    file: file.display.clone(),
                    source: error.into(),
                })?
                .filter(
                    col(ROW)
                        .cast(DataType::UInt32)
                        .is_in(lit(selected).implode(false), false),
                )
                .select(exprs),
        );
    }
    if frames.is_empty() {
        let mut columns = vec![
            Column::new_empty(FILE.into(), &DataType::UInt32),
            Column::new_empty(ROW.into(), &DataType::UInt32),
        ];
        for spec in table.columns {
            columns.push(Column::new_empty(
                raw_name(spec.name).into(),
                &DataType::String,
            ));
        }
        return DataFrame::new_infer_height(columns).map_err(error);
    }
    concat(frames, UnionArgs::default())
        .and_then(LazyFrame::collect)
        .map_err(error)
}

/// The raw cells of some rows of a CSV file as the frame [`raw_rows`] returns.
fn raw_frame(table: &Table, file_index: u32, raw: Vec<reader::RawRow>) -> PolarsResult<DataFrame> {
    let mut columns = vec![
        Column::new(FILE.into(), vec![file_index; raw.len()]),
        Column::new(
            ROW.into(),
            raw.iter().map(|(row, _)| *row as u32).collect::<Vec<u32>>(),
        ),
    ];
    for (index, spec) in table.columns.iter().enumerate() {
        columns.push(Column::new(
            raw_name(spec.name).into(),
            raw.iter()
                .map(|(_, cells)| cells.get(index).cloned().flatten())
                .collect::<Vec<Option<String>>>(),
        ));
    }
    DataFrame::new_infer_height(columns)
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

/// Turns flagged rows into located problems. `flags` holds `__file`, `__row`, the `__p_*` cell flags
/// and the row-level flag columns named in `extra`: (flag column, the column to show, the problem).
/// The raw text of those rows is read here.
pub fn describe_problems(
    table: &Table,
    flags: &DataFrame,
    extra: &[(&str, &str, Problem)],
    currency: money::Currency,
) -> Result<Vec<RowProblem>, LoadError> {
    let error = |error: PolarsError| query_error(table, error);
    if flags.height() == 0 {
        return Ok(Vec::new());
    }
    let raw = raw_rows(table, flags)?;
    let frame = flags
        .clone()
        .lazy()
        .with_column(col(ROW).cast(DataType::UInt32))
        .join(
            raw.lazy(),
            [col(FILE), col(ROW)],
            [col(FILE), col(ROW)],
            JoinArgs::new(JoinType::Left),
        )
        .sort([FILE, ROW], SortMultipleOptions::default())
        .collect()
        .map_err(error)?;
    describe_frame(table, &frame, extra, currency).map_err(error)
}

fn describe_frame(
    table: &Table,
    frame: &DataFrame,
    extra: &[(&str, &str, Problem)],
    currency: money::Currency,
) -> PolarsResult<Vec<RowProblem>> {
    let files = frame.column(FILE)?.u32()?.clone();
    let rows = frame.column(ROW)?.cast(&DataType::UInt64)?;
    let rows = rows.u64()?.clone();
    let account_ids = frame.column(&raw_name("account_id"))?.str()?.clone();
    let mut out = Vec::new();
    let flag = |name: &str| -> PolarsResult<BooleanChunked> {
        frame.column(name)?.bool()?.fill_null_with_values(false)
    };
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
        // A row whose structure is bad is named for that alone: its cells are not where the
        // header says.
        let shape = table
            .files
            .get(file)
            .and_then(|file| file.shape.as_deref())
            .and_then(|shape| shape.problem(row).map(|problem| (shape, problem)));
        if let Some((shape, problem)) = shape {
            out.push(RowProblem {
                file: file_name.clone(),
                row,
                column: shape.column_of(problem),
                value: None,
                reason: super::shape::code(problem).to_string(),
                message: super::shape::message(problem),
                account_id: account_id.clone(),
            });
            continue;
        }
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

pub(crate) fn problem_message(
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
