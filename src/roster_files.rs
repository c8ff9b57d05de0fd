//! Reads roster files as street offices keep them: CSV in UTF-8 (with or without BOM) or GBK/GB18030
//! (Excel's default "CSV" on Chinese Windows), or an XLSX workbook (first sheet). Produces raw rows with
//! the line number a person sees in Excel; validation is the domain's job.
//!
//! A file is untrusted input: a 5 KB workbook can declare (and hold) a cell at XFD1048576, and reading
//! it as a dense range would allocate half a terabyte. So the sheet is streamed cell by cell, only
//! non-empty cells are kept, rows and columns are capped ([`MAX_ROWS`], [`MAX_COLUMNS`]), and the zip's
//! unpacked size is capped before the spreadsheet library sees it.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use calamine::{Data, DataRef, Reader, Xlsx, open_workbook_from_rs};

use crate::domain::roster::{RawRow, RowError, map_header};
use crate::i18n::Text;

/// The rows of a file plus every problem found while reading it.
pub struct ReadRoster {
    pub rows: Vec<RawRow>,
    pub errors: Vec<RowError>,
}

fn file_error(zh: impl Into<String>, en: impl Into<String>) -> ReadRoster {
    ReadRoster {
        rows: Vec::new(),
        errors: vec![RowError {
            line: 0,
            column: None,
            message: Text::new(zh, en),
        }],
    }
}

/// The last line (row) number a roster may use, header included.
pub const MAX_ROWS: usize = 50_000;
/// The number of columns a roster may use (A to AX).
pub const MAX_COLUMNS: usize = 50;
/// The total unpacked size of an XLSX file's parts. A real roster of [`MAX_ROWS`] rows unpacks to
/// a few tens of megabytes at most; a zip bomb would unpack to gigabytes.
pub const MAX_UNPACKED_BYTES: u64 = 96 * 1024 * 1024;

/// Reads a roster file; `filename` only names the file in messages.
pub fn read(filename: &str, bytes: &[u8]) -> ReadRoster {
    if bytes.starts_with(b"PK\x03\x04") {
        read_xlsx(filename, bytes)
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        file_error(
            "这是旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 或 CSV 后再上传",
            "this is an old Excel .xls file; save it as .xlsx or CSV and upload again",
        )
    } else {
        read_csv(filename, &decode_text(bytes))
    }
}

/// Excel's name for a 0-based column index: 0 → A, 25 → Z, 26 → AA.
fn column_name(mut col: u32) -> String {
    let mut name = Vec::new();
    loop {
        name.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    name.reverse();
    String::from_utf8_lossy(&name).into_owned()
}

fn too_large(filename: &str, where_zh: String, where_en: String) -> ReadRoster {
    let last = column_name(MAX_COLUMNS as u32 - 1);
    file_error(
        format!(
            "文件“{filename}”超出了名单的大小上限：最多 {MAX_ROWS} 行、{MAX_COLUMNS} 列（A 到 {last} 列），{where_zh}。请删除多余的行和列（包括只设了格式的空白单元格）后重新上传。"
        ),
        format!(
            "“{filename}” is larger than a roster may be: at most {MAX_ROWS} rows and {MAX_COLUMNS} columns (A to {last}); {where_en}. Delete the extra rows and columns (formatted blank cells too) and upload again."
        ),
    )
}

fn cell_beyond_limits(filename: &str, line: usize, col: usize) -> ReadRoster {
    let cell = format!("{}{line}", column_name(col as u32));
    too_large(
        filename,
        format!("而 {cell} 单元格有内容"),
        format!("cell {cell} has content"),
    )
}

/// UTF-8 when the bytes are valid UTF-8 (BOM stripped), otherwise GB18030, a superset of GBK and GB2312.
pub fn decode_text(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GB18030.decode_without_bom_handling(bytes).0.into_owned(),
    }
}

fn read_csv(filename: &str, text: &str) -> ReadRoster {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let line_at = LineIndex::new(text);
    let mut lines: Vec<(usize, Vec<String>)> = Vec::new();
    let mut errors = Vec::new();
    for record in reader.records() {
        match record {
            Ok(r) => {
                let line = r.position().map(|p| line_at.line(p.byte())).unwrap_or(lines.len() + 1);
                // Blank lines and trailing empty fields carry nothing; content past the caps is refused.
                if let Some(last) = last_filled(&r)
                    && (line > MAX_ROWS || last >= MAX_COLUMNS)
                {
                    return cell_beyond_limits(filename, line, last);
                }
                lines.push((line, r.iter().map(str::to_string).collect()));
            }
            Err(e) => errors.push(RowError {
                line: e.position().map(|p| line_at.line(p.byte())).unwrap_or(0),
                column: None,
                message: Text::new(format!("CSV 格式错误：{e}"), format!("malformed CSV: {e}")),
            }),
        }
    }
    into_rows(lines, errors)
}

