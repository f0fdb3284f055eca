//! Reading what earlier waves paid: an earlier `redress run` output (its manifest, verified against
//! its ledgers and their recorded SHA-256) and files of refunds paid outside redress.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::WaveError;
use crate::incident::Incident;
use crate::load::Encoding;
use crate::money::{self, Currency, Money, Month};

/// The manifest's record of a supplementary run: its sequence number and every earlier wave and
/// paid file it netted against (so that a later wave can insist on the same ones).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct WaveEntry {
    /// 1 for a first run; one more than the highest earlier wave otherwise.
    pub sequence: u32,
    pub previous: Vec<PreviousEntry>,
    pub paid_files: Vec<PaidFileEntry>,
}

/// An earlier run a supplementary run netted against.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PreviousEntry {
    pub sequence: u32,
    /// The directory as given to `--previous`.
    pub dir: String,
    /// SHA-256 of its manifest.json: the identity of that wave.
    pub manifest_sha256: String,
    pub refund_date: Option<String>,
    /// Accounts that wave paid (amount > 0) and what it paid them, minor units.
    pub accounts_paid: u64,
    pub amount_minor: i64,
}

/// A file of refunds paid outside redress.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PaidFileEntry {
    /// The file as given to `--paid`.
    pub file: String,
    pub sha256: String,
    pub rows: u64,
    pub accounts: u64,
    pub amount_minor: i64,
}

/// What one earlier wave paid (or allotted: a claim or a residual line stays that wave's to pay).
#[derive(Debug, Clone)]
pub struct PreviousRun {
    pub entry: PreviousEntry,
    /// The earlier waves and paid files that run itself netted against.
    pub chain: Option<WaveEntry>,
    /// SHA-256 of its refunds.csv (two outputs with the same ledger are the same wave).
    pub refunds_sha256: String,
    /// account_id → (refund_id, amount paid in that wave); every affected account, paid or not.
    pub accounts: BTreeMap<String, (String, Money)>,
    /// (account_id, billing_month) → correction sent to the billing system in that wave.
    pub corrections: BTreeMap<(String, Month), Money>,
    /// (account_id, billing_month) → X (= P + T) of each invoice that wave refunded, with interest
    /// to its refund date.
    pub refunded: BTreeMap<(String, Month), Money>,
}

/// One row of a paid file.
#[derive(Debug, Clone)]
pub struct PaidRow {
    /// 1-based data row (the header is not counted).
    pub row: u64,
    pub account_id: Option<String>,
    pub refund_id: Option<String>,
    pub amount: Money,
    pub paid_on: NaiveDate,
    pub channel: String,
}

/// A validated paid file.
#[derive(Debug, Clone)]
pub struct PaidFile {
    pub path: PathBuf,
    pub display: String,
    pub sha256: String,
    pub rows: Vec<PaidRow>,
    /// Σ amount of the rows.
    pub total: Money,
}

/// The ledgers of an earlier run that a supplementary run reads (each verified by its SHA-256).
const LEDGERS: [&str; 3] = [
    "refunds.csv",
    "invoices.csv",
    "payouts/bill_corrections.csv",
];

/// The channels a refund paid outside redress may name.
pub const PAID_CHANNELS: [&str; 5] = ["bill_credit", "bank_transfer", "claim", "cash", "other"];

/// The parts of an earlier manifest a supplementary run relies on.
#[derive(Debug, Deserialize)]
struct EarlierManifest {
    tool: String,
    incident_id: String,
    currency: String,
    refund_date: Option<String>,
    control_totals: EarlierTotals,
    #[serde(default)]
    output_sha256: Option<BTreeMap<String, String>>,
    #[serde(default)]
    wave: Option<WaveEntry>,
}

#[derive(Debug, Deserialize)]
struct EarlierTotals {
    accounts_affected: u64,
    refund_total: i64,
    bill_corrections: EarlierChannel,
    #[serde(default)]
    waves: Option<EarlierWaveTotals>,
}

#[derive(Debug, Deserialize)]
struct EarlierChannel {
    amount: i64,
}

#[derive(Debug, Deserialize)]
struct EarlierWaveTotals {
    supplement: i64,
}

use crate::render::manifest::sha256_hex as sha256_bytes;

