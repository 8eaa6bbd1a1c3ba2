//! Spreadsheets (XLSX, XLS, ODS) through calamine.
//!
//! Each sheet is a section that starts with a line `Sheet: <name>`; sections are
//! separated by form feeds and counted in `pages`. The first non-empty row of a sheet is
//! its header (written as one line, cells separated by ` | `); every following row is
//! written as `header: value; header: value` pairs, so a cell can be found together with
//! its column's meaning (a column without a header is named by its letter). Formulas
//! give their cached values; dates are written as `2024-03-15` or `2024-03-15 14:30`.
//!
//! Memory: calamine builds a dense grid (rows × columns) for XLS and ODS sheets, sized
//! by the cells' positions and by declared dimensions, and reads the whole ZIP parts of
//! XLSX and ODS. Before calamine sees a file, its size is bounded here:
//! * ZIP-based files (XLSX, ODS): the declared uncompressed sizes in the ZIP directory
//!   must fit [`Limits::docx_max_uncompressed`] (the zip crate calamine uses refuses to
//!   unpack more than an entry declares);
//! * ODS: `content.xml` is scanned first for the grid its repeated rows and columns
//!   expand to;
//! * XLS: the workbook stream's records are scanned first for the grid their positions
//!   and DIMENSIONS records ask for;
//! * XLSX sheets are streamed cell by cell (no grid), after checking their declared
//!   dimension.
//!
//! In all, a workbook may have at most [`MAX_CELLS`] cells.

use std::io::{BufReader, Cursor, Read};

use calamine::{Data, DataRef, ExcelDateTime, Reader};
use quick_xml::events::{BytesStart, Event};

use crate::{DocKind, ExtractError, Extracted, Limits};

/// Most cells read from one workbook (all sheets together). For XLS and ODS it counts
/// the grid calamine allocates, empty cells included.
pub(crate) const MAX_CELLS: u64 = 2_000_000;

/// Longest header label repeated in front of every value of its column.
const MAX_LABEL_CHARS: usize = 80;

/// Excel's grid limits (calamine caps ODS repeats to them too).
const MAX_ROWS: u64 = 1_048_576;
const MAX_COLUMNS: u64 = 16_384;

pub(crate) fn extract_sheet(
    bytes: &[u8],
    kind: DocKind,
    limits: &Limits,
) -> Result<Extracted, ExtractError> {
    let mut out = Out::new(limits);
    match kind {
        DocKind::Xlsx | DocKind::Ods => zip_budget(bytes, kind, limits)?,
        DocKind::Xls => xls_precheck(bytes, kind)?,
        _ => {
            return Err(ExtractError::Unsupported {
                name: kind.label().to_owned(),
                mime: kind.mime().to_owned(),
            })
        }
    }
    if kind == DocKind::Ods {
        ods_precheck(bytes, kind)?;
    }
    // calamine's arithmetic on cell references overflows on some damaged files (a panic
    // where overflow checks are on, as in tests; garbage positions otherwise): like the
    // PDF readers, it is contained here and reported as damage.
    let read = crate::guard::run(|| match kind {
        DocKind::Xlsx => read_xlsx(bytes, kind, &mut out),
        DocKind::Ods => {
            let wb = calamine::Ods::new(Cursor::new(bytes)).map_err(|e| failed(kind, e))?;
            read_dense(wb, kind, &mut out)
        }
        _ => {
            let wb = calamine::Xls::new(Cursor::new(bytes)).map_err(|e| failed(kind, e))?;
            read_dense(wb, kind, &mut out)
        }
    });
    match read {
        Ok(r) => r?,
        Err(p) => {
            return Err(damaged(
                kind,
                format!("the spreadsheet reader failed on it: {}", p.0),
            ))
        }
    }
    let pages = (out.sheets > 0).then_some(out.sheets);
    Ok(Extracted {
        kind,
        text: out.finish(),
        title: None,
        pages,
        encoding: None,
        extractor: None,
        metadata: Vec::new(),
    })
}

