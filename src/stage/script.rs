//! `stage.sql`: the heavy stage of a run as one SQL script for an existing engine (SPEC §7). It
//! reads the three tables as Parquet (or from the engine's catalog), validates every cell as
//! `load` does (each value through its text form, so that DECIMAL, integer, DATE and text columns
//! are all read by the same rules), finds the accounts in scope, runs the kind's plan (its own
//! `Rule::sql`, beside its polars plan) and writes, as typed Parquet, only what `run
//! --aggregates` needs: the changed invoices' groups, the affected and reviewed accounts, the
//! review list, the validation results and the control counts.
//!
//! Must never use a floating-point type: money is BIGINT minor units (after checking it is whole)
//! and 128-bit exact integers (`Dialect::wide`) for products and sums; rates are DECIMAL(38,28).

use std::collections::BTreeSet;

use crate::incident::Incident;
use crate::load::{self, Check, ColumnKind, ColumnSpec, RATE_SCALE};
use crate::rules::columns::*;
use crate::rules::sql::{self, Dialect};

/// Where one input table is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A directory of Parquet files (`LOCATION/NAME/`).
    Directory(String),
    /// One Parquet file (`LOCATION/NAME.parquet`).
    File(String),
    /// A table of the engine's catalog (`--table NAME=CATALOG.TABLE`).
    Catalog(String),
}

/// One input table of the script: where it is and which of its optional columns exist.
#[derive(Debug, Clone)]
pub struct Input {
    pub name: &'static str,
    pub source: Source,
    /// Columns the files have; `None` when they cannot be looked at (every column is assumed).
    pub columns: Option<BTreeSet<String>>,
}

/// Everything the script depends on besides the incident.
pub struct Request<'a> {
    pub incident: &'a Incident,
    pub dialect: Dialect,
    pub accounts: Input,
    pub charges: Input,
    pub events: Input,
    /// Where the results are written (a directory or URI).
    pub aggregates: String,
}

/// The tables the script writes, in the order it writes them (`control` last: its presence says
/// the others are complete).
pub const OUTPUTS: &[&str] = &[
    "problems",
    "problem_counts",
    "files",
    "groups",
    "problem_rows",
    "accounts",
    "review",
    "events",
    "control",
];

/// Problem rows written per table before the run stops (as `--on-bad-rows abort` lists them).
pub const PROBLEMS_LISTED: usize = 1000;

/// Placeholder for the script's own id while it is hashed.
pub const ID_PLACEHOLDER: &str = "0000000000000000000000000000000000000000000000000000000000000000";

struct Script {
    dialect: Dialect,
    text: String,
}

impl Script {
    fn comment(&mut self, line: &str) {
        self.text.push_str(&format!("\n-- {line}\n"));
    }

    fn view(&mut self, name: &str, query: &str) {
        self.text.push_str(&format!(
            "CREATE OR REPLACE TEMPORARY VIEW {name} AS\n{query};\n"
        ));
    }

    /// A table computed once and read several times.
    fn table(&mut self, name: &str, query: &str) {
        match self.dialect {
            // Dropped first, so that the script can run again in one session (a notebook).
            Dialect::Spark => self.text.push_str(&format!(
                "DROP VIEW IF EXISTS {name};\nCACHE TABLE {name} AS\n{query};\n"
            )),
            Dialect::DuckDb => self.text.push_str(&format!(
                "CREATE OR REPLACE TEMPORARY TABLE {name} AS\n{query};\n"
            )),
        }
    }

    fn write(&mut self, aggregates: &str, name: &str, query: &str) {
        let location = format!("{}/{name}", aggregates.trim_end_matches('/'));
        match self.dialect {
            Dialect::Spark => self.text.push_str(&format!(
                "INSERT OVERWRITE DIRECTORY {} USING parquet\n{query};\n",
                self.dialect.text(&location)
            )),
            Dialect::DuckDb => self.text.push_str(&format!(
                "COPY (\n{query}\n) TO {} (FORMAT PARQUET);\n",
                self.dialect.text(&format!("{location}.parquet"))
            )),
        }
    }
}

