//! Regression tests, one per thing that broke in the hostile runs, each named after what broke and
//! asserting the exit code and the message. They run the real binary on copies of the demo sample.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

const INCIDENT: &str = "samples/incidents/demo.toml";
const DATA: &str = "samples/data/demo";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A copy of the demo data whose charges.csv bytes went through `edit`.
fn charges_edited(edit: impl Fn(Vec<u8>) -> Vec<u8>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in ["accounts.csv", "charges.csv", "events.csv"] {
        let bytes = std::fs::read(root().join(DATA).join(name)).unwrap();
        let bytes = if name == "charges.csv" {
            edit(bytes)
        } else {
            bytes
        };
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    dir
}

/// Replaces data row `row` (1-based, header excluded) of a CSV's bytes.
fn with_row(bytes: Vec<u8>, row: usize, edit: impl Fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    lines[row] = edit(&lines[row]);
    lines.join(&b'\n')
}

fn command(args: &[&str], data: &Path) -> Command {
    let mut command = Command::cargo_bin("redress").unwrap();
    command
        .current_dir(root())
        .args(args)
        .args(["--incident", INCIDENT, "--data"])
        .arg(data);
    command
}

fn check(data: &Path) -> assert_cmd::assert::Assert {
    command(&["check"], data).assert()
}

fn run_reject(data: &Path, out: &Path) -> assert_cmd::assert::Assert {
    command(&["run", "--quiet", "--on-bad-rows", "reject"], data)
        .arg("--out")
        .arg(out)
        .assert()
}

fn drop_last_field(line: &[u8]) -> Vec<u8> {
    let cut = line.iter().rposition(|&b| b == b',').unwrap();
    line[..cut].to_vec()
}

#[test]
fn short_csv_row_is_refused_not_padded_with_nulls() {
    let data = charges_edited(|bytes| with_row(bytes, 3, drop_last_field));
    check(data.path()).code(65).stderr(predicate::str::contains(
        "charges.csv row 3, column `paid_on`, value (empty): the row has 11 field(s) but the header has 12",
    ));
    // Under reject it is set aside like any bad row, and its account goes to review.
    let out = data.path().join("out");
    run_reject(data.path(), &out).success();
    let rejects = std::fs::read_to_string(out.join("rejects.csv")).unwrap();
    assert!(
        rejects.contains("charges.csv,3,paid_on,,wrong_field_count,"),
        "{rejects}"
    );
    let review = std::fs::read_to_string(out.join("review.csv")).unwrap();
    assert!(
        review.contains("ADSL-0001,R02_rejected_charge_row"),
        "{review}"
    );
}

#[test]
fn file_cut_inside_its_last_row_is_refused() {
    // `0.05,2007-05-26` cut to `0.0`: the last row loses a field and a digit.
    let data = charges_edited(|mut bytes| {
        while bytes.last() == Some(&b'\n') {
            bytes.pop();
        }
        let cut = bytes.iter().rposition(|&b| b == b',').unwrap();
        bytes.truncate(cut - 1);
        bytes
    });
    let rows = std::fs::read_to_string(data.path().join("charges.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    check(data.path())
        .code(65)
        .stderr(predicate::str::contains(format!(
            "charges.csv row {rows}, column `paid_on`"
        )))
        .stderr(predicate::str::contains("was cut short"));
}

#[test]
fn row_with_an_extra_field_is_rejected_like_a_short_one() {
    let data = charges_edited(|bytes| with_row(bytes, 5, |line| [line, b",x"].concat()));
    check(data.path()).code(65).stderr(predicate::str::contains(
        "charges.csv row 5: the row has 13 fields but the header has 12",
    ));
    let out = data.path().join("out");
    run_reject(data.path(), &out).success();
    let rejects = std::fs::read_to_string(out.join("rejects.csv")).unwrap();
    assert!(
        rejects.contains("charges.csv,5,,,wrong_field_count,"),
        "{rejects}"
    );
}

#[test]
fn duplicated_header_column_is_refused() {
    let data = charges_edited(|bytes| {
        String::from_utf8(bytes)
            .unwrap()
            .replacen("paid_on", "amount", 1)
            .into_bytes()
    });
    check(data.path()).code(65).stderr(predicate::str::contains(
        "`charges.csv` header: column `amount` appears twice (columns 10 and 12)",
    ));
}

#[test]
fn empty_header_name_is_refused() {
    let data = charges_edited(|bytes| {
        String::from_utf8(bytes)
            .unwrap()
            .replacen(",item,", ",,", 1)
            .into_bytes()
    });
    check(data.path())
        .code(65)
        .stderr(predicate::str::contains("header: column 5 has no name"));
}

#[test]
fn invalid_utf8_names_its_row_and_is_rejectable() {
    let data = charges_edited(|bytes| {
        with_row(bytes, 7, |line| {
            let mut line = line.to_vec();
            line.splice(12..12, [0xff]);
            line
        })
    });
    check(data.path())
        .code(65)
        .stderr(predicate::str::contains(
            "charges.csv row 7: the row holds bytes that are not UTF-8",
        ))
        .stderr(predicate::str::contains("invalid utf-8 sequence").not());
    let out = data.path().join("out");
    run_reject(data.path(), &out).success();
    let rejects = std::fs::read_to_string(out.join("rejects.csv")).unwrap();
    assert!(
        rejects.contains("charges.csv,7,,,invalid_utf8,"),
        "{rejects}"
    );
}

#[test]
fn unterminated_quote_names_its_row_without_dumping_the_file() {
    let data = charges_edited(|bytes| {
        with_row(bytes, 2, |line| {
            String::from_utf8_lossy(line)
                .replacen(",isp_fee,", ",\"isp_fee,", 1)
                .into_bytes()
        })
    });
    let assert = check(data.path()).code(65).stderr(predicate::str::contains(
        "`charges.csv` row 2, column `item`: a quote opens a value that is never closed",
    ));
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(stderr.len() < 600, "the message stays short: {stderr}");
    // It cannot be set aside: the rest of the file is unreadable.
    run_reject(data.path(), &data.path().join("out")).code(65);
}

#[test]
fn stray_quote_names_its_row_without_engine_advice() {
    let data = charges_edited(|bytes| {
        with_row(bytes, 2, |line| {
            String::from_utf8_lossy(line)
                .replacen("isp_fee", "isp\"fee", 1)
                .into_bytes()
        })
    });
    check(data.path())
        .code(65)
        .stderr(predicate::str::contains(
            "`charges.csv` row 2, column `item`: a quote inside an unquoted value",
        ))
        .stderr(predicate::str::contains("infer_schema_length").not())
        .stderr(predicate::str::contains("ignore_errors").not());
}

#[test]
fn quoted_values_with_commas_and_newlines_are_read_as_one_row() {
    // Quoting every value of every row (as many exports do) changes nothing.
    let data = charges_edited(|bytes| {
        let text = String::from_utf8(bytes).unwrap();
        let mut out = String::new();
        for line in text.lines() {
            let quoted: Vec<String> = line
                .split(',')
                .map(|field| format!("\"{field}\""))
                .collect();
            out.push_str(&quoted.join(","));
            out.push('\n');
        }
        out.into_bytes()
    });
    check(data.path()).success();
}

#[cfg(unix)]
#[test]
fn fifo_as_an_input_is_refused_at_once() {
    let data = charges_edited(|bytes| bytes);
    let events = data.path().join("events.csv");
    std::fs::remove_file(&events).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(&events)
        .status()
        .unwrap();
    assert!(status.success());
    command(&["check"], data.path())
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(66)
        .stderr(predicate::str::contains(
            "`events.csv` is not a regular file (a FIFO, socket or device)",
        ));
    // Inside a table directory too, rather than skipped.
    let dir = data.path().join("charges");
    std::fs::create_dir(&dir).unwrap();
    std::fs::rename(data.path().join("charges.csv"), dir.join("a.csv")).unwrap();
    std::fs::remove_file(&events).unwrap();
    std::fs::copy(root().join(DATA).join("events.csv"), &events).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(dir.join("b.csv"))
        .status()
        .unwrap();
    assert!(status.success());
    command(&["check"], data.path())
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(66)
        .stderr(predicate::str::contains(
            "`charges/b.csv` is not a regular file",
        ));
}
