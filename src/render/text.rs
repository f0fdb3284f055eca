//! The terminal's reports: what `check` found, one account's whole calculation for `explain`,
//! and the demo's summary. Pure functions from computed values to text.

use std::fmt::Write as _;

use crate::identify::Focus;
use crate::incident::Incident;
use crate::ledger::ControlTotals;
use crate::money::{Currency, Money, format_rate};
use crate::pipeline::{Computed, RunReport};
use crate::refund::{self, Outcome};
use crate::rules::ReviewReason;

/// `affected accounts: 8 (overbilled 6, underbilled 1, mixed 1)`, as check and the demo say it.
fn affected(totals: &ControlTotals) -> String {
    format!(
        "{} (overbilled {}, underbilled {}, mixed {})",
        totals.accounts_affected,
        totals.accounts_overbilled,
        totals.accounts_underbilled,
        totals.accounts_mixed
    )
}

/// `395878 JPY (principal 1, tax 2, interest 3)`, as check and the demo say it.
fn refunds(totals: &ControlTotals, currency: Currency) -> String {
    format!(
        "{} {} (principal {}, tax {}, interest {})",
        totals.refund_total,
        currency.code,
        totals.refund_principal,
        totals.refund_tax,
        totals.refund_interest
    )
}

/// What `redress check` prints: the inputs, the scope, what would be refunded; nothing written.
pub fn check(incident: &Incident, computed: &Computed) -> String {
    let currency = incident.currency;
    let totals = &computed.totals;
    let mut text = String::new();
    let _ = writeln!(
        text,
        "incident {} ({}) — {}",
        incident.id,
        incident.kind.as_str(),
        incident.path.display()
    );
    for file in &computed.identified.files {
        let _ = writeln!(
            text,
            "  {:<9} {:<40} {:>12} rows  {:>8} rejected",
            file.table, file.file, file.rows, file.rows_rejected
        );
    }
    let _ = writeln!(
        text,
        "accounts in scope:     {}",
        computed.identified.accounts_in_scope
    );
    let _ = writeln!(
        text,
        "charge rows in scope:  {}",
        computed.identified.charge_rows_in_scope
    );
    let _ = writeln!(text, "affected accounts:     {}", affected(totals));
    let _ = writeln!(text, "for review:            {}", computed.review.len());
    let languages = &computed.languages;
    let _ = writeln!(
        text,
        "documents:             notices {}; press releases {}",
        if languages.notices.is_empty() {
            "none".to_string()
        } else {
            languages
                .notices
                .iter()
                .map(|(language, count)| format!("{} {}", language.code(), count))
                .collect::<Vec<_>>()
                .join(", ")
        },
        languages
            .press_releases
            .iter()
            .map(|language| language.code())
            .collect::<Vec<_>>()
            .join(", ")
    );
    for gap in &languages.skipped {
        let _ = writeln!(
            text,
            "                       press release in `{}` not written: lacks {}",
            gap.language.code(),
            gap.keys.join(", ")
        );
    }
    let _ = writeln!(text, "refund total:          {}", refunds(totals, currency));
    let _ = writeln!(
        text,
        "corrections:           {} {}",
        totals.correction_total, currency.code
    );
    let _ = writeln!(
        text,
        "under-billed (waived): {} {}",
        totals.underbilled_total, currency.code
    );
    let _ = writeln!(text, "nothing was written.");
    text
}

/// `redress explain` for an account left out for review.
pub fn explain_review(incident: &Incident, account_id: &str, reason: ReviewReason) -> String {
    format!(
        "{}account {account_id}: left out for review — {} ({})\n",
        explain_heading(incident),
        reason.describe(),
        reason.code()
    )
}

fn explain_heading(incident: &Incident) -> String {
    format!(
        "incident {} ({}), currency {}\n",
        incident.id,
        incident.kind.as_str(),
        incident.currency.code
    )
}

