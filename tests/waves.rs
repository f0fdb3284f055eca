//! Second waves, end to end on the demo sample: a supplementary run (`--previous`, `--paid`) pays
//! each account only the difference to what was paid before, reports what was overpaid, and a run
//! against every earlier output pays nothing. The scenario table of issue 12, the refusals, and a
//! property test over random wave splits.

// Tests and benchmarks may panic on what should not happen (a panic is their failure report), and a
// scenario reads best whole: the limits on unwrap and function length are for src/.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use proptest::prelude::*;

const SAMPLE_INCIDENT: &str = "samples/incidents/demo.toml";
const SAMPLE_DATA: &str = "samples/data/demo";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn redress() -> Command {
    let mut command = Command::cargo_bin("redress").unwrap();
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    command
}

fn data() -> PathBuf {
    root().join(SAMPLE_DATA)
}

fn incident() -> PathBuf {
    root().join(SAMPLE_INCIDENT)
}

/// A copy of the demo data in `dir/data` with one table's text edited (`from` → `to`, which must
/// occur in it).
fn data_with(dir: &Path, table: &str, edits: &[(&str, &str)]) -> PathBuf {
    let target = dir.join("data");
    std::fs::create_dir(&target).unwrap();
    for name in ["accounts.csv", "charges.csv", "events.csv"] {
        let mut text = std::fs::read_to_string(data().join(name)).unwrap();
        if name == table {
            for (from, to) in edits {
                assert!(text.contains(from), "{from}");
                text = text.replacen(from, to, 1);
            }
        }
        std::fs::write(target.join(name), text).unwrap();
    }
    target
}

/// The demo incident with its billing months ending at `to` (a narrower first wave).
fn incident_to(dir: &Path, to: &str) -> PathBuf {
    let text = std::fs::read_to_string(incident()).unwrap();
    let narrowed = text.replace("to = \"2009-03\"", &format!("to = \"{to}\""));
    assert_ne!(text, narrowed, "the demo incident's scope changed");
    let path = dir.join(format!("incident-to-{to}.toml"));
    std::fs::write(&path, narrowed).unwrap();
    path
}

fn run(incident: &Path, data: &Path, out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    redress()
        .args(["run", "--incident"])
        .arg(incident)
        .arg("--data")
        .arg(data)
        .arg("--out")
        .arg(out)
        .args(extra)
        .assert()
}

fn args<'a>(flag: &'a str, paths: &[&'a Path]) -> Vec<&'a str> {
    paths
        .iter()
        .flat_map(|path| [flag, path.to_str().unwrap()])
        .collect()
}

/// A CSV file as rows of column → value.
fn rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            headers
                .iter()
                .zip(record.iter())
                .map(|(column, value)| (column.to_string(), value.to_string()))
                .collect()
        })
        .collect()
}

fn amount(row: &BTreeMap<String, String>, column: &str) -> i64 {
    row[column].parse().unwrap()
}

/// refunds.csv: account_id → row.
fn refunds(out: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    rows(&out.join("refunds.csv"))
        .into_iter()
        .map(|row| (row["account_id"].clone(), row))
        .collect()
}

/// Σ amount per account over the payout files that pay money (credits, transfers, claims,
/// residual), checking that every row carries `sequence` when given.
fn paid_per_account(out: &Path, sequence: Option<&str>) -> BTreeMap<String, i64> {
    let mut paid = BTreeMap::new();
    for file in [
        "bill_credits.csv",
        "bank_transfers.csv",
        "claims.csv",
        "residual.csv",
    ] {
        for row in rows(&out.join("payouts").join(file)) {
            assert_eq!(
                row.get("supplement_sequence").map(String::as_str),
                sequence,
                "{file}"
            );
            if row.get("line").is_some_and(|line| line != "credit") {
                continue;
            }
            *paid.entry(row["account_id"].clone()).or_insert(0) += amount(&row, "amount");
        }
    }
    paid
}

