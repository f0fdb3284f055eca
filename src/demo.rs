//! `redress demo`: runs the bundled sample incident (NTT East 2009: ADSL/ISDN cancellations never
//! processed) on the bundled sample data, and tells the user where the results are. The sample
//! files are compiled into the binary so the demo works from any directory.

use std::fmt::Write as _;
use std::path::Path;

use crate::error::RunError;
use crate::output::OutputError;
use crate::pipeline;
use crate::progress::Silent;
use crate::settings::SettingsBuilder;

const INCIDENT: &str = include_str!("../samples/incidents/demo.toml");
const ACCOUNTS: &str = include_str!("../samples/data/demo/accounts.csv");
const CHARGES: &str = include_str!("../samples/data/demo/charges.csv");
const EVENTS: &str = include_str!("../samples/data/demo/events.csv");

pub fn demo(out: &Path) -> Result<String, RunError> {
    let inputs = tempfile::tempdir().map_err(|source| OutputError::Io {
        path: std::env::temp_dir(),
        source,
    })?;
    let data = inputs.path().join("data");
    let write = |name: &str, text: &str| {
        let path = data.join(name);
        std::fs::write(&path, text).map_err(|source| OutputError::Io { path, source })
    };
    std::fs::create_dir_all(&data).map_err(|source| OutputError::Io {
        path: data.clone(),
        source,
    })?;
    write("accounts.csv", ACCOUNTS)?;
    write("charges.csv", CHARGES)?;
    write("events.csv", EVENTS)?;
    let incident = inputs.path().join("demo.toml");
    std::fs::write(&incident, INCIDENT).map_err(|source| OutputError::Io {
        path: incident.clone(),
        source,
    })?;
    let settings = SettingsBuilder::new(incident)
        .data(data)
        .quiet(2)
        .out(out)
        .force(true)
        .build()?;
    let report = pipeline::run(&settings, &Silent)?;
    let currency = settings.incident.currency;
    let totals = &report.totals;
    let mut text = String::new();
    let _ = writeln!(
        text,
        "redress demo — {}",
        settings
            .incident
            .texts
            .title(settings.incident.texts.language)
            .unwrap_or(&settings.incident.id)
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
    Ok(text)
}
