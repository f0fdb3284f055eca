//! Validation across tables and identification of in-scope accounts. Polars scans every row once to
//! find problems and once to pull out the in-scope accounts' rows; only those become Rust values
//! (`model::AccountInput`). Rows of items the rule cannot touch are summed per invoice and tax rate
//! in polars and arrive as `UntouchedGroup`s.
//!
//! Must never drop a row silently: every row is either valid, reported as a problem, or (under
//! `--on-bad-rows reject`) written to rejects.csv with its account sent to review.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::NaiveDate;
use polars::prelude::*;
use rust_decimal::Decimal;

use crate::incident::{Incident, Items};
use crate::load::{self, LoadError, RowProblem, Table};
use crate::model::{
    Account, AccountInput, BankDetails, ChargeRow, Event, Language, Status, UntouchedGroup,
};
use crate::money::{self, Month};
use crate::progress::Reporter;
use crate::rules::ReviewReason;

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

/// What identification found.
pub struct Identified {
    /// In-scope accounts that can be computed, sorted by account_id (byte order).
    pub inputs: Vec<AccountInput>,
    /// Accounts left out for review, sorted by account_id.
    pub review: Vec<(String, ReviewReason)>,
    pub rejects: Vec<RowProblem>,
    pub files: Vec<FileStats>,
    pub accounts_in_scope: u64,
    pub charge_rows_in_scope: u64,
}

const ABORT_LISTING: usize = 20;
/// Bad charge rows described in detail before an abort.
const ABORT_DESCRIBED: usize = 10_000;
const UNKNOWN: &str = "__p_unknown_account";
const DUPLICATE: &str = "__p_duplicate";
const PERIOD: &str = "__p_period_order";
const BAD: &str = "__bad";
const QUANTITY: &str = "__p_quantity_required";
const KNOWN: &str = "__known";

fn polars_error(table: &Table) -> impl Fn(PolarsError) -> LoadError + '_ {
    move |error| load::query_error(table, error)
}

/// Collects with the streaming engine into single-chunk columns (row access by index on a
/// many-chunk column is a search per access).
fn engine_collect(frame: LazyFrame) -> PolarsResult<DataFrame> {
    match frame.collect_with_engine(Engine::Streaming)? {
        polars_core::query_result::QueryResult::Single(mut frame) => {
            frame.rechunk_mut_par();
            Ok(frame)
        }
        polars_core::query_result::QueryResult::Multiple(_) => Err(PolarsError::ComputeError(
            "unexpected multiple results".into(),
        )),
    }
}

