//! Reading a page the way a person or a screen reader does: by its structure (CSS selectors, labels,
//! tables, forms), not by slicing the HTML text. A failed lookup panics with the page, so the test says
//! what it looked for and what it found instead.

use std::fmt;

use scraper::{ElementRef, Html, Selector};

pub struct Page {
    source: String,
    html: Html,
}

impl fmt::Display for Page {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl fmt::Debug for Page {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

fn selector(s: &str) -> Selector {
    Selector::parse(s).unwrap_or_else(|e| panic!("bad selector {s:?}: {e}"))
}

/// An element's text with runs of whitespace collapsed to one space and the ends trimmed: what is read
/// out, not how the template happens to indent it.
pub fn text(e: &ElementRef<'_>) -> String {
    e.text()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

impl Page {
    pub fn parse(source: impl Into<String>) -> Page {
        let source = source.into();
        let html = Html::parse_document(&source);
        Page { source, html }
    }

    /// Whether the HTML as served contains `s` (for absence checks, which are strongest on the bytes).
    pub fn contains(&self, s: &str) -> bool {
        self.source.contains(s)
    }

    /// Every element matching `css`, in document order.
    pub fn select_all(&self, css: &str) -> Vec<ElementRef<'_>> {
        self.html.select(&selector(css)).collect()
    }

    /// The first element matching `css`; panics if there is none.
    pub fn one(&self, css: &str) -> ElementRef<'_> {
        self.html
            .select(&selector(css))
            .next()
            .unwrap_or_else(|| panic!("no {css} on the page:\n{}", self.source))
    }

    pub fn exists(&self, css: &str) -> bool {
        self.html.select(&selector(css)).next().is_some()
    }

    pub fn count(&self, css: &str) -> usize {
        self.html.select(&selector(css)).count()
    }

    /// The text of the first element matching `css`.
    pub fn text_of(&self, css: &str) -> String {
        text(&self.one(css))
    }

    /// The text of every element matching `css`.
    pub fn texts_of(&self, css: &str) -> Vec<String> {
        self.select_all(css).iter().map(text).collect()
    }

    /// An attribute of the first element matching `css`.
    pub fn attr_of(&self, css: &str, attr: &str) -> String {
        self.one(css)
            .attr(attr)
            .unwrap_or_else(|| panic!("{css} has no {attr}:\n{}", self.source))
            .to_string()
    }

    /// All the text of the body, whitespace collapsed.
    pub fn body_text(&self) -> String {
        self.text_of("body")
    }

    /// The classes of the `<html>` element (the view mode lives there), sorted: their order carries no
    /// meaning.
    pub fn root_classes(&self) -> Vec<String> {
        let mut classes: Vec<String> = self.html.root_element().value().classes().map(str::to_string).collect();
        classes.sort();
        classes
    }

    /// The value (`<dd>`) a definition list gives for the term (`<dt>`) `label`.
    pub fn definition(&self, label: &str) -> String {
        for dt in self.select_all("dt") {
            if text(&dt) == label {
                let dd = dt
                    .next_siblings()
                    .filter_map(ElementRef::wrap)
                    .next()
                    .filter(|e| e.value().name() == "dd")
                    .unwrap_or_else(|| panic!("<dt>{label}</dt> has no <dd>:\n{}", self.source));
                return text(&dd);
            }
        }
        panic!("no <dt>{label}</dt> on the page:\n{}", self.source)
    }

    /// The href of the link whose text is exactly `label`.
    pub fn link(&self, label: &str) -> String {
        self.select_all("a[href]")
            .into_iter()
            .find(|a| text(a) == label)
            .and_then(|a| a.attr("href").map(str::to_string))
            .unwrap_or_else(|| panic!("no link “{label}” on the page:\n{}", self.source))
    }

    /// The cells (their text) of every row matching `rows` (`tr` for all, `tr.total`, `#x tbody tr`).
    pub fn table_rows(&self, rows: &str) -> Vec<Vec<String>> {
        let cells = selector("th, td");
        self.select_all(rows)
            .iter()
            .map(|tr| tr.select(&cells).map(|c| text(&c)).collect())
            .collect()
    }

    /// The cells of the first table row whose first cell reads `first`.
    pub fn row(&self, first: &str) -> Vec<String> {
        self.table_rows("tr")
            .into_iter()
            .find(|r| r.first().map(String::as_str) == Some(first))
            .unwrap_or_else(|| panic!("no row “{first}” on the page:\n{}", self.source))
    }

    /// The list items between the heading that reads `heading` and the next heading of any level: what
    /// a reader finds under it.
    pub fn items_under(&self, heading: &str) -> Vec<String> {
        let h = self
            .select_all("h1, h2, h3, h4")
            .into_iter()
            .find(|h| text(h) == heading)
            .unwrap_or_else(|| panic!("no heading “{heading}” on the page:\n{}", self.source));
        let items = selector("li");
        h.next_siblings()
            .filter_map(ElementRef::wrap)
            .take_while(|e| !matches!(e.value().name(), "h1" | "h2" | "h3" | "h4"))
            .flat_map(|e| {
                let own = (e.value().name() == "li").then(|| text(&e));
                own.into_iter()
                    .chain(e.select(&items).map(|li| text(&li)).collect::<Vec<_>>())
            })
            .collect()
    }

