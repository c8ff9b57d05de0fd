//! Reads roster files as street offices keep them: CSV in UTF-8 (with or without BOM) or GBK/GB18030
//! (Excel's default "CSV" on Chinese Windows), or an XLSX workbook (first sheet). Produces raw rows with
//! the line number a person sees in Excel; validation is the domain's job.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};

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

pub fn read(bytes: &[u8]) -> ReadRoster {
    if bytes.starts_with(b"PK\x03\x04") {
        read_xlsx(bytes)
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        file_error(
            "这是旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 或 CSV 后再上传",
            "this is an old Excel .xls file; save it as .xlsx or CSV and upload again",
        )
    } else {
        read_csv(&decode_text(bytes))
    }
}

/// UTF-8 when the bytes are valid UTF-8 (BOM stripped), otherwise GB18030, a superset of GBK and GB2312.
pub fn decode_text(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GB18030.decode_without_bom_handling(bytes).0.into_owned(),
    }
}

fn read_csv(text: &str) -> ReadRoster {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    // The csv crate's own line counter skips blank lines; count newlines before each record's byte
    // offset instead, so the number matches what a person sees in a text editor or Excel.
    let newlines: Vec<usize> = text
        .bytes()
        .enumerate()
        .filter(|(_, b)| *b == b'\n')
        .map(|(i, _)| i)
        .collect();
    // A record's reported offset can point at blank lines skipped before it: step over them first.
    let bytes = text.as_bytes();
    let line_at = |byte: u64| {
        let mut b = byte as usize;
        while b < bytes.len() && matches!(bytes[b], b'\n' | b'\r') {
            b += 1;
        }
        newlines.partition_point(|&i| i < b) + 1
    };
    let mut lines: Vec<(usize, Vec<String>)> = Vec::new();
    let mut errors = Vec::new();
    for record in reader.records() {
        match record {
            Ok(r) => {
                let line = r.position().map(|p| line_at(p.byte())).unwrap_or(lines.len() + 1);
                lines.push((line, r.iter().map(str::to_string).collect()));
            }
            Err(e) => {
                let line = e.position().map(|p| line_at(p.byte())).unwrap_or(0);
                errors.push(RowError {
                    line,
                    column: None,
                    message: Text::new(format!("CSV 格式错误：{e}"), format!("malformed CSV: {e}")),
                });
            }
        }
    }
    into_rows(lines, errors)
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

fn read_xlsx(bytes: &[u8]) -> ReadRoster {
    let mut book: Xlsx<_> = match open_workbook_from_rs(Cursor::new(bytes)) {
        Ok(b) => b,
        Err(e) => {
            return file_error(
                format!("无法读取 Excel 文件：{e}"),
                format!("cannot read the Excel file: {e}"),
            );
        }
    };
    let range = match book.worksheet_range_at(0) {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            return file_error(
                format!("无法读取第一个工作表：{e}"),
                format!("cannot read the first sheet: {e}"),
            );
        }
        None => return file_error("Excel 文件中没有工作表", "the workbook has no sheets"),
    };
    let first_row = range.start().map(|(r, _)| r as usize).unwrap_or(0);
    let first_col = range.start().map(|(_, c)| c as usize).unwrap_or(0);
    let lines = range
        .rows()
        .enumerate()
        .map(|(i, cells)| {
            // Cells left of the used range are blank; keep column positions as Excel shows them.
            let mut v = vec![String::new(); first_col];
            v.extend(cells.iter().map(cell_text));
            (first_row + i + 1, v)
        })
        .collect();
    into_rows(lines, Vec::new())
}

/// The first non-blank line is the header; blank lines are skipped.
fn into_rows(lines: Vec<(usize, Vec<String>)>, mut errors: Vec<RowError>) -> ReadRoster {
    let blank = |cells: &[String]| cells.iter().all(|c| c.trim().is_empty());
    let mut iter = lines.into_iter().filter(|(_, c)| !blank(c));
    let Some((header_line, header)) = iter.next() else {
        errors.push(RowError {
            line: 0,
            column: None,
            message: Text::new("文件是空的", "the file is empty"),
        });
        return ReadRoster {
            rows: Vec::new(),
            errors,
        };
    };
    let mapping = match map_header(header_line, &header) {
        Ok(m) => m,
        Err(errs) => {
            errors.extend(errs);
            return ReadRoster {
                rows: Vec::new(),
                errors,
            };
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
            "\n姓名,手机号,居委,小区,职务\n张三,13800000001,一居,花园,主任\n\n李四,13800000002,一居,花园,委员\n"
                .as_bytes(),
        );
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        assert_eq!(r.rows.iter().map(|r| r.line).collect::<Vec<_>>(), vec![3, 5]);
        assert_eq!(r.rows[1].cells["姓名"], "李四");
    }

    #[test]
    fn xls_is_explained() {
        let r = read(&[0xD0, 0xCF, 0x11, 0xE0, 0, 0]);
        assert!(r.errors[0].message.zh.contains(".xlsx"));
    }
}
