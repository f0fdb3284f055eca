//! Regression tests, one per thing that broke in the hostile runs, each named after what broke and
//! asserting the exit code and the message. They run the real binary on copies of the demo sample.

// Tests and benchmarks may panic on what should not happen (a panic is their failure report), and a
// scenario reads best whole: the limits on unwrap and function length are for src/.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

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

fn run_to(data: &Path, out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    command(&["run", "--quiet"], data)
        .arg("--out")
        .arg(out)
        .args(extra)
        .assert()
}

/// Entries of `dir` that a run leaves only while it works.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().to_string())
        .filter(|name| name.starts_with(".redress-") || name.ends_with(".redress-old"))
        .collect()
}

#[test]
fn force_does_not_replace_a_directory_redress_did_not_write() {
    let dir = tempfile::tempdir().unwrap();
    let precious = dir.path().join("precious");
    std::fs::create_dir(&precious).unwrap();
    std::fs::write(precious.join("thesis.txt"), "years of work").unwrap();
    run_to(&root().join(DATA), &precious, &["--force"])
        .code(73)
        .stderr(predicate::str::contains(
            "it was not written by redress (it has no manifest.json or plan.json of redress)",
        ));
    assert!(precious.join("thesis.txt").exists());
    assert!(leftovers(dir.path()).is_empty());
    // An earlier output of redress is replaced.
    let out = dir.path().join("out");
    run_to(&root().join(DATA), &out, &[]).success();
    run_to(&root().join(DATA), &out, &["--force"]).success();
    assert!(out.join("manifest.json").exists());
    assert!(leftovers(dir.path()).is_empty());
}

#[test]
fn force_never_deletes_the_inputs() {
    let data = charges_edited(|bytes| bytes);
    for out in [data.path().to_path_buf(), data.path().join("..")] {
        run_to(data.path(), &out, &["--force"])
            .code(73)
            .stderr(predicate::str::contains("an input of this run"));
        assert!(data.path().join("charges.csv").exists());
    }
}

#[test]
fn demo_does_not_delete_a_directory_it_did_not_create() {
    let dir = tempfile::tempdir().unwrap();
    let precious = dir.path().join("precious");
    std::fs::create_dir(&precious).unwrap();
    std::fs::write(precious.join("notes.txt"), "keep").unwrap();
    Command::cargo_bin("redress")
        .unwrap()
        .args(["demo", "--out"])
        .arg(&precious)
        .assert()
        .code(73)
        .stderr(predicate::str::contains("not written by redress"));
    assert!(precious.join("notes.txt").exists());
}

#[cfg(unix)]
#[test]
fn out_as_a_dangling_symlink_leaves_no_staging_behind() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::os::unix::fs::symlink(dir.path().join("nowhere"), &out).unwrap();
    run_to(&root().join(DATA), &out, &[])
        .code(73)
        .stderr(predicate::str::contains("it is a symbolic link"));
    assert!(leftovers(dir.path()).is_empty());
}

#[test]
fn leftovers_of_a_killed_run_are_removed_by_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    // What `kill -9` leaves: a staging directory (with bank details) of a process that is gone
    // (pid 0 is never a user process).
    let stale = dir.path().join(".redress-0-staging-abc123");
    std::fs::create_dir(&stale).unwrap();
    std::fs::write(stale.join("bank_transfers.csv"), "secret").unwrap();
    let out = dir.path().join("out");
    run_to(&root().join(DATA), &out, &[]).success();
    assert!(
        leftovers(dir.path()).is_empty(),
        "{:?}",
        leftovers(dir.path())
    );
}

#[test]
fn a_force_killed_between_its_renames_is_rolled_back() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run_to(&root().join(DATA), &out, &[]).success();
    // Killed after moving the previous output aside, before moving the new one in.
    std::fs::rename(&out, dir.path().join("out.redress-old")).unwrap();
    run_to(&root().join(DATA), &out, &[])
        .code(73)
        .stderr(predicate::str::contains("already exists"));
    assert!(
        out.join("manifest.json").exists(),
        "the previous output is back"
    );
    assert!(leftovers(dir.path()).is_empty());
    // Killed after the new output was in place, before the old one was removed.
    std::fs::create_dir(dir.path().join("out.redress-old")).unwrap();
    run_to(&root().join(DATA), &out, &["--force"]).success();
    assert!(leftovers(dir.path()).is_empty());
}

#[cfg(target_os = "linux")]
#[test]
fn interrupted_or_killed_runs_leave_no_staging_or_scratch() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    Command::cargo_bin("redress")
        .unwrap()
        .args(["generate", "--accounts", "20000", "--months", "24", "--out"])
        .arg(&data)
        .assert()
        .success();
    let temp = dir.path().join("tmp");
    std::fs::create_dir(&temp).unwrap();
    let mut interrupted = 0;
    for signal in ["TERM", "INT", "HUP", "KILL"] {
        let out = dir.path().join(format!("out-{signal}"));
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("redress"))
            .args(["run", "--quiet", "--incident"])
            .arg(data.join("incidents/missed_cancellation.toml"))
            .arg("--data")
            .arg(&data)
            .arg("--out")
            .arg(&out)
            .env("TMPDIR", &temp)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Wait until the run has created its staging directory, then interrupt it.
        let started = std::time::Instant::now();
        while leftovers(dir.path()).is_empty() {
            assert!(
                started.elapsed().as_secs() < 60,
                "no staging directory appeared"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        // The shell's built-in kill: present wherever `sh` is.
        let killed = std::process::Command::new("sh")
            .args(["-c", &format!("kill -{signal} {}", child.id())])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = child.wait().unwrap();
        if status.success() {
            // Finished before the signal: nothing to clean, but it must have left nothing.
            std::fs::remove_dir_all(&out).unwrap();
        } else if signal == "KILL" {
            // No handler runs: the next run in the same place removes what was left.
            assert!(!out.exists());
            Command::cargo_bin("redress")
                .unwrap()
                .args(["run", "--quiet", "--incident"])
                .arg(data.join("incidents/missed_cancellation.toml"))
                .arg("--data")
                .arg(&data)
                .arg("--out")
                .arg(&out)
                .env("TMPDIR", &temp)
                .assert()
                .success();
            interrupted += 1;
        } else {
            assert_eq!(status.code(), Some(130), "{signal}");
            assert!(!out.exists(), "{signal}");
            interrupted += 1;
        }
        assert!(
            leftovers(dir.path()).is_empty(),
            "{signal}: {:?}",
            leftovers(dir.path())
        );
        assert!(
            leftovers(&temp).is_empty(),
            "{signal}: {:?}",
            leftovers(&temp)
        );
    }
    assert!(interrupted > 0, "every run finished before its signal");
}

