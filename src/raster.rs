//! Pictures as PNG, drawn in-process: WeChat shows and forwards PNG images, but neither SVG nor (on
//! Android) PDF. Used for the invitation QR code, the invitation poster for the chairs' group, and the
//! certificate as a picture.
//!
//! Text is shaped with rustybuzz and drawn from the font's own outlines (the certificate's font,
//! `static/fonts/`), so a picture reads exactly like the PDF; a character the font lacks is refused with
//! its name rather than drawn as an empty box.

use std::sync::OnceLock;

use tiny_skia::{Color, FillRule, Paint, PathBuilder, Pixmap, Rect, Transform};

const FONT: &[u8] = include_bytes!("../static/fonts/NotoSerifSC-Regular.ttf");

fn face() -> Option<&'static rustybuzz::Face<'static>> {
    static FACE: OnceLock<Option<rustybuzz::Face<'static>>> = OnceLock::new();
    FACE.get_or_init(|| rustybuzz::Face::from_slice(FONT, 0)).as_ref()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RasterError {
    #[error("the font cannot show “{0}” (U+{code:04X})", code = *.0 as u32)]
    MissingGlyph(char),
    #[error("drawing the picture failed: {0}")]
    Draw(String),
}

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    pub const WHITE: Rgb = Rgb(255, 255, 255);
    pub const INK: Rgb = Rgb(30, 30, 30);

    fn paint(self) -> Paint<'static> {
        let mut p = Paint::default();
        p.set_color(Color::from_rgba8(self.0, self.1, self.2, 255));
        p.anti_alias = true;
        p
    }
}

/// Where a line of text goes: left edge or centre, and its baseline.
#[derive(Debug, Clone, Copy)]
pub enum Align {
    Left(f32),
    Centre(f32),
}

pub struct Canvas {
    pixmap: Pixmap,
}

impl Canvas {
    pub fn new(width: u32, height: u32, background: Rgb) -> Result<Canvas, RasterError> {
        let mut pixmap = Pixmap::new(width, height).ok_or_else(|| RasterError::Draw(format!("{width}×{height}")))?;
        pixmap.fill(Color::from_rgba8(background.0, background.1, background.2, 255));
        Ok(Canvas { pixmap })
    }

    pub fn width(&self) -> f32 {
        self.pixmap.width() as f32
    }

    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, colour: Rgb) {
        if let Some(r) = Rect::from_xywh(x, y, w, h) {
            self.pixmap.fill_rect(r, &colour.paint(), Transform::identity(), None);
        }
    }

    /// A frame `width` thick just inside the rectangle.
    pub fn frame(&mut self, x: f32, y: f32, w: f32, h: f32, width: f32, colour: Rgb) {
        self.rect(x, y, w, width, colour);
        self.rect(x, y + h - width, w, width, colour);
        self.rect(x, y, width, h, colour);
        self.rect(x + w - width, y, width, h, colour);
    }

    /// One line of text at `size` pixels; returns its width.
    pub fn text(
        &mut self,
        text: &str,
        size: f32,
        align: Align,
        baseline: f32,
        colour: Rgb,
    ) -> Result<f32, RasterError> {
        let face = face().ok_or_else(|| RasterError::Draw("font".into()))?;
        check_glyphs(face, text)?;
        let width = text_width(text, size);
        let x = match align {
            Align::Left(x) => x,
            Align::Centre(c) => c - width / 2.0,
        };
        let scale = size / face.units_per_em() as f32;
        let mut path = GlyphPath(PathBuilder::new(), scale, 0.0, baseline);
        let mut pen = x;
        for (info, pos) in shaped(face, text) {
            path.2 = pen + pos.x_offset as f32 * scale;
            face.outline_glyph(rustybuzz::ttf_parser::GlyphId(info.glyph_id as u16), &mut path);
            pen += pos.x_advance as f32 * scale;
        }
        if let Some(p) = path.0.finish() {
            self.pixmap
                .fill_path(&p, &colour.paint(), FillRule::Winding, Transform::identity(), None);
        }
        Ok(width)
    }

    /// Text wrapped to `max_width`, at most `max_lines` lines (the last ends in "…" if cut); returns the
    /// baseline after the last line.
    #[allow(clippy::too_many_arguments)]
    pub fn paragraph(
        &mut self,
        text: &str,
        size: f32,
        align: Align,
        first_baseline: f32,
        line_height: f32,
        max_width: f32,
        max_lines: usize,
        colour: Rgb,
    ) -> Result<f32, RasterError> {
        let mut baseline = first_baseline;
        for line in wrap(text, size, max_width, max_lines) {
            self.text(&line, size, align, baseline, colour)?;
            baseline += line_height;
        }
        Ok(baseline)
    }

    /// A QR code `size` pixels square with its quiet zone, top-left at (x, y).
    pub fn qr(&mut self, data: &str, x: f32, y: f32, size: f32) -> Result<(), RasterError> {
        let code = qrcode::QrCode::with_error_correction_level(data.as_bytes(), qrcode::EcLevel::M)
            .map_err(|e| RasterError::Draw(e.to_string()))?;
        let n = code.width();
        // Four modules of quiet zone on each side, as scanners expect.
        let module = (size / (n + 8) as f32).floor().max(1.0);
        let origin = (
            x + (size - module * n as f32) / 2.0,
            y + (size - module * n as f32) / 2.0,
        );
        self.rect(x, y, size, size, Rgb::WHITE);
        for (i, c) in code.to_colors().into_iter().enumerate() {
            if c == qrcode::Color::Dark {
                let (cx, cy) = ((i % n) as f32, (i / n) as f32);
                self.rect(
                    origin.0 + cx * module,
                    origin.1 + cy * module,
                    module,
                    module,
                    Rgb(0, 0, 0),
                );
            }
        }
        Ok(())
    }

    pub fn png(self) -> Result<Vec<u8>, RasterError> {
        self.pixmap.encode_png().map_err(|e| RasterError::Draw(e.to_string()))
    }
}