/// `redress explain`: every step of one account's calculation, from its rows to its payout.
pub fn explain(
    incident: &Incident,
    focus: &Focus,
    invoices: &[refund::Invoice],
    outcome: &Outcome,
) -> String {
    let mut text = explain_heading(incident);
    explain_account(&mut text, incident, focus);
    explain_rows(&mut text, &focus.rows);
    explain_invoices(&mut text, incident, invoices);
    explain_outcome(&mut text, outcome);
    text
}

/// The account, its trigger, the kind's rule for it and the events the rule reads.
fn explain_account(text: &mut String, incident: &crate::incident::Incident, focus: &Focus) {
    let account = &focus.input.account;
    let _ = writeln!(
        text,
        "account {} — status {}, region {}, plan {}, opened {}, closed {}",
        account.account_id,
        account.status.as_str(),
        account.region.as_deref().unwrap_or("-"),
        account.plan.as_deref().unwrap_or("-"),
        account
            .opened_on
            .map(|date| date.to_string())
            .unwrap_or_else(|| "-".to_string()),
        account
            .closed_on
            .map(|date| date.to_string())
            .unwrap_or_else(|| "-".to_string()),
    );
    let _ = writeln!(
        text,
        "trigger: `{}` on {} (earliest in window)",
        incident.trigger.event, account.trigger_date
    );
    for line in incident.rule.explain(account.trigger_date) {
        let _ = writeln!(text, "{line}");
    }
    for event in &focus.events {
        let _ = writeln!(
            text,
            "  event {} {} detail={} quantity={}",
            event.kind,
            event.date,
            event.detail.as_deref().unwrap_or("-"),
            event
                .quantity
                .map(|q| q.to_string())
                .unwrap_or_else(|| "-".to_string())
        );
    }
}

/// Every row of an item the rule may touch, with should and diff.
fn explain_rows(text: &mut String, rows: &[refund::RowTrace]) {
    let money = |value: Money| value.to_string();
    let _ = writeln!(
        text,
        "\nrows the rule may touch (should = what ought to have been billed; diff = amount − should):"
    );
    let _ = writeln!(
        text,
        "  month    period                  item               qty  unit_price      amount      should        diff  tax_rate  paid_on"
    );
    for row in rows {
        let r = &row.row;
        let _ = writeln!(
            text,
            "  {}  {}..{}  {:<16} {:>5} {:>11} {:>11} {:>11} {:>11}  {:<8}  {}",
            r.billing_month,
            r.period_start,
            r.period_end,
            r.item,
            r.quantity,
            money(r.unit_price),
            money(r.amount),
            money(row.should),
            money(row.diff),
            format_rate(r.tax_rate),
            r.paid_on
                .map(|date| date.to_string())
                .unwrap_or_else(|| "unpaid".to_string())
        );
    }
}

/// Each invoice in scope: its tax groups and what becomes of it.
fn explain_invoices(
    text: &mut String,
    incident: &crate::incident::Incident,
    invoices: &[refund::Invoice],
) {
    let money = |value: Money| value.to_string();
    let _ = writeln!(
        text,
        "\ninvoices in scope (tax per invoice per rate: T = R_t(B × t) − R_t(S × t), rounding {}):",
        incident.tax_rounding
    );
    for invoice in invoices {
        let _ = writeln!(
            text,
            "  {} paid_on {}: P = {}, T = {}, X = P + T = {}",
            invoice.billing_month,
            invoice
                .paid_on
                .map(|date| date.to_string())
                .unwrap_or_else(|| "unpaid".to_string()),
            money(invoice.principal),
            money(invoice.tax),
            money(invoice.excess())
        );
        for group in &invoice.groups {
            let _ = writeln!(
                text,
                "      rate {}: B = {} ({} untouched rows summed), D = {}, S = B − D = {}; tax charged R({} × {}) = {}, should R({} × {}) = {}, tax_diff = {}",
                format_rate(group.tax_rate),
                money(group.billed),
                group.untouched_rows,
                money(group.diff),
                money(group.should),
                money(group.billed),
                format_rate(group.tax_rate),
                money(group.tax_charged),
                money(group.should),
                format_rate(group.tax_rate),
                money(group.tax_should),
                money(group.tax_diff)
            );
        }
        let verdict = match (invoice.excess().signum(), invoice.paid_on) {
            (0, _) => "not affected".to_string(),
            (-1, _) => format!(
                "under-billed by {}: waived, never collected",
                invoice.excess().magnitude()
            ),
            (_, None) => format!(
                "over-billed but unpaid: correction of {} to the open bill, no interest",
                money(invoice.excess())
            ),
            (_, Some(_)) => {
                let interest = &invoice.interest;
                let mut line = format!(
                    "over-billed and paid: refund {} + interest {} ({} accrual days",
                    money(invoice.excess()),
                    money(interest.amount),
                    interest.days
                );
                for (start, end, rate, basis) in &interest.segments {
                    let _ = write!(line, "; {start}..{end} at {} / {basis}", format_rate(*rate));
                }
                let _ = write!(line, "; rounded {} once)", incident.interest.rounding);
                line
            }
        };
        let _ = writeln!(text, "      → {verdict}");
    }
}

