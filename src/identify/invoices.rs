//! Stage 4: B and D per invoice and tax rate, summed in polars over the rows of the accounts whose
//! invoices the rule changes; only the changed invoices' groups become Rust values. The same plan
//! and sums serve `explain` (one account, every invoice, with each row's should and diff) and the
//! single-account evaluation of the scenario tests.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use polars::prelude::*;
use rust_decimal::Decimal;

use super::charges::{PERIOD, rows_read};
use super::scope::Scope;
use super::tables::Accounts;
use super::{Explained, Focus, IdentifyError, Review, days_to_date, engine_collect_all, error};
use crate::incident::Incident;
use crate::load::{self, RATE_SCALE, Table};
use crate::model::{
    Account, AccountInput, AccountInvoices, BankAccountType, BankDetails, ChargeRow, Event,
    GroupInput, InvoiceInput, Language, Status,
};
use crate::money::{Currency, Money, Month, Overflow};
use crate::refund::RowTrace;
use crate::rules::columns::*;
use crate::rules::{self, PlanContext, RowProblemCode, RuleError};

pub(crate) const RATE_HI: &str = "__rate_hi";
const INVOICE: &str = "__invoice";
pub(crate) const RATE_LO: &str = "__rate_lo";
/// Rates are split into two Int64 keys (high and low 14 digits of the 28-digit mantissa) so that
/// groups form on integers.
pub(crate) const RATE_SPLIT: i128 = 100_000_000_000_000;

/// What the first pass knows of the changed invoices.
pub(crate) enum Changed {
    /// Their keys (`__account_no`, `billing_month`): a second pass sums them.
    Keys(DataFrame),
    /// The sums of every in-scope invoice (few accounts in scope: summed in the first pass).
    Summed(Sums),
}

/// The sums of one run of the plan, collected.
pub(crate) struct Sums {
    /// One row per (account, month, tax rate), sorted.
    pub groups: DataFrame,
    /// Rows the rule could not compute.
    pub problems: DataFrame,
    /// Touched rows with should and diff (explain and single-account evaluation).
    pub trace: Option<DataFrame>,
}

/// The sums of one run of the plan, to be collected together with other sinks.
pub(crate) struct SumFrames {
    pub groups: LazyFrame,
    pub problems: LazyFrame,
    pub trace: Option<LazyFrame>,
}

impl SumFrames {
    pub fn into_frames(self) -> Vec<LazyFrame> {
        let mut frames = vec![self.groups, self.problems];
        frames.extend(self.trace);
        frames
    }

    pub fn collect(self) -> PolarsResult<Sums> {
        let mut frames = engine_collect_all(self.into_frames())?.into_iter();
        Sums::from_frames(&mut frames)
    }
}

impl Sums {
    /// The invoice sums and their problems, then (when planned) the row trace.
    pub fn from_frames(frames: &mut impl Iterator<Item = DataFrame>) -> PolarsResult<Sums> {
        Ok(Sums {
            groups: super::next_frame(frames, "the invoice sums")?,
            problems: super::next_frame(frames, "the invoice sums' problems")?,
            trace: frames.next(),
        })
    }

    /// Only the invoices the rule changes: some group with a non-zero D, or a row it could not
    /// compute. (Every in-scope invoice was summed; the others have X = 0.)
    pub fn changed_only(self) -> PolarsResult<Sums> {
        let changed = self
            .groups
            .clone()
            .lazy()
            .group_by([col(ACCOUNT_NO), col("billing_month")])
            .agg([col("diff")
                .neq(rules::expr::int128(0))
                .or(col("problem").neq(lit(0i32)))
                .any(true)
                .alias("changed")])
            .filter(col("changed"));
        let groups = self
            .groups
            .lazy()
            .join(
                changed,
                [col(ACCOUNT_NO), col("billing_month")],
                [col(ACCOUNT_NO), col("billing_month")],
                JoinArgs::new(JoinType::Semi),
            )
            .sort(
                [ACCOUNT_NO, "billing_month", RATE_HI, RATE_LO],
                SortMultipleOptions::default(),
            )
            .collect()?;
        Ok(Sums {
            groups,
            problems: self.problems,
            trace: self.trace,
        })
    }
}

/// In-scope rows of the `selection` accounts (`__account_no`, `account_id`, `__trigger_date`,
/// `__opened_on`), typed and checked again (they were valid in the first pass).
fn selected_rows(
    incident: &Incident,
    table: &Table,
    selection: &DataFrame,
) -> Result<LazyFrame, IdentifyError> {
    let rows = load::typed_frame_of(table, incident.currency.digits, selection)?
        .join(
            selection.clone().lazy(),
            [col("account_id")],
            [col("account_id")],
            JoinArgs::new(JoinType::Inner),
        )
        .with_column(
            col("period_start")
                .gt(col("period_end"))
                .fill_null(lit(false))
                .alias(PERIOD),
        )
        .filter(load::any_problem(load::CHARGE_COLUMNS, &[PERIOD]).not())
        .filter(rows_read(incident));
    Ok(rows)
}

