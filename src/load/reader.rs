//! The typed CSV reader: the rows of a CSV file whose structure `shape` checked, parsed straight
//! into the frame `typed` gives every table (`__file`, `__row`, `__p_shape`, then each column's
//! typed value under its own name, then each column's problem flag `__p_{name}`), in parallel
//! over the row-aligned chunks the check found.
//!
//! polars' CSV reader builds a text column for every input column and finds row ends in one
//! thread; typing those text columns afterwards was most of a CSV run. Here each cell goes from
//! the file's bytes to its typed value once: a plain `-?digits` integer by a loop that computes
//! what `money::parse_minor` computes (a test holds the two together), everything else through
//! the exact parsers of `money`, with dates, months and rates looked up in a small cache of texts
//! already parsed (a billing export repeats a few hundred of them).
//!
//! Must never accept a cell the parsers of `money` refuse, nor refuse one they accept, and must
//! read every row as polars reads it: a row whose structure is bad is padded with nulls (too few
//! fields), cut (too many) or read with invalid bytes replaced, and flagged; empty cells are
//! missing; a quoted value loses its quotes and `""` becomes `"`.

use std::borrow::Cow;

use polars::prelude::*;
use polars_arrow::array::{BooleanArray, MutableBinaryViewArray, PrimitiveArray};
use polars_arrow::bitmap::MutableBitmap;
use polars_arrow::datatypes::ArrowDataType;
use rayon::prelude::*;

use super::shape::{self, CsvShape, Piece};
use super::typed::{RATE_SCALE, SHAPE, Value, date_to_days, parse_text, problem_name};
use super::{Check, ColumnKind as K, ColumnSpec, FILE, InputFile, LoadError, ROW, Table};
use crate::money;

/// The typed rows of `chunks` (consecutive chunks of `file`'s [`CsvShape::chunks`]), in file
/// order; `file_index` is the file's index in `table.files`.
pub(super) fn read(
    table: &Table,
    file_index: usize,
    file: &InputFile,
    shape: &CsvShape,
    chunks: &[Piece],
    digits: u32,
) -> Result<DataFrame, LoadError> {
    let read_error = |source: Box<dyn std::error::Error + Send + Sync>| LoadError::Read {
        file: file.display.clone(),
        source,
    };
    let layout = Layout::new(table, shape);
    if chunks.is_empty() {
        return layout
            .frame(Columns::new(&layout, 0), file_index, 0)
            .map_err(|error| read_error(error.into()));
    }
    let opened = std::fs::File::open(&file.scan_path).map_err(|error| read_error(error.into()))?;
    // SAFETY: read only, and dropped when this function returns; a file rewritten during the run
    // is caught by the input stamps before anything is committed.
    let map = unsafe { memmap2::Mmap::map(&opened) }.map_err(|error| read_error(error.into()))?;
    let last = chunks.last().map_or(0, |chunk| chunk.end);
    if map.len() < last {
        return Err(read_error(
            format!(
                "the file is {} bytes long, {last} when its structure was checked",
                map.len()
            )
            .into(),
        ));
    }
    let frames: Vec<DataFrame> = chunks
        .par_iter()
        .map(|chunk| {
            let bytes = &map[chunk.start..chunk.end];
            let rows = rows_in(shape, chunk);
            let mut columns = Columns::new(&layout, rows);
            let mut rows = Rows {
                layout: &layout,
                columns: &mut columns,
                bad: bad_rows_from(shape, chunk.rows_before),
                row: chunk.rows_before,
                digits,
            };
            split(bytes, &mut rows);
            shape::release(&map, chunk.start, chunk.end);
            layout
                .frame(columns, file_index, chunk.rows_before)
                .map_err(|error| read_error(error.into()))
        })
        .collect::<Result<_, _>>()?;
    let mut frames = frames.into_iter();
    let mut out = frames.next().unwrap_or_default();
    for frame in frames {
        out.vstack_mut_owned(frame)
            .map_err(|error| read_error(error.into()))?;
    }
    Ok(out)
}

/// The data rows of `chunk`: up to the next chunk's `rows_before`, or the file's last row.
fn rows_in(shape: &CsvShape, chunk: &Piece) -> usize {
    let next = shape
        .chunks
        .partition_point(|other| other.start < chunk.end);
    let last = shape
        .chunks
        .get(next)
        .map_or(shape.rows, |other| other.rows_before);
    last.saturating_sub(chunk.rows_before) as usize
}

