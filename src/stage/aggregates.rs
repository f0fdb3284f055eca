//! `redress run --aggregates`: what a planned stage wrote, read back into the values `identify`
//! gives a `run --data` (the changed invoices' groups, the accounts, the review list, the counts),
//! so that the money policy, the ledgers and every document are those of the same code path.
//!
//! Must refuse aggregates that do not belong to this incident file or this redress, that are
//! incomplete, or that report bad data (exit 65, as `run --data` would).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::RunError;
use crate::identify::invoices::{self, RATE_HI, RATE_LO, RATE_SPLIT, Sums};
use crate::identify::{FileStats, Identified};
use crate::incident::Incident;
use crate::load::{self, LoadError, Problem, RowProblem};
use crate::rules::columns::*;
use crate::rules::{PlanContext, ReviewReason};

/// One Parquet file the stage wrote, for the manifest.
#[derive(Debug, Clone)]
pub struct AggregateFile {
    /// The output table it belongs to.
    pub table: String,
    /// Relative to the aggregates location.
    pub file: String,
    pub path: PathBuf,
    pub rows: u64,
}

/// What the stage recorded of itself.
#[derive(Debug, Clone)]
pub struct Stage {
    pub stage_id: String,
    pub engine: String,
    /// Σ amount of the in-scope rows the rule read, minor units (a control figure of the stage).
    pub charge_amount_in_scope: String,
}

/// The aggregates, read and checked.
pub struct Aggregates {
    pub identified: Identified,
    pub stage: Stage,
    pub files: Vec<AggregateFile>,
}

fn bad(message: String) -> RunError {
    RunError::Load(LoadError::Bad { message })
}

/// One output table: `LOCATION/NAME.parquet`, or the Parquet files of `LOCATION/NAME/` (Spark
/// writes a directory of part files beside `_SUCCESS` and checksum files).
fn read_table(
    location: &Path,
    name: &str,
    files: &mut Vec<AggregateFile>,
) -> Result<DataFrame, RunError> {
    let single = location.join(format!("{name}.parquet"));
    let directory = location.join(name);
    let paths: Vec<PathBuf> = if single.is_file() {
        vec![single]
    } else if directory.is_dir() {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&directory)
            .map_err(|error| {
                RunError::Load(LoadError::Read {
                    file: directory.display().to_string(),
                    source: error.into(),
                })
            })?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| {
                let file_name = path.file_name().map(|n| n.to_string_lossy().to_string());
                file_name.is_some_and(|n| {
                    n.ends_with(".parquet") && !n.starts_with('.') && !n.starts_with('_')
                })
            })
            .collect();
        paths.sort();
        paths
    } else {
        Vec::new()
    };
    if paths.is_empty() {
        return Err(RunError::Load(LoadError::Missing {
            message: format!(
                "the aggregates at `{}` have no table `{name}` ({name}.parquet or {name}/)\nhint: run the stage's SQL to the end (it writes `control` last), or check --aggregates",
                location.display()
            ),
        }));
    }
    let mut frames = Vec::with_capacity(paths.len());
    for path in paths {
        let frame = load::scan_parquet_file(&path)?.collect().map_err(|error| {
            RunError::Load(LoadError::Read {
                file: path.display().to_string(),
                source: error.into(),
            })
        })?;
        files.push(AggregateFile {
            table: name.to_string(),
            file: path
                .strip_prefix(location)
                .unwrap_or(&path)
                .display()
                .to_string(),
            path,
            rows: frame.height() as u64,
        });
        frames.push(frame.lazy());
    }
    concat(frames, UnionArgs::default())
        .and_then(LazyFrame::collect)
        .map_err(|error| polars_error(name, error))
}

fn polars_error(name: &str, error: PolarsError) -> RunError {
    bad(format!(
        "aggregates table `{name}`: {error}\nhint: the table was not written by this redress's stage.sql; run `redress plan` and the script again"
    ))
}

fn text_values(
    frame: &DataFrame,
    name: &str,
    table: &str,
) -> Result<Vec<Option<String>>, RunError> {
    let column = frame
        .column(name)
        .and_then(|column| column.cast(&DataType::String))
        .map_err(|error| polars_error(table, error))?;
    let values = column.str().map_err(|error| polars_error(table, error))?;
    Ok(values
        .iter()
        .map(|value| value.map(str::to_string))
        .collect())
}