fn manifest(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn a_second_wave_on_the_full_scope_pays_full_minus_first_and_a_third_pays_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (w1, w2, w3, full) = (
        dir.path().join("w1"),
        dir.path().join("w2"),
        dir.path().join("w3"),
        dir.path().join("full"),
    );
    run(
        &incident_to(dir.path(), "2008-09"),
        &data(),
        &w1,
        &["--quiet"],
    )
    .success();
    run(&incident(), &data(), &full, &["--quiet"]).success();
    run(&incident(), &data(), &w2, &args("--previous", &[&w1]))
        .success()
        .stderr(predicate::str::contains(
            "wave 2: pays 162,782 JPY to 8 accounts",
        ));

    let (first, whole, second) = (refunds(&w1), refunds(&full), refunds(&w2));
    assert!(first.len() < whole.len(), "the first wave is narrower");
    let paid_now = paid_per_account(&w2, Some("2"));
    let mut supplemented = 0;
    for (account, row) in &whole {
        let before = first
            .get(account)
            .map_or(0, |row| amount(row, "refund_total"));
        let now = amount(row, "refund_total");
        let wave = &second[account];
        assert_eq!(amount(wave, "refund_total"), now, "{account}");
        assert_eq!(amount(wave, "now_owed"), now, "{account}");
        assert_eq!(amount(wave, "previously_paid"), before, "{account}");
        assert_eq!(amount(wave, "supplement"), now - before, "{account}");
        assert_eq!(paid_now.get(account).copied().unwrap_or(0), now - before);
        supplemented += i64::from(now > before);
    }
    assert!(supplemented >= 5);
    // The same account keeps its refund_id across waves; the sequence tells the waves apart.
    for (account, row) in &first {
        assert_eq!(row["refund_id"], second[account]["refund_id"]);
    }
    let totals = &manifest(&w2)["control_totals"]["waves"];
    assert_eq!(totals["sequence"], 2);
    assert_eq!(totals["previously_paid"], 233_096);
    assert_eq!(totals["supplement"], 162_782);
    assert_eq!(totals["now_owed"], 395_878);
    assert_eq!(manifest(&w2)["wave"]["previous"][0]["sequence"], 1);
    assert!(rows(&w2.join("payouts/overpaid.csv")).is_empty());

    // The notice of a supplemented account says what was paid and what is added, in Japanese.
    let notice = std::fs::read_to_string(
        w2.join("notices")
            .join(format!("{}.md", second["ADSL-0001"]["refund_id"])),
    )
    .unwrap();
    assert!(notice.contains("追加のご返金のお知らせ"), "{notice}");
    assert!(
        notice.contains("| これまでにご返金した額 | | | | △71,870円 |"),
        "{notice}"
    );
    assert!(
        notice.contains("| **今回のご返金額** | | | | **25,625円** |"),
        "{notice}"
    );
    assert!(notice.contains("25,625円を、2009年6月ご請求分の請求額から差し引かせていただきます。"));
    let release = std::fs::read_to_string(w2.join("summary/press_release.ja.md")).unwrap();
    assert!(
        release.contains("| 第1回 | ご返金（2009年5月29日） | 6件 | 233,096円 |"),
        "{release}"
    );
    assert!(
        release.contains("| 第2回（今回） | 追加のご返金（2009年5月29日） | 8件 | 162,782円 |")
    );
    assert!(release.contains("| **累計** | | | **395,878円** |"));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w2.join("summary/summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["waves"]["paid_to_date"], "395878");

    // Third wave, with both earlier outputs: nothing is paid, and it says so.
    run(&incident(), &data(), &w3, &args("--previous", &[&w1, &w2]))
        .success()
        .stderr(predicate::str::contains(
            "wave 3: nothing to pay: earlier waves paid every affected account in full",
        ));
    for row in refunds(&w3).values() {
        assert_eq!(amount(row, "supplement"), 0);
        assert_eq!(row["payout_channel"], "none");
    }
    assert!(paid_per_account(&w3, Some("3")).is_empty());
    assert!(rows(&w3.join("payouts/bill_corrections.csv")).is_empty());
    assert!(rows(&w3.join("notices/index.csv")).is_empty());
    let release = std::fs::read_to_string(w3.join("summary/press_release.en.md")).unwrap();
    assert!(release.contains("Earlier rounds have paid every customer in full"));
}

#[test]
fn a_data_correction_that_lowers_amounts_is_reported_as_overpaid_never_clawed_back() {
    let dir = tempfile::tempdir().unwrap();
    let (w1, w2) = (dir.path().join("w1"), dir.path().join("w2"));
    run(&incident(), &data(), &w1, &["--quiet"]).success();
    // The correction: ADSL-0001 asked to cancel a year later; ISDN-0005 never asked.
    let corrected = data_with(
        dir.path(),
        "events.csv",
        &[
            (
                "ADSL-0001,cancel_requested,2007-06-12",
                "ADSL-0001,cancel_requested,2008-06-12",
            ),
            ("ISDN-0005,cancel_requested,2007-04-05,,\n", ""),
        ],
    );
    run(&incident(), &corrected, &w2, &args("--previous", &[&w1]))
        .success()
        .stderr(predicate::str::contains(
            "more than is owed now (not clawed back",
        ));

    let (first, second) = (refunds(&w1), refunds(&w2));
    let overpaid = rows(&w2.join("payouts/overpaid.csv"));
    let by_account: BTreeMap<&str, &BTreeMap<String, String>> = overpaid
        .iter()
        .map(|row| (row["account_id"].as_str(), row))
        .collect();
    let lowered = by_account["ADSL-0001"];
    let now = amount(&second["ADSL-0001"], "refund_total");
    let before = amount(&first["ADSL-0001"], "refund_total");
    assert!(now < before);
    assert_eq!(lowered["kind"], "refund");
    assert_eq!(lowered["reason"], "amount_lowered");
    assert_eq!(amount(lowered, "previously_paid"), before);
    assert_eq!(amount(lowered, "now_owed"), now);
    assert_eq!(amount(lowered, "overpaid"), before - now);
    assert_eq!(amount(&second["ADSL-0001"], "supplement"), 0);
    let gone = by_account["ISDN-0005"];
    assert_eq!(gone["reason"], "no_longer_affected");
    assert_eq!(
        amount(gone, "overpaid"),
        amount(&first["ISDN-0005"], "refund_total")
    );
    assert!(!second.contains_key("ISDN-0005"));
    // Nothing is paid to either, and nobody else is paid again.
    assert!(paid_per_account(&w2, Some("2")).is_empty());
    // Σ previously_paid + Σ supplement − Σ overpaid = Σ now_owed, as the manifest records it.
    let waves = &manifest(&w2)["control_totals"]["waves"];
    let value = |key: &str| waves[key].as_i64().unwrap();
    assert_eq!(
        value("previously_paid") + value("supplement")
            - waves["overpaid"]["amount"].as_i64().unwrap(),
        value("now_owed")
    );
    assert_eq!(waves["overpaid"]["accounts"], 2);
}

#[test]
fn refunds_paid_outside_redress_are_netted_by_account_or_refund_id() {
    let dir = tempfile::tempdir().unwrap();
    let (full, out) = (dir.path().join("full"), dir.path().join("out"));
    run(&incident(), &data(), &full, &["--quiet"]).success();
    let whole = refunds(&full);
    let paid = dir.path().join("paid.csv");
    std::fs::write(
        &paid,
        format!(
            "account_id,refund_id,amount,paid_on,channel\nADSL-0001,,50000,2009-05-01,cash\n,{},25625,2009-05-02,bank_transfer\nADSL-0001,,1000.00,2009-05-03,other\n",
            whole["ADSL-0003"]["refund_id"]
        ),
    )
    .unwrap();
    run(&incident(), &data(), &out, &args("--paid", &[&paid]))
        .success()
        .stderr(predicate::str::contains("wave 1:"));
    let netted = refunds(&out);
    assert_eq!(amount(&netted["ADSL-0001"], "previously_paid"), 51_000);
    assert_eq!(
        amount(&netted["ADSL-0001"], "supplement"),
        amount(&whole["ADSL-0001"], "refund_total") - 51_000
    );
    assert_eq!(amount(&netted["ADSL-0003"], "supplement"), 0);
    assert_eq!(netted["ADSL-0003"]["payout_channel"], "none");
    assert_eq!(
        amount(&netted["ADSL-0004"], "supplement"),
        amount(&whole["ADSL-0004"], "refund_total")
    );
    let paid_now = paid_per_account(&out, Some("1"));
    assert!(!paid_now.contains_key("ADSL-0003"));
    // ADSL-0003 had no notice before: it gets one saying the refund was already paid.
    let notice = std::fs::read_to_string(
        out.join("notices")
            .join(format!("{}.md", whole["ADSL-0003"]["refund_id"])),
    )
    .unwrap();
    assert!(
        notice.contains("すでにお支払い済みです（25,625円）"),
        "{notice}"
    );
    let entry = &manifest(&out)["wave"]["paid_files"][0];
    assert_eq!(entry["rows"], 3);
    assert_eq!(entry["amount_minor"], 76_625);

    // A later wave must be given the same paid file again, or ADSL-0001 would be paid twice.
    let later = dir.path().join("later");
    run(&incident(), &data(), &later, &args("--previous", &[&out]))
        .code(2)
        .stderr(predicate::str::contains("netted against the paid file"))
        .stderr(predicate::str::contains("give that file again with --paid"));
    let mut both = args("--previous", &[&out]);
    both.extend(args("--paid", &[&paid]));
    run(&incident(), &data(), &later, &both)
        .success()
        .stderr(predicate::str::contains("wave 2: nothing to pay"));
}

#[test]
fn paid_files_are_validated_like_any_input() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "account_id,amount,paid_on,channel\nADSL-0001,100.5,2009-05-01,cash\n",
            "row 1, column `amount`: value `100.5` is not whole",
        ),
        (
            "account_id,amount,paid_on,channel\nADSL-0001,100,2009-05-01,cash\nADSL-0002,-5,2009-05-01,cash\n",
            "row 2, column `amount`: value `-5` is not positive",
        ),
        (
            "account_id,amount,paid_on,channel\nADSL-0001,1e3,2009-05-01,cash\n",
            "value `1e3` is not an amount",
        ),
        (
            "account_id,amount,paid_on,channel\nADSL-0001,100,2009/05/01,cash\n",
            "row 1, column `paid_on`: value `2009/05/01` is not a date",
        ),
        (
            "account_id,amount,paid_on,channel\nADSL-0001,100,2009-05-01,paypal\n",
            "column `channel`: value `paypal` is not one of bill_credit, bank_transfer, claim, cash, other",
        ),
        (
            "account_id,amount,channel\nADSL-0001,100,cash\n",
            "has no column `paid_on`",
        ),
        (
            "refund_id,amount,paid_on,channel\n0123456789abcdef,100,2009-05-01,cash\n",
            "value `0123456789abcdef` is not the refund_id of any account in scope",
        ),
        (
            "account_id,refund_id,amount,paid_on,channel\nADSL-0001,0123456789abcdef,100,2009-05-01,cash\n",
            "is not the refund_id of account `ADSL-0001`",
        ),
        (
            "account_id,amount,paid_on,channel\n,100,2009-05-01,cash\n",
            "row 1, column `account_id`: value `` is empty",
        ),
    ];
    for (index, (text, message)) in cases.iter().enumerate() {
        let paid = dir.path().join(format!("paid-{index}.csv"));
        std::fs::write(&paid, text).unwrap();
        let out = dir.path().join(format!("out-{index}"));
        run(&incident(), &data(), &out, &args("--paid", &[&paid]))
            .code(65)
            .stderr(predicate::str::contains(paid.display().to_string()))
            .stderr(predicate::str::contains(*message));
        assert!(!out.exists(), "nothing is written on failure");
    }
    let out = dir.path().join("missing");
    run(
        &incident(),
        &data(),
        &out,
        &args("--paid", &[&dir.path().join("nope.csv")]),
    )
    .code(66)
    .stderr(predicate::str::contains("nope.csv` does not exist"));
}