    /// What form field `name` holds: an input's value, a textarea's text, a select's chosen option.
    pub fn field_value(&self, name: &str) -> String {
        let field = self.one(&format!("[name=\"{name}\"]"));
        match field.value().name() {
            "textarea" => field.text().collect(),
            "select" => field
                .select(&selector("option[selected]"))
                .next()
                .and_then(|o| o.attr("value").map(str::to_string))
                .unwrap_or_default(),
            _ => field.attr("value").unwrap_or_default().to_string(),
        }
    }

    /// The error shown with form field `name`, if any: the `.error` its `aria-describedby` points at, or
    /// else the first `.error` in the `.field` boxes around it, innermost first (forms that do not tie the
    /// two for screen readers yet, and groups such as the quiz blueprint with one error for the group).
    pub fn field_error(&self, name: &str) -> Option<String> {
        let field = self.one(&format!("[name=\"{name}\"]"));
        let described = field.attr("aria-describedby").and_then(|ids| {
            ids.split_whitespace()
                .find_map(|id| self.select_all(&format!("[id=\"{id}\"].error")).first().map(text))
        });
        described.or_else(|| {
            let errors = selector(".error");
            field
                .ancestors()
                .filter_map(ElementRef::wrap)
                .filter(|e| e.value().classes().any(|c| c == "field"))
                .find_map(|box_| box_.select(&errors).next().map(|e| text(&e)))
        })
    }

    /// The action of the form whose submit button reads `button`, if the page has that button.
    pub fn form_for(&self, button: &str) -> Option<String> {
        let b = self
            .select_all("button, input[type=submit]")
            .into_iter()
            .find(|b| text(b) == button || b.attr("value") == Some(button))?;
        let action = b
            .ancestors()
            .filter_map(ElementRef::wrap)
            .find(|e| e.value().name() == "form")
            .and_then(|f| f.attr("action").map(str::to_string));
        Some(action.unwrap_or_else(|| panic!("button “{button}” is not in a form with an action:\n{}", self.source)))
    }

    /// The action of the form whose submit button reads `button` (what pressing it posts to).
    pub fn form_action(&self, button: &str) -> String {
        self.form_for(button)
            .unwrap_or_else(|| panic!("no button “{button}” on the page:\n{}", self.source))
    }

    /// The value of the page's first hidden `csrf` field.
    pub fn csrf(&self) -> String {
        self.attr_of("input[name=csrf]", "value")
    }
}

// The reader's own checks: each lookup finds what it should and nothing else, so a test built on it
// fails when the page changes.
#[test]
fn the_reader_finds_fields_errors_forms_and_lists_by_structure() {
    let page = Page::parse(
        r#"<!DOCTYPE html><html class="b a"><body><main>
        <h1>标题</h1>
        <dl><dt>合格</dt><dd>1</dd><dt>合格率</dt><dd> 50.0% </dd></dl>
        <form action="/save" method="post">
          <input type="hidden" name="csrf" value="t0k">
          <div class="field has-error"><label for="f-a">A</label>
            <input id="f-a" name="a" value="typed" aria-describedby="f-a-error">
            <p class="error" id="f-a-error">不对</p></div>
          <div class="field"><input name="b" value=""></div>
          <fieldset class="field"><div class="field"><input name="topic:x"></div><p class="error">组错误</p></fieldset>
          <textarea name="c">多行
文字</textarea>
          <button type="submit">保存</button>
        </form>
        <h2>甲</h2><ul><li>一</li><li>二</li></ul><h2>乙</h2><ul><li>三</li></ul>
        <table><tr><th>单位</th><th>数</th></tr><tr class="total"><td><a href="/u/1">一居委</a></td><td>3</td></tr></table>
        </main></body></html>"#,
    );
    assert_eq!(page.text_of("h1"), "标题");
    assert_eq!(page.root_classes(), ["a", "b"]);
    assert_eq!(
        (page.definition("合格"), page.definition("合格率")),
        ("1".into(), "50.0%".into())
    );
    assert_eq!(page.field_error("a").as_deref(), Some("不对"));
    assert_eq!(page.field_error("b"), None, "no error, none reported");
    assert_eq!(page.field_error("topic:x").as_deref(), Some("组错误"));
    assert_eq!(page.field_value("a"), "typed");
    assert_eq!(page.field_value("c"), "多行\n文字");
    assert_eq!(page.form_action("保存"), "/save");
    assert_eq!(page.form_for("删除"), None);
    assert_eq!(page.csrf(), "t0k");
    assert_eq!(page.items_under("甲"), ["一", "二"]);
    assert_eq!(page.items_under("乙"), ["三"]);
    assert_eq!(page.row("一居委"), ["一居委", "3"]);
    assert_eq!(page.table_rows("tr.total"), [["一居委", "3"]]);
    assert_eq!(page.link("一居委"), "/u/1");
}