fn int_values(frame: &DataFrame, name: &str, table: &str) -> Result<Vec<Option<i64>>, RunError> {
    let column = frame
        .column(name)
        .and_then(|column| column.strict_cast(&DataType::Int64))
        .map_err(|error| polars_error(table, error))?;
    let values = column.i64().map_err(|error| polars_error(table, error))?;
    Ok(values.iter().collect())
}

/// The one row of `control`.
struct Control {
    text: BTreeMap<&'static str, String>,
    counts: BTreeMap<&'static str, u64>,
}

fn control(frame: &DataFrame) -> Result<Control, RunError> {
    if frame.height() != 1 {
        return Err(bad(format!(
            "aggregates table `control` has {} rows; it has exactly one\nhint: write the aggregates of one run to a location of their own",
            frame.height()
        )));
    }
    let mut text = BTreeMap::new();
    for name in [
        "stage_id",
        "incident_id",
        "incident_sha256",
        "engine",
        "redress_version",
        "currency",
    ] {
        let value = text_values(frame, name, "control")?
            .remove(0)
            .unwrap_or_default();
        text.insert(name, value);
    }
    let amount = frame
        .column("charge_amount_in_scope")
        .and_then(|column| column.cast(&DataType::String))
        .map_err(|error| polars_error("control", error))?;
    text.insert(
        "charge_amount_in_scope",
        amount
            .str()
            .map_err(|error| polars_error("control", error))?
            .get(0)
            .unwrap_or("0")
            .to_string(),
    );
    let mut counts = BTreeMap::new();
    for name in [
        "accounts_rows",
        "charges_rows",
        "events_rows",
        "problem_rows",
        "accounts_in_scope",
        "charge_rows_in_scope",
        "group_rows",
        "account_rows",
        "review_rows",
    ] {
        let value = int_values(frame, name, "control")?
            .remove(0)
            .and_then(|value| u64::try_from(value).ok())
            .unwrap_or(0);
        counts.insert(name, value);
    }
    Ok(Control { text, counts })
}

impl Control {
    fn text(&self, name: &str) -> String {
        self.text.get(name).cloned().unwrap_or_default()
    }

    fn count(&self, name: &str) -> u64 {
        self.counts.get(name).copied().unwrap_or(0)
    }

    /// Refuses aggregates of another incident file, redress version or currency.
    fn check_origin(&self, incident: &Incident, location: &Path) -> Result<(), RunError> {
        if self.text("incident_sha256") != incident.file_sha256 {
            return Err(RunError::Usage(format!(
                "the aggregates at `{}` were planned from another incident file (SHA-256 {}; `{}` has {})\nhint: run `redress plan` with this incident file and the stage's SQL again, or pass the incident file it was planned from",
                location.display(),
                self.text("incident_sha256"),
                incident.path.display(),
                incident.file_sha256
            )));
        }
        if self.text("redress_version") != env!("CARGO_PKG_VERSION") {
            return Err(RunError::Usage(format!(
                "the aggregates at `{}` were written by the stage of redress {}; this is redress {}\nhint: plan and run the stage again with this redress",
                location.display(),
                self.text("redress_version"),
                env!("CARGO_PKG_VERSION")
            )));
        }
        if self.text("currency") != incident.currency.code {
            return Err(bad(format!(
                "the aggregates are in {}, the incident in {}",
                self.text("currency"),
                incident.currency.code
            )));
        }
        Ok(())
    }

    /// Refuses tables whose row counts are not those the stage counted (an unfinished stage, or
    /// two runs' files in one location), and per-file counts that do not add up to the rows read.
    fn check_counts(
        &self,
        tables: &[(&str, &DataFrame, &str)],
        files: &[FileStats],
    ) -> Result<(), RunError> {
        for (name, frame, key) in tables {
            if frame.height() as u64 != self.count(key) {
                return Err(bad(format!(
                    "aggregates table `{name}` has {} rows where `control` counts {}: the aggregates are incomplete or from two runs\nhint: write each run's aggregates to a location of their own and run the stage again",
                    frame.height(),
                    self.count(key)
                )));
            }
        }
        for table in ["accounts", "charges", "events"] {
            let per_file: u64 = files
                .iter()
                .filter(|file| file.table == table)
                .map(|file| file.rows)
                .sum();
            let read = self.count(&format!("{table}_rows"));
            if per_file != read {
                return Err(RunError::Ledger(crate::ledger::LedgerError::Mismatch(
                    format!(
                        "aggregates: the files of `{table}` count {per_file} rows, the stage read {read}"
                    ),
                )));
            }
        }
        Ok(())
    }
}

