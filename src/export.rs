//! Tables for reports, rendered the same way on the page and in exports: CSV in UTF-8 with a BOM (so
//! Excel on Chinese Windows reads it right) and XLSX.

/// A cell: text, or a number Excel can sum. Numbers are typed as numbers (never pre-formatted text), so
/// that only text goes through the formula-injection escaping of the CSV writer.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    /// Whole numbers as such, others with one decimal.
    Number(f64),
    /// A number shown with this many decimals (e.g. a discrimination index, -0.12).
    Decimal(f64, usize),
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cell::Text(t) => f.write_str(t),
            Cell::Number(n) if n.fract() == 0.0 => write!(f, "{}", *n as i64),
            Cell::Number(n) => write!(f, "{n:.1}"),
            Cell::Decimal(n, places) => write!(f, "{n:.places$}"),
        }
    }
}

/// Text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, or a tab or carriage return
/// before one) gets a leading apostrophe, so a name like `=HYPERLINK(…)` stays a name when the CSV is
/// opened in Excel or WPS. Numbers are written by `Cell::Number`/`Decimal` and never pass through here.
fn csv_text(s: &str) -> std::borrow::Cow<'_, str> {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}").into(),
        _ => s.into(),
    }
}

fn csv_cell(c: &Cell) -> String {
    match c {
        Cell::Text(t) => csv_text(t).into_owned(),
        n => n.to_string(),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub title: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

pub fn csv(t: &Table) -> Result<Vec<u8>, String> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(t.headers.iter().map(|h| csv_text(h).into_owned()))
            .map_err(|e| e.to_string())?;
        for r in &t.rows {
            w.write_record(r.iter().map(csv_cell)).map_err(|e| e.to_string())?;
        }
        w.flush().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

pub fn xlsx(t: &Table) -> Result<Vec<u8>, String> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let name: String = t.title.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect();
    sheet
        .set_name(if name.is_empty() { "report" } else { &name })
        .map_err(|e| e.to_string())?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, h) in t.headers.iter().enumerate() {
        sheet
            .write_string_with_format(0, c as u16, h, &bold)
            .map_err(|e| e.to_string())?;
    }
    for (r, row) in t.rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32 + 1, c as u16);
            // `write_string` stores a text cell, never a formula, so XLSX needs no escaping.
            match cell {
                Cell::Text(s) => sheet.write_string(r, c, s),
                Cell::Number(n) => sheet.write_number(r, c, *n),
                Cell::Decimal(n, places) => {
                    let format = rust_xlsxwriter::Format::new().set_num_format(format!("0.{}", "0".repeat(*places)));
                    sheet.write_number_with_format(r, c, *n, &format)
                }
            }
            .map_err(|e| e.to_string())?;
        }
    }
    book.save_to_buffer().map_err(|e| e.to_string())
}

/// Packs named files into one zip (the session evidence pack).
pub fn zip(files: &[(String, Vec<u8>)]) -> Result<Vec<u8>, String> {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = ::zip::ZipWriter::new(&mut buf);
        let opts = ::zip::write::SimpleFileOptions::default().compression_method(::zip::CompressionMethod::Deflated);
        for (name, bytes) in files {
            z.start_file(name.as_str(), opts).map_err(|e| e.to_string())?;
            z.write_all(bytes).map_err(|e| e.to_string())?;
        }
        z.finish().map_err(|e| e.to_string())?;
    }
    Ok(buf.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: Vec<Vec<Cell>>) -> Table {
        Table {
            title: "t".into(),
            headers: vec!["姓名".into(), "分".into()],
            rows,
        }
    }

    #[test]
    fn csv_text_that_looks_like_a_formula_gets_an_apostrophe_but_numbers_stay_numbers() {
        let t = table(vec![
            vec![
                Cell::Text("=HYPERLINK(\"http://evil.example\",\"x\")".into()),
                Cell::Number(-3.0),
            ],
            vec![Cell::Text("+cmd|' /C calc'!A0".into()), Cell::Decimal(-0.1234, 2)],
            vec![Cell::Text("-1+1".into()), Cell::Number(2.5)],
            vec![Cell::Text("@SUM(A1:A2)".into()), Cell::Text("\t=1".into())],
            vec![Cell::Text("\r=1".into()), Cell::Text("张三".into())],
        ]);
        let out = String::from_utf8(csv(&t).unwrap()).unwrap();
        let lines: Vec<&str> = out.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(lines[1], "\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",-3");
        assert_eq!(lines[2], "'+cmd|' /C calc'!A0,-0.12");
        assert_eq!(lines[3], "'-1+1,2.5");
        assert_eq!(lines[4], "'@SUM(A1:A2),'\t=1");
        assert!(out.contains("\"'\r=1\",张三"), "{out}");
    }

    #[test]
    fn xlsx_writes_formula_like_text_as_text() {
        use std::io::Read;
        let t = table(vec![vec![
            Cell::Text("=HYPERLINK(\"http://evil.example\")".into()),
            Cell::Number(-1.0),
        ]]);
        let bytes = xlsx(&t).unwrap();
        let mut z = ::zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut sheet = String::new();
        z.by_name("xl/worksheets/sheet1.xml")
            .unwrap()
            .read_to_string(&mut sheet)
            .unwrap();
        assert!(!sheet.contains("<f>"), "no formula cell: {sheet}");
        assert!(sheet.contains("<v>-1</v>"), "the number stays a number: {sheet}");
        let mut strings = String::new();
        z.by_name("xl/sharedStrings.xml")
            .unwrap()
            .read_to_string(&mut strings)
            .unwrap();
        assert!(strings.contains("=HYPERLINK("), "kept verbatim as a string: {strings}");
    }
}
