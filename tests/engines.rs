//! The heavy stage on real engines (SPEC §7): `redress plan` for DuckDB and for Apache Spark in
//! local mode, the script run by the engine as a user runs it, then `run --aggregates` must give
//! outputs byte-identical to `run --data` on the same typed Parquet, for every kind (and for the
//! rounding modes a kind's SQL computes itself). Bad data found by the engine stops the run with
//! exit 65 and a message naming file, row and column.
//!
//! The engines come from `tests/engines/setup.sh` (DuckDB and pyspark in a virtualenv; Java 17 or
//! 21). Without them the tests say so and pass, except under CI (`CI` set), where they fail.

// Tests and benchmarks may panic on what should not happen (a panic is their failure report), and a
// scenario reads best whole: the limits on unwrap and function length are for src/.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::cargo_bin;

const KINDS: [&str; 5] = [
    "missed_cancellation",
    "missed_plan_change",
    "wrong_equipment_count",
    "billed_before_activation",
    "cooling_off_caps",
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Engine {
    DuckDb,
    Spark,
}

impl Engine {
    fn name(self) -> &'static str {
        match self {
            Engine::DuckDb => "duckdb",
            Engine::Spark => "spark",
        }
    }
}

/// The virtualenv with duckdb and pyspark, or `None` (and a note) when it is not installed.
fn engines() -> Option<PathBuf> {
    let venv = std::env::var_os("REDRESS_ENGINE_VENV")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache/redress-engines"))
        })?;
    let python = venv.join("bin/python");
    let ready = Command::new(&python)
        .args(["-c", "import duckdb, pyspark"])
        .output()
        .is_ok_and(|output| output.status.success());
    if ready {
        return Some(venv);
    }
    let message = format!(
        "the engine tests need DuckDB and Spark in `{}`: run tests/engines/setup.sh",
        venv.display()
    );
    if std::env::var_os("CI").is_some() {
        panic!("{message}");
    }
    eprintln!("skipped: {message}");
    None
}

fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/engines")
}