fn damaged(kind: DocKind, reason: impl Into<String>) -> ExtractError {
    let reason: String = reason.into();
    ExtractError::OfficeDamaged {
        format: kind.label().to_owned(),
        reason: reason.chars().take(200).collect(),
    }
}

fn too_many(cells: u64) -> ExtractError {
    ExtractError::SheetTooLarge {
        cells,
        limit: MAX_CELLS,
    }
}

/// A calamine error: a password, or damage.
fn failed(kind: DocKind, e: impl std::fmt::Display) -> ExtractError {
    let reason = e.to_string();
    if reason.contains("password protected") {
        return ExtractError::Unsupported {
            name: "password-protected spreadsheet".into(),
            mime: kind.mime().to_owned(),
        };
    }
    damaged(kind, reason)
}

// ------------------------------------------------------------------------ output

/// The text being written, with the cell count and text size checked as it grows.
struct Out<'a> {
    text: String,
    sheets: u32,
    cells: u64,
    limits: &'a Limits,
    /// Header labels of the current sheet by column, once its first row is seen.
    header: Option<Vec<(u32, String)>>,
}

impl<'a> Out<'a> {
    fn new(limits: &'a Limits) -> Self {
        Out {
            text: String::new(),
            sheets: 0,
            cells: 0,
            limits,
            header: None,
        }
    }

    fn start_sheet(&mut self, name: &str) -> Result<(), ExtractError> {
        if self.sheets > 0 {
            self.text.push('\x0c');
        }
        self.sheets += 1;
        self.text.push_str("Sheet: ");
        self.text.push_str(&one_line(name));
        self.text.push('\n');
        self.header = None;
        self.check_size()
    }

    fn count(&mut self, n: u64) -> Result<(), ExtractError> {
        self.cells = self.cells.saturating_add(n);
        if self.cells > MAX_CELLS {
            return Err(too_many(self.cells));
        }
        Ok(())
    }

    fn check_size(&self) -> Result<(), ExtractError> {
        if self.text.len() > self.limits.max_text_bytes {
            return Err(ExtractError::TextTooLarge {
                size: self.text.len() as u64,
                limit: self.limits.max_text_bytes as u64,
            });
        }
        Ok(())
    }

    /// One row: its non-empty cells as (column, value), in column order.
    fn row(&mut self, cells: &[(u32, String)]) -> Result<(), ExtractError> {
        if cells.is_empty() {
            return Ok(());
        }
        match &self.header {
            None => {
                let values: Vec<&str> = cells.iter().map(|(_, v)| v.as_str()).collect();
                self.text.push_str(&values.join(" | "));
                self.text.push('\n');
                self.header = Some(
                    cells
                        .iter()
                        .map(|(c, v)| (*c, shorten(v, MAX_LABEL_CHARS)))
                        .collect(),
                );
            }
            Some(header) => {
                for (i, (col, value)) in cells.iter().enumerate() {
                    if i > 0 {
                        self.text.push_str("; ");
                    }
                    match header.binary_search_by_key(col, |(c, _)| *c) {
                        Ok(at) => self.text.push_str(&header[at].1),
                        Err(_) => self.text.push_str(&column_letter(*col)),
                    }
                    self.text.push_str(": ");
                    self.text.push_str(value);
                }
                self.text.push('\n');
            }
        }
        self.check_size()
    }

    fn finish(mut self) -> String {
        // No trailing newline after the last row of a sheet.
        let mut text = String::with_capacity(self.text.len());
        for (i, section) in self.text.split('\x0c').enumerate() {
            if i > 0 {
                text.push('\x0c');
            }
            text.push_str(section.trim_end_matches('\n'));
        }
        self.text.clear();
        text
    }
}

/// A cell's text on one line.
fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split([' ', '\t', '\r', '\n', '\x0c', '\x0b']) {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_owned(),
    }
}

/// 0 → A, 25 → Z, 26 → AA.
fn column_letter(col: u32) -> String {
    let mut n = col as u64 + 1;
    let mut letters = Vec::new();
    while n > 0 {
        n -= 1;
        letters.push(char::from(b'A' + (n % 26) as u8));
        n /= 26;
    }
    letters.iter().rev().collect()
}