/// Validates all inputs and extracts the in-scope accounts. Charges are scanned once: the pass
/// keeps the rows that have a problem and the rows of in-scope accounts, nothing else.
pub fn identify(
    incident: &Incident,
    tables: &Tables,
    on_bad_rows: OnBadRows,
    reporter: &dyn Reporter,
) -> Result<Identified, LoadError> {
    let currency = incident.currency;
    let digits = currency.digits;

    // Accounts: small enough to hold; duplicates found here.
    reporter.step("reading accounts");
    let accounts = engine_collect(load::prepare(&tables.accounts, digits)?)
        .map_err(polars_error(&tables.accounts))?;
    let accounts = mark_duplicates(accounts).map_err(polars_error(&tables.accounts))?;
    let account_problem_mask = problem_mask(&accounts, load::ACCOUNT_COLUMNS, &[DUPLICATE])
        .map_err(polars_error(&tables.accounts))?;
    let account_problems = {
        let bad = accounts
            .filter(&account_problem_mask)
            .map_err(polars_error(&tables.accounts))?;
        load::describe_problems(
            &tables.accounts,
            &bad,
            &[(DUPLICATE, "account_id", load::Problem::DuplicateAccount)],
            currency,
        )
        .map_err(polars_error(&tables.accounts))?
    };
    let known = known_ids(&accounts).map_err(polars_error(&tables.accounts))?;

    // Events of the kinds this incident reads.
    reporter.step("reading events");
    let mut event_kinds: Vec<String> = vec![incident.trigger.event.clone()];
    event_kinds.extend(incident.rule.read_event_kinds());
    let kinds_series = Series::new("kinds".into(), event_kinds.clone());
    let events_frame = load::prepare(&tables.events, digits)?
        .filter(
            col("kind")
                .is_null()
                .or(col("kind").is_in(lit(kinds_series).implode(false), false)),
        )
        .with_column(
            col("kind")
                .eq(lit("equipment_count"))
                .and(col("quantity").is_null())
                .and(col("__p_quantity").not())
                .fill_null(lit(false))
                .alias(QUANTITY),
        );
    let events = engine_collect(with_unknown_account(events_frame, &known))
        .map_err(polars_error(&tables.events))?;
    let event_problem_mask = problem_mask(&events, load::EVENT_COLUMNS, &[UNKNOWN, QUANTITY])
        .map_err(polars_error(&tables.events))?;
    let event_problems = {
        let bad = events
            .filter(&event_problem_mask)
            .map_err(polars_error(&tables.events))?;
        load::describe_problems(
            &tables.events,
            &bad,
            &[
                (UNKNOWN, "account_id", load::Problem::UnknownAccount),
                (QUANTITY, "quantity", load::Problem::QuantityRequired),
            ],
            currency,
        )
        .map_err(polars_error(&tables.events))?
    };

    // Triggers and in-scope accounts, before any charge is read.
    reporter.step("finding accounts in scope");
    let valid_events = events
        .filter(&!event_problem_mask.clone())
        .map_err(polars_error(&tables.events))?;
    let event_rows = events_from_frame(&valid_events).map_err(polars_error(&tables.events))?;
    let triggers = trigger_dates(incident, &event_rows);
    let valid_accounts = accounts
        .filter(&!account_problem_mask.clone())
        .map_err(polars_error(&tables.accounts))?;
    let in_scope = in_scope_accounts(incident, &valid_accounts, &triggers)
        .map_err(polars_error(&tables.accounts))?;

    // Charges: one streaming pass keeps problem rows and in-scope rows.
    reporter.step("reading charges");
    let scope_ids = Series::new(
        "scope".into(),
        in_scope.keys().cloned().collect::<Vec<String>>(),
    );
    let known_series = known
        .column("account_id")
        .map_err(polars_error(&tables.accounts))?
        .as_materialized_series()
        .clone();
    let mut wanted = col("account_id")
        .is_in(lit(scope_ids).implode(false), false)
        .fill_null(lit(false));
    if !incident.rule.needs_all_months() {
        if let Some(from) = incident.scope.billing_months_from {
            wanted = wanted.and(
                col("billing_month")
                    .gt_eq(lit(from.index()))
                    .fill_null(lit(false)),
            );
        }
        if let Some(to) = incident.scope.billing_months_to {
            wanted = wanted.and(
                col("billing_month")
                    .lt_eq(lit(to.index()))
                    .fill_null(lit(false)),
            );
        }
    }
    let charge_problem = load::any_problem(load::CHARGE_COLUMNS, &[UNKNOWN, PERIOD]);
    let mut raw_columns: Vec<Expr> = Vec::new();
    for spec in load::CHARGE_COLUMNS {
        // Raw text is only needed to describe problem rows.
        let raw = format!("__r_{}", spec.name);
        raw_columns.push(
            when(col(BAD))
                .then(col(raw.as_str()))
                .otherwise(lit(NULL).cast(DataType::String))
                .alias(raw.as_str()),
        );
    }
    let charges_frame = load::prepare(&tables.charges, digits)?
        .with_columns([
            col("period_start")
                .gt(col("period_end"))
                .fill_null(lit(false))
                .alias(PERIOD),
            col("account_id")
                .is_in(lit(known_series).implode(false), false)
                .not()
                .and(col("__p_account_id").not())
                .fill_null(lit(false))
                .alias(UNKNOWN),
        ])
        .with_column(charge_problem.alias(BAD))
        .filter(col(BAD).or(wanted))
        .with_columns(raw_columns);
    let charges = engine_collect(charges_frame).map_err(polars_error(&tables.charges))?;
    let bad_mask = charges
        .column(BAD)
        .and_then(|column| column.bool().cloned())
        .map_err(polars_error(&tables.charges))?;
    let mut bad_charges = charges
        .filter(&bad_mask)
        .map_err(polars_error(&tables.charges))?;
    // Under abort only the first problems are described; the count says when there are more.
    let capped = on_bad_rows == OnBadRows::Abort && bad_charges.height() > ABORT_DESCRIBED;
    if capped {
        bad_charges = bad_charges.head(Some(ABORT_DESCRIBED));
    }
    let charge_problems = load::describe_problems(
        &tables.charges,
        &bad_charges,
        &[
            (UNKNOWN, "account_id", load::Problem::UnknownAccount),
            (PERIOD, "period_start", load::Problem::PeriodOrder),
        ],
        currency,
    )
    .map_err(polars_error(&tables.charges))?;

    let mut problems: Vec<RowProblem> = Vec::new();
    problems.extend(account_problems.iter().cloned());
    problems.extend(event_problems.iter().cloned());
    problems.extend(charge_problems.iter().cloned());
    if on_bad_rows == OnBadRows::Abort && !problems.is_empty() {
        problems.sort();
        let listing: Vec<String> = problems
            .iter()
            .take(ABORT_LISTING)
            .map(ToString::to_string)
            .collect();
        return Err(LoadError::Rows {
            count: if capped {
                format!("more than {}", problems.len())
            } else {
                problems.len().to_string()
            },
            shown: listing.len(),
            listing: listing.join("\n"),
        });
    }

    // Row counts per file.
    reporter.step("counting rows");
    let mut files = Vec::new();
    for table in [&tables.accounts, &tables.charges, &tables.events] {
        let counts = load::count_rows(table)?;
        for (file, rows) in table.files.iter().zip(counts) {
            let rejected: BTreeSet<u64> = problems
                .iter()
                .filter(|problem| problem.file == file.display)
                .map(|problem| problem.row)
                .collect();
            files.push(FileStats {
                table: table.name.to_string(),
                file: file.display.clone(),
                rows,
                rows_rejected: rejected.len() as u64,
            });
        }
    }

    // Review: accounts whose rows were rejected.
    let mut review: BTreeMap<String, ReviewReason> = BTreeMap::new();
    for problem in &account_problems {
        if let Some(id) = &problem.account_id
            && (triggers.contains_key(id)
                || event_problems
                    .iter()
                    .any(|event| event.account_id.as_deref() == Some(id)))
        {
            review
                .entry(id.clone())
                .or_insert(ReviewReason::RejectedAccountRow);
        }
    }
    let valid_ids: HashSet<&str> = string_column(&valid_accounts, "account_id")
        .map_err(polars_error(&tables.accounts))?
        .into_iter()
        .flatten()
        .collect();
    for problem in &event_problems {
        if let Some(id) = &problem.account_id
            && valid_ids.contains(id.as_str())
        {
            review
                .entry(id.clone())
                .or_insert(ReviewReason::RejectedEventRow);
        }
    }
    for problem in &charge_problems {
        if let Some(id) = &problem.account_id
            && in_scope.contains_key(id)
        {
            review
                .entry(id.clone())
                .or_insert(ReviewReason::RejectedChargeRow);
        }
    }
    let mut in_scope = in_scope;
    for id in review.keys() {
        in_scope.remove(id);
    }

    // The in-scope accounts' rows.
    reporter.step("building accounts");
    let rows = charges
        .filter(&!bad_mask)
        .map_err(polars_error(&tables.charges))?;
    let charge_rows_in_scope = rows.height() as u64;
    let touched_items = incident.rule.touched_items();
    let touched_mask =
        touched_mask(&rows, &touched_items).map_err(polars_error(&tables.charges))?;
    let touched = rows
        .filter(&touched_mask)
        .map_err(polars_error(&tables.charges))?;
    reporter.step("summing untouched rows");
    let untouched = rows
        .filter(&!touched_mask)
        .map_err(polars_error(&tables.charges))?
        .lazy()
        .group_by([col("account_id"), col("billing_month"), col("tax_rate")])
        .agg([
            col("amount").sum().alias("amount_sum"),
            len().alias("rows"),
            col("amount").min().alias("amount_min"),
            col("amount").max().alias("amount_max"),
            col("paid_on").min().alias("paid_on_min"),
            col("paid_on").max().alias("paid_on_max"),
            col("paid_on").null_count().alias("paid_on_empty"),
        ])
        .collect()
        .map_err(polars_error(&tables.charges))?;
    drop(rows);
    drop(charges);

    reporter.step("building account inputs");
    let mut inputs: Vec<AccountInput> = in_scope
        .into_values()
        .map(|account| AccountInput {
            account,
            rows: Vec::new(),
            untouched: Vec::new(),
            events: Vec::new(),
        })
        .collect();
    let index: HashMap<String, usize> = inputs
        .iter()
        .enumerate()
        .map(|(position, input)| (input.account.account_id.clone(), position))
        .collect();
    add_charge_rows(&touched, &index, &mut inputs).map_err(polars_error(&tables.charges))?;
    add_untouched(&untouched, &index, &mut inputs, &tables.charges)?;
    let read_kinds: HashSet<String> = incident.rule.read_event_kinds().into_iter().collect();
    for (account_id, event) in event_rows {
        if read_kinds.contains(&event.kind)
            && let Some(&position) = index.get(&account_id)
        {
            inputs[position].events.push(event);
        }
    }
    reporter.step("sorting account inputs");
    for input in &mut inputs {
        input.rows.sort_by(|a, b| row_key(a).cmp(&row_key(b)));
        input
            .untouched
            .sort_by_key(|group| (group.billing_month, group.tax_rate));
        input.events.sort_by(|a, b| {
            (&a.kind, a.date, &a.detail, a.quantity).cmp(&(&b.kind, b.date, &b.detail, b.quantity))
        });
    }
    let accounts_in_scope = (inputs.len() + review.len()) as u64;
    let mut rejects = problems;
    rejects.sort();
    Ok(Identified {
        inputs,
        review: review.into_iter().collect(),
        rejects,
        files,
        accounts_in_scope,
        charge_rows_in_scope,
    })
}