fn read_bytes(path: &Path, display: &str) -> Result<Vec<u8>, WaveError> {
    std::fs::read(path).map_err(|error| {
        if error.kind() == std::io::ErrorKind::NotFound {
            WaveError::Missing {
                file: display.to_string(),
                message: "does not exist".to_string(),
            }
        } else {
            WaveError::Missing {
                file: display.to_string(),
                message: format!("cannot be read: {error}"),
            }
        }
    })
}

/// The manifest of an earlier output, with its SHA-256; refused when it is not redress's or is of
/// another incident or currency.
fn earlier_manifest(
    incident: &Incident,
    dir: &Path,
) -> Result<(EarlierManifest, String, String), WaveError> {
    let shown = dir.display().to_string();
    let manifest_path = dir.join("manifest.json");
    let display = manifest_path.display().to_string();
    let bytes = read_bytes(&manifest_path, &display)?;
    let sha256 = sha256_bytes(&bytes);
    let not_an_output = "--previous takes the --out directory of an earlier `redress run`";
    let manifest: EarlierManifest =
        serde_json::from_slice(&bytes).map_err(|error| WaveError::Bad {
            file: display.clone(),
            message: format!("is not a redress manifest: {error}"),
            hint: not_an_output.to_string(),
        })?;
    if manifest.tool != "redress" {
        return Err(WaveError::Bad {
            file: display,
            message: format!("was written by `{}`, not redress", manifest.tool),
            hint: not_an_output.to_string(),
        });
    }
    if manifest.incident_id != incident.id {
        return Err(WaveError::Usage {
            what: format!("--previous {shown}"),
            message: format!(
                "is the output of incident `{}`, not `{}`",
                manifest.incident_id, incident.id
            ),
            hint: "a supplementary run nets only against earlier runs of the same incident id"
                .to_string(),
        });
    }
    if manifest.currency != incident.currency.code {
        return Err(WaveError::Usage {
            what: format!("--previous {shown}"),
            message: format!(
                "paid in {}, this incident in {}",
                manifest.currency, incident.currency.code
            ),
            hint: "the incident's currency must not change between waves".to_string(),
        });
    }
    Ok((manifest, sha256, display))
}

/// Every output the manifest lists, re-hashed against its record; the bytes of the [`LEDGERS`]
/// (by name, with their display path).
fn verified_ledgers(
    dir: &Path,
    manifest: &EarlierManifest,
    manifest_display: &str,
) -> Result<BTreeMap<String, (String, Vec<u8>)>, WaveError> {
    let shown = dir.display().to_string();
    let unchanged = "pass the --out directory of a `redress run`, unchanged";
    let hashes = manifest.output_sha256.as_ref().ok_or_else(|| WaveError::Bad {
        file: manifest_display.to_string(),
        message: "records no SHA-256 of its outputs, so what it paid cannot be verified".to_string(),
        hint: "run that wave again with this redress version (the same data and incident give the same refunds) and pass that output, or give what it paid as --paid".to_string(),
    })?;
    if let Some(required) = LEDGERS.iter().find(|name| !hashes.contains_key(**name)) {
        return Err(WaveError::Bad {
            file: manifest_display.to_string(),
            message: format!("records no SHA-256 of {required}"),
            hint: unchanged.to_string(),
        });
    }
    let mut contents = BTreeMap::new();
    for (relative, expected) in hashes {
        let path = safe_join(dir, relative).ok_or_else(|| WaveError::Bad {
            file: manifest_display.to_string(),
            message: format!("names the output `{relative}`, which is not a path inside {shown}"),
            hint: unchanged.to_string(),
        })?;
        let display = path.display().to_string();
        let bytes = read_bytes(&path, &display)?;
        let actual = sha256_bytes(&bytes);
        if &actual != expected {
            return Err(WaveError::Bad {
                file: display,
                message: format!(
                    "was changed after redress wrote it: its SHA-256 is {actual}, the manifest records {expected}"
                ),
                hint: "restore that wave's output as it was written; what it paid is read from it"
                    .to_string(),
            });
        }
        if LEDGERS.contains(&relative.as_str()) {
            contents.insert(relative.clone(), (display, bytes));
        }
    }
    Ok(contents)
}