fn render(d: &Data) -> Option<String> {
    let s = match d {
        Data::Empty => return None,
        Data::String(s) => one_line(s),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => float(*f),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        Data::DateTime(dt) => datetime(dt),
        Data::DateTimeIso(s) => one_line(&s.replacen('T', " ", 1)),
        Data::DurationIso(s) => iso_duration(s),
        Data::Error(e) => e.to_string(),
    };
    (!s.is_empty()).then_some(s)
}

fn render_ref(d: &DataRef<'_>) -> Option<String> {
    match d {
        DataRef::SharedString(s) => {
            let s = one_line(s);
            (!s.is_empty()).then_some(s)
        }
        other => render(&Data::from(other.clone())),
    }
}

/// A number as a spreadsheet shows it: at most 15 significant digits (so a cached
/// `0.30000000000000004` reads `0.3`), no `.0` on whole numbers.
fn float(f: f64) -> String {
    if !f.is_finite() {
        return f.to_string();
    }
    let rounded: f64 = format!("{f:.14e}").parse().unwrap_or(f);
    let abs = rounded.abs();
    if abs != 0.0 && !(1e-6..1e16).contains(&abs) {
        return format!("{rounded:e}");
    }
    format!("{rounded}")
}

fn datetime(dt: &ExcelDateTime) -> String {
    let v = dt.as_f64();
    if dt.is_duration() {
        return hms(v * 86_400.0);
    }
    let (y, mo, d, h, mi, s, ms) = dt.to_ymd_hms_milli();
    // Round to the second.
    let (h, mi, s) = if ms >= 500 {
        let total = (h as u32 * 3600 + mi as u32 * 60 + s as u32 + 1).min(86_399);
        (total / 3600, total / 60 % 60, total % 60)
    } else {
        (h as u32, mi as u32, s as u32)
    };
    let time = match (h, mi, s) {
        (0, 0, 0) => None,
        (h, mi, 0) => Some(format!("{h:02}:{mi:02}")),
        (h, mi, s) => Some(format!("{h:02}:{mi:02}:{s:02}")),
    };
    // Serial values below 1 are times of day without a date.
    if (0.0..1.0).contains(&v) {
        return time.unwrap_or_else(|| "00:00".to_owned());
    }
    let date = format!("{y:04}-{mo:02}-{d:02}");
    match time {
        Some(t) => format!("{date} {t}"),
        None => date,
    }
}

/// A duration in seconds as `h:mm:ss`.
fn hms(secs: f64) -> String {
    if !secs.is_finite() {
        return secs.to_string();
    }
    let neg = secs < 0.0;
    let total = secs.abs().round().min(u64::MAX as f64) as u64;
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    format!("{}{h}:{m:02}:{s:02}", if neg { "-" } else { "" })
}

/// `PT10H30M15S` (what ODS stores for durations) → `10:30:15`; anything else as is.
fn iso_duration(s: &str) -> String {
    let Some(rest) = s.strip_prefix("PT").or_else(|| s.strip_prefix("-PT")) else {
        return one_line(s);
    };
    let mut secs = 0.0f64;
    let mut num = String::new();
    for c in rest.chars() {
        match c {
            '0'..='9' | '.' => num.push(c),
            'H' | 'M' | 'S' => {
                let Ok(n) = num.parse::<f64>() else {
                    return one_line(s);
                };
                secs += n * match c {
                    'H' => 3600.0,
                    'M' => 60.0,
                    _ => 1.0,
                };
                num.clear();
            }
            _ => return one_line(s),
        }
    }
    if !num.is_empty() {
        return one_line(s);
    }
    hms(if s.starts_with('-') { -secs } else { secs })
}

// ------------------------------------------------------------------------ readers

