//! Stage 3: one streaming pass over every charge row. The same scan, typed once, feeds three sinks:
//! the row counts per file, the flagged rows (file and row only), and the rule's plan over the
//! in-scope rows, which keeps only the keys of the invoices it changes. Nothing per row is kept.
//!
//! polars hands each morsel of a shared scan to every sink and buffers it, without limit, for the
//! sinks that are behind; when every account is in scope the rule's sink is the slow one and the
//! buffer grows with the input. So when the pass only looks for changed invoices, it reads a large
//! table in parts of about [`PART_ROWS`] rows (files grouped, a large Parquet file cut into row
//! ranges; a CSV file is never cut), one streaming run each, and merges the (small) results.

use polars::prelude::*;

use super::invoices::{Changed, Sums, sum_frames};
use super::scope::Scope;
use super::tables::{Accounts, UNKNOWN, stats_from_counts};
use super::{ABORT_DESCRIBED, FileStats, IdentifyError, OnBadRows, engine_collect_all, error};
use crate::incident::Incident;
use crate::load::{self, FILE, Problem, ROW, RowProblem, Table};
use crate::rules::columns::{ACCOUNT_NO, DIFF, PROBLEM, TRIGGER_DATE};
use crate::rules::{self, PlanContext};

pub(crate) const PERIOD: &str = "__p_period_order";
const BAD: &str = "__bad";
const COMPUTABLE: &str = "__computable";

/// What the first pass found.
pub(crate) struct FirstPass {
    /// The invoices the rule changes (or cannot compute): their keys, or already their sums.
    pub changed: Changed,
    pub problems: Vec<RowProblem>,
    /// Under abort, only the first bad rows were described.
    pub capped: bool,
    pub files: Vec<FileStats>,
    /// Valid rows of in-scope accounts the rule reads.
    pub rows_in_scope: u64,
}

/// The month filter of `[scope].billing_months`, as an expression on `billing_month`.
pub(crate) fn months_in_scope(incident: &Incident) -> Expr {
    let scope = &incident.scope;
    let mut condition = lit(true);
    if let Some(from) = scope.billing_months_from {
        condition = condition.and(col("billing_month").gt_eq(lit(from.index())));
    }
    if let Some(to) = scope.billing_months_to {
        condition = condition.and(col("billing_month").lt_eq(lit(to.index())));
    }
    condition
}

/// In-scope rows the rule reads: all months for a rule that needs them (running totals), else the
/// scope's months.
pub(crate) fn rows_read(incident: &Incident) -> Expr {
    if incident.rule.needs_all_months() {
        lit(true)
    } else {
        months_in_scope(incident)
    }
}

/// The plan over in-scope rows, restricted to the scope's months afterwards.
pub(crate) fn planned(
    incident: &Incident,
    rows: LazyFrame,
    context: &PlanContext,
) -> PolarsResult<LazyFrame> {
    Ok(scope_months(
        incident,
        rules::plan(incident.rule.as_ref(), rows, context)?,
    ))
}

/// A plan over every month (a rule that needs all months) cut back to `[scope].billing_months`.
pub(crate) fn scope_months(incident: &Incident, planned: LazyFrame) -> LazyFrame {
    if incident.rule.needs_all_months() {
        planned.filter(months_in_scope(incident))
    } else {
        planned
    }
}

/// Rows per run of the first pass when it only collects changed invoice keys.
pub(crate) const PART_ROWS: u64 = 36_000_000;

