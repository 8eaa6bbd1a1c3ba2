//! Visible text of an HTML document.

use ego_tree::iter::Edge;
use ego_tree::NodeRef;
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
///
/// html5ever slows down quadratically with nesting depth (40 000 nested
/// `<div>`s take seconds, 200 000 take minutes), so documents whose estimated
/// nesting exceeds [`MAX_DEPTH`] go through a simple linear tag stripper instead.
pub fn extract_html(html: &str) -> Extracted {
    if estimated_depth(html) > MAX_DEPTH {
        return strip_tags(html);
    }
    let doc = Html::parse_document(html);
    let mut out = Out::default();
    let mut skip = 0usize;
    let mut pre = 0usize;
    let mut title: Option<String> = None;
    let mut in_title = 0usize;

    for edge in edges(doc.tree.root()) {
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
        extractor: None,
        metadata: Vec::new(),
    }
}

/// The open and close edges of a depth-first walk, as `NodeRef::traverse` gives them, but
/// found through first-child and next-sibling links only. ego-tree 0.10's
/// `reparent_from_id_append` (used by html5ever's adoption agency for misnested tags such
/// as `<b><div><span></span>a<div>b</b>`) leaves stale parent links on moved children, and
/// `traverse` climbs those links, skipping the rest of the subtree ("b" above).
fn edges<'a>(root: NodeRef<'a, Node>) -> impl Iterator<Item = Edge<'a, Node>> {
    let mut open: Vec<NodeRef<'a, Node>> = Vec::new();
    let mut next = Some(root);
    std::iter::from_fn(move || {
        if let Some(node) = next {
            open.push(node);
            next = node.first_child();
            return Some(Edge::Open(node));
        }
        let done = open.pop()?;
        next = if open.is_empty() {
            None
        } else {
            done.next_sibling()
        };
        Some(Edge::Close(done))
    })
}

/// Nesting beyond which the HTML5 parser is not used.
pub(crate) const MAX_DEPTH: usize = 3000;

/// Elements that never nest or are implicitly closed by their next sibling.
const NO_NESTING: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "p", "li", "dt", "dd", "option", "tr", "td", "th", "!doctype",
];

/// Upper-bound estimate of the element nesting depth, in one linear pass.
fn estimated_depth(html: &str) -> usize {
    let b = html.as_bytes();
    let (mut depth, mut max) = (0usize, 0usize);
    let mut i = 0;
    // First `>` at or after the last tag name (`b.len()` if none). Tag names only move
    // forward, so it is searched for again only once passed: one linear pass in all.
    let mut next_gt = 0usize;
    while let Some(off) = b[i..].iter().position(|&c| c == b'<') {
        i += off + 1;
        match b.get(i) {
            Some(b'/') => depth = depth.saturating_sub(1),
            Some(c) if c.is_ascii_alphabetic() => {
                let end = b[i..]
                    .iter()
                    .position(|c| !(c.is_ascii_alphanumeric() || *c == b'-'))
                    .map_or(b.len(), |p| i + p);
                let name = html[i..end].to_ascii_lowercase();
                if next_gt < end {
                    next_gt = b[end..]
                        .iter()
                        .position(|&c| c == b'>')
                        .map_or(b.len(), |p| end + p);
                }
                let self_closing = next_gt < b.len() && next_gt > end && b[next_gt - 1] == b'/';
                if !self_closing && !NO_NESTING.contains(&name.as_str()) {
                    depth += 1;
                    max = max.max(depth);
                }
            }
            _ => {}
        }
    }
    max
}

/// Linear fallback: drop tags and the content of invisible elements, break
/// lines at block elements, decode the common entities.
fn strip_tags(html: &str) -> Extracted {
    let mut out = Out::default();
    let mut title = None;
    let mut rest = html;
    let mut text_buf = String::new();
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            text_buf.push_str(rest);
            break;
        };
        text_buf.push_str(&rest[..lt]);
        rest = &rest[lt..];
        let Some(gt) = rest.find('>') else {
            break;
        };
        let tag = &rest[1..gt];
        rest = &rest[gt + 1..];
        out.text(&decode_entities(&text_buf), false);
        text_buf.clear();
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if !closing && SKIP.contains(&name.as_str()) && name != "head" {
            // Skip to the matching close tag (case-insensitive).
            let close = format!("</{name}");
            let lower_pos = find_ci(rest, &close);
            let body = &rest[..lower_pos.unwrap_or(rest.len())];
            if name == "title" {
                title = Some(collapse(&decode_entities(body)));
            }
            rest = &rest[lower_pos.unwrap_or(rest.len())..];
            continue;
        }
        if !closing && name == "title" {
            let end = find_ci(rest, "</title").unwrap_or(rest.len());
            let t = collapse(&decode_entities(&rest[..end]));
            if !t.is_empty() {
                title = Some(t);
            }
            rest = &rest[end..];
            continue;
        }
        open_close(&mut out, &name);
    }
    out.text(&decode_entities(&text_buf), false);
    Extracted {
        kind: DocKind::Html,
        text: out.finish(),
        title,
        pages: None,
        encoding: None,
        extractor: None,
        metadata: Vec::new(),
    }
}

fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    let n = needle.len();
    hay.as_bytes()
        .windows(n)
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        // Bytes, not `&str`: 12 bytes in may be inside a multi-byte character.
        let semi = rest.as_bytes()[..rest.len().min(12)]
            .iter()
            .position(|&b| b == b';');
        let decoded = semi.and_then(|semi| {
            let ent = &rest[1..semi];
            let c = match ent {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => {
                    let num = ent.strip_prefix('#')?;
                    let v = match num.strip_prefix(['x', 'X']) {
                        Some(h) => u32::from_str_radix(h, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(v)
                }
            }?;
            Some((c, semi + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
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
    fn depth_estimate() {
        assert_eq!(
            estimated_depth("<html><body><div><p>a<p>b<br><img src=x/></div>"),
            3
        );
        assert_eq!(estimated_depth("<div></div><div></div>"), 1);
        assert_eq!(estimated_depth(&"<span>".repeat(5000)), 5000);
    }

    #[test]
    fn deeply_nested_html_is_linear_and_still_extracted() {
        let n = 200_000;
        let html = format!(
            "<html><head><title>Deep &amp; dark</title><script>x()</script></head><body>{}deep text{}<p>after</p></body></html>",
            "<div>".repeat(n),
            "</div>".repeat(n)
        );
        let t = std::time::Instant::now();
        let e = extract_html(&html);
        assert!(
            t.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            t.elapsed()
        );
        assert_eq!(e.text, "deep text\n\nafter");
        assert_eq!(e.title.as_deref(), Some("Deep & dark"));
    }

    #[test]
    fn fallback_matches_parser_on_simple_pages() {
        let html = "<html><head><title>T</title><style>p{}</style></head><body><h1>Head</h1>\
                    <p>One &amp; <b>two</b> &#233;</p><div>Line</div><script>bad()</script></body></html>";
        assert_eq!(strip_tags(html).text, extract_html(html).text);
        assert_eq!(strip_tags(html).title.as_deref(), Some("T"));
    }

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