/// XLSX: every sheet streamed cell by cell.
fn read_xlsx(bytes: &[u8], kind: DocKind, out: &mut Out<'_>) -> Result<(), ExtractError> {
    let mut wb = calamine::Xlsx::new(Cursor::new(bytes)).map_err(|e| failed(kind, e))?;
    for name in wb.sheet_names() {
        out.start_sheet(&name)?;
        let mut cells = match wb.worksheet_cells_reader(&name) {
            Ok(r) => r,
            // A chart sheet, or a sheet part that is missing: nothing to read.
            Err(calamine::XlsxError::NotAWorksheet(_))
            | Err(calamine::XlsxError::WorksheetNotFound(_)) => continue,
            Err(e) => return Err(failed(kind, e)),
        };
        let dim = cells.dimensions();
        let declared = (dim.end.0 as u64)
            .saturating_sub(dim.start.0 as u64)
            .saturating_add(1)
            .saturating_mul(
                (dim.end.1 as u64)
                    .saturating_sub(dim.start.1 as u64)
                    .saturating_add(1),
            );
        if declared > MAX_CELLS {
            return Err(too_many(out.cells.saturating_add(declared)));
        }
        let mut values: Vec<(u32, u32, String)> = Vec::new();
        let mut value_bytes = 0usize;
        while let Some(cell) = cells.next_cell().map_err(|e| failed(kind, e))? {
            let (row, col) = cell.get_position();
            let Some(v) = render_ref(cell.get_value()) else {
                continue;
            };
            out.count(1)?;
            value_bytes = value_bytes.saturating_add(v.len());
            if value_bytes > out.limits.max_text_bytes {
                return Err(ExtractError::TextTooLarge {
                    size: value_bytes as u64,
                    limit: out.limits.max_text_bytes as u64,
                });
            }
            values.push((row, col, v));
        }
        drop(cells);
        if !values.is_sorted_by_key(|(r, c, _)| (*r, *c)) {
            values.sort_by_key(|(r, c, _)| (*r, *c));
        }
        let mut row: Vec<(u32, String)> = Vec::new();
        let mut current = None;
        for (r, c, v) in values {
            if current != Some(r) {
                out.row(&row)?;
                row.clear();
                current = Some(r);
            }
            // A cell written twice: the later one wins.
            if row.last().is_some_and(|(last, _)| *last == c) {
                row.pop();
            }
            row.push((c, v));
        }
        out.row(&row)?;
    }
    Ok(())
}

/// XLS and ODS: calamine has read every sheet into a grid already.
fn read_dense<'b, R>(mut wb: R, kind: DocKind, out: &mut Out<'_>) -> Result<(), ExtractError>
where
    R: Reader<Cursor<&'b [u8]>>,
    R::Error: std::fmt::Display,
{
    for name in wb.sheet_names() {
        out.start_sheet(&name)?;
        let range = wb.worksheet_range(&name).map_err(|e| failed(kind, e))?;
        let Some((_, first_col)) = range.start() else {
            continue;
        };
        let mut row: Vec<(u32, String)> = Vec::new();
        for cells in range.rows() {
            row.clear();
            for (i, cell) in cells.iter().enumerate() {
                if let Some(v) = render(cell) {
                    out.count(1)?;
                    row.push((first_col.saturating_add(i as u32), v));
                }
            }
            out.row(&row)?;
        }
    }
    Ok(())
}

// ------------------------------------------------------------------------ prechecks

/// The declared uncompressed sizes of all entries of a ZIP-based workbook must fit the
/// budget. calamine's zip crate (read here with the same version) refuses to unpack an
/// entry past its declared size, so this bounds everything calamine unpacks.
fn zip_budget(bytes: &[u8], kind: DocKind, limits: &Limits) -> Result<(), ExtractError> {
    let mut zip = zip9::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| damaged(kind, format!("it is not a valid ZIP container: {e}")))?;
    let mut total = 0u64;
    for i in 0..zip.len() {
        let size = zip
            .by_index_raw(i)
            .map_err(|e| damaged(kind, format!("cannot open a part: {e}")))?
            .size();
        total = total.saturating_add(size);
        if total > limits.docx_max_uncompressed {
            return Err(ExtractError::OfficeTooLarge {
                format: kind.label().to_owned(),
                limit: limits.docx_max_uncompressed,
            });
        }
    }
    Ok(())
}

