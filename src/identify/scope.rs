//! Stage 2: trigger dates and the in-scope accounts (SPEC §3), found from accounts and events before
//! any charge is read; and the accounts set aside for review.

use std::collections::BTreeSet;

use polars::prelude::*;

use super::Review;
use super::tables::{Accounts, Events};
use crate::incident::Incident;
use crate::load::RowProblem;
use crate::rules::columns::{ACCOUNT_NO, OPENED_ON, TRIGGER_DATE};
use crate::rules::{PlanContext, ReviewReason};

/// The in-scope accounts.
pub(crate) struct Scope {
    /// `__account_no`, `account_id`, `__trigger_date`, `__opened_on`: valid accounts with a trigger
    /// event inside the window that pass every `[scope]` filter.
    pub frame: DataFrame,
    /// `__account_no` and trigger date of every known account with a trigger event (valid or not).
    pub triggers: DataFrame,
    /// Accounts that cannot be computed whatever their charges (R01).
    pub needs_review: Vec<(String, ReviewReason)>,
}

impl Scope {
    /// Accounts in scope, counting those sent to review once.
    pub fn count_with(&self, review: &Review) -> u64 {
        let ids = self
            .frame
            .column("account_id")
            .ok()
            .and_then(|c| c.str().ok().cloned());
        let in_scope_not_reviewed = ids
            .map(|ids| {
                ids.iter()
                    .flatten()
                    .filter(|id| !review.contains_key(*id))
                    .count()
            })
            .unwrap_or(0);
        (in_scope_not_reviewed + review.len()) as u64
    }

    /// The in-scope accounts a plan computes: the scope minus every account in `review`.
    pub fn computable(&self, review: &Review) -> PolarsResult<DataFrame> {
        let reviewed = Series::new(
            "reviewed".into(),
            review.keys().cloned().collect::<Vec<String>>(),
        );
        self.frame
            .clone()
            .lazy()
            .filter(
                col("account_id")
                    .is_in(lit(reviewed).implode(false), false)
                    .not(),
            )
            .collect()
    }
}

pub(crate) fn in_scope(
    incident: &Incident,
    accounts: &Accounts,
    events: &Events,
) -> PolarsResult<Scope> {
    let scope = &incident.scope;
    let trigger = &incident.trigger;
    let mut trigger_events = events
        .valid()
        .filter(col("kind").eq(lit(trigger.event.clone())));
    if let Some(detail) = &trigger.detail {
        trigger_events =
            trigger_events.filter(col("detail").eq(lit(detail.clone())).fill_null(lit(false)));
    }
    if let Some(from) = scope.event_dates_from {
        trigger_events = trigger_events.filter(col("date").gt_eq(lit(from)));
    }
    if let Some(to) = scope.event_dates_to {
        trigger_events = trigger_events.filter(col("date").lt_eq(lit(to)));
    }
    // The trigger date is the earliest trigger event inside the window.
    let triggers = trigger_events
        .group_by([col(ACCOUNT_NO)])
        .agg([col("date").min().alias(TRIGGER_DATE)])
        .collect()?;
    let mut frame = accounts.valid().join(
        triggers.clone().lazy(),
        [col(ACCOUNT_NO)],
        [col(ACCOUNT_NO)],
        JoinArgs::new(JoinType::Inner),
    );
    // An account missing the attribute a filter tests fails that filter.
    for (column, allowed) in [
        ("region", &scope.regions),
        ("plan", &scope.plans),
        ("customer_type", &scope.customer_types),
    ] {
        if let Some(allowed) = allowed {
            let allowed = Series::new("allowed".into(), allowed.clone());
            frame = frame.filter(
                col(column)
                    .is_in(lit(allowed).implode(false), false)
                    .fill_null(lit(false)),
            );
        }
    }
    if let Some(from) = scope.opened_from {
        frame = frame.filter(col("opened_on").gt_eq(lit(from)).fill_null(lit(false)));
    }
    if let Some(to) = scope.opened_to {
        frame = frame.filter(col("opened_on").lt_eq(lit(to)).fill_null(lit(false)));
    }
    let frame = frame
        .select([
            col(ACCOUNT_NO),
            col("account_id"),
            col(TRIGGER_DATE),
            col("opened_on").alias(OPENED_ON),
        ])
        .sort([ACCOUNT_NO], SortMultipleOptions::default())
        .collect()?;
    let needs_review = if incident.rule.needs_opened_on() {
        let missing = frame
            .clone()
            .lazy()
            .filter(col(OPENED_ON).is_null())
            .select([col("account_id")])
            .collect()?;
        missing
            .column("account_id")?
            .str()?
            .iter()
            .flatten()
            .map(|id| (id.to_string(), ReviewReason::MissingOpenedOn))
            .collect()
    } else {
        Vec::new()
    };
    Ok(Scope {
        frame,
        triggers,
        needs_review,
    })
}

