//! Beyond one machine (SPEC §7): `redress plan` writes the heavy stage of a run as one SQL script
//! for an existing engine (`script`), and `redress run --aggregates` finishes it from what the
//! script wrote (`aggregates`). We emit SQL; we never run a distributed system of our own.
//!
//! `plan` reads no charge row: for a local `--data` it only looks at which files exist and which
//! columns their Parquet schemas have.

pub mod aggregates;
pub mod script;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::RunError;
use crate::incident::{Incident, hex};
use crate::load::LoadError;
use crate::output::Staging;
use crate::rules::sql::Dialect;
use script::{Input, Request, Source};

/// What `redress plan` is asked for.
pub struct PlanOptions {
    pub incident: Incident,
    pub dialect: Dialect,
    pub data: String,
    pub aggregates: String,
    /// `--table NAME=CATALOG.TABLE`.
    pub tables: Vec<(String, String)>,
    pub out: PathBuf,
    pub force: bool,
}

impl PlanOptions {
    pub fn from_args(args: &crate::cli::PlanArgs) -> Result<PlanOptions, RunError> {
        let incident = Incident::load(&args.incident)?;
        let mut tables = Vec::new();
        for table in &args.tables {
            let Some((name, catalog)) = table.split_once('=') else {
                return Err(RunError::Usage(format!(
                    "--table `{table}`: expected NAME=CATALOG.TABLE, e.g. charges=billing.charges"
                )));
            };
            let valid = !catalog.is_empty()
                && catalog
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '`');
            if !valid {
                return Err(RunError::Usage(format!(
                    "--table `{table}`: `{catalog}` is not a table name (letters, digits, `_` and `.`)"
                )));
            }
            tables.push((name.to_string(), catalog.to_string()));
        }
        Ok(PlanOptions {
            incident,
            dialect: match args.engine {
                crate::cli::EngineArg::Spark => Dialect::Spark,
                crate::cli::EngineArg::Duckdb => Dialect::DuckDb,
            },
            data: args.data.clone(),
            aggregates: args.aggregates.clone(),
            tables,
            out: args.out.clone(),
            force: args.force,
        })
    }
}

/// What `redress plan` wrote.
pub struct PlanReport {
    pub out: PathBuf,
    pub stage_id: String,
    pub sql_sha256: String,
}

const TABLES: [&str; 3] = ["accounts", "charges", "events"];

fn is_uri(location: &str) -> bool {
    location.contains("://")
}

/// A local location as an absolute path (the engine may run from another directory).
fn absolute(location: &str) -> Result<String, RunError> {
    if is_uri(location) {
        return Ok(location.trim_end_matches('/').to_string());
    }
    std::path::absolute(location)
        .map(|path| path.display().to_string())
        .map_err(|source| RunError::Location {
            location: location.to_string(),
            source,
        })
}

/// Where each table is read from, and (for local files) which columns they have.
fn inputs(options: &PlanOptions) -> Result<Vec<Input>, RunError> {
    for (name, _) in &options.tables {
        if !TABLES.contains(&name.as_str()) {
            return Err(RunError::Usage(format!(
                "--table `{name}=…`: unknown table `{name}`\nhint: the tables are accounts, charges and events"
            )));
        }
    }
    let data = absolute(&options.data)?;
    TABLES
        .iter()
        .map(|name| {
            if let Some((_, table)) = options.tables.iter().find(|(table, _)| table == name) {
                return Ok(Input {
                    name,
                    source: Source::Catalog(table.clone()),
                    columns: None,
                });
            }
            if is_uri(&data) {
                return Ok(Input {
                    name,
                    source: Source::Directory(format!("{data}/{name}")),
                    columns: None,
                });
            }
            local_input(Path::new(&data), name)
        })
        .collect()
}

fn local_input(data: &Path, name: &'static str) -> Result<Input, RunError> {
    // The checks of `run --data`: one of NAME.parquet / NAME.csv / NAME/, no special files.
    let (chosen, files) = crate::load::table_files(data, name)?;
    if let Some(csv) = files
        .iter()
        .find(|path| path.extension().is_some_and(|ext| ext == "csv"))
    {
        return Err(LoadError::Bad {
            message: format!(
                "`{}`: `redress plan` reads Parquet, and `{name}` is CSV\nhint: convert it to Parquet where the engine runs, or run `redress run --data` on this machine",
                csv.display()
            ),
        }
        .into());
    }
    let source = if chosen.is_dir() {
        Source::Directory(chosen.display().to_string())
    } else {
        Source::File(chosen.display().to_string())
    };
    let mut columns = BTreeSet::new();
    for file in &files {
        columns.extend(crate::load::parquet_columns(file)?);
    }
    Ok(Input {
        name,
        source,
        columns: Some(columns),
    })
}

