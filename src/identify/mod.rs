//! From the input tables to the invoices the money policy computes, as named stages:
//!
//! 1. `tables`: accounts and events typed and validated (small; held in polars frames);
//! 2. `scope`: trigger dates and the in-scope accounts, before any charge is read;
//! 3. `charges`: one streaming pass over the charges validates every row and runs the rule's plan
//!    to find the invoices the rule changes (a non-zero diff on some row);
//! 4. `invoices`: a second pass over the rows of those accounts only sums B and D per invoice and
//!    tax rate in polars; only those groups become Rust values.
//!
//! Must never drop a row silently: every row is either valid, reported as a problem, or (under
//! `--on-bad-rows reject`) written to rejects.csv with its account sent to review.

mod charges;
pub(crate) mod invoices;
mod scope;
mod tables;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use polars::prelude::*;

use crate::incident::Incident;
use crate::load::{self, LoadError, RowProblem, Table};
use crate::model::{AccountInvoices, Event};
use crate::money::{Month, Overflow};
use crate::progress::Reporter;
use crate::refund::RowTrace;
use crate::rules::{PlanContext, ReviewReason, RuleError};

pub use invoices::{account_groups, evaluate_rows};

/// How bad rows are handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnBadRows {
    #[default]
    Abort,
    Reject,
}

/// The three input tables.
pub struct Tables {
    pub accounts: Table,
    pub charges: Table,
    pub events: Table,
}

/// Per-file row counts.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileStats {
    pub table: String,
    pub file: String,
    pub rows: u64,
    pub rows_rejected: u64,
}

/// Why identification stopped.
#[derive(Debug, thiserror::Error)]
pub enum IdentifyError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error(transparent)]
    Overflow(#[from] Overflow),
    #[error(
        "account `{account_id}`, invoice {billing_month}: rows disagree on paid_on ({values})\nhint: all rows of one invoice (account_id, billing_month) must carry the same paid_on"
    )]
    PaidOnDisagrees {
        account_id: String,
        billing_month: Month,
        values: String,
    },
    #[error(
        "account `{account_id}`, invoice {billing_month}: {source}\nhint: amounts this large cannot be a bill; check the rows of this invoice"
    )]
    InvoiceOverflow {
        account_id: String,
        billing_month: Month,
        source: Overflow,
    },
}

/// What identification found.
pub struct Identified {
    /// Accounts with invoices the rule changed, sorted by account_id (byte order).
    pub inputs: Vec<AccountInvoices>,
    /// Accounts left out for review, sorted by account_id.
    pub review: Vec<(String, ReviewReason)>,
    pub rejects: Vec<RowProblem>,
    pub files: Vec<FileStats>,
    pub accounts_in_scope: u64,
    pub charge_rows_in_scope: u64,
}

/// One account's full calculation, for `explain`.
pub struct Focus {
    /// The account's invoices in scope (changed or not) and its account row.
    pub input: AccountInvoices,
    /// Every row of an item the rule may touch, with should and diff.
    pub rows: Vec<RowTrace>,
    /// Its events of the kinds the rule reads.
    pub events: Vec<Event>,
}

/// What `explain` gets: the whole validation, and the focus account when it is in scope.
pub enum Explained {
    Review(ReviewReason),
    /// No row of accounts has this account_id.
    UnknownAccount,
    NotInScope,
    Account(Box<Focus>),
}

/// How many passes over the charges: the invoice sums are made in the first pass when few accounts
/// are in scope (their rows are few), else by a second pass over the rows of the accounts whose
/// invoices changed. Both give the same sums; `Auto` picks by the share of accounts in scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Passes {
    #[default]
    Auto,
    One,
    Two,
    /// Two passes, the first one run in parts of about this many rows (tests hold it to the same
    /// result as one run).
    TwoInParts(u64),
    /// One pass run in parts of about this many rows, as CSV input always is (tests hold it to the
    /// same result as one run).
    OneInParts(u64),
}

/// Validates all inputs and sums the invoices the rule changes.
pub fn identify(
    incident: &Incident,
    tables: &Tables,
    on_bad_rows: OnBadRows,
    reporter: &dyn Reporter,
) -> Result<Identified, IdentifyError> {
    identify_with(incident, tables, on_bad_rows, Passes::Auto, reporter)
}

/// [`identify`] with the number of passes chosen (tests hold both ways to the same result).
pub fn identify_with(
    incident: &Incident,
    tables: &Tables,
    on_bad_rows: OnBadRows,
    passes: Passes,
    reporter: &dyn Reporter,
) -> Result<Identified, IdentifyError> {
    let (identified, _) = run(incident, tables, on_bad_rows, None, passes, reporter)?;
    Ok(identified)
}