type RowKey<'a> = (
    Month,
    NaiveDate,
    NaiveDate,
    i64,
    Decimal,
    &'a str,
    i64,
    i64,
    i64,
    Decimal,
    Option<NaiveDate>,
);

fn row_key(row: &ChargeRow) -> RowKey<'_> {
    (
        row.billing_month,
        row.period_start,
        row.period_end,
        row.amount,
        row.tax_rate,
        row.item.as_str(),
        row.quantity,
        row.unit_price,
        row.list_amount,
        row.discount_rate,
        row.paid_on,
    )
}

fn problem_mask(
    frame: &DataFrame,
    columns: &[load::ColumnSpec],
    extra: &[&str],
) -> PolarsResult<BooleanChunked> {
    let mut mask = BooleanChunked::full("mask".into(), false, frame.height());
    let names = columns
        .iter()
        .map(|spec| format!("__p_{}", spec.name))
        .chain(extra.iter().map(|name| name.to_string()));
    for name in names {
        let flags = frame.column(&name)?.bool()?.fill_null_with_values(false)?;
        mask = &mask | &flags;
    }
    Ok(mask)
}

fn mark_duplicates(mut frame: DataFrame) -> PolarsResult<DataFrame> {
    let ids = frame.column("account_id")?.str()?.clone();
    let mut counts: HashMap<&str, u32> = HashMap::new();
    for id in ids.iter().flatten() {
        *counts.entry(id).or_default() += 1;
    }
    let flags: BooleanChunked = ids
        .iter()
        .map(|id| id.is_some_and(|id| counts.get(id).copied().unwrap_or(0) > 1))
        .collect::<BooleanChunked>()
        .with_name(DUPLICATE.into());
    frame.with_column(flags.into_column())?;
    Ok(frame)
}