/// The bad rows of the shape from row `after + 1` on.
fn bad_rows_from(shape: &CsvShape, after: u64) -> &[(u64, shape::ShapeProblem)] {
    let from = shape.bad_rows.partition_point(|(row, _)| *row <= after);
    &shape.bad_rows[from..]
}

/// Where each header field goes: the table's columns found in the header, in table order.
struct Layout<'a> {
    table: &'a Table,
    /// For each header field, the index of the table column it holds (`None`: an extra column).
    slot_of_field: Vec<Option<usize>>,
    /// For each table column, the header field that holds it (`None`: absent from the file).
    field_of_slot: Vec<Option<usize>>,
}

impl<'a> Layout<'a> {
    fn new(table: &'a Table, shape: &CsvShape) -> Layout<'a> {
        let field_of_slot: Vec<Option<usize>> = table
            .columns
            .iter()
            .map(|spec| shape.header.iter().position(|name| name == spec.name))
            .collect();
        let mut slot_of_field = vec![None; shape.header.len()];
        for (slot, field) in field_of_slot.iter().enumerate() {
            if let Some(field) = field {
                slot_of_field[*field] = Some(slot);
            }
        }
        Layout {
            table,
            slot_of_field,
            field_of_slot,
        }
    }

    /// The frame of one chunk's parsed rows, its rows numbered from `rows_before + 1`.
    fn frame(
        &self,
        columns: Columns,
        file_index: usize,
        rows_before: u64,
    ) -> PolarsResult<DataFrame> {
        let height = columns.shape.len();
        let first = IdxSize::try_from(rows_before + 1).map_err(|_| {
            PolarsError::ComputeError("more rows than this build of polars can number".into())
        })?;
        let mut out: Vec<Column> = Vec::with_capacity(3 + 2 * self.table.columns.len());
        out.push(Column::new_scalar(
            FILE.into(),
            Scalar::new(DataType::UInt32, AnyValue::UInt32(file_index as u32)),
            height,
        ));
        let numbers: Vec<IdxSize> = (0..height as IdxSize).map(|row| first + row).collect();
        out.push(IdxCa::from_vec(ROW.into(), numbers).into_column());
        out.push(boolean(SHAPE, columns.shape));
        let mut flags = Vec::with_capacity(self.table.columns.len());
        for (spec, column) in self.table.columns.iter().zip(columns.slots) {
            let (value, flag) = match column {
                Some(column) => column.finish(spec)?,
                None => (
                    Column::full_null(spec.name.into(), height, &spec.kind.dtype()),
                    Column::new_scalar(
                        problem_name(spec.name).into(),
                        Scalar::new(DataType::Boolean, AnyValue::Boolean(false)),
                        height,
                    ),
                ),
            };
            out.push(value);
            flags.push(flag);
        }
        out.extend(flags);
        DataFrame::new(height, out)
    }
}

fn boolean(name: &str, bits: MutableBitmap) -> Column {
    let array = BooleanArray::new(ArrowDataType::Boolean, bits.into(), None);
    BooleanChunked::with_chunk(name.into(), array).into_column()
}

/// The parsed columns of one chunk.
struct Columns {
    /// `__p_shape` of each row.
    shape: MutableBitmap,
    /// One per table column; `None` when the file does not have it.
    slots: Vec<Option<ColumnBuilder>>,
}

impl Columns {
    fn new(layout: &Layout, rows: usize) -> Columns {
        Columns {
            shape: MutableBitmap::with_capacity(rows),
            slots: layout
                .table
                .columns
                .iter()
                .zip(&layout.field_of_slot)
                .map(|(spec, field)| field.map(|_| ColumnBuilder::new(*spec, rows)))
                .collect(),
        }
    }
}

/// What takes a chunk's cells, row by row.
trait Cells {
    /// Field `field` (0-based) of the current row; `quoted` when it was written in quotes.
    fn field(&mut self, field: usize, text: &str, quoted: bool);
    /// Ends the current row, which had `fields` fields.
    fn end_row(&mut self, fields: usize);
}

/// Feeds the rows of a chunk (whole rows, from a row start) to `cells`.
fn split(bytes: &[u8], cells: &mut impl Cells) {
    if memchr::memchr(b'"', bytes).is_some() {
        split_quoted(bytes, cells);
        return;
    }
    match simdutf8::basic::from_utf8(bytes) {
        Ok(text) => split_lines(text, cells),
        Err(_) => {
            // Some row holds bytes that are not UTF-8: each line on its own, such a line with its
            // bad bytes replaced as polars replaces them.
            let mut start = 0usize;
            while start < bytes.len() {
                let end = memchr::memchr(b'\n', &bytes[start..])
                    .map_or(bytes.len(), |offset| start + offset + 1);
                split_lines(&String::from_utf8_lossy(&bytes[start..end]), cells);
                start = end;
            }
        }
    }
}

/// Lines without quotes: a row per line, fields between commas, CR before LF dropped; the last
/// line may lack its newline.
fn split_lines(text: &str, cells: &mut impl Cells) {
    let bytes = text.as_bytes();
    let mut field = 0usize;
    let mut start = 0usize;
    for position in memchr::memchr2_iter(b',', b'\n', bytes) {
        if bytes[position] == b',' {
            cells.field(field, &text[start..position], false);
            field += 1;
        } else {
            let end = if position > start && bytes[position - 1] == b'\r' {
                position - 1
            } else {
                position
            };
            cells.field(field, &text[start..end], false);
            cells.end_row(field + 1);
            field = 0;
        }
        start = position + 1;
    }
    if start < bytes.len() || field > 0 {
        let end = if bytes.len() > start && bytes[bytes.len() - 1] == b'\r' {
            bytes.len() - 1
        } else {
            bytes.len()
        };
        cells.field(field, &text[start..end], false);
        cells.end_row(field + 1);
    }
}

/// Rows with quotes: each record read by the structure check's state machine (which accepted the
/// whole file), quoted values unquoted.
fn split_quoted(bytes: &[u8], cells: &mut impl Cells) {
    let mut start = 0usize;
    while start < bytes.len() {
        let Ok(record) = shape::record(bytes, start) else {
            // The structure check read the same bytes without a fault.
            break;
        };
        let mut from = start;
        for (field, &(end, quoted)) in record.fields.iter().enumerate() {
            let raw = bytes.get(from..start + end).unwrap_or_default();
            let value: Cow<[u8]> = match raw {
                [b'"', inner @ .., b'"'] if quoted => {
                    if memchr::memchr(b'"', inner).is_some() {
                        Cow::Owned(unescape(inner))
                    } else {
                        Cow::Borrowed(inner)
                    }
                }
                _ => Cow::Borrowed(raw),
            };
            cells.field(field, &String::from_utf8_lossy(&value), quoted);
            from = start + end + 1;
        }
        cells.end_row(record.fields.len());
        start = record.end;
    }
}

/// The rows of a chunk, fed field by field into its typed columns.
struct Rows<'a, 'b> {
    layout: &'a Layout<'a>,
    columns: &'b mut Columns,
    /// Bad rows at or after the current one, in row order.
    bad: &'a [(u64, shape::ShapeProblem)],
    /// Rows read so far in the file.
    row: u64,
    digits: u32,
}

impl Cells for Rows<'_, '_> {
    fn field(&mut self, field: usize, text: &str, quoted: bool) {
        if let Some(Some(slot)) = self.layout.slot_of_field.get(field)
            && let Some(Some(column)) = self.columns.slots.get_mut(*slot)
        {
            column.push(text, quoted, self.digits);
        }
    }