/// ODS: the grid calamine will build from `content.xml`, where one element may stand for
/// a million rows or thousands of columns (`number-rows-repeated`,
/// `number-columns-repeated`). Per table: rows from the first to the last one with a
/// non-empty cell (repeats counted) × the widest row up to its last non-empty cell.
fn ods_precheck(bytes: &[u8], kind: DocKind) -> Result<(), ExtractError> {
    let mut zip = zip9::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| damaged(kind, format!("it is not a valid ZIP container: {e}")))?;
    let content = match zip.by_name("content.xml") {
        Ok(f) => f,
        // calamine says what is missing.
        Err(_) => return Ok(()),
    };
    let mut reader = quick_xml::Reader::from_reader(BufReader::new(content));
    let mut buf = Vec::new();
    let mut total = 0u64;
    let mut table = TableScan::default();
    // Bad XML ends the scan: calamine reports it.
    while let Ok(ev) = reader.read_event_into(&mut buf) {
        match ev {
            Event::Start(e) => match e.local_name().as_ref() {
                b"table" => table = TableScan::default(),
                b"table-row" => table.start_row(&e),
                b"table-cell" | b"covered-table-cell" => table.cell(&e, true),
                _ => {}
            },
            Event::Empty(e) => match e.local_name().as_ref() {
                b"table-row" => {
                    table.start_row(&e);
                    table.end_row();
                }
                b"table-cell" | b"covered-table-cell" => table.cell(&e, false),
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                b"table-row" => table.end_row(),
                b"table" => {
                    total = total.saturating_add(table.area());
                    if total > MAX_CELLS {
                        return Err(too_many(total));
                    }
                    table = TableScan::default();
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
        if total.saturating_add(table.area()) > MAX_CELLS {
            return Err(too_many(total.saturating_add(table.area())));
        }
    }
    Ok(())
}

#[derive(Default)]
struct TableScan {
    /// Rows so far, repeats counted (capped like calamine caps them).
    rows: u64,
    /// The current row's repeat count.
    repeat: u64,
    /// Columns so far in the current row, repeats counted.
    cols: u64,
    /// End of the current row's last non-empty cell.
    row_width: u64,
    first: Option<u64>,
    /// End (exclusive) of the last row with a non-empty cell.
    last: u64,
    width: u64,
}

impl TableScan {
    fn start_row(&mut self, e: &BytesStart<'_>) {
        self.repeat = repeat(e, b"number-rows-repeated").min(MAX_ROWS.saturating_sub(self.rows));
        self.cols = 0;
        self.row_width = 0;
    }

    /// `content`: the cell has child elements (text), so calamine keeps it.
    fn cell(&mut self, e: &BytesStart<'_>, content: bool) {
        let n = repeat(e, b"number-columns-repeated").min(MAX_COLUMNS.saturating_sub(self.cols));
        self.cols += n;
        let valued = e
            .attributes()
            .flatten()
            .any(|a| matches!(a.key.local_name().as_ref(), b"value-type" | b"formula"));
        if content || valued {
            self.row_width = self.cols;
        }
    }

    fn end_row(&mut self) {
        if self.row_width > 0 {
            self.first.get_or_insert(self.rows);
            self.last = self.rows + self.repeat;
            self.width = self.width.max(self.row_width);
        }
        self.rows += self.repeat;
        self.repeat = 0;
        self.row_width = 0;
    }

    fn area(&self) -> u64 {
        match self.first {
            Some(first) => self.last.saturating_sub(first).saturating_mul(self.width),
            None => 0,
        }
    }
}

/// A repeat count attribute; 1 when absent or unreadable (calamine then refuses the file).
fn repeat(e: &BytesStart<'_>, name: &[u8]) -> u64 {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| {
            std::str::from_utf8(&a.value)
                .ok()?
                .trim()
                .parse::<u64>()
                .ok()
        })
        .unwrap_or(1)
}

