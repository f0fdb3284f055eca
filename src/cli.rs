//! Command-line interface: clap derive only. Doc comments are the help text. No later stage sees
//! these types; `settings` resolves them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::identify::OnBadRows;
use crate::load::Encoding;
use crate::settings::SettingsBuilder;

/// redress: exact, reconciled refunds for mass billing incidents.
///
/// Describe the incident in one TOML file, point redress at the billing export, and it writes the
/// refund ledger, the calculation trail and the control totals.
#[derive(Debug, Parser)]
#[command(name = "redress", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compute every refund and write the ledger, payouts and manifest to --out.
    Run(RunArgs),
    /// Write the heavy stage as one SQL script for Apache Spark or DuckDB (SPEC §7).
    Plan(PlanArgs),
    /// Validate the incident file and all data, print scope counts; writes nothing.
    Check(InputArgs),
    /// Print every step of one account's calculation.
    Explain(ExplainArgs),
    /// Write synthetic billing data with planted incidents.
    Generate(GenerateArgs),
    /// Run a bundled incident on bundled sample data.
    Demo(DemoArgs),
    /// Print the JSON Schema of the incident file.
    Schema,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnBadRowsArg {
    /// Stop before writing anything and list the first problems.
    Abort,
    /// Write bad rows to rejects.csv, send their accounts to review, and go on.
    Reject,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EncodingArg {
    #[value(name = "utf-8", alias = "utf8")]
    Utf8,
    #[value(name = "cp932", alias = "shift_jis", alias = "sjis")]
    Cp932,
}

#[derive(Debug, Args)]
pub struct InputArgs {
    /// The incident file (TOML).
    #[arg(long, value_name = "FILE")]
    pub incident: PathBuf,
    /// Directory holding accounts, charges and events (.csv, .parquet, or a directory of them).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Overrides incident.refund_date: the date interest runs to.
    #[arg(long, value_name = "DATE")]
    pub refund_date: Option<String>,
    /// The date bank transfers are executed (the Zengin file's date); default the refund date.
    /// Must be a Japanese bank business day when a Zengin file is written.
    #[arg(long, value_name = "DATE")]
    pub transfer_date: Option<String>,
    /// What to do with rows that fail validation.
    #[arg(long, value_enum, default_value = "abort")]
    pub on_bad_rows: OnBadRowsArg,
    /// Text encoding of CSV inputs.
    #[arg(long, value_enum, default_value = "utf-8")]
    pub encoding: EncodingArg,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Once (-q): no progress bars; warnings and the closing summary still print. Twice (-qq):
    /// nothing but errors.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub quiet: u8,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output directory; must not exist unless --force.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Replace an existing output directory.
    #[arg(long)]
    pub force: bool,
    /// Finish a planned run from what its stage.sql wrote (instead of --data).
    #[arg(long, value_name = "LOCATION", conflicts_with = "data")]
    pub aggregates: Option<PathBuf>,
    /// Directory with notice templates (notice.ja.md, notice.en.md) overriding the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// An earlier output (--out) of the same incident: pay only what it did not (repeatable; give
    /// every earlier wave).
    #[arg(long, value_name = "DIR")]
    pub previous: Vec<PathBuf>,
    /// Refunds paid outside redress: CSV of account_id (or refund_id), amount, paid_on, channel
    /// (repeatable).
    #[arg(long, value_name = "FILE")]
    pub paid: Vec<PathBuf>,
    /// Also print every notice to PDF (notices/pdf/REFUND_ID.pdf) and all of them to one
    /// notices/notices.pdf, with a headless Chromium (REDRESS_CHROMIUM, or chromium on PATH).
    #[arg(long)]
    pub pdf: bool,
}

impl InputArgs {
    /// The options of `check`, `explain` and `run`, as a settings request.
    pub fn settings(&self) -> SettingsBuilder {
        let mut builder = SettingsBuilder::new(&self.incident)
            .on_bad_rows(match self.on_bad_rows {
                OnBadRowsArg::Abort => OnBadRows::Abort,
                OnBadRowsArg::Reject => OnBadRows::Reject,
            })
            .encoding(match self.encoding {
                EncodingArg::Utf8 => Encoding::Utf8,
                EncodingArg::Cp932 => Encoding::Cp932,
            })
            .quiet(self.quiet);
        if let Some(data) = &self.data {
            builder = builder.data(data);
        }
        if let Some(date) = &self.refund_date {
            builder = builder.refund_date(date);
        }
        if let Some(date) = &self.transfer_date {
            builder = builder.transfer_date(date);
        }
        if let Some(threads) = self.threads {
            builder = builder.threads(threads);
        }
        builder
    }
}

impl RunArgs {
    /// Every option of `run`, as a settings request.
    pub fn settings(&self) -> SettingsBuilder {
        let mut builder = self
            .input
            .settings()
            .out(&self.out)
            .force(self.force)
            .previous(self.previous.iter().cloned())
            .paid(self.paid.iter().cloned())
            .pdf(self.pdf);
        if let Some(aggregates) = &self.aggregates {
            builder = builder.aggregates(aggregates);
        }
        if let Some(templates) = &self.templates {
            builder = builder.templates(templates);
        }
        builder
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    /// Apache Spark SQL (spark-sql, spark-submit, Databricks SQL), with ANSI mode on.
    Spark,
    /// DuckDB.
    Duckdb,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The incident file (TOML).
    #[arg(long, value_name = "FILE")]
    pub incident: PathBuf,
    /// The engine the script is written for.
    #[arg(long, value_enum)]
    pub engine: EngineArg,
    /// Where accounts, charges and events are, as Parquet: a directory or URI (s3://, abfss://,
    /// hdfs://, a local path).
    #[arg(long, value_name = "LOCATION")]
    pub data: String,
    /// Read one table from the engine's catalog instead: NAME=CATALOG.TABLE (repeatable).
    #[arg(long = "table", value_name = "NAME=CATALOG.TABLE")]
    pub tables: Vec<String>,
    /// Where the script writes its results (a directory or URI); pass it to run --aggregates.
    #[arg(long, value_name = "LOCATION")]
    pub aggregates: String,
    /// Where stage.sql and plan.json are written; must not exist unless --force.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Replace an existing output directory.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// The account to explain.
    #[arg(long, value_name = "ID")]
    pub account: String,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Directory to write accounts, charges, events and incident files to.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Number of accounts.
    #[arg(long, default_value_t = 1000)]
    pub accounts: u64,
    /// Number of billing months, ending 2019-12 (so that 24 months cross the 2019-10 tax change).
    #[arg(long, default_value_t = 12)]
    pub months: u32,
    /// Random seed; the same seed gives the same data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Incident kinds to plant (default: all).
    #[arg(long, value_delimiter = ',', num_args = 1..)]
    pub kinds: Vec<String>,
    /// Write typed Parquet instead of CSV: all three tables, dates as DATE, money and rates as
    /// DECIMAL.
    #[arg(long)]
    pub parquet: bool,
    /// Replace an existing output directory.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to write the demo's results.
    #[arg(long, value_name = "DIR", default_value = "redress-demo-out")]
    pub out: PathBuf,
}