    /// The columns the row did not reach are missing.
    fn end_row(&mut self, fields: usize) {
        for (slot, field) in self.layout.field_of_slot.iter().enumerate() {
            if let Some(field) = field
                && *field >= fields
                && let Some(Some(column)) = self.columns.slots.get_mut(slot)
            {
                column.push_missing();
            }
        }
        self.row += 1;
        let bad = self.bad.first().is_some_and(|(row, _)| *row == self.row);
        if bad {
            self.bad = &self.bad[1..];
        }
        self.columns.shape.push(bad);
    }
}

/// A row's number and each table column's cell as text (`None`: empty, or not in the row or file).
pub(super) type RawRow = (u64, Vec<Option<String>>);

/// The raw text of some rows (1-based, ascending): what messages about those rows show.
pub(super) fn raw_rows(
    table: &Table,
    file: &InputFile,
    shape: &CsvShape,
    rows: &[u64],
) -> Result<Vec<RawRow>, LoadError> {
    let read_error = |source: Box<dyn std::error::Error + Send + Sync>| LoadError::Read {
        file: file.display.clone(),
        source,
    };
    let layout = Layout::new(table, shape);
    let opened = std::fs::File::open(&file.scan_path).map_err(|error| read_error(error.into()))?;
    // SAFETY: as in `read`.
    let map = unsafe { memmap2::Mmap::map(&opened) }.map_err(|error| read_error(error.into()))?;
    let mut out = Vec::with_capacity(rows.len());
    for chunk in &shape.chunks {
        let last = chunk.rows_before + rows_in(shape, chunk) as u64;
        let wanted: Vec<u64> = rows
            .iter()
            .copied()
            .filter(|row| *row > chunk.rows_before && *row <= last)
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let bytes = map.get(chunk.start..chunk.end).ok_or_else(|| {
            read_error("the file is shorter than when its structure was checked".into())
        })?;
        let mut raw = Raw {
            layout: &layout,
            wanted: &wanted,
            row: chunk.rows_before,
            cells: vec![None; table.columns.len()],
            out: &mut out,
        };
        split(bytes, &mut raw);
    }
    Ok(out)
}

/// Collects the cells of the wanted rows of a chunk.
struct Raw<'a> {
    layout: &'a Layout<'a>,
    /// Wanted rows after the current one, ascending.
    wanted: &'a [u64],
    row: u64,
    cells: Vec<Option<String>>,
    out: &'a mut Vec<RawRow>,
}

