//! The structure of a CSV file, checked byte by byte before polars reads it: a header of distinct,
//! non-empty names; every row with as many fields as the header; quotes as RFC 4180 writes them;
//! UTF-8 text. polars pads a short row with nulls and stops at other faults with advice meant for
//! its Python users, so these are found here, each with its file and row.
//!
//! A row with the wrong number of fields or invalid UTF-8 leaves the rest of the file readable: it
//! is returned as a bad row (flagged like a bad cell, so `--on-bad-rows reject` sets it aside). An
//! unterminated or stray quote makes the rest of the file unreadable: it stops the run.
//!
//! A file without any quote is checked in parallel chunks (newline and comma positions found with
//! `memchr`); a file with quotes by one strict state machine.
//!
//! The check also cuts the file's data into chunks ([`Piece`]s) that start at a row, with the number
//! of rows before each: the typed reader (`reader`) parses them side by side.

use std::path::Path;

use rayon::prelude::*;

use super::LoadError;

/// What is wrong with a row whose structure is bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeProblem {
    /// The row has `found` fields; the header has `expected`.
    FieldCount { found: usize, expected: usize },
    /// The row holds bytes that are not UTF-8.
    InvalidUtf8,
}

/// The structure of one CSV file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsvShape {
    /// The header's names.
    pub header: Vec<String>,
    /// Data rows (1-based, header excluded) whose structure is bad, in row order.
    pub bad_rows: Vec<(u64, ShapeProblem)>,
    /// The data rows as consecutive byte ranges of the file (about [`CHUNK`] bytes each), in
    /// order; empty when there are no data rows.
    pub chunks: Vec<Piece>,
    /// Data rows in the file.
    pub rows: u64,
}

/// Whole rows of a CSV file: bytes `start..end` of the file, after `rows_before` data rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    pub start: usize,
    pub end: usize,
    pub rows_before: u64,
}

impl CsvShape {
    /// The problem of a data row, if its structure is bad.
    pub fn problem(&self, row: u64) -> Option<ShapeProblem> {
        self.bad_rows
            .binary_search_by_key(&row, |(bad, _)| *bad)
            .ok()
            .map(|index| self.bad_rows[index].1)
    }

    /// Some row has more fields than the header (polars must be told to read past it).
    pub fn has_long_rows(&self) -> bool {
        self.bad_rows.iter().any(|(_, problem)| {
            matches!(problem, ShapeProblem::FieldCount { found, expected } if found > expected)
        })
    }

    /// Some row holds bytes that are not UTF-8 (polars must read the file lossily).
    pub fn has_invalid_utf8(&self) -> bool {
        self.bad_rows
            .iter()
            .any(|(_, problem)| *problem == ShapeProblem::InvalidUtf8)
    }

    /// The column to name for a row's problem: the first missing one, or none.
    pub fn column_of(&self, problem: ShapeProblem) -> String {
        match problem {
            ShapeProblem::FieldCount { found, expected } if found < expected => {
                self.header.get(found).cloned().unwrap_or_default()
            }
            _ => String::new(),
        }
    }
}

/// The message of a bad row.
pub fn message(problem: ShapeProblem) -> String {
    match problem {
        ShapeProblem::FieldCount { found, expected } if found < expected => format!(
            "the row has {found} field(s) but the header has {expected}: a value is missing, or the row (or file) was cut short; the row is not read"
        ),
        ShapeProblem::FieldCount { found, expected } => format!(
            "the row has {found} fields but the header has {expected}: an unquoted comma splits a value (quote the value: \"a,b\"); the row is not read"
        ),
        ShapeProblem::InvalidUtf8 => {
            "the row holds bytes that are not UTF-8; the row is not read (a CP932 export needs `--encoding cp932`)".to_string()
        }
    }
}

/// Stable reason code in rejects.csv.
pub fn code(problem: ShapeProblem) -> &'static str {
    match problem {
        ShapeProblem::FieldCount { .. } => "wrong_field_count",
        ShapeProblem::InvalidUtf8 => "invalid_utf8",
    }
}