/// The script, with `stage_id` written where the control table records it.
pub fn script(request: &Request, stage_id: &str) -> String {
    let dialect = request.dialect;
    let incident = request.incident;
    let mut script = Script {
        dialect,
        text: String::new(),
    };
    script.text.push_str(&format!(
        "-- redress {} stage for incident `{}` ({}), written for {}.\n-- Run it as it is ({}); then: redress run --incident FILE --aggregates {} --out DIR\n-- Generated from the incident file with SHA-256 {}; do not edit (run --aggregates checks the id below).\n",
        env!("CARGO_PKG_VERSION"),
        incident.id.replace('\n', " "),
        incident.kind.as_str(),
        dialect.name(),
        match dialect {
            Dialect::Spark => "spark-sql -f stage.sql, or a Databricks SQL job",
            Dialect::DuckDb => "duckdb < stage.sql",
        },
        request.aggregates.replace('\n', " "),
        incident.file_sha256,
    ));
    if dialect == Dialect::Spark {
        // Overflow is an error, not a wrap; files of one table may differ in extra columns.
        script.text.push_str(
            "SET spark.sql.ansi.enabled=true;\nSET spark.sql.parquet.mergeSchema=true;\n",
        );
    }

    script.comment("1. The input tables, each row with its file and 1-based row number.");
    for input in [&request.accounts, &request.charges, &request.events] {
        script.view(
            &format!("src_{}", input.name),
            &source_query(dialect, input),
        );
    }

    script.comment("2. Every cell typed through its text form, with the reason it is bad.");
    typed_views(&mut script, request);

    checked_views(&mut script, request);

    script.comment("3. Validation results.");
    let problems = problems_query(request);
    script.table("all_problems", &problems);
    script.write(
        &request.aggregates,
        "problems",
        &format!(
            "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY table_name ORDER BY file, file_row, column_name) AS listed FROM all_problems) WHERE listed <= {PROBLEMS_LISTED}"
        ),
    );
    script.write(
        &request.aggregates,
        "problem_counts",
        "SELECT table_name, reason, COUNT(*) AS problem_rows FROM all_problems GROUP BY table_name, reason",
    );

    script.comment("4. The accounts in scope and what the rule reads.");
    scope_views(&mut script, request);
    // One more scan of the charges counts every file's rows, bad rows and rows in scope.
    script.table("charge_counts", &charge_counts_query(request));
    script.write(&request.aggregates, "files", &files_query());

    script.comment(&format!(
        "5. The rule: {} (generated from the kind's own file).",
        incident.kind.as_str()
    ));
    for (name, query) in incident.rule.sql(dialect) {
        script.view(&name, &query);
    }
    planned_views(&mut script, request);

    script.comment("6. The results.");
    outputs(&mut script, request, stage_id);
    script.text
}

/// `SELECT *, __file, __row FROM` the table's files (or catalog table).
fn source_query(dialect: Dialect, input: &Input) -> String {
    let name = input.name;
    match (&input.source, dialect) {
        (Source::Catalog(table), _) => format!(
            "SELECT *, {} AS __file, CAST(NULL AS BIGINT) AS __row FROM {table}",
            dialect.text(table)
        ),
        (Source::Directory(path) | Source::File(path), Dialect::Spark) => {
            let file = match &input.source {
                Source::Directory(_) => format!("concat('{name}/', _metadata.file_name)"),
                _ => format!("'{name}.parquet'"),
            };
            format!(
                "SELECT *, {file} AS __file, _metadata.row_index + 1 AS __row FROM parquet.`{}`",
                path.replace('`', "``")
            )
        }
        (Source::Directory(path) | Source::File(path), Dialect::DuckDb) => {
            let (glob, file) = match &input.source {
                Source::Directory(_) => (
                    format!("{}/*.parquet", path.trim_end_matches('/')),
                    format!("'{name}/' || parse_filename(filename)"),
                ),
                _ => (path.clone(), format!("'{name}.parquet'")),
            };
            format!(
                "SELECT {}, {file} AS __file, file_row_number + 1 AS __row\nFROM read_parquet({}, union_by_name = true, filename = true, file_row_number = true)",
                dialect.star_except(&["filename", "file_row_number"]),
                dialect.text(&glob)
            )
        }
    }
}

fn specs(name: &str) -> &'static [ColumnSpec] {
    match name {
        "accounts" => load::ACCOUNT_COLUMNS,
        "charges" => load::CHARGE_COLUMNS,
        _ => load::EVENT_COLUMNS,
    }
}

fn has_column(input: &Input, column: &str) -> bool {
    input
        .columns
        .as_ref()
        .is_none_or(|columns| columns.contains(column))
}