#[allow(clippy::too_many_arguments)]
pub(crate) fn first_pass(
    incident: &Incident,
    table: &Table,
    accounts: &Accounts,
    scope: &Scope,
    context: &PlanContext,
    on_bad_rows: OnBadRows,
    sum_now: bool,
    part_rows: Option<u64>,
    reporter: &dyn crate::progress::Reporter,
) -> Result<FirstPass, IdentifyError> {
    // account_id → number; for in-scope accounts their trigger date and opened_on, and whether the
    // plan computes them (accounts already bound for review are counted, not computed).
    let computable = context
        .accounts
        .clone()
        .lazy()
        .select([col(ACCOUNT_NO), lit(true).alias(COMPUTABLE)]);
    let lookup = accounts
        .known
        .clone()
        .lazy()
        .join(
            scope.frame.clone().lazy().drop(Selector::ByName {
                names: [PlSmallStr::from("account_id")].into(),
                strict: true,
            }),
            [col(ACCOUNT_NO)],
            [col(ACCOUNT_NO)],
            JoinArgs::new(JoinType::Left),
        )
        .join(
            computable,
            [col(ACCOUNT_NO)],
            [col(ACCOUNT_NO)],
            JoinArgs::new(JoinType::Left),
        );
    // A Parquet scan streams, so few rows in scope are summed in one run over the whole table; a
    // CSV part is parsed into memory, so CSV is always read in parts.
    let csv = table
        .files
        .iter()
        .any(|file| file.format == load::Format::Csv);
    let parts = match part_rows {
        Some(rows) => load::parts(table, rows)?,
        None if sum_now && !csv => vec![load::Part::whole(table)],
        None => load::parts(table, PART_ROWS)?,
    };
    let sink = Sink::of(sum_now, parts.len() > 1);
    let mut runs = Vec::with_capacity(parts.len());
    // Rows scanned, part by part (polars reports nothing while a part streams); the counts come
    // from splitting the table, so a single whole-table Parquet scan has no bar.
    let part_rows: Option<Vec<u64>> = parts.iter().map(|part| part.rows).collect();
    let total: u64 = part_rows.iter().flatten().sum();
    let mut scanned = 0u64;
    if parts.len() > 1 && part_rows.is_some() {
        reporter.advance(0, total);
    }
    for (index, part) in parts.iter().enumerate() {
        let frames = pass_frames(
            incident,
            table,
            part,
            lookup.clone(),
            context,
            on_bad_rows,
            sink,
        )?;
        runs.push(engine_collect_all(frames).map_err(error(table))?);
        if let Some(rows) = part_rows.as_ref().and_then(|rows| rows.get(index)) {
            scanned += rows;
            reporter.advance(scanned, total);
        }
    }
    let merged = merge_runs(runs, on_bad_rows, sink).map_err(error(table))?;
    finish(incident, table, merged, on_bad_rows, sink, context)
}

/// What a run of the first pass keeps of the changed invoices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sink {
    /// Their sums: the only run, over few rows.
    Sums,
    /// The rows the plan computes: one of several runs over few rows in scope, whose rows are
    /// planned and summed together once every run is done.
    Rows,
    /// Their keys, from a run that sees every row of each account.
    Keys,
    /// Their keys, from one of several runs, each of which may see only some of an account's
    /// rows: the invoices of rows whose should depends on other rows are kept as well.
    PartialKeys,
}

impl Sink {
    fn of(sum_now: bool, partial: bool) -> Sink {
        match (sum_now, partial) {
            (true, false) => Sink::Sums,
            (true, true) => Sink::Rows,
            (false, false) => Sink::Keys,
            (false, true) => Sink::PartialKeys,
        }
    }
}

/// The sinks of one run over `part`: counts per file, flagged rows, rows in scope, and the changed
/// invoices (their keys, or their sums).
fn pass_frames(
    incident: &Incident,
    table: &Table,
    part: &load::Part,
    lookup: LazyFrame,
    context: &PlanContext,
    on_bad_rows: OnBadRows,
    sink: Sink,
) -> Result<Vec<LazyFrame>, IdentifyError> {
    let typed = load::typed_frame_part(table, incident.currency.digits, part)?
        .join(
            lookup,
            [col("account_id")],
            [col("account_id")],
            JoinArgs::new(JoinType::Left),
        )
        .with_columns([
            col("period_start")
                .gt(col("period_end"))
                .fill_null(lit(false))
                .alias(PERIOD),
            col("account_id")
                .is_not_null()
                .and(col("__p_account_id").not())
                .and(col(ACCOUNT_NO).is_null())
                .alias(UNKNOWN),
        ])
        .with_column(load::any_problem(load::CHARGE_COLUMNS, &[UNKNOWN, PERIOD]).alias(BAD))
        .cache();

    let counts = typed
        .clone()
        .group_by([col(FILE)])
        .agg([len().alias("rows"), col(BAD).sum().alias("rejected")]);
    let mut flags: Vec<Expr> = vec![col(FILE), col(ROW)];
    flags.extend(
        load::CHARGE_COLUMNS
            .iter()
            .map(|spec| col(load::problem_name(spec.name))),
    );
    flags.extend([col(UNKNOWN), col(PERIOD)]);
    let mut bad = typed.clone().filter(col(BAD)).select(flags);
    if on_bad_rows == OnBadRows::Abort {
        // Only the first problems are described before an abort; one more row tells there are more.
        bad = bad
            .sort([FILE, ROW], SortMultipleOptions::default())
            .limit(ABORT_DESCRIBED as IdxSize + 1);
    }
    let in_scope = typed
        .filter(col(BAD).not())
        .filter(col(TRIGGER_DATE).is_not_null())
        .filter(rows_read(incident))
        .cache();
    let rows_in_scope = in_scope.clone().select([len().alias("rows")]);
    let computed = in_scope.filter(col(COMPUTABLE).fill_null(lit(false)));
    let mut frames = vec![counts, bad, rows_in_scope];
    if sink == Sink::Sums {
        // Few rows in scope: sum every in-scope invoice now rather than read the charges again.
        let all_months =
            rules::plan(incident.rule.as_ref(), computed, context).map_err(error(table))?;
        frames.extend(sum_frames(incident, all_months, None, false).into_frames());
    } else if sink == Sink::Rows {
        frames.push(computed);
    } else {
        let mut changed = col(DIFF)
            .neq(rules::expr::int128(0))
            .or(col(PROBLEM).neq(lit(0i32)));
        if sink == Sink::PartialKeys
            && let Some(depends) = incident.rule.depends_on_other_rows()
        {
            changed = changed.or(depends);
        }
        // Rows of items the rule does not touch keep their amount (SPEC §3): they change no
        // invoice, so only the touched ones are planned here.
        let touched = computed.filter(rules::expr::touched(&incident.rule.touched_items()));
        frames.push(
            planned(incident, touched, context)
                .map_err(error(table))?
                .filter(changed)
                .select([col(ACCOUNT_NO), col("billing_month")])
                .unique(None, UniqueKeepStrategy::Any),
        );
    }
    Ok(frames)
}

