//! Visible text of an HTML document.

use ego_tree::iter::Edge;
use scraper::{Html, Node};

use crate::{DocKind, Extracted};

/// Elements whose content is never visible text.
const SKIP: &[&str] = &[
    "script", "style", "noscript", "template", "head", "svg", "math", "iframe", "object", "canvas",
    "select", "button",
];
/// Elements that separate paragraphs (blank line).
const PARAGRAPH: &[&str] = &[
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "table",
    "ul",
    "ol",
    "dl",
    "section",
    "article",
    "header",
    "footer",
    "figure",
    "form",
    "fieldset",
    "address",
    "main",
    "nav",
    "aside",
    "details",
    "hr",
];
/// Elements that start a new line.
const LINE: &[&str] = &[
    "div",
    "br",
    "li",
    "tr",
    "dt",
    "dd",
    "caption",
    "figcaption",
    "summary",
    "legend",
    "option",
    "label",
    "textarea",
    "body",
];

/// Extract the visible text of an HTML document.
///
/// Drops `script`, `style`, `noscript`, `template` (and other invisible
/// content), collapses whitespace outside `<pre>`, turns block elements into
/// line breaks and paragraphs into blank lines, and separates table cells
/// with tabs. The title comes from `<title>`.
pub fn extract_html(html: &str) -> Extracted {
    let doc = Html::parse_document(html);
    let mut out = Out::default();
    let mut skip = 0usize;
    let mut pre = 0usize;
    let mut title: Option<String> = None;
    let mut in_title = 0usize;

    for edge in doc.tree.root().traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(el) => {
                    let name = el.name();
                    if name == "title" {
                        in_title += 1;
                    }
                    if skip > 0 || SKIP.contains(&name) || el.attr("hidden").is_some() {
                        skip += 1;
                        continue;
                    }
                    if name == "pre" {
                        pre += 1;
                    }
                    open_close(&mut out, name);
                }
                Node::Text(t) => {
                    if in_title > 0 && title.is_none() {
                        let t = collapse(t);
                        if !t.is_empty() {
                            title = Some(t);
                        }
                    }
                    if skip == 0 {
                        out.text(t, pre > 0);
                    }
                }
                _ => {}
            },
            Edge::Close(node) => {
                if let Node::Element(el) = node.value() {
                    let name = el.name();
                    if name == "title" {
                        in_title = in_title.saturating_sub(1);
                    }
                    if skip > 0 {
                        skip -= 1;
                        continue;
                    }
                    if name == "pre" {
                        pre = pre.saturating_sub(1);
                    }
                    open_close(&mut out, name);
                }
            }
        }
    }

    Extracted {
        kind: DocKind::Html,
        text: out.finish(),
        title,
        pages: None,
        encoding: None,
    }
}

fn open_close(out: &mut Out, name: &str) {
    if PARAGRAPH.contains(&name) {
        out.brk(2);
    } else if LINE.contains(&name) {
        out.brk(1);
    } else if name == "td" || name == "th" {
        out.cell();
    }
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[derive(Default)]
struct Out {
    s: String,
    /// Newlines owed before the next text.
    nl: u8,
    space: bool,
    tab: bool,
}

impl Out {
    fn brk(&mut self, n: u8) {
        self.nl = self.nl.max(n);
    }

    fn cell(&mut self) {
        self.tab = true;
    }

    fn flush_sep(&mut self) {
        if self.s.is_empty() {
            self.nl = 0;
        }
        if self.nl > 0 {
            for _ in 0..self.nl {
                self.s.push('\n');
            }
        } else if self.tab && !self.s.ends_with('\n') {
            self.s.push('\t');
        } else if self.space && !self.s.is_empty() && !self.s.ends_with(['\n', ' ', '\t']) {
            self.s.push(' ');
        }
        self.nl = 0;
        self.space = false;
        self.tab = false;
    }

    fn text(&mut self, t: &str, pre: bool) {
        if pre {
            if t.is_empty() {
                return;
            }
            self.flush_sep();
            self.s.push_str(&t.replace("\r\n", "\n"));
            return;
        }
        if t.starts_with(char::is_whitespace) {
            self.space = true;
        }
        let mut words = t.split_whitespace();
        if let Some(first) = words.next() {
            self.flush_sep();
            self.s.push_str(first);
            for w in words {
                self.s.push(' ');
                self.s.push_str(w);
            }
            if t.ends_with(char::is_whitespace) {
                self.space = true;
            }
        }
    }

    fn finish(self) -> String {
        let mut s = self.s;
        s.truncate(s.trim_end().len());
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_text_only() {
        let e = extract_html(
            "<html><head><title> My  Page </title><style>p{}</style></head>\
             <body><script>var x=1;</script><h1>Head</h1><p>One <b>bold</b>\n word.</p>\
             <div>Line</div><noscript>no</noscript><template>t</template>\
             <table><tr><td>a</td><td>b</td></tr></table><pre>  x\n  y</pre></body></html>",
        );
        assert_eq!(e.title.as_deref(), Some("My Page"));
        assert_eq!(e.text, "Head\n\nOne bold word.\n\nLine\n\na\tb\n\n  x\n  y");
    }
}
