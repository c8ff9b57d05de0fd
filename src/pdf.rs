//! The certificate PDF (A4, Chinese), drawn with krilla. The Chinese font ships in `static/fonts/`
//! (Noto Serif SC, OFL) and is embedded in the binary; krilla subsets it, so a certificate is tens of
//! kilobytes. Text the font cannot show is refused with the character named — never drawn as a box.

use std::sync::{Arc, OnceLock};

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};

use crate::domain::certificate::CertificateContent;
use crate::i18n::Text;

const FONT: &[u8] = include_bytes!("../static/fonts/NotoSerifSC-Regular.ttf");

fn font_data() -> Arc<Vec<u8>> {
    // Parsed once per process; krilla only reads headers when a Font is made from it.
    static DATA: OnceLock<Arc<Vec<u8>>> = OnceLock::new();
    DATA.get_or_init(|| Arc::new(FONT.to_vec())).clone()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfError {
    #[error("the certificate font cannot show “{ch}” (U+{code:04X}) in the {field}")]
    MissingGlyph { field: &'static str, ch: char, code: u32 },
    #[error("rendering the certificate failed: {0}")]
    Render(String),
}

impl PdfError {
    pub fn text(&self) -> Text {
        match self {
            PdfError::MissingGlyph { field, ch, code } => {
                let zh_field = match *field {
                    "name" => "姓名",
                    "committee" => "业委会名称",
                    "estate" => "小区名称",
                    "session" => "培训名称",
                    "street" => "街道名称",
                    _ => "主讲人姓名",
                };
                Text::new(
                    format!(
                        "{zh_field}中的“{ch}”（U+{code:04X}）无法在证书字体中显示，不能生成证书。请联系管理员更正。"
                    ),
                    format!(
                        "The certificate font cannot show “{ch}” (U+{code:04X}) in the {field}; no certificate is rendered. Ask an administrator to correct it."
                    ),
                )
            }
            PdfError::Render(e) => Text::new(
                format!("证书生成失败：{e}"),
                format!("rendering the certificate failed: {e}"),
            ),
        }
    }
}

/// The first character of `s` the font has no glyph for.
pub fn unsupported_char(s: &str) -> Option<char> {
    let data = font_data();
    let face = rustybuzz::Face::from_slice(&data, 0)?;
    s.chars()
        .filter(|c| !c.is_whitespace())
        .find(|c| face.glyph_index(*c).is_none_or(|g| g.0 == 0))
}

fn text_width(face: &rustybuzz::Face, s: &str, size: f32) -> f32 {
    let mut buf = rustybuzz::UnicodeBuffer::new();
    buf.push_str(s);
    buf.guess_segment_properties();
    let out = rustybuzz::shape(face, &[], buf);
    out.glyph_positions().iter().map(|p| p.x_advance as f32).sum::<f32>() * size / face.units_per_em() as f32
}

/// Breaks text into lines no wider than `width`. Chinese breaks between any two characters; a run of
/// Latin letters or digits (a year, a score) stays together, and closing punctuation stays with the
/// text before it.
fn wrap(face: &rustybuzz::Face, s: &str, size: f32, width: f32) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    for c in s.chars() {
        match tokens.last_mut() {
            Some(t)
                if c.is_ascii_alphanumeric()
                    && t.chars().last().is_some_and(|p| p.is_ascii_alphanumeric() || p == '/') =>
            {
                t.push(c)
            }
            Some(t) if (c == '/' || "，。、；：”）》".contains(c)) && !t.is_empty() => t.push(c),
            _ => tokens.push(c.to_string()),
        }
    }
    let mut lines = Vec::new();
    let mut line = String::new();
    for t in tokens {
        if !line.is_empty() && text_width(face, &format!("{line}{t}"), size) > width {
            lines.push(std::mem::take(&mut line));
        }
        line.push_str(&t);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn fill((r, g, b): (u8, u8, u8)) -> Fill {
    Fill {
        paint: rgb::Color::new(r, g, b).into(),
        ..Default::default()
    }
}

// A4 in points, and the left and right margin of the text.
const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 80.0;
const INK: (u8, u8, u8) = (30, 30, 30);
const GREY: (u8, u8, u8) = (90, 90, 90);

/// Renders the certificate. `verify_url` goes into the QR code and is printed below it.
pub fn render(c: &CertificateContent, serial: &str, code: &str, verify_url: &str) -> Result<Vec<u8>, PdfError> {
    check_glyphs(c)?;
    let data = font_data();
    let face = rustybuzz::Face::from_slice(&data, 0).ok_or_else(|| PdfError::Render("font".into()))?;
    let font = Font::new(data.clone().into(), 0).ok_or_else(|| PdfError::Render("font".into()))?;
    let qr = qrcode::QrCode::with_error_correction_level(verify_url.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| PdfError::Render(e.to_string()))?;

    let mut doc = Document::new();
    doc.set_metadata(
        Metadata::new()
            .title(format!("结业证书 {serial} {}", c.name))
            .creator("业委会学堂 Quorum".to_string()),
    );
    let mut page = doc.start_page();
    let mut surface = page.surface();
    draw_frame(&mut surface);
    let mut pen = Pen {
        s: &mut surface,
        face: &face,
        font,
    };
    draw_heading(&mut pen, c);
    draw_body(&mut pen, c);
    draw_issuer(&mut pen, c);
    draw_verification(&mut pen, serial, code, verify_url, &qr);
    surface.finish();
    page.finish();
    doc.finish().map_err(|e| PdfError::Render(format!("{e:?}")))
}

/// Refuses a certificate with a character the font cannot show, naming the field.
fn check_glyphs(c: &CertificateContent) -> Result<(), PdfError> {
    for (field, t) in c.texts() {
        if let Some(ch) = unsupported_char(t) {
            return Err(PdfError::MissingGlyph {
                field,
                ch,
                code: ch as u32,
            });
        }
    }
    Ok(())
}

/// Draws text in the certificate font on a page.
struct Pen<'p, 's> {
    s: &'p mut Surface<'s>,
    face: &'p rustybuzz::Face<'p>,
    font: Font,
}

impl Pen<'_, '_> {
    fn text(&mut self, x: f32, y: f32, size: f32, text: &str) {
        self.s.draw_text(
            Point::from_xy(x, y),
            self.font.clone(),
            size,
            text,
            false,
            TextDirection::Auto,
        );
    }

    fn centred(&mut self, text: &str, size: f32, y: f32, colour: Fill) {
        self.s.set_fill(Some(colour));
        let x = (PAGE_WIDTH - text_width(self.face, text, size)) / 2.0;
        self.text(x, y, size, text);
    }

    fn right(&mut self, text: &str, size: f32, y: f32) {
        let x = PAGE_WIDTH - MARGIN - text_width(self.face, text, size);
        self.text(x, y, size, text);
    }
}

/// A gold double frame.
fn draw_frame(s: &mut Surface) {
    s.set_fill(None);
    for (inset, width) in [(24.0f32, 3.0f32), (34.0, 1.0)] {
        s.set_stroke(Some(Stroke {
            paint: rgb::Color::new(160, 120, 40).into(),
            width,
            ..Default::default()
        }));
        let mut pb = PathBuilder::new();
        if let Some(r) = Rect::from_xywh(inset, inset, PAGE_WIDTH - 2.0 * inset, PAGE_HEIGHT - 2.0 * inset) {
            pb.push_rect(r);
        }
        if let Some(p) = pb.finish() {
            s.draw_path(&p);
        }
    }
    s.set_stroke(None);
}

fn draw_heading(pen: &mut Pen, c: &CertificateContent) {
    pen.centred("结 业 证 书", 46.0, 160.0, fill((150, 30, 30)));
    pen.centred("CERTIFICATE OF COMPLETION", 12.0, 188.0, fill((120, 90, 30)));
    pen.centred(&format!("{} 同志：", c.name), 26.0, 270.0, fill(INK));
}

/// What was attended and passed, wrapped to the margins, then the lecturers.
fn draw_body(pen: &mut Pen, c: &CertificateContent) {
    let body = if c.via_replay {
        format!(
            "您作为{}（{}）的代表，观看了{}于{}举办的“{}”培训的录像，并通过回看补测（{}/{}），成绩合格，特发此证。",
            c.committee, c.estate, c.street, c.session_date, c.session_title, c.correct, c.total
        )
    } else {
        format!(
            "您作为{}（{}）的代表，于{}参加了{}举办的“{}”培训，并通过随堂测试（{}/{}），成绩合格，特发此证。",
            c.committee, c.estate, c.session_date, c.street, c.session_title, c.correct, c.total
        )
    };
    pen.s.set_fill(Some(fill(INK)));
    let mut y = 330.0;
    for line in wrap(pen.face, &format!("　　{body}"), 17.0, PAGE_WIDTH - 2.0 * MARGIN) {
        pen.text(MARGIN, y, 17.0, &line);
        y += 30.0;
    }
    if !c.lecturers.is_empty() {
        y += 10.0;
        pen.text(MARGIN, y, 15.0, &format!("主讲律师：{}", c.lecturers.join("、")));
    }
}

/// The issuing street office and the date, flush right.
fn draw_issuer(pen: &mut Pen, c: &CertificateContent) {
    pen.right(&format!("{}办事处", c.street.trim_end_matches("办事处")), 18.0, 610.0);
    pen.right(&c.issued_on, 16.0, 640.0);
}

/// Serial, code and the QR code for public verification.
fn draw_verification(pen: &mut Pen, serial: &str, code: &str, verify_url: &str, qr: &qrcode::QrCode) {
    pen.s.set_fill(Some(fill(GREY)));
    pen.text(60.0, 720.0, 11.0, &format!("证书编号：{serial}"));
    pen.text(60.0, 740.0, 11.0, &format!("验证码：{code}"));
    pen.text(60.0, 760.0, 9.0, verify_url);
    let (ox, oy) = (PAGE_WIDTH - 60.0 - 90.0, 690.0);
    pen.s.set_fill(Some(fill((0, 0, 0))));
    if let Some(p) = qr_path(qr, ox, oy, 90.0) {
        pen.s.draw_path(&p);
    }
    pen.s.set_fill(Some(fill(GREY)));
    pen.text(ox + 18.0, oy + 104.0, 9.0, "扫码验证真伪");
}

/// The dark modules of a QR code as `size`-point square at (`ox`, `oy`), one rectangle per run of
/// dark modules in a row.
fn qr_path(qr: &qrcode::QrCode, ox: f32, oy: f32, size: f32) -> Option<krilla::geom::Path> {
    let n = qr.width();
    let module = size / n as f32;
    let mut pb = PathBuilder::new();
    for yq in 0..n {
        let mut x = 0;
        while x < n {
            if qr[(x, yq)] != qrcode::Color::Dark {
                x += 1;
                continue;
            }
            let start = x;
            while x < n && qr[(x, yq)] == qrcode::Color::Dark {
                x += 1;
            }
            if let Some(r) = Rect::from_xywh(
                ox + start as f32 * module,
                oy + yq as f32 * module,
                (x - start) as f32 * module,
                module,
            ) {
                pb.push_rect(r);
            }
        }
    }
    pb.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> CertificateContent {
        CertificateContent {
            name: name.into(),
            committee: "联洋花园业主委员会".into(),
            estate: "联洋花园".into(),
            session_title: "业主大会召开与业委会换届改选实务".into(),
            session_date: "2026年11月25日".into(),
            lecturers: vec!["刘建国".into()],
            correct: 9,
            total: 10,
            street: "花木街道".into(),
            issued_on: "2026年11月25日".into(),
            via_replay: false,
        }
    }

    #[test]
    fn renders_a_small_pdf_and_refuses_missing_glyphs() {
        let pdf = render(
            &sample("王秀英"),
            "2026-S0002-00001",
            "ABCD2345EFGH",
            "http://127.0.0.1/verify/ABCD2345EFGH",
        )
        .unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        assert!(pdf.len() < 200_000, "subset font: {} bytes", pdf.len());
        assert!(
            unsupported_char("堃珺昇喆玥").is_none(),
            "names with rarer characters render"
        );
        let e = render(&sample("王\u{20000}"), "s", "c", "u").unwrap_err();
        assert_eq!(
            e,
            PdfError::MissingGlyph {
                field: "name",
                ch: '\u{20000}',
                code: 0x20000
            }
        );
        assert!(e.text().zh.contains("U+20000"));
    }
}
