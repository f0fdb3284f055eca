//! End-to-end tests of the real binary on `samples/`: snapshots of the ledger, determinism, every
//! input validation with its exit code and message, and the output directory's guarantees.

// Tests and benchmarks may panic on what should not happen (a panic is their failure report), and a
// scenario reads best whole: the limits on unwrap and function length are for src/.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

const SAMPLE_INCIDENT: &str = "samples/incidents/demo.toml";
const SAMPLE_DATA: &str = "samples/data/demo";

fn redress() -> Command {
    let mut command = Command::cargo_bin("redress").unwrap();
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    command
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A copy of the demo data with optional edits: (file name, edit of its text).
fn data_with(edits: &[(&str, &dyn Fn(String) -> String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in ["accounts.csv", "charges.csv", "events.csv"] {
        let mut text = std::fs::read_to_string(root().join(SAMPLE_DATA).join(name)).unwrap();
        for (file, edit) in edits {
            if *file == name {
                text = edit(text);
            }
        }
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn incident_with(edit: impl Fn(String) -> String) -> tempfile::NamedTempFile {
    let text = std::fs::read_to_string(root().join(SAMPLE_INCIDENT)).unwrap();
    let file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    std::fs::write(file.path(), edit(text)).unwrap();
    file
}

fn run(incident: &Path, data: &Path, out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    redress()
        .args(["run", "--quiet", "--incident"])
        .arg(incident)
        .arg("--data")
        .arg(data)
        .arg("--out")
        .arg(out)
        .args(extra)
        .assert()
}

/// Runs the sample incident on `data` and on the bundled sample data: the ledgers must be equal.
fn assert_same_ledger_as_sample(data: &Path, extra: &[&str]) {
    let out = tempfile::tempdir().unwrap();
    run(
        &root().join(SAMPLE_INCIDENT),
        data,
        &out.path().join("variant"),
        extra,
    )
    .success();
    run(
        &root().join(SAMPLE_INCIDENT),
        &root().join(SAMPLE_DATA),
        &out.path().join("sample"),
        &[],
    )
    .success();
    for file in ["refunds.csv", "invoices.csv"] {
        assert_eq!(
            read(&out.path().join("variant").join(file)),
            read(&out.path().join("sample").join(file)),
            "{file}"
        );
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn sample_ledger_snapshot() {
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("out");
    run(
        &root().join(SAMPLE_INCIDENT),
        &root().join(SAMPLE_DATA),
        &target,
        &[],
    )
    .success();
    insta::assert_snapshot!("demo_refunds_csv", read(&target.join("refunds.csv")));
    insta::assert_snapshot!("demo_invoices_csv", read(&target.join("invoices.csv")));
    insta::assert_snapshot!(
        "demo_bill_credits_csv",
        read(&target.join("payouts/bill_credits.csv"))
    );
    insta::assert_snapshot!("demo_claims_csv", read(&target.join("payouts/claims.csv")));
    insta::assert_snapshot!(
        "demo_bill_corrections_csv",
        read(&target.join("payouts/bill_corrections.csv"))
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&read(&target.join("manifest.json"))).unwrap();
    insta::assert_json_snapshot!("demo_control_totals", manifest["control_totals"]);
    let data_rows: usize = ["accounts.csv", "charges.csv", "events.csv"]
        .iter()
        .map(|name| read(&root().join(SAMPLE_DATA).join(name)).lines().count() - 1)
        .sum();
    assert_eq!(manifest["rows"]["read"], data_rows as u64);
    assert_eq!(manifest["rows"]["rejected"], 0);
}

#[test]
fn demo_command_runs_and_says_where_results_are() {
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("demo");
    redress()
        .arg("demo")
        .arg("--out")
        .arg(&target)
        .assert()
        .success()
        .stdout(predicate::str::contains("results in"))
        .stdout(predicate::str::contains("refunds 395878 JPY"));
    assert!(target.join("refunds.csv").is_file());
}

#[test]
fn identical_inputs_give_identical_outputs_whatever_the_threads() {
    let out = tempfile::tempdir().unwrap();
    let first = out.path().join("a");
    let second = out.path().join("b");
    run(
        &root().join(SAMPLE_INCIDENT),
        &root().join(SAMPLE_DATA),
        &first,
        &["--threads", "1"],
    )
    .success();
    run(
        &root().join(SAMPLE_INCIDENT),
        &root().join(SAMPLE_DATA),
        &second,
        &["--threads", "2"],
    )
    .success();
    for file in [
        "refunds.csv",
        "refunds.parquet",
        "invoices.csv",
        "invoices.parquet",
        "payouts/bill_credits.csv",
        "payouts/claims.csv",
        "review.csv",
    ] {
        assert_eq!(
            std::fs::read(first.join(file)).unwrap(),
            std::fs::read(second.join(file)).unwrap(),
            "{file}"
        );
    }
    let strip = |path: PathBuf| {
        read(&path)
            .lines()
            .filter(|line| !line.contains("run_time_ms"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        strip(first.join("manifest.json")),
        strip(second.join("manifest.json"))
    );
}

#[test]
fn charges_split_into_a_directory_give_the_same_ledger() {
    let data = data_with(&[]);
    let charges = read(&data.path().join("charges.csv"));
    let mut lines = charges.lines();
    let header = lines.next().unwrap().to_string();
    std::fs::remove_file(data.path().join("charges.csv")).unwrap();
    std::fs::create_dir(data.path().join("charges")).unwrap();
    let mut by_month: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for line in lines {
        let month = line.split(',').nth(1).unwrap().to_string();
        by_month.entry(month).or_default().push(line.to_string());
    }
    for (month, rows) in by_month {
        std::fs::write(
            data.path().join("charges").join(format!("{month}.csv")),
            format!("{header}\n{}\n", rows.join("\n")),
        )
        .unwrap();
    }
    assert_same_ledger_as_sample(data.path(), &[]);
}

#[test]
fn cp932_exports_are_read_when_asked() {
    let data = data_with(&[]);
    let accounts = read(&data.path().join("accounts.csv"));
    let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(&accounts);
    std::fs::write(data.path().join("accounts.csv"), bytes.as_ref()).unwrap();
    assert_same_ledger_as_sample(data.path(), &["--encoding", "cp932"]);
    let out = tempfile::tempdir().unwrap();
    // Read as UTF-8, the same bytes are refused with the file named.
    run(
        &root().join(SAMPLE_INCIDENT),
        data.path(),
        &out.path().join("wrong"),
        &[],
    )
    .code(65)
    .stderr(predicate::str::contains("accounts.csv"));
    assert!(!out.path().join("wrong").exists());
}

#[test]
fn utf8_byte_order_mark_is_tolerated() {
    let data = data_with(&[("charges.csv", &|text| format!("\u{feff}{text}"))]);
    let out = tempfile::tempdir().unwrap();
    run(
        &root().join(SAMPLE_INCIDENT),
        data.path(),
        &out.path().join("bom"),
        &[],
    )
    .success();
}

#[test]
fn windows_line_endings_give_the_same_ledger() {
    let crlf = |text: String| text.replace('\n', "\r\n");
    let data = data_with(&[
        ("accounts.csv", &crlf),
        ("charges.csv", &crlf),
        ("events.csv", &crlf),
    ]);
    assert_same_ledger_as_sample(data.path(), &[]);
}

/// Each bad input: (file, edit, expected exit code, fragments the message must contain).
#[test]
fn bad_data_is_refused_with_file_row_column_and_value() {
    type Edit = Box<dyn Fn(String) -> String>;
    let charge = "ADSL-0001,2008-01,2008-01-01,2008-01-31,base_fee,1,2900,,,2900,0.05,2008-02-26";
    let cases: Vec<(&str, Edit, &[&str])> = vec![
        (
            "charges.csv",
            Box::new(move |t| t.replacen(charge, &charge.replace(",2900,0.05", ",2900.5,0.05"), 1)),
            &[
                "charges.csv",
                "column `amount`",
                "`2900.5`",
                "not a whole amount of JPY",
            ],
        ),
        (
            "charges.csv",
            Box::new(move |t| {
                t.replacen(charge, &charge.replace(",2900,0.05", ",\"2,900\",0.05"), 1)
            }),
            &["column `amount`", "`2,900`", "thousands separators"],
        ),
        (
            "charges.csv",
            Box::new(move |t| t.replacen(charge, &charge.replace(",2900,0.05", ",2.9e3,0.05"), 1)),
            &["column `amount`", "`2.9e3`"],
        ),
        (
            "charges.csv",
            Box::new(move |t| t.replacen(charge, &charge.replace("2008-01-31", "2008-02-30"), 1)),
            &["column `period_end`", "`2008-02-30`", "a date YYYY-MM-DD"],
        ),
        (
            "charges.csv",
            Box::new(move |t| {
                t.replacen(charge, &charge.replace("2008-01,2008", "2008-1,2008"), 1)
            }),
            &["column `billing_month`", "`2008-1`"],
        ),
        (
            "charges.csv",
            Box::new(move |t| t.replacen(charge, &charge.replace(",0.05,", ",1.05,"), 1)),
            &["column `tax_rate`", "`1.05`", "0 ≤ rate < 1"],
        ),
        (
            "charges.csv",
            Box::new(move |t| {
                t.replacen(charge, &charge.replace("base_fee,1,", "base_fee,-1,"), 1)
            }),
            &["column `quantity`", "`-1`", "≥ 0"],
        ),
        (
            "charges.csv",
            Box::new(move |t| {
                t.replacen(
                    charge,
                    &charge.replace("2008-01-01,2008-01-31", "2008-01-31,2008-01-01"),
                    1,
                )
            }),
            &["period_start is after period_end"],
        ),
        (
            "charges.csv",
            Box::new(move |t| t.replacen(charge, &charge.replace("ADSL-0001", "NOPE-9999"), 1)),
            &["`NOPE-9999`", "does not exist in accounts"],
        ),
        (
            "charges.csv",
            Box::new(move |t| t.replacen(charge, &charge.replace("base_fee,1", ",1"), 1)),
            &["column `item`", "missing value"],
        ),
        (
            "accounts.csv",
            Box::new(|t| t.replacen(",active,", ",gone,", 1)),
            &[
                "accounts.csv",
                "column `status`",
                "`gone`",
                "`active`, `closed`",
            ],
        ),
        (
            "accounts.csv",
            Box::new(|t| {
                let line = t.lines().nth(1).unwrap().to_string();
                format!("{t}{line}\n")
            }),
            &["accounts.csv row 11", "appears more than once"],
        ),
        (
            "accounts.csv",
            Box::new(|t| t.replacen(",ja,", ",fr,", 1)),
            &["column `language`", "`fr`"],
        ),
        (
            "events.csv",
            Box::new(|t| t.replacen("2007-06-12", "2007-06-31", 1)),
            &["events.csv", "column `date`", "`2007-06-31`"],
        ),
    ];
    for (index, (file, edit, fragments)) in cases.into_iter().enumerate() {
        let data = data_with(&[(file, &edit)]);
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("out");
        let assert = run(&root().join(SAMPLE_INCIDENT), data.path(), &target, &[]).code(65);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        for fragment in fragments {
            assert!(
                stderr.contains(fragment),
                "case {index}: `{fragment}` not in:\n{stderr}"
            );
        }
        assert!(!target.exists(), "case {index}: nothing may be written");
    }
}

#[test]
fn paid_on_disagreement_inside_an_invoice_is_bad_data() {
    let charge = "ADSL-0001,2008-01,2008-01-01,2008-01-31,base_fee,1,2900,,,2900,0.05,2008-02-26";
    let data = data_with(&[("charges.csv", &|t: String| {
        t.replacen(charge, &charge.replace("2008-02-26", "2008-02-27"), 1)
    })]);
    let out = tempfile::tempdir().unwrap();
    run(
        &root().join(SAMPLE_INCIDENT),
        data.path(),
        &out.path().join("o"),
        &[],
    )
    .code(65)
    .stderr(
        predicate::str::contains("ADSL-0001").and(predicate::str::contains("disagree on paid_on")),
    );
}

#[test]
fn missing_and_doubled_tables() {
    let data = data_with(&[]);
    std::fs::remove_file(data.path().join("events.csv")).unwrap();
    let out = tempfile::tempdir().unwrap();
    run(
        &root().join(SAMPLE_INCIDENT),
        data.path(),
        &out.path().join("o"),
        &[],
    )
    .code(66)
    .stderr(predicate::str::contains("table `events` not found"));
    let data = data_with(&[]);
    std::fs::create_dir(data.path().join("charges")).unwrap();
    std::fs::copy(
        data.path().join("charges.csv"),
        data.path().join("charges/2008.csv"),
    )
    .unwrap();
    run(
        &root().join(SAMPLE_INCIDENT),
        data.path(),
        &out.path().join("o"),
        &[],
    )
    .code(65)
    .stderr(predicate::str::contains("given more than once"));
    run(
        &root().join(SAMPLE_INCIDENT),
        Path::new("/nonexistent/redress"),
        &out.path().join("o"),
        &[],
    )
    .code(66);
    let data = data_with(&[("charges.csv", &|t: String| {
        t.replacen("tax_rate", "rate", 1)
    })]);
    run(
        &root().join(SAMPLE_INCIDENT),
        data.path(),
        &out.path().join("o"),
        &[],
    )
    .code(65)
    .stderr(predicate::str::contains("no column `tax_rate`"));
}

#[test]
fn floating_point_money_in_parquet_is_refused() {
    use polars::prelude::*;
    let data = data_with(&[]);
    let mut frame = CsvReadOptions::default()
        .with_infer_schema_length(Some(10_000))
        .try_into_reader_with_file_path(Some(data.path().join("charges.csv")))
        .unwrap()
        .finish()
        .unwrap();
    let amount = frame
        .column("amount")
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap();
    frame.with_column(amount).unwrap();
    std::fs::remove_file(data.path().join("charges.csv")).unwrap();
    let file = std::fs::File::create(data.path().join("charges.parquet")).unwrap();
    ParquetWriter::new(file).finish(&mut frame).unwrap();
    let out = tempfile::tempdir().unwrap();
    run(
        &root().join(SAMPLE_INCIDENT),
        data.path(),
        &out.path().join("o"),
        &[],
    )
    .code(65)
    .stderr(
        predicate::str::contains("charges.parquet")
            .and(predicate::str::contains("binary floating point")),
    );
}

#[test]
fn parquet_decimal_money_gives_the_same_ledger() {
    use polars::prelude::*;
    let data = data_with(&[]);
    let mut frame = CsvReadOptions::default()
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(data.path().join("charges.csv")))
        .unwrap()
        .finish()
        .unwrap();
    for name in ["amount", "unit_price"] {
        let column = frame
            .column(name)
            .unwrap()
            .cast(&DataType::Decimal(18, 2))
            .unwrap();
        frame.with_column(column).unwrap();
    }
    // Dates as DATE, the billing month as the DATE of its first day, quantities as integers.
    for name in ["period_start", "period_end", "paid_on"] {
        let column = frame.column(name).unwrap().cast(&DataType::Date).unwrap();
        frame.with_column(column).unwrap();
    }
    let months: StringChunked = frame
        .column("billing_month")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|month| month.map(|m| format!("{m}-01")))
        .collect();
    let months = months
        .into_series()
        .with_name("billing_month".into())
        .cast(&DataType::Date)
        .unwrap();
    frame.with_column(months.into_column()).unwrap();
    let quantity = frame
        .column("quantity")
        .unwrap()
        .cast(&DataType::Int32)
        .unwrap();
    frame.with_column(quantity).unwrap();
    std::fs::remove_file(data.path().join("charges.csv")).unwrap();
    let file = std::fs::File::create(data.path().join("charges.parquet")).unwrap();
    ParquetWriter::new(file).finish(&mut frame).unwrap();
    assert_same_ledger_as_sample(data.path(), &[]);
}

#[test]
fn incident_file_errors_name_the_key_and_file() {
    type Case = (Box<dyn Fn(String) -> String>, &'static [&'static str]);
    let cases: Vec<Case> = vec![
        (
            Box::new(|t| t.replace("[scope]", "[scope]\nregion = [\"east\"]")),
            &["unknown field `region`"],
        ),
        (
            Box::new(|t| t.replace("rate = \"0.145\"", "rate = 0.145")),
            &["TOML float", "0.145"],
        ),
        (
            Box::new(|t| t.replace("refund_date = 2009-05-29", "refund_date = \"2009-05-29\"")),
            &[
                "expected a TOML datetime",
                "hint: write dates without quotes: a TOML date is `key = 2009-05-29`",
            ],
        ),
        (
            Box::new(|t| t.replace("rate = \"0.145\"\n", "")),
            &["interest.rate", "required with policy = \"fixed\""],
        ),
        (
            Box::new(|t| t.replace("currency = \"JPY\"", "currency = \"XYZ\"")),
            &["incident.currency", "`XYZ`"],
        ),
        (
            Box::new(|t| {
                t.replace(
                    "from = \"2007-04\", to = \"2009-03\"",
                    "from = \"2009-04\", to = \"2009-03\"",
                )
            }),
            &["scope.billing_months", "is after"],
        ),
        (
            Box::new(|t| t.replace("refund_date = 2009-05-29\n", "")),
            &["incident.refund_date", "is required"],
        ),
        (
            Box::new(|t| {
                t.replace(
                    "items = [\"base_fee\", \"isp_fee\", \"base_fee_adjustment\"]\n",
                    "",
                )
            }),
            &["rule.items", "is required"],
        ),
        (
            Box::new(|t| t.replace("refund_date = 2009-05-29", "refund_date = 2009-02-30")),
            &["2009-02-30"],
        ),
        (
            Box::new(|t| {
                t.replace("policy = \"fixed\"", "policy = \"schedule\"\nschedule = [ { from = 2005-01-01, rate = \"0.05\" }, { from = 2001-01-01, rate = \"0.03\" } ]")
            }),
            &["interest.schedule[1].from", "increasing date order"],
        ),
        (
            Box::new(|t| t.replace("bank_code = \"0001\"", "bank_code = \"1\"")),
            &["payout.zengin.bank_code", "4 digits"],
        ),
        // A key of another kind is type-checked (SPEC §2) by the file that owns it …
        (
            Box::new(|t| t.replace("[rule]", "[rule]\napplies_to = \"sometimes\"")),
            &["rule.applies_to", "sometimes"],
        ),
        // … and a key no kind declares is refused, naming the keys that exist.
        (
            Box::new(|t| t.replace("[rule]", "[rule]\nitem = \"base_fee\"")),
            &["unknown field `item`", "`items`", "`recurring_items`"],
        ),
        (
            Box::new(|t| {
                t.replace(
                    "kind = \"missed_cancellation\"",
                    "kind = \"missed_payment\"",
                )
            }),
            &["`missed_payment`", "`cooling_off_caps`"],
        ),
    ];
    for (index, (edit, fragments)) in cases.into_iter().enumerate() {
        let incident = incident_with(edit);
        let out = tempfile::tempdir().unwrap();
        let assert = run(
            incident.path(),
            &root().join(SAMPLE_DATA),
            &out.path().join("o"),
            &[],
        )
        .code(2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        assert!(
            stderr.contains(incident.path().file_name().unwrap().to_str().unwrap()),
            "case {index}: file not named:\n{stderr}"
        );
        for fragment in fragments {
            assert!(
                stderr.contains(fragment),
                "case {index}: `{fragment}` not in:\n{stderr}"
            );
        }
    }
}

#[test]
fn statutory_rate_beyond_2029_needs_a_schedule() {
    let incident = incident_with(|t| {
        t.replace("policy = \"fixed\"", "policy = \"statutory_jp\"")
            .replace("refund_date = 2009-05-29", "refund_date = 2029-06-01")
    });
    let out = tempfile::tempdir().unwrap();
    // rate_at accrual_start: invoices paid in 2007-2009 take the 5% of their first accrual day: fine.
    run(
        incident.path(),
        &root().join(SAMPLE_DATA),
        &out.path().join("a"),
        &[],
    )
    .success();
    let daily = incident_with(|t| {
        t.replace(
            "policy = \"fixed\"",
            "policy = \"statutory_jp\"\nrate_at = \"daily\"",
        )
        .replace("refund_date = 2009-05-29", "refund_date = 2029-06-01")
    });
    run(
        daily.path(),
        &root().join(SAMPLE_DATA),
        &out.path().join("b"),
        &[],
    )
    .code(2)
    .stderr(predicate::str::contains("2029-03-31").and(predicate::str::contains("schedule")));
}

#[test]
fn refund_date_flag_overrides_the_file() {
    let out = tempfile::tempdir().unwrap();
    run(
        &root().join(SAMPLE_INCIDENT),
        &root().join(SAMPLE_DATA),
        &out.path().join("a"),
        &["--refund-date", "2009-06-30"],
    )
    .success();
    let invoices = read(&out.path().join("a/invoices.csv"));
    // ADSL-0004's January 2009 invoice, paid 2009-02-26: 124 accrual days to 2009-06-30.
    assert!(
        invoices.contains("ADSL-0004,2009-01,overbilled,3900,195,2009-02-26,124,0.145,201"),
        "{invoices}"
    );
    run(
        &root().join(SAMPLE_INCIDENT),
        &root().join(SAMPLE_DATA),
        &out.path().join("b"),
        &["--refund-date", "30/06/2009"],
    )
    .code(2);
}

#[test]
fn existing_output_is_refused_unless_forced() {
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("o");
    // An earlier output of redress (only such a directory may be replaced, issue: "--force
    // destroys what it did not write"), with a file added to it since.
    run(
        &root().join(SAMPLE_INCIDENT),
        &root().join(SAMPLE_DATA),
        &target,
        &[],
    )
    .success();
    std::fs::write(target.join("keep.txt"), "x").unwrap();
    run(
        &root().join(SAMPLE_INCIDENT),
        &root().join(SAMPLE_DATA),
        &target,
        &[],
    )
    .code(73)
    .stderr(predicate::str::contains("already exists").and(predicate::str::contains("--force")));
    assert!(target.join("keep.txt").exists());
    run(
        &root().join(SAMPLE_INCIDENT),
        &root().join(SAMPLE_DATA),
        &target,
        &["--force"],
    )
    .success();
    assert!(!target.join("keep.txt").exists());
    assert!(target.join("refunds.csv").exists());
    // No staging directory is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".redress"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn reject_mode_sets_bad_rows_aside_and_reviews_their_accounts() {
    let charge = "ADSL-0002,2008-06,2008-06-01,2008-06-30,base_fee,1,2900,,,2900,0.05,2008-07-26";
    let data = data_with(&[("charges.csv", &|t: String| {
        t.replacen(charge, &charge.replace(",2900,0.05", ",29x0,0.05"), 1)
    })]);
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("o");
    run(
        &root().join(SAMPLE_INCIDENT),
        data.path(),
        &target,
        &["--on-bad-rows", "reject"],
    )
    .success();
    let rejects = read(&target.join("rejects.csv"));
    assert!(
        rejects.contains("charges.csv,") && rejects.contains(",amount,29x0,bad_format,"),
        "{rejects}"
    );
    let review = read(&target.join("review.csv"));
    assert!(
        review.contains("ADSL-0002,R02_rejected_charge_row"),
        "{review}"
    );
    let refunds = read(&target.join("refunds.csv"));
    assert!(
        !refunds.contains("ADSL-0002"),
        "no partial refund for a reviewed account"
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&read(&target.join("manifest.json"))).unwrap();
    assert_eq!(manifest["rows"]["rejected"], 1);
    assert_eq!(manifest["control_totals"]["accounts_review"], 1);
}

#[test]
fn check_prints_scope_counts_and_writes_nothing() {
    let before: Vec<_> = std::fs::read_dir(root())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    redress()
        .args([
            "check",
            "--incident",
            SAMPLE_INCIDENT,
            "--data",
            SAMPLE_DATA,
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("accounts in scope:     9"))
        .stdout(predicate::str::contains(
            "refund total:          395878 JPY",
        ));
    let after: Vec<_> = std::fs::read_dir(root())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert_eq!(before, after);
}

#[test]
fn explain_shows_every_step_of_one_account() {
    let assert = redress()
        .args([
            "explain",
            "--incident",
            SAMPLE_INCIDENT,
            "--data",
            SAMPLE_DATA,
            "--account",
            "ADSL-0004",
        ])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    for fragment in [
        "trigger: `cancel_requested` on 2008-12-25",
        "rule: the service ended 2008-12-31 (effective = end_of_month",
        "rule: a period partly inside is prorated by days, rounded down",
        "2009-01  2009-01-01..2009-01-31  base_fee",
        "rate 0.05: B = 3900 (0 untouched rows summed), D = 3900, S = B − D = 0",
        "over-billed and paid: refund 4095 + interest 149 (92 accrual days; 2009-02-27..2009-05-29 at 0.145 / 365",
        "over-billed but unpaid: correction of 4095",
        "payout: bill_credit",
    ] {
        assert!(text.contains(fragment), "`{fragment}` not in:\n{text}");
    }
    redress()
        .args([
            "explain",
            "--incident",
            SAMPLE_INCIDENT,
            "--data",
            SAMPLE_DATA,
            "--account",
            "ADSL-0008",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not in scope"));
    // An account_id that is nowhere in accounts is said to be unknown, not out of scope.
    redress()
        .args([
            "explain",
            "--incident",
            SAMPLE_INCIDENT,
            "--data",
            SAMPLE_DATA,
            "--account",
            "adsl-0004",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "account `adsl-0004` is not in the accounts table (accounts.csv)",
        ))
        .stderr(predicate::str::contains("not in scope").not());
}

#[test]
fn hostile_account_ids_stay_data() {
    let data = data_with(&[
        ("accounts.csv", &|t: String| {
            t.replace("ADSL-0001", "../../x")
                .replace("ADSL-0009", "<script>a/b")
        }),
        ("charges.csv", &|t: String| {
            t.replace("ADSL-0001", "../../x")
                .replace("ADSL-0009", "<script>a/b")
        }),
        ("events.csv", &|t: String| {
            t.replace("ADSL-0001", "../../x")
                .replace("ADSL-0009", "<script>a/b")
        }),
    ]);
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("deep/o");
    run(&root().join(SAMPLE_INCIDENT), data.path(), &target, &[]).success();
    assert!(!out.path().join("x").exists() && !out.path().join("deep/x").exists());
    let refunds = read(&target.join("refunds.csv"));
    assert!(refunds.contains("../../x,overbilled"));
    assert!(refunds.contains("<script>a/b,overbilled"));
}

#[test]
fn committed_json_schema_is_current() {
    let committed =
        std::fs::read_to_string(root().join("schemas/incident.schema.json")).unwrap_or_default();
    assert!(
        committed == redress::incident::json_schema().unwrap(),
        "schemas/incident.schema.json is stale; regenerate it with:\n  cargo run --quiet -- schema > schemas/incident.schema.json"
    );
}

#[test]
fn generate_is_deterministic_and_its_incidents_run() {
    let out = tempfile::tempdir().unwrap();
    for name in ["a", "b"] {
        redress()
            .args([
                "generate",
                "--accounts",
                "400",
                "--months",
                "24",
                "--seed",
                "7",
                "--out",
            ])
            .arg(out.path().join(name))
            .assert()
            .success();
    }
    for file in [
        "accounts.csv",
        "events.csv",
        "charges/2019-10.csv",
        "incidents/missed_plan_change.toml",
    ] {
        assert_eq!(
            std::fs::read(out.path().join("a").join(file)).unwrap(),
            std::fs::read(out.path().join("b").join(file)).unwrap(),
            "{file}"
        );
    }
    let charges = read(&out.path().join("a/charges/2019-09.csv"));
    assert!(
        charges.contains(",0.08,") && !charges.contains(",0.1,"),
        "8% before 2019-10"
    );
    assert!(
        read(&out.path().join("a/charges/2019-10.csv")).contains(",0.1,"),
        "10% from 2019-10"
    );
    for kind in [
        "missed_cancellation",
        "missed_plan_change",
        "wrong_equipment_count",
        "billed_before_activation",
        "cooling_off_caps",
    ] {
        let target = out.path().join(format!("run-{kind}"));
        run(
            &out.path().join(format!("a/incidents/{kind}.toml")),
            &out.path().join("a"),
            &target,
            &[],
        )
        .success();
        let refunds = read(&target.join("refunds.csv"));
        assert!(
            refunds.lines().count() > 1,
            "{kind}: the planted incident must affect someone"
        );
    }
}

#[test]
fn manifest_hashes_are_the_input_files_sha256() {
    // The files are hashed on a thread of their own while the charges are read; the manifest must
    // still carry each file's own digest, in table order.
    use sha2::{Digest, Sha256};
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("out");
    run(
        &root().join(SAMPLE_INCIDENT),
        &root().join(SAMPLE_DATA),
        &dir,
        &[],
    )
    .success();
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let inputs = manifest["inputs"].as_array().unwrap();
    let tables: Vec<&str> = inputs
        .iter()
        .map(|input| input["table"].as_str().unwrap())
        .collect();
    assert!(tables.windows(2).all(|pair| pair[0] <= pair[1]));
    assert!(inputs.len() >= 3);
    for input in inputs {
        let file = input["file"].as_str().unwrap();
        let bytes = std::fs::read(root().join(SAMPLE_DATA).join(file)).unwrap();
        let expected: String = Sha256::digest(&bytes)
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        assert_eq!(input["sha256"].as_str().unwrap(), expected, "{file}");
    }
}

#[test]
fn excel_copies_have_a_bom_crlf_codes_as_text_and_no_formulas() {
    let formula = |t: String| t.replace("ADSL-0002", "@SUM(1)");
    let data = data_with(&[
        ("accounts.csv", &formula),
        ("charges.csv", &formula),
        ("events.csv", &formula),
    ]);
    let out = tempfile::tempdir().unwrap();
    let out = out.path().join("out");
    run(&root().join(SAMPLE_INCIDENT), data.path(), &out, &[]).success();
    // The machine CSVs stay exact.
    let transfers = read(&out.join("payouts/bank_transfers.csv"));
    assert!(transfers.starts_with("refund_id,account_id,amount,bank_code"));
    assert!(transfers.contains(",@SUM(1),61973,0005,123,ordinary,7654321,ｻﾄｳ ﾊﾅｺ\n"));
    // The Excel copies: BOM, CRLF, kana intact, codes as text, the formula neutralised.
    let excel = std::fs::read(out.join("excel/bank_transfers.csv")).unwrap();
    let excel = String::from_utf8(excel).unwrap();
    assert!(excel.starts_with("\u{feff}refund_id,account_id,amount,bank_code"));
    assert!(
        excel.contains(",'@SUM(1),61973,\"=\"\"0005\"\"\",\"=\"\"123\"\"\",ordinary,\"=\"\"7654321\"\"\",ｻﾄｳ ﾊﾅｺ\r\n"),
        "{excel}"
    );
    assert!(!excel.replace("\r\n", "").contains('\n'));
    for name in [
        "refunds.csv",
        "invoices.csv",
        "review.csv",
        "bill_credits.csv",
        "claims.csv",
        "residual.csv",
        "bill_corrections.csv",
        "notices_index.csv",
    ] {
        let text = String::from_utf8(std::fs::read(out.join("excel").join(name)).unwrap()).unwrap();
        assert!(text.starts_with('\u{feff}'), "{name}");
        assert!(!text.contains(",@SUM"), "{name}: {text}");
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&read(&out.join("manifest.json"))).unwrap();
    assert!(manifest["output_sha256"]["excel/notices_index.csv"].is_string());
}

#[test]
fn warnings_reach_a_log_unless_quiet_and_flags_are_not_blamed_on_the_incident_file() {
    // Dollars: the transfers are listed, no Zengin file (a yen format) is written, and the user is told.
    let incident = incident_with(|t| t.replace("currency = \"JPY\"", "currency = \"USD\""));
    let out = tempfile::tempdir().unwrap();
    redress()
        .args(["run", "--incident"])
        .arg(incident.path())
        .args(["--data", SAMPLE_DATA, "--out"])
        .arg(out.path().join("loud"))
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "warning: 3 bank transfers are listed in payouts/bank_transfers.csv, but no payouts/zengin.txt was written: Zengin files are for JPY",
        ));
    assert!(!out.path().join("loud/payouts/zengin.txt").exists());
    // -q hides the progress bars but not the warning or the closing summary; -qq leaves errors only.
    run(
        incident.path(),
        &root().join(SAMPLE_DATA),
        &out.path().join("quiet"),
        &[],
    )
    .success()
    .stderr(predicate::str::contains("warning: 3 bank transfers are listed"))
    .stderr(predicate::str::contains(
        "redress: 9 affected accounts (544 rows read, 0 rows rejected); refund total 395,929.20 USD",
    ));
    run(
        incident.path(),
        &root().join(SAMPLE_DATA),
        &out.path().join("quieter"),
        &["-q"],
    )
    .success()
    .stderr(predicate::str::is_empty());
    // A bad option is the command line's, not the incident file's.
    for (args, message) in [
        (
            ["--threads", "0"],
            "command line, option `--threads`: must be at least 1",
        ),
        (
            ["--refund-date", "2009-13-01"],
            "command line, option `--refund-date`: `2009-13-01` is not a date",
        ),
    ] {
        redress()
            .args([
                "check",
                "--incident",
                SAMPLE_INCIDENT,
                "--data",
                SAMPLE_DATA,
            ])
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message))
            .stderr(predicate::str::contains("incident file").not());
    }
}

/// Every kind `generate` lists has a planted case, however small the set (a draw that misses a
/// kind plants it in the first account that can have it), and its incident file has complete texts
/// in both languages, so `check` accepts it.
#[test]
fn a_small_generated_set_still_plants_every_kind_it_lists() {
    let out = tempfile::tempdir().unwrap();
    let data = out.path().join("small");
    redress()
        .args(["generate", "--accounts", "20", "--months", "3", "--seed", "5", "--out"])
        .arg(&data)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "incidents: missed_cancellation, missed_plan_change, wrong_equipment_count, billed_before_activation, cooling_off_caps",
        ))
        .stderr(predicate::str::contains("(2019-10..2019-12)"));
    let events = std::fs::read_to_string(data.join("events.csv")).unwrap();
    for (kind, trigger) in [
        ("missed_cancellation", ",cancel_requested,"),
        ("missed_plan_change", ",registration,"),
        ("wrong_equipment_count", ",equipment_count,"),
        ("billed_before_activation", ",installation_incomplete,"),
        ("cooling_off_caps", ",cooling_off,"),
    ] {
        assert!(
            events.contains(trigger),
            "{kind}: no {trigger} event planted"
        );
        let incident = data.join("incidents").join(format!("{kind}.toml"));
        let text = std::fs::read_to_string(&incident).unwrap();
        assert!(text.contains("[incident.text.en]") && text.contains("[display.region.east]"));
        redress()
            .args(["check", "--incident"])
            .arg(&incident)
            .arg("--data")
            .arg(&data)
            .assert()
            .success();
    }
}

/// `generate --parquet` writes all three tables as typed Parquet (DATE dates, DECIMAL money and
/// rates), and the same seed as CSV gives the same refunds.
#[test]
fn generated_parquet_is_typed_and_refunds_as_the_csv_does() {
    use polars::prelude::*;
    let out = tempfile::tempdir().unwrap();
    for (name, extra) in [("csv", &[][..]), ("parquet", &["--parquet"][..])] {
        redress()
            .args([
                "generate",
                "--accounts",
                "600",
                "--months",
                "6",
                "--seed",
                "9",
                "--out",
            ])
            .arg(out.path().join(name))
            .args(extra)
            .assert()
            .success();
    }
    let parquet = out.path().join("parquet");
    for table in ["accounts.csv", "events.csv"] {
        assert!(!parquet.join(table).exists(), "{table} written as CSV");
    }
    let schema = |path: &Path| {
        let file = std::fs::File::open(path).unwrap();
        ParquetReader::new(file).schema().unwrap()
    };
    let charges = schema(&parquet.join("charges/2019-12.parquet"));
    let dtype = |schema: &ArrowSchema, name: &str| format!("{:?}", schema.get(name).unwrap().dtype);
    for column in ["billing_month", "period_start", "period_end", "paid_on"] {
        assert!(
            dtype(&charges, column).starts_with("Date32"),
            "{column}: {}",
            dtype(&charges, column)
        );
    }
    for column in ["unit_price", "list_amount", "amount"] {
        assert_eq!(dtype(&charges, column), "Decimal(18, 0)", "{column}");
    }
    for column in ["discount_rate", "tax_rate"] {
        assert_eq!(dtype(&charges, column), "Decimal(6, 4)", "{column}");
    }
    let accounts = schema(&parquet.join("accounts.parquet"));
    assert!(dtype(&accounts, "opened_on").starts_with("Date32"));
    let events = schema(&parquet.join("events.parquet"));
    assert!(dtype(&events, "date").starts_with("Date32"));
    assert_eq!(dtype(&events, "quantity"), "Int64");
    for kind in [
        "missed_cancellation",
        "wrong_equipment_count",
        "cooling_off_caps",
    ] {
        let mut ledgers = Vec::new();
        for name in ["csv", "parquet"] {
            let data = out.path().join(name);
            let result = data.join(format!("out-{kind}"));
            run(
                &data.join(format!("incidents/{kind}.toml")),
                &data,
                &result,
                &[],
            )
            .success();
            ledgers.push((
                read(&result.join("refunds.csv")),
                read(&result.join("invoices.csv")),
            ));
        }
        assert!(ledgers[0].0.lines().count() > 1, "{kind}: nothing affected");
        assert_eq!(ledgers[0], ledgers[1], "{kind}");
    }
}
