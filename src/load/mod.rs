//! Input tables: finding the files, scanning them with polars, and typing every column with
//! vectorised polars expressions (`typed`). A bad cell is flagged, never silently dropped or
//! coerced; only rows already known to be bad are read again as text and described with file, row,
//! column and value (`describe`).
//!
//! Owns: `accounts`, `charges`, `events` as lazy frames with typed columns. Must never round money
//! or accept binary floating point where a decimal is expected.

pub(crate) mod describe;
mod reader;
mod shape;

pub use shape::{CsvShape, ShapeProblem, check_bytes as check_csv_bytes};
mod typed;

pub use describe::{describe_problems, raw_rows};
pub use typed::{
    Part, RATE_SCALE, any_problem, month_index, parts, problem_name, rate_dtype, rate_literal,
    typed_frame, typed_frame_of, typed_frame_part,
};

use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;

/// Name of the per-file row index column (1-based data row).
pub const ROW: &str = "__row";
/// Name of the file index column (index into [`Table::files`]).
pub const FILE: &str = "__file";

/// A load problem that stops the run.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("input missing: {message}")]
    Missing { message: String },
    #[error("bad input: {message}")]
    Bad { message: String },
    #[error(
        "bad input: {count} problem(s) in the data (showing the first {shown}):\n{listing}\nhint: fix the rows, or run with `--on-bad-rows reject` to set them aside in rejects.csv and send their accounts to review"
    )]
    Rows {
        count: String,
        shown: usize,
        listing: String,
    },
    /// polars failed while combining or reading back rows already loaded.
    #[error("polars failed {what}")]
    Engine { what: String, source: PolarsError },
    #[error("cannot read `{file}`")]
    Read {
        file: String,
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// The scratch space (a UTF-8 copy of a CP932 file) cannot be written: not the data's fault.
    #[error(
        "cannot write the scratch copy of `{file}` in `{dir}`: {message}\nhint: free space in the temporary directory or point TMPDIR elsewhere"
    )]
    Scratch {
        file: String,
        dir: String,
        message: String,
    },
}

/// Text encoding of CSV inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    #[default]
    Utf8,
    Cp932,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Str,
    Date,
    Month,
    Int,
    Money,
    Rate,
}

impl ColumnKind {
    pub(crate) fn expected(self) -> &'static str {
        match self {
            ColumnKind::Str => "text",
            ColumnKind::Date => "a date YYYY-MM-DD",
            ColumnKind::Month => "a month YYYY-MM",
            ColumnKind::Int => "a whole number",
            ColumnKind::Money => "an exact decimal amount such as `1234` or `1234.00`",
            ColumnKind::Rate => "a decimal rate such as `0.1`",
        }
    }

    /// The polars type of the column once parsed.
    pub fn dtype(self) -> DataType {
        match self {
            ColumnKind::Str => DataType::String,
            ColumnKind::Rate => rate_dtype(),
            ColumnKind::Date => DataType::Date,
            ColumnKind::Month => DataType::Int32,
            ColumnKind::Int | ColumnKind::Money => DataType::Int64,
        }
    }
}

/// Extra constraints on a column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    None,
    /// Must be ≥ 0.
    NonNegative,
    /// A rate with 0 ≤ r < 1.
    Fraction,
    /// One of a fixed list of words.
    OneOf(&'static [&'static str]),
}

#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    pub name: &'static str,
    pub kind: ColumnKind,
    pub required: bool,
    pub check: Check,
}

const fn column(name: &'static str, kind: ColumnKind, required: bool, check: Check) -> ColumnSpec {
    ColumnSpec {
        name,
        kind,
        required,
        check,
    }
}

use ColumnKind as K;

use crate::model::{Language, Status};

pub const ACCOUNT_COLUMNS: &[ColumnSpec] = &[
    column("account_id", K::Str, true, Check::None),
    column("holder_name", K::Str, true, Check::None),
    column("postal_code", K::Str, false, Check::None),
    column("address", K::Str, false, Check::None),
    column("email", K::Str, false, Check::None),
    column("language", K::Str, false, Check::OneOf(Language::CODES)),
    column("region", K::Str, false, Check::None),
    column("plan", K::Str, false, Check::None),
    column("customer_type", K::Str, false, Check::None),
    column("opened_on", K::Date, false, Check::None),
    column("status", K::Str, true, Check::OneOf(Status::CODES)),
    column("closed_on", K::Date, false, Check::None),
    column("bank_code", K::Str, false, Check::None),
    column("branch_code", K::Str, false, Check::None),
    column("bank_account_type", K::Str, false, Check::None),
    column("bank_account_number", K::Str, false, Check::None),
    column("bank_account_holder_kana", K::Str, false, Check::None),
];

