//! What each audience receives: customer notices, payout files (with the Zengin file checked
//! field by field), and the public summary. Runs the real binary on the bundled sample.

// Tests and benchmarks may panic on what should not happen (a panic is their failure report), and a
// scenario reads best whole: the limits on unwrap and function length are for src/.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run_sample(out: &Path, extra: &[&str]) {
    Command::cargo_bin("redress")
        .unwrap()
        .current_dir(root())
        .args([
            "run",
            "--quiet",
            "--incident",
            "samples/incidents/demo.toml",
            "--data",
            "samples/data/demo",
            "--out",
        ])
        .arg(out)
        .args(extra)
        .assert()
        .success();
}

fn sha256_hex(bytes: &[u8]) -> String {
    redress::render::manifest::sha256_hex(bytes)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn sum_column(csv: &str, column: &str) -> i64 {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let index = header.iter().position(|name| *name == column).unwrap();
    lines
        .map(|line| line.split(',').nth(index).unwrap().parse::<i64>().unwrap())
        .sum()
}

/// The file of an account's notice, from notices/index.csv.
fn notice_of(out: &Path, account_id: &str, extension: &str) -> String {
    let mut index = csv::Reader::from_path(out.join("notices/index.csv")).unwrap();
    let headers = index.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|header| header == name).unwrap();
    let (account, file) = (column("account_id"), column("file"));
    let file = index
        .records()
        .map(Result::unwrap)
        .find(|record| &record[account] == account_id)
        .map(|record| record[file].to_string())
        .unwrap()
        .replace(".html", extension);
    read(&out.join("notices").join(file))
}

#[test]
fn notices_read_like_the_real_letters() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run_sample(&out, &[]);
    insta::assert_snapshot!("notice_ja_claim", notice_of(&out, "ADSL-0003", ".md"));
    insta::assert_snapshot!(
        "notice_en_bill_credit_with_corrections",
        notice_of(&out, "ADSL-0004", ".md")
    );
    let html = notice_of(&out, "ADSL-0003", ".html");
    assert!(
        html.starts_with("<!DOCTYPE html>")
            && html.contains("@media print")
            && html.contains("<table>")
    );
    assert!(html.contains("<td>2008年10月分</td>") && html.contains("25,625円"));
    let index = read(&out.join("notices/index.csv"));
    assert_eq!(
        index.lines().count(),
        1 + 9,
        "one notice per affected account"
    );
    assert!(index.starts_with(
        "refund_id,account_id,holder_name,postal_code,address,email,language,letter,class,channel,amount,enclosures,file\n"
    ));
    // A mail merge needs the name and address; the letter type and enclosures say what to print.
    assert!(index.contains("225aecfab4cc34c6,ADSL-0004,"), "{index}");
    assert!(
        index.contains(",en,mixed,overbilled,bill_credit,4244,,225aecfab4cc34c6.html\n"),
        "{index}"
    );
    assert!(index.contains(",ja,refund,overbilled,claim,"), "{index}");
    assert!(
        index.contains("refund_account_form;refund_statement"),
        "{index}"
    );
}

#[test]
fn payout_files_reconcile_with_the_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run_sample(&out, &[]);
    let refunds = sum_column(&read(&out.join("refunds.csv")), "refund_total");
    let paid = ["bill_credits", "bank_transfers", "claims", "residual"]
        .iter()
        .map(|name| sum_column(&read(&out.join(format!("payouts/{name}.csv"))), "amount"))
        .sum::<i64>();
    assert_eq!(refunds, paid);
    assert_eq!(refunds, 395_878);
    assert_eq!(
        sum_column(&read(&out.join("refunds.csv")), "correction_total"),
        sum_column(&read(&out.join("payouts/bill_corrections.csv")), "amount")
    );
    let summary: serde_json::Value =
        serde_json::from_str(&read(&out.join("summary/summary.json"))).unwrap();
    assert_eq!(summary["refund_total"], "395878");
    assert_eq!(summary["accounts_affected"], 9);
    assert_eq!(summary["refund_distribution"]["accounts"], 8);
    insta::assert_snapshot!(
        "bank_transfers_csv",
        read(&out.join("payouts/bank_transfers.csv"))
    );
}