/// The first character the font has no glyph for, if any.
pub fn unsupported_char(text: &str) -> Option<char> {
    let face = face()?;
    check_glyphs(face, text).err().and_then(|e| match e {
        RasterError::MissingGlyph(c) => Some(c),
        RasterError::Draw(_) => None,
    })
}

fn check_glyphs(face: &rustybuzz::Face, text: &str) -> Result<(), RasterError> {
    match text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '…')
        .find(|c| face.glyph_index(*c).is_none_or(|g| g.0 == 0))
    {
        Some(c) => Err(RasterError::MissingGlyph(c)),
        None => Ok(()),
    }
}

fn shaped(face: &rustybuzz::Face, text: &str) -> Vec<(rustybuzz::GlyphInfo, rustybuzz::GlyphPosition)> {
    let mut buf = rustybuzz::UnicodeBuffer::new();
    buf.push_str(text);
    buf.guess_segment_properties();
    let out = rustybuzz::shape(face, &[], buf);
    out.glyph_infos()
        .iter()
        .copied()
        .zip(out.glyph_positions().iter().copied())
        .collect()
}

/// The width of one line of text at `size` pixels.
pub fn text_width(text: &str, size: f32) -> f32 {
    let Some(face) = face() else { return 0.0 };
    let scale = size / face.units_per_em() as f32;
    shaped(face, text).iter().map(|(_, p)| p.x_advance as f32 * scale).sum()
}

/// Greedy line breaking: Chinese may break between any two characters; a run of Latin letters or
/// digits stays whole where it fits on a line.
pub fn wrap(text: &str, size: f32, max_width: f32, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in pieces(text) {
        let candidate = format!("{line}{word}");
        if !line.is_empty() && text_width(candidate.trim_end(), size) > max_width {
            lines.push(line.trim_end().to_string());
            line = word.trim_start().to_string();
        } else {
            line = candidate;
        }
    }
    if !line.trim().is_empty() {
        lines.push(line.trim_end().to_string());
    }
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            while !last.is_empty() && text_width(&format!("{last}…"), size) > max_width {
                last.pop();
            }
            last.push('…');
        }
    }
    lines
}