pub const CHARGE_COLUMNS: &[ColumnSpec] = &[
    column("account_id", K::Str, true, Check::None),
    column("billing_month", K::Month, true, Check::None),
    column("period_start", K::Date, true, Check::None),
    column("period_end", K::Date, true, Check::None),
    column("item", K::Str, true, Check::None),
    column("quantity", K::Int, true, Check::NonNegative),
    column("unit_price", K::Money, true, Check::None),
    column("list_amount", K::Money, false, Check::None),
    column("discount_rate", K::Rate, false, Check::Fraction),
    column("amount", K::Money, true, Check::None),
    column("tax_rate", K::Rate, true, Check::Fraction),
    column("paid_on", K::Date, false, Check::None),
];

pub const EVENT_COLUMNS: &[ColumnSpec] = &[
    column("account_id", K::Str, true, Check::None),
    column("kind", K::Str, true, Check::None),
    column("date", K::Date, true, Check::None),
    column("detail", K::Str, false, Check::None),
    column("quantity", K::Int, false, Check::NonNegative),
];

/// Why a cell or a row is bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    Missing,
    Format,
    NotWhole,
    Range,
    NotAllowed,
    PeriodOrder,
    UnknownAccount,
    DuplicateAccount,
    QuantityRequired,
}

impl Problem {
    /// Stable reason code written to rejects.csv.
    pub fn code(self) -> &'static str {
        match self {
            Problem::Missing => "missing_value",
            Problem::Format => "bad_format",
            Problem::NotWhole => "not_whole_minor_unit",
            Problem::Range => "out_of_range",
            Problem::NotAllowed => "value_not_allowed",
            Problem::PeriodOrder => "period_start_after_period_end",
            Problem::UnknownAccount => "unknown_account",
            Problem::DuplicateAccount => "duplicate_account_id",
            Problem::QuantityRequired => "equipment_count_without_quantity",
        }
    }
}

/// One bad cell (or row), located exactly.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RowProblem {
    pub file: String,
    /// 1-based data row (the header is not counted).
    pub row: u64,
    pub column: String,
    pub value: Option<String>,
    pub reason: String,
    pub message: String,
    /// The row's account_id, when it could be read.
    pub account_id: Option<String>,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = match &self.value {
            Some(value) => format!("`{value}`"),
            None => "(empty)".to_string(),
        };
        if self.column.is_empty() {
            // A row-level problem (its structure): no one cell to show.
            return write!(f, "  {} row {}: {}", self.file, self.row, self.message);
        }
        write!(
            f,
            "  {} row {}, column `{}`, value {}: {}",
            self.file, self.row, self.column, value, self.message
        )
    }
}

/// One input file of a table.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// As shown to users: relative to `--data`.
    pub display: String,
    pub path: PathBuf,
    pub format: Format,
    /// A UTF-8 copy of a CP932 CSV, when transcoded.
    pub scan_path: PathBuf,
    /// A CSV file's structure, checked when it was found.
    pub shape: Option<std::sync::Arc<shape::CsvShape>>,
    /// Size and modification time when the file was found: the run must end with the same.
    pub stamp: FileStamp,
}

/// What tells that a file changed: its size and modification time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStamp {
    pub len: u64,
    pub modified: Option<std::time::SystemTime>,
}

impl FileStamp {
    pub fn of(path: &Path) -> std::io::Result<FileStamp> {
        let metadata = std::fs::metadata(path)?;
        Ok(FileStamp {
            len: metadata.len(),
            modified: metadata.modified().ok(),
        })
    }
}

/// Refuses a run whose inputs changed after they were found: the hashes and row counts in the
/// manifest would describe data the ledger was not computed from.
pub fn verify_unchanged(table: &Table) -> Result<(), LoadError> {
    for file in &table.files {
        let now = FileStamp::of(&file.path).map_err(|error| LoadError::Read {
            file: file.display.clone(),
            source: error.into(),
        })?;
        if now != file.stamp {
            let sizes = if now.len == file.stamp.len {
                format!("{} bytes, modified again", now.len)
            } else {
                format!("{} → {} bytes", file.stamp.len, now.len)
            };
            return Err(LoadError::Bad {
                message: format!(
                    "`{}` changed while redress was reading it ({sizes}); nothing was written\nhint: run on a copy of the export that nothing writes to",
                    file.display
                ),
            });
        }
    }
    Ok(())
}

/// A table's files and its columns.
#[derive(Debug, Clone)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [ColumnSpec],
    pub files: Vec<InputFile>,
}

