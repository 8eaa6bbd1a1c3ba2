//! EPUB e-books: the chapters in reading order.
//!
//! `META-INF/container.xml` names the package document (OPF); its spine gives the
//! reading order and its manifest the files. Each XHTML chapter goes through the
//! HTML extractor ([`extract_html`]), so its headings stay lines of their own;
//! chapters are joined with a blank line. The title is the package's `dc:title`.
//!
//! Bounds: at most [`MAX_CHAPTERS`] spine items, and every part is read under the
//! shared zip-bomb budget.

use std::collections::{HashMap, HashSet};

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::zipdoc::{attr, check_len, dc_title, folder, percent_decode, resolve, ZipDoc};
use crate::{decode_declared, extract_html, DocKind, ExtractError, Extracted, Limits};

/// Most spine items read from one book.
pub(crate) const MAX_CHAPTERS: usize = 10_000;

pub(crate) fn extract_epub(bytes: &[u8], limits: &Limits) -> Result<Extracted, ExtractError> {
    let mut zip = ZipDoc::open(bytes, DocKind::Epub, limits)?;
    let opf_path =
        package_path(&mut zip)?.ok_or_else(|| zip.damaged("it has no package document (.opf)"))?;
    let opf = zip
        .read(&opf_path)?
        .ok_or_else(|| zip.damaged(format!("its package document {opf_path} is missing")))?;
    let title = dc_title(&opf);
    let chapters = spine(&opf).map_err(|e| zip.damaged(format!("{opf_path}: {e}")))?;
    if chapters.is_empty() {
        return Err(zip.damaged("its reading order (spine) lists no chapters"));
    }
    let base = folder(&opf_path).to_string();
    let encrypted = encrypted_parts(&mut zip)?;
    let max = limits.max_text_bytes;
    let mut text = String::new();
    let (mut found, mut locked) = (0usize, 0usize);
    for href in &chapters {
        let Some(path) = resolve(&base, href) else {
            continue;
        };
        let path = if zip.has(&path) {
            path
        } else {
            percent_decode(&path).into_owned()
        };
        if !zip.has(&path) {
            continue;
        }
        found += 1;
        if encrypted.contains(&path) {
            locked += 1;
            continue;
        }
        let Some(xhtml) = zip.read(&path)? else {
            continue;
        };
        let chapter = chapter_text(&xhtml, title.as_deref());
        if chapter.is_empty() {
            continue;
        }
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&chapter);
        check_len(&text, max)?;
    }
    if found == 0 {
        return Err(zip.damaged(format!(
            "none of the {} chapters its spine lists is in the file",
            chapters.len()
        )));
    }
    if locked == found {
        return Err(ExtractError::Unsupported {
            name: "DRM-protected EPUB e-book".into(),
            mime: DocKind::Epub.mime().into(),
        });
    }
    Ok(Extracted {
        kind: DocKind::Epub,
        text,
        title,
        pages: None,
        encoding: None,
        extractor: None,
        metadata: Vec::new(),
    })
}