/// XLS: the grid calamine will allocate, from the workbook stream's records. calamine
/// reserves room for the cells a sheet's DIMENSIONS record declares, then builds a grid
/// spanning its cells' positions; both are bounded here, and the records on which
/// calamine's arithmetic would overflow are refused as damage.
fn xls_precheck(bytes: &[u8], kind: DocKind) -> Result<(), ExtractError> {
    let mut cfb = cfb::CompoundFile::open(Cursor::new(bytes)).map_err(|e| {
        damaged(
            kind,
            format!("it is not a valid Excel 97-2003 workbook container: {e}"),
        )
    })?;
    // calamine takes the first entry named Workbook (or Book) anywhere; all are checked.
    let streams: Vec<std::path::PathBuf> = cfb
        .walk()
        .filter(|e| {
            e.is_stream()
                && (e.name().eq_ignore_ascii_case("workbook")
                    || e.name().eq_ignore_ascii_case("book"))
        })
        .map(|e| e.path().to_path_buf())
        .collect();
    let mut total = 0u64;
    for path in streams {
        let mut stream = Vec::new();
        cfb.open_stream(&path)
            .and_then(|s| s.take(bytes.len() as u64).read_to_end(&mut stream))
            .map_err(|e| damaged(kind, format!("cannot read the workbook stream: {e}")))?;
        total = total.saturating_add(biff_grid(&stream).map_err(|why| damaged(kind, why))?);
        if total > MAX_CELLS {
            return Err(too_many(total));
        }
    }
    Ok(())
}

/// BIFF records as calamine reads them: type, length, data.
fn records<'a>(mut s: &'a [u8]) -> impl Iterator<Item = (u16, &'a [u8])> + 'a {
    std::iter::from_fn(move || {
        if s.len() < 4 {
            return None;
        }
        let typ = u16::from_le_bytes([s[0], s[1]]);
        let len = u16::from_le_bytes([s[2], s[3]]) as usize;
        if s.len() < len + 4 {
            return None;
        }
        let data = &s[4..4 + len];
        s = &s[4 + len..];
        Some((typ, data))
    })
}

fn u16_at(d: &[u8], i: usize) -> u64 {
    d.get(i..i + 2)
        .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]) as u64)
}

fn u32_at(d: &[u8], i: usize) -> u64 {
    d.get(i..i + 4)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64)
}