#[test]
fn zengin_file_matches_the_published_layout() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run_sample(&out, &[]);
    let bytes = std::fs::read(out.join("payouts/zengin.txt")).unwrap();
    let records: Vec<&[u8]> = bytes.split_inclusive(|byte| *byte == b'\n').collect();
    for record in &records {
        assert_eq!(record.len(), 122, "120 bytes + CRLF");
        assert!(record.ends_with(b"\r\n"));
    }
    let kinds: Vec<u8> = records.iter().map(|record| record[0]).collect();
    assert_eq!(kinds, b"122289");
    let header = records[0];
    assert_eq!(&header[1..3], b"21", "種別コード 総合振込");
    assert_eq!(&header[3..4], b"0", "コード区分 JIS");
    assert_eq!(&header[4..14], b"0000012345", "依頼人コード");
    assert_eq!(
        &header[54..58],
        b"0529",
        "取組日 MMDD of refund_date 2009-05-29"
    );
    assert_eq!(&header[58..62], b"0001", "仕向銀行番号");
    assert_eq!(&header[77..80], b"001", "仕向支店番号");
    assert_eq!(&header[95..96], b"1", "預金種目 普通");
    assert_eq!(&header[96..103], b"1234567", "口座番号");
    let (name, _, _) = encoding_rs::SHIFT_JIS.decode(&header[14..54]);
    assert_eq!(name.trim_end(), "ﾋｶﾞｼﾆﾎﾝﾃﾞﾝﾜ(ｶ");
    // Data: ADSL-0002, 0005-123 ordinary 7654321, ｻﾄｳ ﾊﾅｺ, 61,973 yen.
    let data = records[1];
    assert_eq!(&data[1..5], b"0005");
    assert_eq!(&data[20..23], b"123");
    assert_eq!(&data[42..43], b"1");
    assert_eq!(&data[43..50], b"7654321");
    let (payee, _, _) = encoding_rs::SHIFT_JIS.decode(&data[50..80]);
    assert_eq!(payee.trim_end(), "ｻﾄｳ ﾊﾅｺ");
    assert_eq!(&data[80..90], b"0000061973");
    assert_eq!(
        &records[3][42..43],
        b"2",
        "ISDN-0005 is a current (当座) account"
    );
    let trailer = records[4];
    assert_eq!(&trailer[1..7], b"000003", "合計件数");
    assert_eq!(&trailer[7..19], b"000000195162", "合計金額");
    let transfers = sum_column(&read(&out.join("payouts/bank_transfers.csv")), "amount");
    assert_eq!(transfers, 195_162);
    assert_eq!(records[5][1..120], [b' '; 119]);
    insta::assert_snapshot!(
        "zengin_txt",
        String::from_utf8_lossy(
            &encoding_rs::SHIFT_JIS
                .decode(&bytes)
                .0
                .into_owned()
                .into_bytes()
        )
        .replace('\r', "<CR>")
    );
}

#[test]
fn press_releases_follow_the_2001_structure() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run_sample(&out, &[]);
    let ja = read(&out.join("summary/press_release.ja.md"));
    for heading in [
        "### 1. 請求誤りの内容",
        "### 2. 原因",
        "### 3. 対象回線数",
        "### 4. 事象発生期間",
        "### 5. 返還金額",
        "### 6. お客さまへの対応",
        "### 7. 再発防止策",
        "### お問い合わせ先",
    ] {
        assert!(ja.contains(heading), "{heading}");
    }
    assert!(ja.contains("2007年5月ご請求分〜2009年3月ご請求分"));
    assert!(ja.contains("返還金額の合計は395,878円"));
    insta::assert_snapshot!("press_release_ja", ja);
    insta::assert_snapshot!(
        "press_release_en",
        read(&out.join("summary/press_release.en.md"))
    );
    // The chart and the report are in the incident's language, with separators and names.
    let svg = read(&out.join("summary/refund_distribution.svg"));
    assert!(svg.starts_with("<svg") && svg.contains("<rect"), "{svg}");
    assert!(svg.contains("1件あたりの返還額（5,000円ごと）"), "{svg}");
    assert!(svg.contains(">45,000円</text>"), "{svg}");
    let report = read(&out.join("summary/report.html"));
    for expected in [
        "<html lang=\"ja\">",
        "<svg",
        "地域別",
        "<td>NTT東日本</td>",
        "<td>ご請求額からの差し引き</td>",
        "<td>銀行振込</td>",
        "返金日（利息の計算終了日）</th><td>2009年5月29日",
        "<span class=\"ok\">一致</span>",
        "redress 0.1.0",
        "<td>返金額の合計（refunds.csv）</td><td>395,878円</td>",
        "<td>2009年3月</td>",
    ] {
        assert!(report.contains(expected), "{expected} not in\n{report}");
    }
    assert!(
        !report.contains("bill_credit"),
        "no channel codes: {report}"
    );
    // Every input file is listed with the SHA-256 the manifest records.
    let manifest: serde_json::Value =
        serde_json::from_str(&read(&out.join("manifest.json"))).unwrap();
    for input in manifest["inputs"].as_array().unwrap() {
        let sha256 = input["sha256"].as_str().unwrap();
        assert!(report.contains(sha256), "{sha256} not in the report");
    }
    assert_eq!(
        manifest["output_sha256"]["summary/report.html"].as_str(),
        Some(sha256_hex(report.as_bytes()).as_str())
    );
}