/// Checks the structure of the CSV file at `path` (shown to users as `display`).
pub fn check(path: &Path, display: &str) -> Result<CsvShape, LoadError> {
    let read_error = |error: std::io::Error| LoadError::Read {
        file: display.to_string(),
        source: error.into(),
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let length = file.metadata().map_err(read_error)?.len();
    if length == 0 {
        return Ok(CsvShape::default());
    }
    // SAFETY: the mapping is read only and dropped before this function returns; the manifest's
    // check that inputs did not change during the run covers a file rewritten meanwhile.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(read_error)?;
    check_mapped(&map, display, CHUNK, &|start, end| {
        release(&map, start, end)
    })
}

/// Gives back the pages of bytes `start..end` of a read-only file map once they are read: a
/// file several times the size of memory is then never resident at once (the kernel keeps them in
/// its page cache and maps them again if they are read again).
pub(super) fn release(map: &memmap2::Mmap, start: usize, end: usize) {
    if end > start && end <= map.len() {
        // SAFETY: a read-only mapping of a file; a page dropped from it reads the same bytes
        // from the file when it is touched again. Only an optimisation: an error is ignored.
        let _ = unsafe {
            map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start)
        };
    }
}

/// [`check`] over a file's bytes.
pub fn check_bytes(bytes: &[u8], display: &str) -> Result<CsvShape, LoadError> {
    check_in_chunks(bytes, display, CHUNK)
}

/// [`check_bytes`] with chunks of about `chunk` bytes.
pub(super) fn check_in_chunks(
    bytes: &[u8],
    display: &str,
    chunk: usize,
) -> Result<CsvShape, LoadError> {
    check_mapped(bytes, display, chunk, &|_, _| {})
}

/// The check over `bytes`, calling `done(start, end)` for each range of them read (offsets in
/// `bytes`).
fn check_mapped(
    bytes: &[u8],
    display: &str,
    chunk: usize,
    done: &(dyn Fn(usize, usize) + Sync),
) -> Result<CsvShape, LoadError> {
    let file_length = bytes.len();
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let fatal = |what: String| LoadError::Bad {
        message: format!("`{display}` {what}"),
    };
    let header_end = record(bytes, 0).map_err(|fault| fatal(fault.describe(0, &[])))?;
    let header_text = std::str::from_utf8(&bytes[..header_end.end]).map_err(|_| {
        fatal(
            "header: the column names are not UTF-8\nhint: a CP932 export needs `--encoding cp932`"
                .to_string(),
        )
    })?;
    let header = header_names(header_text, &header_end.fields);
    check_header(&header, display)?;
    let data = &bytes[header_end.end..];
    let data_start = file_length - data.len();
    let done = |start: usize, end: usize| done(data_start + start, data_start + end);
    let expected = header.len();
    // A file without any quote is checked in parallel chunks; the first quote found sends it to
    // the state machine.
    let (mut bad_rows, cuts, rows) = match unquoted(data, expected, chunk, &done) {
        Some(checked) => checked,
        None => quoted(data, expected, &header, display, chunk, &done)?,
    };
    // One problem per row: a row with invalid bytes is named for them.
    bad_rows.sort_by_key(|(row, problem)| (*row, *problem != ShapeProblem::InvalidUtf8));
    bad_rows.dedup_by_key(|(row, _)| *row);
    let in_file = |piece: Piece| Piece {
        start: data_start + piece.start,
        end: data_start + piece.end,
        rows_before: piece.rows_before,
    };
    Ok(CsvShape {
        header,
        bad_rows,
        chunks: chunks(&cuts, data.len()).into_iter().map(in_file).collect(),
        rows,
    })
}

/// Consecutive chunks over `length` bytes of data, cut at `cuts` (a row's start offset and the
/// rows before it, ascending).
fn chunks(cuts: &[(usize, u64)], length: usize) -> Vec<Piece> {
    if length == 0 {
        return Vec::new();
    }
    let mut chunks = Vec::with_capacity(cuts.len());
    let mut current = Piece {
        start: 0,
        end: length,
        rows_before: 0,
    };
    for &(offset, rows_before) in cuts {
        if offset > current.start && offset < length {
            chunks.push(Piece {
                end: offset,
                ..current
            });
            current = Piece {
                start: offset,
                end: length,
                rows_before,
            };
        }
    }
    chunks.push(current);
    chunks
}

