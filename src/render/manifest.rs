//! manifest.json: what went in (files, hashes, row counts), what came out (control totals), and
//! with which tool version. Byte-identical for identical inputs except `run_time_ms`.

use serde::Serialize;

use crate::identify::FileStats;
use crate::ledger::ControlTotals;

#[derive(Debug, Serialize)]
pub struct InputFileEntry {
    pub table: String,
    pub file: String,
    pub sha256: String,
    pub rows: u64,
    pub rows_rejected: u64,
}

#[derive(Debug, Serialize)]
pub struct RowCounts {
    pub read: u64,
    pub rejected: u64,
    pub accounts_in_scope: u64,
    pub charge_rows_in_scope: u64,
}

/// One Parquet file a planned stage wrote.
#[derive(Debug, Serialize)]
pub struct AggregateEntry {
    pub table: String,
    pub file: String,
    pub sha256: String,
    pub rows: u64,
}

/// A run from aggregates: the stage's SQL id (SHA-256 of stage.sql with the id's place zeroed, as
/// plan.json records it) and the aggregates it wrote.
#[derive(Debug, Serialize)]
pub struct StageEntry {
    pub stage_sql_id: String,
    pub engine: String,
    /// Σ amount of the in-scope charge rows the rule read, minor units, as the engine summed it.
    pub charge_amount_in_scope_minor: String,
    pub aggregates: Vec<AggregateEntry>,
}

#[derive(Debug, Serialize)]
pub struct Manifest {
    pub tool: &'static str,
    pub tool_version: &'static str,
    pub incident_id: String,
    pub incident_kind: &'static str,
    pub incident_file_sha256: String,
    pub currency: &'static str,
    pub refund_date: Option<String>,
    /// The date of the bank transfers (`--transfer-date`, by default the refund date).
    pub transfer_date: Option<String>,
    pub on_bad_rows: &'static str,
    pub inputs: Vec<InputFileEntry>,
    pub rows: RowCounts,
    /// Money in minor units of `currency`.
    pub control_totals: ControlTotals,
    /// Set for `run --aggregates` (then `inputs` is empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<StageEntry>,
    /// Set for a supplementary run (`--previous`, `--paid`): its sequence number and every earlier
    /// wave and paid file it netted against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wave: Option<crate::waves::WaveEntry>,
    pub outputs: Vec<String>,
    /// SHA-256 of every output file but the notices and this manifest, so that a later wave
    /// (`--previous`) can verify what this run paid.
    pub output_sha256: std::collections::BTreeMap<String, String>,
    pub run_time_ms: u64,
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    crate::incident::hex(&Sha256::digest(bytes))
}

pub fn input_entries(files: &[FileStats], hashes: &[String]) -> Vec<InputFileEntry> {
    files
        .iter()
        .zip(hashes)
        .map(|(file, sha256)| InputFileEntry {
            table: file.table.clone(),
            file: file.file.clone(),
            sha256: sha256.clone(),
            rows: file.rows,
            rows_rejected: file.rows_rejected,
        })
        .collect()
}

/// manifest.json; a serialisation failure is an error, never an empty file.
pub fn render(manifest: &Manifest) -> Result<Vec<u8>, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(manifest)?;
    text.push('\n');
    Ok(text.into_bytes())
}