#[test]
fn earlier_outputs_are_verified_before_use() {
    let dir = tempfile::tempdir().unwrap();
    let w1 = dir.path().join("w1");
    run(&incident(), &data(), &w1, &["--quiet"]).success();
    let copy = |name: &str| {
        let target = dir.path().join(name);
        std::fs::create_dir_all(target.join("payouts")).unwrap();
        for entry in walk(&w1) {
            let relative = entry.strip_prefix(&w1).unwrap();
            std::fs::create_dir_all(target.join(relative).parent().unwrap()).unwrap();
            std::fs::copy(&entry, target.join(relative)).unwrap();
        }
        target
    };
    let out = dir.path().join("out");
    let refused = |previous: &Path, code: i32, message: &str| {
        run(&incident(), &data(), &out, &args("--previous", &[previous]))
            .code(code)
            .stderr(predicate::str::contains(message));
        assert!(!out.exists());
    };

    // A ledger edited after the run.
    let tampered = copy("tampered");
    let path = tampered.join("refunds.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("97495", "9749", 1)).unwrap();
    refused(
        &tampered,
        65,
        "refunds.csv` was changed after redress wrote it",
    );

    // A manifest whose control totals do not match its (re-hashed) ledger.
    let inconsistent = copy("inconsistent");
    let path = inconsistent.join("manifest.json");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replacen("\"refund_total\": 395878", "\"refund_total\": 395877", 1),
    )
    .unwrap();
    refused(&inconsistent, 65, "its manifest's control totals say");

    // A manifest without output hashes (an older redress).
    let unhashed = copy("unhashed");
    let path = unhashed.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    manifest.as_object_mut().unwrap().remove("output_sha256");
    std::fs::write(&path, serde_json::to_string_pretty(&manifest).unwrap()).unwrap();
    refused(&unhashed, 65, "records no SHA-256 of its outputs");

    // Another incident's output.
    let other = dir.path().join("other");
    let text = std::fs::read_to_string(incident()).unwrap();
    let other_incident = dir.path().join("other.toml");
    std::fs::write(
        &other_incident,
        text.replace("id = \"ntt-east-2009-cancellation\"", "id = \"another\""),
    )
    .unwrap();
    run(&other_incident, &data(), &other, &["--quiet"]).success();
    refused(
        &other,
        2,
        "is the output of incident `another`, not `ntt-east-2009-cancellation`",
    );

    // The same wave twice, and a directory that is not an output.
    let again = copy("again");
    run(
        &incident(),
        &data(),
        &out,
        &args("--previous", &[&w1, &again]),
    )
    .code(2)
    .stderr(predicate::str::contains("is the same wave as --previous"));
    refused(
        &dir.path().join("nothing"),
        66,
        "manifest.json` does not exist",
    );

    // --out may not replace an earlier wave, even with --force.
    run(
        &incident(),
        &data(),
        &w1,
        &["--force", "--previous", w1.to_str().unwrap()],
    )
    .failure();
    assert!(w1.join("manifest.json").exists());
    assert!(manifest_of(&w1).get("wave").is_none());
}

