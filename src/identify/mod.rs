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
mod invoices;
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
use crate::rules::{ReviewReason, RuleError};

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

fn run(
    incident: &Incident,
    tables: &Tables,
    on_bad_rows: OnBadRows,
    focus: Option<&str>,
    passes: Passes,
    reporter: &dyn Reporter,
) -> Result<(Identified, Option<Explained>), IdentifyError> {
    let currency = incident.currency;
    reporter.step("reading accounts");
    let accounts = tables::accounts(&tables.accounts, currency)?;
    reporter.step("reading events");
    let events = tables::events(incident, &tables.events, &accounts, currency)?;
    reporter.step("finding accounts in scope");
    let scope = scope::in_scope(incident, &accounts, &events).map_err(error(&tables.events))?;
    // Accounts that cannot be computed whatever their charges are counted in scope, not planned.
    let early: Review = scope.needs_review.iter().cloned().collect();
    let first_context =
        scope::plan_context(&scope, &events, &early).map_err(error(&tables.events))?;
    let sum_now = match passes {
        Passes::One => true,
        Passes::Two => false,
        // In-scope accounts at most a quarter of all: their rows are few enough to sum at once.
        Passes::Auto => scope.frame.height() * 4 <= accounts.known.height(),
    };
    reporter.step("reading charges");
    let pass = charges::first_pass(
        incident,
        &tables.charges,
        &accounts,
        &scope,
        &first_context,
        on_bad_rows,
        sum_now && focus.is_none(),
    )?;

    let mut problems: Vec<RowProblem> = Vec::new();
    problems.extend(accounts.problems.iter().cloned());
    problems.extend(events.problems.iter().cloned());
    problems.extend(pass.problems.iter().cloned());
    if on_bad_rows == OnBadRows::Abort && !problems.is_empty() {
        return Err(abort(problems, pass.capped).into());
    }
    let review = scope::review(&accounts, &events, &scope, &pass.problems)
        .map_err(error(&tables.accounts))?;
    let mut files = accounts.files.clone();
    files.extend(pass.files.iter().cloned());
    files.extend(events.files.iter().cloned());
    // Manifest order: accounts, charges, events (the order the tables are listed in SPEC §1).
    let accounts_in_scope = scope.count_with(&review);

    reporter.step("summing changed invoices");
    let context = scope::plan_context(&scope, &events, &review).map_err(error(&tables.events))?;
    let explained = match focus {
        None => None,
        Some(account_id) => Some(invoices::focus(
            incident, tables, &accounts, &scope, &context, &review, account_id,
        )?),
    };
    let inputs = if focus.is_some() {
        Vec::new()
    } else {
        invoices::changed_invoices(
            incident,
            &tables.charges,
            &accounts,
            &scope,
            &context,
            &review,
            pass.changed,
        )?
    };
    let mut rejects = problems;
    rejects.sort();
    Ok((
        Identified {
            inputs,
            review: review.into_iter().collect(),
            rejects,
            files,
            accounts_in_scope,
            charge_rows_in_scope: pass.rows_in_scope,
        },
        explained,
    ))
}

const ABORT_LISTING: usize = 20;
/// Bad charge rows described in detail before an abort.
pub(crate) const ABORT_DESCRIBED: usize = 10_000;

fn abort(mut problems: Vec<RowProblem>, capped: bool) -> LoadError {
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
