//! Turning fetched bytes into readable text.

use std::collections::HashSet;

use encoding_rs::Encoding;
use scraper::{Html, Selector};
use url::Url;

use crate::html_limits;

/// Result of [`extract_html`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    pub title: Option<String>,
    /// Main content, paragraphs separated by blank lines.
    pub text: String,
    /// Absolute http(s) links, fragment removed, de-duplicated, document order.
    pub links: Vec<Url>,
}

/// Obvious advertising / consent boilerplate that Readability's own
/// heuristics let through when it sits inside the article container
/// (e.g. `<div class="inline-ad advertisement">`). Removed before scoring.
const BOILERPLATE_SELECTOR: &str = "[class~=ad], [class~=ads], [class~=advert], \
    [class~=advertisement], [class~=adsbygoogle], [class~=sponsored], [class~=inline-ad], \
    [class~=ad-slot], [class~=ad-container], [class~=ad-banner], [id~=ad], [id~=ads], \
    [id~=advertisement], [class~=cookie-banner], [class~=cookie-consent], [id~=cookie-banner], \
    [aria-label=advertisement]";

/// Extracts title, main content and links from an HTML document fetched
/// from `base`. Main content comes from `dom_smoothie` (a port of Mozilla's
/// Readability.js); when that finds nothing, or the page is too large for it,
/// all visible text of the page is used instead (trove-extract's HTML text,
/// the same as for HTML files).
///
/// Runs in time roughly linear in the size of the page: nesting deeper than
/// 256 elements is flattened (the text is kept) and the page is cut after
/// 250,000 elements before any HTML parser sees it.
pub fn extract_html(html: &str, base: &Url) -> Extracted {
    let limited = html_limits::limit(html);
    if limited.flattened > 0 || limited.cut {
        tracing::warn!(
            url = %base,
            flattened_tags = limited.flattened,
            cut = limited.cut,
            "page too deeply nested or too large; reading a simplified copy"
        );
    }
    let use_readability = html_limits::readable_ok(&limited);
    let html = &*limited.html;
    let doc = Html::parse_document(html);
    let links = collect_links(&doc, base);
    let fallback_title = html_title(&doc);
    drop(doc);

    let (title, text) = match use_readability.then(|| readable(html, base)).flatten() {
        Some((title, text)) => (title.or(fallback_title), text),
        None => (fallback_title, visible_text(html)),
    };
    Extracted { title, text, links }
}

fn readable(html: &str, base: &Url) -> Option<(Option<String>, String)> {
    let cfg = dom_smoothie::Config {
        text_mode: dom_smoothie::TextMode::Formatted,
        // Counted on the parsed tree (implied elements included); beyond it
        // `parse` fails and the visible text is used.
        max_elements_to_parse: html_limits::READABLE_MAX_ELEMENTS,
        ..Default::default()
    };
    let mut r = dom_smoothie::Readability::new(html, Some(base.as_str()), Some(cfg)).ok()?;
    r.doc.select(BOILERPLATE_SELECTOR).remove();
    let article = r.parse().ok()?;
    let text = tidy_text(&article.text_content);
    if text.is_empty() {
        return None;
    }
    let title = collapse_ws(&article.title);
    Some(((!title.is_empty()).then_some(title), text))
}

fn html_title(doc: &Html) -> Option<String> {
    for sel in ["title", "h1"] {
        let sel = Selector::parse(sel).expect("static selector");
        if let Some(el) = doc.select(&sel).next() {
            let t = collapse_ws(&el.text().collect::<String>());
            if !t.is_empty() {
                return Some(t);
            }
        }
    }
    None
}

fn collect_links(doc: &Html, page: &Url) -> Vec<Url> {
    let base_sel = Selector::parse("base[href]").expect("static selector");
    let base = doc
        .select(&base_sel)
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|h| page.join(h.trim()).ok())
        .unwrap_or_else(|| page.clone());
    let a_sel = Selector::parse("a[href], area[href]").expect("static selector");
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for a in doc.select(&a_sel) {
        let Some(href) = a.value().attr("href") else {
            continue;
        };
        let Ok(mut u) = base.join(href.trim()) else {
            continue;
        };
        if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
            continue;
        }
        u.set_fragment(None);
        if seen.insert(u.as_str().to_owned()) {
            out.push(u);
        }
    }
    out
}

/// All text a reader would see: trove-extract's HTML text (the same as for HTML
/// files: invisible elements dropped, blocks on their own lines), tidied like the
/// readable text.
fn visible_text(html: &str) -> String {
    tidy_text(&trove_extract::extract_html(html).text)
}

fn collapse_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Collapses runs of spaces inside lines, trims lines, and keeps at most one
/// blank line between paragraphs.
pub(crate) fn tidy_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank = false;
    for line in s.lines() {
        let line = collapse_ws(line);
        if line.is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
            if blank {
                out.push('\n');
            }
        }
        blank = false;
        out.push_str(&line);
    }
    out
}