/// Every non-empty account_id written in accounts, valid or not: rows of a rejected account are
/// not "unknown account" problems.
fn known_ids(accounts: &DataFrame) -> PolarsResult<DataFrame> {
    let ids: BTreeSet<String> = accounts
        .column("__r_account_id")?
        .str()?
        .iter()
        .flatten()
        .filter(|id| !id.is_empty())
        .map(str::to_string)
        .collect();
    let count = ids.len();
    DataFrame::new_infer_height(vec![
        Column::new("account_id".into(), ids.into_iter().collect::<Vec<_>>()),
        Column::new(KNOWN.into(), vec![true; count]),
    ])
}

fn with_unknown_account(frame: LazyFrame, known: &DataFrame) -> LazyFrame {
    frame
        .join(
            known.clone().lazy(),
            [col("account_id")],
            [col("account_id")],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(
            col(KNOWN)
                .is_null()
                .and(col("account_id").is_not_null())
                .and(col("__p_account_id").not())
                .fill_null(lit(false))
                .alias(UNKNOWN),
        )
}

fn string_values(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<String>>> {
    Ok(string_column(frame, name)?
        .into_iter()
        .map(|value| value.map(str::to_string))
        .collect())
}

/// A text column's values, borrowed; empty text is `None`.
fn string_column<'a>(frame: &'a DataFrame, name: &str) -> PolarsResult<Vec<Option<&'a str>>> {
    Ok(frame
        .column(name)?
        .str()?
        .iter()
        .map(|value| value.filter(|text| !text.is_empty()))
        .collect())
}

