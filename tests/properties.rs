//! Properties over generated data: the parallel run equals the single-threaded one, one pass over
//! the charges equals two, control totals always reconcile, and no refund exceeds what was billed
//! plus its tax and interest.

// Tests and benchmarks may panic on what should not happen (a panic is their failure report), and a
// scenario reads best whole: the limits on unwrap and function length are for src/.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

use std::path::Path;

use proptest::prelude::*;
use redress::generate::{GenerateOptions, generate};
use redress::identify::OnBadRows;
use redress::identify::Passes;
use redress::incident::wire::IncidentKind;
use redress::money::Month;
use redress::pipeline;
use redress::progress::Silent;
use redress::settings::{Settings, SettingsBuilder};

fn settings(data: &Path, kind: IncidentKind) -> Settings {
    settings_with(data, kind, OnBadRows::Abort)
}

fn settings_with(data: &Path, kind: IncidentKind, on_bad_rows: OnBadRows) -> Settings {
    SettingsBuilder::new(
        data.join("incidents")
            .join(format!("{}.toml", kind.as_str())),
    )
    .data(data)
    .on_bad_rows(on_bad_rows)
    .quiet(2)
    .build()
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn parallel_equals_serial_and_totals_reconcile(seed in 0u64..1_000_000, months in 3u32..30, kind_index in 0usize..5) {
        let kind = IncidentKind::all().nth(kind_index).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        generate(&GenerateOptions {
            out: data.clone(),
            accounts: 300,
            months,
            first_month: Month::new(2019, 1).map(|m| Month::from_index(m.index() - months as i32 + 12)).unwrap(),
            seed,
            kinds: vec![kind],
            parquet: false,
            force: false,
        }).unwrap();
        let settings = settings(&data, kind);
        let serial = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap()
            .install(|| pipeline::evaluate(&settings, &Silent)).unwrap();
        let parallel = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap()
            .install(|| pipeline::evaluate(&settings, &Silent)).unwrap();
        prop_assert_eq!(&serial.refunds, &parallel.refunds);
        prop_assert_eq!(&serial.totals, &parallel.totals);
        // Summing the invoices in the first pass or in a second one gives the same ledger.
        let one = pipeline::evaluate_with(&settings, Passes::One, &Silent).unwrap();
        let two = pipeline::evaluate_with(&settings, Passes::Two, &Silent).unwrap();
        prop_assert_eq!(&one.refunds, &serial.refunds);
        prop_assert_eq!(&two.refunds, &serial.refunds);
        prop_assert_eq!(&one.review, &two.review);
        // evaluate() already refused to return unless the ledger reconciled; check the identities here too.
        let totals = &serial.totals;
        prop_assert_eq!(totals.refund_total.minor(), totals.bill_credit.amount.minor() + totals.bank_transfer.amount.minor() + totals.claim.amount.minor() + totals.residual.amount.minor());
        prop_assert_eq!(totals.correction_total, totals.bill_corrections.amount);
        for refund in &serial.refunds {
            prop_assert!(refund.refund_total.minor() >= 0 && refund.correction_total.minor() >= 0 && refund.underbilled_total.minor() >= 0);
            // A refund never exceeds what its invoice billed, plus the tax charged on it, plus interest.
            for invoice in refund.invoices.iter().filter(|invoice| invoice.is_refunded()) {
                if invoice.groups.iter().all(|group| group.should.minor() >= 0) {
                    let billed: i64 = invoice.groups.iter().map(|group| group.billed.minor()).sum();
                    let tax_charged: i64 = invoice.groups.iter().map(|group| group.tax_charged.minor()).sum();
                    prop_assert!(invoice.principal.minor() <= billed, "{} {}: P {} > B {}", refund.account_id, invoice.billing_month, invoice.principal, billed);
                    prop_assert!(invoice.tax.minor() <= tax_charged);
                }
                prop_assert!(invoice.interest.amount.minor() >= 0);
            }
        }
    }
}

/// Sets `quantity` to -1 in data rows 8 and 701 of one monthly charges file.
fn spoil_two_rows(data: &Path, parquet: bool) {
    use polars::prelude::*;
    if !parquet {
        let file = data.join("charges").join("2019-10.csv");
        let text = std::fs::read_to_string(&file).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let quantity = lines[0]
            .split(',')
            .position(|name| name == "quantity")
            .unwrap();
        for row in [8, 701] {
            let mut fields: Vec<&str> = lines[row].split(',').collect();
            fields[quantity] = "-1";
            lines[row] = fields.join(",");
        }
        std::fs::write(&file, lines.join("\n") + "\n").unwrap();
        return;
    }
    let file = data.join("charges").join("2019-10.parquet");
    let mut frame = LazyFrame::scan_parquet(
        PlRefPath::from(file.to_string_lossy().as_ref()),
        ScanArgsParquet::default(),
    )
    .unwrap()
    .with_row_index("__index", None)
    .with_column(
        when(
            col("__index")
                .eq(lit(7u32))
                .or(col("__index").eq(lit(700u32))),
        )
        .then(lit(-1i64))
        .otherwise(col("quantity"))
        .alias("quantity"),
    )
    .drop(Selector::ByName {
        names: ["__index".into()].into(),
        strict: true,
    })
    .collect()
    .unwrap();
    let mut out = std::fs::File::create(&file).unwrap();
    ParquetWriter::new(&mut out).finish(&mut frame).unwrap();
}