#[test]
fn missing_incident_file_is_input_missing() {
    Command::cargo_bin("redress")
        .unwrap()
        .current_dir(root())
        .args([
            "check",
            "--incident",
            "no-such-incident.toml",
            "--data",
            DATA,
        ])
        .assert()
        .code(66)
        .stderr(predicate::str::contains("no-such-incident.toml"));
}

#[test]
fn unwritable_scratch_space_is_not_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    command(&["check", "--encoding", "cp932"], &root().join(DATA))
        .env("TMPDIR", dir.path().join("missing"))
        .assert()
        .code(73);
}

#[test]
fn terminal_control_characters_in_values_are_escaped() {
    let data = charges_edited(|bytes| {
        with_row(bytes, 3, |line| {
            String::from_utf8_lossy(line)
                .replacen(",417,", ",\u{1b}]0;owned\u{7},", 1)
                .into_bytes()
        })
    });
    let assert = check(data.path()).code(65);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{7}'),
        "{stderr:?}"
    );
    assert!(stderr.contains("\\u{1b}]0;owned\\u{7}"), "{stderr}");
}

#[test]
fn overflow_errors_say_which_account_and_invoice() {
    // 9,300 rows of 10^15 yen in one invoice: each cell is in range, their sum is not.
    let data = charges_edited(|mut bytes| {
        let row = "ADSL-0001,2009-03,2009-03-01,2009-03-31,isp_fee,1,1000000000000000,,,1000000000000000,0.05,2009-04-26\n";
        for _ in 0..9300 {
            bytes.extend_from_slice(row.as_bytes());
        }
        bytes
    });
    check(data.path())
        .code(65)
        .stderr(predicate::str::contains(
            "account `ADSL-0001`, invoice 2009-03: arithmetic overflow while computing an invoice's billed amount",
        ));
}

#[test]
fn an_input_appended_to_during_the_run_is_refused() {
    use redress::load;
    let data = charges_edited(|bytes| bytes);
    let scratch = tempfile::tempdir().unwrap();
    let table = load::discover(
        data.path(),
        "charges",
        load::CHARGE_COLUMNS,
        load::Encoding::Utf8,
        scratch.path(),
    )
    .unwrap();
    load::verify_unchanged(&table).unwrap();
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(data.path().join("charges.csv"))
        .unwrap();
    std::io::Write::write_all(
        &mut file,
        b"ADSL-0001,2009-03,2009-03-01,2009-03-31,isp_fee,1,1000,,,1000,0.05,2009-04-26\n",
    )
    .unwrap();
    let error = load::verify_unchanged(&table).unwrap_err().to_string();
    assert!(
        error.contains("`charges.csv` changed while redress was reading it"),
        "{error}"
    );
}

/// A templates directory holding one notice template.
fn templates_with(name: &str, text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), text).unwrap();
    dir
}

#[test]
fn misspelled_template_variable_is_an_error_not_an_empty_name() {
    let templates = templates_with("notice.en.md", "Dear {{ holder_nmae }},\n");
    let dir = tempfile::tempdir().unwrap();
    // Data that would fail to load proves the template is checked first.
    let data = dir.path().join("no-data");
    command(&["run", "--quiet"], &data)
        .arg("--templates")
        .arg(templates.path())
        .arg("--out")
        .arg(dir.path().join("out"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("template `notice.en.md`"))
        .stderr(predicate::str::contains("undefined value"))
        .stderr(predicate::str::contains("holder_nmae"))
        .stderr(predicate::str::contains("(in notice.en.md:1)"))
        .stderr(predicate::str::contains("README"));
    assert!(!dir.path().join("out").exists());
}

#[test]
fn include_errors_surface_before_any_data_is_read() {
    let templates = templates_with(
        "press_release.ja.md",
        "# {{ title }}\n{% include \"missing_footer.md\" %}\n",
    );
    let dir = tempfile::tempdir().unwrap();
    command(&["run", "--quiet"], &dir.path().join("no-data"))
        .arg("--templates")
        .arg(templates.path())
        .arg("--out")
        .arg(dir.path().join("out"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("template `press_release.ja.md`"))
        .stderr(predicate::str::contains("missing_footer.md"));
}

#[test]
fn a_zengin_transfer_dated_on_a_sunday_is_refused() {
    command(
        &["check", "--refund-date", "2009-05-31"],
        &root().join(DATA),
    )
    .assert()
    .code(2)
    .stderr(predicate::str::contains(
        "command line, option `--refund-date`: 2009-05-31 is a Sunday",
    ))
    .stderr(predicate::str::contains("incident file").not())
    .stderr(predicate::str::contains(
        "the next bank business day is 2009-06-01",
    ));
}