/// The `charset` parameter of a Content-Type header value, if known to
/// encoding_rs.
pub(crate) fn charset_from_content_type(ct: &str) -> Option<&'static Encoding> {
    ct.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        Encoding::for_label(v.trim().trim_matches(['"', '\'']).as_bytes())
    })
}

/// `<meta charset=…>` or `<meta http-equiv="Content-Type" content="…;
/// charset=…">` within the first 1024 bytes (the HTML prescan window).
pub(crate) fn charset_from_meta(body: &[u8]) -> Option<&'static Encoding> {
    let head = &body[..body.len().min(1024)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let mut pos = 0;
    while let Some(i) = find(&lower[pos..], b"<meta") {
        let start = pos + i;
        let end = find(&lower[start..], b">").map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(c) = find(tag, b"charset") {
            let mut rest = &tag[c + b"charset".len()..];
            rest = trim_start(rest);
            if let Some(r) = rest.strip_prefix(b"=") {
                let r = trim_start(r);
                let r = r
                    .strip_prefix(b"\"")
                    .or_else(|| r.strip_prefix(b"'"))
                    .unwrap_or(r);
                let label_end = r
                    .iter()
                    .position(|b| {
                        matches!(b, b'"' | b'\'' | b';' | b'/' | b'>') || b.is_ascii_whitespace()
                    })
                    .unwrap_or(r.len());
                if let Some(enc) = Encoding::for_label(&r[..label_end]) {
                    // A page cannot really be UTF-16 if we could read its
                    // meta tag as ASCII (WHATWG: treat as UTF-8).
                    if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
                        return Some(encoding_rs::UTF_8);
                    }
                    return Some(enc);
                }
            }
        }
        pos = end;
    }
    None
}

fn trim_start(mut s: &[u8]) -> &[u8] {
    while let [b, rest @ ..] = s {
        if b.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    s
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Decodes `body`: a byte-order mark wins, then the header charset, then (for
/// HTML) a `<meta>` charset, then UTF-8 if the bytes are valid UTF-8, else the
/// encoding `chardetng` guesses (the same fallback files get, see
/// [`trove_extract::decode_declared`]). Invalid sequences become U+FFFD.
pub(crate) fn decode(body: &[u8], header_ct: &str, is_html: bool) -> String {
    let declared = charset_from_content_type(header_ct)
        .or_else(|| is_html.then(|| charset_from_meta(body)).flatten());
    trove_extract::decode_declared(body, declared.map(Encoding::name)).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charset_sources() {
        assert_eq!(
            charset_from_content_type("text/html; charset=ISO-8859-1"),
            Some(encoding_rs::WINDOWS_1252)
        );
        assert_eq!(charset_from_content_type("text/html"), None);
        assert_eq!(
            charset_from_meta(b"<html><head><meta charset=\"koi8-r\"></head>"),
            Some(encoding_rs::KOI8_R)
        );
        assert_eq!(
            charset_from_meta(
                b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1251\">"
            ),
            Some(encoding_rs::WINDOWS_1251)
        );
        assert_eq!(charset_from_meta(b"<meta name=x content=y><p>hi"), None);
        assert_eq!(
            decode(b"caf\xe9", "text/plain; charset=latin1", false),
            "café"
        );
        assert_eq!(decode("café".as_bytes(), "text/plain", false), "café");
        // Nothing declared and not UTF-8: guessed (Windows-1252), not U+FFFD.
        assert_eq!(
            decode(b"<p>caf\xe9 cr\xe8me br\xfbl\xe9e</p>", "text/html", true),
            "<p>café crème brûlée</p>"
        );
        // A meta charset is honoured when the header has none.
        assert_eq!(
            decode(b"<meta charset=koi8-r><p>\xf0\xd2\xc9", "text/html", true),
            "<meta charset=koi8-r><p>При"
        );
    }

    #[test]
    fn tidy_keeps_paragraphs() {
        assert_eq!(tidy_text("  a   b \n\n\n  c\n"), "a b\n\nc");
        assert_eq!(tidy_text("a\nb"), "a\nb");
    }

    #[test]
    fn fallback_is_visible_text() {
        let html = "<html><head><title>T</title><script>var x=1</script></head>\
                    <body><p>Hello <b>there</b></p><div>Bye</div></body></html>";
        assert_eq!(visible_text(html), "Hello there\n\nBye");
    }

    #[test]
    fn links_are_absolute_http_and_deduplicated() {
        let html = r#"<base href="/docs/"><a href="a.html#x">a</a><a href="a.html">again</a>
            <a href="mailto:x@y">m</a><a href="javascript:void(0)">j</a>
            <a href="https://other.example/z">z</a>"#;
        let base = Url::parse("http://example.com/index.html").unwrap();
        let links: Vec<String> = collect_links(&Html::parse_document(html), &base)
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(
            links,
            ["http://example.com/docs/a.html", "https://other.example/z"]
        );
    }
}