/// B, D, row counts and paid_on per (account, month, tax rate) of the planned rows (all months the
/// rule read), restricted to the scope's months and, if given, to the `candidates` invoices.
pub(crate) fn sum_frames(
    incident: &Incident,
    all_months: LazyFrame,
    candidates: Option<&DataFrame>,
    trace: bool,
) -> SumFrames {
    let all_months = if trace {
        all_months.cache()
    } else {
        all_months
    };
    let mut planned = super::charges::scope_months(incident, all_months.clone());
    if let Some(candidates) = candidates {
        planned = only_candidates(planned, candidates);
    }
    let planned = planned.cache();
    SumFrames {
        groups: group_sums(planned.clone()),
        problems: problem_rows(planned),
        trace: trace.then(|| trace_rows(all_months)),
    }
}

/// The rows of the candidate invoices (`__account_no`, `billing_month`) alone.
fn only_candidates(planned: LazyFrame, candidates: &DataFrame) -> LazyFrame {
    // One integer per invoice, so that the semi-join hashes a single key.
    let invoice = || {
        (col(ACCOUNT_NO).cast(DataType::Int64) * lit(1i64 << 32)
            + col("billing_month").cast(DataType::Int64))
        .alias(INVOICE)
    };
    planned
        .with_column(invoice())
        .join(
            candidates.clone().lazy().select([invoice()]),
            [col(INVOICE)],
            [col(INVOICE)],
            JoinArgs::new(JoinType::Semi),
        )
        .drop(Selector::ByName {
            names: [PlSmallStr::from(INVOICE)].into(),
            strict: true,
        })
}

/// B, D, row counts, paid_on agreement and the worst row problem per (account, month, tax rate).
fn group_sums(planned: LazyFrame) -> LazyFrame {
    let physical = || col("tax_rate").to_physical();
    let split = || rules::expr::int128(RATE_SPLIT);
    planned
        .with_columns([
            physical()
                .floor_div(split())
                .cast(DataType::Int64)
                .alias(RATE_HI),
            (physical() % split()).cast(DataType::Int64).alias(RATE_LO),
        ])
        .group_by([
            col(ACCOUNT_NO),
            col("billing_month"),
            col(RATE_HI),
            col(RATE_LO),
        ])
        .agg([
            col("amount").cast(DataType::Int128).sum().alias("billed"),
            col(DIFF).sum().alias("diff"),
            len().cast(DataType::UInt64).alias("rows"),
            col(TOUCHED).cast(DataType::UInt64).sum().alias("touched"),
            col("paid_on").min().alias("paid_min"),
            col("paid_on").max().alias("paid_max"),
            col("paid_on")
                .null_count()
                .cast(DataType::UInt64)
                .alias("paid_empty"),
            col(PROBLEM).max().alias("problem"),
        ])
        .sort(
            [ACCOUNT_NO, "billing_month", RATE_HI, RATE_LO],
            SortMultipleOptions::default(),
        )
}

/// The rows whose should cannot be computed, in message order.
fn problem_rows(planned: LazyFrame) -> LazyFrame {
    planned
        .filter(col(PROBLEM).neq(lit(0i32)))
        .select([
            col(ACCOUNT_NO),
            col("billing_month"),
            col("period_start"),
            col("item"),
            col(PROBLEM),
            col(SEGMENT_DATE),
        ])
        .sort(
            [ACCOUNT_NO, "billing_month", "period_start", "item"],
            SortMultipleOptions::default(),
        )
}

/// Every touched row with should and diff, for `explain`.
fn trace_rows(all_months: LazyFrame) -> LazyFrame {
    all_months
        .filter(col(TOUCHED))
        .select([
            col("billing_month"),
            col("period_start"),
            col("period_end"),
            col("item"),
            col("quantity"),
            col("unit_price"),
            col("list_amount"),
            col("discount_rate"),
            col("amount"),
            col("tax_rate"),
            col("paid_on"),
            col(SHOULD),
            col(DIFF),
        ])
        .sort(
            [
                "billing_month",
                "period_start",
                "period_end",
                "amount",
                "tax_rate",
                "item",
                "quantity",
                "unit_price",
                "list_amount",
                "discount_rate",
                "paid_on",
            ],
            SortMultipleOptions::default(),
        )
}

fn sums(
    incident: &Incident,
    rows: LazyFrame,
    context: &PlanContext,
    candidates: Option<&DataFrame>,
    trace: bool,
) -> PolarsResult<Sums> {
    let all_months = rules::plan(incident.rule.as_ref(), rows, context)?;
    sum_frames(incident, all_months, candidates, trace).collect()
}

