//! ZIP-based documents (DOCX, PPTX, OpenDocument, EPUB): their parts, read under one
//! zip-bomb budget, and small helpers shared by their readers.
//!
//! Zip bombs: every part is read through a counter capped at
//! `Limits::docx_max_uncompressed`, charged for everything one document reads (the
//! declared sizes in the zip directory are checked first, but not trusted).

use std::borrow::Cow;
use std::io::{Cursor, Read};

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::{DocKind, ExtractError, Limits};

/// An open ZIP container and what is left of its unpacking budget.
pub(crate) struct ZipDoc<'a> {
    zip: zip::ZipArchive<Cursor<&'a [u8]>>,
    kind: DocKind,
    budget: u64,
    limit: u64,
}

impl<'a> ZipDoc<'a> {
    /// Open `bytes` as the ZIP container of a `kind` document.
    pub(crate) fn open(
        bytes: &'a [u8],
        kind: DocKind,
        limits: &Limits,
    ) -> Result<ZipDoc<'a>, ExtractError> {
        let zip = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| damaged(kind, format!("it is not a valid ZIP container: {e}")))?;
        Ok(ZipDoc {
            zip,
            kind,
            budget: limits.docx_max_uncompressed,
            limit: limits.docx_max_uncompressed,
        })
    }

    /// "This document is damaged", in the words of its format.
    pub(crate) fn damaged(&self, reason: impl Into<String>) -> ExtractError {
        damaged(self.kind, reason.into())
    }

    /// Whether the container has a part of this name.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.zip.index_for_name(name).is_some()
    }

    /// Names of the parts, in the order of the zip directory.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.zip.file_names()
    }

    /// Read one part, charging its uncompressed size to the budget; `None` when there
    /// is no such part.
    pub(crate) fn read(&mut self, name: &str) -> Result<Option<Vec<u8>>, ExtractError> {
        let (kind, budget, limit) = (self.kind, self.budget, self.limit);
        let file = match self.zip.by_name(name) {
            Ok(f) => f,
            Err(zip::result::ZipError::FileNotFound) => return Ok(None),
            Err(e) => return Err(damaged(kind, format!("cannot open {name}: {e}"))),
        };
        if file.size() > budget {
            return Err(too_large(kind, limit));
        }
        let mut buf = Vec::with_capacity(file.size().min(16 * 1024 * 1024) as usize);
        // Read one byte more than allowed to tell "exactly at the limit" from "over".
        if let Err(e) = file.take(budget.saturating_add(1)).read_to_end(&mut buf) {
            return Err(damaged(kind, format!("cannot unpack {name}: {e}")));
        }
        if buf.len() as u64 > budget {
            return Err(too_large(kind, limit));
        }
        self.budget -= buf.len() as u64;
        Ok(Some(buf))
    }
}

/// "This document is damaged": [`ExtractError::DocxDamaged`] for DOCX (as it always
/// was), [`ExtractError::OfficeDamaged`] for the others.
pub(crate) fn damaged(kind: DocKind, reason: String) -> ExtractError {
    match kind {
        DocKind::Docx => ExtractError::DocxDamaged { reason },
        k => ExtractError::OfficeDamaged {
            format: k.label().to_owned(),
            reason,
        },
    }
}

/// "This document unpacks to more than the limit": [`ExtractError::DocxTooLarge`] for
/// DOCX, [`ExtractError::OfficeTooLarge`] for the others.
fn too_large(kind: DocKind, limit: u64) -> ExtractError {
    match kind {
        DocKind::Docx => ExtractError::DocxTooLarge { limit },
        k => ExtractError::OfficeTooLarge {
            format: k.label().to_owned(),
            limit,
        },
    }
}

/// Fails once `text` has grown past `max` bytes (what `extract` would refuse anyway),
/// so a document cannot make its reader build an unbounded string.
pub(crate) fn check_len(text: &str, max: usize) -> Result<(), ExtractError> {
    if text.len() > max {
        return Err(ExtractError::TextTooLarge {
            size: text.len() as u64,
            limit: max as u64,
        });
    }
    Ok(())
}

/// Character data carried by `ev` (text, CDATA, character and predefined entity
/// references), or `None` for other events.
pub(crate) fn event_text<'e>(ev: &'e Event<'_>) -> Option<Cow<'e, str>> {
    match ev {
        Event::Text(t) => Some(
            t.xml_content()
                .unwrap_or_else(|_| String::from_utf8_lossy(t.as_ref())),
        ),
        Event::CData(t) => Some(String::from_utf8_lossy(t.as_ref())),
        Event::GeneralRef(r) => {
            if let Ok(Some(c)) = r.resolve_char_ref() {
                return Some(Cow::Owned(c.to_string()));
            }
            let name = r.decode().ok()?;
            quick_xml::escape::resolve_predefined_entity(&name).map(Cow::Borrowed)
        }
        _ => None,
    }
}