/// An earlier ledger that does not reconcile with its own manifest.
fn unreconciled(file: &str, message: String) -> WaveError {
    WaveError::Bad {
        file: file.to_string(),
        message,
        hint: "this output does not reconcile with its own manifest; restore it as written"
            .to_string(),
    }
}

/// refunds.csv against the manifest's control totals (rows, Σ refund_total, Σ paid); returns Σ paid.
fn reconcile_refunds(
    file: &str,
    accounts: &RefundsPaid,
    totals: &EarlierTotals,
    currency: Currency,
) -> Result<Money, WaveError> {
    let rows = accounts.len() as u64;
    let total = Money::sum(
        accounts.values().map(|(_, (_, total))| *total),
        currency.digits,
        "an earlier wave's refund_total",
    )
    .map_err(|error| overflow(file, error))?;
    let paid = Money::sum(
        accounts.values().map(|(_, (paid, _))| *paid),
        currency.digits,
        "an earlier wave's payments",
    )
    .map_err(|error| overflow(file, error))?;
    let expected_paid = totals
        .waves
        .as_ref()
        .map_or(totals.refund_total, |waves| waves.supplement);
    if rows != totals.accounts_affected
        || total.minor() != totals.refund_total
        || paid.minor() != expected_paid
    {
        return Err(unreconciled(
            file,
            format!(
                "holds {rows} accounts, refund_total {} and paid {} (minor units); its manifest's control totals say {} accounts, {} and {expected_paid}",
                total.minor(),
                paid.minor(),
                totals.accounts_affected,
                totals.refund_total
            ),
        ));
    }
    Ok(paid)
}

/// Reads and verifies one `--previous` directory.
pub fn previous_run(incident: &Incident, dir: &Path) -> Result<PreviousRun, WaveError> {
    let (manifest, manifest_sha256, manifest_display) = earlier_manifest(incident, dir)?;
    let contents = verified_ledgers(dir, &manifest, &manifest_display)?;
    let ledger = |name: &str| {
        contents.get(name).ok_or_else(|| {
            WaveError::Internal(format!(
                "{name} of {} was verified but not kept",
                dir.display()
            ))
        })
    };
    let currency = incident.currency;
    let totals = &manifest.control_totals;
    let (refunds_display, refunds_bytes) = ledger("refunds.csv")?;
    let accounts = refunds_paid(refunds_display, refunds_bytes, currency)?;
    let paid_total = reconcile_refunds(refunds_display, &accounts, totals, currency)?;
    let (corrections_display, corrections_bytes) = ledger("payouts/bill_corrections.csv")?;
    let corrections = corrections(corrections_display, corrections_bytes, currency)?;
    let corrected = Money::sum(
        corrections.values().copied(),
        currency.digits,
        "earlier corrections",
    )
    .map_err(|error| overflow(corrections_display, error))?
    .minor();
    if corrected != totals.bill_corrections.amount {
        return Err(unreconciled(
            corrections_display,
            format!(
                "totals {corrected} (minor units); its manifest's control totals say {}",
                totals.bill_corrections.amount
            ),
        ));
    }
    let (invoices_display, invoices_bytes) = ledger("invoices.csv")?;
    let refunded = refunded_invoices(invoices_display, invoices_bytes, currency)?;
    let accounts: BTreeMap<String, (String, Money)> = accounts
        .into_iter()
        .map(|(account, (refund_id, (paid, _)))| (account, (refund_id, paid)))
        .collect();
    Ok(PreviousRun {
        entry: PreviousEntry {
            sequence: manifest.wave.as_ref().map_or(1, |wave| wave.sequence),
            dir: dir.display().to_string(),
            manifest_sha256,
            refund_date: manifest.refund_date,
            accounts_paid: accounts
                .values()
                .filter(|(_, paid)| paid.is_positive())
                .count() as u64,
            amount_minor: paid_total.minor(),
        },
        chain: manifest.wave,
        refunds_sha256: sha256_bytes(refunds_bytes),
        accounts,
        corrections,
        refunded,
    })
}

fn overflow(file: &str, error: money::Overflow) -> WaveError {
    WaveError::Bad {
        file: file.to_string(),
        message: error.to_string(),
        hint: "restore that wave's output as it was written".to_string(),
    }
}