/// The invoices the rule changes, per account, in account_id order: from sums the first pass
/// already made, or by a second pass over the rows of the accounts with changed invoices.
pub(crate) fn changed_invoices(
    incident: &Incident,
    table: &Table,
    accounts: &Accounts,
    scope: &Scope,
    context: &PlanContext,
    review: &Review,
    changed: Changed,
) -> Result<Vec<AccountInvoices>, IdentifyError> {
    let selection = scope.computable(review).map_err(error(table))?;
    let candidates = match changed {
        Changed::Summed(sums) => {
            // Accounts sent to review after the first pass are left out here.
            let keep = |frame: DataFrame| {
                frame
                    .lazy()
                    .join(
                        selection.clone().lazy().select([col(ACCOUNT_NO)]),
                        [col(ACCOUNT_NO)],
                        [col(ACCOUNT_NO)],
                        JoinArgs::new(JoinType::Semi),
                    )
                    .collect()
            };
            let sums = Sums {
                groups: keep(sums.groups).map_err(error(table))?,
                problems: keep(sums.problems).map_err(error(table))?,
                trace: None,
            }
            .changed_only()
            .map_err(error(table))?;
            let numbers = sums
                .groups
                .column(ACCOUNT_NO)
                .map_err(error(table))?
                .clone();
            let selection = selection
                .lazy()
                .filter(col(ACCOUNT_NO).is_in(
                    lit(numbers.take_materialized_series()).implode(false),
                    false,
                ))
                .collect()
                .map_err(error(table))?;
            let accounts = account_rows(accounts, &selection).map_err(error(table))?;
            return assemble(incident, &sums, &accounts, context, &|account_id, month| {
                paid_on_values(incident, table, account_id, month)
            });
        }
        Changed::Keys(candidates) => candidates,
    };
    let candidates = candidates
        .clone()
        .lazy()
        .join(
            selection.clone().lazy(),
            [col(ACCOUNT_NO)],
            [col(ACCOUNT_NO)],
            JoinArgs::new(JoinType::Semi),
        )
        .collect()
        .map_err(error(table))?;
    if candidates.height() == 0 {
        return Ok(Vec::new());
    }
    let selection = selection
        .lazy()
        .join(
            candidates
                .clone()
                .lazy()
                .select([col(ACCOUNT_NO)])
                .unique(None, UniqueKeepStrategy::Any),
            [col(ACCOUNT_NO)],
            [col(ACCOUNT_NO)],
            JoinArgs::new(JoinType::Semi),
        )
        .collect()
        .map_err(error(table))?;
    let rows = selected_rows(incident, table, &selection)?;
    let sums = sums(incident, rows, context, Some(&candidates), false).map_err(error(table))?;
    let accounts = account_rows(accounts, &selection).map_err(error(table))?;
    assemble(incident, &sums, &accounts, context, &|account_id, month| {
        paid_on_values(incident, table, account_id, month)
    })
}

/// `explain`: one account's invoices in scope and rows, through the same plan.
pub(crate) fn focus(
    incident: &Incident,
    tables: &super::Tables,
    accounts: &Accounts,
    scope: &Scope,
    context: &PlanContext,
    review: &Review,
    account_id: &str,
) -> Result<Explained, IdentifyError> {
    if let Some(reason) = review.get(account_id) {
        return Ok(Explained::Review(*reason));
    }
    let table = &tables.charges;
    let selection = scope
        .computable(review)
        .and_then(|frame| {
            frame
                .lazy()
                .filter(col("account_id").eq(lit(account_id.to_string())))
                .collect()
        })
        .map_err(error(table))?;
    if selection.height() == 0 {
        let known = accounts
            .known
            .clone()
            .lazy()
            .filter(col("account_id").eq(lit(account_id.to_string())))
            .collect()
            .map_err(error(&tables.accounts))?;
        return Ok(if known.height() == 0 {
            Explained::UnknownAccount
        } else {
            Explained::NotInScope
        });
    }
    let rows = selected_rows(incident, table, &selection)?;
    let sums = sums(incident, rows, context, None, true).map_err(error(table))?;
    let account_rows = account_rows(accounts, &selection).map_err(error(table))?;
    let mut inputs = assemble(incident, &sums, &account_rows, context, &|id, month| {
        paid_on_values(incident, table, id, month)
    })?;
    let input = match inputs.pop() {
        Some(input) => input,
        None => AccountInvoices {
            account: account_rows.into_values().next().ok_or_else(|| {
                IdentifyError::Load(load::LoadError::Bad {
                    message: format!("account `{account_id}` has no account row"),
                })
            })?,
            invoices: Vec::new(),
        },
    };
    let trace = sums.trace.unwrap_or_default();
    let events = account_events(&context.events, &selection).map_err(error(table))?;
    Ok(Explained::Account(Box::new(Focus {
        input,
        rows: row_traces(&trace, incident.currency).map_err(error(table))?,
        events,
    })))
}

