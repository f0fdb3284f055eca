//! Stage 1: the accounts and events tables, typed and validated in polars. Both are small next to
//! the charges and are held as frames. Every account_id written in accounts gets a number
//! (`__account_no`, in account_id byte order) that the later stages join and group on.

use polars::prelude::*;

use super::{FileStats, IdentifyError, engine_collect, engine_collect_all, error};
use crate::incident::Incident;
use crate::load::{self, FILE, Problem, ROW, RowProblem, Table};
use crate::money::Currency;
use crate::rules::columns::ACCOUNT_NO;

pub(crate) const DUPLICATE: &str = "__p_duplicate";
pub(crate) const UNKNOWN: &str = "__p_unknown_account";
const QUANTITY: &str = "__p_quantity_required";
const BAD: &str = "__bad";

/// accounts, typed, with the flags of its problems.
pub(crate) struct Accounts {
    /// Every row: typed columns, `__account_no`, problem flags, `__bad`.
    pub frame: DataFrame,
    /// Every non-empty account_id written in accounts (valid or not) and its number: rows of a
    /// rejected account are not "unknown account" problems.
    pub known: DataFrame,
    pub problems: Vec<RowProblem>,
    pub files: Vec<FileStats>,
}

impl Accounts {
    /// Rows without a problem.
    pub fn valid(&self) -> LazyFrame {
        self.frame.clone().lazy().filter(col(BAD).not())
    }
}