fn manifest_of(out: &Path) -> serde_json::Value {
    manifest(out)
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// refunded invoices of a run: (account, month) → P + T + interest.
fn refunded_invoices(out: &Path) -> BTreeMap<(String, String), i64> {
    rows(&out.join("invoices.csv"))
        .into_iter()
        .filter(|row| row["class"] == "overbilled" && !row["paid_on"].is_empty())
        .map(|row| {
            let total = amount(&row, "principal") + amount(&row, "tax") + amount(&row, "interest");
            (
                (row["account_id"].clone(), row["billing_month"].clone()),
                total,
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// However the incident is split into waves (each a wider scope than the last, the last the
    /// full one, each refunded on the same or a later date), what the waves pay each account adds
    /// up to one run's refund of each invoice with interest to the date of the first wave that
    /// refunded it: nothing is paid twice, and returned money earns no interest after its wave.
    #[test]
    fn supplements_over_random_waves_add_up_to_one_full_run(
        cuts in proptest::collection::btree_set(0u32..23, 1..4),
        delays in proptest::collection::vec(0usize..2, 4),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let month = |index: u32| format!("{}-{:02}", 2007 + (3 + index) / 12, (3 + index) % 12 + 1);
        const DATES: [&str; 5] = ["2009-05-29", "2009-06-30", "2009-07-31", "2009-08-31", "2009-09-30"];
        let incidents: Vec<PathBuf> = cuts
            .iter()
            .map(|cut| incident_to(dir.path(), &month(*cut)))
            .chain([incident()])
            .collect();
        let mut date = 0;
        let mut earlier: Vec<PathBuf> = Vec::new();
        let mut paid: BTreeMap<String, i64> = BTreeMap::new();
        let mut expected: BTreeMap<(String, String), i64> = BTreeMap::new();
        for (wave, incident) in incidents.iter().enumerate() {
            date += delays[wave];
            let refund_date = ["--refund-date", DATES[date]];
            // The reference: this wave's scope refunded in one run on this wave's date.
            let reference = dir.path().join(format!("reference-{wave}"));
            let mut extra = vec!["--quiet"];
            extra.extend(refund_date);
            run(incident, &data(), &reference, &extra).success();
            for (key, total) in refunded_invoices(&reference) {
                expected.entry(key).or_insert(total);
            }
            let out = dir.path().join(format!("wave-{wave}"));
            let given: Vec<&Path> = earlier.iter().map(PathBuf::as_path).collect();
            let mut extra = args("--previous", &given);
            extra.push("--quiet");
            extra.extend(refund_date);
            run(incident, &data(), &out, &extra).success();
            let sequence = (wave + 1).to_string();
            let paid_now = paid_per_account(&out, (wave > 0).then_some(sequence.as_str()));
            for (account, amount) in paid_now {
                *paid.entry(account).or_insert(0) += amount;
            }
            earlier.push(out);
        }
        let mut owed: BTreeMap<String, i64> = BTreeMap::new();
        for ((account, _), total) in expected {
            *owed.entry(account).or_insert(0) += total;
        }
        prop_assert_eq!(paid, owed);
    }
}

#[test]
fn corrections_are_netted_per_invoice_and_a_corrected_bill_since_paid_counts_as_paid() {
    let dir = tempfile::tempdir().unwrap();
    let (w1, w2) = (dir.path().join("w1"), dir.path().join("w2"));
    run(&incident(), &data(), &w1, &["--quiet"]).success();
    let corrections = rows(&w1.join("payouts/bill_corrections.csv"));
    let corrected = |account: &str, month: &str| {
        corrections
            .iter()
            .find(|row| row["account_id"] == account && row["billing_month"] == month)
            .map(|row| amount(row, "amount"))
            .unwrap()
    };
    let february = corrected("ADSL-0004", "2009-02");
    // Since the first wave, the customer paid the (corrected) February bill.
    let later = data_with(
        dir.path(),
        "charges.csv",
        &[
            (
                "ADSL-0004,2009-02,2009-02-01,2009-02-28,base_fee,1,2900,,,2900,0.05,\n",
                "ADSL-0004,2009-02,2009-02-01,2009-02-28,base_fee,1,2900,,,2900,0.05,2009-03-26\n",
            ),
            (
                "ADSL-0004,2009-02,2009-02-01,2009-02-28,isp_fee,1,1000,,,1000,0.05,\n",
                "ADSL-0004,2009-02,2009-02-01,2009-02-28,isp_fee,1,1000,,,1000,0.05,2009-03-26\n",
            ),
        ],
    );
    run(&incident(), &later, &w2, &args("--previous", &[&w1])).success();

    let (first, second) = (refunds(&w1), refunds(&w2));
    let account = &second["ADSL-0004"];
    // What was taken off the February bill counts as paid toward its refund now.
    assert_eq!(
        amount(account, "previously_paid"),
        amount(&first["ADSL-0004"], "refund_total") + february
    );
    let interest: i64 = rows(&w2.join("invoices.csv"))
        .iter()
        .filter(|row| row["account_id"] == "ADSL-0004" && row["billing_month"] == "2009-02")
        .map(|row| amount(row, "interest"))
        .sum();
    assert!(interest > 0);
    assert_eq!(amount(account, "supplement"), interest);
    // The unchanged March correction is not sent again; nothing else is.
    assert!(rows(&w2.join("payouts/bill_corrections.csv")).is_empty());
    assert!(rows(&w2.join("payouts/overpaid.csv")).is_empty());
    let waves = &manifest(&w2)["control_totals"]["waves"];
    assert_eq!(waves["corrections_credited"], february);
    assert_eq!(waves["supplement"], interest);
}

#[test]
fn money_an_earlier_wave_returned_earns_no_interest_after_that_wave() {
    let dir = tempfile::tempdir().unwrap();
    let (w1, w2, same, late) = (
        dir.path().join("w1"),
        dir.path().join("w2"),
        dir.path().join("same"),
        dir.path().join("late"),
    );
    let later = ["--refund-date", "2009-07-31"];
    run(
        &incident_to(dir.path(), "2008-09"),
        &data(),
        &w1,
        &["--quiet"],
    )
    .success();
    // The whole incident refunded on the later date, in one go: the reference for new invoices.
    run(
        &incident(),
        &data(),
        &late,
        &["--quiet", later[0], later[1]],
    )
    .success();
    let mut extra = args("--previous", &[&w1]);
    extra.extend(later);
    run(&incident(), &data(), &w2, &extra).success();

    let invoices = |out: &Path| -> BTreeMap<(String, String), BTreeMap<String, String>> {
        rows(&out.join("invoices.csv"))
            .into_iter()
            .map(|row| {
                (
                    (row["account_id"].clone(), row["billing_month"].clone()),
                    row,
                )
            })
            .collect()
    };
    let (first, second, reference) = (invoices(&w1), invoices(&w2), invoices(&late));
    let mut checked = 0;
    for (key, row) in &second {
        if row["paid_on"].is_empty() || row["class"] != "overbilled" {
            continue;
        }
        // Refunded in wave 1: interest stopped on wave 1's refund date; new: runs to the later one.
        let expected = first.get(key).unwrap_or(&reference[key]);
        assert_eq!(row["interest"], expected["interest"], "{key:?}");
        assert_eq!(row["interest_days"], expected["interest_days"], "{key:?}");
        checked += 1;
    }
    assert!(checked > 20);
    let (before, now) = (refunds(&w1), refunds(&w2));
    for (account, row) in &now {
        let new_invoices: i64 = second
            .iter()
            .filter(|((id, _), invoice)| {
                id == account && invoice["class"] == "overbilled" && !invoice["paid_on"].is_empty()
            })
            .filter(|(key, _)| !first.contains_key(*key))
            .map(|(_, invoice)| {
                amount(invoice, "principal") + amount(invoice, "tax") + amount(invoice, "interest")
            })
            .sum();
        assert_eq!(amount(row, "supplement"), new_invoices, "{account}");
        if let Some(earlier) = before.get(account) {
            assert_eq!(
                amount(row, "previously_paid"),
                amount(earlier, "refund_total")
            );
        }
    }
    // Wave 1 again on its own scope, later: what it paid is settled, nothing more is owed.
    let mut extra = args("--previous", &[&w1]);
    extra.extend(later);
    run(&incident_to(dir.path(), "2008-09"), &data(), &same, &extra)
        .success()
        .stderr(predicate::str::contains("nothing to pay"));
}

#[test]
fn an_account_paid_before_and_in_review_now_is_reported_not_paid() {
    let dir = tempfile::tempdir().unwrap();
    let (w1, w2) = (dir.path().join("w1"), dir.path().join("w2"));
    run(&incident(), &data(), &w1, &["--quiet"]).success();
    let spoiled = data_with(
        dir.path(),
        "charges.csv",
        &[(
            "ADSL-0002,2008-03,2008-03-01,2008-03-31,base_fee,1,2900,,,2900,",
            "ADSL-0002,2008-03,2008-03-01,2008-03-31,base_fee,1,2900,,,29x0,",
        )],
    );
    let mut extra = args("--previous", &[&w1]);
    extra.extend(["--on-bad-rows", "reject"]);
    run(&incident(), &spoiled, &w2, &extra).success();
    assert!(!refunds(&w2).contains_key("ADSL-0002"));
    let overpaid = rows(&w2.join("payouts/overpaid.csv"));
    assert_eq!(overpaid.len(), 1, "{overpaid:?}");
    assert_eq!(overpaid[0]["account_id"], "ADSL-0002");
    assert_eq!(overpaid[0]["reason"], "in_review");
    assert_eq!(
        overpaid[0]["previously_paid"],
        refunds(&w1)["ADSL-0002"]["refund_total"]
    );
    assert!(!paid_per_account(&w2, Some("2")).contains_key("ADSL-0002"));
}

#[test]
fn the_minimum_transfer_applies_to_the_supplement() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(incident()).unwrap();
    let minimum = text.replace("minimum_transfer = \"0\"", "minimum_transfer = \"30000\"");
    assert_ne!(text, minimum);
    let full = dir.path().join("minimum.toml");
    std::fs::write(&full, &minimum).unwrap();
    let narrow = dir.path().join("minimum-narrow.toml");
    std::fs::write(
        &narrow,
        minimum.replace("to = \"2009-03\"", "to = \"2008-09\""),
    )
    .unwrap();
    let (w1, w2) = (dir.path().join("w1"), dir.path().join("w2"));
    run(&narrow, &data(), &w1, &["--quiet"]).success();
    run(&full, &data(), &w2, &args("--previous", &[&w1])).success();
    let account = &refunds(&w2)["ADSL-0002"];
    // Owed 61,973 in all, more than the minimum; the supplement, 25,625, is below it.
    assert_eq!(amount(account, "now_owed"), 61_973);
    assert_eq!(amount(account, "supplement"), 25_625);
    assert_eq!(account["payout_channel"], "residual");
    let residual = rows(&w2.join("payouts/residual.csv"));
    assert!(residual.iter().any(|row| row["account_id"] == "ADSL-0002"
        && row["amount"] == "25625"
        && row["supplement_sequence"] == "2"));
    assert!(
        !rows(&w2.join("payouts/bank_transfers.csv"))
            .iter()
            .any(|row| row["account_id"] == "ADSL-0002")
    );
}