impl Cells for Raw<'_> {
    fn field(&mut self, field: usize, text: &str, _quoted: bool) {
        if self.wanted.first() == Some(&(self.row + 1))
            && !text.is_empty()
            && let Some(Some(slot)) = self.layout.slot_of_field.get(field)
        {
            self.cells[*slot] = Some(text.to_string());
        }
    }

    fn end_row(&mut self, _fields: usize) {
        self.row += 1;
        if self.wanted.first() == Some(&self.row) {
            self.wanted = &self.wanted[1..];
            let cells =
                std::mem::replace(&mut self.cells, vec![None; self.layout.field_of_slot.len()]);
            self.out.push((self.row, cells));
        }
    }
}

/// One column's values and problem flags as they are parsed.
struct ColumnBuilder {
    spec: ColumnSpec,
    values: Values,
    flags: MutableBitmap,
    cache: TextCache,
}

enum Values {
    Text(MutableBinaryViewArray<str>),
    /// Int and money (minor units).
    Int(Vec<i64>, MutableBitmap),
    /// Dates as days since 1970-01-01, months as `Month::index`.
    Day(Vec<i32>, MutableBitmap),
    /// Rates as the mantissa of a decimal with [`RATE_SCALE`] digits.
    Rate(Vec<i128>, MutableBitmap),
}

impl ColumnBuilder {
    fn new(spec: ColumnSpec, rows: usize) -> ColumnBuilder {
        let values = match spec.kind {
            K::Str => Values::Text(MutableBinaryViewArray::with_capacity(rows)),
            K::Int | K::Money => {
                Values::Int(Vec::with_capacity(rows), MutableBitmap::with_capacity(rows))
            }
            K::Date | K::Month => {
                Values::Day(Vec::with_capacity(rows), MutableBitmap::with_capacity(rows))
            }
            K::Rate => Values::Rate(Vec::with_capacity(rows), MutableBitmap::with_capacity(rows)),
        };
        ColumnBuilder {
            spec,
            values,
            flags: MutableBitmap::with_capacity(rows),
            cache: TextCache::new(),
        }
    }

    /// An empty cell (or one the row does not reach): null, a problem when the column is
    /// required.
    fn push_missing(&mut self) {
        self.push_null();
        self.flags.push(self.spec.required);
    }

    fn push_null(&mut self) {
        match &mut self.values {
            Values::Text(array) => array.push_null(),
            Values::Int(values, valid) => {
                values.push(0);
                valid.push(false);
            }
            Values::Day(values, valid) => {
                values.push(0);
                valid.push(false);
            }
            Values::Rate(values, valid) => {
                values.push(0);
                valid.push(false);
            }
        }
    }