fn check_header(header: &[String], display: &str) -> Result<(), LoadError> {
    for (index, name) in header.iter().enumerate() {
        if name.trim().is_empty() {
            return Err(LoadError::Bad {
                message: format!(
                    "`{display}` header: column {} has no name\nhint: every column needs a name in the first line; remove the empty column or name it",
                    index + 1
                ),
            });
        }
        if let Some(first) = header[..index].iter().position(|other| other == name) {
            return Err(LoadError::Bad {
                message: format!(
                    "`{display}` header: column `{name}` appears twice (columns {} and {})\nhint: keep one of them; redress will not guess which holds the right values",
                    first + 1,
                    index + 1
                ),
            });
        }
    }
    Ok(())
}

/// The header's names from its text and the field ends the state machine found.
fn header_names(text: &str, ends: &[(usize, bool)]) -> Vec<String> {
    let line = text.trim_end_matches(['\n', '\r']);
    let mut names = Vec::with_capacity(ends.len());
    let mut start = 0;
    for &(end, quoted) in ends {
        let end = end.min(line.len());
        let raw = line.get(start..end).unwrap_or("");
        names.push(if quoted {
            raw.trim_matches('"').replace("\"\"", "\"")
        } else {
            raw.to_string()
        });
        start = end + 1;
    }
    names
}

/// Bad rows (1-based) with their problem.
type BadRows = Vec<(u64, ShapeProblem)>;
/// Offsets (from the data's start) where a row starts, with the number of rows before each.
type Cuts = Vec<(usize, u64)>;

/// Chunks of about this many bytes are checked in parallel.
const CHUNK: usize = 32 << 20;

/// A file without quotes: each line is a row, its fields one more than its commas. Returns the bad
/// rows, where each chunk starts (offset, rows before it) and the number of rows; `None` when a
/// chunk holds a quote.
fn unquoted(
    data: &[u8],
    expected: usize,
    chunk: usize,
    done: &(dyn Fn(usize, usize) + Sync),
) -> Option<(BadRows, Cuts, u64)> {
    let mut bounds = vec![0usize];
    while let Some(&last) = bounds.last() {
        let target = last + chunk;
        if target >= data.len() {
            break;
        }
        match memchr::memchr(b'\n', &data[target..]) {
            Some(offset) => bounds.push(target + offset + 1),
            None => break,
        }
    }
    bounds.push(data.len());
    let chunks: Vec<(usize, usize)> = bounds.windows(2).map(|pair| (pair[0], pair[1])).collect();
    let results: Vec<Option<ChunkRows>> = chunks
        .par_iter()
        .map(|&(start, end)| {
            let checked = unquoted_chunk(&data[start..end], expected);
            done(start, end);
            checked
        })
        .collect();
    let mut bad = Vec::new();
    let mut cuts = Vec::with_capacity(chunks.len());
    let mut before = 0u64;
    for ((start, _), checked) in chunks.iter().zip(results) {
        let (rows, chunk_bad) = checked?;
        cuts.push((*start, before));
        bad.extend(
            chunk_bad
                .into_iter()
                .map(|(row, problem)| (before + row, problem)),
        );
        before += rows;
    }
    Some((bad, cuts, before))
}

/// Rows in a chunk and its bad rows, numbered from 1 within it.
type ChunkRows = (u64, BadRows);

/// The rows of a chunk without quotes; `None` when it holds a quote.
fn unquoted_chunk(chunk: &[u8], expected: usize) -> Option<ChunkRows> {
    if memchr::memchr(b'"', chunk).is_some() {
        return None;
    }
    let mut bad = Vec::new();
    if simdutf8::basic::from_utf8(chunk).is_err() {
        let invalid = invalid_utf8_offsets(chunk);
        bad.extend(
            rows_of_offsets(chunk, &invalid)
                .into_iter()
                .map(|row| (row, ShapeProblem::InvalidUtf8)),
        );
    }
    let mut rows = 0u64;
    let mut line_start = 0usize;
    let mut check = |line: &[u8], row: u64| {
        // A plain byte count, which the compiler turns into vector compares.
        let found = 1 + bytecount::count(line, b',');
        if found != expected {
            bad.push((row, ShapeProblem::FieldCount { found, expected }));
        }
    };
    for newline in memchr::memchr_iter(b'\n', chunk) {
        rows += 1;
        check(&chunk[line_start..newline], rows);
        line_start = newline + 1;
    }
    if line_start < chunk.len() {
        // A last row without a newline.
        rows += 1;
        check(&chunk[line_start..], rows);
    }
    Some((rows, bad))
}