/// Reads and checks the aggregates at `location` for `incident`.
pub fn read(incident: &Incident, location: &Path) -> Result<Aggregates, RunError> {
    let mut files = Vec::new();
    let control_frame = read_table(location, "control", &mut files)?;
    let control = control(&control_frame)?;
    control.check_origin(incident, location)?;
    let recorded = |name: &str| control.text(name);
    let count = |name: &str| control.count(name);
    if count("problem_rows") > 0 {
        let problems = read_table(location, "problems", &mut files)?;
        return Err(problems_error(incident, &problems, count("problem_rows"))?);
    }

    let accounts = read_table(location, "accounts", &mut files)?;
    let groups = read_table(location, "groups", &mut files)?;
    let problem_rows = read_table(location, "problem_rows", &mut files)?;
    let review = read_table(location, "review", &mut files)?;
    let events = read_table(location, "events", &mut files)?;
    let stats = read_table(location, "files", &mut files)?;
    let files_read = file_stats(&stats)?;
    control.check_counts(
        &[
            ("groups", &groups, "group_rows"),
            ("accounts", &accounts, "account_rows"),
            ("review", &review, "review_rows"),
        ],
        &files_read,
    )?;

    let numbers = numbered(&accounts)?;
    let account_map = invoices::accounts_from_frame(&account_frame(&accounts, &numbers)?)
        .map_err(|error| polars_error("accounts", error))?;
    let groups = group_frame(&groups, &numbers)?;
    let problems = problem_frame(&problem_rows, &numbers)?;
    let events = event_frame(&events, &numbers)?;
    let sums = Sums {
        groups,
        problems,
        trace: None,
    };
    let context = PlanContext {
        events,
        accounts: DataFrame::empty(),
    };
    let inputs = invoices::assemble(
        incident,
        &sums,
        &account_map,
        &context,
        &|account_id, month| paid_on_values(&sums.groups, &numbers, account_id, month),
    )?;
    let review = review_list(&review)?;
    Ok(Aggregates {
        identified: Identified {
            inputs,
            review,
            rejects: Vec::new(),
            files: files_read,
            accounts_in_scope: count("accounts_in_scope"),
            charge_rows_in_scope: count("charge_rows_in_scope"),
        },
        stage: Stage {
            stage_id: recorded("stage_id"),
            engine: recorded("engine"),
            charge_amount_in_scope: recorded("charge_amount_in_scope"),
        },
        files,
    })
}

/// The problems the stage found, as `run --data` reports them.
fn problems_error(
    incident: &Incident,
    frame: &DataFrame,
    total: u64,
) -> Result<RunError, RunError> {
    let tables = text_values(frame, "table_name", "problems")?;
    let files = text_values(frame, "file", "problems")?;
    let rows = int_values(frame, "file_row", "problems")?;
    let columns = text_values(frame, "column_name", "problems")?;
    let values = text_values(frame, "value", "problems")?;
    let reasons = text_values(frame, "reason", "problems")?;
    let mut problems = Vec::new();
    for index in 0..frame.height() {
        let table = tables[index].clone().unwrap_or_default();
        let file = files[index].clone().unwrap_or_default();
        let column = columns[index].clone().unwrap_or_default();
        let reason = reasons[index].clone().unwrap_or_default();
        if reason == "binary_floating_point" {
            return Ok(bad(format!(
                "`{file}` column `{column}`: is binary floating point ({}); money, rates and counts must be exact\nhint: export it as DECIMAL or integer in Parquet",
                values[index].clone().unwrap_or_default()
            )));
        }
        let specs = match table.as_str() {
            "accounts" => load::ACCOUNT_COLUMNS,
            "charges" => load::CHARGE_COLUMNS,
            _ => load::EVENT_COLUMNS,
        };
        let spec = specs.iter().find(|spec| spec.name == column);
        let problem = problem_of(&reason);
        problems.push(RowProblem {
            file,
            row: rows[index]
                .and_then(|row| u64::try_from(row).ok())
                .unwrap_or(0),
            column: column.clone(),
            value: values[index].clone(),
            reason: reason.clone(),
            message: load::describe::problem_message(
                problem,
                spec,
                spec.map(|spec| spec.kind),
                incident.currency,
                &table,
            ),
            account_id: None,
        });
    }
    let capped = total > problems.len() as u64;
    Ok(RunError::Load(crate::identify::abort(problems, capped)))
}