/// The parts `META-INF/encryption.xml` lists as encrypted (DRM; font obfuscation lists
/// only fonts, which are not read anyway).
fn encrypted_parts(zip: &mut ZipDoc<'_>) -> Result<HashSet<String>, ExtractError> {
    let mut parts = HashSet::new();
    let Some(xml) = zip.read("META-INF/encryption.xml")? else {
        return Ok(parts);
    };
    let mut reader = Reader::from_reader(&xml[..]);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e))
                if e.local_name().as_ref() == b"CipherReference" =>
            {
                if let Some(p) = attr(&e, b"URI").and_then(|u| resolve("", &u)) {
                    parts.insert(percent_decode(&p).into_owned());
                    parts.insert(p);
                }
                if parts.len() > 2 * MAX_CHAPTERS {
                    break;
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    Ok(parts)
}

/// Where the package document is: `META-INF/container.xml`'s first rootfile, else the
/// first `.opf` file in the container.
fn package_path(zip: &mut ZipDoc<'_>) -> Result<Option<String>, ExtractError> {
    if let Some(xml) = zip.read("META-INF/container.xml")? {
        let mut reader = Reader::from_reader(&xml[..]);
        loop {
            match reader.read_event() {
                Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == b"rootfile" => {
                    if let Some(p) = attr(&e, b"full-path") {
                        let p = p.trim().trim_start_matches('/').to_string();
                        if !p.is_empty() {
                            return Ok(Some(p));
                        }
                    }
                }
                Ok(Event::Eof) | Err(_) => break,
                _ => {}
            }
        }
    }
    Ok(zip
        .names()
        .find(|n| n.to_ascii_lowercase().ends_with(".opf"))
        .map(str::to_string))
}

/// The hrefs of the spine's (X)HTML items, in reading order (at most [`MAX_CHAPTERS`]).
///
/// Two passes over the package, so that only the manifest items the spine uses are
/// kept: the spine comes after the manifest.
fn spine(opf: &[u8]) -> Result<Vec<String>, String> {
    let mut order: Vec<String> = Vec::new();
    let mut reader = Reader::from_reader(opf);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == b"itemref" => {
                if let Some(id) = attr(&e, b"idref") {
                    order.push(id);
                    if order.len() >= MAX_CHAPTERS {
                        break;
                    }
                }
            }
            Ok(Event::Eof) => break,
            Err(e) => return Err(format!("not valid XML: {e}")),
            _ => {}
        }
    }
    let wanted: HashSet<&str> = order.iter().map(String::as_str).collect();
    let mut items: HashMap<String, String> = HashMap::new();
    let mut reader = Reader::from_reader(opf);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == b"item" => {
                let Some(id) = attr(&e, b"id") else { continue };
                if !wanted.contains(id.as_str()) {
                    continue;
                }
                let Some(href) = attr(&e, b"href") else {
                    continue;
                };
                let media = attr(&e, b"media-type").unwrap_or_default();
                if is_html(&media, &href) {
                    items.insert(id, href);
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    Ok(order
        .iter()
        .filter_map(|id| items.get(id).cloned())
        .collect())
}

fn is_html(media_type: &str, href: &str) -> bool {
    let m = media_type.trim().to_ascii_lowercase();
    if !m.is_empty() {
        return m == "application/xhtml+xml" || m == "text/html" || m == "application/xml";
    }
    let h = href.to_ascii_lowercase();
    [".xhtml", ".html", ".htm"].iter().any(|e| h.ends_with(e))
}

/// A chapter's text. Its `<title>` comes first, as a heading line, when it names the
/// chapter: not the book's title again, and not already the chapter's first line.
fn chapter_text(xhtml: &[u8], book_title: Option<&str>) -> String {
    let label = declared_encoding(xhtml);
    let (html, _) = decode_declared(xhtml, Some(label.as_deref().unwrap_or("utf-8")));
    let html = expand_self_closing(&html);
    let e = extract_html(&html);
    let text = e.text.trim().to_string();
    if text.is_empty() {
        return text;
    }
    match e.title {
        Some(t) if names_chapter(&t, book_title, &text) => format!("{t}\n\n{text}"),
        _ => text,
    }
}

fn names_chapter(title: &str, book_title: Option<&str>, text: &str) -> bool {
    let norm = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    let t = norm(title);
    if t.is_empty() || t == "unknown" || t == "untitled" {
        return false;
    }
    if book_title.is_some_and(|b| norm(b) == t) {
        return false;
    }
    // Already there as one of the first lines (usually the chapter's heading).
    !text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(3)
        .any(|l| norm(l) == t)
}

/// The `encoding` of an XML declaration (`<?xml version="1.0" encoding="…"?>`).
fn declared_encoding(xml: &[u8]) -> Option<String> {
    let head = &xml[..xml.len().min(256)];
    let head = String::from_utf8_lossy(head);
    let decl = head.trim_start_matches('\u{feff}').trim_start();
    let decl = decl.strip_prefix("<?xml")?;
    let decl = &decl[..decl.find("?>")?];
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?;
    let rest = rest.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..];
    Some(value[..value.find(quote)?].to_string())
}