pub(crate) fn accounts(table: &Table, currency: Currency) -> Result<Accounts, IdentifyError> {
    let frame = engine_collect(load::typed_frame(table, currency.digits)?).map_err(error(table))?;
    let known = frame
        .clone()
        .lazy()
        .filter(col("__p_account_id").not())
        .select([col("account_id")])
        .drop_nulls(None)
        .unique(None, UniqueKeepStrategy::Any)
        .sort(["account_id"], SortMultipleOptions::default())
        .with_row_index(ACCOUNT_NO, None)
        .collect()
        .map_err(error(table))?;
    let counts = frame
        .clone()
        .lazy()
        .filter(col("__p_account_id").not())
        .drop_nulls(Some(cols(["account_id"])))
        .group_by([col("account_id")])
        .agg([len().alias("__count")]);
    let frame = frame
        .lazy()
        .join(
            known.clone().lazy(),
            [col("account_id")],
            [col("account_id")],
            JoinArgs::new(JoinType::Left),
        )
        .join(
            counts,
            [col("account_id")],
            [col("account_id")],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(
            col("__count")
                .gt(lit(1u32))
                .fill_null(lit(false))
                .alias(DUPLICATE),
        )
        .with_column(load::any_problem(load::ACCOUNT_COLUMNS, &[DUPLICATE]).alias(BAD))
        .collect()
        .map_err(error(table))?;
    let problems = describe(
        table,
        &frame,
        load::ACCOUNT_COLUMNS,
        &[(DUPLICATE, "account_id", Problem::DuplicateAccount)],
        currency,
    )?;
    let files = file_stats(table, &frame)?;
    Ok(Accounts {
        frame,
        known,
        problems,
        files,
    })
}

/// events of the kinds the incident reads, typed, with the flags of its problems.
pub(crate) struct Events {
    /// Rows of the kinds read: typed columns, `__account_no`, problem flags, `__bad`.
    pub frame: DataFrame,
    pub problems: Vec<RowProblem>,
    pub files: Vec<FileStats>,
}

impl Events {
    pub fn valid(&self) -> LazyFrame {
        self.frame.clone().lazy().filter(col(BAD).not())
    }
}

pub(crate) fn events(
    incident: &Incident,
    table: &Table,
    accounts: &Accounts,
    currency: Currency,
) -> Result<Events, IdentifyError> {
    let mut kinds: Vec<String> = vec![incident.trigger.event.clone()];
    kinds.extend(incident.rule.read_event_kinds());
    let kinds = Series::new("kinds".into(), kinds);
    let typed = load::typed_frame(table, currency.digits)?.cache();
    // Kinds that no rule uses are ignored; a row whose kind cannot be read is a problem.
    let read = typed
        .clone()
        .filter(
            col("kind")
                .is_null()
                .or(col("kind").is_in(lit(kinds).implode(false), false)),
        )
        .join(
            accounts.known.clone().lazy(),
            [col("account_id")],
            [col("account_id")],
            JoinArgs::new(JoinType::Left),
        )
        .with_columns([
            col("account_id")
                .is_not_null()
                .and(col("__p_account_id").not())
                .and(col(ACCOUNT_NO).is_null())
                .alias(UNKNOWN),
            col("kind")
                .eq(lit("equipment_count"))
                .and(col("quantity").is_null())
                .and(col("__p_quantity").not())
                .fill_null(lit(false))
                .alias(QUANTITY),
        ])
        .with_column(load::any_problem(load::EVENT_COLUMNS, &[UNKNOWN, QUANTITY]).alias(BAD));
    let counts = typed.group_by([col(FILE)]).agg([len().alias("rows")]);
    let mut frames = engine_collect_all(vec![read, counts])
        .map_err(error(table))?
        .into_iter();
    let frame = super::next_frame(&mut frames, "the events").map_err(error(table))?;
    let counts = super::next_frame(&mut frames, "the events' row counts").map_err(error(table))?;
    let problems = describe(
        table,
        &frame,
        load::EVENT_COLUMNS,
        &[
            (UNKNOWN, "account_id", Problem::UnknownAccount),
            (QUANTITY, "quantity", Problem::QuantityRequired),
        ],
        currency,
    )?;
    let bad = frame
        .clone()
        .lazy()
        .filter(col(BAD))
        .group_by([col(FILE)])
        .agg([len().alias("rejected")])
        .collect()
        .map_err(error(table))?;
    let files = stats_from_counts(table, &counts, &bad)?;
    Ok(Events {
        frame,
        problems,
        files,
    })
}

/// The problems of the flagged rows of a collected table.
fn describe(
    table: &Table,
    frame: &DataFrame,
    columns: &[load::ColumnSpec],
    extra: &[(&str, &str, Problem)],
    currency: Currency,
) -> Result<Vec<RowProblem>, IdentifyError> {
    let mut keep: Vec<Expr> = vec![col(FILE), col(ROW)];
    keep.extend(
        columns
            .iter()
            .map(|spec| col(load::problem_name(spec.name))),
    );
    keep.extend(extra.iter().map(|(flag, _, _)| col(*flag)));
    let flagged = frame
        .clone()
        .lazy()
        .filter(col(BAD))
        .select(keep)
        .collect()
        .map_err(error(table))?;
    Ok(load::describe_problems(table, &flagged, extra, currency)?)
}

fn file_stats(table: &Table, frame: &DataFrame) -> Result<Vec<FileStats>, IdentifyError> {
    let counts = frame
        .clone()
        .lazy()
        .group_by([col(FILE)])
        .agg([len().alias("rows")])
        .collect()
        .map_err(error(table))?;
    let bad = frame
        .clone()
        .lazy()
        .filter(col(BAD))
        .group_by([col(FILE)])
        .agg([len().alias("rejected")])
        .collect()
        .map_err(error(table))?;
    stats_from_counts(table, &counts, &bad)
}

/// One `FileStats` per file of the table, from frames of `__file` with `rows` and `rejected`.
pub(crate) fn stats_from_counts(
    table: &Table,
    rows: &DataFrame,
    rejected: &DataFrame,
) -> Result<Vec<FileStats>, IdentifyError> {
    let per_file = |frame: &DataFrame, name: &str| -> PolarsResult<Vec<u64>> {
        let mut counts = vec![0u64; table.files.len()];
        if frame.height() == 0 {
            return Ok(counts);
        }
        let files = frame.column(FILE)?.u32()?.clone();
        let values = frame.column(name)?.cast(&DataType::UInt64)?;
        for (file, value) in files.iter().zip(values.u64()?.iter()) {
            if let (Some(file), Some(value)) = (file, value)
                && let Some(slot) = counts.get_mut(file as usize)
            {
                *slot += value;
            }
        }
        Ok(counts)
    };
    let rows = per_file(rows, "rows").map_err(error(table))?;
    let rejected = per_file(rejected, "rejected").map_err(error(table))?;
    Ok(table
        .files
        .iter()
        .enumerate()
        .map(|(index, file)| FileStats {
            table: table.name.to_string(),
            file: file.display.clone(),
            rows: rows[index],
            rows_rejected: rejected[index],
        })
        .collect())
}