/// Breakable pieces: each CJK character alone, ASCII words with their following space.
fn pieces(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || (c.is_ascii_punctuation() && !word.is_empty()) {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        // Closing punctuation stays with the character before it (no line starts with "，").
        if matches!(c, '，' | '。' | '、' | '；' | '：' | '）' | '》' | '”' | ' ') && !out.is_empty() {
            if let Some(last) = out.last_mut() {
                last.push(c);
            }
        } else {
            out.push(c.to_string());
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// Turns a glyph's outline (font units, y up) into a path in pixels (y down) at pen position `.2`,
/// baseline `.3`.
struct GlyphPath(PathBuilder, f32, f32, f32);

impl GlyphPath {
    fn at(&self, x: f32, y: f32) -> (f32, f32) {
        (self.2 + x * self.1, self.3 - y * self.1)
    }
}

impl rustybuzz::ttf_parser::OutlineBuilder for GlyphPath {
    fn move_to(&mut self, x: f32, y: f32) {
        let (x, y) = self.at(x, y);
        self.0.move_to(x, y);
    }
    fn line_to(&mut self, x: f32, y: f32) {
        let (x, y) = self.at(x, y);
        self.0.line_to(x, y);
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let (x1, y1) = self.at(x1, y1);
        let (x, y) = self.at(x, y);
        self.0.quad_to(x1, y1, x, y);
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let (x1, y1) = self.at(x1, y1);
        let (x2, y2) = self.at(x2, y2);
        let (x, y) = self.at(x, y);
        self.0.cubic_to(x1, y1, x2, y2, x, y);
    }
    fn close(&mut self) {
        self.0.close();
    }
}

/// A QR code alone, as a PNG about `size` pixels square (for saving or forwarding).
pub fn qr_png(data: &str, size: u32) -> Result<Vec<u8>, RasterError> {
    let mut c = Canvas::new(size, size, Rgb::WHITE)?;
    c.qr(data, 0.0, 0.0, size as f32)?;
    c.png()
}

/// What the invitation poster shows.
pub struct Poster<'a> {
    pub title: &'a str,
    /// "12月8日（星期二）14:00–16:00".
    pub when: &'a str,
    pub street: &'a str,
    pub lecturers: &'a str,
    pub url: &'a str,
}

/// A poster for the chairs' WeChat group: large type, the time, and a QR code that WeChat opens when
/// long-pressed (长按识别). 1080×1600, a phone screen's shape.
pub fn invitation_poster(p: &Poster) -> Result<Vec<u8>, RasterError> {
    let (w, h) = (1080.0f32, 1600.0f32);
    let red = Rgb(166, 35, 35);
    let mut c = Canvas::new(w as u32, h as u32, Rgb(253, 250, 243))?;
    c.rect(0.0, 0.0, w, 190.0, red);
    c.text("业委会主任培训", 64.0, Align::Centre(w / 2.0), 122.0, Rgb::WHITE)?;
    let after_title = c.paragraph(
        p.title,
        68.0,
        Align::Centre(w / 2.0),
        330.0,
        92.0,
        w - 140.0,
        3,
        Rgb::INK,
    )?;
    let mut y = after_title + 30.0;
    for (label, value) in [("时间", p.when), ("主办", p.street), ("主讲", p.lecturers)] {
        if value.is_empty() {
            continue;
        }
        c.paragraph(
            &format!("{label}：{value}"),
            44.0,
            Align::Centre(w / 2.0),
            y,
            60.0,
            w - 140.0,
            2,
            Rgb::INK,
        )?;
        y += 72.0;
    }
    let qr_size = 640.0f32.min(h - y - 250.0);
    c.qr(p.url, (w - qr_size) / 2.0, y + 10.0, qr_size)?;
    c.text(
        "长按识别二维码，进入培训",
        46.0,
        Align::Centre(w / 2.0),
        y + qr_size + 90.0,
        red,
    )?;
    c.text(
        "不需要密码：用手机号和短信验证码登录",
        36.0,
        Align::Centre(w / 2.0),
        y + qr_size + 150.0,
        Rgb(90, 90, 90),
    )?;
    c.frame(24.0, 24.0 + 190.0, w - 48.0, h - 48.0 - 190.0, 4.0, Rgb(160, 120, 40));
    c.png()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_png(b: &[u8]) -> bool {
        b.starts_with(&[0x89, b'P', b'N', b'G'])
    }

    #[test]
    fn a_qr_png_is_a_png_of_the_size_asked() {
        let png = qr_png("https://example.gov.cn/s/abc", 480).unwrap_or_default();
        assert!(is_png(&png));
        // Width and height are the first fields of the IHDR chunk.
        assert_eq!(&png[16..24], &[0, 0, 1, 224, 0, 0, 1, 224]);
    }

    #[test]
    fn long_titles_wrap_and_are_cut_with_an_ellipsis() {
        let lines = wrap(
            "《上海市住宅物业管理规定》专题培训：业主大会的召开与表决程序",
            68.0,
            940.0,
            2,
        );
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|l| text_width(l, 68.0) <= 940.0), "{lines:?}");
        assert!(lines[1].ends_with('…'));
        assert!(!lines[1].starts_with('：'), "no line starts with a closing mark");
        // Latin words stay whole.
        let lines = wrap("WeChat 微信 WeChat 微信 WeChat 微信", 40.0, 200.0, 9);
        assert!(
            lines.iter().all(|l| !l.ends_with("WeCh") && !l.starts_with("at")),
            "{lines:?}"
        );
    }

    #[test]
    fn the_poster_draws_and_refuses_what_the_font_cannot_show() {
        let p = Poster {
            title: "业主大会的召开与表决",
            when: "12月8日（星期二）14:00–16:00",
            street: "花木街道",
            lecturers: "李律师",
            url: "https://example.gov.cn/s/abc",
        };
        let png = invitation_poster(&p).unwrap_or_default();
        assert!(is_png(&png));
        // To look at it: QUORUM_DUMP_POSTER=/tmp/poster.png cargo test --lib raster
        if let Ok(path) = std::env::var("QUORUM_DUMP_POSTER") {
            let _ = std::fs::write(path, &png);
        }
        assert_eq!(unsupported_char("王秀英"), None);
        let bad = Poster { title: "\u{E000}", ..p };
        assert_eq!(invitation_poster(&bad), Err(RasterError::MissingGlyph('\u{E000}')));
    }
}
