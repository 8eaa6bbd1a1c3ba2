//! Keeping hostile or absurd HTML within what the parsers handle in seconds.
//!
//! html5ever (behind `scraper`, `dom_smoothie` and trove-extract) spends time
//! proportional to the nesting depth on every start tag, and `dom_smoothie`'s
//! scoring walks ancestors again, so cost grows with elements × depth:
//! measured on a 2-core machine, one chain of 2,500 nested `<div>`s took
//! 3.4 s in `dom_smoothie` and 20,000 took 4 minutes for the whole extraction;
//! 400,000 would take hours. Local HTML files get a depth guard in
//! trove-extract (a linear tag stripper beyond 3,000 levels); web pages are
//! untrusted input, read through two parsers, so they get a tighter bound:
//!
//! * [`limit`] makes one linear pass that drops start tags nested deeper than
//!   [`MAX_DEPTH`] (with their end tags) — the text stays, only structure
//!   beyond that depth is flattened — and cuts the document after
//!   [`MAX_ELEMENTS`] elements.
//! * Readability (`dom_smoothie`) only runs when the page is small enough
//!   ([`readable_ok`]); otherwise all visible text is used.
//!
//! The nesting model is an estimate (implied and implicitly closed elements
//! are only roughly modelled), good to a small constant factor.

use std::borrow::Cow;
use std::collections::HashMap;

/// Element nesting kept for the HTML parsers; deeper start tags are dropped.
pub(crate) const MAX_DEPTH: usize = 256;
/// Elements read at most; the document is cut before the next one.
pub(crate) const MAX_ELEMENTS: usize = 250_000;
/// Readability runs on pages with at most this many elements …
pub(crate) const READABLE_MAX_ELEMENTS: usize = 50_000;
/// … and at most this much elements × depth.
const READABLE_MAX_WORK: usize = 3_000_000;

/// Elements that have no end tag.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param",
    "source", "track", "wbr", "frame",
];
/// Elements whose content is text up to their end tag (not markup).
const RAW_TEXT: &[&str] = &[
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes",
];
/// Start tags that close an open `<p>` right above them.
const CLOSES_P: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "details",
    "div",
    "dl",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "ul",
    "dd",
    "dt",
];

/// The document as the parsers should see it.
#[derive(Debug)]
pub(crate) struct Limited<'a> {
    pub(crate) html: Cow<'a, str>,
    /// Deepest nesting kept.
    pub(crate) depth: usize,
    /// Elements kept.
    pub(crate) elements: usize,
    /// Start tags dropped for being nested too deeply.
    pub(crate) flattened: usize,
    /// The document was cut after [`MAX_ELEMENTS`] elements.
    pub(crate) cut: bool,
}

/// Whether Readability may run on a document of this shape.
pub(crate) fn readable_ok(l: &Limited<'_>) -> bool {
    l.elements <= READABLE_MAX_ELEMENTS
        && l.elements.saturating_mul(l.depth.max(1)) <= READABLE_MAX_WORK
}

/// See the module documentation. Linear in the length of `html`.
pub(crate) fn limit(html: &str) -> Limited<'_> {
    limit_with(html, MAX_DEPTH, MAX_ELEMENTS)
}