#[test]
fn hostile_names_and_ids_do_not_inject_markup_or_escape_out() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    for name in ["accounts.csv", "charges.csv", "events.csv"] {
        let text = read(&root().join("samples/data/demo").join(name))
            .replace("ADSL-0001", "../../x")
            .replace("ADSL-0004", "a/b")
            .replace("ADSL-0009", "<script>alert(1)</script>")
            .replace("山田 太郎", "<img src=x onerror=alert(1)> *山田*");
        std::fs::write(data.join(name), text).unwrap();
    }
    let out = dir.path().join("deep/out");
    Command::cargo_bin("redress")
        .unwrap()
        .current_dir(root())
        .args([
            "run",
            "--quiet",
            "--incident",
            "samples/incidents/demo.toml",
            "--data",
        ])
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    assert!(!dir.path().join("x").exists() && !dir.path().join("deep/x").exists());
    for entry in std::fs::read_dir(out.join("notices")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        assert!(
            name == "index.csv" || name.len() == 16 + 3 || name.len() == 16 + 5,
            "{name}"
        );
    }
    let html = notice_of(&out, "../../x", ".html");
    assert!(!html.contains("<img"), "{html}");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    let html = notice_of(&out, "<script>alert(1)</script>", ".html");
    assert!(!html.contains("<script>"));
    let report = read(&out.join("summary/report.html"));
    assert!(!report.contains("<script>"));
}

#[test]
fn templates_can_be_overridden() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run_sample(&out, &["--templates", "samples/templates"]);
    let en = notice_of(&out, "ADSL-0004", ".md");
    assert!(
        en.contains("Example override of the built-in template"),
        "{en}"
    );
    assert!(en.contains("We will take ¥4,244 off your June 2009 bill."));
    // Japanese notices keep the built-in template.
    assert!(notice_of(&out, "ADSL-0001", ".md").contains("謹啓"));
    let broken = dir.path().join("broken");
    std::fs::create_dir(&broken).unwrap();
    std::fs::write(broken.join("notice.ja.md"), "{% if %}").unwrap();
    Command::cargo_bin("redress")
        .unwrap()
        .current_dir(root())
        .args([
            "run",
            "--quiet",
            "--incident",
            "samples/incidents/demo.toml",
            "--data",
            "samples/data/demo",
            "--out",
        ])
        .arg(dir.path().join("never"))
        .arg("--templates")
        .arg(&broken)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("notice.ja.md"));
    assert!(!dir.path().join("never").exists());
}

/// Records what a run reports, as a terminal would show it.
#[derive(Default)]
struct Recorder {
    events: std::sync::Mutex<Vec<(String, u64, u64)>>,
}

impl redress::progress::Reporter for Recorder {
    fn step(&self, name: &str) {
        self.events.lock().unwrap().push((name.to_string(), 0, 0));
    }

    fn advance(&self, done: u64, total: u64) {
        let mut events = self.events.lock().unwrap();
        let step = events
            .last()
            .map(|(name, _, _)| name.clone())
            .unwrap_or_default();
        events.push((step, done, total));
    }
}

#[test]
fn progress_counts_accounts_computed_and_notices_written_to_their_totals() {
    let samples = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples");
    let out = tempfile::tempdir().unwrap();
    let settings = redress::settings::SettingsBuilder::new(samples.join("incidents/demo.toml"))
        .data(samples.join("data/demo"))
        .quiet(2)
        .out(out.path().join("out"))
        .build()
        .unwrap();
    let recorder = Recorder::default();
    let report = redress::pipeline::run(&settings, &recorder).unwrap();
    let events = recorder.events.lock().unwrap();
    let last = |step: &str| {
        events
            .iter()
            .rfind(|(name, done, _)| name == step && *done > 0)
            .map(|(_, done, total)| (*done, *total))
    };
    let notices = report.totals.accounts_affected;
    assert_eq!(last("writing notices"), Some((notices, notices)));
    let in_scope = report.accounts_in_scope;
    assert_eq!(last("computing refunds"), Some((in_scope, in_scope)));
    // The charges pass counts the rows it has scanned, part by part, to every charge row.
    let charge_rows = read(&root().join("samples/data/demo/charges.csv"))
        .lines()
        .count() as u64
        - 1;
    assert_eq!(last("reading charges"), Some((charge_rows, charge_rows)));
}