/// Finds a table as `NAME.parquet`, `NAME.csv` or a directory `NAME/` of such files.
pub fn discover(
    data_dir: &Path,
    name: &'static str,
    columns: &'static [ColumnSpec],
    encoding: Encoding,
    scratch: &Path,
) -> Result<Table, LoadError> {
    let (_, paths) = table_files(data_dir, name)?;
    let mut files = Vec::with_capacity(paths.len());
    for (index, path) in paths.into_iter().enumerate() {
        files.push(input_file(data_dir, name, index, path, encoding, scratch)?);
    }
    Ok(Table {
        name,
        columns,
        files,
    })
}

/// Where table `name` is in `data_dir` (`NAME.parquet`, `NAME.csv` or `NAME/`) and its files (a
/// directory's, sorted): exactly one of them, no FIFO, socket or device, no subdirectory.
pub fn table_files(data_dir: &Path, name: &str) -> Result<(PathBuf, Vec<PathBuf>), LoadError> {
    let chosen = table_path(data_dir, name)?;
    refuse_special(data_dir, &chosen)?;
    let paths = if chosen.is_dir() {
        directory_files(data_dir, &chosen)?
    } else {
        vec![chosen.clone()]
    };
    Ok((chosen, paths))
}

/// The one of `NAME.parquet`, `NAME.csv`, `NAME/` that exists.
fn table_path(data_dir: &Path, name: &str) -> Result<PathBuf, LoadError> {
    if !data_dir.is_dir() {
        return Err(LoadError::Missing {
            message: format!(
                "data directory `{}` does not exist or is not a directory",
                data_dir.display()
            ),
        });
    }
    let candidates = [
        data_dir.join(format!("{name}.parquet")),
        data_dir.join(format!("{name}.csv")),
        data_dir.join(name),
    ];
    let present: Vec<&PathBuf> = candidates.iter().filter(|path| path.exists()).collect();
    match present.as_slice() {
        [] => Err(LoadError::Missing {
            message: format!(
                "table `{name}` not found in `{}`\nhint: provide `{name}.csv`, `{name}.parquet` or a directory `{name}/` of such files",
                data_dir.display()
            ),
        }),
        [one] => Ok((*one).clone()),
        several => {
            let names: Vec<String> = several
                .iter()
                .map(|path| format!("`{}`", display_name(data_dir, path)))
                .collect();
            Err(LoadError::Bad {
                message: format!(
                    "table `{name}` is given more than once: {}\nhint: keep exactly one of them",
                    names.join(" and ")
                ),
            })
        }
    }
}

/// The CSV and Parquet files directly inside a table directory, sorted; anything else there
/// (but hidden files) is refused.
fn directory_files(data_dir: &Path, dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let read_error = |error: std::io::Error| LoadError::Read {
        file: display_name(data_dir, dir),
        source: error.into(),
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let entry = entry.map_err(read_error)?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        refuse_special(data_dir, &path)?;
        if path.is_dir() {
            return Err(LoadError::Bad {
                message: format!(
                    "`{}` is a directory inside a table directory\nhint: redress reads only the files directly inside `{}`; move the files up or the directory out",
                    display_name(data_dir, &path),
                    display_name(data_dir, dir)
                ),
            });
        }
        if format_of(&path).is_none() {
            return Err(LoadError::Bad {
                message: format!(
                    "`{}` is neither .csv nor .parquet\nhint: a table directory holds only the table's CSV or Parquet files",
                    display_name(data_dir, &path)
                ),
            });
        }
        paths.push(path);
    }
    paths.sort();
    if paths.is_empty() {
        return Err(LoadError::Missing {
            message: format!(
                "table directory `{}` holds no .csv or .parquet file",
                display_name(data_dir, dir)
            ),
        });
    }
    Ok(paths)
}

/// One input file: its stamp, a UTF-8 copy when it is CP932, and a CSV file's structure.
fn input_file(
    data_dir: &Path,
    name: &str,
    index: usize,
    path: PathBuf,
    encoding: Encoding,
    scratch: &Path,
) -> Result<InputFile, LoadError> {
    let format = format_of(&path).unwrap_or(Format::Csv);
    let display = display_name(data_dir, &path);
    // Taken before the first read, so that a change during transcoding is caught too.
    let stamp = FileStamp::of(&path).map_err(|error| LoadError::Read {
        file: display.clone(),
        source: error.into(),
    })?;
    let scan_path = if format == Format::Csv && encoding == Encoding::Cp932 {
        let target = scratch.join(format!("{name}-{index}.utf8.csv"));
        transcode_cp932(&path, &target, &display)?;
        target
    } else {
        path.clone()
    };
    let shape = match format {
        Format::Csv => Some(std::sync::Arc::new(shape::check(&scan_path, &display)?)),
        Format::Parquet => None,
    };
    Ok(InputFile {
        display,
        path,
        format,
        scan_path,
        shape,
        stamp,
    })
}