/// Validates all inputs and computes one account's full trace.
pub fn explain(
    incident: &Incident,
    tables: &Tables,
    on_bad_rows: OnBadRows,
    account_id: &str,
    reporter: &dyn Reporter,
) -> Result<Explained, IdentifyError> {
    let (_, explained) = run(
        incident,
        tables,
        on_bad_rows,
        Some(account_id),
        Passes::Two,
        reporter,
    )?;
    Ok(explained.unwrap_or(Explained::NotInScope))
}

/// The stages of identification, in order; each returns what the next one reads.
fn run(
    incident: &Incident,
    tables: &Tables,
    on_bad_rows: OnBadRows,
    focus: Option<&str>,
    passes: Passes,
    reporter: &dyn Reporter,
) -> Result<(Identified, Option<Explained>), IdentifyError> {
    let valid = validate_tables(incident, tables, reporter)?;
    reporter.step("finding accounts in scope");
    let scope = find_scope(incident, tables, &valid)?;
    reporter.step("reading charges");
    let sum_now = focus.is_none() && sum_in_first_pass(passes, &scope, &valid);
    let pass = charges::first_pass(
        incident,
        &tables.charges,
        &valid.accounts,
        &scope.scope,
        &scope.context,
        on_bad_rows,
        sum_now,
        match passes {
            Passes::TwoInParts(rows) | Passes::OneInParts(rows) => Some(rows),
            _ => None,
        },
        reporter,
    )?;
    let settled = settle(tables, &valid, &scope, pass, on_bad_rows)?;
    reporter.step("summing changed invoices");
    aggregate(incident, tables, &valid, &scope, settled, focus)
}

/// Stage 1: the accounts and events tables, typed and checked (the charges are checked in the
/// charges pass).
struct ValidTables {
    accounts: tables::Accounts,
    events: tables::Events,
}

fn validate_tables(
    incident: &Incident,
    tables: &Tables,
    reporter: &dyn Reporter,
) -> Result<ValidTables, IdentifyError> {
    reporter.step("reading accounts");
    let accounts = tables::accounts(&tables.accounts, incident.currency)?;
    reporter.step("reading events");
    let events = tables::events(incident, &tables.events, &accounts, incident.currency)?;
    Ok(ValidTables { accounts, events })
}

/// Stage 2: the accounts in scope and what the rule plan may read about them.
struct InScope {
    scope: scope::Scope,
    /// For the first pass: accounts that cannot be computed whatever their charges (no
    /// `opened_on` where the rule needs it) are counted in scope, not planned.
    context: PlanContext,
}

fn find_scope(
    incident: &Incident,
    tables: &Tables,
    valid: &ValidTables,
) -> Result<InScope, IdentifyError> {
    let scope =
        scope::in_scope(incident, &valid.accounts, &valid.events).map_err(error(&tables.events))?;
    let early: Review = scope.needs_review.iter().cloned().collect();
    let context =
        scope::plan_context(&scope, &valid.events, &early).map_err(error(&tables.events))?;
    Ok(InScope { scope, context })
}

/// Whether the first pass sums the invoices itself (in-scope accounts at most a quarter of all:
/// their rows are few enough to sum at once) rather than leaving it to a second pass.
fn sum_in_first_pass(passes: Passes, scope: &InScope, valid: &ValidTables) -> bool {
    match passes {
        Passes::One | Passes::OneInParts(_) => true,
        Passes::Two | Passes::TwoInParts(_) => false,
        Passes::Auto => scope.scope.frame.height() * 4 <= valid.accounts.known.height(),
    }
}

/// Stage 4: bad rows either stop the run (abort) or send their accounts to review (reject).
struct Settled {
    problems: Vec<RowProblem>,
    review: Review,
    /// Manifest order: accounts, charges, events (the order of SPEC §1).
    files: Vec<FileStats>,
    accounts_in_scope: u64,
    rows_in_scope: u64,
    changed: invoices::Changed,
}