/// A file with quotes: one pass of the strict state machine. Returns the bad rows, a row start
/// about every `chunk` bytes (offset, rows before it) and the number of rows.
fn quoted(
    data: &[u8],
    expected: usize,
    header: &[String],
    display: &str,
    chunk: usize,
    done: &(dyn Fn(usize, usize) + Sync),
) -> Result<(BadRows, Cuts, u64), LoadError> {
    let mut bad = Vec::new();
    let mut cuts: Cuts = Vec::new();
    let mut next_cut = 0usize;
    let mut start = 0usize;
    let mut row = 0u64;
    while start < data.len() {
        if start >= next_cut {
            if let Some(&(previous, _)) = cuts.last() {
                done(previous, start);
            }
            cuts.push((start, row));
            next_cut = start + chunk;
        }
        row += 1;
        let record = record(data, start).map_err(|fault| LoadError::Bad {
            message: format!("`{display}` {}", fault.describe(row, header)),
        })?;
        // A record ends at a newline (or the end), never inside a character.
        if simdutf8::basic::from_utf8(&data[start..record.end]).is_err() {
            bad.push((row, ShapeProblem::InvalidUtf8));
        } else if record.fields.len() != expected {
            bad.push((
                row,
                ShapeProblem::FieldCount {
                    found: record.fields.len(),
                    expected,
                },
            ));
        }
        start = record.end;
    }
    if let Some(&(previous, _)) = cuts.last() {
        done(previous, data.len());
    }
    Ok((bad, cuts, row))
}

/// Offsets of the first invalid byte of each line that holds bytes that are not UTF-8.
fn invalid_utf8_offsets(data: &[u8]) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut offset = 0usize;
    while offset < data.len() {
        match std::str::from_utf8(&data[offset..]) {
            Ok(_) => break,
            Err(error) => {
                let at = offset + error.valid_up_to();
                offsets.push(at);
                match memchr::memchr(b'\n', &data[at..]) {
                    Some(newline) => offset = at + newline + 1,
                    None => break,
                }
            }
        }
    }
    offsets
}

/// The rows (1-based lines) of sorted byte offsets in a file without quotes.
fn rows_of_offsets(data: &[u8], offsets: &[usize]) -> Vec<u64> {
    let mut rows = Vec::with_capacity(offsets.len());
    let mut counted_to = 0usize;
    let mut before = 0u64;
    for &at in offsets {
        before += memchr::memchr_iter(b'\n', &data[counted_to..at]).count() as u64;
        counted_to = at;
        rows.push(before + 1);
    }
    rows
}

/// Where a record ends, and for each field the offset (from the record start) where it ends and
/// whether it was quoted.
pub(super) struct Record {
    pub(super) end: usize,
    pub(super) fields: Vec<(usize, bool)>,
}

/// A fault that makes the rest of the file unreadable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fault {
    /// A quote opened in field `field` is never closed.
    Unterminated { field: usize },
    /// A quote inside an unquoted field.
    Stray { field: usize },
    /// Text after the closing quote of a field.
    AfterQuote { field: usize },
}