/// Accounts left out for review, with the first reason that applies (README: R04, R03, R02, R01).
/// Deliberately conservative: no partial refund goes out.
pub(crate) fn review(
    accounts: &Accounts,
    events: &Events,
    scope: &Scope,
    charge_problems: &[RowProblem],
) -> PolarsResult<Review> {
    let mut review = Review::new();
    let ids_of = |problems: &[RowProblem]| -> BTreeSet<String> {
        problems
            .iter()
            .filter_map(|problem| problem.account_id.clone())
            .collect()
    };
    let event_problem_ids = ids_of(&events.problems);
    let account_problem_ids = ids_of(&accounts.problems);
    // R04: the account's own row was rejected while it has trigger events (or rejected events).
    if !account_problem_ids.is_empty() {
        let triggered = ids_with(&accounts.known, &scope.triggers, &account_problem_ids)?;
        for id in &account_problem_ids {
            if triggered.contains(id) || event_problem_ids.contains(id) {
                review
                    .entry(id.clone())
                    .or_insert(ReviewReason::RejectedAccountRow);
            }
        }
    }
    // R03: an event row the incident reads was rejected, and the account itself is valid.
    if !event_problem_ids.is_empty() {
        let valid = accounts.valid().select([col("account_id")]).collect()?;
        let valid: BTreeSet<&str> = valid
            .column("account_id")?
            .str()?
            .iter()
            .flatten()
            .collect();
        for id in &event_problem_ids {
            if valid.contains(id.as_str()) {
                review
                    .entry(id.clone())
                    .or_insert(ReviewReason::RejectedEventRow);
            }
        }
    }
    // R02: a charge row of an in-scope account was rejected.
    let charge_problem_ids = ids_of(charge_problems);
    if !charge_problem_ids.is_empty() {
        let in_scope: BTreeSet<&str> = scope
            .frame
            .column("account_id")?
            .str()?
            .iter()
            .flatten()
            .collect();
        for id in &charge_problem_ids {
            if in_scope.contains(id.as_str()) {
                review
                    .entry(id.clone())
                    .or_insert(ReviewReason::RejectedChargeRow);
            }
        }
    }
    // R01: cooling-off without opened_on.
    for (id, reason) in &scope.needs_review {
        review.entry(id.clone()).or_insert(*reason);
    }
    Ok(review)
}

/// Which of `ids` have a row in `frame` (keyed by `__account_no`).
fn ids_with(
    known: &DataFrame,
    frame: &DataFrame,
    ids: &BTreeSet<String>,
) -> PolarsResult<BTreeSet<String>> {
    let wanted = Series::new("wanted".into(), ids.iter().cloned().collect::<Vec<_>>());
    let found = known
        .clone()
        .lazy()
        .filter(col("account_id").is_in(lit(wanted).implode(false), false))
        .join(
            frame.clone().lazy(),
            [col(ACCOUNT_NO)],
            [col(ACCOUNT_NO)],
            JoinArgs::new(JoinType::Semi),
        )
        .collect()?;
    Ok(found
        .column("account_id")?
        .str()?
        .iter()
        .flatten()
        .map(str::to_string)
        .collect())
}

/// What the rule's plan reads: the computable in-scope accounts and their events.
pub(crate) fn plan_context(
    scope: &Scope,
    events: &Events,
    review: &Review,
) -> PolarsResult<PlanContext> {
    let accounts = scope.computable(review)?;
    let events = events
        .valid()
        .join(
            accounts.clone().lazy(),
            [col(ACCOUNT_NO)],
            [col(ACCOUNT_NO)],
            JoinArgs::new(JoinType::Semi),
        )
        .select([
            col(ACCOUNT_NO),
            col("kind"),
            col("date"),
            col("detail"),
            col("quantity"),
        ])
        .collect()?;
    Ok(PlanContext {
        events,
        accounts: accounts.select([ACCOUNT_NO, TRIGGER_DATE, OPENED_ON])?,
    })
}