/// The (unescaped) value of the attribute whose local name is `local`, with or without a
/// namespace prefix.
pub(crate) fn attr(e: &BytesStart<'_>, local: &[u8]) -> Option<String> {
    e.attributes().flatten().find_map(|a| {
        (a.key.local_name().as_ref() == local).then(|| match a.unescape_value() {
            Ok(v) => v.into_owned(),
            Err(_) => String::from_utf8_lossy(&a.value).into_owned(),
        })
    })
}

/// The first `title` element of an XML part (`dc:title` in `docProps/core.xml`,
/// OpenDocument's `meta.xml` and an EPUB package), whitespace collapsed.
pub(crate) fn dc_title(xml: &[u8]) -> Option<String> {
    let mut reader = Reader::from_reader(xml);
    let mut in_title = false;
    let mut title = String::new();
    loop {
        let ev = reader.read_event().ok()?;
        match &ev {
            Event::Start(e) if e.local_name().as_ref() == b"title" => in_title = true,
            Event::End(e) if e.local_name().as_ref() == b"title" => break,
            Event::Eof => break,
            _ if in_title => {
                if let Some(t) = event_text(&ev) {
                    title.push_str(&t);
                }
                if title.len() > 64 * 1024 {
                    break;
                }
            }
            _ => {}
        }
    }
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    (!title.is_empty()).then_some(title)
}

/// Trailing spaces on lines, runs of blank lines and blank lines at either end are noise.
pub(crate) fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = false;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if blank {
            out.push('\n');
            blank = false;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.truncate(out.trim_end().len());
    out
}

/// The folder of a part name, with its trailing slash (`"ppt/slides/slide1.xml"` →
/// `"ppt/slides/"`), or `""` at the top.
pub(crate) fn folder(part: &str) -> &str {
    part.rfind('/').map_or("", |i| &part[..=i])
}

/// The part a relative reference from `base` (a folder, as [`folder`] gives) points to:
/// `"../notesSlides/notesSlide1.xml"` from `"ppt/slides/"` is
/// `"ppt/notesSlides/notesSlide1.xml"`. A leading `/` starts at the top. Any fragment or
/// query is dropped. `None` for references that leave the container.
pub(crate) fn resolve(base: &str, target: &str) -> Option<String> {
    let target = target.split(['#', '?']).next().unwrap_or("");
    if target.is_empty() || target.contains("://") {
        return None;
    }
    let joined = match target.strip_prefix('/') {
        Some(abs) => abs.to_string(),
        None => format!("{base}{target}"),
    };
    let mut parts: Vec<&str> = Vec::new();
    for seg in joined.split(['/', '\\']) {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// `%xx` escapes decoded (as UTF-8; invalid sequences and malformed escapes are kept).
pub(crate) fn percent_decode(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(_) => Cow::Borrowed(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title() {
        let xml = br#"<cp:coreProperties xmlns:dc="d"><dc:title>My &amp; Doc</dc:title></cp:coreProperties>"#;
        assert_eq!(dc_title(xml).as_deref(), Some("My & Doc"));
        assert_eq!(dc_title(b"<a><b/></a>"), None);
    }

    #[test]
    fn paths() {
        assert_eq!(folder("ppt/slides/slide1.xml"), "ppt/slides/");
        assert_eq!(folder("content.opf"), "");
        assert_eq!(
            resolve("ppt/slides/", "../notesSlides/notesSlide1.xml").as_deref(),
            Some("ppt/notesSlides/notesSlide1.xml")
        );
        assert_eq!(
            resolve("ppt/", "/ppt/slides/slide2.xml").as_deref(),
            Some("ppt/slides/slide2.xml")
        );
        assert_eq!(
            resolve("OEBPS/", "text/ch1.xhtml#p3").as_deref(),
            Some("OEBPS/text/ch1.xhtml")
        );
        assert_eq!(resolve("", "../../etc/passwd"), None);
        assert_eq!(resolve("a/", "http://example.com/x"), None);
        assert_eq!(percent_decode("chapter%201.xhtml"), "chapter 1.xhtml");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%C3%A9"), "é");
    }

    #[test]
    fn tidy_lines() {
        assert_eq!(tidy("\n\n a  \n\n\n\nb\t\n\n"), " a\n\nb");
        assert_eq!(tidy(""), "");
    }
}