/// A FIFO, socket or device as an input would block or never end: refused at once.
fn refuse_special(data_dir: &Path, path: &Path) -> Result<(), LoadError> {
    let metadata = std::fs::metadata(path).map_err(|error| LoadError::Read {
        file: display_name(data_dir, path),
        source: error.into(),
    })?;
    if metadata.is_file() || metadata.is_dir() {
        return Ok(());
    }
    Err(LoadError::Missing {
        message: format!(
            "`{}` is not a regular file (a FIFO, socket or device)\nhint: write the export to a regular file and point --data at it",
            display_name(data_dir, path)
        ),
    })
}

fn format_of(path: &Path) -> Option<Format> {
    match path.extension().and_then(|extension| extension.to_str()) {
        Some("csv") => Some(Format::Csv),
        Some("parquet") => Some(Format::Parquet),
        _ => None,
    }
}

fn display_name(data_dir: &Path, path: &Path) -> String {
    path.strip_prefix(data_dir)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Writes a UTF-8 copy of a CP932 (Shift_JIS) file; refuses bytes that are not CP932.
fn transcode_cp932(source: &Path, target: &Path, display: &str) -> Result<(), LoadError> {
    let read_error = |error: std::io::Error| LoadError::Read {
        file: display.to_string(),
        source: error.into(),
    };
    let write_error = |error: std::io::Error| LoadError::Scratch {
        file: display.to_string(),
        dir: target
            .parent()
            .map(|dir| dir.display().to_string())
            .unwrap_or_default(),
        message: error.to_string(),
    };
    let mut input = std::fs::File::open(source).map_err(read_error)?;
    let mut output = std::io::BufWriter::new(std::fs::File::create(target).map_err(write_error)?);
    let mut decoder = encoding_rs::SHIFT_JIS.new_decoder_without_bom_handling();
    let mut buffer = vec![0u8; 1 << 20];
    let mut text = String::with_capacity(1 << 21);
    let mut line = 1u64;
    loop {
        let read = input.read(&mut buffer).map_err(read_error)?;
        let last = read == 0;
        let mut consumed = 0;
        loop {
            text.clear();
            let (result, used) = decoder.decode_to_string_without_replacement(
                &buffer[consumed..read],
                &mut text,
                last,
            );
            consumed += used;
            line += text.matches('\n').count() as u64;
            output.write_all(text.as_bytes()).map_err(write_error)?;
            match result {
                encoding_rs::DecoderResult::InputEmpty => break,
                encoding_rs::DecoderResult::OutputFull => {
                    text.reserve(1 << 20);
                }
                encoding_rs::DecoderResult::Malformed(_, _) => {
                    return Err(LoadError::Bad {
                        message: format!(
                            "`{display}` line {line}: bytes that are not CP932 (Shift_JIS)\nhint: check the export's encoding; without `--encoding cp932` the file is read as UTF-8"
                        ),
                    });
                }
            }
        }
        if last {
            break;
        }
    }
    output.flush().map_err(write_error)
}

/// A file scanned by polars, with its columns checked against the table's specification.
pub(crate) struct ScannedFile {
    frame: LazyFrame,
    pub(crate) schema: SchemaRef,
}

impl ScannedFile {
    /// Every row, in file order.
    pub(crate) fn frame(self) -> PolarsResult<LazyFrame> {
        Ok(self.frame)
    }

    /// Every row in file order, numbered from 1 in column `name`.
    pub(crate) fn numbered(self, name: &str) -> PolarsResult<LazyFrame> {
        Ok(self.frame.with_row_index(name, Some(1)))
    }
}

/// A CSV reader with the options every read of `file` shares.
fn csv_reader(reader: LazyCsvReader, shape: Option<&CsvShape>) -> LazyCsvReader {
    // Rows with too many fields or bytes that are not UTF-8 were found by `shape` and are
    // flagged; polars reads past them rather than stopping at them.
    reader
        .with_truncate_ragged_lines(shape.is_some_and(CsvShape::has_long_rows))
        .with_encoding(if shape.is_some_and(CsvShape::has_invalid_utf8) {
            CsvEncoding::LossyUtf8
        } else {
            CsvEncoding::Utf8
        })
        .with_infer_schema_length(Some(0))
        .with_glob(false)
        .with_raise_if_empty(false)
}

/// A file as polars scans it. redress reads CSV with its own typed reader (`reader`); polars'
/// reading of a CSV file is what that reader is tested against.
pub(crate) fn scan(table: &Table, file: &InputFile) -> Result<ScannedFile, LoadError> {
    let polars_error = |error: PolarsError| LoadError::Read {
        file: file.display.clone(),
        source: error.into(),
    };
    let path = PlRefPath::from(file.scan_path.to_string_lossy().as_ref());
    let mut frame = match file.format {
        Format::Csv => csv_reader(LazyCsvReader::new(path), file.shape.as_deref())
            .with_has_header(true)
            .finish()
            .map_err(polars_error)?,
        Format::Parquet => {
            let args = ScanArgsParquet {
                glob: false,
                ..Default::default()
            };
            LazyFrame::scan_parquet(path, args).map_err(polars_error)?
        }
    };
    let schema = frame.collect_schema().map_err(polars_error)?;
    check_columns(table, file, &schema)?;
    Ok(ScannedFile { frame, schema })
}

/// The columns of `file` (its `schema`) against the table's specification: every required column
/// present, every column of a type it may have.
pub(crate) fn check_columns(
    table: &Table,
    file: &InputFile,
    schema: &Schema,
) -> Result<(), LoadError> {
    for spec in table.columns {
        match schema.get(spec.name) {
            None if spec.required => {
                return Err(LoadError::Bad {
                    message: format!(
                        "`{}` has no column `{}` (required in table `{}`)\nhint: column names are exact and lower case; found: {}",
                        file.display,
                        spec.name,
                        table.name,
                        schema
                            .iter_names()
                            .map(|name| format!("`{name}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
            None => {}
            Some(dtype) => check_dtype(spec, dtype).map_err(|message| LoadError::Bad {
                message: format!("`{}` column `{}`: {message}", file.display, spec.name),
            })?,
        }
    }
    Ok(())
}

fn check_dtype(spec: &ColumnSpec, dtype: &DataType) -> Result<(), String> {
    let accepted = match (spec.kind, dtype) {
        (_, DataType::String) => true,
        (_, DataType::Null) => true,
        (K::Money | K::Rate | K::Int, DataType::Float32 | DataType::Float64) => {
            return Err(format!(
                "is binary floating point ({dtype}); {} must be exact\nhint: export it as DECIMAL or integer in Parquet, or as text in CSV",
                if spec.kind == K::Int {
                    "counts"
                } else {
                    "money and rates"
                }
            ));
        }
        (K::Str, dtype) => dtype.is_integer(),
        (K::Date, DataType::Date) => true,
        // A billing month stored as a DATE is the month that date falls in.
        (K::Month, DataType::Date) => true,
        (K::Int, dtype) => dtype.is_integer(),
        (K::Money | K::Rate, DataType::Decimal(_, _)) => true,
        (K::Money | K::Rate, dtype) => dtype.is_integer(),
        _ => false,
    };
    if accepted {
        Ok(())
    } else {
        Err(format!(
            "has type {dtype}; expected {}",
            spec.kind.expected()
        ))
    }
}

/// Wraps a polars error during a query over a table.
pub fn query_error(table: &Table, error: PolarsError) -> LoadError {
    let files: Vec<&str> = table
        .files
        .iter()
        .map(|file| file.display.as_str())
        .collect();
    LoadError::Read {
        file: files.join(", "),
        source: error.into(),
    }
}

/// The charge column named `name` (tests).
#[cfg(test)]
pub(crate) fn charge_spec(name: &str) -> ColumnSpec {
    *CHARGE_COLUMNS
        .iter()
        .find(|spec| spec.name == name)
        .unwrap()
}

/// A Parquet file as a lazy scan (no glob), its errors naming the file.
pub fn scan_parquet_file(path: &Path) -> Result<LazyFrame, LoadError> {
    let args = ScanArgsParquet {
        glob: false,
        ..Default::default()
    };
    LazyFrame::scan_parquet(PlRefPath::from(path.to_string_lossy().as_ref()), args).map_err(
        |error| LoadError::Read {
            file: path.display().to_string(),
            source: error.into(),
        },
    )
}

/// The column names of a Parquet file (its schema only; no row is read).
pub fn parquet_columns(path: &Path) -> Result<Vec<String>, LoadError> {
    let schema = scan_parquet_file(path)?
        .collect_schema()
        .map_err(|error| LoadError::Read {
            file: path.display().to_string(),
            source: error.into(),
        })?;
    Ok(schema.iter_names().map(|name| name.to_string()).collect())
}