impl Fault {
    fn describe(self, row: u64, header: &[String]) -> String {
        let place = |field: usize| {
            let column = header
                .get(field)
                .map(|name| format!(", column `{name}`"))
                .unwrap_or_default();
            if row == 0 {
                format!("header, field {}", field + 1)
            } else {
                format!("row {row}{column}")
            }
        };
        match self {
            Fault::Unterminated { field } => format!(
                "{}: a quote opens a value that is never closed, so the rest of the file cannot be read\nhint: close the quote; a quote inside a quoted value is written twice (\"\")",
                place(field)
            ),
            Fault::Stray { field } => format!(
                "{}: a quote inside an unquoted value\nhint: quote the whole value and double the quote inside it (\"5\"\" screen\")",
                place(field)
            ),
            Fault::AfterQuote { field } => format!(
                "{}: text follows the closing quote of a value\nhint: put the whole value inside the quotes and double any quote inside it",
                place(field)
            ),
        }
    }
}

/// Reads one record starting at `start` (RFC 4180: `"` opens a field only at its start, `""` is a
/// quote inside a quoted field, a newline ends the record outside quotes, CR before it is dropped).
pub(super) fn record(data: &[u8], start: usize) -> Result<Record, Fault> {
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum State {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let mut state = State::FieldStart;
    let mut fields: Vec<(usize, bool)> = Vec::new();
    let mut quoted = false;
    let mut position = start;
    while position < data.len() {
        let byte = data[position];
        let field = fields.len();
        match (state, byte) {
            (State::Quoted, b'"') => state = State::QuoteInQuoted,
            (State::Quoted, _) => {}
            (State::QuoteInQuoted, b'"') => state = State::Quoted,
            (State::FieldStart, b'"') => {
                state = State::Quoted;
                quoted = true;
            }
            (State::Unquoted, b'"') => return Err(Fault::Stray { field }),
            (_, b',') => {
                fields.push((position - start, quoted));
                quoted = false;
                state = State::FieldStart;
            }
            (_, b'\n') => {
                let mut end = position - start;
                if end > 0 && data[position - 1] == b'\r' {
                    end -= 1;
                }
                fields.push((end, quoted));
                return Ok(Record {
                    end: position + 1,
                    fields,
                });
            }
            (State::QuoteInQuoted, b'\r') if data.get(position + 1) == Some(&b'\n') => {}
            (State::QuoteInQuoted, _) => return Err(Fault::AfterQuote { field }),
            (State::FieldStart | State::Unquoted, _) => state = State::Unquoted,
        }
        position += 1;
    }
    if state == State::Quoted {
        return Err(Fault::Unterminated {
            field: fields.len(),
        });
    }
    fields.push((position - start, quoted));
    Ok(Record {
        end: position,
        fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(text: &str) -> Result<CsvShape, String> {
        check_bytes(text.as_bytes(), "t.csv").map_err(|error| error.to_string())
    }

    fn bad(text: &str) -> Vec<(u64, ShapeProblem)> {
        shape(text).unwrap().bad_rows
    }

    const FIELDS: fn(usize) -> ShapeProblem =
        |found| ShapeProblem::FieldCount { found, expected: 3 };

    #[test]
    fn rows_with_too_few_or_too_many_fields() {
        for quote in ["", "\"q\",x,y\n"] {
            let text = format!("a,b,c\n1,2,3\n1,2\n1,2,3,4\n\n{quote}1,2,3");
            let rows = bad(&text);
            assert_eq!(
                rows,
                vec![(2, FIELDS(2)), (3, FIELDS(4)), (4, FIELDS(1))],
                "{quote:?}"
            );
        }
        // A file cut inside its last row.
        assert_eq!(bad("a,b,c\n1,2,3\n1,2"), vec![(2, FIELDS(2))]);
        assert_eq!(bad("a,b,c\r\n1,2,3\r\n1,2\r\n"), vec![(2, FIELDS(2))]);
        assert!(bad("a,b,c\n1,2,3\n").is_empty());
    }

    #[test]
    fn quoted_fields_with_commas_newlines_and_quotes() {
        assert!(bad("a,b,c\n\"x,y\",\"line\nbreak\",\"say \"\"hi\"\"\"\n1,2,3\n").is_empty());
        // Row numbers count records, not lines.
        assert_eq!(bad("a,b,c\n\"x\ny\",2,3\n1,2\n"), vec![(2, FIELDS(2))]);
    }

    #[test]
    fn quote_faults_stop_with_the_row() {
        let error = shape("a,b,c\n1,2,3\n1,\"open,3\n4,5,6\n").unwrap_err();
        assert!(error.contains("row 2, column `b`"), "{error}");
        assert!(error.contains("never closed"), "{error}");
        let error = shape("a,b,c\n1,2,3\n1,2,ab\"c\n").unwrap_err();
        assert!(
            error.contains("row 2, column `c`: a quote inside an unquoted value"),
            "{error}"
        );
        let error = shape("a,b,c\n\"x\"y,2,3\n").unwrap_err();
        assert!(
            error.contains("row 1, column `a`: text follows the closing quote"),
            "{error}"
        );
    }

    #[test]
    fn header_names_must_be_distinct_and_present() {
        let error = shape("a,amount,amount\n1,2,3\n").unwrap_err();
        assert!(
            error.contains("column `amount` appears twice (columns 2 and 3)"),
            "{error}"
        );
        let error = shape("a,,c\n1,2,3\n").unwrap_err();
        assert!(error.contains("column 2 has no name"), "{error}");
        assert_eq!(
            shape("\u{feff}\"a\",b,c\n").unwrap().header,
            ["a", "b", "c"]
        );
    }

    #[test]
    fn invalid_utf8_names_its_row() {
        let mut bytes = b"a,b,c\n1,2,3\n1,\xff,3\n1,2,3\n\xfe,2,3\n".to_vec();
        let found = check_bytes(&bytes, "t.csv").unwrap().bad_rows;
        assert_eq!(
            found,
            vec![
                (2, ShapeProblem::InvalidUtf8),
                (4, ShapeProblem::InvalidUtf8)
            ]
        );
        bytes.truncate(6);
        assert!(check_bytes(&bytes, "t.csv").unwrap().bad_rows.is_empty());
    }

    #[test]
    fn chunks_agree_with_one_pass() {
        let mut text = String::from("a,b,c\n");
        for row in 1..=5000 {
            if row % 997 == 0 {
                text.push_str("1,2\n");
            } else {
                text.push_str("1,2,3\n");
            }
        }
        let data = text.as_bytes();
        let start = text.find('\n').unwrap() + 1;
        let (rows, one) = unquoted_chunk(&data[start..], 3).unwrap();
        assert_eq!(rows, 5000);
        assert_eq!(one.len(), 5);
        for chunk in [1, 7, 100, 4096] {
            let shape = check_in_chunks(data, "t.csv", chunk).unwrap();
            assert_eq!(shape.bad_rows, one, "chunks of {chunk} bytes");
        }
    }

    #[test]
    fn chunks_cover_the_data_from_row_starts() {
        let mut text = String::from("\u{feff}a,b,c\r\n");
        for row in 1..=400 {
            text.push_str(&format!("{row},x,y\r\n"));
        }
        let bytes = text.as_bytes();
        for quote in [false, true] {
            let mut bytes = bytes.to_vec();
            if quote {
                bytes.extend_from_slice(b"\"q\nr\",2,3\r\n");
            }
            let shape = check_in_chunks(&bytes, "t.csv", 100).unwrap();
            let pieces = &shape.chunks;
            assert!(pieces.len() > 10, "{pieces:?}");
            assert_eq!(shape.rows, 400 + u64::from(quote));
            assert_eq!(pieces[0].start, "\u{feff}a,b,c\r\n".len());
            assert_eq!(pieces.last().unwrap().end, bytes.len());
            for pair in pieces.windows(2) {
                assert_eq!(pair[0].end, pair[1].start);
                assert_eq!(bytes[pair[1].start - 1], b'\n');
                let rows = bytes[pair[0].start..pair[0].end]
                    .iter()
                    .filter(|&&byte| byte == b'\n')
                    .count() as u64;
                assert_eq!(pair[1].rows_before, pair[0].rows_before + rows);
            }
        }
        assert!(check_bytes(b"a,b,c\n", "t.csv").unwrap().chunks.is_empty());
        let one = check_bytes(b"a,b,c\n1,2,3", "t.csv").unwrap().chunks;
        assert_eq!(
            one,
            vec![Piece {
                start: 6,
                end: 11,
                rows_before: 0
            }]
        );
    }
}