/// The index of a record's last non-blank field.
fn last_filled(r: &csv::StringRecord) -> Option<usize> {
    r.iter()
        .enumerate()
        .filter(|(_, c)| !c.trim().is_empty())
        .map(|(i, _)| i)
        .last()
}

/// Line numbers of byte offsets in a text. The csv crate's own line counter skips blank lines; counting
/// newlines before each record's byte offset instead gives the number a person sees in a text editor
/// or Excel.
struct LineIndex<'t> {
    bytes: &'t [u8],
    newlines: Vec<usize>,
}

impl<'t> LineIndex<'t> {
    fn new(text: &'t str) -> LineIndex<'t> {
        let bytes = text.as_bytes();
        let newlines = (bytes.iter().enumerate())
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i)
            .collect();
        LineIndex { bytes, newlines }
    }

    fn line(&self, byte: u64) -> usize {
        // A record's reported offset can point at blank lines skipped before it: step over them first.
        let mut b = byte as usize;
        while b < self.bytes.len() && matches!(self.bytes[b], b'\n' | b'\r') {
            b += 1;
        }
        self.newlines.partition_point(|&i| i < b) + 1
    }
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        // Excel stores a typed-in phone number as a number: 13812345678 arrives as 13812345678.0.
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => dt.to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// Unpacks every part of the zip into nothing, counting: refuses a file whose parts unpack to more
/// than [`MAX_UNPACKED_BYTES`] (the sizes a zip declares can lie, so the bytes are counted).
fn check_unpacked_size(filename: &str, bytes: &[u8]) -> Result<(), ReadRoster> {
    let unreadable = |e: &dyn std::fmt::Display| {
        file_error(
            format!("无法读取 Excel 文件“{filename}”：{e}"),
            format!("cannot read the Excel file “{filename}”: {e}"),
        )
    };
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    let mut left = MAX_UNPACKED_BYTES;
    for i in 0..zip.len() {
        let entry = zip.by_index(i).map_err(|e| unreadable(&e))?;
        let n = std::io::copy(&mut Read::take(entry, left + 1), &mut std::io::sink()).map_err(|e| unreadable(&e))?;
        if n > left {
            let mb = MAX_UNPACKED_BYTES / (1024 * 1024);
            return Err(file_error(
                format!("Excel 文件“{filename}”解压后超过 {mb} MB，不像是一份名单；请另存为 CSV 后重新上传"),
                format!(
                    "the Excel file “{filename}” unpacks to more than {mb} MB, too much for a roster; save it as CSV and upload again"
                ),
            ));
        }
        left -= n;
    }
    Ok(())
}

fn read_xlsx(filename: &str, bytes: &[u8]) -> ReadRoster {
    match xlsx_lines(filename, bytes) {
        Ok(lines) => into_rows(lines, Vec::new()),
        Err(refused) => refused,
    }
}

/// The first sheet's lines that have content.
fn xlsx_lines(filename: &str, bytes: &[u8]) -> Result<Vec<(usize, Vec<String>)>, ReadRoster> {
    check_unpacked_size(filename, bytes)?;
    let (mut book, sheet) = first_sheet(filename, bytes)?;
    let sheet_error = |e: calamine::XlsxError| {
        file_error(
            format!("无法读取“{filename}”的第一个工作表：{e}"),
            format!("cannot read the first sheet of “{filename}”: {e}"),
        )
    };
    // Never `worksheet_range`: it allocates every cell of the used range, empty or not.
    let mut cells = book.worksheet_cells_reader(&sheet).map_err(sheet_error)?;
    check_declared_range(filename, cells.dimensions())?;
    // Non-empty cells only, by row: (line, column) → text.
    let mut rows: BTreeMap<usize, BTreeMap<usize, String>> = BTreeMap::new();
    while let Some(cell) = cells.next_cell().map_err(sheet_error)? {
        let (row, col) = cell.get_position();
        let Some(text) = cell_value(cell.get_value()) else {
            continue;
        };
        let (line, col) = (row as usize + 1, col as usize);
        if line > MAX_ROWS || col >= MAX_COLUMNS {
            return Err(cell_beyond_limits(filename, line, col));
        }
        rows.entry(line).or_default().insert(col, text);
    }
    Ok(rows.into_iter().map(|(line, cells)| (line, dense(cells))).collect())
}

type Workbook<'b> = Xlsx<Cursor<&'b [u8]>>;

/// The workbook and the name of its first sheet.
fn first_sheet<'b>(filename: &str, bytes: &'b [u8]) -> Result<(Workbook<'b>, String), ReadRoster> {
    let book: Workbook = open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| {
        file_error(
            format!("无法读取 Excel 文件“{filename}”：{e}"),
            format!("cannot read the Excel file “{filename}”: {e}"),
        )
    })?;
    match book.sheet_names().into_iter().next() {
        Some(sheet) => Ok((book, sheet)),
        None => Err(file_error(
            format!("Excel 文件“{filename}”中没有工作表"),
            format!("the workbook “{filename}” has no sheets"),
        )),
    }
}