/// Evaluates one account given as rows and events (`AccountInput`) through the same plan and sums:
/// the account's invoices in scope and the trace of its touched rows.
pub fn evaluate_rows(
    incident: &Incident,
    input: &AccountInput,
) -> Result<(AccountInvoices, Vec<RowTrace>), IdentifyError> {
    let account = &input.account;
    let internal = |error: PolarsError| {
        IdentifyError::Load(load::LoadError::Engine {
            what: format!("evaluating account `{}`", account.account_id),
            source: error,
        })
    };
    let rows = charge_frame(&input.rows, account).map_err(internal)?;
    let events = event_frame(&input.events).map_err(internal)?;
    let accounts = df![
        ACCOUNT_NO => [0u32],
        TRIGGER_DATE => [date_days(account.trigger_date)],
        OPENED_ON => [account.opened_on.map(date_days)],
    ]
    .and_then(|frame| {
        frame
            .lazy()
            .with_columns([
                col(TRIGGER_DATE).cast(DataType::Date),
                col(OPENED_ON).cast(DataType::Date),
            ])
            .collect()
    })
    .map_err(internal)?;
    let context = PlanContext { events, accounts };
    let rows = rows.filter(rows_read(incident));
    let sums = sums(incident, rows, &context, None, true).map_err(internal)?;
    let by_no: BTreeMap<u32, Account> = [(0u32, account.clone())].into_iter().collect();
    let mut inputs = assemble(incident, &sums, &by_no, &context, &|_, month| {
        Ok(paid_on_list(
            input
                .rows
                .iter()
                .filter(|row| row.billing_month == month)
                .map(|row| row.paid_on),
        ))
    })?;
    let invoices = inputs.pop().unwrap_or(AccountInvoices {
        account: account.clone(),
        invoices: Vec::new(),
    });
    let trace = row_traces(&sums.trace.unwrap_or_default(), incident.currency).map_err(internal)?;
    Ok((invoices, trace))
}

/// The groups of one account given as rows, for callers that only need the sums.
pub fn account_groups(
    incident: &Incident,
    input: &AccountInput,
) -> Result<AccountInvoices, IdentifyError> {
    Ok(evaluate_rows(incident, input)?.0)
}

fn date_days(date: NaiveDate) -> i32 {
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days() as i32
}