/// The first pass over a large input runs in parts (files grouped, a large Parquet file cut into
/// row ranges) and merges what they found: the same ledger, review list and rejected rows (with
/// their row numbers) as one run over everything, for every kind, from Parquet and from CSV.
#[test]
fn first_pass_in_parts_equals_one_run() {
    for parquet in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        generate(&GenerateOptions {
            out: data.clone(),
            accounts: 400,
            months: 4,
            first_month: Month::new(2019, 9).unwrap(),
            seed: 11,
            kinds: IncidentKind::all().collect(),
            parquet,
            force: false,
        })
        .unwrap();
        spoil_two_rows(&data, parquet);
        for kind in IncidentKind::all() {
            let settings = settings_with(&data, kind, OnBadRows::Reject);
            let whole = pipeline::evaluate_with(&settings, Passes::Two, &Silent).unwrap();
            let two_in_parts =
                pipeline::evaluate_with(&settings, Passes::TwoInParts(300), &Silent).unwrap();
            let one = pipeline::evaluate_with(&settings, Passes::One, &Silent).unwrap();
            let one_in_parts =
                pipeline::evaluate_with(&settings, Passes::OneInParts(300), &Silent).unwrap();
            for (parts, passes) in [
                (&two_in_parts, "two passes"),
                (&one, "one pass"),
                (&one_in_parts, "one pass in parts"),
            ] {
                let case = format!("{kind:?}, parquet {parquet}, {passes}");
                assert_eq!(whole.refunds, parts.refunds, "{case}");
                assert_eq!(whole.review, parts.review, "{case}");
                // 400 generated accounts plant no cooling-off case (issue 11 lists this).
                assert!(
                    !whole.refunds.is_empty() || kind.as_str() == "cooling_off_caps",
                    "{case}"
                );
                assert_eq!(whole.totals, parts.totals, "{case}");
                assert_eq!(whole.identified.rejects, parts.identified.rejects, "{case}");
                assert_eq!(
                    whole.identified.charge_rows_in_scope, parts.identified.charge_rows_in_scope,
                    "{case}"
                );
                let rows = |computed: &pipeline::Computed| -> Vec<(u64, u64)> {
                    computed
                        .identified
                        .files
                        .iter()
                        .map(|file| (file.rows, file.rows_rejected))
                        .collect()
                };
                assert_eq!(rows(&whole), rows(parts), "{case}");
            }
            let rejected: Vec<u64> = whole
                .identified
                .rejects
                .iter()
                .map(|problem| problem.row)
                .collect();
            assert_eq!(rejected, vec![8, 701], "{kind:?}, parquet {parquet}");
        }
    }
}

/// A capped fee billed in instalments over months kept in separate files: when the first pass
/// reads those files in separate parts, the later instalment's running total still counts the
/// earlier one (CO-0002: apartment construction 12,000 in April and 12,000 in May, cap 23,000,
/// so May owes back 1,000 plus tax).
#[test]
fn capped_instalments_across_parts_are_still_refunded() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("charges")).unwrap();
    let source = samples.join("data").join("cooling-off-caps");
    for table in ["accounts.csv", "events.csv"] {
        std::fs::copy(source.join(table), data.join(table)).unwrap();
    }
    let charges = std::fs::read_to_string(source.join("charges.csv")).unwrap();
    let mut lines = charges.lines();
    let header = lines.next().unwrap();
    let mut months: std::collections::BTreeMap<String, String> = Default::default();
    for line in lines {
        let month = line.split(',').nth(1).unwrap().to_string();
        let file = months.entry(month).or_insert_with(|| format!("{header}\n"));
        file.push_str(line);
        file.push('\n');
    }
    assert!(months.len() > 1, "the sample spans several months");
    for (month, text) in &months {
        std::fs::write(data.join("charges").join(format!("{month}.csv")), text).unwrap();
    }
    let settings = SettingsBuilder::new(samples.join("incidents").join("cooling-off-caps.toml"))
        .data(&data)
        .quiet(2)
        .build()
        .unwrap();
    let whole = pipeline::evaluate_with(&settings, Passes::Two, &Silent).unwrap();
    let parts = pipeline::evaluate_with(&settings, Passes::TwoInParts(1), &Silent).unwrap();
    let may = whole
        .refunds
        .iter()
        .find(|refund| refund.account_id == "CO-0002")
        .map(|refund| refund.invoices.len());
    assert_eq!(may, Some(2), "CO-0002 is refunded for April and May");
    assert_eq!(whole.refunds, parts.refunds);
    assert_eq!(whole.totals, parts.totals);
}