    fn push(&mut self, text: &str, quoted: bool, digits: u32) {
        if text.is_empty() {
            match &mut self.values {
                // polars reads `""` as an empty text, an empty cell as null; both are missing.
                Values::Text(array)
                    if quoted
                        && self.spec.required
                        && !matches!(self.spec.check, Check::OneOf(_)) =>
                {
                    array.push_value("");
                    self.flags.push(true);
                }
                _ => self.push_missing(),
            }
            return;
        }
        let spec = self.spec;
        let read = match &mut self.values {
            Values::Text(array) => match spec.check {
                Check::OneOf(words) if !words.contains(&text) => {
                    array.push_null();
                    false
                }
                _ => {
                    array.push_value(text);
                    true
                }
            },
            Values::Int(values, valid) => {
                let parsed = match plain_integer(text.as_bytes()) {
                    Some(number) => checked_integer(&spec, number, digits),
                    None => match parse_text(&spec, text, digits) {
                        Ok(Value::Int(number) | Value::Money(number)) => Some(number),
                        _ => None,
                    },
                };
                push_value(values, valid, parsed)
            }
            Values::Day(values, valid) => {
                let parsed = self
                    .cache
                    .get_or_parse(text, || match parse_text(&spec, text, digits) {
                        Ok(Value::Date(date)) => Some(Cached::Day(date_to_days(date))),
                        Ok(Value::Month(month)) => Some(Cached::Day(month.index())),
                        _ => None,
                    })
                    .and_then(|cached| match cached {
                        Cached::Day(day) => Some(day),
                        Cached::Rate(_) => None,
                    });
                push_value(values, valid, parsed)
            }
            Values::Rate(values, valid) => {
                let parsed = self
                    .cache
                    .get_or_parse(text, || match parse_text(&spec, text, digits) {
                        Ok(Value::Rate(rate)) => {
                            let rate = rate.normalize();
                            Some(Cached::Rate(
                                rate.mantissa() * 10i128.pow(RATE_SCALE as u32 - rate.scale()),
                            ))
                        }
                        _ => None,
                    })
                    .and_then(|cached| match cached {
                        Cached::Rate(rate) => Some(rate),
                        Cached::Day(_) => None,
                    });
                push_value(values, valid, parsed)
            }
        };
        self.flags.push(!read);
    }

    /// (value, problem flag) columns.
    fn finish(self, spec: &ColumnSpec) -> PolarsResult<(Column, Column)> {
        let name: PlSmallStr = spec.name.into();
        let value = match self.values {
            Values::Text(array) => StringChunked::with_chunk(name, array.freeze()).into_column(),
            Values::Int(values, valid) => {
                let array =
                    PrimitiveArray::new(ArrowDataType::Int64, values.into(), Some(valid.into()));
                Int64Chunked::with_chunk(name, array).into_column()
            }
            Values::Day(values, valid) => {
                let array =
                    PrimitiveArray::new(ArrowDataType::Int32, values.into(), Some(valid.into()));
                let days = Int32Chunked::with_chunk(name, array);
                match spec.kind {
                    K::Date => days.into_date().into_column(),
                    _ => days.into_column(),
                }
            }
            Values::Rate(values, valid) => {
                let array =
                    PrimitiveArray::new(ArrowDataType::Int128, values.into(), Some(valid.into()));
                Int128Chunked::with_chunk(name, array)
                    .into_decimal(38, RATE_SCALE)?
                    .into_column()
            }
        };
        Ok((value, boolean(&problem_name(spec.name), self.flags)))
    }
}

/// The inside of a quoted value with each `""` as one `"`.
fn unescape(inner: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(inner.len());
    let mut bytes = inner.iter().peekable();
    while let Some(&byte) = bytes.next() {
        out.push(byte);
        if byte == b'"' {
            bytes.next_if_eq(&&b'"');
        }
    }
    out
}

/// Pushes a parsed value (or a null for a refused one); whether it was read.
fn push_value<T: Default>(
    values: &mut Vec<T>,
    valid: &mut MutableBitmap,
    parsed: Option<T>,
) -> bool {
    let read = parsed.is_some();
    values.push(parsed.unwrap_or_default());
    valid.push(read);
    read
}

/// `-?[0-9]{1,15}` as an integer: the cells of nearly every export. Anything else (a sign `+`,
/// decimals, more digits, a bad cell) goes to the exact parser.
fn plain_integer(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    if digits.is_empty() || digits.len() > 15 {
        return None;
    }
    let mut number = 0i64;
    for &byte in digits {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        number = number * 10 + i64::from(digit);
    }
    Some(if negative { -number } else { number })
}