fn python(venv: &Path, script: &str, args: &[&Path], cwd: &Path) {
    let output = Command::new(venv.join("bin/python"))
        .arg(scripts().join(script))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{script} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn redress(args: &[&str], cwd: &Path) -> std::process::Output {
    Command::new(cargo_bin("redress"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

fn succeed(args: &[&str], cwd: &Path) {
    let output = redress(args, cwd);
    assert!(
        output.status.success(),
        "redress {} failed:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Typed Parquet data with every kind planted.
fn data(venv: &Path, dir: &Path, accounts: u64) -> PathBuf {
    data_as(venv, dir, accounts, "data", &[])
}

/// Generated data as Parquet in `name`, converted by `to_parquet.py` with `options`.
fn data_as(venv: &Path, dir: &Path, accounts: u64, name: &str, options: &[&str]) -> PathBuf {
    let data = dir.join(name);
    succeed(
        &[
            "generate",
            "--out",
            data.to_str().unwrap(),
            "--accounts",
            &accounts.to_string(),
            "--months",
            "12",
            "--seed",
            "11",
            "--parquet",
        ],
        dir,
    );
    let mut args: Vec<&Path> = vec![&data];
    args.extend(options.iter().map(Path::new));
    python(venv, "to_parquet.py", &args, dir);
    data
}

fn spark_home(venv: &Path) -> PathBuf {
    let output = Command::new(venv.join("bin/python"))
        .args([
            "-c",
            "import os, pyspark; print(os.path.dirname(pyspark.__file__))",
        ])
        .output()
        .unwrap();
    PathBuf::from(String::from_utf8(output.stdout).unwrap().trim())
}

fn java_home() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("JAVA_HOME") {
        return Some(PathBuf::from(home));
    }
    // /usr/bin/java → /usr/lib/jvm/java-17-openjdk-amd64/bin/java
    let java = std::fs::canonicalize("/usr/bin/java").ok()?;
    Some(java.parent()?.parent()?.to_path_buf())
}

/// Runs `stage.sql` with the engine, as a user would; for DuckDB, `catalog` tables (NAME=GLOB) are
/// created first.
fn run_stage(engine: Engine, venv: &Path, stage: &Path, cwd: &Path, catalog: &[String]) {
    match engine {
        Engine::DuckDb => {
            let mut args: Vec<&Path> = vec![stage];
            args.extend(catalog.iter().map(Path::new));
            python(venv, "run_duckdb.py", &args, cwd)
        }
        Engine::Spark => {
            let home = spark_home(venv);
            let mut command = Command::new(home.join("bin/spark-sql"));
            command
                .env("SPARK_HOME", &home)
                .args([
                    "--master",
                    "local[2]",
                    "--conf",
                    "spark.ui.enabled=false",
                    // Few rows: two shuffle partitions instead of 200 keep the test short.
                    "--conf",
                    "spark.sql.shuffle.partitions=2",
                    "-f",
                ])
                .arg(stage)
                .current_dir(cwd);
            if let Some(java) = java_home() {
                command.env("JAVA_HOME", java);
            }
            let output = command.output().unwrap();
            assert!(
                output.status.success(),
                "spark-sql failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// The engines, a working directory and the data of one test.
struct Setup<'a> {
    venv: &'a Path,
    dir: &'a Path,
    data: &'a Path,
}

/// Runs `test` on `accounts` generated accounts converted with `options` (see `to_parquet.py`),
/// when the engines are installed.
fn with_data(accounts: u64, options: &[&str], test: impl FnOnce(&Setup)) {
    let Some(venv) = engines() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = data_as(&venv, dir.path(), accounts, "data", options);
    test(&Setup {
        venv: &venv,
        dir: dir.path(),
        data: &data,
    });
}

impl Setup<'_> {
    /// [`differential`] of `incident` on this setup's data.
    fn check(&self, engine: Engine, incident: &Path, label: &str, tables: &[(&str, &str)]) {
        differential(
            engine, self.venv, self.dir, self.data, incident, label, tables,
        );
    }

    /// [`differential`] of the generated incident of every kind in `kinds`.
    fn check_kinds(&self, engine: Engine, kinds: &[&str]) {
        for kind in kinds {
            let incident = self.data.join(format!("incidents/{kind}.toml"));
            self.check(engine, &incident, kind, &[]);
        }
    }
}

/// The arguments of `redress plan` for `incident` on `data`.
fn plan_args(
    engine: Engine,
    incident: &Path,
    data: &Path,
    aggregates: &Path,
    out: &Path,
) -> Vec<String> {
    let path = |path: &Path| path.to_str().unwrap().to_string();
    vec![
        "plan".to_string(),
        "--incident".to_string(),
        path(incident),
        "--engine".to_string(),
        engine.name().to_string(),
        "--data".to_string(),
        path(data),
        "--aggregates".to_string(),
        path(aggregates),
        "--out".to_string(),
        path(out),
    ]
}

/// Plans `incident` for the engine, runs the stage, and holds `run --aggregates` to `run --data`.
/// `tables` are `--table NAME=CATALOG.TABLE` arguments (DuckDB only: the table is created from
/// the data's Parquet files before the script runs).
fn differential(
    engine: Engine,
    venv: &Path,
    dir: &Path,
    data: &Path,
    incident: &Path,
    label: &str,
    tables: &[(&str, &str)],
) {
    let plan = dir.join(format!("plan-{label}"));
    let aggregates = dir.join(format!("aggregates-{label}"));
    let mut args = plan_args(engine, incident, data, &aggregates, &plan);
    let mut catalog = Vec::new();
    for (name, table) in tables {
        args.push("--table".to_string());
        args.push(format!("{name}={table}"));
        let files = if data.join(name).is_dir() {
            data.join(name).join("*.parquet")
        } else {
            data.join(format!("{name}.parquet"))
        };
        catalog.push(format!("{table}={}", files.display()));
    }
    succeed(&args.iter().map(String::as_str).collect::<Vec<_>>(), dir);
    run_stage(engine, venv, &plan.join("stage.sql"), dir, &catalog);
    let from_aggregates = dir.join(format!("out-aggregates-{label}"));
    let from_data = dir.join(format!("out-data-{label}"));
    let incident = incident.to_str().unwrap();
    for (source, location, out) in [
        ("--aggregates", &aggregates, &from_aggregates),
        ("--data", &data.to_path_buf(), &from_data),
    ] {
        succeed(
            &[
                "run",
                "--incident",
                incident,
                source,
                location.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--quiet",
            ],
            dir,
        );
    }
    let written = files(&from_data);
    assert_eq!(files(&from_aggregates), written, "{label}: the same files");
    for file in &written {
        if file == Path::new("manifest.json") {
            continue;
        }
        if file == Path::new("summary/report.html") {
            // The report names its inputs (the data files, or the stage and its aggregates); the
            // rest of it is the same.
            let (data_report, stage_report) = (
                report_without_inputs(&from_data.join(file)),
                report_without_inputs(&from_aggregates.join(file)),
            );
            assert_eq!(
                data_report, stage_report,
                "{label}: report.html figures differ"
            );
            let report = std::fs::read_to_string(from_aggregates.join(file)).unwrap();
            assert!(
                report.contains(engine.name()),
                "{label}: the report names the stage"
            );
            continue;
        }
        let expected = std::fs::read(from_data.join(file)).unwrap();
        let actual = std::fs::read(from_aggregates.join(file)).unwrap();
        assert!(
            expected == actual,
            "{label}: {} differs between run --aggregates and run --data",
            file.display()
        );
    }
    let refunds = std::fs::read_to_string(from_data.join("refunds.csv")).unwrap();
    assert!(refunds.lines().count() > 1, "{label}: no affected account");

    // The manifest records the stage and the aggregates' hashes, and the same counts and totals.
    let manifest = |dir: &Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
    };
    let (planned, direct) = (manifest(&from_aggregates), manifest(&from_data));
    let plan_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(plan.join("plan.json")).unwrap()).unwrap();
    assert_eq!(planned["stage"]["stage_sql_id"], plan_json["stage_id"]);
    assert_eq!(planned["stage"]["engine"], engine.name());
    let entries = planned["stage"]["aggregates"].as_array().unwrap();
    assert!(entries.iter().any(|entry| entry["table"] == "groups"));
    assert!(
        entries
            .iter()
            .all(|entry| entry["sha256"].as_str().unwrap().len() == 64)
    );
    assert_eq!(planned["rows"], direct["rows"], "{label}: row counts");
    assert_eq!(planned["control_totals"], direct["control_totals"]);
}

/// The generated incident of `kind` with the `extra` lines in its `[rule]` (replacing the lines
/// of the same keys).
fn variant(data: &Path, dir: &Path, kind: &str, extra: &str, label: &str) -> PathBuf {
    let text = std::fs::read_to_string(data.join(format!("incidents/{kind}.toml"))).unwrap();
    let keys: Vec<&str> = extra
        .lines()
        .filter_map(|line| line.split_once(" = ").map(|(key, _)| key))
        .collect();
    let kept: Vec<&str> = text
        .lines()
        .filter(|line| {
            !keys
                .iter()
                .any(|key| line.starts_with(&format!("{key} = ")))
        })
        .collect();
    let text = kept
        .join("\n")
        .replacen("[rule]\n", &format!("[rule]\n{extra}\n"), 1);
    let path = dir.join(format!("{label}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn duckdb_stage_equals_run_data_for_every_kind_and_rounding() {
    with_data(3000, &[], every_kind_and_rounding);
}

fn every_kind_and_rounding(setup: &Setup) {
    let (data, dir) = (setup.data, setup.dir);
    setup.check_kinds(Engine::DuckDb, &KINDS);
    // Tables from the engine's catalog instead of files.
    setup.check(
        Engine::DuckDb,
        &data.join("incidents/wrong_equipment_count.toml"),
        "catalog",
        &[("charges", "charges_table"), ("events", "events_table")],
    );
    // The rounding modes the kinds' SQL computes itself (tax and interest are rounded in Rust).
    for (kind, extra, label) in [
        (
            "missed_cancellation",
            "proration_rounding = \"up\"\neffective = \"event_date\"",
            "mc-up",
        ),
        (
            "missed_cancellation",
            "proration_rounding = \"half_even\"\neffective = \"event_date\"",
            "mc-half-even",
        ),
        (
            "billed_before_activation",
            "proration_rounding = \"half_up\"",
            "bba-half-up",
        ),
        (
            "missed_plan_change",
            "discount_rounding = \"half_even\"",
            "mpc-half-even",
        ),
        ("missed_plan_change", "discount_rounding = \"up\"", "mpc-up"),
        (
            "cooling_off_caps",
            "proration_rounding = \"half_up\"",
            "coc-half-up",
        ),
    ] {
        let incident = variant(data, dir, kind, extra, label);
        setup.check(Engine::DuckDb, &incident, label, &[]);
    }
}

#[test]
fn duckdb_stage_reads_text_parquet_and_groups_equal_tax_rates() {
    let Some(venv) = engines() else { return };
    let dir = tempfile::tempdir().unwrap();
    // Dates, months and rates as text; `0.1` and `0.10` in one invoice are one tax group.
    let data = data_as(&venv, dir.path(), 1500, "text", &["--text"]);
    let setup = Setup {
        venv: &venv,
        dir: dir.path(),
        data: &data,
    };
    setup.check_kinds(
        Engine::DuckDb,
        &["missed_cancellation", "missed_plan_change"],
    );
}

#[test]
fn spark_stage_equals_run_data_for_every_kind() {
    with_data(1500, &[], |setup| setup.check_kinds(Engine::Spark, &KINDS));
}

#[test]
fn bad_data_found_by_the_engine_stops_the_run_with_exit_65() {
    bad_data(Engine::DuckDb);
}

/// Spark numbers rows from its file metadata: the message names the same file and row.
#[test]
fn bad_data_found_by_spark_names_file_and_row() {
    bad_data(Engine::Spark);
}

fn bad_data(engine: Engine) {
    let Some(venv) = engines() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = data(&venv, dir.path(), 200);
    let file = data.join("charges/2019-03.parquet");
    python(&venv, "spoil.py", &[&file, Path::new("6")], dir.path());
    let incident = data.join("incidents/missed_cancellation.toml");
    let aggregates = dir.path().join("aggregates");
    let plan = dir.path().join("plan");
    let args = plan_args(engine, &incident, &data, &aggregates, &plan);
    succeed(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        dir.path(),
    );
    run_stage(engine, &venv, &plan.join("stage.sql"), dir.path(), &[]);
    let run = |aggregates: &Path, incident: &Path| {
        redress(
            &[
                "run",
                "--incident",
                incident.to_str().unwrap(),
                "--aggregates",
                aggregates.to_str().unwrap(),
                "--out",
                dir.path().join("out").to_str().unwrap(),
            ],
            dir.path(),
        )
    };
    let output = run(&aggregates, &incident);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(65), "{stderr}");
    assert!(
        stderr.contains("charges/2019-03.parquet row 6, column `amount`, value `2900.50`: not a whole amount of JPY"),
        "{stderr}"
    );
    assert!(!dir.path().join("out").exists());

    // Aggregates of another incident file are refused (exit 2).
    let other = variant(
        &data,
        dir.path(),
        "missed_cancellation",
        "proration = \"none\"",
        "other",
    );
    let output = run(&aggregates, &other);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("planned from another incident file"));

    if engine == Engine::Spark {
        return;
    }
    // A stage that did not finish (no control table) is refused (exit 66).
    std::fs::remove_file(aggregates.join("control.parquet")).unwrap();
    let output = run(&aggregates, &incident);
    assert_eq!(output.status.code(), Some(66));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no table `control`"));
}

/// Every rounding mode of the SQL (`rules::sql::round_ratio`) against `money::round_ratio` on
/// DuckDB: signs, ties, exact quotients, and products beyond 64 bits.
#[test]
fn sql_rounding_equals_money_round_ratio() {
    use redress::money::{Rounding, round_ratio};
    use redress::rules::sql::{self, Dialect};
    let Some(venv) = engines() else { return };
    let mut pairs: Vec<(i128, i128)> = Vec::new();
    for numerator in -25i128..=25 {
        for denominator in 1i128..=8 {
            pairs.push((numerator, denominator));
        }
    }
    let big = i128::from(i64::MAX) * 3;
    for (numerator, denominator) in [
        (big + 1, 6),
        (-big - 1, 6),
        (big, 4),
        (-big, 4),
        (big + 2, 10_000),
    ] {
        pairs.push((numerator, denominator));
    }
    let modes = [
        Rounding::Down,
        Rounding::Up,
        Rounding::HalfUp,
        Rounding::HalfEven,
    ];
    let values: Vec<String> = pairs
        .iter()
        .map(|(n, d)| format!("(CAST('{n}' AS HUGEINT), CAST('{d}' AS HUGEINT))"))
        .collect();
    let columns: Vec<String> = modes
        .iter()
        .map(|mode| sql::round_ratio(Dialect::DuckDb, "n", "d", *mode))
        .collect();
    let query = format!(
        "SELECT n, d, {} FROM (VALUES {}) t(n, d) ORDER BY n, d",
        columns.join(", "),
        values.join(", ")
    );
    let output = Command::new(venv.join("bin/python"))
        .arg(scripts().join("query_duckdb.py"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(query.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let mut checked = 0;
    for line in text.lines() {
        let fields: Vec<i128> = line
            .split(',')
            .map(|field| field.parse().unwrap())
            .collect();
        let (numerator, denominator) = (fields[0], fields[1]);
        for (index, mode) in modes.iter().enumerate() {
            assert_eq!(
                fields[2 + index],
                round_ratio(numerator, denominator, *mode).unwrap(),
                "{numerator}/{denominator} {mode:?}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, pairs.len() * modes.len());
}

/// report.html without what names its inputs: the stage row and the input-files table.
fn report_without_inputs(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let cut = text
        .find("<h2>入力ファイル</h2>")
        .or_else(|| text.find("<h2>Input files</h2>"))
        .unwrap_or(text.len());
    text[..cut]
        .lines()
        .filter(|line| {
            !line.starts_with("{% if stage %}")
                && !line.contains("（SQL）")
                && !line.contains("Planned stage")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `data/jp_holidays.csv` (the bank-holiday calendar) is what `scripts/jp_holidays.py` writes from
/// the pinned python-holidays, so a regenerated calendar is never forgotten.
#[test]
fn bundled_holiday_calendar_is_current() {
    let Some(venv) = engines() else { return };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(venv.join("bin/python"))
        .arg(root.join("scripts/jp_holidays.py"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let committed = std::fs::read_to_string(root.join("data/jp_holidays.csv")).unwrap();
    assert!(
        committed == String::from_utf8_lossy(&output.stdout),
        "data/jp_holidays.csv is stale; regenerate it with:\n  {}/bin/python scripts/jp_holidays.py > data/jp_holidays.csv",
        venv.display()
    );
}