/// `dir/relative` when `relative` stays inside `dir` (plain components only).
fn safe_join(dir: &Path, relative: &str) -> Option<PathBuf> {
    let path = Path::new(relative);
    path.components()
        .all(|part| matches!(part, std::path::Component::Normal(_)))
        .then(|| dir.join(path))
}

/// A CSV reader over UTF-8 bytes (a byte-order mark is skipped).
fn csv_reader(bytes: &[u8]) -> csv::Reader<&[u8]> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(bytes)
}

fn column(headers: &csv::StringRecord, name: &str) -> Option<usize> {
    headers.iter().position(|header| header == name)
}

/// An earlier ledger's problem: a file redress wrote and its manifest vouches for.
fn ledger_problem(file: &str, message: String) -> WaveError {
    WaveError::Bad {
        file: file.to_string(),
        message,
        hint: "pass the --out directory of a `redress run`, unchanged".to_string(),
    }
}

/// The rows of an earlier run's ledger, with the positions of the columns it must have; each cell
/// read names the file, row and column when it is not what redress writes.
struct LedgerRows<'a> {
    file: &'a str,
    headers: csv::StringRecord,
    reader: csv::Reader<&'a [u8]>,
}

/// One row of an earlier ledger.
struct LedgerRow<'a> {
    file: &'a str,
    row: usize,
    record: csv::StringRecord,
}

impl<'a> LedgerRows<'a> {
    fn open(file: &'a str, bytes: &'a [u8]) -> Result<LedgerRows<'a>, WaveError> {
        let mut reader = csv_reader(bytes);
        let headers = reader
            .headers()
            .map_err(|error| ledger_problem(file, format!("header: {error}")))?
            .clone();
        Ok(LedgerRows {
            file,
            headers,
            reader,
        })
    }

    /// The positions of `names`, each required.
    fn columns<const N: usize>(&self, names: [&str; N]) -> Result<[usize; N], WaveError> {
        let mut positions = [0; N];
        for (position, name) in positions.iter_mut().zip(names) {
            *position = column(&self.headers, name)
                .ok_or_else(|| ledger_problem(self.file, format!("has no column `{name}`")))?;
        }
        Ok(positions)
    }

    fn optional(&self, name: &str) -> Option<usize> {
        column(&self.headers, name)
    }

    fn rows(&mut self) -> impl Iterator<Item = Result<LedgerRow<'a>, WaveError>> + '_ {
        let file = self.file;
        self.reader
            .records()
            .enumerate()
            .map(move |(index, record)| {
                let row = index.saturating_add(1);
                record
                    .map(|record| LedgerRow { file, row, record })
                    .map_err(|error| ledger_problem(file, format!("row {row}: {error}")))
            })
    }
}

impl LedgerRow<'_> {
    fn text(&self, at: usize) -> &str {
        self.record.get(at).unwrap_or("")
    }

    fn money(&self, at: usize, name: &str, currency: Currency) -> Result<Money, WaveError> {
        let text = self.text(at);
        money::parse_minor(text, currency.digits)
            .map(|minor| currency.money(minor))
            .map_err(|_| {
                ledger_problem(
                    self.file,
                    format!(
                        "row {}, column `{name}`: `{text}` is not an amount",
                        self.row
                    ),
                )
            })
    }

    fn month(&self, at: usize) -> Result<Month, WaveError> {
        let text = self.text(at);
        Month::parse(text).ok_or_else(|| {
            ledger_problem(
                self.file,
                format!(
                    "row {}, column `billing_month`: `{text}` is not YYYY-MM",
                    self.row
                ),
            )
        })
    }
}

type RefundsPaid = BTreeMap<String, (String, (Money, Money))>;

/// refunds.csv: account_id → (refund_id, (paid in that wave, refund_total)). A first run paid its
/// refund_total; a supplementary run its `supplement`.
fn refunds_paid(file: &str, bytes: &[u8], currency: Currency) -> Result<RefundsPaid, WaveError> {
    let mut ledger = LedgerRows::open(file, bytes)?;
    let [account, refund_id, total] =
        ledger.columns(["account_id", "refund_id", "refund_total"])?;
    let supplement = ledger.optional("supplement");
    let mut accounts = BTreeMap::new();
    for row in ledger.rows() {
        let row = row?;
        let refund_total = row.money(total, "refund_total", currency)?;
        let paid = match supplement {
            Some(at) => row.money(at, "supplement", currency)?,
            None => refund_total,
        };
        let account_id = row.text(account).to_string();
        let id = row.text(refund_id).to_string();
        if accounts
            .insert(account_id.clone(), (id, (paid, refund_total)))
            .is_some()
        {
            return Err(ledger_problem(
                file,
                format!("row {}: account `{account_id}` is listed twice", row.row),
            ));
        }
    }
    Ok(accounts)
}