fn problem_of(reason: &str) -> Problem {
    [
        Problem::Missing,
        Problem::Format,
        Problem::NotWhole,
        Problem::Range,
        Problem::NotAllowed,
        Problem::PeriodOrder,
        Problem::UnknownAccount,
        Problem::DuplicateAccount,
        Problem::QuantityRequired,
    ]
    .into_iter()
    .find(|problem| problem.code() == reason)
    .unwrap_or(Problem::Format)
}

/// account_id → number, in account_id byte order (as `identify` numbers them).
fn numbered(accounts: &DataFrame) -> Result<DataFrame, RunError> {
    accounts
        .clone()
        .lazy()
        .select([col("account_id").cast(DataType::String)])
        .unique(None, UniqueKeepStrategy::Any)
        .sort(["account_id"], SortMultipleOptions::default())
        .with_row_index(ACCOUNT_NO, None)
        .with_column(col(ACCOUNT_NO).cast(DataType::UInt32))
        .collect()
        .map_err(|error| polars_error("accounts", error))
}

fn with_numbers(frame: &DataFrame, numbers: &DataFrame) -> LazyFrame {
    frame
        .clone()
        .lazy()
        .with_column(col("account_id").cast(DataType::String))
        .join(
            numbers.clone().lazy(),
            [col("account_id")],
            [col("account_id")],
            JoinArgs::new(JoinType::Inner),
        )
}

fn month_index(name: &str) -> Expr {
    (col(name).str().slice(lit(0), lit(4)).cast(DataType::Int32) * lit(12)
        + col(name).str().slice(lit(5), lit(2)).cast(DataType::Int32)
        - lit(1))
    .alias(name)
}

fn account_frame(accounts: &DataFrame, numbers: &DataFrame) -> Result<DataFrame, RunError> {
    let mut columns: Vec<Expr> = load::ACCOUNT_COLUMNS
        .iter()
        .map(|spec| {
            let dtype = if spec.kind == load::ColumnKind::Date {
                DataType::Date
            } else {
                DataType::String
            };
            col(spec.name).cast(dtype)
        })
        .collect();
    columns.push(col(ACCOUNT_NO));
    columns.push(col("trigger_date").cast(DataType::Date).alias(TRIGGER_DATE));
    with_numbers(accounts, numbers)
        .select(columns)
        .collect()
        .map_err(|error| polars_error("accounts", error))
}

fn group_frame(groups: &DataFrame, numbers: &DataFrame) -> Result<DataFrame, RunError> {
    let physical = || col("tax_rate").cast(load::rate_dtype()).to_physical();
    let split = || crate::rules::expr::int128(RATE_SPLIT);
    let wide = |name: &str| {
        col(name)
            .cast(DataType::Decimal(38, 0))
            .to_physical()
            .alias(name)
    };
    with_numbers(groups, numbers)
        .select([
            col(ACCOUNT_NO),
            month_index("billing_month"),
            physical()
                .floor_div(split())
                .cast(DataType::Int64)
                .alias(RATE_HI),
            (physical() % split()).cast(DataType::Int64).alias(RATE_LO),
            wide("billed"),
            wide("diff"),
            col("row_count").cast(DataType::UInt64).alias("rows"),
            col("touched_rows").cast(DataType::UInt64).alias("touched"),
            col("paid_min").cast(DataType::Date),
            col("paid_max").cast(DataType::Date),
            col("paid_empty").cast(DataType::UInt64),
            col("problem").cast(DataType::Int32),
        ])
        .sort(
            [ACCOUNT_NO, "billing_month", RATE_HI, RATE_LO],
            SortMultipleOptions::default(),
        )
        .collect()
        .map_err(|error| polars_error("groups", error))
}