fn sha256(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// The script and its id: the SHA-256 of the script with the id's place zeroed.
pub fn stage_sql(request: &Request) -> (String, String) {
    let id = sha256(&script::script(request, script::ID_PLACEHOLDER));
    (script::script(request, &id), id)
}

/// `redress plan`.
pub fn plan(options: &PlanOptions) -> Result<PlanReport, RunError> {
    let mut inputs = inputs(options)?.into_iter();
    let mut next = || {
        inputs
            .next()
            .ok_or_else(|| RunError::bug("a table is missing from the plan"))
    };
    let request = Request {
        incident: &options.incident,
        dialect: options.dialect,
        accounts: next()?,
        charges: next()?,
        events: next()?,
        aggregates: absolute(&options.aggregates)?,
    };
    if options.dialect == Dialect::DuckDb && !is_uri(&request.aggregates) {
        // DuckDB's COPY writes files, never the directory they go in.
        std::fs::create_dir_all(&request.aggregates).map_err(|source| {
            crate::output::OutputError::Io {
                path: PathBuf::from(&request.aggregates),
                source,
            }
        })?;
    }
    let (text, stage_id) = stage_sql(&request);
    let sql_sha256 = sha256(&text);
    let plan = plan_json(&request, &stage_id, &sql_sha256)
        .map_err(|error| RunError::internal("writing plan.json", error))?;
    let protected: Vec<&Path> = vec![&options.incident.path];
    let staging = Staging::new(&options.out, options.force, &protected)?;
    staging.write("stage.sql", text.as_bytes())?;
    staging.write("plan.json", plan.as_bytes())?;
    let out = staging.commit()?;
    Ok(PlanReport {
        out,
        stage_id,
        sql_sha256,
    })
}

/// The schema of each table the script writes, as (column, type).
pub const OUTPUT_SCHEMAS: &[(&str, &[(&str, &str)])] = &[
    (
        "problems",
        &[
            ("table_name", "STRING"),
            ("file", "STRING"),
            (
                "file_row",
                "BIGINT (1-based; NULL for a catalog table or a whole column)",
            ),
            ("column_name", "STRING"),
            ("value", "STRING"),
            ("reason", "STRING"),
            ("listed", "BIGINT"),
        ],
    ),
    (
        "problem_counts",
        &[
            ("table_name", "STRING"),
            ("reason", "STRING"),
            ("problem_rows", "BIGINT"),
        ],
    ),
    (
        "files",
        &[
            ("table_name", "STRING"),
            ("file", "STRING"),
            ("row_count", "BIGINT"),
            ("rejected_rows", "BIGINT"),
        ],
    ),
    (
        "groups",
        &[
            ("account_id", "STRING"),
            ("billing_month", "STRING (YYYY-MM)"),
            ("tax_rate", "DECIMAL(38,28)"),
            ("billed", "DECIMAL(38,0) (B, minor units)"),
            ("diff", "DECIMAL(38,0) (D, minor units)"),
            ("row_count", "BIGINT"),
            ("touched_rows", "BIGINT"),
            ("paid_min", "DATE"),
            ("paid_max", "DATE"),
            ("paid_empty", "BIGINT"),
            ("problem", "INT"),
        ],
    ),
    (
        "problem_rows",
        &[
            ("account_id", "STRING"),
            ("billing_month", "STRING"),
            ("period_start", "DATE"),
            ("item", "STRING"),
            ("problem", "INT"),
            ("segment_day", "BIGINT (days since 1970-01-01)"),
        ],
    ),
    (
        "accounts",
        &[
            ("(every accounts column of SPEC §1)", "STRING / DATE"),
            ("trigger_date", "DATE"),
        ],
    ),
    ("review", &[("account_id", "STRING"), ("reason", "STRING")]),
    (
        "events",
        &[
            ("account_id", "STRING"),
            ("kind", "STRING"),
            ("date", "DATE"),
            ("detail", "STRING"),
            ("quantity", "BIGINT"),
        ],
    ),
    (
        "control",
        &[
            ("stage_id", "STRING"),
            ("incident_id", "STRING"),
            ("incident_sha256", "STRING"),
            ("engine", "STRING"),
            ("redress_version", "STRING"),
            ("accounts_rows, charges_rows, events_rows", "BIGINT"),
            ("problem_rows", "BIGINT"),
            ("accounts_in_scope, charge_rows_in_scope", "BIGINT"),
            ("charge_amount_in_scope", "DECIMAL(38,0)"),
            ("group_rows, account_rows, review_rows", "BIGINT"),
            ("currency", "STRING"),
        ],
    ),
];

fn plan_json(
    request: &Request,
    stage_id: &str,
    sql_sha256: &str,
) -> Result<String, serde_json::Error> {
    let source = |input: &Input| match &input.source {
        Source::Directory(path) => serde_json::json!({"directory": path}),
        Source::File(path) => serde_json::json!({"file": path}),
        Source::Catalog(table) => serde_json::json!({"catalog_table": table}),
    };
    let outputs: BTreeMap<&str, Vec<serde_json::Value>> = OUTPUT_SCHEMAS
        .iter()
        .map(|(name, columns)| {
            (
                *name,
                columns
                    .iter()
                    .map(|(column, kind)| serde_json::json!({"column": column, "type": kind}))
                    .collect(),
            )
        })
        .collect();
    let value = serde_json::json!({
        "tool": "redress",
        "tool_version": env!("CARGO_PKG_VERSION"),
        "incident_id": request.incident.id,
        "incident_kind": request.incident.kind.as_str(),
        "incident_file_sha256": request.incident.file_sha256,
        "engine": request.dialect.name(),
        "stage_sql_sha256": sql_sha256,
        "stage_id": stage_id,
        "inputs": {
            "accounts": source(&request.accounts),
            "charges": source(&request.charges),
            "events": source(&request.events),
        },
        "aggregates": request.aggregates,
        "outputs": outputs,
    });
    let mut text = serde_json::to_string_pretty(&value)?;
    text.push('\n');
    Ok(text)
}
