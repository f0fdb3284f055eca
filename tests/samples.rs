//! Every real case in `samples/` runs as the README says, and its ledger stays what was checked by
//! hand (snapshots). One test per case, so a change to one kind points at one file.

// Tests and benchmarks may panic on what should not happen (a panic is their failure report), and a
// scenario reads best whole: the limits on unwrap and function length are for src/.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn run_case(name: &str) -> (tempfile::TempDir, PathBuf) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    Command::cargo_bin("redress")
        .unwrap()
        .current_dir(&root)
        .args(["run", "--quiet", "--incident"])
        .arg(format!("samples/incidents/{name}.toml"))
        .arg("--data")
        .arg(format!("samples/data/{name}"))
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    (dir, out)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn snapshot_case(name: &str) -> PathBuf {
    let (dir, out) = run_case(name);
    insta::assert_snapshot!(format!("{name}_refunds"), read(&out.join("refunds.csv")));
    insta::assert_snapshot!(format!("{name}_invoices"), read(&out.join("invoices.csv")));
    insta::assert_snapshot!(format!("{name}_review"), read(&out.join("review.csv")));
    // Keep the directory alive for the caller's extra checks.
    let kept = dir.keep();
    kept.join("out")
}

#[test]
fn ntt_2001_my_line_plus() {
    let out = snapshot_case("ntt-2001-myline");
    let refunds = read(&out.join("refunds.csv"));
    // KT-E-007 registered My Line (not Plus): out of scope.
    assert!(!refunds.contains("KT-E-007"));
    // Credits go on the September 2001 bill; sales of 2001 predate qualified invoices, so each
    // account has its credit row alone.
    let credits = read(&out.join("payouts/bill_credits.csv"));
    assert!(credits.lines().skip(1).count() > 0);
    assert!(
        credits
            .lines()
            .skip(1)
            .all(|line| line.contains(",2001-09,credit,"))
    );
}

#[test]
fn sonet_2010_cancellation_month() {
    let out = snapshot_case("sonet-2010-cancellation");
    let claims = read(&out.join("payouts/claims.csv"));
    assert!(
        claims.contains("SN-0003") && claims.contains("closed_before_cutoff"),
        "{claims}"
    );
    assert!(
        claims.contains("SN-0005") && claims.contains("incomplete_bank_details"),
        "{claims}"
    );
    // One extra month: 6,400 + 5% = 6,720 yen, as in the article's range.
    assert!(read(&out.join("invoices.csv")).contains("SN-0002,2010-05,overbilled,6400,320,"));
}

#[test]
fn ntt_east_2009_wireless_lan_cards() {
    let out = snapshot_case("ntt-east-2009-wlan");
    let refunds = read(&out.join("refunds.csv"));
    assert!(
        refunds.contains("WL-0002,underbilled,0,0,0,0,0,3780,"),
        "12 months × 315 yen waived"
    );
    assert!(!refunds.contains("WL-0005"), "billed count was right");
}

#[test]
fn nuro_billed_before_activation() {
    let out = snapshot_case("nuro-billed-before-activation");
    assert!(
        !read(&out.join("refunds.csv")).contains("NU-0005"),
        "activated on the trigger date"
    );
    let zengin = std::fs::read(out.join("payouts/zengin.txt")).unwrap();
    assert_eq!(zengin.len() % 122, 0);
    assert_eq!(
        zengin.len() / 122,
        1 + 3 + 1 + 1,
        "header, three transfers, trailer, end"
    );
}

#[test]
fn cooling_off_caps() {
    let out = snapshot_case("cooling-off-caps");
    assert_eq!(
        read(&out.join("review.csv")),
        "account_id,reason\nCO-0004,R01_missing_opened_on\n"
    );
}