/// A plain integer as the column's value: money in minor units within `money::MAX_ABS_MINOR`,
/// counts as they are (≥ 0 where the column requires it). What `parse_text` gives for the same
/// text.
fn checked_integer(spec: &ColumnSpec, number: i64, digits: u32) -> Option<i64> {
    match spec.kind {
        K::Money => number
            .checked_mul(10i64.pow(digits))
            .filter(|minor| minor.abs() <= money::MAX_ABS_MINOR),
        _ => match spec.check {
            Check::NonNegative if number < 0 => None,
            _ => Some(number),
        },
    }
}

/// A parsed value kept in a [`TextCache`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cached {
    Day(i32),
    Rate(i128),
}

/// Texts of at most this many bytes are cached.
const CACHED_BYTES: usize = 16;
const CACHE_SLOTS: usize = 256;

/// A direct-mapped cache from a cell's text to what the exact parser made of it (`None`: refused).
/// A hit compares the whole text, so it gives what the parser would.
struct TextCache {
    keys: Vec<([u8; CACHED_BYTES], u8)>,
    values: Vec<Option<Cached>>,
}

impl TextCache {
    fn new() -> TextCache {
        TextCache {
            keys: Vec::new(),
            values: Vec::new(),
        }
    }

    fn get_or_parse(
        &mut self,
        text: &str,
        parse: impl FnOnce() -> Option<Cached>,
    ) -> Option<Cached> {
        let bytes = text.as_bytes();
        if bytes.len() > CACHED_BYTES {
            return parse();
        }
        if self.keys.is_empty() {
            // Length 0 marks an empty slot: an empty text never reaches the cache.
            self.keys = vec![([0; CACHED_BYTES], 0); CACHE_SLOTS];
            self.values = vec![None; CACHE_SLOTS];
        }
        let slot = slot_of(bytes);
        let (key, length) = &self.keys[slot];
        if usize::from(*length) == bytes.len() && &key[..bytes.len()] == bytes {
            return self.values[slot];
        }
        let value = parse();
        let mut key = [0u8; CACHED_BYTES];
        key[..bytes.len()].copy_from_slice(bytes);
        self.keys[slot] = (key, bytes.len() as u8);
        self.values[slot] = value;
        value
    }
}