fn limit_with(html: &str, max_depth: usize, max_elements: usize) -> Limited<'_> {
    let b = html.as_bytes();
    let mut out = Output {
        html,
        kept: None,
        copied: 0,
    };
    // Open elements as (name id, kept); open elements per name id.
    let mut stack: Vec<(u64, bool)> = Vec::new();
    let mut open: HashMap<u64, usize> = HashMap::new();
    let (mut depth, mut max_seen, mut elements, mut flattened) = (0usize, 0usize, 0usize, 0usize);
    let mut foreign = 0usize; // open <svg>/<math>
    let mut cut_at = None;
    let mut i = 0usize;

    let pop = |stack: &mut Vec<(u64, bool)>,
               open: &mut HashMap<u64, usize>,
               depth: &mut usize,
               foreign: &mut usize|
     -> Option<(u64, bool)> {
        let (name, kept) = stack.pop()?;
        if let Some(n) = open.get_mut(&name) {
            *n -= 1;
        }
        if kept {
            *depth -= 1;
        }
        if name == SVG || name == MATH {
            *foreign = foreign.saturating_sub(1);
        }
        Some((name, kept))
    };

    while let Some(off) = b[i..].iter().position(|&c| c == b'<') {
        let lt = i + off;
        match b.get(lt + 1) {
            Some(b'!') => {
                i = if b[lt..].starts_with(b"<!--") {
                    find(b, lt + 4, b"-->").map_or(b.len(), |p| p + 3)
                } else {
                    find(b, lt, b">").map_or(b.len(), |p| p + 1)
                };
            }
            Some(b'?') => i = find(b, lt, b">").map_or(b.len(), |p| p + 1),
            Some(b'/') if b.get(lt + 2).is_some_and(u8::is_ascii_alphabetic) => {
                let (name, name_end) = tag_name(html, lt + 2);
                let name = id(name.as_bytes());
                let end = tag_end(b, name_end);
                if open.get(&name).copied().unwrap_or(0) > 0 {
                    // Close everything up to the matching element.
                    while let Some((n, kept)) = pop(&mut stack, &mut open, &mut depth, &mut foreign)
                    {
                        if n == name {
                            if !kept {
                                out.skip(lt, end);
                            }
                            break;
                        }
                    }
                }
                // A stray end tag stays: the parsers ignore it.
                i = end;
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let (name, name_end) = tag_name(html, lt + 1);
                let end = tag_end(b, name_end);
                let self_closing = end >= 2 && b[end - 2] == b'/';
                let nests = !(name == "plaintext"
                    || RAW_TEXT.contains(&name.as_str())
                    || VOID.contains(&name.as_str())
                    || (self_closing && foreign > 0));
                if nests {
                    implied_closes(&name, &mut stack, |stack| {
                        pop(stack, &mut open, &mut depth, &mut foreign);
                    });
                }
                // Only elements that are kept count towards the cap.
                if (!nests || depth < max_depth) && elements >= max_elements {
                    cut_at = Some(lt);
                    break;
                }
                if name == "plaintext" {
                    // Everything after it is text.
                    elements += 1;
                    max_seen = max_seen.max(depth + 1);
                    break;
                }
                if RAW_TEXT.contains(&name.as_str()) {
                    // Kept always (dropping the tag would turn a script into
                    // text); its content is skipped up to the end tag.
                    elements += 1;
                    max_seen = max_seen.max(depth + 1);
                    i = find_ci(b, end, format!("</{name}").as_bytes()).unwrap_or(b.len());
                    continue;
                }
                if !nests {
                    elements += 1;
                    i = end;
                    continue;
                }
                let kept = depth < max_depth;
                if kept {
                    depth += 1;
                    elements += 1;
                    max_seen = max_seen.max(depth);
                } else {
                    flattened += 1;
                    out.skip(lt, end);
                }
                let name = id(name.as_bytes());
                if name == SVG || name == MATH {
                    foreign += 1;
                }
                *open.entry(name).or_insert(0) += 1;
                stack.push((name, kept));
                i = end;
            }
            _ => i = lt + 1,
        }
        if i >= b.len() {
            break;
        }
    }

    Limited {
        html: out.finish(cut_at.unwrap_or(html.len())),
        depth: max_seen,
        elements,
        flattened,
        cut: cut_at.is_some(),
    }
}

/// The document minus the dropped tags, built only once something is dropped.
struct Output<'a> {
    html: &'a str,
    kept: Option<String>,
    /// `html[..copied]` has been dealt with.
    copied: usize,
}

impl<'a> Output<'a> {
    /// Leaves `html[from..to]` out.
    fn skip(&mut self, from: usize, to: usize) {
        let kept = self
            .kept
            .get_or_insert_with(|| String::with_capacity(self.html.len()));
        kept.push_str(&self.html[self.copied..from]);
        self.copied = to;
    }

    /// The output up to `end` of the input.
    fn finish(self, end: usize) -> Cow<'a, str> {
        match self.kept {
            None => Cow::Borrowed(&self.html[..end]),
            Some(mut kept) => {
                kept.push_str(&self.html[self.copied..end]);
                Cow::Owned(kept)
            }
        }
    }
}

/// The start tags that implicitly close the element on top of the stack:
/// `<li>` after an unclosed `<li>`, `<p>` / block elements after an unclosed
/// `<p>`, table cells and rows.
fn implied_closes(
    name: &str,
    stack: &mut Vec<(u64, bool)>,
    mut pop: impl FnMut(&mut Vec<(u64, bool)>),
) {
    let top = |s: &Vec<(u64, bool)>| s.last().map_or(0, |(n, _)| *n);
    let t = top(stack);
    let closes = match name {
        "li" => t == LI,
        "dt" | "dd" => t == DT || t == DD,
        "td" | "th" => t == TD || t == TH,
        "option" => t == OPTION,
        "tr" => {
            if t == TD || t == TH {
                pop(stack);
            }
            top(stack) == TR
        }
        _ => false,
    };
    if closes {
        pop(stack);
    }
    if CLOSES_P.contains(&name) && top(stack) == P {
        pop(stack);
    }
}