/// `t_NAME`: per column its text `__t_x`, its value `x` and its problem `__p_x` (a reason code of
/// `load::Problem`, NULL when the cell is fine).
fn typed_views(script: &mut Script, request: &Request) {
    let dialect = request.dialect;
    let digits = request.incident.currency.digits;
    for input in [&request.accounts, &request.charges, &request.events] {
        let specs = specs(input.name);
        let texts: Vec<String> = specs
            .iter()
            .map(|spec| {
                let column = dialect.ident(spec.name);
                let text = if !has_column(input, spec.name) {
                    format!("CAST(NULL AS {})", dialect.string())
                } else if spec.kind == ColumnKind::Month {
                    // A billing month stored as a DATE is the month that date falls in.
                    format!(
                        "CASE WHEN lower(typeof({column})) = 'date' THEN substr(CAST({column} AS {string}), 1, 7) ELSE CAST({column} AS {string}) END",
                        string = dialect.string()
                    )
                } else {
                    format!("CAST({column} AS {})", dialect.string())
                };
                format!("NULLIF({text}, '') AS __t_{}", spec.name)
            })
            .collect();
        script.view(
            &format!("text_{}", input.name),
            &format!(
                "SELECT __file, __row,\n  {}\nFROM src_{}",
                texts.join(",\n  "),
                input.name
            ),
        );
        let mut columns = Vec::new();
        for spec in specs {
            let (value, problem) = cell(dialect, spec, digits);
            columns.push(format!("{value} AS {}", spec.name));
            columns.push(format!("{problem} AS __p_{}", spec.name));
            columns.push(format!("__t_{}", spec.name));
        }
        script.view(
            &format!("t_{}", input.name),
            &format!(
                "SELECT __file, __row,\n  {}\nFROM text_{}",
                columns.join(",\n  "),
                input.name
            ),
        );
    }
}

/// An exact decimal as SPEC §1 writes it: no exponent, no thousands separator, no spaces.
const DECIMAL: &str = "^[+-]?[0-9]+([.][0-9]+)?$";