/// The cells calamine allocates for one workbook stream (all its sheets).
fn biff_grid(stream: &[u8]) -> Result<u64, String> {
    // BoundSheet8 records name the sheets and where their records start.
    let mut starts = Vec::new();
    for (typ, data) in records(stream) {
        match typ {
            // calamine indexes these without checking their length.
            0x0809 if data.len() < 2 => return Err("a record is cut short".into()),
            0x0085 if data.len() < 6 => return Err("a sheet record is cut short".into()),
            0x0085 => starts.push(u32_at(data, 0) as usize),
            0x000A => break,
            _ => {}
        }
    }
    let mut total = 0u64;
    for pos in starts {
        let Some(sheet) = stream.get(pos..) else {
            return Err("a sheet starts past the end of the workbook".into());
        };
        let mut reserved = 0u64;
        let mut bounds: Option<(u64, u64, u64, u64)> = None;
        let mut cell = |row: u64, first: u64, last: u64| {
            let b = bounds.get_or_insert((row, row, first, last));
            *b = (b.0.min(row), b.1.max(row), b.2.min(first), b.3.max(last));
        };
        let (mut seen_bof, mut nested) = (false, 0usize);
        for (typ, data) in records(sheet) {
            if nested > 0 {
                match typ {
                    0x0809 => nested += 1,
                    0x000A => nested -= 1,
                    _ => {}
                }
                continue;
            }
            match typ {
                0x0809 if seen_bof => nested += 1,
                0x0809 => seen_bof = true,
                0x000A => break,
                // DIMENSIONS, parsed as calamine parses it.
                0x0200 => {
                    let (rf, rl, mut cf, cl) = match data.len() {
                        10 => (
                            u16_at(data, 0),
                            u16_at(data, 2),
                            u16_at(data, 4),
                            u16_at(data, 6),
                        ),
                        14 | 16 => (
                            u32_at(data, 0),
                            u32_at(data, 4),
                            u16_at(data, 8),
                            u16_at(data, 10),
                        ),
                        _ => continue, // calamine refuses it
                    };
                    if 0xFF < cf || cl < cf {
                        cf = 0;
                    }
                    if rl >= 1 && cl >= 1 {
                        if rl - 1 < rf || cl - 1 < cf {
                            return Err("a sheet's dimensions end before they start".into());
                        }
                        let area = (rl - rf).saturating_mul(cl - cf);
                        reserved = reserved.max(area);
                    }
                }
                // Number, Label, RString, BoolErr, Rk, LabelSst, Formula.
                0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD | 0x0006 if data.len() >= 4 => {
                    let col = u16_at(data, 2);
                    cell(u16_at(data, 0), col, col);
                }
                // MulRk: a run of columns.
                0x00BD if data.len() >= 6 => {
                    let (first, last) = (u16_at(data, 2), u16_at(data, data.len() - 2));
                    if last < first {
                        return Err("a row of numbers ends before it starts".into());
                    }
                    cell(u16_at(data, 0), first, last);
                }
                _ => {}
            }
        }
        let grid = bounds.map_or(0, |(r0, r1, c0, c1)| (r1 - r0 + 1) * (c1 - c0 + 1));
        total = total.saturating_add(reserved.max(grid));
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_well() {
        assert_eq!(float(0.1 + 0.2), "0.3");
        assert_eq!(float(100.0), "100");
        assert_eq!(float(-2.5), "-2.5");
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(16_383), "XFD");
        assert_eq!(iso_duration("PT10H30M15S"), "10:30:15");
        assert_eq!(iso_duration("P1D"), "P1D");
        let d = ExcelDateTime::new(45_366.0, calamine::ExcelDateTimeType::DateTime, false);
        assert_eq!(datetime(&d), "2024-03-15");
        let d = ExcelDateTime::new(45_366.5, calamine::ExcelDateTimeType::DateTime, false);
        assert_eq!(datetime(&d), "2024-03-15 12:00");
        let d = ExcelDateTime::new(0.75, calamine::ExcelDateTimeType::DateTime, false);
        assert_eq!(datetime(&d), "18:00");
        let d = ExcelDateTime::new(1.5, calamine::ExcelDateTimeType::TimeDelta, false);
        assert_eq!(datetime(&d), "36:00:00");
        assert_eq!(one_line(" a\n b\t c "), "a b c");
    }

    #[test]
    fn header_pairs() {
        let limits = Limits::default();
        let mut out = Out::new(&limits);
        out.start_sheet("Sales").unwrap();
        out.row(&[(0, "Region".into()), (2, "Amount".into())])
            .unwrap();
        out.row(&[(0, "North".into()), (1, "x".into()), (2, "12".into())])
            .unwrap();
        out.start_sheet("Empty").unwrap();
        assert_eq!(
            out.finish(),
            "Sheet: Sales\nRegion | Amount\nRegion: North; B: x; Amount: 12\x0cSheet: Empty"
        );
    }

    #[test]
    fn biff_grid_bounds() {
        fn rec(typ: u16, data: &[u8]) -> Vec<u8> {
            let mut v = typ.to_le_bytes().to_vec();
            v.extend((data.len() as u16).to_le_bytes());
            v.extend(data);
            v
        }
        let mut sheet = rec(0x0809, &[0; 16]);
        // DIMENSIONS: rows 0..1_000_000, columns 0..200.
        let mut dim = Vec::new();
        dim.extend(0u32.to_le_bytes());
        dim.extend(1_000_000u32.to_le_bytes());
        dim.extend(0u16.to_le_bytes());
        dim.extend(200u16.to_le_bytes());
        dim.extend([0, 0]);
        sheet.extend(rec(0x0200, &dim));
        sheet.extend(rec(0x000A, &[]));
        let mut glob = Vec::new();
        let bound_len = rec(0x0085, &[0; 8]).len() + rec(0x000A, &[]).len();
        let mut bs = (bound_len as u32).to_le_bytes().to_vec();
        bs.extend([0; 4]);
        glob.extend(rec(0x0085, &bs));
        glob.extend(rec(0x000A, &[]));
        glob.extend(sheet);
        assert_eq!(biff_grid(&glob), Ok(200_000_000));
    }
}