/// bill_corrections.csv: (account_id, billing_month) → amount.
fn corrections(
    file: &str,
    bytes: &[u8],
    currency: Currency,
) -> Result<BTreeMap<(String, Month), Money>, WaveError> {
    let mut ledger = LedgerRows::open(file, bytes)?;
    let [account, month, amount] = ledger.columns(["account_id", "billing_month", "amount"])?;
    let mut corrections = BTreeMap::new();
    for row in ledger.rows() {
        let row = row?;
        let key = (row.text(account).to_string(), row.month(month)?);
        let value = row.money(amount, "amount", currency)?;
        let entry: &mut Money = corrections.entry(key).or_insert(currency.zero());
        *entry = entry
            .checked_add(value)
            .ok_or_else(|| overflow(file, money::Overflow("earlier corrections")))?;
    }
    Ok(corrections)
}

/// invoices.csv: (account_id, billing_month) → X of each paid over-billed invoice.
fn refunded_invoices(
    file: &str,
    bytes: &[u8],
    currency: Currency,
) -> Result<BTreeMap<(String, Month), Money>, WaveError> {
    let mut ledger = LedgerRows::open(file, bytes)?;
    let [account, month, class, principal, tax, paid_on] = ledger.columns([
        "account_id",
        "billing_month",
        "class",
        "principal",
        "tax",
        "paid_on",
    ])?;
    let mut refunded = BTreeMap::new();
    for row in ledger.rows() {
        let row = row?;
        if row.text(class) != "overbilled" || row.text(paid_on).is_empty() {
            continue;
        }
        let excess = row
            .money(principal, "principal", currency)?
            .checked_add(row.money(tax, "tax", currency)?)
            .ok_or_else(|| overflow(file, money::Overflow("an earlier invoice")))?;
        refunded.insert((row.text(account).to_string(), row.month(month)?), excess);
    }
    Ok(refunded)
}

/// A problem in a paid file: the user's input, named by file, row, column and value.
fn paid_problem(file: &str, row: u64, column: &str, value: &str, expected: &str) -> WaveError {
    WaveError::Bad {
        file: file.to_string(),
        message: format!("row {row}, column `{column}`: value `{value}` {expected}"),
        hint: "fix the row; a paid file has the columns account_id (or refund_id), amount, paid_on, channel".to_string(),
    }
}

/// A paid file's text in the run's encoding.
fn decode(raw: &[u8], encoding: Encoding, display: &str) -> Result<String, WaveError> {
    match encoding {
        Encoding::Utf8 => std::str::from_utf8(raw)
            .map(str::to_string)
            .map_err(|error| WaveError::Bad {
                file: display.to_string(),
                message: format!("is not UTF-8 ({error})"),
                hint: "save it as UTF-8, or pass --encoding cp932 for a Shift_JIS file".to_string(),
            }),
        Encoding::Cp932 => {
            let (text, _, bad) = encoding_rs::SHIFT_JIS.decode(raw);
            if bad {
                return Err(WaveError::Bad {
                    file: display.to_string(),
                    message: "holds bytes that are not CP932 (Shift_JIS)".to_string(),
                    hint: "check the file's encoding; without --encoding cp932 it is read as UTF-8"
                        .to_string(),
                });
            }
            Ok(text.into_owned())
        }
    }
}

/// The positions of a paid file's columns (account_id or refund_id, or both).
struct PaidColumns {
    account: Option<usize>,
    refund_id: Option<usize>,
    amount: usize,
    paid_on: usize,
    channel: usize,
}