/// One run's results as they are; several runs' (counts, flagged rows, rows in scope, changed
/// invoice keys) merged as one run over the whole table would have given them.
fn merge_runs(
    mut runs: Vec<Vec<DataFrame>>,
    on_bad_rows: OnBadRows,
    sink: Sink,
) -> PolarsResult<Vec<DataFrame>> {
    if runs.len() <= 1 {
        return Ok(runs.pop().unwrap_or_default());
    }
    let stacked = |index: usize| -> PolarsResult<LazyFrame> {
        let frames: Vec<LazyFrame> = runs
            .iter()
            .filter_map(|run| run.get(index).cloned())
            .map(IntoLazy::lazy)
            .collect();
        concat(frames, UnionArgs::default())
    };
    let counts = stacked(0)?
        .group_by([col(FILE)])
        .agg([col("rows").sum(), col("rejected").sum()])
        .sort([FILE], SortMultipleOptions::default());
    let mut bad = stacked(1)?;
    if on_bad_rows == OnBadRows::Abort {
        bad = bad
            .sort([FILE, ROW], SortMultipleOptions::default())
            .limit(ABORT_DESCRIBED as IdxSize + 1);
    }
    let rows_in_scope = stacked(2)?.select([col("rows").sum()]);
    let keys = match sink {
        Sink::Rows => stacked(3)?,
        _ => stacked(3)?.unique(None, UniqueKeepStrategy::Any),
    };
    LazyFrame::collect_all_with_engine(
        vec![
            counts.logical_plan,
            bad.logical_plan,
            rows_in_scope.logical_plan,
            keys.logical_plan,
        ],
        Engine::InMemory,
        OptFlags::default(),
    )
}

fn finish(
    incident: &Incident,
    table: &Table,
    merged: Vec<DataFrame>,
    on_bad_rows: OnBadRows,
    sink: Sink,
    context: &PlanContext,
) -> Result<FirstPass, IdentifyError> {
    let currency = incident.currency;
    let frames = merged;
    let mut outputs = frames.into_iter();
    let mut next = |what: &str| super::next_frame(&mut outputs, what).map_err(error(table));
    let (counts, mut bad, rows_in_scope) = (
        next("the row counts")?,
        next("the bad rows")?,
        next("the rows in scope")?,
    );
    let changed = match sink {
        Sink::Sums => Changed::Summed(Sums::from_frames(&mut outputs).map_err(error(table))?),
        Sink::Rows => {
            let rows = super::next_frame(&mut outputs, "the changed rows")
                .map_err(error(table))?
                .lazy();
            let all_months =
                rules::plan(incident.rule.as_ref(), rows, context).map_err(error(table))?;
            Changed::Summed(
                sum_frames(incident, all_months, None, false)
                    .collect()
                    .map_err(error(table))?,
            )
        }
        Sink::Keys | Sink::PartialKeys => Changed::Keys(
            super::next_frame(&mut outputs, "the changed keys").map_err(error(table))?,
        ),
    };

    let capped = on_bad_rows == OnBadRows::Abort && bad.height() > ABORT_DESCRIBED;
    if capped {
        bad = bad.head(Some(ABORT_DESCRIBED));
    }
    let problems = load::describe_problems(
        table,
        &bad,
        &[
            (UNKNOWN, "account_id", Problem::UnknownAccount),
            (PERIOD, "period_start", Problem::PeriodOrder),
        ],
        currency,
    )?;
    let rejected = counts
        .clone()
        .lazy()
        .select([col(FILE), col("rejected")])
        .collect()
        .map_err(error(table))?;
    let files = stats_from_counts(table, &counts, &rejected)?;
    let rows_in_scope = rows_in_scope
        .column("rows")
        .ok()
        .and_then(|column| column.cast(&DataType::UInt64).ok())
        .and_then(|column| column.u64().ok().and_then(|values| values.get(0)))
        .unwrap_or(0);
    Ok(FirstPass {
        changed,
        problems,
        capped,
        files,
        rows_in_scope,
    })
}