/// The declared used range, checked before reading any cell. It may be absent or lie, so every cell
/// is checked again as it is read.
fn check_declared_range(filename: &str, declared: calamine::Dimensions) -> Result<(), ReadRoster> {
    if (declared.end.0 as usize) < MAX_ROWS && (declared.end.1 as usize) < MAX_COLUMNS {
        return Ok(());
    }
    let range = format!(
        "{}{}:{}{}",
        column_name(declared.start.1),
        declared.start.0 as u64 + 1,
        column_name(declared.end.1),
        declared.end.0 as u64 + 1
    );
    Err(too_large(
        filename,
        format!("而工作表的使用范围是 {range}"),
        format!("the sheet's used range is {range}"),
    ))
}

/// A cell's text; `None` when it has none.
fn cell_value(value: &DataRef) -> Option<String> {
    let text = match value {
        DataRef::Empty => return None,
        DataRef::SharedString(s) => (*s).to_string(),
        other => cell_text(&Data::from(other.clone())),
    };
    (!text.is_empty()).then_some(text)
}

/// A row's cells at the column positions Excel shows: blank cells in between stay blank.
fn dense(cells: BTreeMap<usize, String>) -> Vec<String> {
    let width = cells.keys().next_back().map_or(0, |c| c + 1);
    let mut v = vec![String::new(); width];
    for (c, text) in cells {
        v[c] = text;
    }
    v
}