/// The account's class, totals and payout channel.
fn explain_outcome(text: &mut String, outcome: &Outcome) {
    let money = |value: Money| value.to_string();
    match outcome {
        Outcome::Affected(refund) => {
            let _ = writeln!(
                text,
                "\nclass {}: refund_total {} = principal {} + tax {} + interest {}; corrections {}; under-billed (waived) {}",
                refund.class.as_str(),
                money(refund.refund_total),
                money(refund.refund_principal),
                money(refund.refund_tax),
                money(refund.refund_interest),
                money(refund.correction_total),
                money(refund.underbilled_total)
            );
            let _ = writeln!(
                text,
                "payout: {}{} — refund_id {}",
                refund.payout_channel.as_str(),
                refund
                    .claim_reason
                    .map(|reason| format!(" ({})", reason.as_str()))
                    .unwrap_or_default(),
                refund.refund_id
            );
        }
        _ => {
            let _ = writeln!(text, "\nnot affected: every in-scope invoice has X = 0");
        }
    }
}

/// What `redress demo` prints after its run: the figures, where they are, what to try next.
pub fn demo(incident: &Incident, report: &RunReport) -> String {
    let currency = incident.currency;
    let totals = &report.totals;
    let mut text = String::new();
    let _ = writeln!(
        text,
        "redress demo — {}",
        incident
            .texts
            .title(incident.texts.language)
            .unwrap_or(&incident.id)
    );
    let _ = writeln!(
        text,
        "  {} input rows read, {} accounts in scope",
        report.rows_read, report.accounts_in_scope
    );
    let _ = writeln!(
        text,
        "  {} affected accounts: {} over-billed, {} under-billed, {} mixed",
        totals.accounts_affected,
        totals.accounts_overbilled,
        totals.accounts_underbilled,
        totals.accounts_mixed
    );
    let _ = writeln!(
        text,
        "  refunds {} {} = principal {} + tax {} + interest {}",
        totals.refund_total,
        currency.code,
        totals.refund_principal,
        totals.refund_tax,
        totals.refund_interest
    );
    let _ = writeln!(
        text,
        "  paid as: bill credits {}, bank transfers {}, claims {}, residual {}; unpaid-bill corrections {}",
        totals.bill_credit.amount,
        totals.bank_transfer.amount,
        totals.claim.amount,
        totals.residual.amount,
        totals.bill_corrections.amount
    );
    let _ = writeln!(text, "results in {}/:", report.out.display());
    let _ = writeln!(text, "  refunds.csv    one row per affected account");
    let _ = writeln!(
        text,
        "  invoices.csv   one row per affected invoice (principal, tax, interest)"
    );
    let _ = writeln!(
        text,
        "  payouts/       bill credits, bank transfers, claims, residual, corrections"
    );
    let _ = writeln!(
        text,
        "  manifest.json  input hashes, row counts, control totals"
    );
    let _ = writeln!(text, "see one account's full calculation with:");
    let _ = writeln!(
        text,
        "  redress explain --incident samples/incidents/demo.toml --data samples/data/demo --account ADSL-0001"
    );
    text
}
