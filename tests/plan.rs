//! `redress plan`: the generated SQL per engine and kind, as snapshots (a change to a kind's SQL
//! shows up here, beside the engine tests that prove it right), and the command's own checks.

// Tests and benchmarks may panic on what should not happen (a panic is their failure report), and a
// scenario reads best whole: the limits on unwrap and function length are for src/.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

use std::path::Path;

use assert_cmd::Command;
use redress::incident::Incident;
use redress::rules::sql::Dialect;
use redress::stage::script::{Input, Request, Source};
use redress::stage::stage_sql;

const SAMPLES: [&str; 5] = [
    "demo",
    "ntt-2001-myline",
    "ntt-east-2009-wlan",
    "nuro-billed-before-activation",
    "cooling-off-caps",
];

fn remote(name: &'static str) -> Input {
    Input {
        name,
        source: Source::Directory(format!("s3://billing-lake/export/{name}")),
        columns: None,
    }
}

fn sql(sample: &str, dialect: Dialect) -> (String, String) {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("samples/incidents/{sample}.toml"));
    let incident = Incident::load(&path).unwrap();
    let request = Request {
        incident: &incident,
        dialect,
        accounts: remote("accounts"),
        charges: remote("charges"),
        events: remote("events"),
        aggregates: format!("s3://billing-lake/redress/{sample}"),
    };
    stage_sql(&request)
}

#[test]
fn stage_sql_per_engine_and_kind() {
    for sample in SAMPLES {
        for dialect in [Dialect::Spark, Dialect::DuckDb] {
            let (text, id) = sql(sample, dialect);
            // The id is the hash of the script with the id zeroed, so the script carries it once.
            assert_eq!(text.matches(&id).count(), 1, "{sample}");
            // No floating-point type anywhere money flows.
            for word in ["DOUBLE", "FLOAT", "REAL"] {
                let typed = format!("AS {word}");
                assert!(!text.contains(&typed), "{sample}: {typed}");
            }
            insta::assert_snapshot!(format!("stage_{}_{}", dialect.name(), sample), text);
        }
    }
}

#[test]
fn the_same_inputs_give_the_same_script() {
    assert_eq!(sql("demo", Dialect::Spark), sql("demo", Dialect::Spark));
    assert_ne!(
        sql("demo", Dialect::Spark).1,
        sql("demo", Dialect::DuckDb).1
    );
}

fn redress() -> Command {
    Command::cargo_bin("redress").unwrap()
}

/// `redress plan` of the demo incident for Spark from `data` with `table`, writing to `out`.
fn plan_spark(data: &str, table: &str, aggregates: &str, out: &Path) -> assert_cmd::assert::Assert {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    redress()
        .args(["plan", "--incident"])
        .arg(root.join("samples/incidents/demo.toml"))
        .args([
            "--engine",
            "spark",
            "--data",
            data,
            "--table",
            table,
            "--aggregates",
            aggregates,
            "--out",
        ])
        .arg(out)
        .assert()
}

#[test]
fn plan_refuses_csv_and_missing_tables() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = redress()
        .args(["plan", "--incident"])
        .arg(root.join("samples/incidents/demo.toml"))
        .args(["--engine", "duckdb", "--data"])
        .arg(root.join("samples/data/demo"))
        .arg("--aggregates")
        .arg(dir.path().join("agg"))
        .arg("--out")
        .arg(dir.path().join("plan"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(65));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("`redress plan` reads Parquet, and `accounts` is CSV"),
        "{stderr}"
    );

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let output = redress()
        .args(["plan", "--incident"])
        .arg(root.join("samples/incidents/demo.toml"))
        .args(["--engine", "spark", "--data"])
        .arg(&empty)
        .args(["--aggregates", "s3://bucket/agg", "--out"])
        .arg(dir.path().join("plan"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(66));
    assert!(String::from_utf8_lossy(&output.stderr).contains("table `accounts` not found"));
    assert!(!dir.path().join("plan").exists());
}

#[test]
fn plan_reads_catalog_tables_and_writes_plan_json() {
    let dir = tempfile::tempdir().unwrap();
    plan_spark(
        "abfss://lake@acct.dfs.core.windows.net/billing",
        "charges=billing.charges_2009",
        "abfss://lake@acct.dfs.core.windows.net/redress/demo",
        &dir.path().join("plan"),
    )
    .success();
    let sql = std::fs::read_to_string(dir.path().join("plan/stage.sql")).unwrap();
    assert!(sql.contains("FROM billing.charges_2009"), "{sql}");
    assert!(sql.contains("parquet.`abfss://lake@acct.dfs.core.windows.net/billing/accounts`"));
    let plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("plan/plan.json")).unwrap()).unwrap();
    assert_eq!(plan["engine"], "spark");
    assert_eq!(
        plan["inputs"]["charges"]["catalog_table"],
        "billing.charges_2009"
    );
    assert_eq!(plan["incident_id"], "ntt-east-2009-cancellation");
    let sha = redress::incident::hex(&<sha2::Sha256 as sha2::Digest>::digest(sql.as_bytes()));
    assert_eq!(plan["stage_sql_sha256"], sha);
    assert!(plan["outputs"]["groups"].as_array().unwrap().len() >= 10);

    // A table name that is not one is refused before anything is written.
    plan_spark(
        "s3://b/d",
        "charges=x; DROP TABLE y",
        "s3://b/a",
        &dir.path().join("plan2"),
    )
    .code(2);
    assert!(!dir.path().join("plan2").exists());
}
