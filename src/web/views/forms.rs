//! Form building blocks: every input has a visible label, a large tap target, and its error right below
//! it, tied with `aria-describedby` so screen readers read it too.

use maud::{Markup, html};

use crate::i18n::{Lang, Text};
use crate::web::context::Ctx;

pub fn csrf(ctx: &Ctx) -> Markup {
    html! { input type="hidden" name="csrf" value=(ctx.csrf_token); }
}

/// A 朗读 (read-aloud) button for the element with id `target` (its `data-say` parts in turn), read with
/// a voice for `lang` (the content's language: question banks are Chinese whatever the interface).
/// Hidden until `read-aloud.js` runs: without JavaScript there is nothing it could do. The script is
/// linked by the layout.
pub fn read_aloud(ctx: &Ctx, target: &str, lang: &str) -> Markup {
    html! {
        button.read-aloud type="button" hidden data-read=(target) data-lang=(lang)
            data-stop=(ctx.t("■ 停止朗读", "■ Stop reading"))
            data-none=(ctx.t("本机浏览器不能朗读", "This browser cannot read aloud"))
            data-novoice=(ctx.t("本机没有中文语音，不能朗读", "No Chinese voice on this phone"))
        { span.label { (ctx.t("▶ 朗读", "▶ Read aloud")) } }
    }
}

pub struct Input<'a> {
    pub name: &'a str,
    pub label: &'a str,
    pub value: &'a str,
    pub kind: &'a str,
    pub hint: Option<&'a str>,
    pub error: Option<&'a Text>,
    pub required: bool,
    pub autocomplete: Option<&'a str>,
    pub inputmode: Option<&'a str>,
}

impl<'a> Input<'a> {
    pub fn new(name: &'a str, label: &'a str, value: &'a str) -> Input<'a> {
        Input {
            name,
            label,
            value,
            kind: "text",
            hint: None,
            error: None,
            required: false,
            autocomplete: None,
            inputmode: None,
        }
    }
    pub fn kind(mut self, k: &'a str) -> Self {
        self.kind = k;
        self
    }
    pub fn hint(mut self, h: &'a str) -> Self {
        self.hint = Some(h);
        self
    }
    pub fn error(mut self, e: Option<&'a Text>) -> Self {
        self.error = e;
        self
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn autocomplete(mut self, a: &'a str) -> Self {
        self.autocomplete = Some(a);
        self
    }
    pub fn inputmode(mut self, m: &'a str) -> Self {
        self.inputmode = Some(m);
        self
    }

    pub fn render(&self, lang: Lang) -> Markup {
        let id = format!("f-{}", self.name);
        let described = match (self.error.is_some(), self.hint.is_some()) {
            (true, _) => Some(format!("{id}-error")),
            (false, true) => Some(format!("{id}-hint")),
            _ => None,
        };
        html! {
            div.field .has-error[self.error.is_some()] {
                label for=(id) { (self.label) @if self.required { span.req aria-hidden="true" { " *" } } }
                @if let Some(h) = self.hint { p.hint id=(format!("{id}-hint")) { (h) } }
                input id=(id) name=(self.name) type=(self.kind) value=(self.value)
                    required[self.required]
                    autocomplete=[self.autocomplete]
                    inputmode=[self.inputmode]
                    aria-invalid=[self.error.map(|_| "true")]
                    aria-describedby=[described];
                @if let Some(e) = self.error { p.error id=(format!("{id}-error")) role="alert" { (e.get(lang)) } }
            }
        }
    }
}

/// A message box at the top of a form or page.
pub fn notice(kind: &str, text: &str) -> Markup {
    html! { div class=(format!("notice {kind}")) role=(if kind == "error" { "alert" } else { "status" }) { p { (text) } } }
}

/// Looks up a field's error in a list of (field, message).
pub fn error_for<'a>(errors: &'a [(&'static str, Text)], field: &str) -> Option<&'a Text> {
    errors.iter().find(|(f, _)| *f == field).map(|(_, t)| t)
}