/// Elements whose content an HTML parser reads as raw text up to the closing tag: written
/// XML-style as `<title/>` or `<script src="…"/>`, they would swallow the whole chapter.
const RAW_TEXT: &[&str] = &[
    "script", "style", "title", "textarea", "iframe", "noscript", "noembed", "noframes", "xmp",
];

/// `<script …/>` → `<script …></script>` for the [`RAW_TEXT`] elements (XHTML allows the
/// short form, HTML parsers do not).
fn expand_self_closing(html: &str) -> std::borrow::Cow<'_, str> {
    let lower = html.to_ascii_lowercase();
    let mut out = String::new();
    let mut copied = 0;
    let mut from = 0;
    while let Some(i) = lower[from..].find('<').map(|i| i + from) {
        from = i + 1;
        let rest = &lower[i + 1..];
        let Some(name) = RAW_TEXT.iter().find(|n| {
            rest.starts_with(*n)
                && rest[n.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c == '/' || c == '>' || c.is_ascii_whitespace())
        }) else {
            continue;
        };
        let Some(end) = lower[i..].find('>').map(|e| e + i) else {
            break;
        };
        if end > i && html.as_bytes()[end - 1] == b'/' {
            out.push_str(&html[copied..end - 1]);
            out.push_str("></");
            out.push_str(name);
            out.push('>');
            copied = end + 1;
        }
        from = end + 1;
    }
    if copied == 0 {
        return std::borrow::Cow::Borrowed(html);
    }
    out.push_str(&html[copied..]);
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spine_in_reading_order() {
        let opf = br#"<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" xmlns:dc="http://purl.org/dc/elements/1.1/">
          <metadata><dc:title>The Book</dc:title></metadata>
          <manifest>
            <item id="c2" href="text/two.xhtml" media-type="application/xhtml+xml"/>
            <item id="c1" href="text/one.xhtml" media-type="application/xhtml+xml"/>
            <item id="css" href="style.css" media-type="text/css"/>
            <item id="img" href="cover.jpg" media-type="image/jpeg"/>
          </manifest>
          <spine toc="ncx"><itemref idref="c1"/><itemref idref="img"/><itemref idref="c2"/><itemref idref="nope"/></spine>
        </package>"#;
        assert_eq!(spine(opf).unwrap(), ["text/one.xhtml", "text/two.xhtml"]);
        assert_eq!(dc_title(opf).as_deref(), Some("The Book"));
        assert!(spine(b"<package><spine></package>").is_err());
    }

    #[test]
    fn chapter_titles_and_self_closing_tags() {
        let x = br#"<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title/><script src="a.js"/></head><body><h1>One</h1><p>Text of one.</p></body></html>"#;
        assert_eq!(chapter_text(x, None), "One\n\nText of one.");
        let x =
            br#"<html><head><title>Chapter Two</title></head><body><p>Body two.</p></body></html>"#;
        assert_eq!(chapter_text(x, None), "Chapter Two\n\nBody two.");
        assert_eq!(chapter_text(x, Some("chapter two")), "Body two.");
        let x = br#"<html><head><title>Chapter Two</title></head><body><h2>Chapter  Two</h2><p>Body.</p></body></html>"#;
        assert_eq!(chapter_text(x, None), "Chapter Two\n\nBody.");
        assert_eq!(
            expand_self_closing("<p>a</p><SCRIPT src='x'/><style/><b/>"),
            "<p>a</p><SCRIPT src='x'></script><style></style><b/>"
        );
        assert_eq!(
            declared_encoding(b"<?xml version='1.0' encoding='ISO-8859-1'?><x/>").as_deref(),
            Some("ISO-8859-1")
        );
        assert_eq!(declared_encoding(b"<html>"), None);
    }
}