fn slot_of(bytes: &[u8]) -> usize {
    let mut hash = 0x811c_9dc5u32;
    for &byte in bytes {
        hash = (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193);
    }
    (hash >> 24) as usize % CACHE_SLOTS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::charge_spec as spec;

    #[test]
    fn plain_integers_are_what_the_exact_parsers_make_of_them() {
        let mut texts: Vec<String> = [
            "0",
            "-0",
            "5",
            "-5",
            "0005",
            "-0005",
            "999999999999999",
            "-999999999999999",
            "100000000000000",
            "1000000000000000",
            "10000000000000000",
            "+5",
            "5.0",
            "",
            "-",
            "1a",
            "a1",
            " 5",
            "5 ",
            "--5",
            "0x10",
            "٣",
        ]
        .iter()
        .map(|text| text.to_string())
        .collect();
        for digits in 1..=16 {
            texts.push("9".repeat(digits));
            texts.push(format!("-{}", "9".repeat(digits)));
            texts.push(format!("1{}", "0".repeat(digits - 1)));
        }
        for name in ["amount", "quantity", "unit_price"] {
            let spec = spec(name);
            for digits in [0, 2] {
                for text in &texts {
                    let exact = match parse_text(&spec, text, digits) {
                        Ok(Value::Int(number) | Value::Money(number)) => Some(number),
                        _ => None,
                    };
                    if let Some(number) = plain_integer(text.as_bytes()) {
                        assert_eq!(
                            checked_integer(&spec, number, digits),
                            exact,
                            "{name} {text:?} digits {digits}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_cache_gives_what_the_parser_gives() {
        let mut cache = TextCache::new();
        let spec = spec("period_start");
        let parse = |text: &str| match parse_text(&spec, text, 0) {
            Ok(Value::Date(date)) => Some(Cached::Day(date_to_days(date))),
            _ => None,
        };
        let mut texts = Vec::new();
        for year in [1999, 2000, 2009, 2024] {
            for month in 0..=13 {
                for day in [0, 1, 28, 29, 30, 31, 32] {
                    texts.push(format!("{year}-{month:02}-{day:02}"));
                }
            }
        }
        texts.push("2009-1-05".to_string());
        texts.push("2009-01-05 ".to_string());
        texts.push("a-very-long-text-indeed".to_string());
        // Twice round, so that every text meets a cache filled by others.
        for _ in 0..2 {
            for text in &texts {
                assert_eq!(
                    cache.get_or_parse(text, || parse(text)),
                    parse(text),
                    "{text}"
                );
            }
        }
    }
}

/// The reader against polars' reader and the typed expressions (`typed::scanned_rows`), on CSV
/// text built from cells that each kind of column accepts and refuses.
#[cfg(test)]
mod differential {
    use proptest::prelude::*;

    use super::*;
    use crate::load::{ACCOUNT_COLUMNS, CHARGE_COLUMNS, EVENT_COLUMNS, FileStamp, Format, typed};

    /// Typed frames of `bytes` as a table with `columns`: (the reader's, polars').
    fn both(columns: &'static [ColumnSpec], bytes: &[u8], chunk: usize) -> (DataFrame, DataFrame) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, bytes).unwrap();
        let shape = shape::check_in_chunks(bytes, "t.csv", chunk).unwrap();
        let table = Table {
            name: "t",
            columns,
            files: vec![InputFile {
                display: "t.csv".to_string(),
                stamp: FileStamp::of(&path).unwrap(),
                path: path.clone(),
                format: Format::Csv,
                scan_path: path,
                shape: Some(std::sync::Arc::new(shape.clone())),
            }],
        };
        let ours = read(&table, 0, &table.files[0], &shape, &shape.chunks, 2).unwrap();
        let theirs = typed::scanned_rows(&table, 0, 2, None, None)
            .unwrap()
            .collect()
            .unwrap();
        (ours, theirs)
    }

    fn assert_same(columns: &'static [ColumnSpec], bytes: &[u8], chunk: usize) {
        let (ours, theirs) = both(columns, bytes, chunk);
        assert_eq!(ours.get_column_names(), theirs.get_column_names());
        for (mine, polars) in ours.columns().iter().zip(theirs.columns()) {
            let mine = mine.as_materialized_series();
            let polars = polars.as_materialized_series();
            assert_eq!(mine.dtype(), polars.dtype(), "{}", mine.name());
            assert!(
                mine.equals_missing(polars),
                "column {} differs for {:?}:\nreader {mine:?}\npolars {polars:?}",
                mine.name(),
                String::from_utf8_lossy(bytes)
            );
        }
    }

    /// Cells for a column of `kind`: values it accepts, values it refuses, empty.
    fn cell(kind: K) -> BoxedStrategy<String> {
        let texts: &[&str] = match kind {
            K::Str => &[
                "A1",
                "A2",
                "ja",
                "en",
                "active",
                "closed",
                "x y",
                "",
                "ｶﾀｶﾅ",
                "é",
            ],
            K::Date => &[
                "2009-01-05",
                "2008-02-29",
                "2009-02-29",
                "2009-1-05",
                "20090105",
                "",
                "x",
                "2009-01-05 ",
                "0000-01-01",
            ],
            K::Month => &["2009-01", "2009-13", "2009-1", "200901", "", "2009-01-01"],
            K::Int => &[
                "0",
                "5",
                "-5",
                "+5",
                "-0",
                "0005",
                "5.0",
                "",
                "1e3",
                "9223372036854775808",
            ],
            K::Money => &[
                "0",
                "2400",
                "-300",
                "+12",
                "12.50",
                "12.505",
                "12.5",
                "1000000000000000",
                "10000000000001",
                "",
                "1,000",
                " 5",
                "99999999999999999999",
            ],
            K::Rate => &["0.1", "0.10", "0.08", "0", "1", "-0.1", ".1", "", "0.1.1"],
        };
        prop::sample::select(
            texts
                .iter()
                .map(|text| text.to_string())
                .collect::<Vec<_>>(),
        )
        .boxed()
    }

    #[derive(Debug, Clone)]
    enum Shape {
        Whole,
        Short,
        Long,
        Blank,
        InvalidUtf8,
    }

    fn shape_of_row() -> impl Strategy<Value = Shape> {
        prop_oneof![
            12 => Just(Shape::Whole),
            1 => Just(Shape::Short),
            1 => Just(Shape::Long),
            1 => Just(Shape::Blank),
            1 => Just(Shape::InvalidUtf8),
        ]
    }

    /// A CSV file of the table's columns (some left out, one extra) with hostile rows.
    fn file(columns: &'static [ColumnSpec]) -> impl Strategy<Value = Vec<u8>> {
        let kept = proptest::collection::vec(any::<bool>(), columns.len());
        (kept, any::<bool>(), any::<bool>(), any::<bool>()).prop_flat_map(
            move |(kept, crlf, quotes, last_newline)| {
                let header: Vec<ColumnSpec> = columns
                    .iter()
                    .zip(&kept)
                    .filter(|(spec, keep)| **keep || spec.required)
                    .map(|(spec, _)| *spec)
                    .collect();
                let row = (
                    header
                        .iter()
                        .map(|spec| cell(spec.kind))
                        .collect::<Vec<_>>(),
                    shape_of_row(),
                    proptest::collection::vec(any::<bool>(), header.len()),
                );
                proptest::collection::vec(row, 0..40).prop_map(move |rows| {
                    let end = if crlf { "\r\n" } else { "\n" };
                    let mut names: Vec<&str> = header.iter().map(|spec| spec.name).collect();
                    names.insert(names.len() / 2, "extra");
                    let mut out = format!("\u{feff}{}{end}", names.join(",")).into_bytes();
                    let count = rows.len();
                    for (index, (mut cells, shape, quote)) in rows.into_iter().enumerate() {
                        for (cell, quote) in cells.iter_mut().zip(quote) {
                            if quotes && quote {
                                *cell = format!("\"{}\"", cell.replace('"', "\"\""));
                            }
                        }
                        let extra = match shape {
                            Shape::InvalidUtf8 => "e\u{1}x",
                            _ => "ex",
                        };
                        cells.insert(cells.len() / 2, extra.to_string());
                        let mut line = match shape {
                            Shape::Whole => cells.join(",").into_bytes(),
                            Shape::Short => cells[..cells.len() - 1].join(",").into_bytes(),
                            Shape::Long => format!("{},more", cells.join(",")).into_bytes(),
                            Shape::Blank => Vec::new(),
                            // A byte that is not UTF-8 in the (never quoted) extra cell.
                            Shape::InvalidUtf8 => cells
                                .join(",")
                                .into_bytes()
                                .into_iter()
                                .map(|byte| if byte == 1 { 0xff } else { byte })
                                .collect(),
                        };
                        out.append(&mut line);
                        if index + 1 < count || last_newline {
                            out.extend_from_slice(end.as_bytes());
                        }
                    }
                    out
                })
            },
        )
    }

    /// `REDRESS_FUZZ_CASES` (as for `tests/fuzz.rs`) runs more.
    fn cases() -> u32 {
        std::env::var("REDRESS_FUZZ_CASES")
            .ok()
            .and_then(|cases| cases.parse().ok())
            .unwrap_or(48)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

        #[test]
        fn charges_read_as_polars_reads_them(bytes in file(CHARGE_COLUMNS), chunk in 1usize..300) {
            assert_same(CHARGE_COLUMNS, &bytes, chunk);
        }

        #[test]
        fn accounts_read_as_polars_reads_them(bytes in file(ACCOUNT_COLUMNS), chunk in 1usize..300) {
            assert_same(ACCOUNT_COLUMNS, &bytes, chunk);
        }

        #[test]
        fn events_read_as_polars_reads_them(bytes in file(EVENT_COLUMNS), chunk in 1usize..300) {
            assert_same(EVENT_COLUMNS, &bytes, chunk);
        }
    }

    #[test]
    fn quoted_values_lose_their_quotes() {
        let text = "account_id,kind,date,detail,quantity\n\"A1\",\"move\",\"2020-01-02\",\"say \"\"hi\"\", twice\nthen\",\"3\"\r\nA2,move,2020-01-03,,\n";
        assert_same(EVENT_COLUMNS, text.as_bytes(), 1 << 20);
        let (ours, _) = both(EVENT_COLUMNS, text.as_bytes(), 1 << 20);
        let details: Vec<Option<&str>> = ours
            .column("detail")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(details, vec![Some("say \"hi\", twice\nthen"), None]);
    }
}