/// A (lower-case) tag name as a number: the stack holds no strings, so its
/// memory stays small however many elements a hostile page opens. FNV-1a;
/// a collision only makes the nesting estimate slightly off.
const fn id(name: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < name.len() {
        h ^= name[i] as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    h
}

const P: u64 = id(b"p");
const LI: u64 = id(b"li");
const DT: u64 = id(b"dt");
const DD: u64 = id(b"dd");
const TD: u64 = id(b"td");
const TH: u64 = id(b"th");
const TR: u64 = id(b"tr");
const OPTION: u64 = id(b"option");
const SVG: u64 = id(b"svg");
const MATH: u64 = id(b"math");

/// Lower-case tag name starting at `from` and the index after it.
fn tag_name(html: &str, from: usize) -> (String, usize) {
    let b = html.as_bytes();
    let len = b[from..]
        .iter()
        .position(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b':')))
        .unwrap_or(b.len() - from);
    (html[from..from + len].to_ascii_lowercase(), from + len)
}

/// Index after the `>` closing a tag whose attributes start at `j`; quoted
/// attribute values may contain `>`.
fn tag_end(b: &[u8], mut j: usize) -> usize {
    let mut after_eq = false;
    while j < b.len() {
        match b[j] {
            b'>' => return j + 1,
            b'=' => after_eq = true,
            q @ (b'"' | b'\'') if after_eq => {
                j = b[j + 1..]
                    .iter()
                    .position(|&c| c == q)
                    .map_or(b.len(), |p| j + 1 + p);
                after_eq = false;
            }
            c if c.is_ascii_whitespace() => {}
            _ => after_eq = false,
        }
        j += 1;
    }
    b.len()
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

fn find_ci(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| from + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(n: usize, inner: &str) -> String {
        format!("{}{inner}{}", "<div>".repeat(n), "</div>".repeat(n))
    }

    #[test]
    fn ordinary_pages_pass_through_untouched() {
        let html =
            "<!DOCTYPE html><html><head><title>a<b</title><script>if (a<b) x('<div>')</script>\
                    </head><body><!-- <div><div> --><p>One<p>Two<ul><li>a<li>b</ul>\
                    <table><tr><td>1<td>2<tr><td>3</table><img src=x><br/>\
                    <a title=\"x>y\" href=/z>z</a><svg><path d=M0/><path/></svg></body></html>";
        let l = limit(html);
        assert!(matches!(l.html, Cow::Borrowed(_)));
        assert_eq!(l.html, html);
        assert_eq!((l.flattened, l.cut), (0, false));
        // html > body > table > tr > td, with p/li/td/tr closed implicitly.
        assert!(l.depth <= 5, "depth {}", l.depth);
        assert!(readable_ok(&l));
    }

    #[test]
    fn deep_nesting_is_flattened_and_the_text_kept() {
        let html = nested(400_000, "deep <b>text</b>");
        let l = limit(&html);
        assert_eq!(l.depth, MAX_DEPTH);
        assert_eq!(l.flattened, 400_000 - MAX_DEPTH + 1, "the <b> too");
        let expected = format!("{}deep text{}", "<div>".repeat(256), "</div>".repeat(256));
        assert_eq!(l.html, expected);
        assert!(!readable_ok(&l) || l.elements * l.depth <= READABLE_MAX_WORK);
        // The result is within limits itself.
        let again = limit(&l.html);
        assert_eq!((again.depth, again.flattened), (MAX_DEPTH, 0));
    }

    #[test]
    fn stray_end_tags_do_not_hide_nesting() {
        // `</x>` closes nothing in a parser, so each `<div>` still nests.
        let html = "<div></x>".repeat(1000);
        let l = limit_with(&html, 100, usize::MAX);
        assert_eq!(l.depth, 100);
        assert_eq!(l.flattened, 900);
    }

    #[test]
    fn unclosed_paragraphs_and_list_items_do_not_count_as_nesting() {
        let html = format!(
            "<body>{}<ul>{}</ul>{}</body>",
            "<p>para".repeat(5000),
            "<li>item".repeat(5000),
            "<table><tr><td>a<td>b</table>".repeat(10)
        );
        let l = limit_with(&html, 100, usize::MAX);
        assert_eq!(l.flattened, 0);
        assert!(l.depth <= 5, "depth {}", l.depth);
    }

    #[test]
    fn element_cap_cuts_the_document() {
        let html = "<p>x</p>".repeat(100);
        let l = limit_with(&html, 100, 10);
        assert!(l.cut);
        assert_eq!(l.elements, 10);
        assert_eq!(l.html, "<p>x</p>".repeat(10));
        // Cutting after flattening keeps both effects.
        let html = format!("{}<p>after</p>", nested(20, "t"));
        let l = limit_with(&html, 5, 5);
        assert!(l.cut);
        assert_eq!(
            l.html,
            format!("{}t{}", "<div>".repeat(5), "</div>".repeat(5))
        );
    }

    #[test]
    fn unterminated_constructs_end_at_the_end() {
        for html in [
            "<div",
            "<!-- x",
            "<script>x",
            "<a href='x>",
            "</",
            "<",
            "a < b",
        ] {
            let l = limit(html);
            assert_eq!(l.html, html);
        }
    }
}