/// The first non-blank line is the header; blank lines are skipped.
fn into_rows(lines: Vec<(usize, Vec<String>)>, mut errors: Vec<RowError>) -> ReadRoster {
    let blank = |cells: &[String]| cells.iter().all(|c| c.trim().is_empty());
    let mut iter = lines.into_iter().filter(|(_, c)| !blank(c));
    let mapping = match iter.next() {
        None => Err(vec![RowError {
            line: 0,
            column: None,
            message: Text::new("文件是空的", "the file is empty"),
        }]),
        Some((header_line, header)) => map_header(header_line, &header),
    };
    let mapping = match mapping {
        Ok(m) => m,
        Err(errs) => {
            errors.extend(errs);
            let rows = Vec::new();
            return ReadRoster { rows, errors };
        }
    };
    let rows = iter
        .map(|(line, cells)| RawRow {
            line,
            cells: mapping
                .iter()
                .zip(cells)
                .filter_map(|(col, value)| col.map(|c| (c, value)))
                .collect(),
        })
        .collect();
    ReadRoster { rows, errors }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_gbk_and_bom() {
        let (gbk, _, _) = encoding_rs::GBK.encode("姓名,手机号\n张三,13800000001\n");
        assert!(decode_text(&gbk).starts_with("姓名"));
        assert_eq!(decode_text(b"\xEF\xBB\xBFabc"), "abc");
    }

    #[test]
    fn csv_lines_are_numbered_as_in_the_file() {
        let r = read(
            "t.csv",
            "\n姓名,手机号,居委,小区,职务\n张三,13800000001,一居,花园,主任\n\n李四,13800000002,一居,花园,委员\n"
                .as_bytes(),
        );
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        assert_eq!(r.rows.iter().map(|r| r.line).collect::<Vec<_>>(), vec![3, 5]);
        assert_eq!(r.rows[1].cells["姓名"], "李四");
    }

    #[test]
    fn xls_is_explained() {
        let r = read("t.xls", &[0xD0, 0xCF, 0x11, 0xE0, 0, 0]);
        assert!(r.errors[0].message.zh.contains(".xlsx"));
    }

    fn header(sheet: &mut rust_xlsxwriter::Worksheet) {
        for (c, h) in ["姓名", "手机号", "邮箱", "居委", "小区", "职务"].iter().enumerate() {
            sheet.write_string(0, c as u16, *h).unwrap();
        }
        for (c, v) in ["赵淑珍", "13900000201", "", "梅园居委", "东方城市花园", "主任"]
            .iter()
            .enumerate()
        {
            sheet.write_string(1, c as u16, *v).unwrap();
        }
    }

    /// Rewrites one part of a zip, keeping the others.
    fn replace_in_part(bytes: &[u8], part: &str, from: &str, to: &str) -> Vec<u8> {
        use std::io::Write;
        let mut src = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for i in 0..src.len() {
            let mut f = src.by_index(i).unwrap();
            let name = f.name().to_string();
            let mut data = Vec::new();
            f.read_to_end(&mut data).unwrap();
            if name == part {
                let text = String::from_utf8(data).unwrap();
                assert!(text.contains(from), "{text}");
                data = text.replace(from, to).into_bytes();
            }
            out.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
            out.write_all(&data).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    #[test]
    fn a_sheet_declaring_the_whole_grid_is_refused_before_reading_cells() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        header(sheet);
        sheet.write_string(1_048_575, 16_383, "x").unwrap();
        let r = read("大.xlsx", &book.save_to_buffer().unwrap());
        assert!(r.rows.is_empty());
        let m = &r.errors[0].message.zh;
        assert!(
            m.contains("文件“大.xlsx”超出了名单的大小上限：最多 50000 行、50 列（A 到 AX 列）"),
            "{m}"
        );
        assert!(m.contains("A1:XFD1048576"), "{m}");
    }

    #[test]
    fn a_cell_beyond_the_limits_is_refused_even_when_the_declared_range_lies() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        header(sheet);
        sheet.write_string(1_048_575, 16_383, "x").unwrap();
        let honest = book.save_to_buffer().unwrap();
        let lying = replace_in_part(
            &honest,
            "xl/worksheets/sheet1.xml",
            r#"<dimension ref="A1:XFD1048576"/>"#,
            r#"<dimension ref="A1:F2"/>"#,
        );
        let r = read("lie.xlsx", &lying);
        assert!(r.rows.is_empty());
        assert!(
            r.errors[0].message.zh.contains("XFD1048576 单元格有内容"),
            "{:?}",
            r.errors
        );
        // Columns too: content in column AY (the 51st).
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        header(sheet);
        sheet.write_string(1, 50, "x").unwrap();
        let r = read("wide.xlsx", &book.save_to_buffer().unwrap());
        assert!(r.errors[0].message.en.contains("A1:AY2"), "{:?}", r.errors);
    }

    #[test]
    fn blank_formatted_cells_and_gaps_keep_excel_columns() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        header(sheet);
        let r = read("ok.xlsx", &book.save_to_buffer().unwrap());
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        assert_eq!(r.rows.len(), 1);
        assert_eq!(r.rows[0].line, 2);
        assert_eq!(r.rows[0].cells["小区"], "东方城市花园");
        assert!(!r.rows[0].cells.contains_key("邮箱") || r.rows[0].cells["邮箱"].is_empty());
    }

    #[test]
    fn a_zip_that_unpacks_beyond_the_cap_is_refused() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        header(sheet);
        let ok = book.save_to_buffer().unwrap();
        // A shared-strings part padded with MAX_UNPACKED_BYTES of spaces (which deflate to almost nothing).
        let padding = " ".repeat(MAX_UNPACKED_BYTES as usize + 1);
        let bomb = replace_in_part(&ok, "xl/sharedStrings.xml", "<sst ", &format!("{padding}<sst "));
        assert!(bomb.len() < 1_000_000, "{}", bomb.len());
        let r = read("bomb.xlsx", &bomb);
        assert!(r.errors[0].message.zh.contains("解压后超过 96 MB"), "{:?}", r.errors);
    }

    #[test]
    fn csv_content_beyond_the_limits_is_refused() {
        let mut text = String::from("姓名,手机号,居委,小区,职务\n");
        text.push_str(&"\n".repeat(MAX_ROWS));
        text.push_str("张三,13800000001,一居,花园,主任\n");
        let r = read("long.csv", text.as_bytes());
        assert!(r.errors[0].message.zh.contains("E50002 单元格有内容"), "{:?}", r.errors);
        let wide = format!(
            "姓名,手机号,居委,小区,职务\n张三,13800000001,一居,花园,主任{},x\n",
            ",".repeat(45)
        );
        let r = read("wide.csv", wide.as_bytes());
        assert!(r.errors[0].message.zh.contains("AY2 单元格有内容"), "{:?}", r.errors);
    }
}