fn charge_frame(rows: &[ChargeRow], account: &Account) -> PolarsResult<LazyFrame> {
    let count = rows.len();
    let rate = |value: Decimal| {
        let value = value.normalize();
        value.mantissa() * 10i128.pow(RATE_SCALE as u32 - value.scale())
    };
    let frame = DataFrame::new_infer_height(vec![
        Column::new(ACCOUNT_NO.into(), vec![0u32; count]),
        Column::new("account_id".into(), vec![account.account_id.clone(); count]),
        Column::new(
            "billing_month".into(),
            rows.iter()
                .map(|row| row.billing_month.index())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "period_start".into(),
            rows.iter()
                .map(|row| date_days(row.period_start))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "period_end".into(),
            rows.iter()
                .map(|row| date_days(row.period_end))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "item".into(),
            rows.iter().map(|row| row.item.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "quantity".into(),
            rows.iter().map(|row| row.quantity).collect::<Vec<_>>(),
        ),
        Column::new(
            "unit_price".into(),
            rows.iter()
                .map(|row| row.unit_price.minor())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "list_amount".into(),
            rows.iter()
                .map(|row| row.list_amount.minor())
                .collect::<Vec<_>>(),
        ),
        Int128Chunked::from_vec(
            "discount_rate".into(),
            rows.iter().map(|row| rate(row.discount_rate)).collect(),
        )
        .into_decimal(38, RATE_SCALE)?
        .into_column(),
        Column::new(
            "amount".into(),
            rows.iter()
                .map(|row| row.amount.minor())
                .collect::<Vec<_>>(),
        ),
        Int128Chunked::from_vec(
            "tax_rate".into(),
            rows.iter().map(|row| rate(row.tax_rate)).collect(),
        )
        .into_decimal(38, RATE_SCALE)?
        .into_column(),
        Column::new(
            "paid_on".into(),
            rows.iter()
                .map(|row| row.paid_on.map(date_days))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            TRIGGER_DATE.into(),
            vec![date_days(account.trigger_date); count],
        ),
        Column::new(
            OPENED_ON.into(),
            vec![account.opened_on.map(date_days); count],
        ),
    ])?;
    Ok(frame.lazy().with_columns([
        col("period_start").cast(DataType::Date),
        col("period_end").cast(DataType::Date),
        col("paid_on").cast(DataType::Date),
        col(TRIGGER_DATE).cast(DataType::Date),
        col(OPENED_ON).cast(DataType::Date),
    ]))
}

fn event_frame(events: &[Event]) -> PolarsResult<DataFrame> {
    df![
        ACCOUNT_NO => vec![0u32; events.len()],
        "kind" => events.iter().map(|event| event.kind.clone()).collect::<Vec<_>>(),
        "date" => events.iter().map(|event| date_days(event.date)).collect::<Vec<_>>(),
        "detail" => events.iter().map(|event| event.detail.clone()).collect::<Vec<_>>(),
        "quantity" => events.iter().map(|event| event.quantity).collect::<Vec<_>>(),
    ]?
    .lazy()
    .with_column(col("date").cast(DataType::Date))
    .collect()
}

/// The columns of the invoice sums (one row per account, billing month and tax rate), as Rust
/// vectors.
struct SumColumns {
    numbers: Vec<u32>,
    months: Vec<i32>,
    rate_hi: Vec<i64>,
    rate_lo: Vec<i64>,
    billed: Vec<i128>,
    diff: Vec<i128>,
    rows: Vec<u64>,
    touched: Vec<u64>,
    paid_min: Vec<Option<NaiveDate>>,
    paid_max: Vec<Option<NaiveDate>>,
    paid_empty: Vec<u64>,
    problem: Vec<i32>,
}

impl SumColumns {
    fn of(groups: &DataFrame) -> PolarsResult<SumColumns> {
        let problem = groups.column("problem")?.cast(&DataType::Int32)?;
        Ok(SumColumns {
            numbers: values::<UInt32Type>(groups, ACCOUNT_NO)?,
            months: values::<Int32Type>(groups, "billing_month")?,
            rate_hi: values::<Int64Type>(groups, RATE_HI)?,
            rate_lo: values::<Int64Type>(groups, RATE_LO)?,
            billed: values::<Int128Type>(groups, "billed")?,
            diff: values::<Int128Type>(groups, "diff")?,
            rows: values::<UInt64Type>(groups, "rows")?,
            touched: values::<UInt64Type>(groups, "touched")?,
            paid_min: date_values(groups, "paid_min")?,
            paid_max: date_values(groups, "paid_max")?,
            paid_empty: values::<UInt64Type>(groups, "paid_empty")?,
            problem: problem
                .i32()?
                .iter()
                .map(|value| value.unwrap_or(0))
                .collect(),
        })
    }

    /// The tax groups of the invoice in rows `range`.
    fn groups(
        &self,
        range: std::ops::Range<usize>,
        currency: crate::money::Currency,
        located: impl Fn(Overflow) -> IdentifyError,
    ) -> Result<Vec<GroupInput>, IdentifyError> {
        range
            .map(|r| {
                let mantissa =
                    i128::from(self.rate_hi[r]) * RATE_SPLIT + i128::from(self.rate_lo[r]);
                Ok(GroupInput {
                    tax_rate: Decimal::try_from_i128_with_scale(mantissa, RATE_SCALE as u32)
                        .map_err(|_| located(Overflow("a tax rate")))?
                        .normalize(),
                    billed: i64::try_from(self.billed[r])
                        .map(|minor| currency.money(minor))
                        .map_err(|_| located(Overflow("an invoice's billed amount")))?,
                    diff: i64::try_from(self.diff[r])
                        .map(|minor| currency.money(minor))
                        .map_err(|_| located(Overflow("an invoice's diff")))?,
                    rows: self.rows[r],
                    untouched_rows: self.rows[r] - self.touched[r],
                })
            })
            .collect()
    }
}

/// The sums as Rust values, per account in account_id order; the first account (in that order)
/// that cannot be computed stops the run, as the money policy would.
pub(crate) fn assemble(
    incident: &Incident,
    sums: &Sums,
    accounts: &BTreeMap<u32, Account>,
    context: &PlanContext,
    paid_on_values: &dyn Fn(&str, Month) -> Result<String, IdentifyError>,
) -> Result<Vec<AccountInvoices>, IdentifyError> {
    let height = sums.groups.height();
    let columns = SumColumns::of(&sums.groups).map_err(|error| {
        IdentifyError::Load(load::LoadError::Engine {
            what: "reading the invoice sums".to_string(),
            source: error,
        })
    })?;
    let mut out: Vec<AccountInvoices> = Vec::new();
    let mut index = 0;
    while index < height {
        let number = columns.numbers[index];
        let account = accounts.get(&number).ok_or_else(|| {
            IdentifyError::Load(load::LoadError::Bad {
                message: format!(
                    "invoice sums name account number {number}, which is not in scope"
                ),
            })
        })?;
        let end = (index..height)
            .find(|&row| columns.numbers[row] != number)
            .unwrap_or(height);
        if (index..end).any(|row| columns.problem[row] != 0) {
            return Err(row_problem(incident, sums, context, number, account)?);
        }
        let mut invoices: Vec<InvoiceInput> = Vec::new();
        let mut row = index;
        while row < end {
            let month = columns.months[row];
            let invoice_end = (row..end)
                .find(|&r| columns.months[r] != month)
                .unwrap_or(end);
            let billing_month = Month::from_index(month);
            // All rows of the invoice agree on paid_on: every one empty, or one date for all.
            let empty: u64 = (row..invoice_end).map(|r| columns.paid_empty[r]).sum();
            let count: u64 = (row..invoice_end).map(|r| columns.rows[r]).sum();
            let low = (row..invoice_end).filter_map(|r| columns.paid_min[r]).min();
            let high = (row..invoice_end).filter_map(|r| columns.paid_max[r]).max();
            if !(empty == count || (empty == 0 && low == high)) {
                return Err(IdentifyError::PaidOnDisagrees {
                    account_id: account.account_id.clone(),
                    billing_month,
                    values: paid_on_values(&account.account_id, billing_month)?,
                });
            }
            let located = |source: Overflow| IdentifyError::InvoiceOverflow {
                account_id: account.account_id.clone(),
                billing_month,
                source,
            };
            invoices.push(InvoiceInput {
                billing_month,
                paid_on: if empty == count { None } else { low },
                groups: columns.groups(row..invoice_end, incident.currency, located)?,
            });
            row = invoice_end;
        }
        out.push(AccountInvoices {
            account: account.clone(),
            invoices,
        });
        index = end;
    }
    Ok(out)
}

/// The error for the first row of an account that the rule could not compute.
fn row_problem(
    incident: &Incident,
    sums: &Sums,
    context: &PlanContext,
    number: u32,
    account: &Account,
) -> Result<IdentifyError, IdentifyError> {
    let internal = |error: PolarsError| {
        IdentifyError::Load(load::LoadError::Engine {
            what: "reading the row problems".to_string(),
            source: error,
        })
    };
    let first = sums
        .problems
        .clone()
        .lazy()
        .filter(col(ACCOUNT_NO).eq(lit(number)))
        .limit(1)
        .collect()
        .map_err(internal)?;
    let code = first
        .column(PROBLEM)
        .ok()
        .and_then(|column| column.i32().ok().and_then(|values| values.get(0)))
        .unwrap_or(0);
    match RowProblemCode::from_code(code) {
        RowProblemCode::EquipmentConflict => {
            let item = first
                .column("item")
                .ok()
                .and_then(|column| {
                    column
                        .str()
                        .ok()
                        .and_then(|values| values.get(0).map(str::to_string))
                })
                .unwrap_or_default();
            let day = values::<Int64Type>(&first, SEGMENT_DATE).map_err(internal)?;
            let day = days_to_date(day.first().copied().unwrap_or(0) as i32);
            let quantities =
                conflicting_quantities(&context.events, number, day, &item).map_err(internal)?;
            Ok(RuleError::BadData {
                account_id: account.account_id.clone(),
                message: format!(
                    "equipment_count events on {day} for item `{item}` disagree (quantities {})\nhint: keep one equipment_count event per date and item in events",
                    quantities.join(", ")
                ),
            }
            .into())
        }
        _ => Ok(RuleError::Overflow(Overflow(incident.rule.overflow_label())).into()),
    }
}

/// The quantities of the events that decide a date: those naming the item, else the empty ones.
fn conflicting_quantities(
    events: &DataFrame,
    number: u32,
    day: NaiveDate,
    item: &str,
) -> PolarsResult<Vec<String>> {
    let on_day = events
        .clone()
        .lazy()
        .filter(
            col(ACCOUNT_NO)
                .eq(lit(number))
                .and(col("kind").eq(lit("equipment_count")))
                .and(col("date").eq(lit(day))),
        )
        .collect()?;
    let details: Vec<Option<String>> = on_day
        .column("detail")?
        .str()?
        .iter()
        .map(|detail| detail.map(str::to_string))
        .collect();
    let quantities: Vec<Option<i64>> = on_day.column("quantity")?.i64()?.iter().collect();
    let named = details.iter().any(|detail| detail.as_deref() == Some(item));
    let mut chosen: Vec<i64> = details
        .iter()
        .zip(quantities)
        .filter(|(detail, _)| {
            if named {
                detail.as_deref() == Some(item)
            } else {
                detail.is_none()
            }
        })
        .filter_map(|(_, quantity)| quantity)
        .collect();
    chosen.sort();
    Ok(chosen.iter().map(ToString::to_string).collect())
}

/// The distinct paid_on values of an invoice, for the disagreement message (an error path: reads
/// the charges again, filtered to that invoice).
fn paid_on_values(
    incident: &Incident,
    table: &Table,
    account_id: &str,
    month: Month,
) -> Result<String, IdentifyError> {
    let account = DataFrame::new_infer_height(vec![Column::new(
        "account_id".into(),
        [account_id.to_string()],
    )])
    .map_err(error(table))?;
    let frame = load::typed_frame_of(table, incident.currency.digits, &account)?
        .filter(col("billing_month").eq(lit(month.index())))
        .select([col("paid_on")])
        .collect()
        .map_err(error(table))?;
    let values = date_values(&frame, "paid_on").map_err(error(table))?;
    Ok(paid_on_list(values.into_iter()))
}

pub(crate) fn paid_on_list(values: impl Iterator<Item = Option<NaiveDate>>) -> String {
    let mut values: Vec<String> = values
        .map(|value| {
            value
                .map(|date| date.to_string())
                .unwrap_or_else(|| "(empty)".to_string())
        })
        .collect();
    values.sort();
    values.dedup();
    values.join(", ")
}

/// The account rows of the selected accounts, as `Account`s by number.
fn account_rows(
    accounts: &Accounts,
    selection: &DataFrame,
) -> PolarsResult<BTreeMap<u32, Account>> {
    let frame = accounts
        .valid()
        .join(
            selection
                .clone()
                .lazy()
                .select([col(ACCOUNT_NO), col(TRIGGER_DATE)]),
            [col(ACCOUNT_NO)],
            [col(ACCOUNT_NO)],
            JoinArgs::new(JoinType::Inner),
        )
        .collect()?;
    accounts_from_frame(&frame)
}

/// `Account`s by number from a frame of the accounts columns (typed), `__account_no` and
/// `__trigger_date`; empty text is no value.
pub(crate) fn accounts_from_frame(frame: &DataFrame) -> PolarsResult<BTreeMap<u32, Account>> {
    let text = |name: &str| -> PolarsResult<Vec<Option<String>>> {
        Ok(frame
            .column(name)?
            .str()?
            .iter()
            .map(|value| value.filter(|text| !text.is_empty()).map(str::to_string))
            .collect())
    };
    let numbers = values::<UInt32Type>(frame, ACCOUNT_NO)?;
    let ids = text("account_id")?;
    let holder_names = text("holder_name")?;
    let postal_codes = text("postal_code")?;
    let addresses = text("address")?;
    let emails = text("email")?;
    let languages = text("language")?;
    let regions = text("region")?;
    let plans = text("plan")?;
    let customer_types = text("customer_type")?;
    let opened = date_values(frame, "opened_on")?;
    let statuses = text("status")?;
    let closed = date_values(frame, "closed_on")?;
    let bank_codes = text("bank_code")?;
    let branch_codes = text("branch_code")?;
    let account_types = text("bank_account_type")?;
    let account_numbers = text("bank_account_number")?;
    let holder_kana = text("bank_account_holder_kana")?;
    let triggers = date_values(frame, TRIGGER_DATE)?;
    let mut out = BTreeMap::new();
    for index in 0..frame.height() {
        let (Some(id), Some(trigger_date)) = (ids[index].clone(), triggers[index]) else {
            continue;
        };
        out.insert(
            numbers[index],
            Account {
                account_id: id,
                holder_name: holder_names[index].clone().unwrap_or_default(),
                postal_code: postal_codes[index].clone(),
                address: addresses[index].clone(),
                email: emails[index].clone(),
                // Checked at load (Check::OneOf); empty is the SPEC's default, ja.
                language: match languages[index].as_deref() {
                    None => Language::Ja,
                    Some(code) => Language::parse(code).ok_or_else(|| {
                        polars_err!(ComputeError: "account `{}`: language `{code}` passed the load check", ids[index].as_deref().unwrap_or(""))
                    })?,
                },
                region: regions[index].clone(),
                plan: plans[index].clone(),
                customer_type: customer_types[index].clone(),
                opened_on: opened[index],
                // Required and checked at load (Check::OneOf).
                status: statuses[index]
                    .as_deref()
                    .and_then(Status::parse)
                    .ok_or_else(|| {
                        polars_err!(ComputeError: "account `{}`: status {:?} passed the load check", ids[index].as_deref().unwrap_or(""), statuses[index])
                    })?,
                closed_on: closed[index],
                bank: BankDetails {
                    bank_code: bank_codes[index].clone(),
                    branch_code: branch_codes[index].clone(),
                    account_type: account_types[index]
                        .as_deref()
                        .and_then(BankAccountType::parse),
                    account_number: account_numbers[index].clone(),
                    holder_kana: holder_kana[index].clone(),
                },
                trigger_date,
            },
        );
    }
    Ok(out)
}

/// The selected account's events of the kinds the rule reads, in a stable order.
fn account_events(events: &DataFrame, selection: &DataFrame) -> PolarsResult<Vec<Event>> {
    let frame = events
        .clone()
        .lazy()
        .join(
            selection.clone().lazy().select([col(ACCOUNT_NO)]),
            [col(ACCOUNT_NO)],
            [col(ACCOUNT_NO)],
            JoinArgs::new(JoinType::Semi),
        )
        .collect()?;
    let kinds: Vec<Option<&str>> = frame.column("kind")?.str()?.iter().collect();
    let dates = date_values(&frame, "date")?;
    let details: Vec<Option<&str>> = frame.column("detail")?.str()?.iter().collect();
    let quantities = frame.column("quantity")?.i64()?.clone();
    let mut out: Vec<Event> = (0..frame.height())
        .filter_map(|index| {
            Some(Event {
                kind: kinds[index]?.to_string(),
                date: dates[index]?,
                detail: details[index].map(str::to_string),
                quantity: quantities.get(index),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.kind, a.date, &a.detail, a.quantity).cmp(&(&b.kind, b.date, &b.detail, b.quantity))
    });
    Ok(out)
}

fn row_traces(frame: &DataFrame, currency: Currency) -> PolarsResult<Vec<RowTrace>> {
    if frame.height() == 0 {
        return Ok(Vec::new());
    }
    let months = values::<Int32Type>(frame, "billing_month")?;
    let starts = date_values(frame, "period_start")?;
    let ends = date_values(frame, "period_end")?;
    let items: Vec<Option<&str>> = frame.column("item")?.str()?.iter().collect();
    let quantities = values::<Int64Type>(frame, "quantity")?;
    let unit_prices = values::<Int64Type>(frame, "unit_price")?;
    let list_amounts = values::<Int64Type>(frame, "list_amount")?;
    let discount_rates = rate_values(frame, "discount_rate")?;
    let amounts = values::<Int64Type>(frame, "amount")?;
    let tax_rates = rate_values(frame, "tax_rate")?;
    let paid = date_values(frame, "paid_on")?;
    let should = values::<Int128Type>(frame, SHOULD)?;
    let diff = values::<Int128Type>(frame, DIFF)?;
    let mut out = Vec::with_capacity(frame.height());
    for index in 0..frame.height() {
        let (Some(start), Some(end)) = (starts[index], ends[index]) else {
            continue;
        };
        out.push(RowTrace {
            row: ChargeRow {
                billing_month: Month::from_index(months[index]),
                period_start: start,
                period_end: end,
                item: items[index].unwrap_or_default().to_string(),
                quantity: quantities[index],
                unit_price: currency.money(unit_prices[index]),
                list_amount: currency.money(list_amounts[index]),
                discount_rate: discount_rates[index],
                amount: currency.money(amounts[index]),
                tax_rate: tax_rates[index],
                paid_on: paid[index],
            },
            should: money_of(should[index], currency)?,
            diff: money_of(diff[index], currency)?,
        });
    }
    Ok(out)
}

/// A row's exact sum as money; beyond an `i64` of minor units it is an error, never a clamp.
fn money_of(minor: i128, currency: Currency) -> PolarsResult<Money> {
    i64::try_from(minor)
        .map(|minor| currency.money(minor))
        .map_err(|_| polars_err!(ComputeError: "a row's should or diff of {minor} minor units overflows"))
}

/// A column of `frame` as numbers of type `T` (cast first); a null reads as 0.
pub(crate) fn values<T>(frame: &DataFrame, name: &str) -> PolarsResult<Vec<T::Native>>
where
    T: PolarsNumericType,
{
    let column = frame.column(name)?.cast(&T::get_static_dtype())?;
    Ok(column
        .as_materialized_series()
        .unpack::<T>()?
        .iter()
        .map(|value| value.unwrap_or_default())
        .collect())
}

pub(crate) fn date_values(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<NaiveDate>>> {
    let column = frame.column(name)?.cast(&DataType::Int32)?;
    Ok(column
        .i32()?
        .iter()
        .map(|days| days.map(days_to_date))
        .collect())
}

fn rate_values(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Decimal>> {
    let column = frame.column(name)?.decimal()?.physical().clone();
    Ok(column
        .iter()
        .map(|mantissa| {
            mantissa
                .and_then(|mantissa| {
                    Decimal::try_from_i128_with_scale(mantissa, RATE_SCALE as u32).ok()
                })
                .map(|rate| rate.normalize())
                .unwrap_or(Decimal::ZERO)
        })
        .collect())
}