/// The value and the problem of one cell, from its text `__t_x`.
fn cell(dialect: Dialect, spec: &ColumnSpec, digits: u32) -> (String, String) {
    let text = format!("__t_{}", spec.name);
    let t = text.as_str();
    let mut problem = String::from("CASE");
    if spec.required {
        problem.push_str(&format!(" WHEN {t} IS NULL THEN 'missing_value'"));
    }
    let value = match spec.kind {
        ColumnKind::Str => t.to_string(),
        ColumnKind::Int => {
            let format = dialect.matches(t, "^[+-]?[0-9]+$");
            let value = format!(
                "CASE WHEN {format} THEN {} END",
                dialect.try_cast(t, "BIGINT")
            );
            problem.push_str(&format!(
                " WHEN {t} IS NOT NULL AND NOT {format} THEN 'bad_format' WHEN {t} IS NOT NULL AND {value} IS NULL THEN 'out_of_range'"
            ));
            value
        }
        ColumnKind::Money => money_cell(dialect, t, digits, &mut problem),
        ColumnKind::Rate => {
            let format = dialect.matches(t, DECIMAL);
            let digits_ok = dialect.matches(t, "^[^.]*([.][0-9]{0,28}0*)?$");
            let value = format!(
                "CASE WHEN {format} AND {digits_ok} THEN {} END",
                dialect.try_cast(t, &format!("DECIMAL(38,{RATE_SCALE})"))
            );
            problem.push_str(&format!(
                " WHEN {t} IS NOT NULL AND NOT {format} THEN 'bad_format' WHEN {t} IS NOT NULL AND {value} IS NULL THEN 'out_of_range'"
            ));
            if spec.check == Check::Fraction {
                problem.push_str(&format!(
                    " WHEN {value} < 0 OR {value} >= 1 THEN 'out_of_range'"
                ));
            }
            value
        }
        ColumnKind::Date => {
            let value = format!(
                "CASE WHEN {} THEN {} END",
                dialect.matches(t, "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
                dialect.try_cast(t, "DATE")
            );
            problem.push_str(&format!(
                " WHEN {t} IS NOT NULL AND {value} IS NULL THEN 'bad_format'"
            ));
            value
        }
        ColumnKind::Month => {
            let year = dialect.try_cast(&format!("substr({t}, 1, 4)"), "INT");
            let month = dialect.try_cast(&format!("substr({t}, 6, 2)"), "INT");
            let value = format!(
                "CASE WHEN {} AND {month} BETWEEN 1 AND 12 AND {year} >= 1 THEN {year} * 12 + {month} - 1 END",
                dialect.matches(t, "^[0-9]{4}-[0-9]{2}$")
            );
            problem.push_str(&format!(
                " WHEN {t} IS NOT NULL AND {value} IS NULL THEN 'bad_format'"
            ));
            value
        }
    };
    match spec.check {
        Check::NonNegative => {
            problem.push_str(&format!(" WHEN {value} < 0 THEN 'out_of_range'"));
        }
        Check::OneOf(words) => {
            problem.push_str(&format!(
                " WHEN {t} IS NOT NULL AND NOT {} THEN 'value_not_allowed'",
                sql::in_list(dialect, t, words.iter().copied())
            ));
        }
        Check::None | Check::Fraction => {}
    }
    problem.push_str(" END");
    let problem = if problem == "CASE END" {
        format!("CAST(NULL AS {})", dialect.string())
    } else {
        problem
    };
    (value, problem)
}

/// A money cell in minor units: `[+-]digits[.digits]`, whole in the minor unit (`digits` decimal
/// places, any further ones zero), within BIGINT. The minor units are assembled from the text
/// (sign, integer part, the first `digits` fraction digits), so no decimal type's scale or
/// rounding is involved.
fn money_cell(dialect: Dialect, t: &str, digits: u32, problem: &mut String) -> String {
    let format = dialect.matches(t, DECIMAL);
    let whole = dialect.matches(t, &format!("^[+-]?[0-9]+([.][0-9]{{0,{digits}}}0*)?$"));
    let unsigned = format!("regexp_replace({t}, '^[+-]', '')");
    let fraction = if digits == 0 {
        String::new()
    } else {
        format!(
            ", substr(concat(split_part({unsigned}, '.', 2), repeat('0', {digits})), 1, {digits})"
        )
    };
    let minor = format!(
        "concat(CASE WHEN {t} LIKE '-%' THEN '-' ELSE '' END, split_part({unsigned}, '.', 1){fraction})"
    );
    let value = format!(
        "CASE WHEN {format} AND {whole} THEN {} END",
        dialect.try_cast(&minor, "BIGINT")
    );
    problem.push_str(&format!(
        " WHEN {t} IS NOT NULL AND NOT {format} THEN 'bad_format' WHEN {t} IS NOT NULL AND NOT {whole} THEN 'not_whole_minor_unit' WHEN {t} IS NOT NULL AND {value} IS NULL THEN 'out_of_range'"
    ));
    value
}

/// The kinds of events the incident reads.
fn read_kinds(incident: &Incident) -> Vec<String> {
    let mut kinds = vec![incident.trigger.event.clone()];
    kinds.extend(incident.rule.read_event_kinds());
    kinds
}

/// Per table, every bad row as (table_name, file, file_row, column_name, value, reason): its
/// first bad cell in column order, or its row-level problem. Binary floating-point columns are
/// reported once per file.
fn problems_query(request: &Request) -> String {
    let dialect = request.dialect;
    let mut parts = Vec::new();
    for input in [&request.accounts, &request.charges, &request.events] {
        let name = input.name;
        parts.push(format!(
            "SELECT '{name}' AS table_name, __file AS file, __row AS file_row, __problem_column AS column_name, __problem_value AS value, __problem_reason AS reason\nFROM {name}_once WHERE __bad"
        ));
        for spec in specs(name) {
            if matches!(
                spec.kind,
                ColumnKind::Money | ColumnKind::Rate | ColumnKind::Int
            ) && has_column(input, spec.name)
            {
                parts.push(format!(
                    "SELECT DISTINCT '{name}' AS table_name, __file AS file, CAST(NULL AS BIGINT) AS file_row, '{}' AS column_name, lower(typeof({})) AS value, 'binary_floating_point' AS reason\nFROM src_{name} WHERE lower(typeof({})) IN ('float', 'double', 'real')",
                    spec.name,
                    dialect.ident(spec.name),
                    dialect.ident(spec.name)
                ));
            }
        }
    }
    parts.join("\nUNION ALL\n")
}

/// A bad row's first problem, in column order then the row-level checks: its column, the text of
/// that cell, and the reason, as expressions over `checked_NAME`.
fn problem_columns(name: &str) -> [String; 3] {
    let mut cells: Vec<(String, String)> = specs(name)
        .iter()
        .map(|spec| (spec.name.to_string(), format!("__p_{}", spec.name)))
        .collect();
    let extra: &[(&str, &str, &str)] = match name {
        "accounts" => &[("account_id", "__duplicate", "duplicate_account_id")],
        "charges" => &[
            ("account_id", "__unknown", "unknown_account"),
            (
                "period_start",
                "__period_order",
                "period_start_after_period_end",
            ),
        ],
        _ => &[
            ("account_id", "__unknown", "unknown_account"),
            (
                "quantity",
                "__quantity_required",
                "equipment_count_without_quantity",
            ),
        ],
    };
    for (column, flag, reason) in extra {
        cells.push((
            column.to_string(),
            format!("CASE WHEN {flag} THEN '{reason}' END"),
        ));
    }
    let column_of: String = cells
        .iter()
        .map(|(column, problem)| format!(" WHEN {problem} IS NOT NULL THEN '{column}'"))
        .collect();
    let value_of: String = cells
        .iter()
        .map(|(column, problem)| format!(" WHEN {problem} IS NOT NULL THEN __t_{column}"))
        .collect();
    let reason = cells
        .iter()
        .map(|(_, problem)| problem.clone())
        .collect::<Vec<_>>()
        .join(", ");
    [
        format!("CASE{column_of} END"),
        format!("CASE{value_of} END"),
        format!("COALESCE({reason})"),
    ]
}

/// Per charges file: rows, bad rows, and the valid rows of in-scope accounts the rule reads with
/// their Σ amount (the control counts).
fn charge_counts_query(request: &Request) -> String {
    let wide = request.dialect.wide();
    let in_scope = format!(
        "NOT c.__bad AND s.account_id IS NOT NULL AND {}",
        rows_read(request.incident).replace("billing_month", "c.billing_month")
    );
    format!(
        "SELECT c.__file, COUNT(*) AS row_count, CAST(SUM(CASE WHEN c.__bad THEN 1 ELSE 0 END) AS BIGINT) AS rejected_rows,\n  CAST(SUM(CASE WHEN {in_scope} THEN 1 ELSE 0 END) AS BIGINT) AS rows_in_scope,\n  SUM(CASE WHEN {in_scope} THEN CAST(c.amount AS {wide}) ELSE CAST(0 AS {wide}) END) AS amount_in_scope\nFROM charges_once c LEFT JOIN in_scope s ON s.account_id = c.account_id\nGROUP BY c.__file"
    )
}

/// Rows and bad rows per input file (the manifest's counts).
fn files_query() -> String {
    ["accounts", "charges", "events"]
        .iter()
        .map(|name| {
            let rows = if *name == "events" {
                // Events of kinds no rule reads are counted, never checked.
                "text_events"
            } else {
                name
            };
            let bad = format!("{name}_once");
            if *name == "events" {
                format!(
                    "SELECT 'events' AS table_name, r.__file AS file, r.row_count, CAST(COALESCE(b.rejected_rows, 0) AS BIGINT) AS rejected_rows\nFROM (SELECT __file, COUNT(*) AS row_count FROM {rows} GROUP BY __file) r\nLEFT JOIN (SELECT __file, CAST(SUM(CASE WHEN __bad THEN 1 ELSE 0 END) AS BIGINT) AS rejected_rows FROM {bad} GROUP BY __file) b ON b.__file = r.__file"
                )
            } else if *name == "charges" {
                "SELECT 'charges' AS table_name, __file AS file, row_count, rejected_rows FROM charge_counts".to_string()
            } else {
                format!(
                    "SELECT '{name}' AS table_name, __file AS file, COUNT(*) AS row_count, CAST(SUM(CASE WHEN __bad THEN 1 ELSE 0 END) AS BIGINT) AS rejected_rows FROM {bad} GROUP BY __file"
                )
            }
        })
        .collect::<Vec<_>>()
        .join("\nUNION ALL\n")
}

/// Months `[scope].billing_months` allows, as a condition on the month index `billing_month`.
fn months_in_scope(incident: &Incident) -> String {
    let scope = &incident.scope;
    let mut condition = vec!["TRUE".to_string()];
    if let Some(from) = scope.billing_months_from {
        condition.push(format!("billing_month >= {}", from.index()));
    }
    if let Some(to) = scope.billing_months_to {
        condition.push(format!("billing_month <= {}", to.index()));
    }
    condition.join(" AND ")
}

fn rows_read(incident: &Incident) -> String {
    if incident.rule.needs_all_months() {
        "TRUE".to_string()
    } else {
        months_in_scope(incident)
    }
}

fn date_literal(date: chrono::NaiveDate) -> String {
    format!("DATE '{date}'")
}

/// Row checks across cells (duplicate and unknown accounts, period order, a count event without
/// quantity) and the valid rows.
fn checked_views(script: &mut Script, request: &Request) {
    let dialect = request.dialect;
    let incident = request.incident;
    let all = |specs: &[ColumnSpec]| {
        specs
            .iter()
            .map(|spec| format!("__p_{} IS NULL", spec.name))
            .collect::<Vec<_>>()
            .join(" AND ")
    };
    script.view(
        "known_accounts",
        "SELECT DISTINCT account_id FROM t_accounts WHERE __p_account_id IS NULL AND account_id IS NOT NULL",
    );
    script.view(
        "checked_accounts",
        &format!(
            "SELECT *, NOT ({}) OR __duplicate AS __bad FROM (\n  SELECT *, COUNT(CASE WHEN __p_account_id IS NULL THEN 1 END) OVER (PARTITION BY account_id) > 1 AND __p_account_id IS NULL AND account_id IS NOT NULL AS __duplicate FROM t_accounts)",
            all(load::ACCOUNT_COLUMNS)
        ),
    );
    script.view(
        "checked_charges",
        &format!(
            "SELECT *, NOT ({}) OR __unknown OR __period_order AS __bad FROM (\n  SELECT c.*, c.account_id IS NOT NULL AND c.__p_account_id IS NULL AND k.account_id IS NULL AS __unknown,\n    COALESCE(c.period_start > c.period_end, FALSE) AS __period_order\n  FROM t_charges c LEFT JOIN known_accounts k ON k.account_id = c.account_id)",
            all(load::CHARGE_COLUMNS)
        ),
    );
    let kinds = read_kinds(incident);
    script.view(
        "checked_events",
        &format!(
            "SELECT *, NOT ({}) OR __unknown OR __quantity_required AS __bad FROM (\n  SELECT e.*, e.account_id IS NOT NULL AND e.__p_account_id IS NULL AND k.account_id IS NULL AS __unknown,\n    COALESCE(e.kind = 'equipment_count' AND e.quantity IS NULL AND e.__p_quantity IS NULL, FALSE) AS __quantity_required\n  FROM t_events e LEFT JOIN known_accounts k ON k.account_id = e.account_id\n  WHERE e.kind IS NULL OR {})",
            all(load::EVENT_COLUMNS),
            sql::in_list(dialect, "e.kind", kinds.iter().map(String::as_str))
        ),
    );
    // Each table typed and checked once: every later step reads this (Spark caches it, DuckDB
    // keeps it as a temporary table) instead of parsing every cell again.
    for name in ["accounts", "charges", "events"] {
        let values: Vec<String> = specs(name)
            .iter()
            .map(|spec| dialect.ident(spec.name))
            .collect();
        let [column, value, reason] = problem_columns(name);
        script.table(
            &format!("{name}_once"),
            &format!(
                "SELECT __file, __row, {}, __bad,\n  CASE WHEN __bad THEN {column} END AS __problem_column,\n  CASE WHEN __bad THEN {value} END AS __problem_value,\n  CASE WHEN __bad THEN {reason} END AS __problem_reason\nFROM checked_{name}",
                values.join(", ")
            ),
        );
        script.view(
            &format!("ok_{name}"),
            &format!(
                "SELECT {} FROM {name}_once WHERE NOT __bad",
                values.join(", ")
            ),
        );
    }
}

/// The scope, and the rule's input views.
/// The trigger events' condition and the `[scope]` filters on accounts (alias `a`).
fn scope_conditions(request: &Request) -> (String, String) {
    let dialect = request.dialect;
    let incident = request.incident;

    let trigger = &incident.trigger;
    let mut conditions = vec![format!("kind = {}", dialect.text(&trigger.event))];
    if let Some(detail) = &trigger.detail {
        conditions.push(format!("detail = {}", dialect.text(detail)));
    }
    if let Some(from) = incident.scope.event_dates_from {
        conditions.push(format!(
            "{} >= {}",
            dialect.ident("date"),
            date_literal(from)
        ));
    }
    if let Some(to) = incident.scope.event_dates_to {
        conditions.push(format!("{} <= {}", dialect.ident("date"), date_literal(to)));
    }
    // An account missing the attribute a filter tests fails that filter.
    let scope = &incident.scope;
    let mut filters = vec!["TRUE".to_string()];
    for (column, allowed) in [
        ("region", &scope.regions),
        ("plan", &scope.plans),
        ("customer_type", &scope.customer_types),
    ] {
        if let Some(allowed) = allowed {
            filters.push(sql::in_list(
                dialect,
                &format!("a.{column}"),
                allowed.iter().map(String::as_str),
            ));
        }
    }
    if let Some(from) = scope.opened_from {
        filters.push(format!(
            "COALESCE(a.opened_on >= {}, FALSE)",
            date_literal(from)
        ));
    }
    if let Some(to) = scope.opened_to {
        filters.push(format!(
            "COALESCE(a.opened_on <= {}, FALSE)",
            date_literal(to)
        ));
    }
    (conditions.join(" AND "), filters.join(" AND "))
}

fn scope_views(script: &mut Script, request: &Request) {
    let dialect = request.dialect;
    let incident = request.incident;
    let (trigger_events, filters) = scope_conditions(request);
    // The trigger date is the earliest trigger event inside the window.
    script.view(
        "triggers",
        &format!(
            "SELECT account_id, MIN({}) AS {TRIGGER_DATE} FROM ok_events WHERE {trigger_events} GROUP BY account_id",
            dialect.ident("date"),
        ),
    );
    script.view(
        "in_scope",
        &format!(
            "SELECT a.*, t.{TRIGGER_DATE} FROM ok_accounts a JOIN triggers t ON t.account_id = a.account_id WHERE {filters}"
        ),
    );
    let review = if incident.rule.needs_opened_on() {
        format!(
            "SELECT account_id, '{}' AS reason FROM in_scope WHERE opened_on IS NULL",
            crate::rules::ReviewReason::MissingOpenedOn.code()
        )
    } else {
        format!(
            "SELECT account_id, CAST(NULL AS {string}) AS reason FROM in_scope WHERE FALSE",
            string = dialect.string()
        )
    };
    script.view("review", &review);
    script.view(
        "rule_accounts",
        &format!(
            "SELECT account_id, {TRIGGER_DATE}, opened_on AS {OPENED_ON}, {} AS __td, {} AS __od\nFROM in_scope WHERE account_id NOT IN (SELECT account_id FROM review)",
            dialect.days(TRIGGER_DATE),
            dialect.days("opened_on")
        ),
    );
    script.view(
        "rule_events",
        &format!(
            "SELECT account_id, kind, {} AS day, detail, quantity FROM ok_events WHERE account_id IN (SELECT account_id FROM rule_accounts)",
            dialect.days(&dialect.ident("date"))
        ),
    );
    // SPEC §1: list_amount defaults to amount, discount_rate to 0.
    script.view(
        "rule_rows",
        &format!(
            "SELECT c.account_id, c.billing_month, c.period_start, c.period_end, c.item, c.quantity, c.unit_price,\n  COALESCE(c.list_amount, c.amount) AS list_amount, COALESCE(c.discount_rate, CAST(0 AS DECIMAL(38,{RATE_SCALE}))) AS discount_rate,\n  c.amount, c.tax_rate, c.paid_on, a.{TRIGGER_DATE}, a.{OPENED_ON},\n  {} AS __ps, {} AS __pe, a.__td, a.__od\nFROM ok_charges c JOIN rule_accounts a ON a.account_id = c.account_id\nWHERE {}",
            dialect.days("c.period_start"),
            dialect.days("c.period_end"),
            rows_read(incident).replace("billing_month", "c.billing_month")
        ),
    );
}

/// diff and the overflow check of every planned row, and the sums per invoice and tax rate.
fn planned_views(script: &mut Script, request: &Request) {
    let dialect = request.dialect;
    let wide = dialect.wide();
    script.view(
        "planned",
        &format!(
            "SELECT {},\n  CAST(amount AS {wide}) - __should AS {DIFF},\n  CASE WHEN __should > CAST({} AS {wide}) OR __should < CAST({} AS {wide}) THEN {} ELSE __problem END AS __problem\nFROM rule_planned WHERE {}",
            dialect.star_except(&["__problem"]),
            i64::MAX,
            i64::MIN,
            crate::rules::RowProblemCode::Overflow as i32,
            months_in_scope(request.incident)
        ),
    );
    script.table(
        "sums",
        &format!(
            "SELECT account_id, billing_month, tax_rate,\n  SUM(CAST(amount AS {wide})) AS billed, SUM({DIFF}) AS diff, COUNT(*) AS row_count,\n  CAST(SUM(CASE WHEN __touched THEN 1 ELSE 0 END) AS BIGINT) AS touched_rows,\n  MIN(paid_on) AS paid_min, MAX(paid_on) AS paid_max, CAST(SUM(CASE WHEN paid_on IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS paid_empty,\n  MAX(__problem) AS problem\nFROM planned GROUP BY account_id, billing_month, tax_rate"
        ),
    );
    script.table(
        "planned_problems",
        "SELECT * FROM planned WHERE __problem <> 0",
    );
    // The invoices the rule changes: some group with a non-zero D, or a row it cannot compute.
    script.table(
        "changed",
        "SELECT DISTINCT account_id, billing_month FROM sums WHERE diff <> 0 OR problem <> 0",
    );
}

/// `YYYY-MM` of a month index.
fn month_text(dialect: Dialect, index: &str) -> String {
    let string = dialect.string();
    format!(
        "concat(lpad(CAST({} AS {string}), 4, '0'), '-', lpad(CAST({index} % 12 + 1 AS {string}), 2, '0'))",
        dialect.trunc_div(index, "12")
    )
}

fn outputs(script: &mut Script, request: &Request, stage_id: &str) {
    let dialect = request.dialect;
    let incident = request.incident;
    let aggregates = &request.aggregates;
    script.write(
        aggregates,
        "groups",
        &format!(
            "SELECT s.account_id, {} AS billing_month, s.tax_rate, CAST(s.billed AS DECIMAL(38,0)) AS billed, CAST(s.diff AS DECIMAL(38,0)) AS diff,\n  s.row_count, s.touched_rows, s.paid_min, s.paid_max, s.paid_empty, s.problem\nFROM sums s JOIN changed c ON c.account_id = s.account_id AND c.billing_month = s.billing_month\nORDER BY s.account_id, s.billing_month, s.tax_rate",
            month_text(dialect, "s.billing_month")
        ),
    );
    script.write(
        aggregates,
        "problem_rows",
        &format!(
            "SELECT account_id, {} AS billing_month, period_start, item, __problem AS problem, {SEGMENT_DATE} AS segment_day\nFROM planned_problems ORDER BY account_id, billing_month, period_start, item",
            month_text(dialect, "billing_month")
        ),
    );
    let account_columns: Vec<String> = load::ACCOUNT_COLUMNS
        .iter()
        .map(|spec| format!("s.{}", spec.name))
        .collect();
    script.view(
        "reported_accounts",
        "SELECT account_id FROM changed UNION SELECT account_id FROM review",
    );
    script.write(
        aggregates,
        "accounts",
        &format!(
            "SELECT {}, s.{TRIGGER_DATE} AS trigger_date\nFROM in_scope s WHERE s.account_id IN (SELECT account_id FROM reported_accounts) ORDER BY s.account_id",
            account_columns.join(", ")
        ),
    );
    script.write(
        aggregates,
        "review",
        "SELECT account_id, reason FROM review ORDER BY account_id",
    );
    script.write(
        aggregates,
        "events",
        &format!(
            "SELECT account_id, kind, {date}, detail, quantity FROM ok_events\nWHERE account_id IN (SELECT account_id FROM planned_problems)\nORDER BY account_id, {date}, kind, detail, quantity",
            date = dialect.ident("date")
        ),
    );
    let string = dialect.string();
    script.write(
        aggregates,
        "control",
        &format!(
            "SELECT {id} AS stage_id, {incident_id} AS incident_id, {sha} AS incident_sha256, '{engine}' AS engine, '{version}' AS redress_version,\n  (SELECT COUNT(*) FROM src_accounts) AS accounts_rows,\n  (SELECT CAST(COALESCE(SUM(row_count), 0) AS BIGINT) FROM charge_counts) AS charges_rows,\n  (SELECT COUNT(*) FROM src_events) AS events_rows,\n  (SELECT COUNT(*) FROM all_problems) AS problem_rows,\n  (SELECT COUNT(*) FROM in_scope) AS accounts_in_scope,\n  (SELECT CAST(COALESCE(SUM(rows_in_scope), 0) AS BIGINT) FROM charge_counts) AS charge_rows_in_scope,\n  (SELECT CAST(COALESCE(SUM(amount_in_scope), 0) AS DECIMAL(38,0)) FROM charge_counts) AS charge_amount_in_scope,\n  (SELECT COUNT(*) FROM sums s JOIN changed c ON c.account_id = s.account_id AND c.billing_month = s.billing_month) AS group_rows,\n  (SELECT COUNT(*) FROM reported_accounts) AS account_rows,\n  (SELECT COUNT(*) FROM review) AS review_rows,\n  CAST({currency} AS {string}) AS currency",
            id = dialect.text(stage_id),
            incident_id = dialect.text(&incident.id),
            sha = dialect.text(&incident.file_sha256),
            engine = dialect.name(),
            version = env!("CARGO_PKG_VERSION"),
            currency = dialect.text(incident.currency.code),
        ),
    );
}