fn date_values(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<NaiveDate>>> {
    let column = frame.column(name)?.cast(&DataType::Int32)?;
    Ok(column
        .i32()?
        .iter()
        .map(|days| days.map(days_to_date))
        .collect())
}

fn days_to_date(days: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|epoch| epoch.checked_add_signed(chrono::Duration::days(i64::from(days))))
        .unwrap_or(NaiveDate::MIN)
}

fn i64_values(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<i64>>> {
    let column = frame.column(name)?.cast(&DataType::Int64)?;
    Ok(column.i64()?.iter().collect())
}

fn rate_values(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<Decimal>>> {
    // Rates repeat a handful of values: parse each distinct text once.
    let mut parsed: HashMap<&str, Option<Decimal>> = HashMap::new();
    Ok(frame
        .column(name)?
        .str()?
        .iter()
        .map(|value| {
            value.and_then(|text| {
                *parsed
                    .entry(text)
                    .or_insert_with(|| money::parse_decimal(text).ok())
            })
        })
        .collect())
}

fn events_from_frame(frame: &DataFrame) -> PolarsResult<Vec<(String, Event)>> {
    let ids = string_values(frame, "account_id")?;
    let kinds = string_values(frame, "kind")?;
    let dates = date_values(frame, "date")?;
    let details = string_values(frame, "detail")?;
    let quantities = i64_values(frame, "quantity")?;
    let mut events = Vec::with_capacity(frame.height());
    for index in 0..frame.height() {
        let (Some(id), Some(kind), Some(date)) =
            (ids[index].clone(), kinds[index].clone(), dates[index])
        else {
            continue;
        };
        events.push((
            id,
            Event {
                kind,
                date,
                detail: details[index].clone(),
                quantity: quantities[index],
            },
        ));
    }
    Ok(events)
}

/// Earliest trigger event inside the window, per account.
fn trigger_dates(incident: &Incident, events: &[(String, Event)]) -> HashMap<String, NaiveDate> {
    let scope = &incident.scope;
    let mut triggers: HashMap<String, NaiveDate> = HashMap::new();
    for (id, event) in events {
        if event.kind != incident.trigger.event {
            continue;
        }
        if let Some(detail) = &incident.trigger.detail
            && event.detail.as_deref() != Some(detail.as_str())
        {
            continue;
        }
        if scope.event_dates_from.is_some_and(|from| event.date < from)
            || scope.event_dates_to.is_some_and(|to| event.date > to)
        {
            continue;
        }
        triggers
            .entry(id.clone())
            .and_modify(|date| *date = (*date).min(event.date))
            .or_insert(event.date);
    }
    triggers
}

fn in_scope_accounts(
    incident: &Incident,
    accounts: &DataFrame,
    triggers: &HashMap<String, NaiveDate>,
) -> PolarsResult<BTreeMap<String, Account>> {
    let scope = &incident.scope;
    let text = |name: &str| string_column(accounts, name);
    let ids = text("account_id")?;
    let holder_names = text("holder_name")?;
    let postal_codes = text("postal_code")?;
    let addresses = text("address")?;
    let emails = text("email")?;
    let languages = text("language")?;
    let regions = text("region")?;
    let plans = text("plan")?;
    let customer_types = text("customer_type")?;
    let opened = date_values(accounts, "opened_on")?;
    let statuses = text("status")?;
    let closed = date_values(accounts, "closed_on")?;
    let bank_codes = text("bank_code")?;
    let branch_codes = text("branch_code")?;
    let account_types = text("bank_account_type")?;
    let account_numbers = text("bank_account_number")?;
    let holder_kana = text("bank_account_holder_kana")?;
    let passes = |filter: &Option<Vec<String>>, value: Option<&str>| match filter {
        None => true,
        Some(allowed) => value.is_some_and(|value| allowed.iter().any(|allowed| allowed == value)),
    };
    let mut out = BTreeMap::new();
    for index in 0..accounts.height() {
        let Some(id) = ids[index] else { continue };
        let Some(&trigger_date) = triggers.get(id) else {
            continue;
        };
        if !passes(&scope.regions, regions[index])
            || !passes(&scope.plans, plans[index])
            || !passes(&scope.customer_types, customer_types[index])
        {
            continue;
        }
        if scope.opened_from.is_some() || scope.opened_to.is_some() {
            let Some(opened_on) = opened[index] else {
                continue;
            };
            if scope.opened_from.is_some_and(|from| opened_on < from)
                || scope.opened_to.is_some_and(|to| opened_on > to)
            {
                continue;
            }
        }
        out.insert(
            id.to_string(),
            Account {
                account_id: id.to_string(),
                holder_name: holder_names[index].unwrap_or_default().to_string(),
                postal_code: postal_codes[index].map(str::to_string),
                address: addresses[index].map(str::to_string),
                email: emails[index].map(str::to_string),
                language: if languages[index] == Some("en") {
                    Language::En
                } else {
                    Language::Ja
                },
                region: regions[index].map(str::to_string),
                plan: plans[index].map(str::to_string),
                customer_type: customer_types[index].map(str::to_string),
                opened_on: opened[index],
                status: if statuses[index] == Some("closed") {
                    Status::Closed
                } else {
                    Status::Active
                },
                closed_on: closed[index],
                bank: BankDetails {
                    bank_code: bank_codes[index].map(str::to_string),
                    branch_code: branch_codes[index].map(str::to_string),
                    account_type: account_types[index].map(str::to_string),
                    account_number: account_numbers[index].map(str::to_string),
                    holder_kana: holder_kana[index].map(str::to_string),
                },
                trigger_date,
            },
        );
    }
    Ok(out)
}

fn touched_mask(rows: &DataFrame, items: &Items) -> PolarsResult<BooleanChunked> {
    let item_column = rows.column("item")?.str()?;
    Ok(item_column
        .iter()
        .map(|item| item.is_some_and(|item| items.contains(item)))
        .collect::<BooleanChunked>()
        .with_name("touched".into()))
}

fn add_charge_rows(
    frame: &DataFrame,
    index: &HashMap<String, usize>,
    inputs: &mut [AccountInput],
) -> PolarsResult<()> {
    let ids = string_column(frame, "account_id")?;
    let months: Vec<Option<i32>> = frame.column("billing_month")?.i32()?.iter().collect();
    let starts = date_values(frame, "period_start")?;
    let ends = date_values(frame, "period_end")?;
    let items = string_column(frame, "item")?;
    let quantities = i64_values(frame, "quantity")?;
    let unit_prices = i64_values(frame, "unit_price")?;
    let list_amounts = i64_values(frame, "list_amount")?;
    let discount_rates = rate_values(frame, "discount_rate")?;
    let amounts = i64_values(frame, "amount")?;
    let tax_rates = rate_values(frame, "tax_rate")?;
    let paid = date_values(frame, "paid_on")?;
    for row in 0..frame.height() {
        let (
            Some(id),
            Some(month),
            Some(start),
            Some(end),
            Some(item),
            Some(quantity),
            Some(unit_price),
            Some(amount),
            Some(tax_rate),
        ) = (
            ids[row],
            months[row],
            starts[row],
            ends[row],
            items[row],
            quantities[row],
            unit_prices[row],
            amounts[row],
            tax_rates[row],
        )
        else {
            continue;
        };
        let Some(&position) = index.get(id) else {
            continue;
        };
        inputs[position].rows.push(ChargeRow {
            billing_month: Month::from_index(month),
            period_start: start,
            period_end: end,
            item: item.to_string(),
            quantity,
            unit_price,
            list_amount: list_amounts[row].unwrap_or(amount),
            discount_rate: discount_rates[row].unwrap_or(Decimal::ZERO),
            amount,
            tax_rate: tax_rate.normalize(),
            paid_on: paid[row],
        });
    }
    Ok(())
}

fn add_untouched(
    frame: &DataFrame,
    index: &HashMap<String, usize>,
    inputs: &mut [AccountInput],
    table: &Table,
) -> Result<(), LoadError> {
    let error = polars_error(table);
    let ids = string_column(frame, "account_id").map_err(&error)?;
    let months = frame
        .column("billing_month")
        .and_then(|column| {
            column
                .i32()
                .map(|values| values.iter().collect::<Vec<Option<i32>>>())
        })
        .map_err(&error)?;
    let tax_rates = rate_values(frame, "tax_rate").map_err(&error)?;
    let sums = i64_values(frame, "amount_sum").map_err(&error)?;
    let counts = i64_values(frame, "rows").map_err(&error)?;
    let minimums = i64_values(frame, "amount_min").map_err(&error)?;
    let maximums = i64_values(frame, "amount_max").map_err(&error)?;
    let paid_min = date_values(frame, "paid_on_min").map_err(&error)?;
    let paid_max = date_values(frame, "paid_on_max").map_err(&error)?;
    let paid_empty = i64_values(frame, "paid_on_empty").map_err(&error)?;
    for row in 0..frame.height() {
        let (Some(id), Some(month), Some(tax_rate)) = (ids[row], months[row], tax_rates[row])
        else {
            continue;
        };
        let rows = counts[row].unwrap_or(0);
        // polars sums in i64 without reporting overflow: prove the sum cannot have wrapped.
        let largest = minimums[row]
            .unwrap_or(0)
            .unsigned_abs()
            .max(maximums[row].unwrap_or(0).unsigned_abs());
        if (rows.unsigned_abs() as u128) * u128::from(largest) > i64::MAX as u128 {
            return Err(LoadError::Bad {
                message: format!(
                    "account `{id}`, invoice {}: {rows} rows with amounts up to {largest} could overflow the invoice total",
                    Month::from_index(month)
                ),
            });
        }
        let Some(&position) = index.get(id) else {
            continue;
        };
        inputs[position].untouched.push(UntouchedGroup {
            billing_month: Month::from_index(month),
            tax_rate: tax_rate.normalize(),
            amount_sum: sums[row].unwrap_or(0),
            rows: rows as u64,
            paid_on_min: paid_min[row],
            paid_on_max: paid_max[row],
            paid_on_empty: paid_empty[row].unwrap_or(0) as u64,
        });
    }
    Ok(())
}