impl PaidColumns {
    fn of(headers: &csv::StringRecord, display: &str) -> Result<PaidColumns, WaveError> {
        let missing = |name: &str| WaveError::Bad {
            file: display.to_string(),
            message: format!("has no column `{name}`"),
            hint: "a paid file has the columns account_id (or refund_id), amount, paid_on, channel"
                .to_string(),
        };
        let account = column(headers, "account_id");
        let refund_id = column(headers, "refund_id");
        if account.is_none() && refund_id.is_none() {
            return Err(missing("account_id"));
        }
        Ok(PaidColumns {
            account,
            refund_id,
            amount: column(headers, "amount").ok_or_else(|| missing("amount"))?,
            paid_on: column(headers, "paid_on").ok_or_else(|| missing("paid_on"))?,
            channel: column(headers, "channel").ok_or_else(|| missing("channel"))?,
        })
    }
}

/// One validated row of a paid file.
fn paid_row(
    record: &csv::StringRecord,
    row: u64,
    columns: &PaidColumns,
    display: &str,
    currency: Currency,
) -> Result<PaidRow, WaveError> {
    let problem = |column: &str, value: &str, expected: &str| {
        paid_problem(display, row, column, value, expected)
    };
    let cell = |at: Option<usize>| {
        at.and_then(|at| record.get(at))
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .map(str::to_string)
    };
    let (account_id, refund_id) = (cell(columns.account), cell(columns.refund_id));
    if account_id.is_none() && refund_id.is_none() {
        let name = if columns.account.is_some() {
            "account_id"
        } else {
            "refund_id"
        };
        return Err(problem(name, "", "is empty: name the account paid"));
    }
    if let Some(id) = &refund_id
        && (id.len() != 16
            || !id
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
    {
        return Err(problem(
            "refund_id",
            id,
            "is not a refund_id (16 lower-case hex digits)",
        ));
    }
    let text = record.get(columns.amount).unwrap_or("");
    let amount = match money::parse_minor(text, currency.digits) {
        Ok(minor) if minor > 0 => currency.money(minor),
        Ok(_) => {
            return Err(problem(
                "amount",
                text,
                "is not positive: list only refunds actually paid",
            ));
        }
        Err(money::NumberProblem::NotWhole) => {
            return Err(problem(
                "amount",
                text,
                &format!("is not whole in the minor unit of {}", currency.code),
            ));
        }
        Err(_) => {
            return Err(problem(
                "amount",
                text,
                "is not an amount (digits and an optional decimal point; no separators or currency signs)",
            ));
        }
    };
    let text = record.get(columns.paid_on).unwrap_or("");
    let paid_on = money::parse_date(text)
        .ok_or_else(|| problem("paid_on", text, "is not a date (YYYY-MM-DD)"))?;
    let channel = record.get(columns.channel).unwrap_or("");
    if !PAID_CHANNELS.contains(&channel) {
        return Err(problem(
            "channel",
            channel,
            &format!("is not one of {}", PAID_CHANNELS.join(", ")),
        ));
    }
    Ok(PaidRow {
        row,
        account_id,
        refund_id,
        amount,
        paid_on,
        channel: channel.to_string(),
    })
}

/// Reads and validates one `--paid` file.
pub fn paid_file(
    path: &Path,
    encoding: Encoding,
    currency: Currency,
) -> Result<PaidFile, WaveError> {
    let display = path.display().to_string();
    let raw = read_bytes(path, &display)?;
    let text = decode(&raw, encoding, &display)?;
    let mut reader = csv_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|error| WaveError::Bad {
            file: display.clone(),
            message: format!("header: {error}"),
            hint: "the first line names the columns".to_string(),
        })?
        .clone();
    let columns = PaidColumns::of(&headers, &display)?;
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let row = (index as u64).saturating_add(1);
        let record = record.map_err(|error| WaveError::Bad {
            file: display.clone(),
            message: format!("row {row}: {error}"),
            hint: "every row has as many fields as the header".to_string(),
        })?;
        rows.push(paid_row(&record, row, &columns, &display, currency)?);
    }
    let total = Money::sum(
        rows.iter().map(|row| row.amount),
        currency.digits,
        "a paid file's total",
    )
    .map_err(|error| overflow(&display, error))?;
    Ok(PaidFile {
        path: path.to_path_buf(),
        sha256: sha256_bytes(&raw),
        display,
        rows,
        total,
    })
}