fn problem_frame(rows: &DataFrame, numbers: &DataFrame) -> Result<DataFrame, RunError> {
    with_numbers(rows, numbers)
        .select([
            col(ACCOUNT_NO),
            month_index("billing_month"),
            col("period_start").cast(DataType::Date),
            col("item").cast(DataType::String),
            col("problem").cast(DataType::Int32).alias(PROBLEM),
            col("segment_day").cast(DataType::Int64).alias(SEGMENT_DATE),
        ])
        .sort(
            [ACCOUNT_NO, "billing_month", "period_start", "item"],
            SortMultipleOptions::default(),
        )
        .collect()
        .map_err(|error| polars_error("problem_rows", error))
}

fn event_frame(events: &DataFrame, numbers: &DataFrame) -> Result<DataFrame, RunError> {
    with_numbers(events, numbers)
        .select([
            col(ACCOUNT_NO),
            col("kind").cast(DataType::String),
            col("date").cast(DataType::Date),
            col("detail").cast(DataType::String),
            col("quantity").cast(DataType::Int64),
        ])
        .collect()
        .map_err(|error| polars_error("events", error))
}

/// The paid_on values an invoice's groups hold, for the message when they disagree.
fn paid_on_values(
    groups: &DataFrame,
    numbers: &DataFrame,
    account_id: &str,
    month: crate::money::Month,
) -> Result<String, crate::identify::IdentifyError> {
    let internal = |error: PolarsError| {
        crate::identify::IdentifyError::Load(LoadError::Engine {
            what: "reading paid_on values".to_string(),
            source: error,
        })
    };
    let number = numbers
        .clone()
        .lazy()
        .filter(col("account_id").eq(lit(account_id.to_string())))
        .collect()
        .map_err(internal)?;
    let number = invoices::values::<UInt32Type>(&number, ACCOUNT_NO).map_err(internal)?;
    let Some(number) = number.first().copied() else {
        return Ok(String::new());
    };
    let invoice = groups
        .clone()
        .lazy()
        .filter(
            col(ACCOUNT_NO)
                .eq(lit(number))
                .and(col("billing_month").eq(lit(month.index()))),
        )
        .collect()
        .map_err(internal)?;
    let low = invoices::date_values(&invoice, "paid_min").map_err(internal)?;
    let high = invoices::date_values(&invoice, "paid_max").map_err(internal)?;
    let empty = invoices::values::<UInt64Type>(&invoice, "paid_empty").map_err(internal)?;
    let mut values: Vec<Option<chrono::NaiveDate>> = low.into_iter().chain(high).collect();
    if empty.iter().any(|&count| count > 0) {
        values.push(None);
    }
    Ok(invoices::paid_on_list(values.into_iter()))
}

fn review_list(frame: &DataFrame) -> Result<Vec<(String, ReviewReason)>, RunError> {
    let ids = text_values(frame, "account_id", "review")?;
    let reasons = text_values(frame, "reason", "review")?;
    let mut review = Vec::with_capacity(ids.len());
    for (id, reason) in ids.into_iter().zip(reasons) {
        let reason = reason.unwrap_or_default();
        let reason = ReviewReason::from_code(&reason).ok_or_else(|| {
            bad(format!(
                "aggregates table `review`: unknown reason `{reason}`"
            ))
        })?;
        review.push((id.unwrap_or_default(), reason));
    }
    review.sort();
    Ok(review)
}

fn file_stats(frame: &DataFrame) -> Result<Vec<FileStats>, RunError> {
    let tables = text_values(frame, "table_name", "files")?;
    let names = text_values(frame, "file", "files")?;
    let rows = int_values(frame, "row_count", "files")?;
    let rejected = int_values(frame, "rejected_rows", "files")?;
    let order = |table: &str| match table {
        "accounts" => 0,
        "charges" => 1,
        _ => 2,
    };
    let mut stats: Vec<FileStats> = (0..frame.height())
        .map(|index| FileStats {
            table: tables[index].clone().unwrap_or_default(),
            file: names[index].clone().unwrap_or_default(),
            rows: rows[index].and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
            rows_rejected: rejected[index]
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(0),
        })
        .collect();
    stats.sort_by(|a, b| (order(&a.table), &a.file).cmp(&(order(&b.table), &b.file)));
    Ok(stats)
}