fn settle(
    tables: &Tables,
    valid: &ValidTables,
    scope: &InScope,
    pass: charges::FirstPass,
    on_bad_rows: OnBadRows,
) -> Result<Settled, IdentifyError> {
    let mut problems: Vec<RowProblem> = Vec::new();
    problems.extend(valid.accounts.problems.iter().cloned());
    problems.extend(valid.events.problems.iter().cloned());
    problems.extend(pass.problems.iter().cloned());
    if on_bad_rows == OnBadRows::Abort && !problems.is_empty() {
        return Err(abort(problems, pass.capped).into());
    }
    let review = scope::review(&valid.accounts, &valid.events, &scope.scope, &pass.problems)
        .map_err(error(&tables.accounts))?;
    let mut files = valid.accounts.files.clone();
    files.extend(pass.files.iter().cloned());
    files.extend(valid.events.files.iter().cloned());
    problems.sort();
    Ok(Settled {
        accounts_in_scope: scope.scope.count_with(&review),
        problems,
        review,
        files,
        rows_in_scope: pass.rows_in_scope,
        changed: pass.changed,
    })
}

/// Stage 5: the changed invoices' sums per tax rate (or the focus account's full trace).
fn aggregate(
    incident: &Incident,
    tables: &Tables,
    valid: &ValidTables,
    scope: &InScope,
    settled: Settled,
    focus: Option<&str>,
) -> Result<(Identified, Option<Explained>), IdentifyError> {
    let context = scope::plan_context(&scope.scope, &valid.events, &settled.review)
        .map_err(error(&tables.events))?;
    let (inputs, explained) = match focus {
        Some(account_id) => (
            Vec::new(),
            Some(invoices::focus(
                incident,
                tables,
                &valid.accounts,
                &scope.scope,
                &context,
                &settled.review,
                account_id,
            )?),
        ),
        None => (
            invoices::changed_invoices(
                incident,
                &tables.charges,
                &valid.accounts,
                &scope.scope,
                &context,
                &settled.review,
                settled.changed,
            )?,
            None,
        ),
    };
    Ok((
        Identified {
            inputs,
            review: settled.review.into_iter().collect(),
            rejects: settled.problems,
            files: settled.files,
            accounts_in_scope: settled.accounts_in_scope,
            charge_rows_in_scope: settled.rows_in_scope,
        },
        explained,
    ))
}

const ABORT_LISTING: usize = 20;
/// Bad charge rows described in detail before an abort.
pub(crate) const ABORT_DESCRIBED: usize = 10_000;

pub(crate) fn abort(mut problems: Vec<RowProblem>, capped: bool) -> LoadError {
    problems.sort();
    let listing: Vec<String> = problems
        .iter()
        .take(ABORT_LISTING)
        .map(ToString::to_string)
        .collect();
    LoadError::Rows {
        count: if capped {
            format!("more than {}", problems.len())
        } else {
            problems.len().to_string()
        },
        shown: listing.len(),
        listing: listing.join("\n"),
    }
}

fn error(table: &Table) -> impl Fn(PolarsError) -> IdentifyError + '_ {
    move |error| IdentifyError::Load(load::query_error(table, error))
}

/// Collects with the streaming engine.
pub(crate) fn engine_collect(frame: LazyFrame) -> PolarsResult<DataFrame> {
    match frame.collect_with_engine(Engine::Streaming)? {
        polars_core::query_result::QueryResult::Single(frame) => Ok(frame),
        polars_core::query_result::QueryResult::Multiple(_) => Err(PolarsError::ComputeError(
            "unexpected multiple results".into(),
        )),
    }
}

/// The next of the frames a collect returned, in the order of its plans; a missing one is an
/// error, never an empty frame (which would lose rows silently).
pub(crate) fn next_frame(
    frames: &mut impl Iterator<Item = DataFrame>,
    what: &str,
) -> PolarsResult<DataFrame> {
    frames
        .next()
        .ok_or_else(|| polars_err!(ComputeError: "the engine returned no frame for {what}"))
}

/// Collects several frames in one streaming run, sharing what they have in common (a `cache`d scan).
pub(crate) fn engine_collect_all(frames: Vec<LazyFrame>) -> PolarsResult<Vec<DataFrame>> {
    let plans: Vec<DslPlan> = frames.into_iter().map(|frame| frame.logical_plan).collect();
    // REDRESS_EXPLAIN=1 prints each optimised plan, for profiling.
    if std::env::var("REDRESS_EXPLAIN").as_deref() == Ok("1") {
        eprintln!(
            "{}",
            LazyFrame::explain_all(plans.clone(), OptFlags::default())?
        );
    }
    LazyFrame::collect_all_with_engine(plans, Engine::Streaming, OptFlags::default())
}

pub(crate) fn days_to_date(days: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|epoch| epoch.checked_add_signed(chrono::Duration::days(i64::from(days))))
        .unwrap_or(NaiveDate::MIN)
}

/// Review reasons by account_id, first reason wins.
pub(crate) type Review = BTreeMap<String, ReviewReason>;
